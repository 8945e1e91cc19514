"""The files of an import spec, each read once into a temporary DuckDB table.

:class:`SpecFiles` reads a spec's file (DuckDB, as text for CSV) into a
temporary table on first use, applying the file's reader options (header,
column names, delimiter, encoding, fill-down), and can add the order date a
``days_since_previous`` column rebuilds. :mod:`shopseg.io.assemble` joins and
filters these tables into one canonical table's source rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from shopseg._sql import literal, quote
from shopseg.errors import SchemaError
from shopseg.io._read import Reader, check_field_counts, fill_down, infer_format, read_source
from shopseg.io.derivations import DaysSince
from shopseg.io.spec import FileOptions, ImportSpec

__all__ = ["LoadedFile", "SpecFiles"]


@dataclass
class LoadedFile:
    name: str
    path: Path
    table: str
    columns: list[str]
    offset: int
    base: int
    rows: int
    options: FileOptions


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
        names = tuple(options.columns or ())
        reader = Reader(header=options.header is not False, names=names, delimiter=options.delimiter)
        source = read_source(self.con, path, fmt, reader, encoding=options.encoding or "utf-8")
        table = f"_shopseg_file{index}"
        try:
            self.con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM {source.relation}")
        except duckdb.Error as exc:
            from shopseg.io._read import read_error

            raise read_error(source, exc) from exc
        columns = [r[0] for r in self.con.execute(f"DESCRIBE {table}").fetchall()]
        if "_n_fields" in columns:
            check_field_counts(self.con, table, source, len(names))
            self.con.execute(f"ALTER TABLE {table} DROP COLUMN _n_fields")
            columns.remove("_n_fields")
        if options.fill_down_by:
            fill_down(self.con, table, columns, options.fill_down_by, options.fill_down, path.name)
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


def _listing(path: Path, limit: int = 5) -> str:
    names = sorted(p.name for p in path.iterdir())
    return ", ".join(names[:limit]) + (", ..." if len(names) > limit else "") if names else "it is empty"
