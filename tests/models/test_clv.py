"""Discounted CLV: lifetimes' customer_lifetime_value as the oracle, plus closed-form special cases."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from shopseg.errors import SchemaError
from shopseg.models import BetaGeoModel, GammaGammaModel, ParetoNBDModel, customer_lifetime_value


def test_clv_matches_lifetimes(bgnbd: BetaGeoModel, gamma_gamma: GammaGammaModel, cdnow_split: pd.DataFrame) -> None:
    """lifetimes 0.11 customer_lifetime_value(time=12, freq='W', discount_rate=0.01): monthly steps of 4.345 weeks; 1e-9."""
    lifetimes = pytest.importorskip("lifetimes")
    bg = lifetimes.BetaGeoFitter()
    bg.params_ = pd.Series(bgnbd.params_)
    bg.predict = bg.conditional_expected_number_of_purchases_up_to_time
    gg = lifetimes.GammaGammaFitter()
    gg.params_ = pd.Series({"p": gamma_gamma.params_["p"], "q": gamma_gamma.params_["q"], "v": gamma_gamma.params_["gamma"]})
    d = cdnow_split
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = gg.customer_lifetime_value(
            bg, d.frequency_cal, d.recency_cal, d.T_cal, d.monetary_value_cal, time=12, discount_rate=0.01, freq="W"
        ).to_numpy()
    ours = customer_lifetime_value(bgnbd, gamma_gamma, d, horizon=12 * 4.345, step=4.345, discount_rate=0.01)
    np.testing.assert_allclose(ours.to_numpy(), expected, rtol=1e-9)
    assert ours.name == "clv" and ours.index.equals(d.index)


def test_undiscounted_clv_is_spend_times_expected_purchases(
    pareto: ParetoNBDModel, gamma_gamma: GammaGammaModel, cdnow_split: pd.DataFrame
) -> None:
    """With discount_rate = 0 the increments telescope: CLV = margin * E[spend] * E[Y(horizon)]."""
    clv = customer_lifetime_value(pareto, gamma_gamma, cdnow_split, horizon=39, step=3, discount_rate=0.0, margin=0.3)
    spend = gamma_gamma.conditional_expected_average_profit(cdnow_split)
    np.testing.assert_allclose(clv, 0.3 * spend * pareto.conditional_expected_purchases(39, cdnow_split), rtol=1e-12)


def test_discounting_lowers_clv(bgnbd: BetaGeoModel, gamma_gamma: GammaGammaModel, cdnow_split: pd.DataFrame) -> None:
    low = customer_lifetime_value(bgnbd, gamma_gamma, cdnow_split, discount_rate=0.0)
    high = customer_lifetime_value(bgnbd, gamma_gamma, cdnow_split, discount_rate=0.05)
    assert (high < low).all() and np.isfinite(high).all()


def test_bad_arguments_are_all_reported(bgnbd: BetaGeoModel, gamma_gamma: GammaGammaModel, cdnow_split: pd.DataFrame) -> None:
    with pytest.raises(SchemaError, match="horizon must be > 0.*discount_rate must be >= 0"):
        customer_lifetime_value(bgnbd, gamma_gamma, cdnow_split, horizon=-1, step=1, discount_rate=-0.1)
