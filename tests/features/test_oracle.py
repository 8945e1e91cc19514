"""The Ibis feature table against the slow pandas oracle (oracle.py) on real Online Retail customers."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from shopseg.features import build_features
from tests.features.oracle import CORE, reference_features

AS_OF = dt.date(2011, 9, 30)  # mid-data: some later orders must be left out


@pytest.mark.parametrize("time_unit, divisor", [("days", 1.0), ("weeks", 7.0)])
def test_core_features_match_the_pandas_oracle_on_online_retail(online_retail_workspace, time_unit, divisor):
    """400 random customers (seeded) of UCI Online Retail (Chen, Sain & Guo 2012): counts and
    days exactly, money and ratios to 1e-12 relative."""
    feats = build_features(online_retail_workspace, "duckdb", as_of=AS_OF, time_unit=time_unit)
    rng = np.random.default_rng(20240601)
    sample = sorted(rng.choice(feats["customer_id"].to_numpy(), size=400, replace=False))
    con = online_retail_workspace.con
    con.execute("CREATE OR REPLACE TEMP TABLE oracle_ids AS SELECT unnest(?::VARCHAR[]) AS customer_id", [sample])
    orders = con.execute("SELECT * FROM orders WHERE customer_id IN (SELECT customer_id FROM oracle_ids)").df()
    lines = con.execute(
        "SELECT l.* FROM order_lines l JOIN orders o USING (order_id) "
        "WHERE o.customer_id IN (SELECT customer_id FROM oracle_ids)"
    ).df()
    want = reference_features(orders, lines, AS_OF, divisor=divisor).set_index("customer_id")
    got = feats.set_index("customer_id").loc[sample]
    got = got[got["orders"] > 0]
    assert len(want) > 300
    assert list(got.index) == list(want.index)
    for col in CORE:
        np.testing.assert_allclose(
            got[col].astype("float64"), want[col].astype("float64"), rtol=1e-12, atol=1e-12, err_msg=col
        )
    assert (got["orders"] > 0).sum() == len(want)
    non_buyers = feats.set_index("customer_id").loc[sample].query("orders == 0")
    assert non_buyers["frequency"].isna().all() and (non_buyers["revenue"] == 0).all()
