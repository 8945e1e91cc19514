"""Read a source file into a DuckDB staging table, untouched.

The staging table ``_shopseg_src`` holds the source columns as read (CSV
columns as text, Parquet and JSON columns with their own types) in file order,
so ``rowid - first rowid + row_offset`` is the 1-based row number a user sees in an editor
(the header counts as row 1 of a CSV). Nothing is looped in Python.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from shopseg.errors import InvalidParameterError, SchemaError, did_you_mean
from shopseg.io._read_error import MAX_LINE_BYTES, encoding_error, read_error

__all__ = [
    "literal",
    "SOURCE_TABLE",
    "Reader",
    "Source",
    "check_path",
    "infer_format",
    "read_source",
    "read_error",
    "quote",
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


def quote(name: str) -> str:
    """Quote a column name for DuckDB SQL."""
    return '"' + name.replace('"', '""') + '"'


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
        src.relation = f"read_parquet({literal(path)})"
    elif fmt == "jsonl":
        src.relation = f"read_json({literal(path)}, format='auto')"
    else:
        src.relation = _csv_relation(src, reader)
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


def literal(value: object) -> str:
    """``value`` as a quoted SQL string literal."""
    return "'" + str(value).replace("'", "''") + "'"


def _csv_relation(src: Source, reader: Reader) -> str:
    """``read_csv`` with the dialect spelled out: the header row and delimiter are read here, so DuckDB's
    sniffer never guesses (it takes a file with one ragged row for a one-column file, or drops rows)."""
    path, enc = src.path, _duckdb_encoding(src.encoding)
    if reader.delimiter == "whitespace":
        names = reader.names
        src.row_offset = 2 if reader.header else 1
        lines = (
            f"read_csv({literal(path)}, columns={{'line': 'VARCHAR'}}, delim='\\x01', quote='', escape='', "
            f"header={str(reader.header).lower()}, encoding={literal(enc)})"
        )
        fields = ", ".join(f"_f[{i + 1}] AS {quote(n)}" for i, n in enumerate(names))
        return (
            f"(SELECT {fields}, len(_f) AS _n_fields FROM "
            f"(SELECT string_split_regex(trim(line, ' \t\r'), '\\s+') AS _f FROM {lines}))"
        )
    delimiter = reader.delimiter or ("\t" if path.suffix.lower() == ".tsv" else None)
    if path.suffix.lower() == ".zst":  # no zstd reader in the standard library: let DuckDB detect the dialect
        src.row_offset = 2 if reader.header else 1
        delim = f", delim={literal(delimiter)}" if delimiter else ""
        return f"read_csv({literal(path)}, all_varchar=true, header={str(reader.header).lower()}, encoding={literal(enc)}{delim})"
    skip, header, delimiter = sniff_header(src, delimiter)
    columns_named: list[str] = list(reader.names) or header
    src.delimiter = delimiter
    src.row_offset = skip + (2 if reader.header else 1)
    columns = ", ".join(f"{literal(n)}: 'VARCHAR'" for n in columns_named)
    return (
        f"read_csv({literal(path)}, auto_detect=false, header={str(reader.header).lower()}, skip={skip}, "
        f"delim={literal(delimiter)}, quote='\"', escape='\"', columns={{{columns}}}, encoding={literal(enc)}, "
        f"max_line_size={MAX_LINE_BYTES})"
    )


_DELIMITERS = (",", "\t", ";", "|")


def sniff_header(src: Source, delimiter: str | None) -> tuple[int, list[str], str]:
    """(leading empty lines, column names, delimiter) from the first line of a CSV file.

    The delimiter, unless given, is the most frequent of ``, tab ; |`` outside quotes
    (a comma when there is none: a one-column file). Names are made unique as DuckDB
    does (``a``, ``a_1``; an empty name becomes ``column<i>``).
    """
    text = _head_text(src)
    body = text.lstrip("\r\n")
    skip = len(re.findall(r"\r\n|\n|\r", text[: len(text) - len(body)]))
    first = re.split(r"\r\n|\n|\r", body, maxsplit=1)[0]
    if not first.strip():
        what = f"the header row (line {skip + 1}) is blank" if first else "the file holds only line breaks"
        raise SchemaError(
            f"{src.name}: {what}. Expected the column names on the first line, then the data rows.",
            table=src.name,
            rows=[skip + 1] if first else [],
        )
    if delimiter is None:
        bare = re.sub(r'"[^"]*"', "", first)
        counts = {d: bare.count(d) for d in _DELIMITERS}
        delimiter = max(_DELIMITERS, key=lambda d: counts[d]) if any(counts.values()) else ","
    try:
        row = next(csv.reader(io.StringIO(body, newline=""), delimiter=delimiter, quotechar='"'), [])
    except csv.Error:
        row = first.split(delimiter)
    return skip, _unique([n.replace("\x00", "") for n in row]), delimiter


def _unique(names: list[str]) -> list[str]:
    out: list[str] = []
    for i, name in enumerate(names):
        base = name or f"column{i}"
        cand, k = base, 0
        while cand in out:
            k += 1
            cand = f"{base}_{k}"
        out.append(cand)
    return out


def _head_text(src: Source, chunk: int = 1 << 16) -> str:
    """The start of the file, decoded, up to the end of its first non-empty line (at most the row size limit)."""
    codec = {"utf-8": "utf-8-sig", "latin-1": "latin-1", "utf-16": "utf-16"}[_duckdb_encoding(src.encoding)]
    decoder = codecs.getincrementaldecoder(codec)()
    opener = gzip.open if src.path.suffix.lower() == ".gz" else open
    text, read = "", 0
    try:
        with opener(src.path, "rb") as fh:
            while read <= MAX_LINE_BYTES and (block := fh.read(chunk)):
                read += len(block)
                text += decoder.decode(block)
                if re.search(r"[^\r\n][\r\n]", text):
                    break
    except UnicodeDecodeError as exc:
        raise encoding_error(src) from exc
    except (OSError, EOFError) as exc:  # gzip.BadGzipFile is an OSError
        raise SchemaError(
            f"{src.name}: is not a complete gzip file although its name ends in .gz ({exc}). "
            "Expected gzip-compressed text. Hint: rename it without .gz if it is not compressed.",
            table=src.name,
        ) from exc
    return text


def _duckdb_encoding(encoding: str) -> str:
    try:
        name = codecs.lookup(encoding).name
    except LookupError as exc:
        raise InvalidParameterError(
            f"The 'encoding' parameter of ingest must be a known encoding such as 'utf-8' or 'latin-1'. "
            f"Got {encoding!r} instead."
        ) from exc
    table = {"utf-8": "utf-8", "iso8859-1": "latin-1", "latin-1": "latin-1", "utf-16": "utf-16"}
    if name not in table:
        raise InvalidParameterError(
            f"The 'encoding' parameter of ingest must be one of ['utf-8', 'latin-1', 'utf-16'] for CSV files. "
            f"Got {encoding!r} instead. Hint: convert the file with `iconv -f {encoding} -t utf-8`."
        )
    return table[name]
