"""Fits with row weights (a bootstrap's resample counts) equal fits on the expanded rows."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest

from shopseg.errors import SchemaError
from shopseg.models import GammaGammaModel
from shopseg.models.clv.registry import make_purchase_model
from shopseg.predict.bootstrap import Bootstrap


def _summary(n: int = 600, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    T = rng.integers(30, 60, n).astype(float)
    x = rng.poisson(1.5, n).astype(float)
    t_x = np.where(x > 0, np.floor(rng.uniform(0, 1, n) * T), 0.0)
    m = np.where(x > 0, np.round(rng.gamma(4.0, 10.0, n)), 0.0)
    return pd.DataFrame({"frequency": x, "recency": t_x, "T": T, "monetary_value": m})


@pytest.mark.parametrize("model", ["bgnbd", "mbgnbd", "pareto"])
def test_weighted_purchase_fit_equals_expanded_fit(model: str, cdnow_summary: pd.DataFrame) -> None:
    """Weight k on a row is k copies of it (CDNOW, params to 1e-6); weight 0 drops the row."""
    rows = cdnow_summary
    weights = np.random.default_rng(0).integers(0, 4, len(rows)).astype(float)
    expanded = rows.loc[rows.index.repeat(weights.astype(int))].reset_index(drop=True)
    a = make_purchase_model(model).fit(rows, weights=weights).params_
    b = make_purchase_model(model).fit(expanded).params_
    np.testing.assert_allclose([a[k] for k in a], [b[k] for k in a], rtol=1e-5, atol=1e-6)


def test_weighted_gamma_gamma_equals_expanded_fit() -> None:
    rows = _summary()
    weights = np.random.default_rng(1).integers(0, 4, len(rows)).astype(float)
    expanded = rows.loc[rows.index.repeat(weights.astype(int))].reset_index(drop=True)
    a, b = GammaGammaModel().fit(rows, weights=weights), GammaGammaModel().fit(expanded)
    np.testing.assert_allclose(list(a.params_.values()), list(b.params_.values()), rtol=1e-6)
    assert a.population_mean_ == pytest.approx(b.population_mean_)


def test_bad_weights_are_refused() -> None:
    with pytest.raises(SchemaError, match="weights must be"):
        make_purchase_model("bgnbd").fit(_summary(), weights=np.full(600, -1.0))


def test_bootstrap_draws_map_back_to_every_buyer() -> None:
    """Draws are per distinct (frequency, recency, T) row; ``inverse`` maps them back; seeded replicates
    repeat exactly; the band made in chunks equals the band of the whole (replicates x buyers) matrix."""
    rows = _summary().assign(order_value=40.0)
    one = Bootstrap(rows, 3, 7, 30.0, 0.01, "bgnbd", 0.0).run()
    two = Bootstrap(rows, 3, 7, 30.0, 0.01, "bgnbd", 0.0).run()
    width = len(np.unique(rows[["frequency", "recency", "T"]].to_numpy(), axis=0))
    assert one.replicates == 3 and one.purchases.shape == one.discounted.shape == (3, width)
    assert len(one.inverse) == len(rows) and one.inverse.max() == width - 1
    np.testing.assert_array_equal(one.purchases, two.purchases)
    expected, clv = one.purchases.mean(axis=0)[one.inverse], np.full(len(rows), 50.0)
    whole = np.stack([2.0 * spend(rows) * d[one.inverse] for spend, d in zip(one.spends, one.discounted)])
    lo, hi = np.quantile(whole, [0.1, 0.9], axis=0)
    e_lo, e_hi, c_lo, c_hi = one.intervals(rows, expected, clv, 2.0, chunk=77)
    np.testing.assert_allclose(c_lo, np.minimum(lo, clv), rtol=1e-12)
    np.testing.assert_allclose(c_hi, np.maximum(hi, clv), rtol=1e-12)
    assert (e_lo <= expected).all() and (expected <= e_hi).all() and (e_lo < e_hi).any()


@pytest.mark.parametrize("model", ["bgnbd", "mbgnbd", "pareto"])
def test_discounted_expected_purchases_equals_the_monthly_path(model: str, cdnow_summary: pd.DataFrame) -> None:
    """The grouped computation (2F1 per (x, T), P(alive) per row) equals the matrix of expected purchases
    at each time, differenced and weighted (CDNOW, to 1e-12 relative)."""
    fitted = make_purchase_model(model).fit(cdnow_summary)
    times, factors = np.array([4.0, 13.0, 26.0, 39.0]), np.array([0.99, 0.97, 0.95, 0.9])
    cum = fitted.conditional_expected_purchases_at(times, cdnow_summary)
    last, discounted = fitted.discounted_expected_purchases(times, factors, cdnow_summary)
    loop = np.stack([fitted.conditional_expected_purchases(t, cdnow_summary) for t in times])
    np.testing.assert_allclose(cum, loop, rtol=1e-12)
    np.testing.assert_allclose(last, loop[-1], rtol=1e-12)
    np.testing.assert_allclose(discounted, factors @ np.diff(loop, axis=0, prepend=0.0), rtol=1e-12)


@pytest.mark.parametrize("model", ["bgnbd", "mbgnbd", "pareto"])
def test_warm_start_reaches_the_cold_fit(model: str, cdnow_summary: pd.DataFrame) -> None:
    """Started at a nearby point (init_params) the fit reaches the default start's log-likelihood (CDNOW, to
    1e-3 units; the parameters to 2e-3 relative, the optimiser's tolerance on a flat ridge);
    standard_errors=False leaves them NaN; a Summary is taken as already compressed."""
    from shopseg.models.clv._summary import read_summary

    cold = make_purchase_model(model).fit(cdnow_summary)
    start = {k: v * 1.1 for k, v in cold.params_.items()}
    warm = make_purchase_model(model).fit(cdnow_summary, init_params=start, standard_errors=False)
    assert warm.log_likelihood_ >= cold.log_likelihood_ - 1e-3
    np.testing.assert_allclose(list(warm.params_.values()), list(cold.params_.values()), rtol=2e-3)
    assert all(np.isnan(v) for v in warm.standard_errors_.values())
    s = read_summary(cdnow_summary)
    again = make_purchase_model(model).fit(s, weights=s.weights)
    np.testing.assert_allclose(list(again.params_.values()), list(cold.params_.values()), rtol=1e-9)


def test_gamma_gamma_warm_start_reaches_the_cold_fit() -> None:
    rows = _summary()
    cold = GammaGammaModel().fit(rows)
    warm = GammaGammaModel().fit(rows, init_params=dict(cold.params_), standard_errors=False)
    np.testing.assert_allclose(list(warm.params_.values()), list(cold.params_.values()), rtol=1e-4)
    assert all(np.isnan(v) for v in warm.standard_errors_.values())


@pytest.mark.parametrize(("model", "settles"), [("bgnbd", True), ("mbgnbd", True), ("pareto", False)])
def test_a_refit_by_newton_steps_ends_at_the_lbfgs_optimum(
    model: str, settles: bool, cdnow_summary: pd.DataFrame, monkeypatch
) -> None:
    """A bootstrap refit started at the point fit with its curvature (Newton steps with that fixed Hessian)
    ends where L-BFGS-B ends from the same start: log-likelihood no lower (to 1e-6), parameters to 1e-3
    relative (L-BFGS-B's own tolerance on CDNOW's flat ridge). The (M)BG/NBD steps settle; the Pareto/NBD's
    contract by only ~0.6 a step on CDNOW's 2,357 customers, so L-BFGS-B takes over."""
    import shopseg.models.clv._base as base

    point = make_purchase_model(model).fit(cdnow_summary)
    assert point.curvature_ is not None and point.curvature_.shape == (len(point.params_),) * 2
    n = len(cdnow_summary)
    weights = np.bincount(np.random.default_rng(5).integers(0, n, n), minlength=n).astype(float)
    settled = []
    newton_steps = base._newton
    monkeypatch.setattr(base, "_newton", lambda *a: settled.append(newton_steps(*a)) or settled[-1])
    kwargs = {"weights": weights, "init_params": point.params_, "standard_errors": False}
    newton = make_purchase_model(model).fit(cdnow_summary, init_curvature=point.curvature_, **kwargs)
    assert len(settled) == 1 and (settled[0] is not None) == settles
    lbfgs = make_purchase_model(model).fit(cdnow_summary, **kwargs)
    assert len(settled) == 1  # no curvature: L-BFGS-B alone
    assert newton.log_likelihood_ >= lbfgs.log_likelihood_ - 1e-6
    np.testing.assert_allclose(list(newton.params_.values()), list(lbfgs.params_.values()), rtol=1e-3)
    assert newton.curvature_ is None  # no standard errors, no curvature


def test_newton_steps_that_do_not_settle_hand_over_to_lbfgs(cdnow_summary: pd.DataFrame) -> None:
    """A curvature far from the objective's (here the identity x 1e3: steps too short to settle in time) makes
    the refit fall back to L-BFGS-B, which reaches the cold fit's optimum."""
    point = make_purchase_model("bgnbd").fit(cdnow_summary)
    start = {k: v * 1.5 for k, v in point.params_.items()}
    refit = make_purchase_model("bgnbd").fit(
        cdnow_summary, init_params=start, init_curvature=np.eye(4) * 1e3, standard_errors=False
    )
    assert refit.log_likelihood_ == pytest.approx(point.log_likelihood_, abs=1e-3)


def test_bootstrap_with_a_helper_thread_gives_the_same_draws() -> None:
    """Replicate i gets the i-th seeded draw whichever thread fits it: a helper thread taking replicates
    (as the churn model's thread does in ``predict run``) changes nothing in the draws, to the bit."""
    rows = _summary().assign(order_value=40.0)
    alone = Bootstrap(rows, 8, 7, 30.0, 0.01, "mbgnbd", 0.0).run()
    boot = Bootstrap(rows, 8, 7, 30.0, 0.01, "mbgnbd", 0.0)
    with ThreadPoolExecutor(1) as pool:
        helped = pool.submit(boot.help)
        shared = boot.run()
        helped.result()
    assert shared.replicates == alone.replicates == 8
    np.testing.assert_array_equal(shared.purchases, alone.purchases)
    np.testing.assert_array_equal(shared.discounted, alone.discounted)
    expected, clv = alone.purchases.mean(axis=0)[alone.inverse], np.full(len(rows), 50.0)
    with ThreadPoolExecutor(1) as pool:  # the band's blocks split between two threads: the same band
        split = shared.intervals(rows, expected, clv, 2.0, chunk=77, pool=pool)
    for a, b in zip(split, alone.intervals(rows, expected, clv, 2.0, chunk=77)):
        np.testing.assert_array_equal(a, b)


def test_a_waiting_helper_is_released_when_the_bootstrap_never_runs() -> None:
    """``predict run`` hands its second thread to the bootstrap before the intervals: if those fail, close()
    must release the helper, or the thread pool would wait for it forever."""
    boot = Bootstrap(_summary().assign(order_value=40.0), 4, 0, 30.0, 0.01, "bgnbd", 0.0)
    with ThreadPoolExecutor(1) as pool:
        helped = pool.submit(boot.help)
        boot.close()
        assert helped.result(timeout=30) is None


def test_a_failing_replicate_is_raised_in_the_caller() -> None:
    """An unexpected error in a replicate (not an unusable resample) reaches the caller of run()."""
    boot = Bootstrap(_summary().assign(order_value=40.0), 3, 0, 30.0, 0.01, "bgnbd", 0.0)

    def broken(i: int, weights: np.ndarray) -> None:
        raise MemoryError("replicate 0")

    boot._refit = broken  # type: ignore[method-assign]
    with pytest.raises(MemoryError, match="replicate 0"):
        boot.run()
