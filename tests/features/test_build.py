"""Feature values on the tiny hand-made store, worked out by hand (see tiny_store.py)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from shopseg.engine import get_engine
from shopseg.errors import InvalidParameterError, SchemaError
from shopseg.features import FEATURE_COLUMNS, build_features, feature_expr
from shopseg.workspace import Workspace
from tests.features.tiny_store import load_tiny


@pytest.fixture(scope="module")
def feats(tmp_path_factory) -> pd.DataFrame:
    """The tiny store's features as of 2024-01-31 (built once for the module)."""
    with Workspace.init(tmp_path_factory.mktemp("tiny") / "ws.duckdb") as ws:
        return build_features(load_tiny(ws), "duckdb", as_of="2024-01-31").set_index("customer_id")


def test_population_is_known_customers_as_of(feats):
    """c3 never bought but is known; c4 bought without a customers row; c9 signed up later."""
    assert list(feats.index) == ["c1", "c2", "c3", "c4"]


def test_columns_follow_the_contract(feats):
    cols = ["customer_id", *feats.columns]
    assert cols[: len(FEATURE_COLUMNS)] == FEATURE_COLUMNS
    assert cols[len(FEATURE_COLUMNS) :] == ["share_clothing", "share_home"]


def test_lifetimes_quantities_of_a_regular_buyer(feats):
    """c1 buys on Jan 1 (two orders: 34 + 40), Jan 10 (7.65) and Jan 31 (20): three purchase days."""
    c1 = feats.loc["c1"]
    assert (c1.orders, c1.frequency, c1.recency, c1["T"]) == (4, 2, 30.0, 30.0)
    assert c1.monetary_value == pytest.approx((7.65 + 20.0) / 2)
    assert c1.days_since_last_order == 0
    assert c1.avg_days_between_orders == 15.0
    assert c1.std_days_between_orders == pytest.approx(pd.Series([9, 21]).std())


def test_money_discounts_and_returns(feats):
    """Gross = 20 + (15.5 - 1.5) + 40 + 0 + 7.65 + (25 - 5); a 10.00 return; a free line is a 0-value purchase."""
    c1 = feats.loc["c1"]
    assert c1.gross_revenue == 101.65
    assert c1.revenue == 91.65
    assert c1.return_rate == pytest.approx(10 / 101.65)
    assert c1.discount_share == pytest.approx((14 + 20) / 101.65)
    assert c1.avg_order_value == pytest.approx(101.65 / 4)
    assert c1.basket_size == 9 / 4  # 2 + 1 + 1 + 1 (free) + 3 + 1 units in 4 orders
    c2 = feats.loc["c2"]  # bought 12.00, returned 12.00, its cancelled order does not count
    assert (c2.orders, c2.gross_revenue, c2.revenue, c2.return_rate) == (1, 12.0, 0.0, 1.0)


def test_channels_and_categories(feats):
    c1 = feats.loc["c1"]
    assert (c1.share_web, c1.share_app, c1.share_store) == (0.5, 0.25, 0.25)
    assert (c1.distinct_categories, c1.top_category) == (2, "Home")
    assert c1.share_home == pytest.approx(60 / 101.65)
    assert c1.share_clothing == pytest.approx(21.65 / 101.65)


def test_engagement_windows(feats):
    c1, c2 = feats.loc["c1"], feats.loc["c2"]
    assert (c1.product_views_7d, c1.product_views_30d, c1.product_views_90d) == (1, 2, 3)
    assert (c1.add_to_carts_7d, c1.checkouts_started_90d, c1.abandoned_checkouts_90d) == (1, 1, 0)
    assert c1.browse_to_buy_ratio == pytest.approx(4 / 3)
    assert (c2.checkouts_started_90d, c2.abandoned_checkouts_90d) == (2, 1)
    assert (c2.email_opens_90d, c2.email_clicks_90d) == (1, 1)
    assert feats.loc["c3"].product_views_7d == 0  # its view is on 2024-02-01, after as_of


def test_profile_and_tenure(feats):
    c1, c2, c4 = feats.loc["c1"], feats.loc["c2"], feats.loc["c4"]
    assert (c1.country, c1.city, c1.age, c1.age_band, c1.gender) == ("FR", "Paris", 34, "25-34", "female")
    assert bool(c1.email_marketing) and not bool(c2.email_marketing)
    assert c2.age_band == "65+"
    assert c1.tenure_days == (dt.date(2024, 1, 31) - dt.date(2023, 6, 1)).days
    assert c4.tenure_days == 16  # no signup: tenure starts at the first purchase


def test_non_buyer_has_zero_counts_and_null_purchase_features(feats):
    c3 = feats.loc["c3"]
    assert (c3.orders, c3.revenue, c3.distinct_categories) == (0, 0.0, 0)
    assert pd.isna(c3.frequency) and pd.isna(c3["T"]) and pd.isna(c3.avg_order_value)
    assert c3.tenure_days == (dt.date(2024, 1, 31) - dt.date(2023, 1, 1)).days


def test_weeks_divide_recency_and_t_by_seven(tiny):
    weeks = build_features(tiny, "duckdb", as_of="2024-01-31", time_unit="weeks").set_index("customer_id")
    assert weeks.loc["c1", "recency"] == pytest.approx(30 / 7)
    assert weeks.loc["c2", "T"] == pytest.approx(11 / 7)
    assert weeks.loc["c1", "days_since_last_order"] == 0  # always days
    assert weeks.attrs["time_unit"] == "weeks"
    assert tiny.meta("features_time_unit") == "weeks"


def test_as_of_includes_the_whole_day(tiny):
    """The 23:59 order of 2024-01-31 counts as of 2024-01-31, not as of 2024-01-30."""
    on = build_features(tiny, as_of="2024-01-31").set_index("customer_id")
    before = build_features(tiny, as_of=dt.date(2024, 1, 30)).set_index("customer_id")
    assert (on.loc["c1", "orders"], before.loc["c1", "orders"]) == (4, 3)
    assert before.loc["c1", "T"] == 29.0


def test_default_as_of_is_latest_order_date(tiny):
    df = build_features(tiny)
    assert df.attrs["as_of"] == "2024-02-02"
    assert tiny.meta("features_as_of") == "2024-02-02"
    stored = tiny.con.execute("SELECT count(*) FROM customer_features").fetchone()
    assert stored == (len(df),)


def test_feature_expr_is_lazy_ibis(tiny):
    expr = feature_expr(get_engine(tiny, "duckdb"), as_of="2024-01-31")
    assert expr.columns[: len(FEATURE_COLUMNS)] == tuple(FEATURE_COLUMNS)
    assert expr.count().execute() == 4


def test_bad_arguments_raise_with_the_house_message(tiny):
    with pytest.raises(InvalidParameterError, match="Did you mean 'weeks'"):
        build_features(tiny, time_unit="week")
    with pytest.raises(InvalidParameterError, match="YYYY-MM-DD. Got '2024-13-01'"):
        build_features(tiny, as_of="2024-13-01")


def test_empty_workspace_raises_schema_error(workspace):
    with pytest.raises(SchemaError, match="orders table is empty"):
        build_features(workspace)


@pytest.mark.parametrize("store", ["tiny", "generated"])
def test_buyer_feature_expr_equals_feature_expr_of_the_buyers(store, tiny, tmp_path):
    """The buyers' columns without the population: the same rows and values as feature_expr filtered to orders > 0.

    The tiny store has no stored order_totals (the lines are summed); the generated one has them fresh.
    """
    from shopseg.datasets import generate_store, write_store
    from shopseg.features.asof import AsOf
    from shopseg.features.build import buyer_feature_expr, resolve_as_of
    from shopseg.features.purchases import purchase_base

    ws = tiny
    if store == "generated":
        ws = Workspace.init(tmp_path / "generated.duckdb")
        write_store(ws, generate_store(300, seed=11))
    engine = get_engine(ws, "duckdb")
    day = resolve_as_of(engine, None) - dt.timedelta(days=20 if store == "generated" else 2)
    window = AsOf.of(day, "days")
    full = feature_expr(engine, as_of=day)
    expected = engine.execute(full.filter(full.orders > 0).order_by("customer_id"))
    got = engine.execute(buyer_feature_expr(engine, window, purchase_base(engine, window)).order_by("customer_id"))
    if store == "generated":
        ws.close()
    assert len(got) > 0
    pd.testing.assert_frame_equal(got, expected)
