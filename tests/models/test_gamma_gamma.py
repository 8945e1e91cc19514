"""Gamma-Gamma: golden numbers from Fader, Hardie & Lee (2005, "RFM and CLV") and note 025 on CDNOW."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from shopseg.errors import DataQualityWarning, NotFittedError, SchemaError, ShopsegError
from shopseg.models import GammaGammaModel
from tests.models.conftest import PUBLISHED_GG, assert_sig_figs


def test_params_match_fader_hardie_note_025(gamma_gamma: GammaGammaModel) -> None:
    """Fader & Hardie note 025 / Fader, Hardie & Lee (2005) JMR 42(4): p, q, gamma = 6.25, 3.74, 15.44 on the 946
    CDNOW repeat customers; 3 s.f.

    Monetary definition that reproduces them: ``monetary_value_cal`` of calibration_holdout_split, i.e. the mean
    value of the *repeat* purchase days (orders summed per day, first day left out) in weeks 1-39. Averaging
    every purchase day including the first gives p, q, gamma = 14.3, 3.95, 7.29 instead.
    """
    assert_sig_figs(gamma_gamma.params_, PUBLISHED_GG)
    assert gamma_gamma.n_customers_ == 946


def test_log_likelihood_matches_fader_hardie_note_025(gamma_gamma: GammaGammaModel) -> None:
    """Note 025: LL = -4055.9 (the density of the mean, with its x^(px) m^(px-1) terms); to the published 0.1."""
    assert gamma_gamma.log_likelihood_ == pytest.approx(-4055.9, abs=0.05)


def test_expected_spend_matches_lifetimes(gamma_gamma: GammaGammaModel, cdnow_split: pd.DataFrame) -> None:
    """lifetimes 0.11 GammaGammaFitter.conditional_expected_average_profit at our parameters; 1e-12 relative."""
    lifetimes = pytest.importorskip("lifetimes")
    ref = lifetimes.GammaGammaFitter()
    ref.params_ = pd.Series(
        {"p": gamma_gamma.params_["p"], "q": gamma_gamma.params_["q"], "v": gamma_gamma.params_["gamma"]}
    )
    repeat = cdnow_split[cdnow_split.frequency_cal > 0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = ref.conditional_expected_average_profit(repeat.frequency_cal, repeat.monetary_value_cal).to_numpy()
    np.testing.assert_allclose(gamma_gamma.conditional_expected_average_profit(repeat), expected, rtol=1e-12)


def test_spend_shrinks_toward_the_population_mean(gamma_gamma: GammaGammaModel) -> None:
    """Note 025 eq. 5: a weighted mean of p*gamma/(q-1) and the customer's mean; x = 0 gets the population mean."""
    population = gamma_gamma.expected_average_profit()
    out = gamma_gamma.conditional_expected_average_profit([0, 1, 50], [0.0, 500.0, 500.0])
    assert out[0] == pytest.approx(population)
    assert population < out[1] < out[2] < 500.0


def test_standard_errors_cover_the_published_values(gamma_gamma: GammaGammaModel) -> None:
    table = gamma_gamma.summary_
    for name, published in PUBLISHED_GG.items():
        assert table.lower_95[name] < published < table.upper_95[name]


def test_no_repeat_customer_is_a_clear_error() -> None:
    with pytest.raises(SchemaError, match="only 0 repeat customers.*Hint: the spend model needs repeat buyers"):
        GammaGammaModel().fit([0, 0, 0], [0.0, 0.0, 0.0])


def test_too_few_repeat_customers_can_fall_back() -> None:
    """fallback='population': every customer gets the repeat-purchase-weighted mean spend, flagged in fallback_."""
    with pytest.warns(DataQualityWarning, match="only 5 repeat customers.*population mean spend 16.56"):
        model = GammaGammaModel(fallback="population").fit([1, 2, 3, 1, 2, 0], [10.0, 20.0, 15.0, 30.0, 12.0, 0.0])
    assert "min_customers=30" in model.fallback_
    np.testing.assert_allclose(model.conditional_expected_average_profit([0, 1], [0.0, 10.0]), [149 / 9, 149 / 9])


def test_zero_spend_repeaters_are_left_out_with_a_warning(
    gamma_gamma: GammaGammaModel, cdnow_split: pd.DataFrame
) -> None:
    data = cdnow_split.copy()
    first = data.index[data.frequency_cal > 0][0]
    data.loc[first, "monetary_value_cal"] = 0.0
    with pytest.warns(DataQualityWarning, match="1 repeat customers with monetary_value <= 0"):
        model = GammaGammaModel().fit(data)
    assert model.n_customers_ == 945


def test_infinite_population_mean_is_an_error_not_nan() -> None:
    model = GammaGammaModel()
    model.params_ = {"p": 2.0, "q": 0.8, "gamma": 10.0}
    with pytest.raises(ShopsegError, match="q = 0.8 <= 1"):
        model.conditional_expected_average_profit([0, 2], [0.0, 10.0])


def test_negative_spend_is_rejected() -> None:
    with pytest.raises(SchemaError, match="negative frequency or monetary_value"):
        GammaGammaModel().fit([1, 2], [10.0, -5.0])


def test_predict_before_fit_raises() -> None:
    with pytest.raises(NotFittedError):
        GammaGammaModel().expected_average_profit()


def test_a_refit_from_the_curvature_reaches_the_optimum() -> None:
    """A bootstrap refit starts at the point fit and, given its ``curvature_``, takes Newton steps: on 200,000
    simulated repeat customers it lands within 1e-6 of the reweighted data's optimum (found here by L-BFGS-B run
    to machine precision), closer than L-BFGS-B at its default tolerance gets (about 1e-4 away on the 1M benchmark
    store, as far as the bootstrap band it feeds is wide)."""
    from scipy import optimize

    rng = np.random.default_rng(5)
    p, q, gamma, n = 6.25, 3.74, 15.44, 200_000  # Fader, Hardie & Lee (2005), CDNOW
    x = 1.0 + rng.poisson(2.0, n)
    nu = rng.gamma(q, 1.0 / gamma, n)
    data = pd.DataFrame({"frequency": x, "monetary_value": rng.gamma(p * x, 1.0 / nu) / x})
    point = GammaGammaModel().fit(data)
    weights = np.bincount(rng.integers(0, n, n), minlength=n).astype(float)  # a bootstrap resample
    start = {"init_params": point.params_, "standard_errors": False}
    newton = GammaGammaModel().fit(data, weights=weights, init_curvature=point.curvature_, **start)
    plain = GammaGammaModel().fit(data, weights=weights, **start)
    value_and_grad = GammaGammaModel._gradient(x, data["monetary_value"].to_numpy(), weights)

    def objective(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        ll, grad = value_and_grad(np.exp(log_params))
        return -ll / n, -grad * np.exp(log_params) / n

    first = np.log(list(point.params_.values()))
    best = optimize.minimize(objective, first, jac=True, method="L-BFGS-B", options={"ftol": 1e-16, "gtol": 1e-13})

    def error(model: GammaGammaModel) -> float:
        return float(np.max(np.abs(np.array(list(model.params_.values())) / np.exp(best.x) - 1)))

    assert point.curvature_ is not None
    assert error(newton) < 1e-6 and error(newton) < error(plain)
