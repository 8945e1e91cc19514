"""Churn labels: features as of the cutoff, label from the N days after it, nothing leaks."""

from __future__ import annotations

import pandas as pd
import pytest

from shopseg.engine import get_engine
from shopseg.errors import InvalidParameterError
from shopseg.features import feature_expr
from shopseg.models.churn import churn_labels
from shopseg.models.churn.labels import buyer_summary


@pytest.fixture
def tiny(workspace):
    """a: buys on day 1 and day 20 (after the cutoff); b: day 1 only; c: day 5 and day 50 (after the window); d: day 60 only."""
    orders = [
        ("o1", "a", "2024-01-01"),
        ("o2", "a", "2024-01-20"),
        ("o3", "b", "2024-01-01"),
        ("o4", "c", "2024-01-05"),
        ("o5", "c", "2024-02-19"),
        ("o6", "d", "2024-02-29"),
    ]
    workspace.con.executemany("INSERT INTO orders (order_id, customer_id, ordered_at) VALUES (?, ?, ?)", orders)
    workspace.con.executemany(
        "INSERT INTO order_lines (order_id, line_number, product_id, quantity, unit_price) VALUES (?, 1, 'p', 1, 10.0)",
        [(o[0],) for o in orders],
    )
    return get_engine(workspace, "duckdb")


def test_labels_count_purchases_in_the_window_only(tiny):
    """Cutoff 2024-01-10, 30 days: a bought on 01-20 (active); b never again; c on 02-19 is day 40 (outside); d is not a buyer yet."""
    labels = churn_labels(tiny, "2024-01-10", 30)
    assert labels["customer_id"].tolist() == ["a", "b", "c"]
    assert labels["purchases_after"].tolist() == [1, 0, 0]
    assert labels["churned"].tolist() == [0, 1, 1]
    assert labels.attrs == {"cutoff": "2024-01-10", "label_end": "2024-02-09", "horizon_days": 30}


def test_features_do_not_see_past_the_cutoff(tiny):
    labels = churn_labels(tiny, "2024-01-10", 30).set_index("customer_id")
    expected = tiny.execute(feature_expr(tiny, as_of="2024-01-10")).set_index("customer_id")
    assert labels.loc["a", "orders"] == 1 == expected.loc["a", "orders"]  # the 01-20 order is not a feature
    assert labels.loc["a", "days_since_last_order"] == 9


def test_a_window_past_the_data_is_refused(tiny):
    with pytest.raises(InvalidParameterError, match="leave 30 days of data after it .*on or before 2024-01-30"):
        churn_labels(tiny, "2024-02-10", 30)
    with pytest.raises(InvalidParameterError, match="horizon_days"):
        churn_labels(tiny, "2024-01-10", 0)


def test_buyer_summary_floors_T_of_a_first_purchase_on_the_as_of_date():
    feats = pd.DataFrame(
        {
            "customer_id": ["x", "y", "z"],
            "orders": [1, 2, 0],
            "frequency": [0, 1, None],
            "recency": [0.0, 3.0, None],
            "T": [0.0, 5.0, None],
            "monetary_value": [None, 7.0, None],
        }
    )
    s = buyer_summary(feats)
    assert s["customer_id"].tolist() == ["x", "y"]
    assert s["T"].tolist() == [0.5, 5.0] and s["monetary_value"].tolist() == [0.0, 7.0]


def test_labels_equal_the_features_and_holdout_counts_they_stand_for(churn_ws):
    """Differential: the buyers' rows of feature_expr as of the cutoff, and calibration_holdout_split's
    frequency_holdout over (cutoff, cutoff + N] as ``purchases_after`` (synthetic 3,000-customer store)."""
    from shopseg.features import calibration_holdout_split

    engine = get_engine(churn_ws, "duckdb")
    last = pd.Timestamp(churn_ws.con.execute("SELECT max(ordered_at) FROM orders").fetchone()[0]).date()
    cutoff = last - pd.Timedelta(days=120)
    labels = churn_labels(engine, cutoff, 90)
    full = feature_expr(engine, as_of=cutoff)
    expected = engine.execute(full.filter(full.orders > 0).order_by("customer_id"))
    pd.testing.assert_frame_equal(labels[list(expected.columns)], expected)
    split = calibration_holdout_split(engine, cutoff, cutoff + pd.Timedelta(days=90))
    assert labels["customer_id"].tolist() == split["customer_id"].tolist()
    assert labels["purchases_after"].tolist() == split["frequency_holdout"].tolist()
    assert labels["churned"].tolist() == (split["frequency_holdout"] == 0).astype(int).tolist()
    assert 0 < labels["churned"].mean() < 1
