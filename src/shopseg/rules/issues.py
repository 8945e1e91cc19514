"""How a rule's problems are told: an :class:`~shopseg.errors.Issue` at a place of the text, and one summary.

When the rule came from text, an issue's message starts with ``line L, col C``
and shows the line with a caret under the offending characters (sqlglot style);
the place is also kept as data on the issue, for surfaces that underline.
"""

from __future__ import annotations

from collections.abc import Sequence

from shopseg.errors import Issue
from shopseg.rules.nodes import Span

__all__ = ["issue_at", "summarize"]


def issue_at(text: str, span: Span, path: str, code: str, what: str) -> Issue:
    """An :class:`Issue` at ``span`` of ``text``: its message is ``line L, col C: what``, the source line and a caret
    under the span; the place is also kept as data (``line``, ``col``, ``length``, ``what``).

    >>> i = issue_at("orders >= 3 AND recnecy < 5", Span(1, 17, 7), "/and/1/field", "unknown_field", "unknown field")
    >>> (i.line, i.col, i.length, i.what)
    (1, 17, 7, 'unknown field')
    >>> print(i.message)
    line 1, col 17: unknown field
      orders >= 3 AND recnecy < 5
                      ^^^^^^^
    """
    lines = text.split("\n")
    src = lines[span.line - 1] if 0 < span.line <= len(lines) else ""
    shown = src.replace("\t", " ")
    width = max(1, min(span.length, max(len(shown) - span.col + 1, 1)))
    message = f"line {span.line}, col {span.col}: {what}\n  {shown}\n  {' ' * (span.col - 1)}{'^' * width}"
    return Issue(path, code, message, line=span.line, col=span.col, length=width, what=what)


def summarize(issues: Sequence[Issue], name: str | None = None) -> str:
    """The one message of a :class:`SegmentError`: a count, then every issue."""
    where = f"segment '{name}'" if name else "segment"
    head = f"{where}: 1 problem" if len(issues) == 1 else f"{where}: {len(issues)} problems"
    return head + "\n" + "\n".join(i.message for i in issues)
