"""Retail network performance on a hand-computed store (every figure below is worked out by hand)."""

from __future__ import annotations

import datetime as dt

import pytest

from shopseg.errors import InvalidParameterError
from shopseg.reports.regions import region_performance
from tests.reports.tiny_orders import seed_orders


def _seed(ws) -> None:
    con = ws.con
    con.execute("INSERT INTO customers (customer_id, region, country) VALUES ('a', 'North', 'X'), ('b', 'South', 'X')")
    con.execute("""INSERT INTO products (product_id, category) VALUES
                   ('p1', 'Home > Decor'), ('p2', 'Toys > Puzzles'), ('p3', 'Home > Kitchen')""")
    seed_orders(ws)


def test_region_x_category_figures_match_hand_computation(workspace):
    """North/Home: o1 20 + o2 10 (two orders of one buyer: repeat 100%); North/Toys 5.5 - 0.5; South/Home 12
    (the return line and the cancelled o4 are not purchases). Revenue index North/Home = (30/35) / (42/47)."""
    _seed(workspace)
    df = region_performance(workspace, by=["region", "category"], period="all").set_index(["region", "category"])
    assert df.loc[("North", "Home"), ["revenue", "orders", "buyers", "aov", "repeat_rate"]].tolist() == [
        30.0,
        2,
        1,
        15.0,
        1.0,
    ]
    assert df.loc[("North", "Toys"), ["revenue", "orders", "aov", "repeat_rate"]].tolist() == [5.0, 1, 5.0, 0.0]
    assert df.loc[("South", "Home"), "revenue"] == 12.0
    assert df.loc[("North", "Home"), "revenue_index"] == pytest.approx((30 / 35) / (42 / 47), abs=1e-3)
    assert df.loc[("South", "Home"), "revenue_index"] == pytest.approx(1 / (42 / 47), abs=1e-3)
    assert df["revenue"].sum() == pytest.approx(47.0)
    assert df["clv"].isna().all()  # no predictions yet


def test_months_and_segment_placeholder(workspace):
    _seed(workspace)
    months = region_performance(workspace, by=["period"], period="month")
    assert months["period"].tolist() == [dt.date(2024, 1, 1), dt.date(2024, 2, 1)]
    assert months["revenue"].tolist() == [25.0, 22.0]
    assert months["orders"].tolist() == [1, 2]
    seg = region_performance(workspace, by=["segment"], period="all")
    assert seg["segment"].tolist() == ["(no RFM)"] and seg["revenue"].iloc[0] == 47.0


def test_country_level_and_limit(workspace):
    _seed(workspace)
    df = region_performance(workspace, by=["region", "category"], period="all", level="country", limit=1)
    assert df[["region", "category", "revenue"]].values.tolist() == [["X", "Home", 42.0]]


def test_bad_dimension_is_named():
    with pytest.raises(InvalidParameterError, match=r"Got \['regoin'\] instead"):
        region_performance(None, by=["regoin"])  # type: ignore[arg-type]


def test_period_all_is_labelled_with_the_dates_it_spans(workspace):
    """Issue 16: `report regions --period all` showed 1970-01-01."""
    _seed(workspace)
    df = region_performance(workspace, by=["period"], period="all")
    first, last = workspace.con.execute("SELECT min(ordered_at)::DATE, max(ordered_at)::DATE FROM orders").fetchone()
    assert df["period"].tolist() == [f"{first} .. {last}"] and "1970" not in df["period"].iloc[0]
