"""Stores whose catalogue has no price or category: price bands from order lines, and notes that say what is missing."""

from __future__ import annotations

import pandas as pd
import pytest

from shopseg.datasets import generate_store, write_store
from shopseg.interests import affinity_scores, build_interests
from shopseg.interests.diagnosis import PRODUCTS_HINT
from shopseg.workspace import Workspace


@pytest.fixture
def unpriced(tmp_path):
    """A generated store (600 customers, seed 2) whose products lost their price."""
    with Workspace.init(tmp_path / "shop.duckdb") as ws:
        write_store(ws, generate_store(600, seed=2))
        ws.con.execute("UPDATE products SET price = NULL")
        yield ws


def _median_line_prices(ws: Workspace) -> pd.Series:
    """Reference in pandas: each product's median unit_price over its kept purchase lines."""
    lines = ws.con.execute(
        "SELECT l.product_id, l.unit_price, l.quantity, l.is_return, o.is_cancelled "
        "FROM order_lines l JOIN orders o USING (order_id)"
    ).df()
    kept = lines[
        (lines.quantity > 0)
        & (lines.unit_price > 0)
        & ~lines.is_return.fillna(False).astype(bool)
        & ~lines.is_cancelled.fillna(False).astype(bool)
    ]
    return kept.groupby("product_id")["unit_price"].median()


def test_price_bands_come_from_order_lines_when_products_have_no_price(unpriced):
    """Differential: scores with products.price missing equal the scores with products.price set to the median
    unit price of each product's lines (computed in pandas), so the derivation is exactly that median."""
    derived = affinity_scores(unpriced)
    assert set(derived["dimension"]) == {"category", "brand", "price_band"}
    prices = _median_line_prices(unpriced).rename("p").reset_index()
    unpriced.con.register("oracle", prices)
    unpriced.con.execute(
        "UPDATE products SET price = oracle.p FROM oracle WHERE products.product_id = oracle.product_id"
    )
    pd.testing.assert_frame_equal(derived, affinity_scores(unpriced), check_exact=False, rtol=1e-12)


def test_fewer_than_three_priced_products_give_no_band(tmp_path):
    """Category X has 2 products (no terciles: no band), Y has 3 (one band each); both still count as categories."""
    from shopseg.io import ingest

    csv = tmp_path / "orders.csv"
    rows = [("o1", "u1", "a", 5.0), ("o2", "u1", "b", 9.0), ("o3", "u2", "c", 1.0), ("o4", "u2", "d", 2.0)]
    rows += [("o5", "u3", "e", 3.0)]
    pd.DataFrame(
        [
            {
                "order_id": o,
                "customer_id": c,
                "ordered_at": "2024-01-01",
                "product_id": p,
                "quantity": 1,
                "unit_price": u,
            }
            for o, c, p, u in rows
        ]
    ).to_csv(csv, index=False)
    with Workspace.init(tmp_path / "ws.duckdb") as ws:
        ingest(ws, "orders", csv)
        ws.con.execute("UPDATE products SET category = CASE WHEN product_id IN ('a', 'b') THEN 'X' ELSE 'Y' END")
        scores = affinity_scores(ws).set_index(["customer_id", "dimension"])["value"]
    assert scores.loc[("u1", "category")] == "X" and ("u1", "price_band") not in scores.index
    assert scores.loc[("u2", "price_band")].tolist() == ["budget", "mid"]
    assert scores.loc[("u3", "price_band")] == "premium"


def test_notes_say_no_category_and_where_the_prices_came_from(unpriced):
    unpriced.con.execute("UPDATE products SET category = NULL, brand = NULL")
    n = unpriced.con.execute("SELECT count(*) FROM products").fetchone()[0]
    table = build_interests(unpriced)
    assert len(table) > 500 and {"price_budget", "price_mid", "price_premium"} <= set(table.columns)
    assert table.attrs["notes"] == [
        "No product has a category: only price band scored, no affinity_<category> or <category>_enthusiast. "
        + PRODUCTS_HINT,
        f"{n:,} products without products.price: price band from the median unit price of their order lines.",
    ]


def test_the_interest_list_names_the_flags_that_hold_in_column_order():
    import pandas as pd

    from shopseg.interests.affinity import _flag_list

    flags = pd.DataFrame(
        {"outdoor_enthusiast": [True, False, True, False], "bargain_hunter": [True, True, False, False]},
        index=["a", "b", "c", "d"],
    )
    want = flags.apply(lambda r: ", ".join(k for k, v in r.items() if v), axis=1)  # the row-wise definition
    assert (
        _flag_list(flags).tolist()
        == want.tolist()
        == ["outdoor_enthusiast, bargain_hunter", "bargain_hunter", "outdoor_enthusiast", ""]
    )
