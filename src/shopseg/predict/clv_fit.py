"""The purchase model fit of ``shopseg predict``: expected purchases and discounted CLV per customer, with intervals.

:func:`fit_purchases` fits the purchase model (and Gamma-Gamma spend when it
applies) to the buyers' summary; :func:`purchase_values` gives each row's
expected purchases and CLV over a horizon in monthly discounted steps;
:func:`bootstrap_values` refits on resampled buyers for parameter intervals,
and :func:`customer_intervals` gives each customer's predictive interval.
Used by :func:`shopseg.predict.run.predict_workspace`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from shopseg.errors import ConvergenceWarning, SchemaError
from shopseg.models import GammaGammaModel
from shopseg.models.clv._purchase import PurchaseModel
from shopseg.models.clv._summary import compress
from shopseg.models.clv.predictive import scan_counts, value_interval
from shopseg.models.clv.registry import DEFAULT_PURCHASE_MODEL, MODEL_LABELS, make_purchase_model

__all__ = [
    "STEP_DAYS",
    "PurchaseFit",
    "bootstrap_values",
    "customer_intervals",
    "draw_interval",
    "fit_purchases",
    "purchase_values",
]


STEP_DAYS = 365.25 / 12


_RFM = ["frequency", "recency", "T", "monetary_value"]


Spend = Callable[[pd.DataFrame], np.ndarray]


@dataclass
class PurchaseFit:
    bg: PurchaseModel
    spend: Spend
    fallback: list[str]
    notes: list[str]
    spend_shape: tuple[float, float] | None = None  # Gamma-Gamma (p, q) when fitted as such
    model: str = DEFAULT_PURCHASE_MODEL


def fit_purchases(summary: pd.DataFrame, model: str = DEFAULT_PURCHASE_MODEL, penalizer: float = 0.0) -> PurchaseFit:
    """Purchase model (shrunken on degenerate data) and spend (Gamma-Gamma, else the buyers' mean order value)."""
    reasons: list[str] = []
    shape = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        bg = make_purchase_model(model, fallback="penalized", penalizer=penalizer).fit(summary)
        if bg.fallback_:
            reasons.append(f"{MODEL_LABELS[model]}: {bg.fallback_}")
        repeat = int(((summary["frequency"] > 0) & (summary["monetary_value"] > 0)).sum())
        if repeat == 0:
            mean_spend = float(summary["order_value"].mean())
            spend: Spend = lambda d: np.full(len(d), mean_spend)  # noqa: E731
            reasons.append(
                f"Gamma-Gamma not fitted (no repeat buyer with a positive order value); "
                f"spend = mean order value {mean_spend:.2f}"
            )
        else:
            gg = GammaGammaModel(fallback="population", penalizer=penalizer).fit(summary)
            spend = gg.conditional_expected_average_profit
            if gg.fallback_:
                reasons.append(f"Gamma-Gamma: {gg.fallback_}")
            elif gg.params_["q"] > 1.0:
                shape = (gg.params_["p"], gg.params_["q"])
    notes = sorted({str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)})
    return PurchaseFit(bg, spend, reasons, notes, shape, model)


def purchase_values(
    fit: PurchaseFit, rows: pd.DataFrame, horizon: float, discount_rate: float, margin: float
) -> tuple[np.ndarray, np.ndarray]:
    """Expected purchases over ``horizon`` days and discounted CLV (monthly steps), per row."""
    n_steps = int(np.ceil(horizon / STEP_DAYS - 1e-9))
    times = np.minimum(np.arange(1, n_steps + 1) * STEP_DAYS, horizon)
    cum = np.stack([fit.bg.conditional_expected_purchases(float(t), rows) for t in times])
    increments = np.diff(np.vstack([np.zeros((1, len(rows))), cum]), axis=0)
    factors = (1.0 + discount_rate) ** -np.arange(1, n_steps + 1)
    clv = margin * fit.spend(rows) * np.sum(factors[:, None] * increments, axis=0)
    return cum[-1], clv


def bootstrap_values(
    summary: pd.DataFrame,
    n: int,
    seed: int,
    horizon: float,
    discount_rate: float,
    margin: float,
    model: str,
    penalizer: float,
) -> tuple[np.ndarray, np.ndarray, int]:
    """(expected purchases, clv) of shape (replicates, customers) on refits to resampled buyers."""
    key = summary.groupby(_RFM, sort=False).ngroup().to_numpy()
    uniq = summary.drop_duplicates(_RFM).reset_index(drop=True)
    rng = np.random.default_rng(seed)
    purchases, clvs = [], []
    for _ in range(n):
        sample = summary.iloc[rng.integers(0, len(summary), len(summary))].reset_index(drop=True)
        try:
            fit = fit_purchases(sample, model, penalizer)
            with np.errstate(all="ignore"):
                e, c = purchase_values(fit, uniq, horizon, discount_rate, margin)
        except (SchemaError, ArithmeticError, ValueError):
            continue  # an unusable resample (e.g. no repeat buyer); counted as missing
        purchases.append(e[key])
        clvs.append(c[key])
    if not purchases:
        return np.empty((0, len(summary))), np.empty((0, len(summary))), 0
    return np.vstack(purchases), np.vstack(clvs), len(purchases)


def customer_intervals(
    fit: PurchaseFit, summary: pd.DataFrame, horizon: float, expected: np.ndarray, clv: np.ndarray, margin: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each customer's 80% predictive interval of purchases and of discounted value over ``horizon``.

    The value interval of :func:`~shopseg.models.clv.predictive.value_interval` (in units of her
    expected order value) times that value, the margin and her mean discount factor
    ``clv / (margin * expected purchases * expected spend)``; with a fallback spend (no Gamma-Gamma)
    the value is the purchase count times the mean spend.
    """
    cols = [summary[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T")]
    s = compress(*cols)
    scan = scan_counts(fit.bg, horizon, s.x, s.t_x, s.T, spend_shape=fit.spend_shape)
    lo, hi = scan.lower[s.inverse].astype(float), scan.upper[s.inverse].astype(float)
    unit = fit.spend(summary)
    with np.errstate(all="ignore"):
        factor = np.where(expected * unit > 0, clv / (margin * expected * unit), 1.0)
    if scan.value_cdf is None:
        v_lo, v_hi = lo, hi
    else:
        v_lo, v_hi = value_interval(scan.value_cdf)
        v_lo, v_hi = v_lo[s.inverse], v_hi[s.inverse]
    scale = margin * unit * np.clip(factor, 0.0, 1.0)
    return lo, hi, v_lo * scale, v_hi * scale


def draw_interval(point: np.ndarray, draws: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The 10th-90th percentile of bootstrap ``draws``, widened to hold ``point`` (0 to 2x without draws)."""
    if len(draws) == 0:
        return np.zeros_like(point), 2.0 * point
    lo, hi = np.quantile(draws, [0.1, 0.9], axis=0)
    return np.minimum(lo, point), np.maximum(hi, point)
