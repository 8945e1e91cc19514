"""RFM quantile scores: hand-computed values, bin sizes, ties share a score, monotonicity, row-order invariance."""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shopseg.config import config_context
from shopseg.errors import InvalidParameterError, SchemaError
from shopseg.segments.rfm_map import NO_PURCHASE
from shopseg.segments.rfm_scores import _bucket, rfm_scores

SCORES = ["r_score", "f_score", "m_score"]


def score(df: pd.DataFrame, bins: int | None = 5) -> pd.DataFrame:
    """Run rfm_scores on an in-memory DuckDB table; one row per customer, sorted by id."""
    out = rfm_scores(ibis.memtable(df), bins=bins).to_pandas()
    return out.sort_values("customer_id").reset_index(drop=True)


def reference_scores(df: pd.DataFrame, bins: int) -> pd.DataFrame:
    """Obviously-correct slow oracle: sort, deal positions into NTILE buckets by hand, then give every value
    the bucket of its first customer (equal values share a score)."""
    buyers = df[df["orders"] > 0].copy()
    n = len(buyers)
    q, extra = divmod(n, bins)
    bucket_of = [b for b in range(bins) for _ in range(q + (1 if b < extra else 0))]
    buyers["_cents"] = (buyers["revenue"] * 100).round().astype("int64")
    buyers["_neg_days"] = -buyers["days_since_last_order"]
    for name, key in (("r_score", "_neg_days"), ("f_score", "orders"), ("m_score", "_cents")):
        ordered = buyers.sort_values([key, "customer_id"], kind="stable").index
        buyers.loc[ordered, name] = [b + 1 for b in bucket_of]
        buyers[name] = buyers.groupby(key)[name].transform("min")
    return buyers.set_index("customer_id")[SCORES].astype("int64").sort_index()


# Ten buyers and one prospect, scored by hand with bins=5 (2 customers per bucket).
# R sorts by days desc then id: c10 c09 | c08 c07 | c06 c05 | c04 c02 | c03 c01
#   (c02 and c03 tie at 3 days: c02 is dealt into R4 first, so the value 3 days scores 4 for both).
# F sorts by orders then id:    c03 c07 | c09 c05 | c10 c08 | c06 c04 | c02 c01
#   (1 order: c03 c07 c09 -> all F1; 2 orders: c05 c10 -> both F2).
# M sorts by revenue then id:   c09 c07 | c03 c10 | c05 c06 | c04 c02 | c01 c08
HAND = pd.DataFrame(
    {
        "customer_id": ["c01", "c02", "c03", "c04", "c05", "c06", "c07", "c08", "c09", "c10", "c11"],
        "days_since_last_order": [1, 3, 3, 10, 20, 30, 60, 90, 200, 300, None],
        "orders": [10, 8, 1, 5, 2, 4, 1, 3, 1, 2, 0],
        "revenue": [500.0, 300.0, 20.0, 250.0, 40.0, 120.0, 15.0, 600.0, 10.0, 35.0, 0.0],
    }
)
HAND_EXPECTED = {  # customer: (cell, segment) from the table in docs/rfm.md
    "c01": ("555", "Champions"),
    "c02": ("454", "Champions"),
    "c03": ("412", "New"),
    "c04": ("444", "Loyal"),
    "c05": ("323", "Potential loyalist"),
    "c06": ("343", "Need attention"),
    "c07": ("211", "Hibernating"),
    "c08": ("235", "At risk"),
    "c09": ("111", "Lost"),
    "c10": ("122", "Hibernating"),
}


def test_hand_computed_ten_customers():
    out = score(HAND).set_index("customer_id")
    got = {cid: (out.loc[cid, "rfm_cell"], out.loc[cid, "rfm_segment"]) for cid in HAND_EXPECTED}
    assert got == HAND_EXPECTED
    assert out.loc["c11", "rfm_segment"] == NO_PURCHASE
    assert out.loc["c11", SCORES].isna().all() and pd.isna(out.loc["c11", "rfm_cell"])
    assert out.loc["c03", "r_score"] == out.loc["c02", "r_score"] == 4  # a tie is never split


def test_input_columns_are_kept_and_scores_appended():
    out = rfm_scores(ibis.memtable(HAND).mutate(country=ibis.literal("FR")), bins=5)
    assert list(out.columns) == [*HAND.columns, "country", *SCORES, "rfm_cell", "rfm_segment"]
    assert str(out.schema()["r_score"]) == "int64"


def test_money_is_rounded_to_cents_before_ranking():
    # 10.004 and 10.001 are both 1000 cents: a tie, so one score, not split by the float noise.
    df = pd.DataFrame(
        {"customer_id": ["a", "b"], "days_since_last_order": [1, 1], "orders": [1, 1], "revenue": [10.004, 10.001]}
    )
    out = score(df, bins=2)
    assert out["m_score"].tolist() == [1, 1]


def test_bins_default_comes_from_setting():
    with config_context(rfm_bins=2):
        out = score(HAND, bins=None)
    assert set(out["r_score"].dropna()) == {1, 2}


@pytest.mark.parametrize("bins", [1, 10, 2.5, True, "5"])
def test_bad_bins_rejected(bins):
    with pytest.raises(InvalidParameterError, match=r"The 'bins' parameter must be an int in the range \[2, 9\]"):
        rfm_scores(ibis.memtable(HAND), bins=bins)


def test_missing_column_names_it_and_suggests():
    t = ibis.memtable(HAND.rename(columns={"revenue": "revenu"}))
    with pytest.raises(SchemaError, match="required column 'revenue' is missing.*Did you mean 'revenu'"):
        rfm_scores(t)


@pytest.mark.parametrize("n, bins", [(10, 5), (13, 5), (7, 3), (101, 9), (4, 5)])
def test_bin_sizes_differ_by_at_most_one_without_ties(n, bins):
    rng = np.random.default_rng(n)
    df = pd.DataFrame(
        {
            "customer_id": [f"id{i:04d}" for i in range(n)],
            "days_since_last_order": rng.permutation(n),  # all distinct
            "orders": rng.permutation(n) + 1,
            "revenue": (rng.permutation(n) + 1) * 10.0,
        }
    )
    out = score(df, bins=bins)
    q, extra = divmod(n, bins)
    expected = [q + 1] * extra + [q] * (bins - extra)
    for col in SCORES:
        counts = out[col].value_counts().reindex(range(1, bins + 1), fill_value=0).tolist()
        assert counts == expected, col


@pytest.mark.parametrize("bins", range(2, 10))
def test_bucket_of_a_position_equals_sql_ntile(bins):
    """_bucket (a score from a RANK) deals rows as DuckDB's NTILE does, for 1 to 40 rows (fewer rows than bins too)."""
    df = pd.DataFrame([(n, p) for n in range(1, 41) for p in range(n)], columns=["n", "pos"])
    t = ibis.memtable(df)
    out = t.select(
        got=_bucket(t.pos, t.n, bins), want=ibis.ntile(bins).over(group_by=t.n, order_by=t.pos) + 1
    ).to_pandas()
    assert (out["got"] == out["want"]).all()


def test_one_order_store_gives_every_buyer_the_same_frequency_score():
    """Issue 16: on a store where every buyer has one order, 52 buyers were 'Champions' and 56 'Loyal'."""
    n = 200
    df = pd.DataFrame(
        {
            "customer_id": [f"c{i:03d}" for i in range(n)],
            "days_since_last_order": np.arange(n) % 50,
            "orders": [1] * n,
            "revenue": [25.0] * n,
        }
    )
    out = score(df, bins=5)
    assert set(out["f_score"]) == {1} and set(out["m_score"]) == {1}
    assert not out["rfm_segment"].isin(["Champions", "Loyal"]).any()


customers = st.integers(min_value=1, max_value=40).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(0, 30), min_size=n, max_size=n),  # days since last order (ties likely)
        st.lists(st.integers(0, 6), min_size=n, max_size=n),  # orders; 0 = no purchase
        st.lists(st.integers(0, 5_000), min_size=n, max_size=n),  # revenue in cents
        st.permutations(list(range(n))),
        st.integers(2, 9),
    )
)


def _frame(days: list[int], orders: list[int], cents: list[int]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [f"c{i:03d}" for i in range(len(days))],
            "days_since_last_order": [d if o > 0 else None for d, o in zip(days, orders)],
            "orders": orders,
            "revenue": [c / 100 if o > 0 else 0.0 for c, o in zip(cents, orders)],
        }
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(customers)
def test_scores_match_oracle_ignore_row_order_and_are_monotonic(data):
    days, orders, cents, perm, bins = data
    df = _frame(days, orders, cents)
    out = score(df.iloc[list(perm)].reset_index(drop=True), bins=bins)
    # row order does not matter: same scores as the unshuffled input
    pd.testing.assert_frame_equal(out, score(df, bins=bins))
    buyers = out[out["orders"] > 0].set_index("customer_id")
    assert ((buyers[SCORES] >= 1) & (buyers[SCORES] <= bins)).all().all()
    expected = reference_scores(df, bins)
    pd.testing.assert_frame_equal(buyers[SCORES].astype("int64").sort_index(), expected, check_names=False)
    # equal R, F or M inputs always get equal scores
    for col, key in (("r_score", "days_since_last_order"), ("f_score", "orders"), ("m_score", "revenue")):
        assert (buyers.groupby(buyers[key].round(2))[col].nunique() == 1).all(), col
    assert (out[out["orders"] == 0]["rfm_segment"] == NO_PURCHASE).all()
    # monotonic: strictly more recent never gets a lower R; strictly more orders never a lower F
    b = buyers.reset_index()
    for key, col, sign in (("days_since_last_order", "r_score", -1), ("orders", "f_score", 1)):
        x = b[key].to_numpy(dtype=float) * sign
        s = b[col].to_numpy(dtype=int)
        better = x[:, None] > x[None, :]
        assert not (better & (s[:, None] < s[None, :])).any(), col
