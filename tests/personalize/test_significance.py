"""Bootstrap intervals over customers, the verdict against a baseline, and the exact printed sentences."""

from __future__ import annotations

import numpy as np
import pytest

from shopseg.errors import InvalidParameterError
from shopseg.personalize.significance import Comparison, bootstrap, paired_interval, verdict


def _compare(model: np.ndarray, baseline: np.ndarray, seed: int = 0) -> Comparison:
    _, means = bootstrap({"model": model, "baseline": baseline}, n_boot=1000, seed=seed)
    low, high = paired_interval(means, 0, 1)
    return Comparison("hit rate@10", "baseline", float(model.mean() - baseline.mean()), low, high)


def test_verdict_reads_the_interval_of_the_difference():
    assert verdict(0.001, 0.2) == "beats"
    assert verdict(-0.2, -0.001) == "loses"
    assert verdict(-0.01, 0.01) == "no significant difference"
    assert verdict(0.0, 0.05) == "no significant difference"  # touching 0 is not excluding it
    assert verdict(0.0, 0.0) == "no significant difference"


def test_verdicts_on_constructed_customers():
    """3,000 customers: the model hits 10 points more, 10 points less, or exactly as often as the baseline."""
    rng = np.random.default_rng(1)
    base = (rng.random(3000) < 0.3).astype(float)
    better = np.maximum(base, (rng.random(3000) < 0.15).astype(float))  # adds hits, never removes one
    worse = base * (rng.random(3000) < 0.6)  # removes hits, never adds one
    assert _compare(better, base).verdict == "beats"
    assert _compare(worse, base).verdict == "loses"
    tie = _compare(base.copy(), base)
    assert (tie.low, tie.high, tie.verdict) == (0.0, 0.0, "no significant difference")  # ties are ties


def test_same_hit_rate_different_customers_is_no_significant_difference():
    """Both models hit 30% of customers, but not the same customers: the difference is noise around 0."""
    rng = np.random.default_rng(2)
    a = (rng.random(2000) < 0.3).astype(float)
    b = rng.permutation(a)
    c = _compare(a, b)
    assert c.difference == 0.0 and c.low < 0 < c.high and c.verdict == "no significant difference"


def test_interval_of_a_proportion_matches_the_normal_approximation():
    """Independent truth: for 4,000 Bernoulli(0.3) customers the 95% interval is about p +- 1.96 sqrt(p(1-p)/n)."""
    rng = np.random.default_rng(3)
    x = (rng.random(4000) < 0.3).astype(float)
    ((low, high),) = bootstrap({"m": x}, n_boot=2000, seed=0)[0].values()
    p = x.mean()
    half = 1.96 * np.sqrt(p * (1 - p) / len(x))
    assert low == pytest.approx(p - half, abs=0.003) and high == pytest.approx(p + half, abs=0.003)


def test_bootstrap_is_seeded():
    x = np.random.default_rng(4).random(500)
    assert bootstrap({"m": x}, seed=7)[0] == bootstrap({"m": x}, seed=7)[0]
    assert bootstrap({"m": x}, seed=7)[0] != bootstrap({"m": x}, seed=8)[0]


def test_bootstrap_refuses_unpaired_values():
    with pytest.raises(InvalidParameterError, match=r"one value per customer. Got lengths \[2, 3\]"):
        bootstrap({"a": np.zeros(2), "b": np.zeros(3)})
    with pytest.raises(InvalidParameterError, match="The 'n_boot' parameter"):
        bootstrap({"a": np.zeros(2)}, n_boot=10)


def test_printed_verdict_lines_are_exact():
    assert Comparison("hit rate@10", "global popularity", 0.095, 0.081, 0.109).line() == (
        "hit rate@10: beats global popularity (+9.5 points, 95% CI +8.1 to +10.9)"
    )
    assert Comparison("hit rate@10", "buy again (personal popularity)", -0.02, -0.031, -0.009).line() == (
        "hit rate@10: loses to buy again (personal popularity) (-2.0 points, 95% CI -3.1 to -0.9)"
    )
    assert Comparison("NDCG@10", "buy again (personal popularity)", 0.001, -0.003, 0.005).line() == (
        "NDCG@10: no significant difference from buy again (personal popularity) (+0.001, 95% CI -0.003 to +0.005)"
    )
