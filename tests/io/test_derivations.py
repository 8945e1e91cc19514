"""Spec derivations combined: a column's own ``replace`` applies before ``divide_by`` / ``minus``.

The file is shaped like Square's "Item Sales" export: money with a currency sign ("$7.00", "-$1.00"),
and Gross Sales the line's total, so the unit price is Gross Sales divided by Qty.
"""

from __future__ import annotations

import textwrap

from shopseg.io.spec_ingest import ingest_spec

ITEMS = """\
Date,Time,Item,Qty,SKU,Gross Sales,Discounts,Net Sales,Transaction ID,Event Type,Customer ID
2024-03-04,17:07:12,Latte,1,LAT-12,$4.50,$0.00,$4.50,tx1,Payment,CUST1
2024-03-04,17:07:12,Croissant,2,CRO,$7.00,-$1.00,$6.00,tx1,Payment,CUST1
2024-03-06,09:30:00,Beans 1kg,3,BNS,"$1,236.00",$0.00,"$1,236.00",tx3,Payment,CUST2
"""


def test_replace_applies_before_divide_by(workspace, tmp_path):
    (tmp_path / "items.csv").write_text(ITEMS, encoding="utf-8")
    (tmp_path / "square.yaml").write_text(
        textwrap.dedent(
            """\
            version: 1
            files:
              items: {path: items.csv}
            tables:
              orders:
                from: items
                map:
                  order_id: Transaction ID
                  customer_id: Customer ID
                  ordered_at: {concat: [Date, Time], sep: " "}
                  product_id: SKU
                  quantity: Qty
                  unit_price: {column: Gross Sales, replace: [{pattern: '[$,]', with: ""}], divide_by: Qty}
            """
        ),
        encoding="utf-8",
    )
    ingest_spec(workspace, tmp_path / "square.yaml")  # refused before: "cannot be parsed ... got '$4.50'"
    got = workspace.con.execute("SELECT unit_price FROM order_lines ORDER BY order_id, line_number").fetchall()
    assert [p for (p,) in got] == [4.5, 3.5, 412.0]
