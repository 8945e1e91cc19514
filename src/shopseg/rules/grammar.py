"""The text form's Lark grammar, and the syntax errors it gives in words (line, column, caret, what was expected).

:data:`GRAMMAR` is the LALR grammar :mod:`shopseg.rules.parse` reads rules with
(and that ``docs/segment-language.md`` prints). When Lark stops, :func:`syntax_issue`
turns its exception into one :class:`~shopseg.errors.Issue` at the character,
naming what could have come there; :func:`paren_issues` points at every
unbalanced parenthesis first, which says more than "unexpected end".

>>> expected_names({"RPAR", "_AND"})
"')', AND"
"""

from __future__ import annotations

from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from shopseg.errors import Issue
from shopseg.rules.issues import issue_at
from shopseg.rules.nodes import Span

__all__ = ["GRAMMAR", "end_span", "expected_names", "paren_issues", "syntax_issue"]

GRAMMAR = r"""
start: expr
?expr: and_expr (_OR and_expr)+   -> or_
     | and_expr
?and_expr: not_expr (_AND not_expr)+   -> and_
         | not_expr
?not_expr: _NOT not_expr   -> not_
         | atom
?atom: "(" expr ")"
     | TRUE   -> true_
     | FALSE  -> false_
     | NAME OP value                           -> compare
     | NAME _BETWEEN value _AND value          -> between
     | NAME _IN "(" value ("," value)* ")"     -> in_
     | NAME _CONTAINS value                    -> contains
     | NAME _IS NULL                           -> is_null
     | NAME _IS _NOT NULL                      -> is_not_null
     | call "." NAME OP value                  -> event_count
     | call "." NAME "(" NAME ")" OP value     -> event_agg
     | call                                    -> event_any
     | _SEGMENT "(" STRING ")"                 -> segment_ref
     | _DISTANCE "(" number "," number ")" OP DURATION  -> distance
call: SOURCE "(" [arg ("," arg)*] ")"
arg: NAME "=" value        -> arg_eq
   | _BETWEEN STRING _AND STRING  -> arg_between
?value: STRING -> string
      | number
      | DURATION -> duration
      | TRUE -> true_value
      | FALSE -> false_value
number: NUMBER
OP: "<=" | ">=" | "!=" | "<>" | "=" | "<" | ">"
_AND.2: /and\b/i
_OR.2: /or\b/i
_NOT.2: /not\b/i
_BETWEEN.2: /between\b/i
_IN.2: /in\b/i
_CONTAINS.2: /contains\b/i
_IS.2: /is\b/i
NULL.2: /null\b/i
TRUE.2: /true\b/i
FALSE.2: /false\b/i
_SEGMENT.2: /segment\b/i
_DISTANCE.2: /distance\b/i
SOURCE.2: /(events|orders)(?=\s*\()/
DURATION.3: /[+-]?\d+(\.\d+)?(?![eE][+-]?\d)[A-Za-z_]\w*/
NUMBER: /[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/
STRING: /'(?:[^'\\]|\\.)*'/s | /"(?:[^"\\]|\\.)*"/s
NAME: /[A-Za-z_][A-Za-z0-9_]*/
%import common.WS
%ignore WS
"""


_FRIENDLY = {
    "RPAR": "')'",
    "LPAR": "'('",
    "COMMA": "','",
    "DOT": "'.'",
    "NAME": "a field name",
    "OP": "a comparison (=, <, >=, ...)",
    "STRING": "a quoted string",
    "NUMBER": "a number",
    "DURATION": "a date offset like -30d",
    "$END": "the end of the rule",
    "_AND": "AND",
    "_OR": "OR",
    "_NOT": "NOT",
    "_IN": "IN",
    "_IS": "IS",
    "NULL": "NULL",
    "_BETWEEN": "BETWEEN",
    "_CONTAINS": "CONTAINS",
    "TRUE": "true",
    "FALSE": "false",
    "SOURCE": "events(...) or orders(...)",
    "_SEGMENT": "segment(...)",
    "_DISTANCE": "distance(...)",
    "EQUAL": "'='",
}


def expected_names(names: set[str]) -> str:
    shown = sorted({_FRIENDLY.get(n, n) for n in names})
    return ", ".join(shown[:8]) + (", ..." if len(shown) > 8 else "")


def paren_issues(text: str) -> list[Issue]:
    """Every unbalanced parenthesis outside strings, with its position."""
    stack: list[tuple[int, int]] = []
    issues: list[Issue] = []
    line, col, quote, escaped = 1, 0, "", False
    for ch in text:
        col += 1
        if quote:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "(":
            stack.append((line, col))
        elif ch == ")":
            if stack:
                stack.pop()
            else:
                issues.append(issue_at(text, Span(line, col), "/", "unbalanced_parenthesis", "')' has no matching '('"))
        if ch == "\n":
            line, col = line + 1, 0
    for ln, cl in stack:
        issues.append(issue_at(text, Span(ln, cl), "/", "unbalanced_parenthesis", "'(' is never closed"))
    return issues


def syntax_issue(text: str, exc: UnexpectedInput) -> Issue:
    line, col = getattr(exc, "line", 1) or 1, getattr(exc, "column", 1) or 1
    if isinstance(exc, UnexpectedCharacters):
        pos = exc.pos_in_stream or 0
        what = f"unexpected character {text[pos]!r}" if pos < len(text) else "unexpected input"
        if text[pos : pos + 1] in "'\"":
            what = "unterminated string"
        return issue_at(text, Span(line, col), "/", "syntax", what + ".")
    if isinstance(exc, UnexpectedToken) and exc.token.type != "$END":
        tok = exc.token
        msg = f"unexpected {str(tok)!r}. Expected {expected_names(set(exc.expected))}."
        return issue_at(text, Span(line, col, max(len(str(tok)), 1)), "/", "syntax", msg)
    expected = set(getattr(exc, "expected", ()) or ())
    end = end_span(text)
    return issue_at(text, end, "/", "syntax", f"unexpected end of rule. Expected {expected_names(expected)}.")


def end_span(text: str) -> Span:
    lines = text.rstrip().split("\n") or [""]
    return Span(len(lines), len(lines[-1]) + 1)
