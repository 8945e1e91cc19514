"""Recommendations on the synthetic store: nothing already bought, cold starts, segment top products."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from shopseg.errors import InvalidParameterError, NotFound
from shopseg.personalize import fit_workspace, recommend_customers, segment_top_products
from shopseg.personalize.interactions import load_purchases
from shopseg.segments.audience import segment_customer_ids


def test_never_recommends_what_the_customer_bought(action_ws):
    rec = fit_workspace(action_ws)
    rows = np.arange(len(rec.data_.customers))
    idx, scores = rec.recommend(rows, n=10)
    bought = rec.data_.bought
    assert not np.asarray(bought[np.repeat(rows, 10), idx.ravel()]).any()
    assert (np.diff(scores, axis=1) <= 1e-9).all(), "ranks are sorted by score"
    assert np.isfinite(scores).all()


def test_recommend_customers_table(action_ws):
    recs = recommend_customers(action_ws, ["c000001", "c000002"], n=5)
    assert recs.groupby("customer_id")["rank"].apply(list).tolist() == [[1, 2, 3, 4, 5]] * 2
    bought = load_purchases(action_ws)
    mine = set(bought.loc[bought["customer_id"] == "c000001", "product_id"])
    assert not mine & set(recs.loc[recs["customer_id"] == "c000001", "product_id"])
    assert recs["name"].notna().all() and recs["reason"].str.len().gt(0).all()


def test_customer_without_history_gets_the_popular_products(action_ws):
    action_ws.con.execute("INSERT INTO customers (customer_id) VALUES ('newcomer')")
    recs = recommend_customers(action_ws, ["newcomer"], n=3)
    counts = load_purchases(action_ws).drop_duplicates(["customer_id", "product_id"])["product_id"].value_counts()
    top = counts[counts == counts.iloc[0]].index if counts.iloc[1] == counts.iloc[0] else counts.index[:1]
    assert recs.iloc[0]["product_id"] in set(top)
    assert (recs["reason"] == "popular in the store").all()


def test_unknown_customer_is_a_clear_error(action_ws):
    with pytest.raises(NotFound, match="customer 'nobody': not in the customers, orders or events tables"):
        recommend_customers(action_ws, ["nobody"])
    with pytest.raises(InvalidParameterError, match="The 'n' parameter"):
        recommend_customers(action_ws, ["c000001"], n=0)


def test_segment_top_products_match_a_pandas_oracle(action_ws):
    members, kind = segment_customer_ids(action_ws, "champions")
    assert kind == "RFM segment"
    top = segment_top_products(action_ws, members, n=5)
    pairs = load_purchases(action_ws).drop_duplicates(["customer_id", "product_id"])
    buyers = pairs[pairs["customer_id"].isin(members)].groupby("product_id").size()
    expected = buyers.reset_index(name="n").sort_values(["n", "product_id"], ascending=[False, True]).head(5)
    assert top["product_id"].tolist() == expected["product_id"].tolist()
    assert top["buyers"].tolist() == expected["n"].tolist()
    store_share = pairs.groupby("product_id").size() / pairs["customer_id"].nunique()
    np.testing.assert_allclose(top["store_share"], store_share[top["product_id"]].round(4).to_numpy())


def test_unknown_segment_suggests_a_name(action_ws):
    with pytest.raises(NotFound, match="segment 'Champion': .* Did you mean 'Champions'"):
        segment_customer_ids(action_ws, "Champion")


def test_saved_segments_resolve_through_the_rule_language(action_ws):
    from shopseg.segments.definitions import SegmentStore

    SegmentStore(action_ws).create("big_spenders", "revenue >= 1000")
    members, kind = segment_customer_ids(action_ws, "big_spenders")
    feats = action_ws.con.execute("SELECT customer_id FROM customer_features WHERE revenue >= 1000").df()
    assert kind == "saved segment" and members == sorted(feats["customer_id"])
    assert isinstance(pd.Series(members), pd.Series)


def test_co_views_recommend_to_customers_who_only_browsed():
    """a and b viewed x and y together; c viewed only x and bought nothing: y comes first for c."""
    from shopseg.personalize import ItemRecommender
    from shopseg.personalize.interactions import build_interactions

    purchases = pd.DataFrame({"customer_id": ["a", "b", "d"], "product_id": ["z", "z", "w"]})
    views = pd.DataFrame({"customer_id": ["a", "a", "b", "b", "c"], "product_id": ["x", "y", "x", "y", "x"]})
    data = build_interactions(purchases, views)
    rec = ItemRecommender(shrink=0.0).fit(data)
    idx, _ = rec.recommend([data.row("c")], n=1)
    assert data.products[idx[0, 0]] == "y"
    plain = ItemRecommender(shrink=0.0, view_weight=0.0).fit(data)
    idx, _ = plain.recommend([data.row("c")], n=1)
    assert data.products[idx[0, 0]] == "z"  # without co-views: the most bought product
