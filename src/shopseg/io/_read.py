"""Read a source file into a DuckDB staging table, untouched.

The staging table ``_shopseg_src`` holds the source columns as read (CSV
columns as text, Parquet and JSON columns with their own types) in file order,
so ``rowid - first rowid + row_offset`` is the 1-based row number a user sees in an editor
(the header counts as row 1 of a CSV). Nothing is looped in Python. How a
CSV file's dialect is read is in :mod:`shopseg.io._read_csv`; the SQL quoting
helpers are in :mod:`shopseg._sql`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from shopseg._sql import literal, quote
from shopseg.errors import InvalidParameterError, SchemaError, did_you_mean
from shopseg.io._read_csv import csv_relation
from shopseg.io._read_error import read_error

__all__ = [
    "SOURCE_TABLE",
    "Reader",
    "Source",
    "check_path",
    "infer_format",
    "read_source",
    "read_error",
    "fill_down",
    "check_field_counts",
]

SOURCE_TABLE = "_shopseg_src"

FORMATS = ("csv", "parquet", "jsonl")
_EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
}


@dataclass(frozen=True)
class Reader:
    """How to read a text source: header, column names, delimiter.

    ``delimiter="whitespace"`` splits each line on runs of blanks (CDNOW files).
    """

    header: bool = True
    names: tuple[str, ...] = ()
    delimiter: str | None = None


@dataclass
class Source:
    """A source file: how DuckDB reads it and, once known, its columns and row count.

    Large files are streamed straight into the parsed staging table; the raw
    rows are only materialised (as ``_shopseg_src``) when a preset needs them
    (window functions over file order) or an error message needs raw values.
    """

    path: Path
    fmt: str
    relation: str = ""
    encoding: str = "utf-8"
    columns: dict[str, str] = field(default_factory=dict)
    row_offset: int = 1
    n_rows: int = 0
    rowid_base: int = 0
    materialized: bool = False
    delimiter: str | None = None

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def row_sql(self) -> str:
        """SQL for the 1-based row number in the file (rowids inside a transaction start high)."""
        return f"(rowid - {self.rowid_base} + {self.row_offset})"

    @property
    def from_sql(self) -> str:
        return SOURCE_TABLE if self.materialized else self.relation

    @property
    def rereadable(self) -> bool:
        """Whether statements may read the file again instead of a parsed copy: a Parquet file not materialised
        (cheap to read, numbered by ``file_row_number``, unless it has a column of that name)."""
        return self.fmt == "parquet" and not self.materialized and "file_row_number" not in self.columns

    @property
    def numbered_sql(self) -> str:
        """The :attr:`rereadable` file with its 0-based row numbers as ``file_row_number``."""
        return _parquet_relation(self.path, numbered=True)

    def materialize(self, con: duckdb.DuckDBPyConnection) -> None:
        """Copy the raw rows, in file order, into ``_shopseg_src``."""
        if self.materialized:
            return
        try:
            con.execute(f"CREATE OR REPLACE TEMP TABLE {SOURCE_TABLE} AS SELECT * FROM {self.relation}")
        except duckdb.Error as exc:
            raise read_error(self, exc) from exc
        self.materialized = True
        self.columns = {r[0]: r[1] for r in con.execute(f"DESCRIBE {SOURCE_TABLE}").fetchall()}
        row = con.execute(f"SELECT count(*), coalesce(min(rowid), 0) FROM {SOURCE_TABLE}").fetchone()
        self.n_rows, self.rowid_base = (int(row[0]), int(row[1])) if row else (0, 0)
        self.check_not_empty()

    def fill_down(self, con: duckdb.DuckDBPyConnection, key: str, only: list[str] | None) -> None:
        """Fill the empty cells of the materialised rows down by ``key`` (see :func:`fill_down`)."""
        self.materialize(con)
        fill_down(con, SOURCE_TABLE, list(self.columns), key, only, self.name)
        row = con.execute(f"SELECT coalesce(min(rowid), 0) FROM {SOURCE_TABLE}").fetchone()
        self.rowid_base = int(row[0]) if row else 0
        self.columns = {r[0]: r[1] for r in con.execute(f"DESCRIBE {SOURCE_TABLE}").fetchall()}

    def check_not_empty(self) -> None:
        if self.n_rows == 0:
            header = self.fmt == "csv" and self.row_offset == 2
            what = f"only a header {list(self.columns)}" if header else "no records"
            raise SchemaError(
                f"{self.name}: the file has {what} and no data rows. Expected at least one row.", table=self.name
            )


def infer_format(path: Path, fmt: str | None) -> str:
    """Return ``fmt`` checked, or the format implied by the file extension."""
    if fmt is not None:
        if fmt not in FORMATS:
            raise InvalidParameterError(
                f"The 'fmt' parameter of ingest must be one of {list(FORMATS)}. Got {fmt!r} instead."
                f"{did_you_mean(fmt, FORMATS)}"
            )
        return fmt
    suffixes = [s.lower() for s in path.suffixes if s.lower() not in (".gz", ".zst")]
    if suffixes and suffixes[-1] in _EXTENSIONS:
        return _EXTENSIONS[suffixes[-1]]
    raise InvalidParameterError(
        f"{path.name}: cannot tell the format from the extension '{path.suffix}'. "
        f"Expected one of {sorted(_EXTENSIONS)}. Hint: pass --format csv, parquet or jsonl."
    )


def check_path(path: Path) -> None:
    """Refuse a path that is not a readable, non-empty regular file, saying what it is instead.

    Raises
    ------
    SchemaError
        The path does not exist, is a directory, is not a regular file, cannot be opened, or is empty.
    """
    if path.is_dir():
        entries = sorted(p.name for p in path.iterdir() if not p.name.startswith("."))
        shown = ", ".join(entries[:5]) + (f", ... {len(entries) - 5} more" if len(entries) > 5 else "")
        holds = (
            f"it holds {len(entries)} entr{'y' if len(entries) == 1 else 'ies'} ({shown})" if entries else "it is empty"
        )
        hint = f" Hint: pass one file, e.g. {path.name}/{entries[0]}." if entries else ""
        raise SchemaError(
            f"{path.name}: is a directory, not a file; {holds}. Expected one data file.{hint}", table=path.name
        )
    if not path.exists():
        raise SchemaError(f"{path.name}: no such file ({path}).", table=path.name)
    if not path.is_file():
        raise SchemaError(
            f"{path.name}: is not a regular file (a device, socket or pipe). Expected one data file.", table=path.name
        )
    try:
        with open(path, "rb"):
            pass
    except OSError as exc:
        raise SchemaError(
            f"{path.name}: cannot be opened: {exc.strerror or exc}. Expected a readable file.", table=path.name
        ) from exc
    if os.path.getsize(path) == 0:
        raise SchemaError(
            f"{path.name}: the file is empty (0 bytes). Expected a header and data rows.", table=path.name
        )


def read_source(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    fmt: str,
    reader: Reader,
    *,
    encoding: str = "utf-8",
    materialize: bool = False,
) -> Source:
    """Describe ``path`` (columns and types) and, if asked, copy it into ``_shopseg_src``.

    Raises
    ------
    SchemaError
        The file is missing, empty, has no data rows, or is not in ``encoding``.
    """
    check_path(path)
    src = Source(path=path, fmt=fmt, encoding=encoding)
    if fmt == "parquet":
        src.relation = _parquet_relation(path)
    elif fmt == "jsonl":
        src.relation = f"read_json({literal(path)}, format='auto')"
    else:
        src.relation = csv_relation(src, reader)
    if materialize:
        src.materialize(con)
    else:
        try:
            src.columns = {r[0]: r[1] for r in con.execute(f"DESCRIBE SELECT * FROM {src.relation}").fetchall()}
        except duckdb.Error as exc:
            raise read_error(src, exc) from exc
    if fmt == "jsonl" and list(src.columns) == ["json"]:
        raise SchemaError(
            f"{path.name}: the JSON values are not objects (records with named fields). "
            'Expected one JSON object per line, like {"customer_id": "c1", "email": "a@example.com"}.',
            table=path.name,
        )
    return src


def _parquet_relation(path: Path, *, numbered: bool = False) -> str:
    return f"read_parquet({literal(path)}{', file_row_number = true' if numbered else ''})"


def fill_down(
    con: duckdb.DuckDBPyConnection, table: str, columns: list[str], key: str, only: list[str] | None, shown: str
) -> None:
    """Empty cells of ``only`` (default: every column but ``key``) take the first non-empty value of the
    rows with the same ``key`` up to theirs (file order kept): an order's continuation rows get its fields.

    Raises
    ------
    SchemaError
        ``key`` or a column of ``only`` is not in the file.
    """
    for name in [key] + list(only or ()):
        if name not in columns:
            what = "fill_down_by" if name == key else "fill_down"
            raise SchemaError(
                f"{shown}: {what} column '{name}' is not in the file; found {columns[:12]}"
                f"{' ...' if len(columns) > 12 else ''}.{did_you_mean(name, columns)}",
                table=shown,
                column=name,
            )
    filled = set(only) if only else {c for c in columns if c != key}

    def cell(c: str) -> str:
        text = f"nullif(trim(CAST({quote(c)} AS VARCHAR)), '')"
        return f"coalesce({text}, first_value({text} IGNORE NULLS) OVER w) AS {quote(c)}"

    cells = ", ".join(cell(c) if c in filled else quote(c) for c in columns)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {table}_filled AS SELECT {cells} FROM {table} "
        f"WINDOW w AS (PARTITION BY {quote(key)} ORDER BY rowid) ORDER BY rowid"
    )
    con.execute(f"DROP TABLE {table}")
    con.execute(f"ALTER TABLE {table}_filled RENAME TO {table}")


def check_field_counts(con: duckdb.DuckDBPyConnection, table: str, src: Source, fields: int) -> None:
    """Refuse lines of a whitespace-separated file (read into ``table``) without ``fields`` fields; blank
    lines pass (they are skipped and counted later)."""
    bad = f"_n_fields <> {fields} AND NOT (_n_fields = 1 AND coalesce(_f1, '') = '')"
    from shopseg.config import get_setting

    first = quote(next(r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()))
    got = con.execute(
        f"SELECT count(*) OVER (), r FROM (SELECT rowid - (SELECT min(rowid) FROM {table}) + {src.row_offset} AS r, "
        f"_n_fields, {first} AS _f1 FROM {table}) WHERE {bad} ORDER BY r LIMIT {int(get_setting('max_error_rows'))}"
    ).fetchall()
    if got:
        n, rows_ = int(got[0][0]), [int(r[1]) for r in got]
        shown = ", ".join(str(r) for r in rows_) + (", ..." if n > len(rows_) else "")
        raise SchemaError(
            f"{src.name}: wrong number of fields in {n:,} row{'s' if n > 1 else ''} (row{'s' if len(rows_) > 1 else ''} "
            f"{shown}). Expected {fields} whitespace-separated fields on every line.",
            table=src.name,
            rows=rows_,
        )
