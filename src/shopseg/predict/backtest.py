"""Purchase backtest: calibrate on the store's past, predict the holdout, compare with what happened.

:func:`purchase_backtest` splits the store's purchase days at ``calibration_end``
(:func:`shopseg.features.calibration_holdout_split`), fits a purchase model
(``model``: the MBG/NBD by default, or the BG/NBD or Pareto/NBD) and a
Gamma-Gamma spend model on the calibration period only, and
predicts each customer's purchases in the holdout ``(calibration_end,
observation_end]``. Customers are grouped by calibration frequency
(0, 1, ..., 6, 7+ repeat purchase days), the grouping of Fader, Hardie & Lee
(2005, fig. 4, "conditional expectations"), and each group shows the mean
actual and predicted holdout purchases. Two per-customer errors are reported:

- ``mae`` of the model;
- ``mae`` of a **naive baseline**: each customer keeps her calibration repeat
  rate, ``frequency_cal / T_cal * duration_holdout``.

The verdict says in plain words which one wins, with the 95% bootstrap
interval of the MAE difference; a model that loses is reported as losing, and
a difference whose interval straddles 0 as a tie.

**Aggregate bias** (:meth:`PurchaseBacktest.bias_line`): a model can beat the naive
baseline per customer and still be low on the whole. ``info["bias"]`` holds the total
predicted and actual holdout purchases, the relative error ``predicted / actual - 1``
and its 95% bootstrap interval over customers (the same 200 seeded resamples as the
MAE interval); the line says "under-predicts" or "over-predicts" only when the whole
interval is on one side of 0.

**Per-customer intervals** (:mod:`shopseg.models.clv.predictive`): each
customer's 80% predictive interval of holdout purchases and of holdout spend.
``coverage`` is the share of customers whose realised purchases (spend) fall
inside theirs, ``pit`` the histogram (10 bins) of the randomized probability
integral transform of the realised purchases: flat at 0.1 when the predicted
distributions are right, U-shaped when too narrow, hump-shaped when too wide.
"""

from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from shopseg.errors import ConvergenceWarning, DataQualityWarning, InvalidParameterError, ShopsegError
from shopseg.features import calibration_holdout_split
from shopseg.features.asof import TIME_UNITS, DateLike, parse_date
from shopseg.models import GammaGammaModel
from shopseg.models.churn.labels import MIN_T_DAYS, latest_order_date
from shopseg.models.clv._purchase import PurchaseModel
from shopseg.models.clv._summary import read_summary
from shopseg.models.clv.predictive import randomized_pit, scan_counts, value_interval
from shopseg.models.clv.registry import DEFAULT_PURCHASE_MODEL, MODEL_LABELS, make_purchase_model, model_key
from shopseg.models.compare import N_BOOTSTRAP, mean_difference_ci, verdict

if TYPE_CHECKING:
    from shopseg.engine import Engine

__all__ = ["PurchaseBacktest", "purchase_backtest", "default_calibration_end", "GROUPS"]

GROUPS = ["0", "1", "2", "3", "4", "5", "6", "7+"]


@dataclass
class PurchaseBacktest:
    """Result of :func:`purchase_backtest`.

    Attributes
    ----------
    groups : pandas.DataFrame
        One row per calibration-frequency group (:data:`GROUPS`): ``customers``,
        ``actual_mean``, ``predicted_mean``, ``naive_mean``, ``actual_total``, ``predicted_total``.
    mae : dict
        ``{"model": ..., "naive": ...}``, mean absolute error per customer (holdout purchases).
    customers : pandas.DataFrame
        The split with ``predicted``, ``naive``, ``purchases_p10``, ``purchases_p90``,
        ``value``, ``value_p10``, ``value_p90`` and ``pit`` columns.
    info : dict
        Dates, holdout length (``time_unit`` and days), the model and its fitted parameters,
        fit warnings, ``mae_ci`` (95% interval of MAE model - naive), ``bias`` (``predicted_total``,
        ``actual_total``, ``relative_error`` and its 95% interval ``relative_error_ci``), ``coverage``
        (``purchases``, ``value``: share inside the 80% interval) and ``pit`` (10 shares).
    """

    groups: pd.DataFrame
    mae: dict[str, float]
    customers: pd.DataFrame
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def model_wins(self) -> bool:
        """True when the whole 95% interval of MAE(model) - MAE(naive) is below 0 (or, without one, MAE is lower)."""
        lo, hi = self.info.get("mae_ci", (np.nan, np.nan))
        if np.isfinite(hi):
            return bool(hi < 0)
        return self.mae["model"] < self.mae["naive"]

    def verdict(self) -> str:
        label = MODEL_LABELS[str(self.info.get("model", "bgnbd"))]
        ci = self.info.get("mae_ci", (np.nan, np.nan))
        return (
            verdict(
                label,
                "the naive baseline (same repeat rate as in calibration)",
                "MAE",
                self.mae["model"],
                self.mae["naive"],
                ci,
                higher_is_better=False,
            )
            + " purchases per customer"
        )

    def bias_line(self) -> str:
        """Total predicted vs actual holdout purchases in plain words, e.g.
        ``"MBG/NBD under-predicts holdout purchases by 18.9%: 15,903 predicted vs 19,604 actual (95% CI ...)"``."""
        label = MODEL_LABELS[str(self.info.get("model", "bgnbd"))]
        b = self.info.get("bias")
        if b is None:
            return ""
        totals = f"{b['predicted_total']:,.0f} predicted vs {b['actual_total']:,.0f} actual"
        rel, (lo, hi) = b["relative_error"], b["relative_error_ci"]
        if not np.isfinite(rel):
            return f"{label} bias not defined: no holdout purchases ({totals})"
        if not (np.isfinite(lo) and np.isfinite(hi)):
            ci = "no bootstrap interval"
        else:
            ci = f"95% CI {100 * lo:+.1f}% to {100 * hi:+.1f}%"
        if np.isfinite(hi) and hi < 0:
            return f"{label} under-predicts holdout purchases by {-100 * rel:.1f}%: {totals} ({ci})"
        if np.isfinite(lo) and lo > 0:
            return f"{label} over-predicts holdout purchases by {100 * rel:.1f}%: {totals} ({ci})"
        return f"{label} total holdout purchases are within noise of the actual: {totals} ({100 * rel:+.1f}%, {ci})"

    def coverage_lines(self) -> list[str]:
        """Plain-words coverage of the 80% per-customer intervals and the PIT histogram (none when not scored)."""
        if "coverage" not in self.info:
            return []
        cov = self.info.get("coverage", {})
        pit = self.info.get("pit", [])
        return [
            f"80% per-customer intervals hold the realised holdout purchases of {cov.get('purchases', np.nan):.1%} "
            f"of customers and their realised spend for {cov.get('value', np.nan):.1%} (target 75%-90%)",
            "randomized PIT of holdout purchases, 10 bins (flat at 0.10 when calibrated): "
            + " ".join(f"{v:.2f}" for v in pit),
        ]


def default_calibration_end(engine: Engine, holdout_days: int | None = None) -> dt.date:
    """``latest order date - holdout_days``; default holdout: half the order history, at most 365 days."""
    last = latest_order_date(engine)
    orders = engine.table("orders")
    span = engine.execute(orders.aggregate(first=orders.ordered_at.min()))
    if holdout_days is None:
        first = pd.Timestamp(span["first"].iloc[0]).date()
        holdout_days = max(1, min(365, (last - first).days // 2))
    return last - dt.timedelta(days=holdout_days)


def purchase_backtest(
    engine: Engine,
    calibration_end: DateLike | None = None,
    observation_end: DateLike | None = None,
    *,
    time_unit: str = "weeks",
    model: str = DEFAULT_PURCHASE_MODEL,
    seed: int = 0,
    intervals: bool = True,
) -> PurchaseBacktest:
    """Fit a purchase model on the calibration period and compare its holdout predictions with the truth.

    Parameters
    ----------
    engine : Engine
        Engine over the workspace.
    calibration_end : date or str, default=None
        Last calibration day; default :func:`default_calibration_end`.
    observation_end : date or str, default=None
        Last holdout day; default the latest order date.
    time_unit : {"days", "weeks"}, default="weeks"
        Unit of the fit (the predictions do not depend on it).
    model : {"mbgnbd", "bgnbd", "pareto"}, default="mbgnbd"
        The purchase model.
    seed : int, default=0
        Seed of the randomized PIT and of the bootstrap interval of the MAE difference.
    intervals : bool, default=True
        Also score the per-customer 80% intervals (``coverage``, ``pit`` in ``info``; a third of
        the time at 1M customers). The dashboard's calibration chart does without them.

    Returns
    -------
    PurchaseBacktest

    Raises
    ------
    InvalidParameterError
        Bad dates (``observation_end`` must be after ``calibration_end``).
    SchemaError
        No orders.

    References
    ----------
    .. [1] Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005). "Counting your
       customers" the easy way. Marketing Science 24(2), 275-284, fig. 4.
    """
    key = model_key(model)
    cal = (
        parse_date(calibration_end, "calibration_end")
        if calibration_end is not None
        else default_calibration_end(engine)
    )
    split = calibration_holdout_split(engine, cal, observation_end, time_unit=time_unit)
    if split.empty:
        raise InvalidParameterError(
            f"The 'calibration_end' parameter must leave at least one purchase on or before it. Got {cal} instead."
        )
    data = split.copy()
    data["T_cal"] = data["T_cal"].astype(float).clip(lower=MIN_T_DAYS / TIME_UNITS[time_unit])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        bg = make_purchase_model(key, fallback="penalized").fit(data)
        spend = _spend_model(data)
    duration = float(data["duration_holdout"].iloc[0])
    data["predicted"] = bg.conditional_expected_purchases(duration, data)
    if intervals:
        _intervals(bg, spend, data, duration, np.random.default_rng(seed))
    data["naive"] = data["frequency_cal"] / data["T_cal"] * duration
    data["group"] = pd.Categorical(
        np.where(data["frequency_cal"] >= 7, "7+", data["frequency_cal"].clip(upper=7).astype(int).astype(str)),
        categories=GROUPS,
    )
    actual = data["frequency_holdout"].astype(float)
    groups = data.groupby("group", observed=False).agg(
        customers=("customer_id", "size"),
        actual_mean=("frequency_holdout", "mean"),
        predicted_mean=("predicted", "mean"),
        naive_mean=("naive", "mean"),
        actual_total=("frequency_holdout", "sum"),
        predicted_total=("predicted", "sum"),
    )
    groups = groups[groups["customers"] > 0].reset_index()
    groups["group"] = groups["group"].astype(str)
    mae = {
        "model": float(np.mean(np.abs(data["predicted"] - actual))),
        "naive": float(np.mean(np.abs(data["naive"] - actual))),
    }
    info: dict[str, object] = {
        "calibration_end": split.attrs["calibration_end"],
        "observation_end": split.attrs["observation_end"],
        "time_unit": time_unit,
        "holdout_length": duration,
        "holdout_days": (parse_date(split.attrs["observation_end"]) - parse_date(split.attrs["calibration_end"])).days,
        "customers": len(data),
        "model": key,
        "params": dict(bg.params_),
        "mae_ci": mean_difference_ci(np.abs(data["predicted"] - actual) - np.abs(data["naive"] - actual), seed=seed),
        "bias": _bias(data["predicted"].to_numpy(dtype=float), actual.to_numpy(), seed=seed),
        "fallback": bg.fallback_,
        "warnings": [
            str(w.message) for w in caught if issubclass(w.category, (DataQualityWarning, ConvergenceWarning))
        ],
    }
    if intervals:
        inside = (data["purchases_p10"] <= actual) & (actual <= data["purchases_p90"])
        value_inside = (data["value_p10"] <= data["value"] + 1e-9) & (data["value"] <= data["value_p90"] + 1e-9)
        info["coverage"] = {"purchases": float(inside.mean()), "value": float(value_inside.mean())}
        info["pit"] = (np.histogram(data["pit"], bins=10, range=(0.0, 1.0))[0] / len(data)).tolist()
    return PurchaseBacktest(groups, mae, data, info)


def _bias(predicted: np.ndarray, actual: np.ndarray, *, seed: int = 0) -> dict[str, Any]:
    """Total predicted and actual holdout purchases, ``predicted / actual - 1`` and its 95% bootstrap interval.

    The customers are resampled with replacement (:data:`~shopseg.models.compare.N_BOOTSTRAP` times, seeded,
    20 resamples at a time); each resample's relative error is the ratio of its two totals.
    """
    n, pred_total, act_total = len(actual), float(predicted.sum()), float(actual.sum())
    rel = pred_total / act_total - 1 if act_total > 0 else float("nan")
    ci = (float("nan"), float("nan"))
    if n > 0 and act_total > 0:
        rng = np.random.default_rng(seed)
        errors = []
        for k in np.diff(np.r_[0:N_BOOTSTRAP:20, N_BOOTSTRAP]):
            idx = rng.integers(0, n, (k, n))
            act = actual[idx].sum(axis=1)
            with np.errstate(divide="ignore", invalid="ignore"):
                errors.append(predicted[idx].sum(axis=1) / act - 1)
        lo, hi = np.nanquantile(np.concatenate(errors), [0.025, 0.975])
        ci = (float(lo), float(hi))
    return {"predicted_total": pred_total, "actual_total": act_total, "relative_error": rel, "relative_error_ci": ci}


def _spend_model(data: pd.DataFrame) -> GammaGammaModel | None:
    """Gamma-Gamma on the calibration period, or None when it cannot be fitted (spend intervals then assume the mean)."""
    try:
        return GammaGammaModel(fallback="population").fit(data)
    except ShopsegError:
        return None


def _intervals(
    model: PurchaseModel, spend: GammaGammaModel | None, data: pd.DataFrame, duration: float, rng: np.random.Generator
) -> None:
    """Add the per-customer 80% intervals of holdout purchases and spend, and the randomized PIT, to ``data``."""
    s = read_summary(data)
    y = data["frequency_holdout"].to_numpy(dtype=float)
    shape = None
    if spend is not None and spend.fallback_ is None:
        shape = (spend.params_["p"], spend.params_["q"])
    scan = scan_counts(model, duration, s.x, s.t_x, s.T, spend_shape=shape)
    data["purchases_p10"] = scan.lower[s.inverse]
    data["purchases_p90"] = scan.upper[s.inverse]
    exact = scan_counts(model, duration, s.x[s.inverse], s.t_x[s.inverse], s.T[s.inverse], observed=y)
    data["pit"] = randomized_pit(exact.below, exact.at, rng)  # type: ignore[arg-type]
    data["value"] = y * data["monetary_value_holdout"].to_numpy(dtype=float)
    if spend is None:
        order = (
            float(data.loc[data["frequency_cal"] > 0, "monetary_value_cal"].mean())
            if (data["frequency_cal"] > 0).any()
            else 0.0
        )
        data["value_p10"], data["value_p90"] = data["purchases_p10"] * order, data["purchases_p90"] * order
        return
    unit = spend.conditional_expected_average_profit(data)
    if scan.value_cdf is None:  # population-mean spend: the value is the count times the mean
        data["value_p10"], data["value_p90"] = data["purchases_p10"] * unit, data["purchases_p90"] * unit
        return
    low, high = value_interval(scan.value_cdf[s.inverse])
    data["value_p10"], data["value_p90"] = low * unit, high * unit
