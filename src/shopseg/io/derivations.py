"""What a spec's ``map`` can say about a canonical column, and the DuckDB SQL it becomes.

A column source is a column name, ``{const: v}``, ``{concat: [...]}``, ``{first_of: [...]}``,
``{any: [tests]}``, ``{sequence_by: [cols]}``, ``{days_since_previous: ...}`` or
``{column: c, ...}`` with small derivations (regex replace, lower-case, hash, prefix, a
division) or one true/false test (equals, in, not_empty, matches, less_than).

:class:`Compiler` turns them into SQL over any relation: the import spec's joined rows
(columns named ``file.column``, :mod:`shopseg.io.assemble`) or one file read as is
(columns by their own names, :mod:`shopseg.io.presets`). Derivations only reshape values:
parsing and checks stay in :mod:`shopseg.io.columns` and :mod:`shopseg.io.validate`, so a
derivation never hides a bad row.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shopseg._sql import literal

if TYPE_CHECKING:
    from shopseg.io.spec import FileOptions

__all__ = [
    "Const",
    "Concat",
    "Column",
    "Replace",
    "AnyOf",
    "FirstOf",
    "SequenceBy",
    "DaysSince",
    "Mark",
    "ColumnSource",
    "Compiler",
    "typed",
    "referenced",
]

_TS_OUT = "'%Y-%m-%d %H:%M:%S.%f'"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


@cache
def _regex_con() -> Any:
    """One in-memory DuckDB connection that checks patterns (opening one per pattern costs 30 ms)."""
    import duckdb

    return duckdb.connect()


@cache
def _regex_error(pattern: str) -> str | None:
    """DuckDB's complaint about ``pattern`` (RE2 syntax), or None when it compiles."""
    import duckdb

    try:
        _regex_con().cursor().execute(
            f"SELECT regexp_matches('', {literal(pattern)})"
        ).fetchone()  # no parameters: no pandas
    except duckdb.Error as exc:
        return str(exc).split("\n")[0]
    return None


def _check_regex(pattern: str) -> str:
    problem = _regex_error(pattern)
    if problem:
        raise ValueError(f"not a valid regular expression (RE2 syntax): {problem}")
    return pattern


class Const(_Strict):
    """A constant value for every row (``{const: 1}``)."""

    const: str | int | float | bool


class SequenceBy(_Strict):
    """The row's number 1, 2, ... among the rows with the same values of these columns, in file order."""

    sequence_by: list[str] = Field(min_length=1, description="Columns whose values number the rows within.")


class Replace(_Strict):
    """Every match of ``pattern`` (RE2 syntax) replaced by ``with`` (``\\1`` is the first group)."""

    pattern: str = Field(min_length=1)
    with_: str = Field("", alias="with", description="Replacement text; \\1, \\2 insert the pattern's groups.")

    @field_validator("pattern")
    @classmethod
    def _regex(cls, value: str) -> str:
        return _check_regex(value)


_TESTS = ("equals", "in_", "not_empty", "matches", "less_than")


class Column(_Strict):
    """A column with small derivations (applied in this order: replace, lower, hash, then prefix), or a
    true/false test of its value (equals, in, not_empty, matches, less_than: exactly one)."""

    column: str
    replace: list[Replace] | None = Field(None, description="Regex replacements, in order, before anything else.")
    lower: bool = False
    hash: Literal["sha256", "md5"] | None = Field(None, description="The value's hex digest (an e-mail as a key).")
    hash_length: int | None = Field(None, ge=1, le=64, description="Keep the digest's first N hex digits.")
    prefix: str | None = Field(None, description="Text put before every non-empty value (e.g. 'shopify:').")
    divide_by: str | None = Field(
        None, description="Divided by this column (a line total over its quantity gives the unit price)."
    )
    minus: str | None = Field(
        None, description="Less this column (a line's subtotal less its total gives its discount)."
    )
    equals: str | None = Field(None, description="true where the value equals this text, else false.")
    in_: list[str] | None = Field(None, alias="in", description="true where the value is one of these, else false.")
    not_empty: bool | None = Field(None, description="true where the cell is not empty, else false.")
    matches: str | None = Field(None, description="true where a part of the value matches this regex (RE2).")
    less_than: float | None = Field(None, description="true where the value is a number below this, else false.")

    @field_validator("matches")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        return None if value is None else _check_regex(value)

    @model_validator(mode="after")
    def _one_test(self) -> Column:
        tests = [t.rstrip("_") for t in _TESTS if getattr(self, t) is not None]
        if len(tests) > 1:
            raise ValueError(
                f"a column takes at most one test (equals, in, not_empty, matches, less_than); got {tests}"
            )
        if tests and (
            self.prefix is not None or self.divide_by is not None or self.minus is not None or self.hash is not None
        ):
            raise ValueError(
                f"a test ({tests[0]}) gives true/false: it cannot be combined with prefix, hash, divide_by or minus"
            )
        if self.hash_length is not None and self.hash is None:
            raise ValueError("hash_length needs hash (sha256 or md5)")
        return self

    @property
    def is_test(self) -> bool:
        return any(getattr(self, t) is not None for t in _TESTS)


def _needs_test(parts: list[Column]) -> list[Column]:
    bad = [p.column for p in parts if not p.is_test]
    if bad:
        raise ValueError(f"each part needs a test (equals, in, not_empty, matches or less_than); {bad} have none")
    return parts


class AnyOf(_Strict):
    """true where any of the tests is true (``{any: [{column: a, equals: x}, {column: b, less_than: 0}]}``)."""

    any: list[Column] = Field(min_length=1)

    @field_validator("any")
    @classmethod
    def _tests(cls, value: list[Column]) -> list[Column]:
        return _needs_test(value)


class Concat(_Strict):
    """The parts' text joined with ``sep`` (empty parts skipped); a part is a column, a constant, a
    derived column or a sequence number."""

    concat: list[str | Const | Column | SequenceBy] = Field(min_length=1)
    sep: str = ""


class FirstOf(_Strict):
    """The first part that is not empty (``{first_of: [sku, {column: name, prefix: "name:"}]}``)."""

    first_of: list[str | Const | Column] = Field(min_length=1)


class DaysSince(_Strict):
    """Order dates rebuilt from "days since the customer's previous order" (logs without calendar dates).

    Each customer's orders are put in ``order_by`` order; the first is on ``start`` and each next one
    ``days_since_previous`` days after the one before. The dates are relative to each customer's first
    order, so recency compares customers by their own history, not by a common calendar.
    """

    days_since_previous: str = Field(description="Column of days since the customer's previous order (empty first).")
    by: str = Field(description="The customer column the days count within.")
    order_by: str = Field(description="Column giving each customer's order sequence (order_number).")
    start: str = Field("2000-01-01", description="Date of every customer's first order (YYYY-MM-DD).")

    @field_validator("start")
    @classmethod
    def _iso(cls, value: str) -> str:
        import datetime as dt

        dt.date.fromisoformat(value)
        return value


ColumnSource = Annotated[
    str | Const | Concat | FirstOf | AnyOf | SequenceBy | Column | DaysSince,
    Field(
        description="A column, {const: v}, {concat: [...]}, {first_of: [...]}, {any: [tests]}, "
        "{sequence_by: [cols]} or {column: c, ...}."
    ),
]


class Mark(_Strict):
    """Rows counted under ``label`` in the data-quality report (kept unchanged), where ``when`` is true."""

    label: str = Field(min_length=1, description="The reason shown, e.g. 'mojibake in description (repaired)'.")
    when: Column | AnyOf = Field(description="A test: {column: c, matches: ...} or {any: [...]}.")

    @field_validator("when")
    @classmethod
    def _a_test(cls, value: Column | AnyOf) -> Column | AnyOf:
        if isinstance(value, Column):
            _needs_test([value])
        return value


def typed(kind: str, col: str, options: FileOptions) -> str:
    """The source column as the text the canonical parser reads, after the file's options."""
    text = f"nullif(trim(CAST({col} AS VARCHAR)), '')"
    if kind in ("int", "double") and options.decimal == ",":
        # thousands grouped by spaces (ASCII, no-break U+00A0, narrow no-break U+202F: French) or by dots, and a
        # dot groups thousands only in whole groups of three ('1.234,50', '1.234'): '12.50' or '3.5' keep their
        # point (read 12.5 and 3.5, never 1250 and 35)
        bare = f"regexp_replace({text}, '[ \u00a0\u202f]', '', 'g')"
        grouped = f"regexp_full_match({bare}, '\\D*\\d{{1,3}}(\\.\\d{{3}})+(,\\d*)?\\D*')"
        return f"replace(CASE WHEN {grouped} THEN replace({bare}, '.', '') ELSE {bare} END, ',', '.')"
    if kind == "timestamp" and (options.date_format or options.timezone not in (None, "UTC", "Etc/UTC")):
        parsed = (
            f"try_strptime({text}, {literal(options.date_format)})"
            if options.date_format
            else f"TRY_CAST({text} AS TIMESTAMP)"
        )
        if options.timezone not in (None, "UTC", "Etc/UTC"):
            parsed = f"timezone('UTC', timezone({literal(options.timezone)}, {parsed}))"
        return f"coalesce(strftime({parsed}, {_TS_OUT}), {text})"
    return col


#: (column reference, where in the spec) -> (SQL of the column, its file's options), or None when the
#: reference is wrong (the resolver records the problem).
Resolver = Callable[[str, str], "tuple[str, FileOptions] | None"]


class Compiler:
    """Column sources to SQL over one relation; ``row_order`` is the SQL giving its file order."""

    def __init__(self, resolve: Resolver, row_order: str) -> None:
        self.resolve, self.row_order = resolve, row_order

    def value(self, src: Any, kind: str, at: str) -> str | None:
        """SQL of ``src`` read as the canonical type ``kind``; None if a column reference failed."""
        if isinstance(src, str):
            hit = self.resolve(src, at)
            return typed(kind, hit[0], hit[1]) if hit else None
        if isinstance(src, Const):
            return literal(str(src.const).lower() if isinstance(src.const, bool) else str(src.const))
        if isinstance(src, SequenceBy):
            hits = [self.resolve(c, f"{at}.sequence_by") for c in src.sequence_by]
            if not all(hits):
                return None
            cols = ", ".join(h[0] for h in hits if h)
            return f"CAST(row_number() OVER (PARTITION BY {cols} ORDER BY {self.row_order}) AS VARCHAR)"
        if isinstance(src, Concat | FirstOf):
            items: list[Any] = list(src.concat if isinstance(src, Concat) else src.first_of)
            parts = [self._text(p, f"{at}[{i}]") for i, p in enumerate(items)]
            if not all(parts):
                return None
            if isinstance(src, FirstOf):
                return f"coalesce({', '.join(p for p in parts if p)})"
            return f"nullif(concat_ws({literal(src.sep)}, {', '.join(p for p in parts if p)}), '')"
        if isinstance(src, AnyOf) or (isinstance(src, Column) and src.is_test):
            test = self.test(src, at)
            return None if test is None else f"coalesce({test}, false)"
        if isinstance(src, Column):
            return self._column(src, kind, at)
        raise TypeError(f"{at}: {type(src).__name__} is resolved before compiling")

    def _text(self, src: Any, at: str) -> str | None:
        if isinstance(src, str):
            hit = self.resolve(src, at)
            return f"nullif(trim(CAST({hit[0]} AS VARCHAR)), '')" if hit else None
        return self.value(src, "text", at)

    def _column(self, src: Column, kind: str, at: str) -> str | None:
        hit = self.resolve(src.column, at)
        for other, op in ((src.divide_by, "/"), (src.minus, "-")):
            if other is None:
                continue
            right = self.resolve(other, f"{at}.{'divide_by' if op == '/' else 'minus'}")
            if not (hit and right):
                return None
            # the column's own replace/lower apply before the arithmetic ('$4.50' / Qty), as without it
            left = typed("double", hit[0], hit[1])
            left = self._derived_text(src, left) if src.replace or src.lower else left
            a, b = f"TRY_CAST({left} AS DOUBLE)", f"TRY_CAST({typed('double', right[0], right[1])} AS DOUBLE)"
            value = f"{a} / nullif({b}, 0)" if op == "/" else f"{a} - {b}"
            # a value that is not a number goes on unchanged, so the parse error names it
            return f"CASE WHEN {a} IS NULL OR {b} IS NULL THEN {left} ELSE CAST({value} AS VARCHAR) END"
        if hit is None:
            return None
        text = self._derived_text(src, typed(kind, hit[0], hit[1]))
        if src.hash:
            text = f"{src.hash}({text})"
            text = f"left({text}, {src.hash_length})" if src.hash_length else text
        if src.prefix:
            text = f"{literal(src.prefix)} || {text}"
        return text

    @staticmethod
    def _derived_text(src: Column, value: str) -> str:
        text = f"nullif(trim(CAST({value} AS VARCHAR)), '')"
        for r in src.replace or []:
            text = f"nullif(regexp_replace({text}, {literal(r.pattern)}, {literal(r.with_)}, 'g'), '')"
        return f"lower({text})" if src.lower else text

    def test(self, src: Column | AnyOf, at: str) -> str | None:
        """Boolean SQL of a test (NULL where the value is empty)."""
        if isinstance(src, AnyOf):
            parts = [self.test(p, f"{at}.any[{i}]") for i, p in enumerate(src.any)]
            return None if not all(parts) else "(" + " OR ".join(f"coalesce({p}, false)" for p in parts) + ")"
        hit = self.resolve(src.column, at)
        if hit is None:
            return None
        if src.less_than is not None:
            number = self._derived_text(src, typed("double", hit[0], hit[1]))
            return f"TRY_CAST({number} AS DOUBLE) < {float(src.less_than)!r}"
        text = self._derived_text(src, hit[0])
        if src.equals is not None:
            return f"{text} = {literal(src.equals)}"
        if src.in_ is not None:
            return f"{text} IN ({', '.join(literal(v) for v in src.in_)})"
        if src.matches is not None:
            if not re.search(r"[\\^$.|?*+()\[\]{}]", src.matches):  # plain text: a substring test is faster
                return f"contains({text}, {literal(src.matches)})"
            return f"regexp_matches({text}, {literal(src.matches)})"
        return f"{text} IS NOT NULL"


def referenced(src: Any) -> Iterator[str]:
    """Every column reference in a column source, test or mark."""
    if isinstance(src, str):
        yield src
    elif isinstance(src, Column):
        yield src.column
        if src.divide_by:
            yield src.divide_by
        if src.minus:
            yield src.minus
    elif isinstance(src, SequenceBy):
        yield from src.sequence_by
    elif isinstance(src, Concat | FirstOf | AnyOf):
        parts: list[Any] = list(
            src.concat if isinstance(src, Concat) else src.first_of if isinstance(src, FirstOf) else src.any
        )
        for part in parts:
            yield from referenced(part)
    elif isinstance(src, DaysSince):
        yield from (src.days_since_previous, src.by, src.order_by)
    elif isinstance(src, Mark):
        yield from referenced(src.when)


def description(src: Any) -> str:
    """A short note of what a derivation does, for the plan's column origins."""
    if not isinstance(src, Column):
        return ""
    said = [
        k.rstrip("_")
        for k in ("replace", "lower", "hash", "prefix", "equals", "in_", "not_empty", "matches", "less_than")
        if getattr(src, k) not in (None, False)
    ]
    return f" ({', '.join(said)})" if said else ""
