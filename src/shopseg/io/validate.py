"""Check the parsed rows with SQL, collecting every problem.

The rows come from :func:`shopseg.io.stage.stage_rows` (``_shopseg_rows``: one
typed column per input column, ``_bad_<name>`` where a value could not be
parsed, ``_mark_<i>`` for preset-specific reasons and ``_row``, the row number
in the file). :func:`run_checks` evaluates a list of :class:`Check` in one
aggregate query and raises one :class:`SchemaError` naming every failing check,
with the first row numbers and values of each.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import duckdb

from shopseg._sql import quote
from shopseg.config import get_setting
from shopseg.errors import SchemaError
from shopseg.io.columns import INPUTS
from shopseg.io.stage import STAGE_TABLE, Staged, stage_rows

__all__ = [
    "STAGE_TABLE",
    "Check",
    "Staged",
    "stage_rows",
    "parse_checks",
    "range_checks",
    "future_cutoff",
    "run_checks",
    "raise_problems",
    "sample_values",
]


EXPECTED = {
    "timestamp": "an ISO 8601 date or time like 2024-03-01 10:15:00 (offsets like -0500 are converted to UTC) "
    "or YYYYMMDD. Hint: pass date_format (--date-format '%d/%m/%Y %H:%M') for other layouts",
    "int": "a whole number",
    "double": "a number like 12.50, $12.50 or 1,234.50",
    "bool": "true/false, yes/no or 1/0",
    "json": "a JSON object",
}


@dataclass(frozen=True)
class Check:
    """One row-level rule.

    ``action`` is ``"error"`` (the ingest is refused), ``"drop"`` (the row is
    flagged and not kept) or ``"mark"`` (kept and counted under ``label``).
    ``lookup``: the predicate looks the row up in a workspace table (an
    ``error`` or ``mark`` check); :func:`run_checks` counts such checks in a
    statement of their own, over only the columns they read.
    """

    label: str
    predicate: str
    action: str
    column: str | None = None
    expected: str = ""
    lookup: bool = False


def parse_checks(kind: str, staged: Staged, not_null: Sequence[str]) -> list[Check]:
    """Error checks every kind shares: unparsable values, missing required values, field counts."""
    fields = {f.name: f for f in INPUTS[kind]}
    checks = []
    if "_n_fields" in staged.source.columns:
        n = staged.fields
        checks.append(
            Check(
                "wrong number of fields",
                f"_n_fields <> {n}",
                "error",
                None,
                f"{n} whitespace-separated fields on every line",
            )
        )
    for name in fields:
        if name in staged.present and fields[name].type not in ("id", "text"):
            checks.append(
                Check(
                    f"{name}: cannot be parsed as {fields[name].type}",
                    quote("_bad_" + name),
                    "error",
                    name,
                    EXPECTED[fields[name].type],
                )
            )
    checks += range_checks(kind, staged)
    for name in not_null:
        missing = f"{quote(name)} IS NULL AND NOT {quote('_bad_' + name)}"  # unparsable is reported once
        checks.append(Check(f"{name}: value is missing", missing, "error", name, "a value in every row"))
    return checks


#: Bounds every parsed value must keep: whole numbers are stored as 32-bit integers, and Python (hence
#: every notebook and report) represents dates of the years 1 to 9999 only.
INT_RANGE = (-2_147_483_648, 2_147_483_647)
TS_RANGE = ("0001-01-01", "9999-12-31 23:59:59.999999")


def range_checks(kind: str, staged: Staged) -> list[Check]:
    """Values that parse but cannot be stored or computed with: NUL bytes in text, NaN and infinity,
    integers beyond 32 bits, dates outside the years 1 to 9999."""
    checks = []
    for f in INPUTS[kind]:
        if f.name not in staged.present:
            continue
        col = quote(f.name)
        if f.type in ("id", "text", "json"):  # SQL string literals (segment rules, feature names) cannot hold NUL
            checks.append(
                Check(
                    f"{f.name}: contains a NUL byte",
                    f"contains({col}, chr(0))",
                    "error",
                    f.name,
                    "text without NUL bytes (\\x00). Hint: a file with NUL bytes is often UTF-16 "
                    "(--encoding utf-16) or not text at all",
                )
            )
        elif f.type == "double":
            checks.append(
                Check(
                    f"{f.name}: not a finite number",
                    f"NOT isfinite({col})",
                    "error",
                    f.name,
                    "a finite number (not NaN or infinity)",
                )
            )
        elif f.type == "int":
            lo, hi = INT_RANGE
            checks.append(
                Check(
                    f"{f.name}: out of range",
                    f"{col} NOT BETWEEN {lo} AND {hi}",
                    "error",
                    f.name,
                    f"a whole number between {lo:,} and {hi:,}",
                )
            )
        elif f.type == "timestamp":
            ts_lo, ts_hi = TS_RANGE
            checks.append(
                Check(
                    f"{f.name}: date out of range",
                    f"{col} NOT BETWEEN TIMESTAMP '{ts_lo}' AND TIMESTAMP '{ts_hi}'",
                    "error",
                    f.name,
                    "a date between the years 1 and 9999",
                )
            )
    return checks


def future_cutoff() -> str:
    """SQL literal of the ingest time plus one day (UTC): orders and events dated later are flagged, not kept."""
    now = datetime.now(UTC).replace(tzinfo=None) + timedelta(days=1)
    return f"TIMESTAMP '{now.isoformat(sep=' ')}'"


def run_checks(con: duckdb.DuckDBPyConnection, staged: Staged, checks: Sequence[Check]) -> dict[str, int]:
    """Count every check in one pass, the ``lookup`` checks in a second; raise once if any ``error`` check matched.

    A lookup is a join against a workspace table, and a join carries every column its rows
    hold: beside the other checks it carried the whole parsed row (an event's properties
    included), and each predicate that named it joined again. At 10M customers the unknown-
    customer check of 128M events took about 81 of the 123 CPU-s of the checks that way;
    counted on its own, over the columns it reads, it takes about 29.

    Returns
    -------
    dict of str to int
        Rows per label for ``drop`` and ``mark`` checks (marks counted on kept rows),
        plus ``"__flagged__"`` and ``"__kept__"``.
    """
    drop = drop_predicate(checks)
    plain = [c for c in checks if not c.lookup]
    lookups = [c for c in checks if c.lookup]
    flagged = " OR ".join([f"({drop})"] + [f"coalesce({c.predicate}, false)" for c in plain if c.action == "mark"])
    aggs = [_count(c, drop) for c in plain]
    aggs += [f"count(*) FILTER (WHERE {flagged})", f"count(*) FILTER (WHERE NOT ({drop}))"]
    row = con.execute(f"SELECT {', '.join(aggs)} FROM {STAGE_TABLE}").fetchone()
    assert row is not None
    counts = dict(zip([c.label for c in plain], row[: len(plain)], strict=True))
    flagged_rows, kept = int(row[-2]), int(row[-1])
    if lookups:
        # each lookup once (a column of the inner SELECT), then counted: one join per lookup
        found = ", ".join(f"coalesce({c.predicate}, false) AS _lookup_{i}" for i, c in enumerate(lookups))
        marked = " OR ".join(f"_lookup_{i}" for i, c in enumerate(lookups) if c.action == "mark") or "false"
        extra = con.execute(
            f"SELECT {', '.join(_count(c, '_drop', f'_lookup_{i}') for i, c in enumerate(lookups))}, "
            f"count(*) FILTER (WHERE ({marked}) AND NOT _flagged) "
            f"FROM (SELECT {found}, {drop} AS _drop, {flagged} AS _flagged FROM {STAGE_TABLE})"
        ).fetchone()
        assert extra is not None
        counts |= dict(zip([c.label for c in lookups], extra[:-1], strict=True))
        flagged_rows += int(extra[-1])
    failing = [c for c in checks if c.action == "error" and counts[c.label]]
    if failing:
        raise_problems(con, staged, [(c, int(counts[c.label])) for c in failing])
    out = {c.label: int(counts[c.label]) for c in checks if c.action != "error" and counts[c.label]}
    out["__flagged__"], out["__kept__"] = flagged_rows, kept
    return out


def _count(check: Check, drop: str, predicate: str | None = None) -> str:
    """The count of the rows ``check`` matches (a mark's among the kept rows)."""
    pred = check.predicate if predicate is None else predicate
    if check.action == "mark":
        pred = f"({pred}) AND NOT ({drop})"
    return f"count(*) FILTER (WHERE coalesce({pred}, false))"


def drop_predicate(checks: Sequence[Check]) -> str:
    """SQL that is true for rows some ``drop`` check removes."""
    drops = [f"coalesce({c.predicate}, false)" for c in checks if c.action == "drop"]
    return " OR ".join(drops) if drops else "false"


def sample_values(con: duckdb.DuckDBPyConnection, staged: Staged, rows: Sequence[int], column: str | None) -> list[str]:
    """The raw source values of ``column`` at ``rows`` (for error messages)."""
    if not column or column not in staged.present or not rows:
        return []
    staged.source.materialize(con)  # re-read the raw rows: only on the error path
    text = (
        f"json_extract_string({quote(column)}, '$')"
        if column in staged.json_text
        else f"CAST({quote(column)} AS VARCHAR)"
    )
    got = con.execute(
        f"SELECT _row, {text} "
        f"FROM (SELECT {staged.source.row_sql} AS _row, {staged.raw_select}) "
        f"WHERE _row IN ({', '.join(str(r) for r in rows)}) ORDER BY _row"
    ).fetchall()
    return [_shown_value(v) for _, v in got]


def _shown_value(value: str | None, limit: int = 60) -> str:
    """A raw value for a message: quoted, escaped, and cut short (a 2 MB value is never echoed whole)."""
    if value is None:
        return "empty"
    if len(value) <= limit:
        return repr(value)
    return f"{value[:limit]!r}... ({len(value):,} characters)"


def first_rows(con: duckdb.DuckDBPyConnection, predicate: str, table: str = STAGE_TABLE) -> list[int]:
    """The first offending row numbers (as many as the ``max_error_rows`` setting)."""
    limit = int(get_setting("max_error_rows"))
    got = con.execute(f"SELECT _row FROM {table} WHERE coalesce({predicate}, false) ORDER BY _row LIMIT {limit}")
    return [int(r[0]) for r in got.fetchall()]


def raise_problems(con: duckdb.DuckDBPyConnection, staged: Staged, problems: Sequence[tuple[Check, int]]) -> None:
    """Raise one :class:`SchemaError` describing every ``(check, count)``."""
    parts, all_rows = [], []
    for check, n in problems:
        rows = first_rows(con, check.predicate)
        all_rows += rows
        values = sample_values(con, staged, rows, check.column)
        got = f"; got {', '.join(values)}" if values and check.expected != "a value in every row" else ""
        noun = "row" if n == 1 else "rows"
        expected = check.expected
        header = staged.origin.get(check.column or "", check.column or "")
        if header and f"'{header}'" in values:  # files joined with their headers ('Created at' as a date)
            expected = (
                f"{expected.split('. Hint:')[0]}. Hint: the row repeats the file's header (exports joined?): delete it"
            )
        elif check.expected == EXPECTED["timestamp"]:
            expected = _date_hint(con, staged, check) or expected
        elif check.expected in (EXPECTED["double"], EXPECTED["int"]) and _decimal_commas(values):
            expected += ". Hint: these numbers use a decimal comma (1.234,50): pass --decimal ',' (decimal=',')"
        parts.append(f"{_named(check, staged)} in {n:,} {noun} ({_rows_text(rows, n)}){got}. Expected {expected}.")
    first = problems[0][0]
    raise SchemaError(
        f"{staged.source.name}: " + " ".join(parts),
        table=staged.source.name,
        column=first.column,
        rows=sorted(set(all_rows)),
    )


def _named(check: Check, staged: Staged) -> str:
    """The check's label with the file's own column beside the canonical one it fills
    (``unit_price (column 'Lineitem price'): ...``), when a preset or ``--map`` renamed it."""
    col = check.column
    origin = staged.origin.get(col) if col else None
    if col and origin and origin != col and check.label.startswith(f"{col}:"):
        return f"{col} (column {origin!r}){check.label[len(col) :]}"
    return check.label


def _decimal_commas(values: Sequence[str]) -> bool:
    """Whether the sampled values (quoted, as :func:`sample_values` gives them) are numbers written with a
    decimal comma, such as ``'25,00'`` or ``'1.234,50'``."""
    shown = [v.strip("'") for v in values if v != "empty"]
    return bool(shown) and all(re.fullmatch(r"-?\d{1,3}([. ]?\d{3})*,\d+", v) for v in shown)


def _date_hint(con: duckdb.DuckDBPyConnection, staged: Staged, check: Check) -> str | None:
    """The expectation of a timestamp column with the date format its unparsed values show, if they show one."""
    from shopseg.io.profile import infer_date_formats

    rows = con.execute(f"SELECT _row FROM {STAGE_TABLE} WHERE coalesce({check.predicate}, false) LIMIT 500").fetchall()
    values = [v.strip("'") for v in sample_values(con, staged, [int(r[0]) for r in rows], check.column)]
    formats = infer_date_formats([v for v in values if v != "empty"])
    base = EXPECTED["timestamp"].split(". Hint:")[0]
    if len(formats) == 1:
        why = (
            "the month is named"
            if formats[0].startswith(("%b", "%B"))
            else "a first part above 12 is a day"
            if formats[0].startswith("%d")
            else "a second part above 12 is a day"
        )
        return f"{base}. Hint: these values read as --date-format '{formats[0]}' ({why})"
    if len(formats) == 2:
        return (
            f"{base}. Hint: day and month cannot be told apart in these values (no part above 12): "
            f"--date-format '{formats[0]}' (day first) or '{formats[1]}' (month first)"
        )
    return None


def _rows_text(rows: Sequence[int], n: int) -> str:
    shown = ", ".join(str(r) for r in rows)  # no thousands separators: commas separate rows
    return f"row{'s' if len(rows) > 1 else ''} {shown}{', ...' if n > len(rows) else ''}"
