"""Purchase backtest: the CDNOW conditional-expectations figure and the MAE against a naive baseline."""

from __future__ import annotations

import numpy as np
import pytest

from shopseg.engine import get_engine
from shopseg.errors import InvalidParameterError
from shopseg.predict import default_calibration_end, purchase_backtest


@pytest.fixture(scope="module")
def cdnow_backtest(cdnow_sample_ws):  # noqa: ANN201
    return purchase_backtest(get_engine(cdnow_sample_ws, "duckdb"), "1997-09-30", "1998-06-30", model="bgnbd")


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
    lo, hi = cdnow_backtest.info["mae_ci"]
    assert lo < hi < 0  # the whole interval of MAE(model) - MAE(naive) is below 0
    assert cdnow_backtest.verdict() == (
        "BG/NBD beats the naive baseline (same repeat rate as in calibration): MAE 0.785 vs 1.024 "
        f"(difference -0.238, 95% CI {lo:+.3f} to {hi:+.3f}) purchases per customer"
    )
    assert cdnow_backtest.model_wins


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
    assert lost.verdict() == (
        "BG/NBD loses to the naive baseline (same repeat rate as in calibration): MAE 1.200 vs 0.900 "
        "(difference +0.300, no bootstrap interval) purchases per customer"
    )


def test_a_tie_is_reported_as_a_tie(cdnow_backtest):
    """0.000 vs 0.000 is a tie, not "loses to" (issue 16); so is a difference whose interval straddles 0."""
    from shopseg.predict import PurchaseBacktest

    zero = PurchaseBacktest(
        cdnow_backtest.groups,
        {"model": 0.0, "naive": 0.0},
        cdnow_backtest.customers,
        {"model": "mbgnbd", "mae_ci": (0.0, 0.0)},
    )
    assert not zero.model_wins
    assert zero.verdict() == (
        "MBG/NBD ties with the naive baseline (same repeat rate as in calibration): MAE 0.000 vs 0.000 "
        "(difference +0.000, 95% CI +0.000 to +0.000) purchases per customer"
    )
    noisy = PurchaseBacktest(
        cdnow_backtest.groups,
        {"model": 0.80, "naive": 0.81},
        cdnow_backtest.customers,
        {"model": "pareto", "mae_ci": (-0.03, 0.01)},
    )
    assert not noisy.model_wins
    assert noisy.verdict() == (
        "Pareto/NBD ties with the naive baseline (same repeat rate as in calibration): MAE 0.800 vs 0.810 "
        "(difference -0.010, 95% CI -0.030 to +0.010: within noise) purchases per customer"
    )


def test_per_customer_intervals_and_pit_on_the_cdnow_sample(cdnow_backtest):
    """80% intervals start at the 10th percentile and hold 80%; coverage and PIT recomputed by hand from the columns."""
    d = cdnow_backtest.customers
    y = d["frequency_holdout"]
    assert (d["purchases_p10"] <= d["purchases_p90"]).all() and (d["value_p10"] <= d["value_p90"]).all()
    inside = ((d["purchases_p10"] <= y) & (y <= d["purchases_p90"])).mean()
    assert cdnow_backtest.info["coverage"]["purchases"] == pytest.approx(inside)
    assert 0.75 <= inside <= 0.90
    pit = np.histogram(d["pit"], bins=10, range=(0, 1))[0] / len(d)
    assert cdnow_backtest.info["pit"] == pytest.approx(pit.tolist())
    assert np.all(np.abs(pit - 0.1) < 0.04)  # measured: 0.09-0.12 for BG/NBD on the 2,357 customers
    lines = cdnow_backtest.coverage_lines()
    assert lines[0].startswith("80% per-customer intervals hold the realised holdout purchases of ")
    assert lines[1].startswith("randomized PIT of holdout purchases, 10 bins (flat at 0.10 when calibrated): ")


def test_without_intervals_the_comparison_is_the_same(cdnow_sample_ws, cdnow_backtest):
    """The dashboard's backtest skips the per-customer intervals: groups, MAE and verdict are unchanged, and it
    claims no coverage it did not score."""
    quick = purchase_backtest(
        get_engine(cdnow_sample_ws, "duckdb"), "1997-09-30", "1998-06-30", model="bgnbd", intervals=False
    )
    assert quick.groups.equals(cdnow_backtest.groups)
    assert quick.mae == cdnow_backtest.mae
    assert quick.verdict() == cdnow_backtest.verdict()
    assert "coverage" not in quick.info and "pit" not in quick.info and "purchases_p10" not in quick.customers
    assert quick.coverage_lines() == []
    assert len(cdnow_backtest.coverage_lines()) == 2


def test_aggregate_bias_on_the_cdnow_sample(cdnow_backtest):
    """Beating the naive baseline per customer does not make the totals right: on the papers' 2,357 customers the
    BG/NBD (which matches the published 0.225 of the zero group) predicts 1,653 of the 1,882 holdout purchase
    days, 12.1% low, and the 95% bootstrap interval over customers (measured -18.4% to -5.3%) is below 0."""
    d, bias = cdnow_backtest.customers, cdnow_backtest.info["bias"]
    assert bias["actual_total"] == 1882 == cdnow_backtest.groups["actual_total"].sum()
    assert bias["predicted_total"] == pytest.approx(float(d["predicted"].sum()))
    assert bias["predicted_total"] == pytest.approx(cdnow_backtest.groups["predicted_total"].sum())
    assert bias["relative_error"] == pytest.approx(bias["predicted_total"] / 1882 - 1)
    lo, hi = bias["relative_error_ci"]
    assert lo < bias["relative_error"] < hi < 0
    assert cdnow_backtest.bias_line() == (
        "BG/NBD under-predicts holdout purchases by 12.1%: 1,653 predicted vs 1,882 actual "
        f"(95% CI {100 * lo:+.1f}% to {100 * hi:+.1f}%)"
    )


def test_bias_says_over_or_within_noise_only_as_the_interval_does(cdnow_backtest):
    from shopseg.predict import PurchaseBacktest

    def line(rel: float, ci: tuple[float, float]) -> str:
        b = {"predicted_total": 1100.0, "actual_total": 1000.0, "relative_error": rel, "relative_error_ci": ci}
        pb = PurchaseBacktest(cdnow_backtest.groups, cdnow_backtest.mae, cdnow_backtest.customers)
        pb.info = {"model": "mbgnbd", "bias": b}
        return pb.bias_line()

    assert line(0.1, (0.05, 0.15)) == (
        "MBG/NBD over-predicts holdout purchases by 10.0%: 1,100 predicted vs 1,000 actual (95% CI +5.0% to +15.0%)"
    )
    assert line(0.1, (-0.02, 0.2)) == (
        "MBG/NBD total holdout purchases are within noise of the actual: 1,100 predicted vs 1,000 actual "
        "(+10.0%, 95% CI -2.0% to +20.0%)"
    )
