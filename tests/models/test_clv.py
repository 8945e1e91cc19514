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
    gg.params_ = pd.Series(
        {"p": gamma_gamma.params_["p"], "q": gamma_gamma.params_["q"], "v": gamma_gamma.params_["gamma"]}
    )
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


def test_bad_arguments_are_all_reported(
    bgnbd: BetaGeoModel, gamma_gamma: GammaGammaModel, cdnow_split: pd.DataFrame
) -> None:
    with pytest.raises(SchemaError, match="horizon must be > 0.*discount_rate must be >= 0"):
        customer_lifetime_value(bgnbd, gamma_gamma, cdnow_split, horizon=-1, step=1, discount_rate=-0.1)


def test_predict_customer_value_gives_the_workspace_table(
    bgnbd: BetaGeoModel, gamma_gamma: GammaGammaModel, cdnow_split: pd.DataFrame
) -> None:
    """All predictions in one frame; dates from the split's calibration_end and weeks; every number finite."""
    from shopseg.models import predict_customer_value

    out = predict_customer_value(bgnbd, gamma_gamma, cdnow_split, horizon=52)
    assert list(out.columns[:5]) == ["customer_id", "p_alive", "expected_purchases", "expected_spend", "clv"]
    assert len(out) == len(cdnow_split)
    numbers = out.select_dtypes("number")
    assert np.isfinite(numbers.to_numpy()).all()
    start = pd.Timestamp("1997-09-30")
    assert (out.next_order_date_lower >= start).all() and (
        out.next_order_date_upper <= start + pd.Timedelta(weeks=52)
    ).all()
    row = out.iloc[0]
    assert row.next_order_date == start + pd.Timedelta(days=round(row.next_order_expected * 7))
    assert out.attrs["model"] == "BetaGeoModel" and out.attrs["time_unit"] == "weeks"
