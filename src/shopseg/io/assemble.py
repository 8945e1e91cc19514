"""Assemble one canonical table's source rows from a spec: read files, join, filter, map.

Each file of the spec is read once (DuckDB, as text for CSV) into a temporary
table (:mod:`shopseg.io.spec_files`). For a table of the spec, its ``from`` file is joined with its ``join``
files and filtered into ``_shopseg_src``, one row per kept ``from`` row, with
every column named ``file.column`` and ``_file_row``, the row number in the
``from`` file (so errors still name the row an editor shows). The ``map`` turns
into one SQL expression per canonical column, applying the file's options
(decimal comma, date format, time zone) and constants; what is left unmapped is
listed with the field it looks like, and for customers kept as typed custom
attributes (:mod:`shopseg.io.mapping`). The rows then go through the same staging, checks and writes as a
single-file ingest (:mod:`shopseg.io.validate`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from shopseg._sql import literal, quote
from shopseg.errors import SchemaError, did_you_mean
from shopseg.io._read import SOURCE_TABLE, Source
from shopseg.io.columns import INPUTS, Resolved, shown_list
from shopseg.io.derivations import DaysSince
from shopseg.io.mapping import describe_unmapped, infer_date_formats, map_columns, missing_columns
from shopseg.io.spec import TableSpec
from shopseg.io.spec_files import LoadedFile, SpecFiles

__all__ = ["Assembled", "assemble_table"]


@dataclass
class JoinedSource(Source):
    """``_shopseg_src`` built by :func:`assemble_table`; row numbers are the ``from`` file's."""

    @property
    def row_sql(self) -> str:
        return "_file_row"


@dataclass
class Assembled:
    """One table's assembled source, how each canonical column is read, and what the plan shows."""

    kind: str
    source: JoinedSource
    resolved: Resolved
    origins: dict[str, str]
    rows_in_file: int
    blank_rows: int
    filtered_out: int
    joins: list[tuple[str, int, int]]
    unmapped: list[tuple[str, str | None]]
    attributes: list[str] = field(default_factory=list)
    constants: dict[str, str] = field(default_factory=dict)
    merged: int = 0
    marks: list[tuple[str, str]] = field(default_factory=list)


def assemble_table(con: duckdb.DuckDBPyConnection, files: SpecFiles, kind: str, table: TableSpec) -> Assembled:
    """Build ``_shopseg_src`` for ``kind`` and resolve its columns; raise once for every problem."""
    main = files.get(table.from_)
    scope = [main] + [files.get(j.file) for j in table.join]
    for name, src in list(table.map.items()):
        if isinstance(src, DaysSince):
            table = table.model_copy(
                update={"map": {**table.map, name: files.days_since(src, scope, f"tables.{kind}.map.{name}")}}
            )
    aliases = {f.name: f"f{i}" for i, f in enumerate(scope)}
    problems: list[str] = []
    where = f"tables.{kind}"

    def ref(name: str, at: str, upto: int | None = None) -> tuple[LoadedFile, str] | None:
        files_in = scope if upto is None else scope[:upto]
        file, _, col = name.rpartition(".")
        if file and file in aliases and aliases[file] in [aliases[f.name] for f in files_in]:
            hit = next(f for f in files_in if f.name == file)
            if col in hit.columns:
                return hit, col
            problems.append(
                f"{at}: column '{col}' is not in file '{file}' ({hit.path.name}); it has "
                f"{shown_list(hit.columns, 12)}.{did_you_mean(col, hit.columns)}"
            )
            return None
        for f in files_in:
            if name in f.columns:
                return f, name
        every = [c for f in files_in for c in f.columns]
        problems.append(
            f"{at}: no column '{name}' in {', '.join(f.path.name for f in files_in)}; found "
            f"{shown_list(every, 12)}.{did_you_mean(name, every)}"
        )
        return None

    def sql(hit: tuple[LoadedFile, str]) -> str:  # inside the join query
        return f"{aliases[hit[0].name]}.{quote(hit[1])}"

    joins_sql, join_checks = [], []
    for i, j in enumerate(table.join, start=1):
        right = scope[i]
        conds = []
        for left_name, right_name in j.pairs():
            left = ref(left_name, f"{where}.join[{i - 1}].on", upto=i)
            r = (right, right_name) if right_name in right.columns else None
            if r is None:
                problems.append(
                    f"{where}.join[{i - 1}].on: column '{right_name}' is not in file '{right.name}' "
                    f"({right.path.name}); it has {shown_list(right.columns, 12)}."
                    f"{did_you_mean(right_name, right.columns)}"
                )
            if left and r:
                conds.append(f"trim(CAST({sql(left)} AS VARCHAR)) = trim(CAST({sql(r)} AS VARCHAR))")
                join_checks.append((j, right, right_name))
        if conds:
            joins_sql.append(
                f"{'LEFT' if j.how == 'left' else 'INNER'} JOIN {right.table} {aliases[right.name]} "
                f"ON {' AND '.join(conds)}"
            )
    filters, filtered = [], []
    for i, flt in enumerate(table.filter):
        hit = ref(flt.column, f"{where}.filter[{i}].column")
        if hit:
            filters.append(_filter_sql(f"nullif(trim(CAST({sql(hit)} AS VARCHAR)), '')", flt))
            filtered.append((flt.column, sql(hit)))
    exprs, origins, constants, marks = map_columns(kind, table, ref, main, where)
    infer_date_formats(con, kind, table, exprs, origins, scope)
    missing = [f for f in INPUTS[kind] if f.required and f.name not in exprs and f.name not in table.map]
    if missing and not problems:
        problems += missing_columns(con, kind, missing, scope, where)
    if problems:
        raise SchemaError(
            "import spec: " + " ".join(problems), table=main.path.name, column=missing[0].name if missing else None
        )
    _check_unique_keys(con, join_checks)
    blank = " AND ".join(f"nullif(trim(CAST(f0.{quote(c)} AS VARCHAR)), '') IS NULL" for c in main.columns) or "false"
    select = [f"f0.rowid - {main.base} + {main.offset} AS _file_row"]
    for f in scope:
        select += [f"{aliases[f.name]}.{quote(c)} AS {quote(f.name + '.' + c)}" for c in f.columns]
    select += [f"{aliases[f.name]}.rowid IS NOT NULL AS {quote('_matched_' + f.name)}" for f in scope[1:]]
    keep = " AND ".join([f"NOT ({blank})"] + filters)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {SOURCE_TABLE} AS SELECT {', '.join(select)} FROM {main.table} f0 "
        f"{' '.join(joins_sql)} WHERE {keep} ORDER BY f0.rowid"
    )
    counts = con.execute(f"SELECT count(*) FILTER (WHERE {blank}) FROM {main.table} f0").fetchone()
    matched = [f"count(*) FILTER (WHERE {quote('_matched_' + f.name)})" for f in scope[1:]]
    n_src = con.execute(f"SELECT {', '.join(['count(*)', 'count(*)'] + matched)} FROM {SOURCE_TABLE}").fetchone()
    assert counts is not None and n_src is not None
    n_rows = int(n_src[0])
    blank_rows = int(counts[0])
    merged = _merge_duplicates(con, kind, table, exprs)
    n_rows -= merged
    columns = {r[0]: r[1] for r in con.execute(f"DESCRIBE {SOURCE_TABLE}").fetchall()}
    source = JoinedSource(
        path=main.path,
        fmt="csv",
        relation=SOURCE_TABLE,
        columns=columns,
        row_offset=main.offset,
        n_rows=n_rows,
        materialized=True,
    )
    joins = [(f.name, int(n_src[2 + i]), n_rows) for i, f in enumerate(scope[1:])]
    used = {c for expr in exprs.values() for c in _columns_in(expr, columns)}
    assembled = Assembled(
        kind,
        source,
        Resolved(exprs),
        origins,
        main.rows,
        blank_rows,
        main.rows - blank_rows - n_rows - merged,
        joins,
        [],
        constants=constants,
        merged=merged,
        marks=marks,
    )
    _unmapped(con, assembled, main, used, table)
    if n_rows == 0 and assembled.filtered_out:
        raise SchemaError(
            _nothing_kept(con, main, assembled.filtered_out, filtered, f"{where}.filter"), table=main.path.name
        )
    if n_rows == 0:
        source.check_not_empty()
    return assembled


def _nothing_kept(
    con: duckdb.DuckDBPyConnection, main: LoadedFile, n: int, filtered: list[tuple[str, str]], where: str
) -> str:
    """The message when the spec's filters (or inner joins) leave none of a file's rows, with the values the
    filtered columns do hold (a filter on 'delivered' where the file says 'Shipped')."""
    held = []
    for column, expr in filtered:
        row = con.execute(
            f"SELECT list_sort(list(DISTINCT CAST({expr} AS VARCHAR)))[1:6] FROM {main.table} f0"
        ).fetchone()
        held.append(f"'{column}' holds {', '.join(repr(v) for v in (row[0] if row else []) if v is not None)}")
    return (
        f"{main.path.name}: the spec's filter or inner join left none of its {n:,} rows ({where}"
        f"{': ' + '; '.join(held) if held else ''}). Expected at least one row kept. Hint: filter on values the "
        "file has (`--plan` shows samples)."
    )


_KEYS = {"customers": "customer_id", "products": "product_id"}


def _merge_duplicates(con: duckdb.DuckDBPyConnection, kind: str, table: TableSpec, exprs: dict[str, str]) -> int:
    """With ``duplicates: first|last``, keep one row per key; return how many rows were merged away."""
    key = _KEYS.get(kind)
    if table.duplicates == "error" or key is None or key not in exprs:
        return 0
    order = "DESC" if table.duplicates == "last" else "ASC"
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _shopseg_src_dedup AS SELECT * FROM {SOURCE_TABLE} QUALIFY "
        f"row_number() OVER (PARTITION BY {exprs[key]} ORDER BY _file_row {order}) = 1 ORDER BY _file_row"
    )
    before = con.execute(f"SELECT count(*) FROM {SOURCE_TABLE}").fetchone()
    after = con.execute("SELECT count(*) FROM _shopseg_src_dedup").fetchone()
    con.execute(f"DROP TABLE {SOURCE_TABLE}")
    con.execute(f"ALTER TABLE _shopseg_src_dedup RENAME TO {SOURCE_TABLE}")
    return int(before[0]) - int(after[0]) if before and after else 0


def _filter_sql(value: str, flt) -> str:
    def lit(v: object) -> str:
        return literal(str(v).lower() if isinstance(v, bool) else str(v))

    if flt.equals is not None:
        return f"coalesce({value} = {lit(flt.equals)}, false)"
    if flt.in_ is not None:
        return f"coalesce({value} IN ({', '.join(lit(v) for v in flt.in_)}), false)"
    if flt.not_in is not None:
        return f"coalesce({value} NOT IN ({', '.join(lit(v) for v in flt.not_in)}), true)"
    return f"{value} IS NOT NULL"


def _check_unique_keys(con: duckdb.DuckDBPyConnection, checks) -> None:
    for join, right, column in checks:
        if len(join.pairs()) != 1:
            continue
        key = f"trim(CAST({quote(column)} AS VARCHAR))"
        row = con.execute(
            f"SELECT count(*), any_value(k) FROM (SELECT {key} AS k FROM {right.table} WHERE k IS NOT NULL "
            f"GROUP BY k HAVING count(*) > 1)"
        ).fetchone()
        if row and row[0]:
            raise SchemaError(
                f"{right.path.name}: join on '{column}' needs one row per key, but {int(row[0]):,} keys repeat "
                f"(e.g. {row[1]!r}). Expected a file with one row per {column} (an order-header or customers file); "
                "join the detail file as the table's 'from' instead.",
                table=right.path.name,
                column=column,
            )


def _unmapped(
    con: duckdb.DuckDBPyConnection, assembled: Assembled, main: LoadedFile, used: set[str], table: TableSpec
) -> None:
    """List the from-file's columns no canonical column reads; customers keep them as attributes."""
    rest = {c: f"{main.name}.{c}" for c in main.columns if f"{main.name}.{c}" not in used}
    keep = assembled.kind == "customers" and table.keep_unmapped
    assembled.unmapped, attrs = describe_unmapped(
        con, assembled.kind, SOURCE_TABLE, rest, set(assembled.resolved.exprs), keep
    )
    if attrs:
        assembled.resolved.exprs["attributes"], names = attrs
        assembled.origins["attributes"] = "custom attributes: " + ", ".join(names)
        assembled.attributes = names


def _columns_in(expr: str, columns: dict[str, str]) -> list[str]:
    return [c for c in columns if quote(c) in expr]
