"""Parse a source into the rows every check and write reads: ``_shopseg_rows``.

:func:`stage_rows` gives each input column its canonical type, flags values that
do not parse (``_bad_<name>``), evaluates a preset's marks (``_mark_<i>``) and
numbers the rows as a user sees them in the file (``_row``). A CSV or JSON file
is parsed once into a temporary table (its rowid gives the row number); a
Parquet file is read again by each statement through a view (``file_row_number``
gives the row number), which costs less than writing every row to a table and
reading it back.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import duckdb

from shopseg._sql import quote
from shopseg.errors import SchemaError
from shopseg.io._read import SOURCE_TABLE, Source, read_error
from shopseg.io.columns import INPUTS, MONEY, SIGNS, Resolved, parse_sql, text_sql

__all__ = ["DATA_TABLE", "STAGE_TABLE", "Staged", "stage_rows"]

DATA_TABLE = "_shopseg_stg"
STAGE_TABLE = "_shopseg_rows"


@dataclass
class Staged:
    """The staged rows: which input columns exist, and the SQL that reads them raw (for messages)."""

    source: Source
    present: set[str]
    raw_select: str
    marks: list[str]
    fields: int | None = None
    json_text: frozenset[str] = frozenset()
    blank: int = 0
    #: canonical column -> the file's column it is read from, when it reads exactly one (for messages)
    origin: dict[str, str] = field(default_factory=dict)


def stage_rows(
    con: duckdb.DuckDBPyConnection,
    kind: str,
    source: Source,
    resolved: Resolved,
    marks: Sequence[tuple[str, str]] = (),
    date_format: str | None = None,
    fields: int | None = None,
) -> Staged:
    """Parse the source into ``_shopseg_stg`` (no row dropped) and expose it with ``_row`` as ``_shopseg_rows``.

    A :attr:`~shopseg.io._read.Source.rereadable` (Parquet) file makes ``_shopseg_stg`` a view over the
    file, numbered by ``file_row_number``. Any other file not materialised is streamed through the
    parser once into a table whose insertion order is the file order, so its rowid gives the row number;
    materialised rows carry their number. ``marks`` are extra reasons (label, SQL predicate over the
    source) counted on kept rows; ``fields`` is the number of fields every line of a whitespace-separated
    source has.
    """
    n_fields = fields
    fields_ = {f.name: f for f in INPUTS[kind]}
    marks = list(marks)
    extra = [f"_mark_{i}" for i in range(len(marks))] + (["_n_fields"] if "_n_fields" in source.columns else [])
    extra.append("_blank")
    raw = [f"{expr} AS {quote(name)}" for name, expr in resolved.exprs.items()]
    raw += [f"coalesce({pred}, false) AS _mark_{i}" for i, (_, pred) in enumerate(marks)]
    raw += ["_n_fields"] if "_n_fields" in source.columns else []
    direct = source.rereadable
    relation = source.numbered_sql if direct else source.from_sql
    if source.materialized:
        lead = [f"{source.row_sql} AS _row"]
    elif direct:
        lead = [f"file_row_number + {source.row_offset} AS _row"]
    else:
        lead = []  # numbered by the staging table's rowid below
    layer1 = f"SELECT {', '.join(lead + raw + [_blank_sql(source) + ' AS _blank'])} FROM {relation}"
    types = {r[0]: r[1] for r in con.execute(f"DESCRIBE {layer1}").fetchall()}
    for name in resolved.exprs:  # mixed-type JSON values arrive as JSON: read them as text
        if types[name] == "JSON" and fields_[name].type != "json":
            types[name] = "JSON_TEXT"
    keep = ["_row"] if lead else []
    scan = None
    if direct:  # one pass: rows, blank rows, and the text columns trimming would change
        try:
            scan = _scan(con, layer1, [n for n in resolved.exprs if types[n] == "VARCHAR"])
        except (duckdb.InvalidInputException, duckdb.ConversionException, duckdb.IOException) as exc:
            raise read_error(source, exc) from exc
    padded = scan[2] if scan else set(resolved.exprs)
    trimmed = (
        keep
        + [f"{text_sql(quote(n), types[n], trim=n in padded)} AS {quote('_t_' + n)}" for n in resolved.exprs]
        + extra
    )
    parsed, final = list(keep), list(keep)
    for name in resolved.exprs:
        typ = "VARCHAR" if types[name] == "JSON_TEXT" else types[name]
        value, fallible = parse_sql(fields_[name], "_t_" + name, typ, date_format)
        parsed.append(f"{value} AS {quote(name)}")
        final.append(quote(name))
        if name in MONEY and typ == "VARCHAR":  # the currency sign a value carried ('$4.50'), for one-currency checks
            t = quote("_t_" + name)
            parsed.append(
                f"CASE WHEN TRY_CAST({t} AS DOUBLE) IS NULL THEN nullif(regexp_extract({t}, '{SIGNS}'), '') END AS {quote('_sign_' + name)}"
            )
            final.append(quote("_sign_" + name))
        if fallible:
            parsed.append(f"{quote('_t_' + name)} IS NOT NULL AS {quote('_has_' + name)}")
            final.append(f"({quote('_has_' + name)} AND {quote(name)} IS NULL) AS {quote('_bad_' + name)}")
        else:
            final.append(f"false AS {quote('_bad_' + name)}")
    parsed += extra
    final += extra
    sql = f"SELECT {', '.join(final)} FROM (SELECT {', '.join(parsed)} FROM (SELECT {', '.join(trimmed)} FROM ({layer1})))"
    try:
        con.execute(f"CREATE OR REPLACE TEMP {'VIEW' if direct else 'TABLE'} {DATA_TABLE} AS {sql}")
        if scan is None:
            base = "0" if lead else "coalesce(min(rowid), 0)"
            row = con.execute(f"SELECT count(*), {base}, count(*) FILTER (WHERE _blank) FROM {DATA_TABLE}").fetchone()
    except (duckdb.InvalidInputException, duckdb.ConversionException, duckdb.IOException) as exc:
        raise read_error(source, exc) from exc
    if scan is not None:
        n, first, blank = scan[0], 0, scan[1]
    else:
        n, first, blank = (int(row[0]), int(row[1]), int(row[2])) if row else (0, 0, 0)
    if not source.materialized:
        source.n_rows = n
        source.check_not_empty()
    numbered = "" if lead else f"rowid - {first} + {source.row_offset} AS _row, "
    con.execute(f"CREATE OR REPLACE TEMP VIEW {STAGE_TABLE} AS SELECT {numbered}* FROM {DATA_TABLE} WHERE NOT _blank")
    if n and blank == n:
        raise SchemaError(
            f"{source.name}: all {n:,} data rows are blank (every field empty). Expected at least one row with values.",
            table=source.name,
        )
    return Staged(
        source=source,
        present=set(resolved.exprs),
        raw_select=f"{', '.join(raw)} FROM {SOURCE_TABLE}",
        marks=[m for m, _ in marks],
        fields=n_fields,
        json_text=frozenset(n for n, t in types.items() if t == "JSON_TEXT"),
        blank=blank,
        origin=_origin(resolved),
    )


def _origin(resolved: Resolved) -> dict[str, str]:
    """Canonical column -> the one file column its expression reads (``"Lineitem price"`` for ``unit_price``)."""
    out = {}
    for name, expr in resolved.exprs.items():
        cols = {c.replace('""', '"') for c in re.findall(r'"((?:[^"]|"")*)"', expr)}
        if len(cols) == 1:
            out[name] = cols.pop()
    return out


def _scan(con: duckdb.DuckDBPyConnection, layer1: str, text: list[str]) -> tuple[int, int, set[str]]:
    """Rows, blank rows, and the ``text`` columns with a value that trimming would change, in one pass.

    Every statement reads a Parquet file again through the staging view, and trimming every text value
    of every row in each of them was a third of an events ingest (DuckDB's ``trim`` costs four times
    the read). ``trim`` strips the Unicode space separators (category Zs) from both ends; a value that
    starts and ends without a space and is all ASCII (its byte length equals its character length)
    has nothing to strip, so a column whose every value passes that test is read without ``trim``.
    """
    padded = [
        f"bool_or(starts_with({c}, ' ') OR ends_with({c}, ' ') OR strlen({c}) <> length({c}))" for c in map(quote, text)
    ]
    row = con.execute(
        f"SELECT {', '.join(['count(*)', 'count(*) FILTER (WHERE _blank)', *padded])} FROM ({layer1})"
    ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), {name for name, flag in zip(text, row[2:], strict=True) if flag}


def _blank_sql(source: Source) -> str:
    """SQL that is true for a row whose every source field is empty (Excel's trailing ``,,,,`` rows).

    Trimming every field of every row costs as much as reading the file, so a cheap test settles the
    usual row first (its first non-null text field has a character, or a typed field is set); CASE
    evaluates the full test only on the rows left.
    """
    cols = {c: t for c, t in source.columns.items() if c != "_n_fields"}
    text = [quote(c) for c, t in cols.items() if t == "VARCHAR"]
    typed = [quote(c) for c, t in cols.items() if t != "VARCHAR"]
    full = [f"nullif(trim({c}), '') IS NULL" for c in text] + [f"{c} IS NULL" for c in typed]
    if not full:
        return "false"
    cheap = ([f"trim(coalesce({', '.join(text)})) <> ''"] if text else []) + [f"{c} IS NOT NULL" for c in typed]
    return f"(CASE WHEN {' OR '.join(cheap)} THEN false ELSE {' AND '.join(full)} END)"
