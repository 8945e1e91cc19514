"""The statistics match SciPy and closed forms on known and random cases."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate
from scipy import stats as sps

from shopseg.errors import InvalidParameterError
from shopseg.experiments import bootstrap_lift, prob_beat_control, proportion_lift, srm_check, welch_lift

samples = st.lists(st.floats(0, 1000, allow_nan=False), min_size=3, max_size=60)


@settings(max_examples=60, deadline=None)
@given(samples, samples)
def test_welch_matches_scipy_ttest_ind_unequal_var(a, b):
    """scipy.stats.ttest_ind(equal_var=False): statistic, p-value and confidence interval, rtol 1e-9."""
    a, b = np.array(a), np.array(b)
    if a.var() == 0 or b.var() == 0:
        return
    ours = welch_lift(a, b)
    ref = sps.ttest_ind(b, a, equal_var=False)
    np.testing.assert_allclose([ours.statistic, ours.p_value], [ref.statistic, ref.pvalue], rtol=1e-9, atol=1e-12)
    ci = ref.confidence_interval(0.95)
    np.testing.assert_allclose(ours.absolute_ci, [ci.low, ci.high], rtol=1e-9, atol=1e-9)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 2000), st.integers(1, 2000), st.data())
def test_z_test_matches_scipy_chi2_contingency(n_c, n_t, data):
    """Pooled two-proportion z squared is Pearson's chi-square without continuity correction."""
    x_c = data.draw(st.integers(1, n_c - 1)) if n_c > 1 else 1
    x_t = data.draw(st.integers(1, n_t - 1)) if n_t > 1 else 1
    if n_c < 2 or n_t < 2:
        return
    ours = proportion_lift(x_c, n_c, x_t, n_t)
    chi2, p, _, _ = sps.chi2_contingency([[x_c, n_c - x_c], [x_t, n_t - x_t]], correction=False)
    np.testing.assert_allclose([ours.statistic**2, ours.p_value], [chi2, p], rtol=1e-8, atol=1e-12)


def test_proportion_lift_known_case():
    """200/1000 vs 250/1000: z = 0.05 / sqrt(0.225 * 0.775 * 2 / 1000) = 2.6774 (hand computation)."""
    r = proportion_lift(200, 1000, 250, 1000)
    assert r.statistic == pytest.approx(2.6774, abs=1e-4)
    se = np.sqrt(0.2 * 0.8 / 1000 + 0.25 * 0.75 / 1000)
    assert r.absolute_ci == pytest.approx((0.05 - 1.959964 * se, 0.05 + 1.959964 * se), abs=1e-6)
    assert r.relative == pytest.approx(0.25) and r.relative_ci[0] < 0.25 < r.relative_ci[1]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 5000), min_size=2, max_size=5), st.data())
def test_srm_matches_scipy_chisquare(counts, data):
    if sum(counts) == 0:
        return
    weights = data.draw(st.lists(st.integers(1, 9), min_size=len(counts), max_size=len(counts)))
    names = [f"g{i}" for i in range(len(counts))]
    ours = srm_check(dict(zip(names, counts, strict=True)), dict(zip(names, weights, strict=True)))
    exp = np.array(weights) / sum(weights) * sum(counts)
    ref = sps.chisquare(counts, exp)
    np.testing.assert_allclose([ours.chi2, ours.p_value], [ref.statistic, ref.pvalue], rtol=1e-9, atol=1e-12)


def test_srm_flags_a_broken_split():
    """A 50/50 design observed as 50.6% / 49.4% of 800,000 customers: chi2 = 115.2, p ~ 1e-26 (hand computation)."""
    assert srm_check({"control": 404_800, "treatment": 395_200}, {"control": 0.5, "treatment": 0.5}).mismatch
    assert not srm_check({"control": 5030, "treatment": 4970}, {"control": 0.5, "treatment": 0.5}).mismatch


@pytest.mark.parametrize(("x_c", "n_c", "x_t", "n_t"), [(10, 100, 15, 100), (3, 40, 1, 30), (120, 1000, 100, 900)])
def test_probability_to_beat_control_matches_numerical_integration(x_c, n_c, x_t, n_t):
    """Evan Miller's closed form against quad of P(p_t > p_c) = integral of f_c(x) * (1 - F_t(x)) dx."""
    a_c, b_c, a_t, b_t = 1 + x_c, 1 + n_c - x_c, 1 + x_t, 1 + n_t - x_t
    ref, _ = integrate.quad(lambda x: sps.beta.pdf(x, a_c, b_c) * sps.beta.sf(x, a_t, b_t), 0, 1, limit=200)
    assert prob_beat_control(x_c, n_c, x_t, n_t) == pytest.approx(ref, abs=1e-6)
    mc = prob_beat_control(x_c, n_c, x_t, n_t, prior=(1.5, 1.0))  # non-integer: Monte Carlo path
    a_c, a_t = 1.5 + x_c, 1.5 + x_t
    ref2, _ = integrate.quad(lambda x: sps.beta.pdf(x, a_c, 1 + n_c - x_c) * sps.beta.sf(x, a_t, 1 + n_t - x_t), 0, 1)
    assert mc == pytest.approx(ref2, abs=0.005)


def test_bootstrap_agrees_with_welch_on_large_samples():
    rng = np.random.default_rng(3)
    a, b = rng.gamma(2.0, 20.0, 3000), rng.gamma(2.0, 22.0, 3000)
    boot, welch = bootstrap_lift(a, b, n_boot=2000, seed=1), welch_lift(a, b)
    assert boot.absolute == pytest.approx(welch.absolute)
    assert boot.absolute_ci == pytest.approx(welch.absolute_ci, abs=0.4)
    assert bootstrap_lift(a, b, n_boot=500, seed=1).absolute_ci == bootstrap_lift(a, b, n_boot=500, seed=1).absolute_ci


def test_bad_inputs():
    with pytest.raises(InvalidParameterError, match="0 <= conversions <= customers"):
        proportion_lift(5, 4, 1, 10)
    with pytest.raises(InvalidParameterError, match="at least 2 customers"):
        welch_lift(np.array([1.0]), np.array([1.0, 2.0]))
    with pytest.raises(InvalidParameterError, match="The 'alpha' parameter"):
        proportion_lift(1, 10, 2, 10, alpha=1.5)
    with pytest.raises(InvalidParameterError, match="groups differ"):
        srm_check({"a": 1}, {"a": 0.5, "b": 0.5})
