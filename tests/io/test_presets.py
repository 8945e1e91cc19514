"""Presets reproduce the published counts of the real datasets in ../shared/data."""

from __future__ import annotations

import pytest

from shopseg.errors import InvalidParameterError, SchemaError
from shopseg.io import PRESETS, ingest
from shopseg.io.presets import detect_preset, get_preset
from shopseg.workspace import Workspace
from tests.conftest import shared_file


def _one(ws: Workspace, sql: str) -> tuple:
    row = ws.con.execute(sql).fetchone()
    assert row is not None
    return row


@pytest.fixture(scope="module")
def retail(tmp_path_factory):
    """Online Retail ingested once (auto-detected preset) for every test of this module."""
    ws = Workspace.init(tmp_path_factory.mktemp("retail") / "ws.duckdb")
    report = ingest(ws, "orders", shared_file("online_retail.parquet"))
    yield ws, report
    ws.close()


def test_online_retail_report_matches_uci_readme(retail):
    """../shared/data/README.md: 541,909 lines read; 135,080 without CustomerID (flagged, not kept);
    406,829 lines with CustomerID kept, of which 406,829 - 397,924 = 8,905 are cancellations (kept, marked)."""
    _, report = retail
    assert report.preset == "online_retail"
    assert report.rows_read == 541_909
    assert report.rows_kept == 406_829
    assert report.reasons["missing customer_id (flagged, not kept)"] == 135_080
    assert report.reasons["cancellation (kept, marked)"] == 8_905
    assert report.added["customers"] == 4_372


def test_online_retail_cleaning_counts_match_uci_readme(retail):
    """../shared/data/README.md cleaning counts, exact (revenue to the penny):
    with CustomerID 406,829 lines / 4,372 customers; minus cancellations 397,924 / 4,339;
    and Quantity > 0 and UnitPrice > 0: 397,884 lines / 4,338 customers / 18,532 invoices / 8,911,407.90 GBP."""
    ws, _ = retail
    base = "FROM order_lines l JOIN orders o USING (order_id)"
    assert _one(ws, f"SELECT count(*), count(DISTINCT customer_id) {base}") == (406_829, 4_372)
    assert _one(ws, f"SELECT count(*), count(DISTINCT customer_id) {base} WHERE NOT is_cancelled") == (397_924, 4_339)
    got = _one(
        ws,
        "SELECT count(*), count(DISTINCT customer_id), count(DISTINCT order_id), round(sum(quantity * unit_price), 2) "
        f"{base} WHERE NOT is_cancelled AND quantity > 0 AND unit_price > 0",
    )
    assert got == (397_884, 4_338, 18_532, 8_911_407.90)


def test_online_retail_cancellations_are_marked_not_dropped(retail):
    ws, _ = retail
    assert _one(ws, "SELECT count(*) FROM orders WHERE is_cancelled AND NOT starts_with(order_id, 'C')") == (0,)
    assert _one(
        ws, "SELECT bool_and(l.is_return) FROM order_lines l JOIN orders o USING (order_id) WHERE o.is_cancelled"
    ) == (True,)
    assert _one(ws, "SELECT customer_id FROM orders WHERE order_id = '536365'") == ("17850",)


def test_online_retail_identical_lines_of_one_invoice_are_kept(retail):
    """The source repeats some lines verbatim within an invoice; they become distinct line numbers."""
    ws, _ = retail
    dups = _one(
        ws,
        "SELECT count(*) FROM (SELECT order_id, product_id, quantity, unit_price FROM order_lines "
        "GROUP BY ALL HAVING count(*) > 1)",
    )
    assert dups[0] > 0
    assert _one(ws, "SELECT count(*) - count(DISTINCT (order_id, line_number)) FROM order_lines") == (0,)


def test_online_retail_mojibake_is_repaired(retail):
    ws, _ = retail
    assert _one(ws, "SELECT count(*) FROM products WHERE contains(name, 'Â')") == (0,)


def test_online_retail_timestamps_are_naive_utc(retail):
    ws, _ = retail
    assert _one(
        ws, "SELECT typeof(min(ordered_at)), min(ordered_at)::VARCHAR, max(ordered_at)::VARCHAR FROM orders"
    ) == (
        "TIMESTAMP",
        "2010-12-01 08:26:00",
        "2011-12-09 12:50:00",
    )


def test_cdnow_master_counts_match_readme(workspace, cdnow_master_path):
    """../shared/data/README.md: CDNOW_master.txt holds 69,659 transactions of 23,570 customers."""
    report = ingest(workspace, "orders", cdnow_master_path)  # preset detected from the header
    assert report.preset == "cdnow"
    assert (report.rows_read, report.rows_kept) == (69_659, 69_659)
    assert _one(workspace, "SELECT count(*), count(DISTINCT customer_id) FROM orders") == (69_659, 23_570)


def test_cdnow_sample_counts_match_readme(workspace, cdnow_sample_path):
    """../shared/data/README.md: CDNOW_sample.txt has 6,919 rows and 2,357 customers."""
    report = ingest(workspace, "orders", cdnow_sample_path, preset="cdnow_sample")
    assert (report.rows_read, report.rows_kept) == (6_919, 6_919)
    assert _one(workspace, "SELECT count(*), count(DISTINCT customer_id) FROM orders") == (6_919, 2_357)
    assert _one(workspace, "SELECT count(*) FROM customers") == (2_357,)


def test_cdnow_order_revenue_equals_dollar_value_to_the_cent(workspace, cdnow_sample_path):
    """unit_price = dollar_value / number_of_cds (unrounded), so quantity * unit_price is dollar_value to the cent."""
    ingest(workspace, "orders", cdnow_sample_path, preset="cdnow_sample")
    raw = workspace.con.execute(
        f"SELECT string_split_regex(trim(line), '\\s+') AS f FROM read_csv('{cdnow_sample_path}', "
        "columns={'line': 'VARCHAR'}, delim='\\x01', header=false)"
    ).df()
    expected = round(sum(float(f[4]) for f in raw["f"]), 2)
    assert _one(workspace, "SELECT round(sum(round(quantity * unit_price, 2)), 2) FROM order_lines") == (expected,)
    assert _one(
        workspace,
        "SELECT count(*) FROM order_lines l JOIN orders o USING (order_id) "
        "WHERE round(quantity * unit_price, 2) <> round(quantity * unit_price, 2)",
    ) == (0,)
    assert _one(workspace, "SELECT min(customer_id::INT), min(ordered_at)::DATE::VARCHAR FROM orders") == (
        4,
        "1997-01-01",
    )


def test_cdnow_sample_rebuilds_the_papers_summary(workspace, cdnow_sample_path, cdnow_summary_path):
    """Fader, Hardie & Lee (2005) summary: x per customer = repeat purchase days in calibration (to 1997-09-30).

    The summary numbers customers by the file's sample_id (second field), which maps to customer_id.
    """
    ingest(workspace, "orders", cdnow_sample_path, preset="cdnow_sample")
    got = workspace.con.execute(
        f"""WITH ids AS (SELECT DISTINCT ltrim(f[1], '0') AS customer_id, f[2]::INT AS sample_id
                         FROM (SELECT string_split_regex(trim(line), '\\s+') AS f FROM read_csv('{cdnow_sample_path}',
                               columns={{'line': 'VARCHAR'}}, delim='\\x01', header=false)))
            SELECT count(DISTINCT ordered_at::DATE) - 1 FROM orders JOIN ids USING (customer_id)
            WHERE ordered_at < '1997-10-01' GROUP BY sample_id ORDER BY sample_id"""
    ).fetchall()
    summary = workspace.con.execute(f"SELECT frequency FROM read_csv('{cdnow_summary_path}') ORDER BY ID").fetchall()
    assert [x for (x,) in got] == [int(x) for (x,) in summary]


def test_get_preset_rejects_unknown_and_wrong_kind():
    with pytest.raises(InvalidParameterError, match="Did you mean 'cdnow'"):
        get_preset("cdnw", "orders")
    with pytest.raises(InvalidParameterError, match="Preset 'cdnow' loads orders, not customers"):
        get_preset("cdnow", "customers")


def test_partial_header_suggests_the_preset(workspace, tmp_path):
    path = tmp_path / "retail.csv"
    path.write_text(
        "InvoiceNo,StockCode,Quantity,InvoiceDate,UnitPrice,Customer\n536365,85123A,6,2010-12-01 08:26,2.55,1\n"
    )
    with pytest.raises(
        SchemaError, match=r"Hint: the header looks like the 'online_retail' preset's; try --preset online_retail\.$"
    ):
        ingest(workspace, "orders", path)


def test_detect_preset_by_header(tmp_path):
    assert (
        detect_preset(tmp_path / "x.parquet", "parquet", "orders", list(PRESETS["shopify"].signature) + ["Extra"])
        == "shopify"
    )
    assert detect_preset(tmp_path / "x.parquet", "parquet", "customers", ["InvoiceNo"]) is None
    cd = tmp_path / "cd.txt"
    cd.write_bytes(b"customer_id date number_of_cds dollar_value\r\n 1 19970101 1 11.77\r\n")
    assert detect_preset(cd, "csv", "orders") == "cdnow"


def test_online_retail_csv_export_with_us_dates(workspace, tmp_path):
    """The UCI CSV export: US dates without padding, CustomerID as '17850.0', a cancellation, mojibake."""
    path = tmp_path / "Online Retail.csv"
    path.write_text(
        "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
        "536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,12/1/2010 8:26,2.55,17850.0,United Kingdom\n"
        "536365,22960,Gift Voucher Â£20.00,1,12/1/2010 8:26,20,17850.0,United Kingdom\n"
        "C536379,D,Discount,-1,12/1/2010 9:41,27.5,14527.0,United Kingdom\n"
        "536414,22139,,56,12/1/2010 11:52,0,,United Kingdom\n",
        encoding="utf-8",
    )
    report = ingest(workspace, "orders", path)
    assert report.preset == "online_retail"
    assert report.reasons == {
        "missing customer_id (flagged, not kept)": 1,
        "cancellation (kept, marked)": 1,
        "mojibake in description (repaired)": 1,
    }
    assert workspace.con.execute(
        "SELECT order_id, customer_id, ordered_at::VARCHAR, is_cancelled FROM orders ORDER BY 1"
    ).fetchall() == [
        ("536365", "17850", "2010-12-01 08:26:00", False),
        ("C536379", "14527", "2010-12-01 09:41:00", True),
    ]
    assert workspace.con.execute("SELECT name FROM products WHERE product_id = '22960'").fetchone() == (
        "Gift Voucher £20.00",
    )
