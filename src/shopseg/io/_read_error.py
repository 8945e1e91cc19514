"""Turn a DuckDB reader error into a one-paragraph :class:`SchemaError` naming the file, the row and the cause.

DuckDB's messages echo the query (``LINE 1: SELECT * FROM read_csv(...)``), the
reader options and absolute paths; only its own first paragraph is read here,
and the message a user sees names the file, the row (line) and what to do.
Only called on the error path: the scans of the file below never run on a
file that loads.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import re
from pathlib import Path
from typing import TYPE_CHECKING

from shopseg.errors import SchemaError

if TYPE_CHECKING:
    from shopseg.io._read import Source

__all__ = ["read_error", "encoding_error", "MAX_LINE_BYTES"]

#: DuckDB's ``max_line_size``: the longest row (line) a CSV file may have, in bytes.
MAX_LINE_BYTES = 2_000_000


def read_error(source: Source, exc: Exception) -> SchemaError:
    """The :class:`SchemaError` for a DuckDB error raised while reading ``source``."""
    own = _own_text(str(exc))
    line = _int(r"CSV Error on Line: (\d+)", own)
    if "invalid unicode" in own.lower() or "not utf-8 encoded" in own.lower():
        return encoding_error(source)
    for build in (_field_count, _line_size, _quote, _state, _json, _parquet, _gzip):
        err = build(source, own, line)
        if err is not None:
            return err
    first = _strip_paths(own.splitlines()[0] if own else type(exc).__name__, source.path)
    first = re.sub(r"^(Invalid Input|IO|Conversion|Parser) Error: ", "", first).rstrip(". ")
    return SchemaError(
        f"{source.name}: cannot be read as {source.fmt}" + (f" (line {line})" if line else "") + f": {first}. "
        "Hint: check the format (--format csv, parquet or jsonl).",
        table=source.name,
        rows=[line] if line else [],
    )


def encoding_error(source: Source) -> SchemaError:
    """The file is not in ``source.encoding``: name the first bad byte and its line."""
    path, encoding = source.path, source.encoding
    with open(path, "rb") as fh:
        head = fh.read(4)
    binary = {
        b"PAR1": ("a Parquet file", "pass --format parquet or rename it .parquet"),
        b"\x1f\x8b": ("gzip-compressed", "name it with .gz at the end (orders.csv.gz)"),
        b"PK\x03\x04": ("a zip archive (an Excel .xlsx file is one)", "save the sheet as CSV (UTF-8)"),
    }
    gz = path.suffix.lower() == ".gz"
    for magic, (what, fix) in binary.items():
        if head.startswith(magic) and not (gz and magic == b"\x1f\x8b"):
            return SchemaError(
                f"{path.name}: the file is {what}. Expected {source.fmt.upper()} text. Hint: {fix}.", table=path.name
            )
    head = head[:2]
    if head in (b"\xff\xfe", b"\xfe\xff") and encoding.replace("-", "").lower() != "utf16":
        return SchemaError(
            f"{path.name}: the file starts with a UTF-16 byte-order mark ({head.hex(' ').upper()}) but is read as "
            f"{encoding}. Expected UTF-8 text. Hint: if it is UTF-16 text, ingest it with --encoding utf-16 "
            "(encoding='utf-16'); otherwise remove those two bytes.",
            table=path.name,
            rows=[1],
        )
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


def _own_text(text: str) -> str:
    """DuckDB's own description: without the echoed query, the reader options and the 'Possible fixes' list."""
    for marker in ("\nLINE ", "\n  file =", "\nPossible fix", "\nPossible Solution", "\n\nPossible"):
        head, sep, _ = text.partition(marker)
        if sep:
            text = head
    return text.strip()


def _int(pattern: str, text: str) -> int | None:
    m = re.search(pattern, text)
    return int(m.group(1)) if m else None


def _strip_paths(text: str, path: Path) -> str:
    """Replace the absolute path of the file (in any quoting) by its name."""
    for form in {str(path), str(path.resolve())}:
        text = text.replace(form, path.name)
    return re.sub(r"(/[^\s'\"/]+)+/([^\s'\"/]+)", r"\2", text)


def _original_line(own: str) -> str:
    """The offending line DuckDB quotes after 'Original Line:' (it may start on the next line)."""
    m = re.search(r"Original Line: ?\r?\n?(.*?)\r?\n(?=\r?\n|Expected |Maximum |Value |Invalid )", own + "\n\n", re.S)
    return m.group(1) if m else ""


def _header(source: Source) -> list[str]:
    return [c for c in source.columns if c != "_n_fields"]


def _field_count(source: Source, own: str, line: int | None) -> SchemaError | None:
    m = re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", own)
    if not m:
        return None
    expected, found = int(m.group(1)), int(m.group(2))
    more = "more" if found > expected else "fewer"
    original = _original_line(own)
    if original and not original.replace(source.delimiter or ",", "").strip():
        return SchemaError(
            f"{source.name}: row {line} is blank but has {_fields(found)} ({original.strip()!r}) while the header has "
            f"{expected}. Expected blank rows to have the header's {expected} fields (they are then skipped), or no "
            "blank rows. Hint: delete the empty rows at the end of the sheet before saving it as CSV.",
            table=source.name,
            rows=[line] if line else [],
        )
    return SchemaError(
        f"{source.name}: row {line} has {_fields(found)} but the header has {expected} "
        f"({_shown(_header(source))}). Expected {expected} fields on every row. Hint: a value that contains the "
        f"delimiter {source.delimiter!r} must be quoted; a row with {more} fields is often a cut or joined line.",
        table=source.name,
        rows=[line] if line else [],
    )


def _fields(n: int) -> str:
    return f"{n} field" if n == 1 else f"{n} fields"


def _line_size(source: Source, own: str, line: int | None) -> SchemaError | None:
    m = re.search(r"Maximum line size of (\d+) bytes exceeded\. Actual Size:\s*(\d+)", own)
    if not m:
        return None
    size = int(m.group(2))
    column = _widest_field(source, line) if line else None
    where = f", column '{column[0]}'" if column else ""
    field = (
        f"the field is too large ({column[1]:,} bytes; the row is {size:,})"
        if column
        else (f"the row is too large ({size:,} bytes)")
    )
    return SchemaError(
        f"{source.name}: row {line}{where}: {field}. Expected at most {MAX_LINE_BYTES:,} bytes (2 MB) per row; "
        "a value this large is not customer data. Hint: remove or shorten that value, or look for a quote "
        "that is never closed.",
        table=source.name,
        column=column[0] if column else None,
        rows=[line] if line else [],
    )


def _widest_field(source: Source, line: int) -> tuple[str, int] | None:
    """The column name and byte size of the largest field on physical ``line`` of the file (error path only)."""
    if source.path.suffix.lower() in (".gz", ".zst"):
        return None
    with open(source.path, "rb") as fh:
        for i, raw in enumerate(fh, start=1):  # noqa: B007 (raw is the line after the loop)
            if i == line:
                break
        else:
            return None
    text = raw.decode(source.encoding, "replace").rstrip("\r\n")
    try:
        fields = next(csv.reader([text], delimiter=source.delimiter or ","), [])
    except csv.Error:
        fields = text.split(source.delimiter or ",")
    if not fields:
        return None
    i = max(range(len(fields)), key=lambda k: len(fields[k]))
    header = _header(source)
    name = header[i] if i < len(header) else f"field {i + 1}"
    return name, len(fields[i].encode(source.encoding, "replace"))


def _quote(source: Source, own: str, line: int | None) -> SchemaError | None:
    if "unterminated quote" not in own.lower():
        return None
    # DuckDB says "unterminated quote" for a line ending unlike the others after a quoted value too
    compressed = source.path.suffix.lower() in (".gz", ".zst")
    odd = _odd_line_ending(source.path, stop=line) if line and not compressed else None
    if odd:
        return _state(source, "state machine reached an invalid state", line)
    original = _original_line(own)
    if original and original.count('"') % 2 == 0:  # and for `"a"b`
        return SchemaError(
            f'{source.name}: row {line} has a quoted value with text after its closing quote (like "a"b or "a"  ). '
            "Expected the closing quote to end the value, right before the delimiter or the line end. "
            "Hint: quote the whole value, and double the quotes inside it.",
            table=source.name,
            rows=[line] if line else [],
        )
    return SchemaError(
        f'{source.name}: row {line} has a quote (") that is never closed, so the rest of the file would be one value. '
        'Expected a quoted value to end with a quote; a quote inside a quoted value is written twice (""). '
        "Hint: check that row for a stray quote.",
        table=source.name,
        rows=[line] if line else [],
    )


def _state(source: Source, own: str, line: int | None) -> SchemaError | None:
    if "state machine reached an invalid state" not in own:
        return None
    odd = _odd_line_ending(source.path) if source.path.suffix.lower() not in (".gz", ".zst") else None
    if odd is None:
        cause = "the file is not RFC 4180 CSV"
    else:
        cause = f"line {odd[0]} ends with {odd[1]} while line 1 ends with {odd[2]}"
    return SchemaError(
        f"{source.name}: cannot be read as CSV: {cause}. Expected one line ending throughout the file. "
        "Hint: re-save it as CSV (UTF-8), or convert the line endings (dos2unix).",
        table=source.name,
        rows=[odd[0]] if odd else [],
    )


_ENDINGS = {b"\r\n": "\\r\\n", b"\n": "\\n", b"\r": "\\r"}


def _odd_line_ending(path: Path, chunk: int = 1 << 20, stop: int | None = None) -> tuple[int, str, str] | None:
    """(1-based line, its ending, line 1's ending) of the first line ending unlike line 1's, outside quotes,
    looking no further than line ``stop``."""
    first: bytes | None = None
    line, carry, quoted = 1, b"", False
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            data, carry = carry + block, b""
            if data.endswith(b"\r"):  # a CR at the end may be half of a CRLF
                data, carry = data[:-1], b"\r"
            for m in re.finditer(rb'"|\r\n|\n|\r', data):
                if m.group() == b'"':
                    quoted = not quoted
                    continue
                if quoted:
                    continue
                if first is None:
                    first = m.group()
                elif m.group() != first:
                    return line, _ENDINGS[m.group()], _ENDINGS[first]
                line += 1
                if stop is not None and line > stop:
                    return None
    return None


def _json(source: Source, own: str, line: int | None) -> SchemaError | None:
    m = re.search(r"Malformed JSON .*?(?:line|record/value) (\d+): (.*)", own)
    if not m:
        return None
    row = int(m.group(1))
    cause = m.group(2).strip().rstrip(".")
    return SchemaError(
        f"{source.name}: line {row} is not valid JSON ({cause}). "
        "Expected one JSON object per line (JSON lines), or a JSON array of objects.",
        table=source.name,
        rows=[row],
    )


def _parquet(source: Source, own: str, line: int | None) -> SchemaError | None:
    if source.fmt != "parquet":
        return None
    if "No magic bytes" in own or "not a parquet file" in own.lower() or "too small to be a Parquet file" in own:
        cause = "is not a Parquet file (it lacks the 'PAR1' marker Parquet files start and end with)"
    elif "Footer length" in own or "footer" in own.lower() or "Couldn't deserialize thrift" in own:
        cause = "is a damaged or truncated Parquet file (its footer cannot be read)"
    else:
        return None
    return SchemaError(
        f"{source.name}: {cause}. Expected a complete Parquet file. "
        "Hint: if it is really CSV or JSON lines, rename it or pass --format csv or --format jsonl.",
        table=source.name,
    )


def _gzip(source: Source, own: str, line: int | None) -> SchemaError | None:
    if "GZIP" not in own.upper() and "gzip" not in own:
        return None
    return SchemaError(
        f"{source.name}: is not a complete gzip file although its name ends in .gz ({_strip_paths(own, source.path)}). "
        "Expected gzip-compressed text. Hint: rename it without .gz if it is not compressed.",
        table=source.name,
    )


def _shown(cols: list[str], limit: int = 12) -> str:
    if len(cols) <= limit:
        return ", ".join(cols)
    return ", ".join(cols[:limit]) + f", ... {len(cols) - limit} more"


def _first_bad_byte(path: Path, encoding: str, chunk: int = 1 << 20) -> tuple[int | None, int | None]:
    """Byte offset and 1-based line of the first byte ``encoding`` cannot decode."""
    decoder = codecs.getincrementaldecoder(encoding)()
    offset, lines = 0, 1
    opener = gzip.open if path.suffix.lower() == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            while block := fh.read(chunk):
                try:
                    decoder.decode(block)
                except UnicodeDecodeError as err:
                    head = block[: err.start]
                    return offset + err.start, lines + head.count(b"\n")
                offset += len(block)
                lines += block.count(b"\n")
    except (OSError, EOFError):  # a damaged gzip stream: the message then names no byte
        return None, None
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return offset, lines
    return None, None
