"""Purchases, returns, void lines and refunds, as real exports record them (docs/features.md).

A cancelled order's lines are neither sales nor returns; a credit note (negative quantities) is a return;
a refunded line (``is_refunded``, Shopify's and WooCommerce's "refunded" orders) is a sale and a return.
Each case is counted once: the values below are worked by hand from the files.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from shopseg.features import build_features
from shopseg.io import ingest
from shopseg.reports.regions import region_performance

DATA = Path(__file__).parents[1] / "io" / "data"


def _csv(tmp_path: Path, header: str, rows: list[str]) -> Path:
    path = tmp_path / "orders.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def _money(ws, customer: str) -> tuple[float, float, float, int]:
    feats = build_features(ws, as_of="2024-06-30").set_index("customer_id")
    row = feats.loc[customer]
    return float(row.revenue), float(row.gross_revenue), float(row.return_rate), int(row.orders)


def test_cancelled_order_is_void_not_a_return(workspace, tmp_path):
    """Plain columns: a cancelled order of 30 and a paid order of 40 give 40, not 40 - 30."""
    path = _csv(
        tmp_path,
        "order_id,customer_id,ordered_at,product_id,quantity,unit_price,is_cancelled",
        ["A1,c1,2024-03-01,p1,1,30.00,true", "A2,c1,2024-03-05,p2,2,20.00,false"],
    )
    ingest(workspace, "orders", path)
    assert _money(workspace, "c1") == (40.0, 40.0, 0.0, 1)


def test_credit_note_of_a_cancelled_invoice_is_a_return(workspace, tmp_path):
    """Online Retail's 'C' invoices: a cancelled order of negative quantities takes back an earlier sale."""
    path = _csv(
        tmp_path,
        "order_id,customer_id,ordered_at,product_id,quantity,unit_price,is_cancelled",
        ["536365,c1,2024-03-01,p1,6,2.55,false", "C536379,c1,2024-03-02,p1,-2,2.55,true"],
    )
    ingest(workspace, "orders", path)
    # gross 6 x 2.55 = 15.30; returned 2 x 2.55 = 5.10
    assert _money(workspace, "c1") == pytest.approx((10.2, 15.3, 5.1 / 15.3, 1))


def test_refunded_lines_are_a_sale_and_a_return(workspace, tmp_path):
    """``is_refunded``: the line stays a purchase and a return line of the same value is numbered after the
    order's last line (here after an explicit line_number 20)."""
    path = _csv(
        tmp_path,
        "order_id,customer_id,ordered_at,product_id,quantity,unit_price,discount,line_number,is_refunded",
        [
            "R1,c1,2024-03-01,p1,1,49.00,0,10,true",
            "R1,c1,2024-03-01,p2,2,10.00,4.00,20,true",
            "R2,c1,2024-03-09,p3,1,55.00,0,1,false",
        ],
    )
    report = ingest(workspace, "orders", path)
    assert report.rows_kept == 3 and report.added["order_lines"] == 5
    assert report.reasons["refunded line: a return line is added (kept, marked)"] == 2
    lines = workspace.con.execute(
        "SELECT line_number, product_id, quantity, is_return FROM order_lines WHERE order_id = 'R1' ORDER BY 1"
    ).fetchall()
    assert lines == [(10, "p1", 1, False), (20, "p2", 2, False), (21, "p1", 1, True), (22, "p2", 2, True)]
    # gross 49 + (20 - 4) + 55 = 120; returned 49 + 16 = 65 (the discount is not refunded twice)
    assert _money(workspace, "c1") == pytest.approx((55.0, 120.0, 65 / 120, 2))


def test_shopify_refund_and_cancellation_count_once(workspace):
    """The Shopify export fixture: #1003 (Carla) is refunded, #1004 (Ana's second order) cancelled."""
    import hashlib

    def cid(email: str) -> str:
        return "shopify:" + hashlib.sha256(email.encode()).hexdigest()[:16]

    ingest(workspace, "orders", DATA / "shopify_orders.csv", preset="shopify")
    # Carla: 3 x 15.00 bought and refunded
    assert _money(workspace, cid("carla@example.net")) == (0.0, 45.0, 1.0, 1)
    # Ana: #1001 is 2 x 22.00 - 4.40 + 30.00 - 3.00; the cancelled #1004 (22.00) is neither added nor taken back
    assert _money(workspace, cid("ana.silva@example.com")) == pytest.approx((66.6, 66.6, 0.0, 1))


def test_regions_count_a_refunded_sale_once(workspace, tmp_path):
    """The sales in report regions: the refunded line once (a sale), its return line not as a second sale."""
    path = _csv(
        tmp_path,
        "order_id,customer_id,ordered_at,product_id,quantity,unit_price,country,is_refunded,is_cancelled",
        [
            "R1,c1,2024-03-01,p1,1,49.00,NL,true,false",
            "R2,c2,2024-03-02,p1,2,10.00,NL,false,false",
            "R3,c2,2024-03-03,p1,5,10.00,NL,false,true",
        ],
    )
    ingest(workspace, "orders", path)
    got = region_performance(workspace, by=("region",), level="country", period="all")
    assert got["revenue"].sum() == pytest.approx(69.0)
    assert got["orders"].sum() == 2


def test_partial_refund_is_one_return_line_of_its_amount(workspace, tmp_path):
    """``refunded_amount`` (Shopify's "Refunded Amount", on the order's first row): one return line of that
    amount on the order's most valuable product; capped at the order's value (a refund of shipping is not
    taken from sales that never counted it); a fully refunded or cancelled order gets none of its own."""
    path = _csv(
        tmp_path,
        "order_id,customer_id,ordered_at,product_id,quantity,unit_price,refunded_amount,is_refunded,is_cancelled",
        [
            "P1,c1,2024-03-01,p1,2,30.00,30.00,false,false",  # 60 + 9.50; 30 refunded
            "P1,c1,2024-03-01,p2,1,9.50,,false,false",
            "P2,c1,2024-03-09,p3,1,20.00,25.99,false,false",  # 20.00 of lines, 25.99 refunded with shipping
            "P3,c2,2024-03-10,p1,1,30.00,30.00,true,false",  # refunded whole: its is_refunded line, once
            "P4,c2,2024-03-11,p1,1,30.00,30.00,false,true",  # cancelled: void, nothing to refund
            "P5,c2,2024-03-12,p2,2,9.50,0,false,false",
        ],
    )
    report = ingest(workspace, "orders", path)
    assert report.reasons["partial refund: a return line is added (kept, marked)"] == 2
    assert report.added["order_lines"] == 6 + 2 + 1  # the file's, two partial refunds, one whole refund
    lines = workspace.con.execute(
        "SELECT order_id, line_number, product_id, quantity, unit_price FROM order_lines WHERE is_return ORDER BY 1"
    ).fetchall()
    assert lines == [
        ("P1", 3, "p1", 1, 30.0),
        ("P2", 2, "p3", 1, 20.0),
        ("P3", 2, "p1", 1, 30.0),
        ("P4", 1, "p1", 1, 30.0),  # a cancelled order's line is stored as a return, and counted as void
    ]
    # c1: gross 60 + 9.50 + 20 = 89.50; returned 30 + 20 = 50
    assert _money(workspace, "c1") == pytest.approx((39.5, 89.5, 50 / 89.5, 2))
    # c2: gross 30 (P3) + 19 (P5); returned 30 (P3 once); P4 void
    assert _money(workspace, "c2") == pytest.approx((19.0, 49.0, 30 / 49, 2))


def test_a_negative_refunded_amount_is_refused_naming_the_row(workspace, tmp_path):
    path = _csv(
        tmp_path,
        "order_id,customer_id,ordered_at,product_id,quantity,unit_price,refunded_amount",
        ["P1,c1,2024-03-01,p1,1,30.00,-5"],
    )
    with pytest.raises(Exception, match=r"refunded_amount: negative in 1 row \(row 2\)"):
        ingest(workspace, "orders", path)
    assert workspace.row_counts()["order_lines"] == 0


def test_shopify_partial_refund_counts(workspace):
    """The Shopify export fixture: #1005 (Dmitri) is partially_refunded, Refunded Amount 30.00."""
    import hashlib

    ingest(workspace, "orders", DATA / "shopify_orders.csv", preset="shopify")
    dmitri = "shopify:" + hashlib.sha256(b"dmitri@example.com").hexdigest()[:16]
    # lines 2 x 30.00 + 9.50 + 15.00 - 1.50 = 83.00 gross; 30.00 refunded
    assert _money(workspace, dmitri) == pytest.approx((53.0, 83.0, 30 / 83, 1))


@pytest.mark.parametrize(
    ("quantity", "price"), [(1, "-1250.00"), (-1, "-1250.00"), (-1, "1250.00")], ids=["price", "both", "quantity"]
)
def test_a_refund_line_counts_whichever_sign_the_export_gives_it(workspace, tmp_path, quantity, price):
    """Lightspeed / Square exports: the refund of a 1,250.00 sale as a negative price, a negative quantity,
    or both. Each is a return of 1,250.00: net revenue 9.00 (the helper's probe found 1,259.00 for the first two)."""
    path = _csv(
        tmp_path,
        "order_id,customer_id,ordered_at,product_id,quantity,unit_price,is_return",
        [
            "1001,ann,2024-03-04 17:07:00,BNS,1,1250.00,false",
            "1002,ann,2024-03-05 10:00:00,MUG,1,9.00,false",
            f"R1001,ann,2024-03-12 11:00:00,BNS,{quantity},{price},true",
        ],
    )
    ingest(workspace, "orders", path)
    assert _money(workspace, "ann") == pytest.approx((9.0, 1259.0, 1250 / 1259, 2))
