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
from shopseg.models.clv._summary import Summary, compress, read_summary, unique_rows
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
    spend_params: dict[str, float] | None = None  # the Gamma-Gamma params_ when it was fitted


def fit_purchases(
    summary: pd.DataFrame,
    model: str = DEFAULT_PURCHASE_MODEL,
    penalizer: float = 0.0,
    weights: np.ndarray | None = None,
    start: PurchaseFit | None = None,
    rows: Summary | None = None,
) -> PurchaseFit:
    """Purchase model (shrunken on degenerate data) and spend (Gamma-Gamma, else the buyers' mean order value).

    ``weights`` counts each row as that many customers (a bootstrap's resample counts on distinct rows);
    ``start``, an earlier fit whose parameters start the optimisers (a bootstrap refit starts at the point fit);
    ``rows``, the purchase model's distinct (frequency, recency, T) rows of ``summary`` (row ``i`` of
    ``summary`` is ``rows.inverse[i]``), computed once for all the refits of a bootstrap, which also
    skip the standard errors.
    """
    reasons: list[str] = []
    shape, spend_params = None, None
    w = np.ones(len(summary)) if weights is None else np.asarray(weights, dtype=float)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        bg_rows, bg_weights = summary, weights
        if rows is not None:
            bg_rows, bg_weights = rows, np.bincount(rows.inverse, weights=w, minlength=len(rows.x))
        bg = make_purchase_model(model, fallback="penalized", penalizer=penalizer).fit(
            bg_rows,
            weights=bg_weights,
            init_params=start.bg.params_ if start is not None else None,
            standard_errors=rows is None,
        )
        if bg.fallback_:
            reasons.append(f"{MODEL_LABELS[model]}: {bg.fallback_}")
        repeat = float(w[(summary["frequency"] > 0).to_numpy() & (summary["monetary_value"] > 0).to_numpy()].sum())
        if repeat == 0:
            mean_spend = float(np.average(summary["order_value"].to_numpy(dtype=float), weights=w))
            spend: Spend = lambda d: np.full(len(d), mean_spend)  # noqa: E731
            reasons.append(
                f"Gamma-Gamma not fitted (no repeat buyer with a positive order value); "
                f"spend = mean order value {mean_spend:.2f}"
            )
        else:
            gg = GammaGammaModel(fallback="population", penalizer=penalizer).fit(
                summary,
                weights=weights,
                init_params=start.spend_params if start is not None else None,
                standard_errors=rows is None,
            )
            spend = gg.conditional_expected_average_profit
            if gg.fallback_:
                reasons.append(f"Gamma-Gamma: {gg.fallback_}")
            else:
                spend_params = dict(gg.params_)
                if gg.params_["q"] > 1.0:
                    shape = (gg.params_["p"], gg.params_["q"])
    notes = sorted({str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)})
    return PurchaseFit(bg, spend, reasons, notes, shape, model, spend_params)


def _steps(horizon: float, discount_rate: float) -> tuple[np.ndarray, np.ndarray]:
    """Monthly step ends up to ``horizon`` (days) and their discount factors."""
    n_steps = int(np.ceil(horizon / STEP_DAYS - 1e-9))
    times = np.minimum(np.arange(1, n_steps + 1) * STEP_DAYS, horizon)
    return times, (1.0 + discount_rate) ** -np.arange(1, n_steps + 1)


def purchase_values(
    fit: PurchaseFit, rows: pd.DataFrame, horizon: float, discount_rate: float, margin: float
) -> tuple[np.ndarray, np.ndarray]:
    """Expected purchases over ``horizon`` days and discounted CLV (monthly steps), per row."""
    times, factors = _steps(horizon, discount_rate)
    expected, discounted = fit.bg.discounted_expected_purchases(times, factors, rows)
    return expected, margin * fit.spend(rows) * discounted


def bootstrap_values(
    summary: pd.DataFrame,
    n: int,
    seed: int,
    horizon: float,
    discount_rate: float,
    margin: float,
    model: str,
    penalizer: float,
    start: PurchaseFit | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """(expected purchases, clv) of shape (replicates, distinct rows) on refits to resampled buyers, and the map.

    The fits and the values depend on a buyer only through her (frequency, recency, T,
    monetary_value), so a replicate is a multinomial resample of the counts of the distinct
    rows (the same law as resampling the buyers with replacement), fitted with those counts as
    weights; the values are computed once per distinct row (the purchase part once per distinct
    (frequency, recency, T)). ``start`` (the point fit) starts every refit's optimiser, which
    then needs fewer steps to the same optimum. Returns ``(purchases, clv, inverse, replicates)``: column
    ``inverse[i]`` of the draws belongs to row ``i`` of ``summary``.
    """
    (fr, rec, big_t, mv), counts, inverse = unique_rows(*(summary[c].to_numpy(dtype=float) for c in _RFM))
    uniq = pd.DataFrame({"frequency": fr, "recency": rec, "T": big_t, "monetary_value": mv})
    order_value = summary["order_value"].to_numpy(dtype=float)
    uniq["order_value"] = np.bincount(inverse, weights=order_value, minlength=len(uniq)) / counts
    s3 = read_summary(uniq)  # the purchase model's rows: distinct (frequency, recency, T), checked once
    times, factors = _steps(horizon, discount_rate)
    rng = np.random.default_rng(seed)
    total = int(counts.sum())
    purchases, clvs = [], []
    for _ in range(n):
        weights = rng.multinomial(total, counts / total).astype(float)
        try:
            fit = fit_purchases(uniq, model, penalizer, weights=weights, start=start, rows=s3)
            with np.errstate(all="ignore"):
                e, d = fit.bg.discounted_expected_purchases(times, factors, s3)  # per row of uniq
                c = margin * fit.spend(uniq) * d
        except (SchemaError, ArithmeticError, ValueError):
            continue  # an unusable resample (e.g. no repeat buyer); counted as missing
        purchases.append(e)
        clvs.append(c)
    if not purchases:
        return np.empty((0, len(uniq))), np.empty((0, len(uniq))), inverse, 0
    return np.vstack(purchases), np.vstack(clvs), inverse, len(purchases)


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


def draw_interval(
    point: np.ndarray, draws: np.ndarray, inverse: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The 10th-90th percentile of bootstrap ``draws``, widened to hold ``point`` (0 to 2x without draws).

    With ``inverse``, column ``inverse[i]`` of ``draws`` belongs to ``point[i]``.
    """
    if len(draws) == 0:
        return np.zeros_like(point), 2.0 * point
    lo, hi = np.quantile(draws, [0.1, 0.9], axis=0)
    if inverse is not None:
        lo, hi = lo[inverse], hi[inverse]
    return np.minimum(lo, point), np.maximum(hi, point)
