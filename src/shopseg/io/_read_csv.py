"""How DuckDB reads a CSV file: the dialect read from the file's first line, spelled out for ``read_csv``.

:func:`csv_relation` builds the ``read_csv`` call for a text source (or the
line-splitting query of a whitespace-separated file); :func:`sniff_header`
reads the leading empty lines, the column names and the delimiter from the
start of the file, so DuckDB's sniffer never guesses.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import re
from typing import TYPE_CHECKING

from shopseg._sql import literal, quote
from shopseg.errors import InvalidParameterError, SchemaError
from shopseg.io._read_error import MAX_LINE_BYTES, encoding_error

if TYPE_CHECKING:
    from shopseg.io._read import Reader, Source

__all__ = ["csv_relation", "sniff_header"]


def csv_relation(src: Source, reader: Reader) -> str:
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
