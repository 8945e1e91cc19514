"""Interest affinities on the generated store (4 000 customers, seed 11): planted groups as truth."""

from __future__ import annotations

import pytest

from shopseg.datasets import TRUTH_TABLE, generate_store, write_store
from shopseg.errors import InvalidParameterError
from shopseg.interests import INTERESTS_TABLE, affinity_scores, build_interests
from shopseg.workspace import Workspace


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    with Workspace.init(tmp_path_factory.mktemp("interests") / "shop.duckdb") as ws:
        write_store(ws, generate_store(4_000, seed=11))
        yield ws


@pytest.fixture(scope="module")
def by_group(shop):
    table = build_interests(shop)
    truth = shop.con.execute(f'SELECT customer_id, "group" FROM "{TRUTH_TABLE}"').df()
    return table.merge(truth, on="customer_id").groupby("group").mean(numeric_only=True)


def test_scores_are_shares_within_each_dimension(shop):
    scores = affinity_scores(shop)
    sums = scores.groupby(["customer_id", "dimension"])["score"].sum()
    assert sums.between(0.999, 1.001).all()
    assert set(scores["dimension"]) == {"category", "brand", "price_band"}


def test_outdoor_enthusiasts_are_found(by_group):
    """Measured: 92% of planted category enthusiasts flagged (mean outdoor affinity 0.86); <= 9% elsewhere."""
    assert by_group.loc["category_enthusiast", "outdoor_enthusiast"] >= 0.85
    assert by_group.drop("category_enthusiast")["outdoor_enthusiast"].max() <= 0.15


def test_premium_buyers_and_bargain_hunters(by_group):
    """Measured: premium_occasional 85% premium buyers (others <= 38%); bargain hunters 45% flagged (others <= 26%)."""
    assert by_group.loc["premium_occasional", "premium_buyer"] >= 0.75
    assert by_group.drop("premium_occasional")["premium_buyer"].max() <= 0.45
    assert by_group.loc["bargain_hunter", "bargain_hunter"] >= 0.38
    assert by_group.loc["bargain_hunter", "price_budget"] > 1.5 * by_group.loc["vip_loyal", "price_budget"]


def test_half_life_changes_the_weighting(shop):
    short = affinity_scores(shop, half_life_days=7).set_index(["customer_id", "dimension", "value"])["score"]
    long = affinity_scores(shop, half_life_days=3650).set_index(["customer_id", "dimension", "value"])["score"]
    assert (short - long).abs().max() > 0.2


def test_stored_table(shop, by_group):
    assert shop.con.execute(f'SELECT count(*) FROM "{INTERESTS_TABLE}"').fetchone()[0] > 3000


@pytest.mark.parametrize("bad", [0, -3, "90"])
def test_bad_half_life(shop, bad):
    with pytest.raises(InvalidParameterError, match="The 'half_life_days' parameter must be a float in the range"):
        affinity_scores(shop, half_life_days=bad)


def test_the_stored_table_is_the_pivot_of_the_scores(shop):
    """build_interests pivots in DuckDB; interest_table pivots the long scores in pandas: the same table,
    category names with spaces, '&' and accents slugged alike."""
    import pandas as pd

    from shopseg.interests import interest_table

    shop.con.execute("UPDATE products SET category = 'Home & Garden > Pots' WHERE category LIKE 'Toys%'")
    shop.con.execute("UPDATE products SET category = 'Küche' WHERE category LIKE 'Beauty%'")
    survey = shop.con.execute("SELECT customer_id, question, answer FROM survey_answers").df()
    want = interest_table(affinity_scores(shop), survey)
    got = build_interests(shop)
    assert {"affinity_home_garden", "affinity_k_che"} <= set(got.columns)
    pd.testing.assert_frame_equal(got, want, check_dtype=False)
