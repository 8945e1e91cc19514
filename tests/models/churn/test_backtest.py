"""Churn backtest on the synthetic store: AUC in a sane range, honest verdicts, calibration tables that add up."""

from __future__ import annotations

import numpy as np
import pandas as pd

from shopseg.models.churn import reliability_table


def test_auc_of_every_score_is_in_a_sane_range(churn_result):
    """Planted lapsed/one-time customers make churn learnable: the supervised model and recency rank well.

    BG/NBD's P(alive) is 1 for every one-time buyer by construction, and one-time buyers are the likeliest churners,
    so its 1 - P(alive) ranks worse than chance here (measured 0.46). The MBG/NBD (the default) lets one-time buyers
    drop out: its 1 - P(alive) ranks better than chance and better than the BG/NBD's.
    """
    auc = churn_result.metrics["auc"]
    by_model = churn_result.info["p_alive_auc"]
    assert 0.85 < auc["churn_model"] < 0.99
    assert 0.80 < auc["recency"] < 0.99
    assert churn_result.info["purchase_model"] == "mbgnbd" and auc["p_alive"] == by_model["mbgnbd"]
    assert by_model["bgnbd"] < 0.5 < by_model["mbgnbd"]
    assert auc["no_purchase"] > 0.8


def test_model_is_better_calibrated_than_the_base_rate(churn_result):
    """Brier below the no-skill forecast (the test churn rate for everyone): rate * (1 - rate)."""
    rate = churn_result.info["test_churn_rate"]
    assert churn_result.metrics.loc["churn_model", "brier"] < rate * (1 - rate)
    assert churn_result.info["train_cutoff"] < churn_result.info["test_cutoff"]


def test_verdicts_state_who_wins(churn_result):
    """Each verdict follows its 95% bootstrap interval: beats above 0, loses to below 0, ties with across 0."""
    m = churn_result.metrics["auc"]
    ci = churn_result.info["auc_ci"]
    lines = churn_result.verdicts()
    pairs = [
        ("churn_model", "p_alive", "churn model", "the MBG/NBD 1 - P(alive) baseline"),
        ("churn_model", "recency", "churn model", "the recency-only baseline"),
        ("p_alive", "recency", "MBG/NBD 1 - P(alive)", "the recency-only baseline"),
    ]
    assert len(lines) == 3
    for line, (a, b, name, other) in zip(lines, pairs):
        lo, hi = ci[f"{a}-{b}"]
        assert lo <= m[a] - m[b] <= hi
        word = "beats" if lo > 0 else ("loses to" if hi < 0 else "ties with")
        assert line.startswith(f"{name} {word} {other}: AUC {m[a]:.3f} vs {m[b]:.3f} (difference {m[a] - m[b]:+.3f}, ")


def test_reliability_bins_cover_every_test_customer(churn_result):
    rel = churn_result.reliability
    for score in ("churn_model", "p_alive", "no_purchase", "recency"):
        assert rel[rel.score == score]["customers"].sum() == churn_result.info["test_customers"]
    preds = churn_result.predictions
    assert len(preds) == churn_result.info["test_customers"] and preds["churned"].isin([0, 1]).all()


def test_reliability_table_by_hand():
    y = np.array([0, 1, 1, 0, 1])
    p = np.array([0.05, 0.15, 0.95, 0.99, 1.0])
    table = reliability_table(y, p, bins=10)
    expected = pd.DataFrame(
        {
            "bin": ["0.0-0.1", "0.1-0.2", "0.9-1.0"],
            "customers": [1, 1, 3],
            "mean_predicted": [0.05, 0.15, (0.95 + 0.99 + 1.0) / 3],
            "observed_rate": [0.0, 1.0, 2 / 3],
        }
    )
    pd.testing.assert_frame_equal(table, expected)
