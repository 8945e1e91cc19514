"""Purchase backtest: calibrate on the store's past, predict the holdout, compare with what happened.

:func:`purchase_backtest` splits the store's purchase days at ``calibration_end``
(:func:`shopseg.features.calibration_holdout_split`), fits a
:class:`~shopseg.models.BetaGeoModel` on the calibration period only, and
predicts each customer's purchases in the holdout ``(calibration_end,
observation_end]``. Customers are grouped by calibration frequency
(0, 1, ..., 6, 7+ repeat purchase days), the grouping of Fader, Hardie & Lee
(2005, fig. 4, "conditional expectations"), and each group shows the mean
actual and predicted holdout purchases. Two per-customer errors are reported:

- ``mae`` of the model;
- ``mae`` of a **naive baseline**: each customer keeps her calibration repeat
  rate, ``frequency_cal / T_cal * duration_holdout``.

The verdict says in plain words which one wins; a model that loses is reported
as losing.
"""

from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from shopseg.errors import ConvergenceWarning, DataQualityWarning, InvalidParameterError
from shopseg.features import calibration_holdout_split
from shopseg.features.asof import TIME_UNITS, DateLike, parse_date
from shopseg.models import BetaGeoModel
from shopseg.models.churn.labels import MIN_T_DAYS, latest_order_date

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
        The split with ``predicted`` and ``naive`` columns.
    info : dict
        Dates, holdout length (``time_unit`` and days), the fitted parameters, fit warnings.
    """

    groups: pd.DataFrame
    mae: dict[str, float]
    customers: pd.DataFrame
    info: dict[str, object] = field(default_factory=dict)

    @property
    def model_wins(self) -> bool:
        return self.mae["model"] < self.mae["naive"]

    def verdict(self) -> str:
        verb = "beats" if self.model_wins else "loses to"
        return (
            f"BG/NBD {verb} the naive baseline (same repeat rate as in calibration): "
            f"MAE {self.mae['model']:.3f} vs {self.mae['naive']:.3f} purchases per customer"
        )


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
) -> PurchaseBacktest:
    """Fit BG/NBD on the calibration period and compare its holdout predictions with the truth.

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
    cal = parse_date(calibration_end, "calibration_end") if calibration_end is not None else default_calibration_end(engine)
    split = calibration_holdout_split(engine, cal, observation_end, time_unit=time_unit)
    if split.empty:
        raise InvalidParameterError(
            f"The 'calibration_end' parameter must leave at least one purchase on or before it. Got {cal} instead."
        )
    data = split.copy()
    data["T_cal"] = data["T_cal"].astype(float).clip(lower=MIN_T_DAYS / TIME_UNITS[time_unit])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        bg = BetaGeoModel(fallback="penalized").fit(data)
    duration = float(data["duration_holdout"].iloc[0])
    data["predicted"] = bg.conditional_expected_purchases(duration, data)
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
        "params": dict(bg.params_),
        "fallback": bg.fallback_,
        "warnings": [str(w.message) for w in caught if issubclass(w.category, (DataQualityWarning, ConvergenceWarning))],
    }
    return PurchaseBacktest(groups, mae, data, info)
