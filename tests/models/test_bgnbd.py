"""BG/NBD: golden numbers from Fader, Hardie & Lee (2005) on CDNOW, lifetimes as a second oracle, properties."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate

from shopseg.errors import ConvergenceWarning, NotFittedError
from shopseg.models import BetaGeoModel
from shopseg.models.clv._summary import compress
from tests.models.conftest import PUBLISHED_BGNBD, assert_sig_figs


def _published() -> BetaGeoModel:
    model = BetaGeoModel()
    model.params_ = dict(PUBLISHED_BGNBD)
    return model


def test_params_match_fader_hardie_lee_2005(bgnbd: BetaGeoModel) -> None:
    """Fader, Hardie & Lee (2005), Marketing Science 24(2), p. 280: r, alpha, a, b on CDNOW; 3 s.f."""
    assert_sig_figs(bgnbd.params_, PUBLISHED_BGNBD)
    assert bgnbd.converged_ and bgnbd.n_customers_ == 2357
    assert bgnbd.n_unique_rows_ < 2357  # fitted on compressed rows


def test_log_likelihood_matches_fader_hardie_lee_2005(bgnbd: BetaGeoModel) -> None:
    """Fader, Hardie & Lee (2005): LL = -9582.4 at the MLE; to the published 0.1."""
    assert bgnbd.log_likelihood_ == pytest.approx(-9582.4, abs=0.05)


def test_conditional_expectation_matches_fader_hardie_lee_2005() -> None:
    """Fader, Hardie & Lee (2005), p. 281: E[Y(39) | x=2, t_x=30.43, T=38.86] = 1.226 at the published parameters; 3 d.p."""
    value = _published().conditional_expected_purchases(39, [2], [30.43], [38.86])[0]
    assert value == pytest.approx(1.226, abs=5e-4)


def test_p_alive_matches_fader_hardie_lee_note_021() -> None:
    """Fader, Hardie & Lee, "Computing P(alive) using the BG/NBD model" (note 021): 0.7266 for the same customer; 4 d.p."""
    value = _published().conditional_probability_alive([2], [30.43], [38.86])[0]
    assert value == pytest.approx(0.7266, abs=5e-5)


def test_new_customer_expectation_matches_fader_hardie_lee_2005(bgnbd: BetaGeoModel) -> None:
    """Fader, Hardie & Lee (2005), eq. 9 at the MLE: E[X(t)] at t = 1, 3, 78 weeks = 0.0532, 0.1506, 1.8576; 3 s.f.

    (At the rounded published parameters t = 78 gives 1.8605: the paper used the unrounded MLE.)
    """
    np.testing.assert_allclose(bgnbd.expected_purchases([1, 3, 78]), [0.0532, 0.1506, 1.8576], rtol=5e-3)


def test_holdout_purchases_match_fader_hardie_lee_2005(cdnow_split: pd.DataFrame) -> None:
    """Fader, Hardie & Lee (2005), p. 282: the 1,411 customers with x = 0 made 334 purchases in weeks 40-78;
    the BG/NBD predicts 0.225 each. Counts exact, prediction to 3 d.p."""
    model = BetaGeoModel().fit(cdnow_split)
    zero = cdnow_split[cdnow_split.frequency_cal == 0]
    assert len(zero) == 1411
    assert int(zero.frequency_holdout.sum()) == 334
    duration = float(cdnow_split.duration_holdout.iloc[0])
    assert duration == pytest.approx(39.0)
    assert model.conditional_expected_purchases(duration, zero).mean() == pytest.approx(0.225, abs=5e-4)


def test_summary_is_what_the_features_compute(cdnow_split: pd.DataFrame, cdnow_summary: pd.DataFrame) -> None:
    """The summary CSV and the features split give the same fit (the data README: equal to 2 decimals)."""
    a = BetaGeoModel().fit(cdnow_split).params_
    assert_sig_figs(a, PUBLISHED_BGNBD)


def test_params_and_predictions_match_lifetimes(bgnbd: BetaGeoModel, cdnow_summary: pd.DataFrame) -> None:
    """lifetimes 0.11 BetaGeoFitter as a second oracle: predictions at our parameters agree to 1e-10 relative."""
    lifetimes = pytest.importorskip("lifetimes")
    ref = lifetimes.BetaGeoFitter()
    ref.params_ = pd.Series(bgnbd.params_)
    f, r, t = (cdnow_summary[c].to_numpy() for c in ("frequency", "recency", "T"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np.testing.assert_allclose(
            bgnbd.conditional_probability_alive(f, r, t), ref.conditional_probability_alive(f, r, t), rtol=1e-10
        )
        np.testing.assert_allclose(
            bgnbd.conditional_expected_purchases(39, f, r, t),
            ref.conditional_expected_number_of_purchases_up_to_time(39, f, r, t),
            rtol=1e-10,
        )
        expected = [ref.probability_of_n_purchases_up_to_time(39, n) for n in range(4)]
    np.testing.assert_allclose([bgnbd.probability_of_purchases(n, 39)[0] for n in range(4)], expected, rtol=1e-8)


def test_standard_errors_are_those_of_the_inverse_hessian(bgnbd: BetaGeoModel) -> None:
    """Delta-method standard errors: finite, positive, and the 95% interval contains the published value."""
    table = bgnbd.summary_
    assert (table.se > 0).all()
    for name, published in PUBLISHED_BGNBD.items():
        assert table.lower_95[name] < published < table.upper_95[name]


def test_pmf_sums_to_one_and_its_mean_is_the_expectation(bgnbd: BetaGeoModel, cdnow_summary: pd.DataFrame) -> None:
    """P(Y(39) = n | history) over n sums to 1 and has mean E[Y(39) | history] (derived in bgnbd._cond_pmf); 1e-6."""
    rows = cdnow_summary.drop_duplicates(["frequency"]).head(6)
    pmf = np.array([bgnbd.probability_of_purchases(n, 39, rows) for n in range(150)])
    np.testing.assert_allclose(pmf.sum(axis=0), 1.0, atol=1e-6)
    np.testing.assert_allclose(np.arange(150) @ pmf, bgnbd.conditional_expected_purchases(39, rows), rtol=1e-6)


def test_next_order_matches_the_lomax_closed_form(bgnbd: BetaGeoModel) -> None:
    """Given alive, the wait is Lomax(r+x, alpha+T): quantiles (alpha+T)((1 - q F(h))^(-1/(r+x)) - 1); 1e-3 relative."""
    x, t_x, big_t, h = 2.0, 30.43, 38.86, 52.0
    r, alpha = bgnbd.params_["r"], bgnbd.params_["alpha"]
    row = bgnbd.next_order([x], [t_x], [big_t], horizon=h, interval=(0.1, 0.9)).iloc[0]
    cdf = lambda u: 1 - ((alpha + big_t) / (alpha + big_t + u)) ** (r + x)  # noqa: E731
    fh = cdf(h)
    quantile = lambda q: (alpha + big_t) * ((1 - q * fh) ** (-1 / (r + x)) - 1)  # noqa: E731
    assert row.next_order_lower == pytest.approx(quantile(0.1), rel=1e-3)
    assert row.next_order_upper == pytest.approx(quantile(0.9), rel=1e-3)
    mean = integrate.quad(lambda u: 1 - cdf(u) / fh, 0, h)[0]
    assert row.next_order_expected == pytest.approx(mean, rel=1e-3)
    p_alive = bgnbd.conditional_probability_alive([x], [t_x], [big_t])[0]
    assert row.p_next_order == pytest.approx(p_alive * fh, rel=1e-9)


def test_predict_gives_one_finite_row_per_customer(bgnbd: BetaGeoModel, cdnow_summary: pd.DataFrame) -> None:
    out = bgnbd.predict(cdnow_summary.assign(customer_id=cdnow_summary.ID), horizon=39)
    assert len(out) == 2357 and list(out.columns[:3]) == ["customer_id", "p_alive", "expected_purchases"]
    assert np.isfinite(out.drop(columns="customer_id").to_numpy()).all()
    assert (out.next_order_lower <= out.next_order_expected).all() and (
        out.next_order_expected <= out.next_order_upper
    ).all()
    assert out.attrs["model"] == "BetaGeoModel"


def test_predict_before_fit_raises() -> None:
    with pytest.raises(NotFittedError, match="not fitted yet"):
        BetaGeoModel().conditional_probability_alive([1], [1.0], [2.0])


def test_stopping_early_warns_with_the_optimiser_message(cdnow_summary: pd.DataFrame) -> None:
    with pytest.warns(ConvergenceWarning, match="did not converge.*optimiser"):
        model = BetaGeoModel(max_iter=2).fit(cdnow_summary)
    assert not model.converged_


@st.composite
def _histories(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = draw(st.integers(1, 25))
    big_t = np.array(draw(st.lists(st.floats(0.5, 80.0), min_size=n, max_size=n)))
    x = np.array(draw(st.lists(st.integers(0, 40), min_size=n, max_size=n)), dtype=float)
    share = np.array(draw(st.lists(st.floats(0.0, 1.0), min_size=n, max_size=n)))
    t_x = np.where(x > 0, np.round(share * big_t, 2), 0.0)
    return x, np.minimum(t_x, big_t), big_t


@settings(max_examples=40, deadline=None)
@given(_histories())
def test_p_alive_is_a_probability(history: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    x, t_x, big_t = history
    p = _published().conditional_probability_alive(x, t_x, big_t)
    assert np.all((p >= 0) & (p <= 1))


@settings(max_examples=40, deadline=None)
@given(_histories(), st.integers(1, 4))
def test_compressed_likelihood_equals_the_sum_over_customers(history: tuple[np.ndarray, ...], copies: int) -> None:
    """Weighted log-likelihood on unique rows == plain sum over (duplicated) customers."""
    x, t_x, big_t = (np.tile(a, copies) for a in history)
    model, params = BetaGeoModel(), np.array(list(PUBLISHED_BGNBD.values()))
    s = compress(x, t_x, big_t)
    full = model._loglik(params, x, t_x, big_t).sum()
    assert s.weights @ model._loglik(params, s.x, s.t_x, s.T) == pytest.approx(full, rel=1e-12)


def test_grid_next_order_agrees_with_the_closed_form(bgnbd: BetaGeoModel, cdnow_summary: pd.DataFrame) -> None:
    """The generic grid of next_order.py (used by the Pareto/NBD) against the BG/NBD's exact Lomax formulas; 1e-3."""
    from shopseg.models.clv._summary import read_summary
    from shopseg.models.clv.next_order import next_order_from_cdf

    s, p = read_summary(cdnow_summary), np.array(list(bgnbd.params_.values()))
    exact = bgnbd._next_order_closed(p, s.x, s.T, 52.0, (0.1, 0.9))
    grid = next_order_from_cdf(lambda u, rows: bgnbd._next_cdf(p, u, s.x[rows], s.T[rows]), len(s.x), 52.0, (0.1, 0.9))
    for col in exact.columns:
        np.testing.assert_allclose(grid[col], exact[col], rtol=1e-3, err_msg=col)


def test_heavy_buyers_get_finite_expectations_by_quadrature() -> None:
    """scipy's 2F1 fails for x = 1000 over 10 years; the Gauss-Jacobi fallback (E_p[(1 - (c/(c+pt))^(r+x))/p])
    takes over, and agrees with the closed form wherever that one works (x <= 200, t <= 520 weeks; 1e-9)."""
    from shopseg.models.clv.bgnbd import _expected_given_alive

    model = _published()
    p = np.array(list(PUBLISHED_BGNBD.values()))
    x, t_x, big_t = np.array([0, 1, 10, 50, 200, 1000.0]), np.array([0, 5, 30, 38, 38.5, 38.8]), np.full(6, 38.86)
    alive = model.conditional_probability_alive(x, t_x, big_t)
    for t in (1.0, 39.0, 520.0):
        closed = model.conditional_expected_purchases(t, x, t_x, big_t)
        assert np.isfinite(closed).all()
        quadrature = _expected_given_alive(p, np.full(6, t), x, big_t) * alive
        np.testing.assert_allclose(closed, quadrature, rtol=1e-9)


def test_params_match_a_lifetimes_fit(bgnbd: BetaGeoModel, cdnow_summary: pd.DataFrame) -> None:
    """lifetimes 0.11 BetaGeoFitter fitted on the same CDNOW summary: identical parameters to 3 s.f. (issue 5, item 7)."""
    lifetimes = pytest.importorskip("lifetimes")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = lifetimes.BetaGeoFitter().fit(cdnow_summary.frequency, cdnow_summary.recency, cdnow_summary["T"])
    assert {k: f"{v:.3g}" for k, v in bgnbd.params_.items()} == {
        k: f"{float(ref.params_[k]):.3g}" for k in PUBLISHED_BGNBD
    }
