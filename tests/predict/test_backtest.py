"""Purchase backtest: the CDNOW conditional-expectations figure and the MAE against a naive baseline."""

from __future__ import annotations

import numpy as np
import pytest

from shopseg.engine import get_engine
from shopseg.errors import InvalidParameterError
from shopseg.predict import default_calibration_end, purchase_backtest


@pytest.fixture(scope="module")
def cdnow_backtest(cdnow_sample_ws):  # noqa: ANN201
    return purchase_backtest(get_engine(cdnow_sample_ws, "duckdb"), "1997-09-30", "1998-06-30")


def test_zero_group_matches_fader_hardie_lee_2005(cdnow_backtest):
    """Fader, Hardie & Lee (2005), p. 282 and the CDNOW README: the 1,411 customers with no repeat purchase in
    weeks 1-39 made 334 purchases in weeks 40-78; the BG/NBD predicts 0.225 each. Counts exact, prediction to 3 d.p."""
    zero = cdnow_backtest.groups.set_index("group").loc["0"]
    assert zero.customers == 1411 and zero.actual_total == 334
    assert zero.predicted_mean == pytest.approx(0.225, abs=5e-4)
    assert zero.naive_mean == 0.0


def test_groups_match_the_conditional_expectations_figure(cdnow_backtest):
    """FHL (2005) fig. 4, qualitatively: groups 0..7+ hold all 2,357 customers, actual and predicted means rise with
    calibration frequency and the model stays within 40% of the actual mean in every group."""
    g = cdnow_backtest.groups
    assert g["group"].tolist() == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert g["customers"].sum() == 2357 and cdnow_backtest.info["holdout_days"] == 273
    assert np.all(np.diff(g["predicted_mean"]) > 0)
    assert np.all(np.abs(g["predicted_mean"] / g["actual_mean"] - 1) < 0.4)


def test_mae_by_hand_and_the_verdict(cdnow_backtest):
    d = cdnow_backtest.customers
    assert cdnow_backtest.mae["model"] == pytest.approx(float(np.mean(np.abs(d.predicted - d.frequency_holdout))))
    naive = d.frequency_cal / d.T_cal * 39.0
    assert cdnow_backtest.mae["naive"] == pytest.approx(float(np.mean(np.abs(naive - d.frequency_holdout))))
    word = "beats" if cdnow_backtest.mae["model"] < cdnow_backtest.mae["naive"] else "loses to"
    assert cdnow_backtest.verdict().startswith(f"BG/NBD {word} the naive baseline")
    assert cdnow_backtest.model_wins  # measured: MAE 0.785 vs 1.024


def test_default_split_is_half_the_history(cdnow_sample_ws):
    """CDNOW runs 1997-01-01 .. 1998-06-30 (545 days): the default holdout is 272 days."""
    assert str(default_calibration_end(get_engine(cdnow_sample_ws, "duckdb"))) == "1997-10-01"


def test_bad_dates_are_refused(cdnow_sample_ws):
    engine = get_engine(cdnow_sample_ws, "duckdb")
    with pytest.raises(InvalidParameterError, match="observation_end"):
        purchase_backtest(engine, "1998-06-30", "1998-01-01")
    with pytest.raises(InvalidParameterError, match="YYYY-MM-DD"):
        purchase_backtest(engine, "30/09/1997")


def test_a_losing_model_is_reported_as_losing(cdnow_backtest):
    from shopseg.predict import PurchaseBacktest

    lost = PurchaseBacktest(cdnow_backtest.groups, {"model": 1.2, "naive": 0.9}, cdnow_backtest.customers)
    assert not lost.model_wins
    assert lost.verdict().startswith("BG/NBD loses to the naive baseline") and "MAE 1.200 vs 0.900" in lost.verdict()
