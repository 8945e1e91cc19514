"""Orders: the line-level rules, order consolidation and the Shopify preset."""

from __future__ import annotations

from pathlib import Path

import pytest

from shopseg.errors import SchemaError
from shopseg.io import ingest

DATA = Path(__file__).parent / "data"
HEADER = "order_id,customer_id,ordered_at,product_id,quantity,unit_price"


def _csv(tmp_path: Path, body: str, name: str = "orders.csv", header: str = HEADER) -> Path:
    path = tmp_path / name
    path.write_text(header + "\n" + body.strip() + "\n", encoding="utf-8")
    return path


def _rows(ws, sql):
    return ws.con.execute(sql).fetchall()


def test_minimal_file_fills_orders_lines_products_customers(workspace, tmp_path):
    path = _csv(
        tmp_path, "o1,c1,2024-01-02 10:00:00,p1,2,5.00\no1,c1,2024-01-02 10:00:00,p2,1,3.50\no2,c2,2024-01-03,p1,1,5"
    )
    report = ingest(workspace, "orders", path)
    assert report.added == {"orders": 2, "order_lines": 3, "products": 2, "customers": 2}
    assert (report.rows_read, report.rows_kept, report.rows_flagged) == (3, 3, 0)
    assert _rows(workspace, "SELECT order_id, line_number, quantity FROM order_lines ORDER BY ALL") == [
        ("o1", 1, 2),
        ("o1", 2, 1),
        ("o2", 1, 1),
    ]


def test_missing_customer_is_flagged_not_kept(workspace, tmp_path):
    path = _csv(tmp_path, "o1,c1,2024-01-02,p1,1,5\no2,,2024-01-02,p1,1,5\no3, ,2024-01-02,p1,1,5")
    report = ingest(workspace, "orders", path)
    assert report.rows_kept == 1
    assert report.reasons == {"missing customer_id (flagged, not kept)": 2}


def test_negative_quantity_without_return_semantics_is_refused(workspace, tmp_path):
    path = _csv(tmp_path, "o1,c1,2024-01-02,p1,1,5\no2,c1,2024-01-03,p1,-1,5")
    with pytest.raises(
        SchemaError,
        match=r"orders.csv: quantity: negative but not marked as a return in 1 row \(row 3\); "
        r"got '-1'\. Expected a positive quantity: this file has no return semantics",
    ) as err:
        ingest(workspace, "orders", path)
    assert err.value.rows == [3] and err.value.column == "quantity"


def test_negative_quantity_marked_as_return_is_kept(workspace, tmp_path):
    path = _csv(tmp_path, "o1,c1,2024-01-02,p1,2,5,false\nr1,c1,2024-01-09,p1,-1,5,true", header=HEADER + ",is_return")
    report = ingest(workspace, "orders", path)
    assert report.reasons == {"return (kept, marked)": 1}
    assert _rows(workspace, "SELECT order_id, is_return FROM order_lines ORDER BY 1") == [("o1", False), ("r1", True)]


def test_negative_quantity_marked_not_returned_is_refused(workspace, tmp_path):
    path = _csv(tmp_path, "r1,c1,2024-01-09,p1,-1,5,no", header=HEADER + ",is_return")
    with pytest.raises(SchemaError, match="Expected a positive quantity, or the line marked as a return"):
        ingest(workspace, "orders", path)


def test_unparsable_values_are_all_reported_at_once(workspace, tmp_path):
    path = _csv(tmp_path, "o1,c1,2024-13-45,p1,1,5\no2,c1,2024-01-02,p1,two,5\no3,c1,yesterday,p1,1,5 quid")
    with pytest.raises(SchemaError) as err:
        ingest(workspace, "orders", path)
    msg = str(err.value)
    assert "ordered_at: cannot be parsed as timestamp in 2 rows (rows 2, 4); got '2024-13-45', 'yesterday'" in msg
    assert "quantity: cannot be parsed as int in 1 row (row 3); got 'two'. Expected a whole number." in msg
    assert "unit_price: cannot be parsed as double in 1 row (row 4); got '5 quid'" in msg
    assert err.value.rows == [2, 3, 4]
    assert "value is missing" not in msg  # an unparsable value is reported once, not also as missing


def test_date_format_option_parses_other_layouts(workspace, tmp_path):
    path = _csv(tmp_path, "o1,c1,31/12/2023 18:05,p1,1,5")
    ingest(workspace, "orders", path, date_format="%d/%m/%Y %H:%M")
    assert _rows(workspace, "SELECT ordered_at::VARCHAR FROM orders") == [("2023-12-31 18:05:00",)]


def test_offsets_are_converted_to_naive_utc(workspace, tmp_path):
    path = _csv(
        tmp_path,
        "o1,c1,2024-03-01 10:15:00 -0500,p1,1,5\no2,c1,2024-03-01T10:15:00+01:00,p1,1,5\n"
        "o3,c1,2024-03-01T10:15:00Z,p1,1,5\no4,c1,20240301,p1,1,5\no5,c1,2024-03-01 10:15+02,p1,1,5\n"
        "o6,c1,2024-03-01 10:15:00.250-01:30,p1,1,5",
    )
    ingest(workspace, "orders", path)
    assert _rows(workspace, "SELECT order_id, ordered_at::VARCHAR FROM orders ORDER BY 1") == [
        ("o1", "2024-03-01 15:15:00"),
        ("o2", "2024-03-01 09:15:00"),
        ("o3", "2024-03-01 10:15:00"),
        ("o4", "2024-03-01 00:00:00"),
        ("o5", "2024-03-01 08:15:00"),
        ("o6", "2024-03-01 11:45:00.25"),
    ]


def test_duplicate_line_numbers_are_refused(workspace, tmp_path):
    path = _csv(
        tmp_path,
        "o1,c1,2024-01-02,p1,1,5,1\no1,c1,2024-01-02,p2,1,5,2\no1,c1,2024-01-02,p3,1,5,2",
        header=HEADER + ",line_number",
    )
    with pytest.raises(
        SchemaError, match=r"duplicate order line \(same order_id and line_number\) in 2 rows \(rows 3, 4\)"
    ):
        ingest(workspace, "orders", path)


def test_identical_lines_without_line_numbers_are_kept(workspace, tmp_path):
    path = _csv(tmp_path, "o1,c1,2024-01-02,p1,1,5\no1,c1,2024-01-02,p1,1,5")
    assert ingest(workspace, "orders", path).rows_kept == 2
    assert _rows(workspace, "SELECT line_number FROM order_lines ORDER BY 1") == [(1,), (2,)]


def test_reingesting_the_same_file_is_refused_not_doubled(workspace, tmp_path):
    path = _csv(tmp_path, "o1,c1,2024-01-02,p1,1,5\no2,c1,2024-01-03,p1,1,5")
    ingest(workspace, "orders", path)
    with pytest.raises(SchemaError, match=r"order already in the workspace \(re-ingesting a file is refused"):
        ingest(workspace, "orders", path)
    assert workspace.row_counts()["order_lines"] == 2


def test_order_with_two_customers_is_refused(workspace, tmp_path):
    path = _csv(tmp_path, "o1,c1,2024-01-02,p1,1,5\no1,c2,2024-01-02,p2,1,5")
    with pytest.raises(SchemaError, match="order lines naming different customers in 2 rows"):
        ingest(workspace, "orders", path)


def test_order_takes_earliest_time_and_first_fields(workspace, tmp_path):
    path = _csv(
        tmp_path, "o1,c1,2024-01-02 10:01:00,p1,1,5,\no1,c1,2024-01-02 10:00:00,p2,1,5,FR", header=HEADER + ",country"
    )
    ingest(workspace, "orders", path)
    assert _rows(workspace, "SELECT ordered_at::VARCHAR, country FROM orders") == [("2024-01-02 10:00:00", "FR")]
    assert _rows(workspace, "SELECT country FROM customers") == [("FR",)]


def test_non_positive_price_is_kept_and_counted(workspace, tmp_path):
    path = _csv(tmp_path, "o1,c1,2024-01-02,p1,1,0\no2,c1,2024-01-02,p1,1,-2.5")
    report = ingest(workspace, "orders", path)
    assert report.rows_kept == 2 and report.reasons == {"non-positive unit_price (kept, marked)": 2}


def test_shopify_export_is_flattened(workspace):
    """A Shopify export: continuation rows repeat only Name; order fields come from the first row."""
    report = ingest(workspace, "orders", DATA / "shopify_orders.csv")
    assert report.preset == "shopify"
    assert (report.rows_read, report.rows_kept) == (9, 8)
    assert report.reasons["missing customer_id (flagged, not kept)"] == 1  # guest checkout without email
    assert report.reasons["cancellation (kept, marked)"] == 1
    assert report.reasons["refunded line: a return line is added (kept, marked)"] == 1  # fully refunded order
    # #1005 is partially_refunded with a Refunded Amount of 30.00 on its first row
    assert report.reasons["partial refund: a return line is added (kept, marked)"] == 1
    lines = _rows(
        workspace,
        "SELECT order_id, product_id, quantity, unit_price, discount, is_return FROM order_lines "
        "WHERE order_id = '#1005' ORDER BY line_number",
    )
    assert lines == [
        ("#1005", "MUG-SPK", 2, 30.0, 0.0, False),
        ("#1005", "name:Tea Towel Set (unbranded)", 1, 9.5, 0.0, False),
        ("#1005", "CND-BW", 1, 15.0, 1.5, False),
        ("#1005", "MUG-SPK", 1, 30.0, None, True),  # the refund, on the most valuable line's product
    ]


def test_shopify_customer_id_is_hashed_lowercased_email(workspace):
    import hashlib

    ingest(workspace, "orders", DATA / "shopify_orders.csv", preset="shopify")
    ana = "shopify:" + hashlib.sha256(b"ana.silva@example.com").hexdigest()[:16]
    assert _rows(workspace, f"SELECT order_id FROM orders WHERE customer_id = '{ana}' ORDER BY 1") == [
        ("#1001",),
        ("#1004",),
    ]
    assert _rows(workspace, f"SELECT email FROM customers WHERE customer_id = '{ana}'") == [("ana.silva@example.com",)]
    assert _rows(workspace, "SELECT count(*) FROM customers") == [(4,)]


def test_shopify_times_are_utc_and_flags_set(workspace):
    ingest(workspace, "orders", DATA / "shopify_orders.csv", preset="shopify")
    got = _rows(
        workspace, "SELECT order_id, ordered_at::VARCHAR, is_cancelled, currency, country FROM orders ORDER BY 1"
    )
    assert got == [
        ("#1001", "2024-03-01 15:15:00", False, "USD", "US"),
        ("#1002", "2024-03-03 22:40:00", False, "EUR", "DE"),
        ("#1003", "2024-03-05 12:59:30", False, "USD", "US"),
        ("#1004", "2024-03-07 19:05:00", True, "USD", "US"),
        ("#1005", "2024-03-09 19:19:00", False, "GBP", "GB"),
    ]
    assert _rows(workspace, "SELECT order_id FROM order_lines WHERE is_return ORDER BY 1") == [
        ("#1003",),
        ("#1004",),
        ("#1005",),
    ]


def test_future_dated_orders_are_flagged_not_kept_and_features_build(workspace, tmp_path):
    """Orders dated 2099 or 9999-12-31 once crashed `features build` (as-of date + 1 day overflowed)."""
    from shopseg.features import build_features

    path = _csv(
        tmp_path, "o1,c1,2024-01-02,p1,1,5\no2,c1,2099-01-01,p1,1,5\no3,c2,9999-12-31,p1,1,5\no3,c2,2024-01-03,p2,1,5"
    )
    report = ingest(workspace, "orders", path)
    assert (report.rows_read, report.rows_kept, report.rows_flagged) == (4, 2, 2)
    assert report.reasons == {"dated in the future (flagged, not kept)": 2}
    assert _rows(workspace, "SELECT order_id, ordered_at::VARCHAR FROM orders ORDER BY 1") == [
        ("o1", "2024-01-02 00:00:00"),
        ("o3", "2024-01-03 00:00:00"),
    ]
    features = build_features(workspace)
    assert sorted(features["customer_id"]) == ["c1", "c2"]
