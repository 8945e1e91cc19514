"""Retail network performance on a hand-computed store (every figure below is worked out by hand)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from shopseg.errors import InvalidParameterError
from shopseg.reports.regions import Breakdown, region_performance, region_performance_many
from shopseg.workspace import Workspace
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


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The generator's store with RFM and predictions; a guest order (no customer) and some buyers without a
    prediction, so that groups mix buyers with and without CLV."""
    from typer.testing import CliRunner

    from shopseg.cli.main import app

    path = tmp_path_factory.mktemp("regions") / "ws.duckdb"
    w = ["-w", str(path)]
    for args in (
        ["init", str(path)],
        [*w, "generate", "-n", "400", "--seed", "5", "--end-date", "2025-12-31"],
        [*w, "rfm"],
        [*w, "predict", "run", "--bootstrap", "2"],
    ):
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output
    with Workspace.open(path) as ws:
        line = ws.con.execute("SELECT product_id FROM order_lines LIMIT 1").fetchone()
        ws.con.execute("INSERT INTO orders (order_id, ordered_at, region) VALUES ('guest-1', '2025-06-01', 'Nowhere')")
        ws.con.execute(
            "INSERT INTO order_lines (order_id, line_number, product_id, quantity, unit_price) VALUES "
            "('guest-1', 1, ?, 2, 7.25)",
            [line[0] if line else None],
        )
        ws.con.execute(
            "DELETE FROM customer_predictions WHERE customer_id IN (SELECT customer_id FROM customer_predictions ORDER BY hash(customer_id) LIMIT 120)"
        )
    return path


def test_breakdowns_sharing_a_per_buyer_table_give_the_figures_each_gives_alone(generated: Path) -> None:
    """Breakdowns that differ only by segment share one per-buyer table (a buyer has one segment); each
    figure equals the breakdown computed alone, for every kind (with and without category, by period, with
    a limit, by country), and (region, category) equals a pandas computation from the raw tables. The guest
    order (no customer) is one buyer of its own region with no CLV."""
    breakdowns = [
        Breakdown(("region", "category")),
        Breakdown(("segment", "region", "category"), limit=7),
        Breakdown(("region", "period")),
        Breakdown(("segment", "region", "period")),
        Breakdown(("segment",)),
        Breakdown(("category", "period")),
    ]
    with Workspace.open(generated, read_only=True) as ws:
        for level, period in (("region", "quarter"), ("country", "all")):
            together = region_performance_many(ws, breakdowns, period=period, level=level)
            for b, frame in zip(breakdowns, together, strict=True):
                alone = region_performance(ws, by=b.by, period=period, level=level, limit=b.limit)
                pd.testing.assert_frame_equal(frame, alone, check_exact=False, rtol=1e-12)
            assert len(together[1]) == 7
            if level == "region":
                got = together[0].set_index(["region", "category"])
        lines = ws.con.execute(
            """SELECT o.order_id, o.customer_id, coalesce(c.region, o.region, 'unknown') AS region,
                      coalesce(nullif(trim(split_part(p.category, '>', 1)), ''), 'unknown') AS category,
                      round(l.quantity * l.unit_price - coalesce(l.discount, 0), 2) AS value
               FROM order_lines l JOIN orders o USING (order_id) LEFT JOIN customers c USING (customer_id)
               LEFT JOIN products p USING (product_id)
               WHERE NOT coalesce(o.is_cancelled, false) AND l.quantity > 0 AND l.unit_price >= 0"""
        ).df()
    lines["customer_id"] = lines["customer_id"].fillna("(guest)")
    per_buyer = lines.groupby(["region", "category", "customer_id"]).agg(
        orders=("order_id", "nunique"), revenue=("value", "sum")
    )
    expect = per_buyer.groupby(["region", "category"]).agg(
        revenue=("revenue", "sum"),
        orders=("orders", "sum"),
        buyers=("orders", "size"),
        repeat_rate=("orders", lambda o: (o >= 2).mean()),
    )
    assert got["orders"].to_dict() == expect["orders"].to_dict()
    assert got["buyers"].to_dict() == expect["buyers"].to_dict()
    assert got["revenue"].to_numpy() == pytest.approx(expect["revenue"].round(2).to_numpy(), abs=0.006)
    assert got["repeat_rate"].to_numpy() == pytest.approx(expect["repeat_rate"].to_numpy(), abs=5e-5)
    guest = got.loc["Nowhere"]
    assert guest["revenue"].tolist() == [14.5] and guest["buyers"].tolist() == [1] and guest["clv"].isna().all()
