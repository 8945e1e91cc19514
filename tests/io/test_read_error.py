"""Files that cannot be read: each refusal names the file, the row (or the cause) and the fix (issues 14, 15).

Every case here was an internal error, a wrong cause or a silent loss before; the messages are pinned whole.
"""

from __future__ import annotations

import gzip
import re

import pytest

from shopseg.errors import SchemaError
from shopseg.io import ingest

HEADER = "order_id,customer_id,ordered_at,product_id,quantity,unit_price"
HEADER_LIST = "order_id, customer_id, ordered_at, product_id, quantity, unit_price"
ROW = "o1,c1,2024-01-01,p1,1,2"


def _refused(ws, tmp_path, name: str, data: bytes | str, kind: str = "orders") -> SchemaError:
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    with pytest.raises(SchemaError) as err:
        ingest(ws, kind, path)
    return err.value


def test_a_directory_is_named_with_what_it_holds(workspace, tmp_path):
    folder = tmp_path / "some_dir"
    folder.mkdir()
    with pytest.raises(SchemaError) as err:
        ingest(workspace, "orders", folder)
    assert str(err.value) == "some_dir: is a directory, not a file; it is empty. Expected one data file."
    for name in ("b.csv", "a.csv", ".hidden"):
        (folder / name).write_text(HEADER + "\n" + ROW + "\n")
    with pytest.raises(SchemaError) as err:
        ingest(workspace, "orders", folder)
    assert str(err.value) == (
        "some_dir: is a directory, not a file; it holds 2 entries (a.csv, b.csv). Expected one data file. "
        "Hint: pass one file, e.g. some_dir/a.csv."
    )
    named_like_a_file = tmp_path / "orders.csv"
    named_like_a_file.mkdir()
    with pytest.raises(SchemaError, match=r"^orders.csv: is a directory, not a file; it is empty"):
        ingest(workspace, "orders", named_like_a_file)


def test_a_ragged_row_names_the_row_and_its_field_count(workspace, tmp_path):
    err = _refused(workspace, tmp_path, "orders.csv", f"{HEADER}\n{ROW}\no2,c1,2024-01-02,p1,1\n")
    assert str(err) == (
        f"orders.csv: row 3 has 5 fields but the header has 6 ({HEADER_LIST}). Expected 6 fields on every row. "
        "Hint: a value that contains the delimiter ',' must be quoted; a row with fewer fields is often a cut or "
        "joined line."
    )
    assert err.rows == [3]


def test_a_short_and_a_long_row_are_refused_not_silently_dropped(workspace, tmp_path):
    """DuckDB's sniffer read this file as a header and no rows (then 'only a header')."""
    err = _refused(
        workspace, tmp_path, "orders.csv", f"{HEADER}\n{ROW}\no2,c1,2024-01-02,p1,1\no3,c1,2024-01-01,p1,1,2,7\n"
    )
    assert str(err).startswith("orders.csv: row 3 has 5 fields but the header has 6")


def test_a_ragged_row_in_a_semicolon_file_with_a_bom(workspace, tmp_path):
    """The BOM was once blamed: 'the file is not valid utf-8' (the word 'encoding' in DuckDB's echoed query)."""
    data = "\ufeff" + HEADER.replace(",", ";") + "\no1;c1;2024-01-01;p1;1;2;x\n"
    err = _refused(workspace, tmp_path, "orders.csv", data.encode("utf-8"))
    assert str(err).startswith("orders.csv: row 2 has 7 fields but the header has 6")
    assert "delimiter ';'" in str(err)


def test_a_field_over_2_mb_names_row_column_and_limit(workspace, tmp_path):
    huge = "x" * 3_000_000
    err = _refused(workspace, tmp_path, "orders.csv", f"{HEADER}\n{ROW}\no2,c1,2024-01-02,{huge},1,2\n")
    assert str(err) == (
        "orders.csv: row 3, column 'product_id': the field is too large (3,000,000 bytes; the row is 3,000,021). "
        "Expected at most 2,000,000 bytes (2 MB) per row; a value this large is not customer data. "
        "Hint: remove or shorten that value, or look for a quote that is never closed."
    )
    assert (err.column, err.rows) == ("product_id", [3])


def test_a_quote_that_is_never_closed(workspace, tmp_path):
    err = _refused(workspace, tmp_path, "orders.csv", f'{HEADER}\n{ROW}\no2,"c1,2024-01-02,p1,1,3\n{ROW}\n')
    assert str(err) == (
        'orders.csv: row 3 has a quote (") that is never closed, so the rest of the file would be one value. '
        'Expected a quoted value to end with a quote; a quote inside a quoted value is written twice (""). '
        "Hint: check that row for a stray quote."
    )


def test_text_after_a_closing_quote(workspace, tmp_path):
    """DuckDB reports both as an unterminated quote; the fuzzer found the second (a CRLF file, a last line ending in LF)."""
    err = _refused(workspace, tmp_path, "orders.csv", f'{HEADER}\n{ROW}\no2,"c1"x,2024-01-02,p1,1,3\n')
    assert str(err) == (
        'orders.csv: row 3 has a quoted value with text after its closing quote (like "a"b or "a"  ). Expected '
        "the closing quote to end the value, right before the delimiter or the line end. Hint: quote the whole "
        "value, and double the quotes inside it."
    )
    err = _refused(workspace, tmp_path, "orders.csv", f'{HEADER}\r\n{ROW}\r\no2,c1,2024-01-02,p1,1,"3"   \n')
    assert str(err).startswith("orders.csv: cannot be read as CSV: line 3 ends with \\n while line 1 ends with \\r\\n.")


def test_mixed_line_endings_name_the_line(workspace, tmp_path):
    err = _refused(workspace, tmp_path, "orders.csv", f"{HEADER}\r\n{ROW}\r\no2,c1,2024-01-02,p1,1,3\n{ROW}\r\n")
    assert str(err) == (
        "orders.csv: cannot be read as CSV: line 3 ends with \\n while line 1 ends with \\r\\n. Expected one line "
        "ending throughout the file. Hint: re-save it as CSV (UTF-8), or convert the line endings (dos2unix)."
    )


def test_a_header_ending_in_cr_before_a_quoted_value_is_a_line_ending_error(workspace, tmp_path):
    """DuckDB calls this an unterminated quote on row 2 (found by the fuzzer: one \\n of a file made \\r)."""
    rows = "".join(f'e{i},a1,view,2024-01-01,"{{""p"": {i}}}"\n' for i in range(3))
    text = "event_id,anonymous_id,type,occurred_at,properties\r" + rows
    err = _refused(workspace, tmp_path, "events.csv", text, kind="events")
    assert str(err) == (
        "events.csv: cannot be read as CSV: line 2 ends with \\n while line 1 ends with \\r. Expected one line "
        "ending throughout the file. Hint: re-save it as CSV (UTF-8), or convert the line endings (dos2unix)."
    )
    assert err.rows == [2]


def test_a_utf16_byte_order_mark_on_utf8_text(workspace, tmp_path):
    err = _refused(workspace, tmp_path, "orders.csv", b"\xff\xfe" + f"{HEADER}\n{ROW}\n".encode())
    assert str(err) == (
        "orders.csv: the file starts with a UTF-16 byte-order mark (FF FE) but is read as utf-8. Expected UTF-8 "
        "text. Hint: if it is UTF-16 text, ingest it with --encoding utf-16 (encoding='utf-16'); otherwise remove "
        "those two bytes."
    )


def test_a_blank_first_line_and_a_file_of_line_breaks(workspace, tmp_path):
    err = _refused(workspace, tmp_path, "orders.csv", f"\n   \n{HEADER}\n{ROW}\n")
    assert str(err) == (
        "orders.csv: the header row (line 2) is blank. Expected the column names on the first line, then the data rows."
    )
    err = _refused(workspace, tmp_path, "blank.csv", "\n\r\n\n")
    assert str(err) == (
        "blank.csv: the file holds only line breaks. Expected the column names on the first line, then the data rows."
    )


def test_empty_lines_before_the_header_are_skipped_and_rows_counted_after_them(workspace, tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text(f"\n\n{HEADER}\n{ROW}\no2,c1,2024-01-02,p1,x,3\n")
    with pytest.raises(SchemaError, match=r"quantity: cannot be parsed as int in 1 row \(row 5\); got 'x'"):
        ingest(workspace, "orders", path)


@pytest.mark.parametrize(
    ("data", "cause"),
    [
        (
            f"{HEADER}\n{ROW}\n".encode(),
            "is not a Parquet file (it lacks the 'PAR1' marker Parquet files start and end with)",
        ),
        (b"PAR1" + b"\0" * 64 + b"PAR1", "is a damaged or truncated Parquet file (its footer cannot be read)"),
    ],
    ids=["csv-text", "markers-without-footer"],
)
def test_a_parquet_file_that_is_not_parquet(workspace, tmp_path, data, cause):
    err = _refused(workspace, tmp_path, "orders.parquet", data)
    assert str(err) == (
        f"orders.parquet: {cause}. Expected a complete Parquet file. "
        "Hint: if it is really CSV or JSON lines, rename it or pass --format csv or --format jsonl."
    )
    assert str(tmp_path) not in str(err)


def test_a_gz_file_that_is_not_gzip(workspace, tmp_path):
    err = _refused(workspace, tmp_path, "orders.csv.gz", f"{HEADER}\n{ROW}\n")
    assert str(err).startswith("orders.csv.gz: is not a complete gzip file although its name ends in .gz")
    path = tmp_path / "good.csv.gz"
    path.write_bytes(gzip.compress(f"{HEADER}\n{ROW}\n".encode()))
    assert ingest(workspace, "orders", path).rows_kept == 1


def test_json_lines_that_are_not_objects_or_not_json(workspace, tmp_path):
    err = _refused(workspace, tmp_path, "events.jsonl", "[1, 2, 3]\n", kind="events")
    assert str(err) == (
        "events.jsonl: the JSON values are not objects (records with named fields). Expected one JSON object per "
        'line, like {"customer_id": "c1", "email": "a@example.com"}.'
    )
    err = _refused(workspace, tmp_path, "events.jsonl", '{"event_id": "e1"}\n{"event_id": \n', kind="events")
    assert re.fullmatch(
        r"events.jsonl: line 3 is not valid JSON \(unexpected end of data\)\. Expected one JSON object per line "
        r"\(JSON lines\), or a JSON array of objects\.",
        str(err),
    ), str(err)


@pytest.mark.parametrize(
    ("head", "message"),
    [
        (
            b"PAR1\x15\x04",
            "the file is a Parquet file. Expected CSV text. Hint: pass --format parquet or rename it .parquet.",
        ),
        (
            gzip.compress(b"a,b\n1,2\n"),
            "the file is gzip-compressed. Expected CSV text. Hint: name it with .gz at the end (orders.csv.gz).",
        ),
        (
            b"PK\x03\x04\x14\x00\xff\xfe",
            "the file is a zip archive (an Excel .xlsx file is one). Expected CSV text. "
            "Hint: save the sheet as CSV (UTF-8).",
        ),
    ],
    ids=["parquet", "gzip", "xlsx"],
)
def test_a_binary_file_named_csv_says_what_it_is(workspace, tmp_path, head, message):
    """These were reported as 'not valid utf-8', suggesting --encoding latin-1."""
    err = _refused(workspace, tmp_path, "orders.csv", head + bytes(range(128, 256)))
    assert str(err) == "orders.csv: " + message
