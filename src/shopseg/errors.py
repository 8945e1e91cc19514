"""The whole shopseg exception and warning hierarchy.

Every error a user can cause derives from :class:`ShopsegError`; the CLI prints
its message without a traceback (exit 1 for data errors, 2 for usage errors)
and the HTTP API maps ``status`` to the response code.

Messages follow one template::

    <where>: <what is wrong>. Expected <constraint>; got <value> [n rows, first ids]. [Did you mean X? | Hint]
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "ShopsegError",
    "InvalidParameterError",
    "SchemaError",
    "SegmentError",
    "SegmentExistsError",
    "RuleTooLargeError",
    "Issue",
    "NotFittedError",
    "UnsupportedOperationError",
    "NotFound",
    "WorkspaceError",
    "WorkspaceBusyError",
    "AuthenticationError",
    "PermissionDeniedError",
    "PayloadTooLargeError",
    "QueryTimeoutError",
    "BadRequestError",
    "ConvergenceWarning",
    "DataQualityWarning",
    "did_you_mean",
    "format_ids",
]


class ShopsegError(Exception):
    """Base class of every error shopseg raises on purpose."""

    status: int = 400
    exit_code: int = 1


class InvalidParameterError(ShopsegError, ValueError, TypeError):
    """A function or estimator argument is out of its declared range."""

    status = 422
    exit_code = 2


class SegmentExistsError(InvalidParameterError):
    """A segment of that name is saved already; each surface names its own way to save a new version."""

    HINTS = {
        "cli": "pass --replace to save a new version.",
        "api": "PUT /api/v1/segments/{name} saves a new version.",
        "dashboard": "tick 'new version' to save a new version.",
    }

    def __init__(self, name: str, version: int, surface: str = "cli") -> None:
        self.name, self.version = name, version
        hint = self.HINTS[surface].format(name=name)
        super().__init__(f"segment '{name}' already exists (version {version}). Hint: {hint}")

    def on(self, surface: str) -> SegmentExistsError:
        """The same error with the hint of ``surface`` ("cli", "api" or "dashboard")."""
        return SegmentExistsError(self.name, self.version, surface)


class SchemaError(ShopsegError, ValueError):
    """Input data does not fit the canonical schema.

    Attributes
    ----------
    table : str or None
        The file or table the problem was found in.
    column : str or None
        The offending column, when one column is to blame.
    rows : list of int
        1-based row numbers in the source file (first few only).
    """

    status = 422

    def __init__(
        self,
        message: str,
        *,
        table: str | None = None,
        column: str | None = None,
        rows: Sequence[int] = (),
    ) -> None:
        super().__init__(message)
        self.table = table
        self.column = column
        self.rows = list(rows)


@dataclass(frozen=True)
class Issue:
    """One problem found in a segment definition: where, a stable code, and why.

    A problem of the text form also carries its place as data: ``line`` and
    ``col`` (1-based) and ``length`` (characters to underline), and ``what``,
    the message without its ``line L, col C:`` prefix and caret. Surfaces
    underline from these fields; none reads the position back out of the message.

    >>> item = Issue("/", "syntax", "line 1, col 8: unexpected 'x'.", line=1, col=8, length=1, what="unexpected 'x'.")
    >>> item.as_dict()["col"], item.as_dict()["what"]
    (8, "unexpected 'x'.")
    """

    path: str
    code: str
    message: str
    line: int | None = None
    col: int | None = None
    length: int = 0
    what: str = ""

    def as_dict(self) -> dict[str, Any]:
        """The API's error item: ``path, code, message`` and ``what, line, col, length`` (None/0 without a place)."""
        return {
            "path": self.path,
            "code": self.code,
            "message": self.message,
            "what": self.what or self.message,
            "line": self.line,
            "col": self.col,
            "length": self.length,
        }


class SegmentError(ShopsegError, ValueError):
    """A segment definition is malformed; ``issues`` lists every problem found; ``hint`` (optional) says what to do."""

    status = 422

    def __init__(self, message: str, issues: Sequence[Issue] = (), hint: str | None = None) -> None:
        super().__init__(message)
        self.issues = list(issues)
        self.hint = hint


class RuleTooLargeError(SegmentError):
    """A segment rule is longer than the ``segment_max_rule_chars`` setting (refused before it is parsed)."""

    status = 413


class NotFittedError(ShopsegError, ValueError, AttributeError):
    """An estimator was used before ``fit``."""


class UnsupportedOperationError(ShopsegError, NotImplementedError):
    """The selected engine cannot compile an operation."""

    status = 501


class NotFound(ShopsegError, LookupError):
    """A named object (segment, customer, table) does not exist."""

    status = 404


class WorkspaceError(ShopsegError):
    """The workspace file is missing, locked, or of another schema version."""

    status = 409


class WorkspaceBusyError(WorkspaceError):
    """Another process holds the workspace file's lock.

    ``server`` is the record of the ``shopseg serve`` holding it (``pid``, ``url``,
    ``started_at`` and, for the CLI's hand-over, ``admin_url`` and ``token``), or
    ``None`` when the holder is another kind of process.
    """

    def __init__(self, message: str, server: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.server = server


class AuthenticationError(ShopsegError):
    """An HTTP request carries no API key, or an unknown or revoked one."""

    status = 401


class PermissionDeniedError(ShopsegError):
    """The API key's role may not do this (viewer < marketer < admin)."""

    status = 403


class PayloadTooLargeError(ShopsegError):
    """A request body is larger than the ``api_max_body_bytes`` setting."""

    status = 413


class BadRequestError(ShopsegError):
    """A collection call (Segment HTTP Tracking API) is not valid JSON, too large or malformed: 400, as the spec answers."""

    status = 400


class QueryTimeoutError(ShopsegError):
    """A query ran out of its time budget (``preview_timeout_ms``) and was interrupted."""

    status = 503


class ConvergenceWarning(UserWarning):
    """An optimiser stopped before converging."""


class DataQualityWarning(UserWarning):
    """Rows were flagged or dropped while loading data."""


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """Return ``" Did you mean 'x'?"`` for the closest choice, or ``""``.

    Examples
    --------
    >>> did_you_mean("recnecy", ["recency", "frequency"])
    " Did you mean 'recency'?"
    >>> did_you_mean("zzz", ["recency"])
    ''
    """
    choices = list(choices)
    lowered = {c.lower().replace("_", "").replace(" ", ""): c for c in choices}
    key = word.lower().replace("_", "").replace(" ", "")
    if key in lowered and lowered[key] != word:
        return f" Did you mean '{lowered[key]}'?"
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if not close:
        close = [lowered[c] for c in difflib.get_close_matches(key, list(lowered), n=1, cutoff=0.6)]
    return f" Did you mean '{close[0]}'?" if close else ""


def format_ids(values: Sequence[object], total: int | None = None, limit: int = 5) -> str:
    """Render ``[n rows, first ids]`` as used in error messages.

    Examples
    --------
    >>> format_ids([3, 9, 12], total=40)
    '40 rows (first: 3, 9, 12)'
    """
    n = len(values) if total is None else total
    shown = ", ".join(str(v) for v in list(values)[:limit])
    noun = "row" if n == 1 else "rows"
    return f"{n} {noun} (first: {shown})"
