"""build_rfm on a workspace: builds missing features, stores customer_rfm, keeps prospects."""

from __future__ import annotations

import pandas as pd
import pytest

from shopseg.errors import SchemaError
from shopseg.segments.rfm_map import NO_PURCHASE, RFM_COLUMNS, RFM_SEGMENTS, RFM_TABLE, build_rfm, rfm_segment_table

# 20 buyers: buyer i ordered i times (one order a week, the last one i days before 2024-12-31)
# and pays 10 per order; plus two prospects.
PURCHASES = {
    f"b{i:02d}": [str(pd.Timestamp("2024-12-31 12:00") - pd.Timedelta(days=i + 7 * k)) for k in range(i)]
    for i in range(1, 21)
}


@pytest.fixture
def shop(store):
    return store(PURCHASES, prospects=["p1", "p2"])


def test_build_rfm_builds_features_and_stores_scores(shop):
    assert not shop.has_table("customer_features")
    df = build_rfm(shop)
    assert shop.has_table("customer_features") and shop.has_table(RFM_TABLE)
    assert list(df.columns) == RFM_COLUMNS and len(df) == 22
    assert df["customer_id"].tolist() == sorted(df["customer_id"])
    stored = shop.con.execute(f"SELECT * FROM {RFM_TABLE} ORDER BY customer_id").df()
    assert stored["rfm_segment"].tolist() == df["rfm_segment"].tolist()
    assert (shop.meta("rfm_bins"), shop.meta("rfm_engine"), shop.meta("rfm_as_of")) == ("5", "duckdb", "2024-12-30")
    assert df.attrs == {"bins": 5, "engine": "duckdb", "as_of": "2024-12-30", "notes": []}  # b01, one day before 12-31
    scored = df.set_index("customer_id")
    # b01 bought once, 1 day ago: most recent (R5), fewest orders and least revenue (F1, M1) -> "511" New
    assert scored.loc["b01", "rfm_cell"] == "511" and scored.loc["b01", "rfm_segment"] == "New"
    # b20: 20 orders, the most revenue, last order 20 days ago (the oldest) -> "155" Cannot lose them
    assert scored.loc["b20", "rfm_cell"] == "155" and scored.loc["b20", "rfm_segment"] == "Cannot lose them"
    assert scored.loc["p1", "rfm_segment"] == NO_PURCHASE and pd.isna(scored.loc["p1", "r_score"])
    for col in ("r_score", "f_score", "m_score"):
        assert scored[col].value_counts().tolist() == [4] * 5


def test_build_rfm_reuses_stored_features_and_bins(shop):
    from shopseg.features import build_features

    build_features(shop, as_of="2024-12-15")
    df = build_rfm(shop, bins=4)
    assert set(df["r_score"].dropna()) == {1, 2, 3, 4}
    # features as of 2024-12-15 do not see the later orders: b01..b15's last orders fall after it
    assert df.set_index("customer_id").loc["b01", "rfm_segment"] == NO_PURCHASE
    assert shop.meta("rfm_bins") == "4"


def test_segment_table_from_stored_rfm(shop):
    df = build_rfm(shop)
    table = rfm_segment_table(df)
    assert table["segment"].tolist() == [*RFM_SEGMENTS, NO_PURCHASE]
    assert table["customers"].sum() == 22
    assert table["revenue"].sum() == pytest.approx(10.0 * sum(range(1, 21)))
    assert table.set_index("segment").loc[NO_PURCHASE, "customers"] == 2


def test_empty_workspace_says_load_orders(workspace):
    with pytest.raises(SchemaError, match="the orders table is empty.*shopseg ingest orders"):
        build_rfm(workspace)


def test_too_few_distinct_values_are_reported(workspace):
    """Issue 16: a store of one-order buyers scores F with one value and says so."""
    workspace.con.execute("""INSERT INTO customers (customer_id) SELECT 'c' || i FROM range(30) t(i)""")
    workspace.con.execute("""INSERT INTO orders (order_id, customer_id, ordered_at)
                             SELECT 'o' || i, 'c' || i, TIMESTAMP '2024-01-01' + INTERVAL (i) DAY FROM range(30) t(i)""")
    workspace.con.execute("""INSERT INTO order_lines (order_id, line_number, product_id, quantity, unit_price)
                             SELECT 'o' || i, 1, 'p', 1, 10 + i FROM range(30) t(i)""")
    df = build_rfm(workspace)
    assert df.attrs["notes"] == [
        "F: 30 buyers have too few distinct values of purchase orders for 5 scores; equal values share a score, "
        "so F uses 1 score (1)."
    ]
    assert workspace.meta("rfm_notes") == df.attrs["notes"][0]


def test_a_segment_named_for_recent_buyers_who_all_lapsed_says_so(cdnow_sample_ws):
    """CDNOW's buyers all first bought in Q1 1997 and the data end in June 1998: the cells the map names
    'New' and 'Promising' (top recency among one- and two-order buyers) last ordered 462+ days ago."""
    from shopseg.features import build_features

    build_features(cdnow_sample_ws)
    notes = build_rfm(cdnow_sample_ws, bins=5).attrs["notes"]
    lapsed = [n for n in notes if "holds lapsed buyers" in n]
    assert [n.split(":")[0] for n in lapsed] == ["New", "Promising"]
    assert lapsed[0].startswith("New: its 147 buyers last ordered 462+ days ago.")
    assert not any("Champions" in n for n in notes)  # Champions include last week's buyers
