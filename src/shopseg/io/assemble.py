"""Assemble one canonical table's source rows from a spec: read files, join, filter, map.

Each file of the spec is read once (DuckDB, as text for CSV) into a temporary
table. For a table of the spec, its ``from`` file is joined with its ``join``
files and filtered into ``_shopseg_src``, one row per kept ``from`` row, with
every column named ``file.column`` and ``_file_row``, the row number in the
``from`` file (so errors still name the row an editor shows). The ``map`` turns
into one SQL expression per canonical column, applying the file's options
(decimal comma, date format, time zone) and constants; what is left unmapped is
listed with the field it looks like, and for customers kept as typed custom
attributes. The rows then go through the same staging, checks and writes as a
single-file ingest (:mod:`shopseg.io.validate`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from shopseg.errors import SchemaError, did_you_mean
from shopseg.io._read import SOURCE_TABLE, Reader, Source, infer_format, literal, quote, read_source
from shopseg.io.columns import INPUTS, TYPE_NAMES, Resolved, normalize_name, shown_list
from shopseg.io.profile import ColumnProfile, guess_field, profile_columns, rank_candidates
from shopseg.io.spec import DaysSince, ImportSpec, TableSpec
from shopseg.io.spec_map import LoadedFile, filter_sql, infer_date_formats, map_columns

__all__ = ["SpecFiles", "Assembled", "assemble_table", "describe_unmapped"]


class SpecFiles:
    """The spec's files, each read once into a temporary table on first use."""

    def __init__(self, con: duckdb.DuckDBPyConnection, spec: ImportSpec) -> None:
        self.con, self.spec = con, spec
        self.loaded: dict[str, LoadedFile] = {}

    def get(self, name: str) -> LoadedFile:
        if name not in self.loaded:
            self.loaded[name] = self._read(name, len(self.loaded))
        return self.loaded[name]

    def _read(self, name: str, index: int) -> LoadedFile:
        path, options = self.spec.path_of(name), self.spec.options_of(name)
        if path.is_dir():
            raise SchemaError(
                f"{path.name}: files.{name} is a directory; expected a file (one of: {_listing(path)}).",
                table=path.name,
            )
        fmt = infer_format(path, options.format)
        reader = Reader(header=options.header is not False, delimiter=options.delimiter)
        source = read_source(self.con, path, fmt, reader, encoding=options.encoding or "utf-8")
        table = f"_shopseg_file{index}"
        try:
            self.con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM {source.relation}")
        except duckdb.Error as exc:
            from shopseg.io._read import read_error

            raise read_error(source, exc) from exc
        columns = [r[0] for r in self.con.execute(f"DESCRIBE {table}").fetchall()]
        if options.fill_down_by:
            self._fill_down(table, columns, options.fill_down_by, path)
        row = self.con.execute(f"SELECT count(*), coalesce(min(rowid), 0) FROM {table}").fetchone()
        assert row is not None
        return LoadedFile(name, path, table, columns, source.row_offset, int(row[1]), int(row[0]), options)

    def days_since(self, src: DaysSince, scope: list[LoadedFile], at: str) -> str:
        """Add the rebuilt order date as a column of the file holding ``days_since_previous``; return its name."""
        cols = (src.days_since_previous, src.by, src.order_by)
        file = next(
            (
                f
                for f in scope
                if all(c.rpartition(".")[2] in f.columns for c in cols)
                and all(c.rpartition(".")[0] in ("", f.name) for c in cols)
            ),
            None,
        )
        if file is None:
            raise SchemaError(
                f"{at}: days_since_previous, by and order_by must be columns of one file (the order "
                f"headers); got {list(cols)}.",
                table=scope[0].path.name,
            )
        days, by, order = (quote(c.rpartition(".")[2]) for c in cols)
        column = "_ordered_at_rebuilt"
        self.con.execute(
            f"""CREATE OR REPLACE TEMP TABLE {file.table}_days AS SELECT *, strftime(DATE {literal(src.start)} +
                CAST(coalesce(sum(coalesce(TRY_CAST({days} AS DOUBLE), 0)) OVER (PARTITION BY {by}
                ORDER BY TRY_CAST({order} AS BIGINT), rowid ROWS UNBOUNDED PRECEDING), 0) AS INTEGER), '%Y-%m-%d')
                AS {column} FROM {file.table} ORDER BY rowid"""
        )
        self.con.execute(f"DROP TABLE {file.table}")
        self.con.execute(f"ALTER TABLE {file.table}_days RENAME TO {file.table}")
        if column not in file.columns:
            file.columns.append(column)
        row = self.con.execute(f"SELECT coalesce(min(rowid), 0) FROM {file.table}").fetchone()
        file.base = int(row[0]) if row else 0
        return f"{file.name}.{column}"

    def _fill_down(self, table: str, columns: list[str], key: str, path: Path) -> None:
        """Empty cells take the first non-empty value of rows with the same ``key`` (file order kept)."""
        if key not in columns:
            raise SchemaError(
                f"{path.name}: fill_down_by column '{key}' is not in the file; found {shown_list(columns, 12)}."
                f"{did_you_mean(key, columns)}",
                table=path.name,
                column=key,
            )
        cells = ", ".join(
            f"coalesce(nullif(trim(CAST({quote(c)} AS VARCHAR)), ''), first_value(nullif(trim(CAST({quote(c)} AS VARCHAR)),"
            f" '') IGNORE NULLS) OVER w) AS {quote(c)}"
            if c != key
            else quote(c)
            for c in columns
        )
        self.con.execute(
            f"CREATE OR REPLACE TEMP TABLE {table}_filled AS SELECT {cells} FROM {table} "
            f"WINDOW w AS (PARTITION BY {quote(key)} ORDER BY rowid) ORDER BY rowid"
        )
        self.con.execute(f"DROP TABLE {table}")
        self.con.execute(f"ALTER TABLE {table}_filled RENAME TO {table}")


def _listing(path: Path, limit: int = 5) -> str:
    names = sorted(p.name for p in path.iterdir())
    return ", ".join(names[:limit]) + (", ..." if len(names) > limit else "") if names else "it is empty"


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
    filters = []
    for i, flt in enumerate(table.filter):
        hit = ref(flt.column, f"{where}.filter[{i}].column")
        if hit:
            filters.append(filter_sql(f"nullif(trim(CAST({sql(hit)} AS VARCHAR)), '')", flt))
    exprs, origins, constants = map_columns(kind, table, ref, main, where)
    infer_date_formats(con, kind, table, exprs, origins, scope)
    missing = [f for f in INPUTS[kind] if f.required and f.name not in exprs and f.name not in table.map]
    if missing and not problems:
        problems += _missing(con, kind, missing, scope, where)
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
    )
    _unmapped(con, assembled, main, used, table)
    if n_rows == 0:
        source.check_not_empty()
    return assembled


def _missing(
    con: duckdb.DuckDBPyConnection, kind: str, missing: list, scope: list[LoadedFile], where: str
) -> list[str]:
    """One problem per missing required column, with candidates whose values fit it."""
    out = []
    profiles: dict[str, ColumnProfile] = {}
    for i, f in enumerate(scope):
        for name, prof in profile_columns(con, f.table, f.columns).items():
            prof.name = name if i == 0 else f"{f.name}.{name}"
            profiles[prof.name] = prof
    for fld in missing:
        ranked = rank_candidates(fld, profiles, others=tuple(f.name for f in INPUTS[kind]))
        hint = (
            f" Candidates whose values fit: {ranked}; e.g. map: {{{fld.name}: {ranked[0]}}}."
            if ranked
            else f" No column's values fit {TYPE_NAMES[fld.type]}; set a constant ({{{fld.name}: {{const: ...}}}}) if the "
            "store has one value for all rows."
        )
        out.append(f"{where}.map: required column '{fld.name}' is not mapped and no column of that name exists.{hint}")
    return out


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


def _check_unique_keys(con: duckdb.DuckDBPyConnection, checks) -> None:  # type: ignore[no-untyped-def]
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


def describe_unmapped(
    con: duckdb.DuckDBPyConnection, kind: str, relation: str, rest: dict[str, str], taken: set[str], keep: bool
) -> tuple[list[tuple[str, str | None]], tuple[str, list[str]] | None]:
    """Unmapped columns (shown name -> column of ``relation``) with the field each looks like, and, with
    ``keep`` and no mapped ``attributes``, the SQL of a typed JSON object holding them (numbers stay numbers,
    true/false stay booleans, the rest is text)."""
    if not rest:
        return [], None
    profiles = profile_columns(con, relation, list(rest.values()), sample=2_000)
    listed = [(shown, guess_field(kind, _renamed(profiles[col], shown), taken)) for shown, col in rest.items()]
    if not keep or "attributes" in taken:
        return listed, None
    parts, names = [], []
    for shown, col in rest.items():
        prof = profiles[col]
        text = f"nullif(trim(CAST({quote(col)} AS VARCHAR)), '')"
        if prof.number >= 0.99 and prof.boolean < 0.99:
            value = f"TRY_CAST({text} AS DOUBLE)"
        elif prof.boolean >= 0.99:
            value = f"CASE WHEN lower({text}) IN ('true', 't', 'yes', 'y', '1') THEN true WHEN {text} IS NOT NULL THEN false END"
        else:
            value = text
        parts.append(f"{quote(normalize_name(shown))} := {value}")
        names.append(normalize_name(shown))
    return listed, (f"CAST(to_json(struct_pack({', '.join(parts)})) AS VARCHAR)", names)


def _renamed(profile: ColumnProfile, name: str) -> ColumnProfile:
    profile.name = name
    return profile


def _columns_in(expr: str, columns: dict[str, str]) -> list[str]:
    return [c for c in columns if quote(c) in expr]
