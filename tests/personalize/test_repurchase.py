"""Buy-again: a hand-made store, a pandas oracle of the score, include/exclude past purchases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from shopseg.errors import InvalidParameterError
from shopseg.personalize import BuyAgainRecommender, ItemRecommender
from shopseg.personalize.interactions import build_interactions
from shopseg.personalize.repurchase import buy_again_matrix


def _store() -> pd.DataFrame:
    """'weekly' buys X every week for 12 weeks (and Y once, early); 30 others buy Y and Z together, once each.

    Y and Z are the store's best sellers and each other's neighbours; X is bought by 'weekly' alone.
    """
    start = pd.Timestamp("2024-01-01")
    rows = [("weekly", "X", f"w{i}", start + pd.Timedelta(weeks=i)) for i in range(12)]
    rows.append(("weekly", "Y", "w0", start))
    for j in range(30):
        for p in ("Y", "Z"):
            rows.append((f"c{j:02d}", p, f"o{j}", start + pd.Timedelta(days=j)))
    return pd.DataFrame(rows, columns=["customer_id", "product_id", "order_id", "ordered_at"])


def test_a_customer_who_rebuys_x_weekly_gets_x_first():
    data = build_interactions(_store())
    row = data.row("weekly")
    # the buy-again term alone, the default blend with past purchases included, the personal-popularity baseline
    for rec in (
        ItemRecommender(include_bought=True, similarity_weight=0, segment_weight=0),
        ItemRecommender(include_bought=True),
        BuyAgainRecommender(),
    ):
        idx, _ = rec.fit(data).recommend([row], n=3)
        assert data.products[idx[0, 0]] == "X", vars(rec)
    # past purchases excluded: X and Y can never come back; Z (bought with Y) is all that is left
    idx, _ = ItemRecommender().fit(data).recommend([row], n=3)
    assert list(data.products[idx[0, :1]]) == ["Z"]
    assert not {"X", "Y"} & set(data.products[idx[0]])


def test_exclude_and_include_bought_on_every_customer():
    data = build_interactions(_store())
    rows = np.arange(len(data.customers))
    for include in (False, True):
        idx, val = ItemRecommender(include_bought=include).fit(data).recommend(rows, n=2)
        given = idx.ravel() >= 0
        bought = np.asarray(data.bought[np.repeat(rows, 2)[given], idx.ravel()[given]]).ravel() > 0
        assert bought.any() == include  # included: the Y+Z buyers get Y and Z back; excluded: never
        # excluded: the 30 Y+Z buyers have only X left and weekly only Z, so their second place is empty (-1, -inf)
        assert (~given).sum() == (0 if include else 31) and np.isneginf(val.ravel()[~given]).all()


def test_recency_decay_orders_recent_purchases_first():
    """A bought 3 times a year ago, B twice in the last fortnight: a short half-life puts B first, a long one A."""
    end = pd.Timestamp("2024-12-31")
    p = pd.DataFrame(
        {
            "customer_id": ["u"] * 5,
            "product_id": ["A", "A", "A", "B", "B"],
            "order_id": ["1", "2", "3", "4", "5"],
            "ordered_at": [end - pd.Timedelta(days=d) for d in (370, 365, 360, 14, 0)],
        }
    )
    data = build_interactions(p)
    assert np.argmax(buy_again_matrix(data, 30.0).toarray()[0]) == list(data.products).index("B")
    assert np.argmax(buy_again_matrix(data, 10_000.0).toarray()[0]) == list(data.products).index("A")


def _oracle(purchases: pd.DataFrame, half_life_days: float) -> pd.Series:
    """Buy-again scores by the formula of shopseg.personalize.repurchase, row by row in pandas."""
    lines = purchases.drop_duplicates(["customer_id", "order_id", "product_id"]).copy()
    age = (lines["ordered_at"].max() - lines["ordered_at"]).dt.total_seconds() / 86400
    lines["w"] = 0.5 ** (age / half_life_days)
    orders = lines.groupby(["customer_id", "product_id"]).size()
    rate = orders.groupby("product_id").apply(lambda s: ((s >= 2).sum() + 1) / (len(s) + 2))
    score = lines.groupby(["customer_id", "product_id"])["w"].sum()
    score = score * rate.reindex(score.index.get_level_values("product_id")).to_numpy()
    return score / score.groupby("customer_id").transform("max")


def test_buy_again_matrix_matches_a_pandas_oracle(action_ws):
    from shopseg.personalize.interactions import load_purchases

    purchases = load_purchases(action_ws)
    data = build_interactions(purchases)
    m = buy_again_matrix(data, 45.0).tocoo()
    got = pd.Series(
        m.data,
        index=pd.MultiIndex.from_arrays(
            [data.customers[m.row], data.products[m.col]], names=["customer_id", "product_id"]
        ),
    ).sort_index()
    want = _oracle(purchases, 45.0).sort_index()
    assert got.index.equals(want.index)
    np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), rtol=1e-9)


def test_half_life_must_be_positive():
    data = build_interactions(_store())
    with pytest.raises(
        InvalidParameterError, match=r"The 'half_life_days' parameter must be a float in the range \(0, inf\). Got 0"
    ):
        ItemRecommender(half_life_days=0).fit(data)
    with pytest.raises(InvalidParameterError, match="The 'repeat_weight' parameter must be a float >= 0. Got -1"):
        ItemRecommender(repeat_weight=-1).fit(data)
