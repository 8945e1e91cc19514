"""Hypothesis: features ignore row order, satisfy the lifetimes invariants and match the oracle."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shopseg.features import build_features
from shopseg.workspace import Workspace
from tests.features.oracle import CORE, reference_features

AS_OF = dt.date(2024, 3, 1)
START = dt.datetime(2024, 1, 1)

line = st.fixed_dictionaries(
    {
        "quantity": st.integers(-2, 5),
        "unit_price": st.sampled_from([0.0, 0.5, 1.99, 2.55, 10.0, 0.85]),
        "discount": st.sampled_from([None, 0.0, 0.5]),
        "is_return": st.sampled_from([None, False, True]),
    }
)
order = st.fixed_dictionaries(
    {
        "customer_id": st.sampled_from(["a", "b", "c", "d"]),
        "minutes": st.integers(0, 70 * 24 * 60),  # some land after AS_OF
        "is_cancelled": st.sampled_from([None, False, False, True]),
        "channel": st.sampled_from(["web", "app", "store", None]),
        "lines": st.lists(line, min_size=1, max_size=3),
    }
)


def _tables(spec: list[dict]) -> tuple[pd.DataFrame, pd.DataFrame]:
    orders, lines = [], []
    for i, o in enumerate(spec):
        oid = f"o{i}"
        orders.append(
            {
                "order_id": oid,
                "customer_id": o["customer_id"],
                "ordered_at": START + dt.timedelta(minutes=o["minutes"]),
                "channel": o["channel"],
                "is_cancelled": o["is_cancelled"],
            }
        )
        for n, ln in enumerate(o["lines"], start=1):
            lines.append({"order_id": oid, "line_number": n, "product_id": "p", **ln})
    return pd.DataFrame(orders), pd.DataFrame(lines)


def _features(orders: pd.DataFrame, lines: pd.DataFrame) -> pd.DataFrame:
    with tempfile.TemporaryDirectory() as tmp, Workspace.init(Path(tmp) / "ws.duckdb") as ws:
        for name, frame in (("orders", orders), ("order_lines", lines)):
            ws.con.register("src", frame)
            ws.con.execute(f"INSERT INTO {name} BY NAME SELECT * FROM src")
            ws.con.unregister("src")
        return build_features(ws, as_of=AS_OF, time_unit="weeks")


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=st.lists(order, min_size=1, max_size=12), seed=st.integers(0, 2**16))
def test_features_ignore_row_order_keep_invariants_and_match_the_oracle(spec, seed):
    """One property test (each example builds twice, ~0.5 s a build): reorder, invariants, oracle."""
    orders, lines = _tables(spec)
    first = _features(orders, lines)
    rng = np.random.default_rng(seed)
    shuffled = _features(orders.sample(frac=1, random_state=rng), lines.sample(frac=1, random_state=rng))
    pd.testing.assert_frame_equal(first, shuffled)

    buyers = first[first["orders"] > 0].reset_index(drop=True)
    assert ((buyers["recency"] >= 0) & (buyers["recency"] <= buyers["T"])).all()
    one_day = buyers[buyers["frequency"] == 0]
    assert (one_day["recency"] == 0).all() and (one_day["monetary_value"] == 0).all()
    rates = buyers["return_rate"].dropna()  # NULL when everything bought was free
    assert ((rates >= 0) & (rates <= 1)).all()

    want = reference_features(orders, lines, AS_OF, divisor=7.0)
    assert list(buyers["customer_id"]) == list(want["customer_id"])
    for col in CORE:
        np.testing.assert_allclose(
            buyers[col].astype("float64"), want[col].astype("float64"), rtol=1e-12, atol=1e-12, err_msg=col
        )
