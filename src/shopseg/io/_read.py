"""Read a source file into a DuckDB staging table, untouched.

The staging table ``_shopseg_src`` holds the source columns as read (CSV
columns as text, Parquet and JSON columns with their own types) in file order,
so ``rowid - first rowid + row_offset`` is the 1-based row number a user sees in an editor
(the header counts as row 1 of a CSV). Nothing is looped in Python.
"""

from __future__ import annotations

import codecs
import os
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from shopseg.errors import InvalidParameterError, SchemaError, did_you_mean

__all__ = ["SOURCE_TABLE", "Reader", "Source", "infer_format", "read_source", "read_error", "quote"]

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
    if not path.exists():
        raise SchemaError(f"{path.name}: no such file ({path}).", table=path.name)
    if os.path.getsize(path) == 0:
        raise SchemaError(f"{path.name}: the file is empty (0 bytes). Expected a header and data rows.", table=path.name)
    src = Source(path=path, fmt=fmt, encoding=encoding)
    if fmt == "parquet":
        src.relation = f"read_parquet({_lit(path)})"
    elif fmt == "jsonl":
        src.relation = f"read_json({_lit(path)}, format='auto')"
    else:
        src.relation = _csv_relation(path, reader, encoding)
        src.row_offset = 2 if reader.header else 1
    if materialize:
        src.materialize(con)
        return src
    try:
        src.columns = {r[0]: r[1] for r in con.execute(f"DESCRIBE SELECT * FROM {src.relation}").fetchall()}
    except duckdb.Error as exc:
        raise read_error(src, exc) from exc
    return src


def _lit(value: object) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _csv_relation(path: Path, reader: Reader, encoding: str) -> str:
    enc = _duckdb_encoding(encoding)
    if reader.delimiter == "whitespace":
        names = reader.names
        lines = (
            f"read_csv({_lit(path)}, columns={{'line': 'VARCHAR'}}, delim='\\x01', quote='', escape='', "
            f"header={str(reader.header).lower()}, encoding={_lit(enc)})"
        )
        fields = ", ".join(f"_f[{i + 1}] AS {quote(n)}" for i, n in enumerate(names))
        return (
            f"(SELECT {fields}, len(_f) AS _n_fields FROM "
            f"(SELECT string_split_regex(trim(line, ' \t\r'), '\\s+') AS _f FROM {lines}))"
        )
    opts = [f"all_varchar=true, header={str(reader.header).lower()}, encoding={_lit(enc)}"]
    if reader.delimiter is not None:
        opts.append(f"delim={_lit(reader.delimiter)}")
    elif path.suffix.lower() == ".tsv":
        opts.append("delim='\\t'")
    if reader.names:
        opts.append("names=[" + ", ".join(_lit(n) for n in reader.names) + "]")
    return f"read_csv({_lit(path)}, {', '.join(opts)})"


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


def read_error(source: Source, exc: Exception) -> SchemaError:
    """Turn a DuckDB reader error into a one-paragraph :class:`SchemaError`."""
    path, fmt, encoding = source.path, source.fmt, source.encoding
    text = str(exc)
    if "unicode" in text.lower() or "utf-8" in text.lower() or "encod" in text.lower():
        offset, line = _first_bad_byte(path, encoding)
        where = f" at byte {offset:,} (line {line:,})" if offset is not None else ""
        return SchemaError(
            f"{path.name}: the file is not valid {encoding}{where}. Expected UTF-8 text. "
            "Hint: if it was saved by Excel or an older system it is probably latin-1; "
            "ingest it with --encoding latin-1 (encoding='latin-1'), or convert it with "
            f"`iconv -f latin1 -t utf-8 {path.name}`.",
            table=path.name,
            rows=[line] if line is not None else [],
        )
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return SchemaError(
        f"{path.name}: cannot be read as {fmt}: {first}. Hint: check the format (--format) "
        "and that every row has the same number of fields.",
        table=path.name,
    )


def _first_bad_byte(path: Path, encoding: str, chunk: int = 1 << 20) -> tuple[int | None, int | None]:
    """Byte offset and 1-based line of the first byte ``encoding`` cannot decode."""
    decoder = codecs.getincrementaldecoder(encoding)()
    offset, lines = 0, 1
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            try:
                decoder.decode(block)
            except UnicodeDecodeError as err:
                head = block[: err.start]
                return offset + err.start, lines + head.count(b"\n")
            offset += len(block)
            lines += block.count(b"\n")
    return None, None
