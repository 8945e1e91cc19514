"""Per-customer predictive distributions against a simulation of the models' own stories (an independent path)."""

from __future__ import annotations

import numpy as np
import pytest

from shopseg.models import BetaGeoModel, ModifiedBetaGeoModel
from shopseg.models.clv.predictive import VALUE_GRID, randomized_pit, scan_counts, value_cdf_at, value_interval

GG = {"p": 6.25, "q": 3.74, "gamma": 15.44}  # Fader, Hardie & Lee (2005), CDNOW
CUSTOMERS = [(0, 0.0, 38.86, 0.0), (2, 30.43, 38.86, 35.0), (7, 37.0, 38.0, 20.0)]  # x, t_x, T, m


def _simulate(model, x: int, t_x: float, T: float, m: float, t: float, n: int, rng: np.random.Generator):
    """Purchases and spend in (T, T+t]: alive ~ P(alive); lambda ~ Gamma(r+x, alpha+T), p ~ Beta(a, b+x+shift);
    Poisson purchases, dropout after each with probability p; nu ~ Gamma(q+px, gamma+mx), orders Gamma(p, nu)."""
    r, alpha, a, b = (model.params_[k] for k in ("r", "alpha", "a", "b"))
    alive = rng.uniform(size=n) < model.conditional_probability_alive([x], [t_x], [T])[0]
    lam = rng.gamma(r + x, 1.0 / (alpha + T), n)
    drop = rng.beta(a, b + x + model._shift, n)
    count = np.minimum(rng.poisson(lam * t), rng.geometric(drop)) * alive
    p, q, g = GG["p"], GG["q"], GG["gamma"]
    nu = rng.gamma(q + p * x, 1.0 / (g + m * x), n)
    spend = np.where(count > 0, rng.gamma(p * np.maximum(count, 1), 1.0 / nu), 0.0)
    expected_order = p * (g + m * x) / (p * x + q - 1)
    return count, spend / expected_order


@pytest.mark.parametrize("cls", [BetaGeoModel, ModifiedBetaGeoModel])
def test_count_and_value_distributions_match_a_simulation(cls) -> None:
    """200,000 simulated futures per customer: P(V <= v) on the grid within 0.006 (simulation error ~0.001), and the
    80% purchase interval equal to the rule applied to the simulated CDF wherever that CDF is not within 0.005 of a
    threshold."""
    model = cls()
    model.params_ = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    x, t_x, T, m = (np.array(c, dtype=float) for c in zip(*CUSTOMERS))
    scan = scan_counts(model, 39.0, x, t_x, T, spend_shape=(GG["p"], GG["q"]))
    rng = np.random.default_rng(16)
    for i, (xi, txi, Ti, mi) in enumerate(CUSTOMERS):
        count, value = _simulate(model, xi, txi, Ti, mi, 39.0, 200_000, rng)
        empirical = np.searchsorted(np.sort(value), VALUE_GRID, side="right") / len(value)
        assert np.max(np.abs(empirical - scan.value_cdf[i])) < 0.006
        cdf = np.array([(count <= k).mean() for k in range(200)])
        lo = int((cdf < 0.1).sum())
        hi = int((cdf < (cdf[lo - 1] if lo else 0.0) + 0.8).sum())
        near = np.min(np.abs(cdf - 0.1)) < 0.005 or np.min(np.abs(cdf - ((cdf[lo - 1] if lo else 0.0) + 0.8))) < 0.005
        if not near:
            assert (scan.lower[i], scan.upper[i]) == (lo, hi)


def test_interval_of_a_zero_heavy_customer_is_zero_to_p80() -> None:
    """A one-time buyer with P(X = 0) > 0.1: the interval starts at 0 and ends at her 80th percentile, so it holds
    80% (not 90%+ as [p10, p90] would)."""
    model = ModifiedBetaGeoModel()
    model.params_ = {"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614}
    scan = scan_counts(model, 39.0, np.zeros(1), np.zeros(1), np.array([38.86]))
    cdf = np.cumsum([model.probability_of_purchases(k, 39.0, [0], [0.0], [38.86])[0] for k in range(50)])
    assert cdf[0] > 0.1 and scan.lower[0] == 0
    assert scan.upper[0] == int((cdf < 0.8).sum()) and cdf[scan.upper[0]] >= 0.8


def test_value_interval_on_a_continuous_cdf_is_equal_tailed() -> None:
    """Without an atom at 0 the rule gives [p10, p90]: on an exponential CDF, log(10/9) and log(10), 1% (grid)."""
    cdf = 1.0 - np.exp(-VALUE_GRID)[None, :]
    low, high = value_interval(cdf)
    assert low[0] == pytest.approx(np.log(10 / 9), rel=0.01) and high[0] == pytest.approx(np.log(10), rel=0.01)
    assert value_cdf_at(cdf, low)[0] == pytest.approx(0.1, abs=1e-3)


def test_randomized_pit_is_uniform_for_draws_from_the_predicted_distribution() -> None:
    """Counts drawn from the model's own P(X = k) give a flat PIT histogram (each of 10 bins 0.10 +- 0.01)."""
    model = ModifiedBetaGeoModel()
    model.params_ = {"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614}
    rng = np.random.default_rng(3)
    n = 10_000
    x = rng.integers(0, 6, n).astype(float)
    T = rng.uniform(20, 39, n)
    t_x = np.where(x > 0, T * rng.uniform(0.2, 1.0, n), 0.0)
    pmf = np.stack([model.probability_of_purchases(k, 39.0, x, t_x, T) for k in range(80)], axis=1)
    y = (rng.uniform(size=n)[:, None] > np.cumsum(pmf, axis=1)).sum(axis=1)
    scan = scan_counts(model, 39.0, x, t_x, T, observed=y)
    pit = randomized_pit(scan.below, scan.at, rng)
    assert np.all(np.abs(np.histogram(pit, bins=10, range=(0, 1))[0] / n - 0.1) < 0.01)


def test_a_rows_scan_does_not_depend_on_the_other_rows_or_the_blocks(monkeypatch) -> None:
    """``scan_counts`` walks its rows block by block and drops finished rows in batches; a row's interval, its
    CDF at the observed count and its value CDF are the same whether it is scanned alone, among 3,000 others, or
    with blocks of 7 rows (a finished row's value CDF stops at the step it finished, not when its batch leaves)."""
    import functools

    from shopseg.models.clv import predictive

    model = ModifiedBetaGeoModel()
    model.params_ = {"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614}
    rng = np.random.default_rng(3)
    x = rng.poisson(2.0, 3000).astype(float)
    T = rng.uniform(20.0, 39.0, 3000)
    t_x = np.where(x > 0, T * rng.uniform(size=3000), 0.0)
    y = rng.poisson(1.0, 3000).astype(float)

    def scan(rows: np.ndarray) -> predictive.CountScan:
        return scan_counts(model, 39.0, x[rows], t_x[rows], T[rows], observed=y[rows], spend_shape=(6.25, 3.74))

    everyone = scan(np.arange(3000))
    monkeypatch.setattr(predictive, "row_blocks", functools.partial(predictive.row_blocks, size=7))
    blocked = scan(np.arange(3000))
    for field in ("lower", "upper", "below", "at", "value_cdf"):
        assert np.array_equal(getattr(everyone, field), getattr(blocked, field)), field
    for i in (0, 1234, 2999):
        alone = scan(np.array([i]))
        for field in ("lower", "upper", "below", "at", "value_cdf"):
            assert np.array_equal(getattr(alone, field)[0], getattr(everyone, field)[i]), (i, field)
