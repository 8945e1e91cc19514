"""Row checks: one aggregate pass, drops vs marks, one error naming every failing check."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from shopseg.errors import SchemaError
from shopseg.io import ingest
from shopseg.io._read import Source
from shopseg.io.validate import STAGE_TABLE, Check, Staged, drop_predicate, run_checks


@pytest.fixture
def staged():
    con = duckdb.connect()
    con.execute(
        f"CREATE TEMP VIEW {STAGE_TABLE} AS SELECT * FROM (VALUES (2, NULL, 5.0), (3, 'c1', -1.0), (4, 'c2', 0.0), "
        "(5, 'c3', 9.0)) AS t(_row, customer_id, price)"
    )
    src = Source(path=Path("x.csv"), fmt="csv")
    yield con, Staged(source=src, present={"customer_id", "price"}, raw_select="", marks=[])
    con.close()


def test_drops_and_marks_are_counted_marks_only_on_kept_rows(staged):
    con, st = staged
    checks = [
        Check("missing customer_id (flagged, not kept)", "customer_id IS NULL", "drop"),
        Check("non-positive price (kept, marked)", "price <= 0", "mark"),
        Check("big price (kept, marked)", "price > 4", "mark"),
    ]
    counts = run_checks(con, st, checks)
    assert counts == {
        "missing customer_id (flagged, not kept)": 1,
        "non-positive price (kept, marked)": 2,
        "big price (kept, marked)": 1,  # row 2 has price 5 but is dropped
        "__flagged__": 4,
        "__kept__": 3,
    }


def test_every_failing_check_is_in_one_message(staged):
    con, st = staged
    checks = [
        Check("price: negative", "price < 0", "error", None, "a price >= 0"),
        Check("customer_id: value is missing", "customer_id IS NULL", "error", None, "a value in every row"),
        Check("never", "false", "error", None, "nothing"),
    ]
    with pytest.raises(SchemaError) as err:
        run_checks(con, st, checks)
    assert str(err.value) == (
        "x.csv: price: negative in 1 row (row 3). Expected a price >= 0. "
        "customer_id: value is missing in 1 row (row 2). Expected a value in every row."
    )
    assert err.value.rows == [2, 3] and err.value.table == "x.csv"


def test_drop_predicate_without_drops_keeps_everything():
    assert drop_predicate([Check("m", "true", "mark")]) == "false"
    assert (
        drop_predicate([Check("a", "x", "drop"), Check("b", "y", "drop")]) == "coalesce(x, false) OR coalesce(y, false)"
    )


# -- values that parse but cannot be stored or summed (issues 14, 15): each was an internal error ---------------------

HEADER = "order_id,customer_id,ordered_at,product_id,quantity,unit_price"


def _orders(tmp_path: Path, body: str, name: str = "orders.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + "\n" + body, encoding="utf-8")
    return path


def _message(ws, kind: str, path: Path) -> str:
    with pytest.raises(SchemaError) as err:
        ingest(ws, kind, path)
    return str(err.value)


def test_nan_and_infinite_prices_are_row_errors(workspace, tmp_path):
    path = _orders(tmp_path, "o1,c1,2024-01-01,p1,1,NaN\no2,c1,2024-01-02,p1,1,inf\no3,c1,2024-01-03,p1,1,-Infinity\n")
    assert _message(workspace, "orders", path) == (
        "orders.csv: unit_price: not a finite number in 3 rows (rows 2, 3, 4); got 'NaN', 'inf', '-Infinity'. "
        "Expected a finite number (not NaN or infinity)."
    )
    assert workspace.row_counts()["orders"] == 0


def test_nan_in_a_typed_parquet_column_is_a_row_error(workspace, tmp_path):
    path = tmp_path / "products.parquet"
    workspace.con.execute(
        f"COPY (SELECT * FROM (VALUES ('p1', 2.5), ('p2', 'nan'::DOUBLE)) AS t(product_id, price)) TO '{path}' (FORMAT parquet)"
    )
    assert _message(workspace, "products", path) == (
        "products.parquet: price: not a finite number in 1 row (row 2); got 'nan'. "
        "Expected a finite number (not NaN or infinity)."
    )


def test_whole_numbers_beyond_32_bits_are_row_errors(workspace, tmp_path):
    path = _orders(tmp_path, "o1,c1,2024-01-01,p1,2147483648,2\n")
    assert _message(workspace, "orders", path) == (
        "orders.csv: quantity: out of range in 1 row (row 2); got '2147483648'. "
        "Expected a whole number between -2,147,483,648 and 2,147,483,647."
    )
    customers = tmp_path / "customers.csv"
    customers.write_text("customer_id,birth_year\nc1,99999999999\n")
    assert _message(workspace, "customers", customers).startswith(
        "customers.csv: birth_year: out of range in 1 row (row 2); got '99999999999'."
    )


def test_absurd_money_is_refused_before_it_overflows_the_cents(workspace, tmp_path):
    path = _orders(tmp_path, "o1,c1,2024-01-01,p1,1,1e300\no2,c1,2024-01-02,p1,3000000,400000\n")
    assert _message(workspace, "orders", path) == (
        "orders.csv: unit_price: line value out of range in 2 rows (rows 2, 3); got '1e300', '400000'. "
        "Expected a line value (quantity × unit_price) and a unit_price under 1,000,000,000,000 in absolute value."
    )


def test_dates_outside_the_years_1_to_9999_are_row_errors(workspace, tmp_path):
    path = _orders(tmp_path, "o1,c1,-0044-03-15,p1,1,2\no2,c1,294247-01-01,p1,1,2\n")
    assert _message(workspace, "orders", path) == (
        "orders.csv: ordered_at: date out of range in 2 rows (rows 2, 3); got '-0044-03-15', '294247-01-01'. "
        "Expected a date between the years 1 and 9999."
    )


def test_long_values_are_cut_short_in_messages(workspace, tmp_path):
    path = _orders(tmp_path, f"o1,c1,{'9' * 5000},p1,1,2\n")
    message = _message(workspace, "orders", path)
    assert f"got '{'9' * 60}'... (5,000 characters). Expected an ISO 8601 date" in message
    assert len(message) < 600


def test_blank_rows_are_skipped_and_counted(workspace, tmp_path):
    """Excel saves the empty rows below a table as ',,,,,' (as many fields as the header): skip, count, go on."""
    path = _orders(tmp_path, "o1,c1,2024-01-01,p1,1,2\n,,,,,\no2,c1,2024-01-02,p1,1,3\n,,,,,\n , , ,,,\n")
    report = ingest(workspace, "orders", path)
    assert (report.rows_read, report.rows_kept, report.rows_flagged) == (5, 2, 3)
    assert report.reasons == {"blank row (every field empty, skipped)": 3}
    bad = _orders(tmp_path, "o1,c1,2024-01-01,p1,1,2\n,,,,,\no2,c1,2024-01-02,p1,x,3\n", name="bad.csv")
    with pytest.raises(SchemaError, match=r"bad.csv: quantity: cannot be parsed as int in 1 row \(row 4\); got 'x'"):
        ingest(workspace, "orders", bad)


def test_a_file_of_blank_rows_is_refused(workspace, tmp_path):
    path = _orders(tmp_path, ",,,,,\n,,,,,\n")
    assert _message(workspace, "orders", path) == (
        "orders.csv: all 2 data rows are blank (every field empty). Expected at least one row with values."
    )


def test_blank_rows_with_fewer_fields_than_the_header_are_named(workspace, tmp_path):
    path = _orders(tmp_path, "o1,c1,2024-01-01,p1,1,2\n,,,,\n")
    assert _message(workspace, "orders", path) == (
        "orders.csv: row 3 is blank but has 5 fields (',,,,') while the header has 6. Expected blank rows to have "
        "the header's 6 fields (they are then skipped), or no blank rows. Hint: delete the empty rows at the end of "
        "the sheet before saving it as CSV."
    )


def test_nul_bytes_in_text_are_row_errors(workspace, tmp_path):
    """A NUL in a category once loaded, then broke the feature build (a SQL literal cannot hold it)."""
    path = tmp_path / "products.csv"
    path.write_bytes(b"product_id,category\np1,Home\np2,H\x00ome\n")
    assert _message(workspace, "products", path) == (
        "products.csv: category: contains a NUL byte in 1 row (row 3); got 'H\\x00ome'. Expected text without NUL "
        "bytes (\\x00). Hint: a file with NUL bytes is often UTF-16 (--encoding utf-16) or not text at all."
    )


def _lines_parquet(con, path: Path, quantity: str) -> None:
    """120,000 order lines in twelve row groups, written as a platform export would: order ``o<i // 2>``
    has two lines, and order ``oX``'s two lines sit in the first and the last row group."""
    con.execute(
        f"""COPY (SELECT CASE WHEN i IN (9, 119998) THEN 'oX' ELSE 'o' || (i // 2) END AS order_id,
                         CASE WHEN i IN (9, 119998) THEN 'cX' ELSE 'c' || (i // 2 % 997) END AS customer_id,
                         TIMESTAMP '2024-01-01' + to_minutes(i) AS ordered_at,
                         CASE WHEN i = 119998 THEN 'app' ELSE 'web' END AS channel,
                         'p' || i AS product_id, {quantity} AS quantity, 2.5 AS unit_price
                  FROM range(120000) t(i) ORDER BY i)
            TO '{path}' (FORMAT parquet, ROW_GROUP_SIZE 10000)"""
    )


def test_parquet_rows_are_numbered_in_file_order_across_row_groups(workspace, tmp_path):
    """A Parquet file is checked and loaded straight from the file (no staged copy): error rows, the
    first row of an order and line numbers still follow the file's order, whichever thread reads a group."""
    path = tmp_path / "lines.parquet"
    _lines_parquet(workspace.con, path, "CASE WHEN i IN (12345, 119990) THEN -1 ELSE 1 END")
    assert _message(workspace, "orders", path).startswith(
        "lines.parquet: quantity: negative but not marked as a return in 2 rows (rows 12346, 119991); got '-1', '-1'."
    )
    assert workspace.row_counts()["order_lines"] == 0
    _lines_parquet(workspace.con, path, "1")
    assert ingest(workspace, "orders", path).rows_kept == 120_000
    lines = workspace.con.execute(
        "SELECT line_number, product_id FROM order_lines WHERE order_id = 'oX' ORDER BY line_number"
    ).fetchall()
    assert lines == [(1, "p9"), (2, "p119998")]
    first = workspace.con.execute("SELECT channel, ordered_at FROM orders WHERE order_id = 'oX'").fetchall()
    assert first == [("web", dt.datetime(2024, 1, 1, 0, 9))]
