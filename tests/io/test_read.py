"""Reading sources: formats, encodings, empty files, row numbers."""

from __future__ import annotations

from pathlib import Path

import pytest

from shopseg.errors import InvalidParameterError, SchemaError
from shopseg.io import ingest
from shopseg.io._read import infer_format


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("a.csv", "csv"),
        ("a.TSV", "csv"),
        ("a.txt", "csv"),
        ("a.parquet", "parquet"),
        ("a.jsonl", "jsonl"),
        ("a.ndjson", "jsonl"),
        ("a.json", "jsonl"),
    ],
)
def test_format_is_inferred_from_the_extension(name, fmt):
    assert infer_format(Path(name), None) == fmt


def test_unknown_extension_asks_for_format():
    with pytest.raises(InvalidParameterError, match=r"a.xlsx: cannot tell the format .* Hint: pass --format"):
        infer_format(Path("a.xlsx"), None)
    with pytest.raises(InvalidParameterError, match="Did you mean 'csv'"):
        infer_format(Path("a.csv"), "cvs")


def test_empty_file_is_refused(workspace, tmp_path):
    path = tmp_path / "customers.csv"
    path.write_bytes(b"")
    with pytest.raises(SchemaError, match=r"customers.csv: the file is empty \(0 bytes\)"):
        ingest(workspace, "customers", path)


def test_header_only_file_is_refused(workspace, tmp_path):
    path = tmp_path / "customers.csv"
    path.write_text("customer_id,email\n")
    with pytest.raises(
        SchemaError, match=r"customers.csv: the file has only a header \['customer_id', 'email'\] and no data rows"
    ):
        ingest(workspace, "customers", path)


def test_latin1_file_names_the_byte_and_suggests_the_encoding(workspace, tmp_path):
    path = tmp_path / "customers.csv"
    path.write_bytes("customer_id,city\n1,Paris\n2,Montr\xe9al\n".encode("latin-1"))
    with pytest.raises(
        SchemaError,
        match=r"customers.csv: the file is not valid utf-8 at byte 32 \(line 3\)\. "
        r".*--encoding latin-1",
    ) as err:
        ingest(workspace, "customers", path)
    assert err.value.rows == [3]
    report = ingest(workspace, "customers", path, encoding="latin-1")
    assert report.rows_kept == 2
    assert workspace.con.execute("SELECT city FROM customers WHERE customer_id = '2'").fetchone() == ("Montréal",)


def test_unsupported_encoding_is_a_parameter_error(workspace, tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("customer_id\n1\n")
    with pytest.raises(InvalidParameterError, match="'encoding' parameter"):
        ingest(workspace, "customers", path, encoding="klingon")


def test_tsv_and_semicolon_csv_are_read(workspace, tmp_path):
    tsv = tmp_path / "c.tsv"
    tsv.write_text("customer_id\temail\n1\ta@x.com\n")
    semi = tmp_path / "d.csv"
    semi.write_text("customer_id;email\n2;b@x.com\n3;c@x.com\n")
    assert ingest(workspace, "customers", tsv).rows_kept == 1
    assert ingest(workspace, "customers", semi).rows_kept == 2


def test_parquet_and_jsonl_sources(workspace, tmp_path):
    pq = tmp_path / "p.parquet"
    workspace.con.execute(
        f"COPY (SELECT 'p' || range AS product_id, 'Thing ' || range AS name, range * 1.5 AS price FROM range(1, 4)) "
        f"TO '{pq}' (FORMAT parquet)"
    )
    assert ingest(workspace, "products", pq).rows_kept == 3
    events = tmp_path / "e.jsonl"
    events.write_text(
        '{"event_id": "e1", "customer_id": 7, "type": "page_view", "occurred_at": "2024-01-01T10:00:00Z", '
        '"properties": {"path": "/sale"}}\n'
        '{"event_id": "e2", "anonymous_id": "a9", "type": "search", "occurred_at": "2024-01-01T10:05:00+02:00"}\n'
    )
    report = ingest(workspace, "events", events)
    assert report.rows_kept == 2
    got = workspace.con.execute(
        "SELECT event_id, customer_id, occurred_at::VARCHAR, properties FROM events ORDER BY 1"
    ).fetchall()
    assert got == [("e1", "7", "2024-01-01 10:00:00", '{"path":"/sale"}'), ("e2", None, "2024-01-01 08:05:00", None)]


@pytest.mark.parametrize(
    ("name", "stored"),
    [
        ("plain", "plain"),  # a column with nothing to trim is read without trim: same values
        ("  padded ", "padded"),
        ("\u00a0no-break\u3000", "no-break"),  # Unicode spaces, as in a spreadsheet export
        ("caf\u00e9", "caf\u00e9"),  # non-ASCII but nothing to strip
        ("\ttab", "\ttab"),  # trim strips spaces, not tabs: the same as a CSV file's cells
        ("   ", None),  # only spaces: empty, as in a CSV file
    ],
)
def test_parquet_text_is_trimmed_as_csv_text_is(workspace, tmp_path, name, stored):
    """A Parquet file's text columns skip ``trim`` when no value needs it (one pass finds out); the stored
    values are those a CSV file with the same cells gives."""
    pq = tmp_path / "p.parquet"
    workspace.con.execute(
        f"COPY (SELECT * FROM (VALUES ('p1', '{name}'), ('p2', 'clean')) AS t(product_id, name)) "
        f"TO '{pq}' (FORMAT parquet)"
    )
    ingest(workspace, "products", pq)
    got = workspace.con.execute("SELECT product_id, name FROM products ORDER BY 1").fetchall()
    assert got == [("p1", stored), ("p2", "clean")]


def test_row_numbers_count_the_header(workspace, tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("customer_id,birth_year\n1,1980\n2,1990\n3,nineteen\n")
    with pytest.raises(SchemaError, match=r"birth_year: cannot be parsed as int in 1 row \(row 4\); got 'nineteen'"):
        ingest(workspace, "customers", path)


def test_whitespace_file_with_a_short_line(workspace, tmp_path):
    path = tmp_path / "cd.txt"
    path.write_bytes(b" 00001 0001 19970101  1   11.77\r\n 00002 0002 19970102  2\r\n")
    with pytest.raises(SchemaError, match=r"cd.txt: wrong number of fields in 1 row \(row 2\)\. Expected 5 whitespace"):
        ingest(workspace, "orders", path, preset="cdnow_sample")


def test_utf8_bom_json_array_and_format_override(workspace, tmp_path):
    bom = tmp_path / "excel.csv"
    bom.write_bytes(b"\xef\xbb\xbfcustomer_id,email\n1,a@x.com\n")
    assert ingest(workspace, "customers", bom).rows_kept == 1
    array = tmp_path / "products.json"
    array.write_text('[{"product_id": "A", "name": "Mug", "price": 9.5}, {"product_id": "B", "price": "n/a"}]')
    with pytest.raises(SchemaError, match=r"price: cannot be parsed as double in 1 row \(row 2\); got 'n/a'"):
        ingest(workspace, "products", array)
    dat = tmp_path / "export.dat"
    dat.write_text("customer_id|email\n2|b@x.com\n")
    assert ingest(workspace, "customers", dat, fmt="csv").rows_kept == 1
    assert workspace.row_counts()["customers"] == 2
