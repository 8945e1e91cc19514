"""MBG/NBD: the BTYDplus CDNOW fit, lifetimes' ModifiedBetaGeoFitter as an oracle, one-time buyers not certainly alive."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pandas as pd
import pytest

from shopseg.models import ModifiedBetaGeoModel
from tests.models.conftest import assert_sig_figs

# Platzer, BTYDplus (R), mbgnbd.EstimateParameters on the CDNOW sample (2,357 customers, weeks); also the
# reference of lifetimes' test suite (test_params_out_is_close_to_BTYDplus), to 3 decimals.
BTYDPLUS_MBGNBD = {"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614}


@pytest.fixture(scope="module")
def mbgnbd(cdnow_summary: pd.DataFrame) -> ModifiedBetaGeoModel:
    return ModifiedBetaGeoModel().fit(cdnow_summary)


@pytest.fixture(scope="module")
def oracle(mbgnbd: ModifiedBetaGeoModel):  # noqa: ANN201 - lifetimes fitter at our parameters
    from lifetimes import ModifiedBetaGeoFitter

    fitter = ModifiedBetaGeoFitter()
    fitter.params_ = pd.Series(OrderedDict((k, mbgnbd.params_[k]) for k in ("r", "alpha", "a", "b")))
    return fitter


def test_params_match_btydplus(mbgnbd: ModifiedBetaGeoModel) -> None:
    """BTYDplus MBG/NBD on CDNOW: r, alpha, a, b = 0.525, 6.183, 0.891, 1.614; 3 s.f."""
    assert_sig_figs(mbgnbd.params_, BTYDPLUS_MBGNBD)
    assert mbgnbd.converged_ and mbgnbd.n_customers_ == 2357


def test_log_likelihood_matches_lifetimes(mbgnbd: ModifiedBetaGeoModel, cdnow_summary: pd.DataFrame, oracle) -> None:
    """lifetimes' ModifiedBetaGeoFitter._negative_log_likelihood at the same parameters, to 1e-6 relative."""
    f, r, t = (cdnow_summary[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    params = np.log([mbgnbd.params_[k] for k in ("r", "alpha", "a", "b")])
    nll = oracle._negative_log_likelihood(params, f, r, t, np.ones(len(f)), 0.0) * len(f)
    assert mbgnbd.log_likelihood_ == pytest.approx(-nll, rel=1e-6)


def test_p_alive_and_conditional_expectation_match_lifetimes(mbgnbd, cdnow_summary, oracle) -> None:
    """P(alive) and E[X(39) | history] for every CDNOW customer equal lifetimes' closed forms (1e-8 relative)."""
    f, r, t = (cdnow_summary[c] for c in ("frequency", "recency", "T"))
    np.testing.assert_allclose(
        mbgnbd.conditional_probability_alive(cdnow_summary), oracle.conditional_probability_alive(f, r, t), rtol=1e-8
    )
    np.testing.assert_allclose(
        mbgnbd.conditional_expected_purchases(39, cdnow_summary),
        oracle.conditional_expected_number_of_purchases_up_to_time(39, f, r, t),
        rtol=1e-8,
    )
    np.testing.assert_allclose(
        mbgnbd.expected_purchases([1.0, 3.0, 78.0]),
        oracle.expected_number_of_purchases_up_to_time(np.array([1.0, 3.0, 78.0])),
        rtol=1e-8,
    )


def test_new_customer_pmf_matches_lifetimes(mbgnbd, oracle) -> None:
    """P(X(t) = n) of a new customer equals lifetimes' probability_of_n_purchases_up_to_time, n = 0..8, t = 39."""
    ours = [float(mbgnbd.probability_of_purchases(n, 39.0)[0]) for n in range(9)]
    theirs = [float(oracle.probability_of_n_purchases_up_to_time(39.0, n)) for n in range(9)]
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)


def test_one_time_buyers_are_not_certainly_alive(mbgnbd: ModifiedBetaGeoModel) -> None:
    """Unlike the BG/NBD (P(alive) = 1 for x = 0), a one-time buyer's P(alive) is below 1 and falls with T."""
    alive = mbgnbd.conditional_probability_alive([0, 0, 0], [0.0, 0.0, 0.0], [5.0, 20.0, 38.86])
    assert np.all(alive < 1) and np.all(np.diff(alive) < 0)
    a, b, r, alpha = (mbgnbd.params_[k] for k in ("a", "b", "r", "alpha"))
    assert alive[2] == pytest.approx(1.0 / (1.0 + a / b * ((alpha + 38.86) / alpha) ** r), rel=1e-12)


@pytest.mark.parametrize("name", ["bgnbd", "mbgnbd", "pareto"])
def test_pmf_sums_to_one_and_its_mean_is_the_closed_form(name: str, cdnow_summary: pd.DataFrame) -> None:
    """sum_k P(X(39) = k | history) = 1 and sum_k k P(X(39) = k) = E[X(39) | history] (2F1 / closed form), 1e-6."""
    from shopseg.models.clv.registry import make_purchase_model

    model = make_purchase_model(name).fit(cdnow_summary)
    rows = cdnow_summary.sort_values("frequency").iloc[::50]
    pmf = np.stack([model.probability_of_purchases(k, 39.0, rows) for k in range(400)], axis=1)
    np.testing.assert_allclose(pmf.sum(axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(pmf @ np.arange(400), model.conditional_expected_purchases(39.0, rows), rtol=1e-5)
