"""The purchase model fit of ``shopseg predict``: expected purchases and discounted CLV per customer, with intervals.

:func:`fit_purchases` fits the purchase model (and Gamma-Gamma spend when it
applies) to the buyers' summary; :func:`purchase_values` gives each row's
expected purchases and CLV over a horizon in monthly discounted steps, and
:func:`customer_intervals` gives each customer's predictive interval. The
refits on resampled buyers behind the parameter band are in
:mod:`shopseg.predict.bootstrap`.
Used by :func:`shopseg.predict.run.predict_workspace`.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from shopseg.errors import ConvergenceWarning
from shopseg.models import GammaGammaModel
from shopseg.models.clv._purchase import PurchaseModel
from shopseg.models.clv._summary import Summary, compress, read_summary, unique_rows
from shopseg.models.clv.predictive import scan_counts, value_interval
from shopseg.models.clv.registry import DEFAULT_PURCHASE_MODEL, MODEL_LABELS, make_purchase_model

__all__ = [
    "STEP_DAYS",
    "PurchaseFit",
    "BuyerRows",
    "Spend",
    "customer_intervals",
    "fit_purchases",
    "kept_share",
    "monthly_steps",
    "purchase_values",
]


STEP_DAYS = 365.25 / 12


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
    spend_curvature: np.ndarray | None = None  # and its curvature_ (a bootstrap refit's Newton steps start from it)


@dataclass(frozen=True)
class BuyerRows:
    """The buyers' distinct rows of each model, computed once for all the refits of a bootstrap.

    ``purchases``: the distinct (frequency, recency, T) rows (buyer ``i`` is row ``purchases.inverse[i]``);
    ``spend``: the distinct (frequency, monetary_value) rows of the repeat buyers with a positive value,
    the only rows the Gamma-Gamma fit reads (buyer ``repeat[j]`` is row ``spend_codes[j]``).
    """

    purchases: Summary
    spend: pd.DataFrame
    repeat: np.ndarray
    spend_codes: np.ndarray

    @classmethod
    def of(cls, summary: pd.DataFrame) -> BuyerRows:
        purchases = read_summary(summary[["frequency", "recency", "T"]])  # checked once
        x, m = (summary[c].to_numpy(dtype=float) for c in ("frequency", "monetary_value"))
        repeat = np.flatnonzero((x > 0) & (m > 0))
        (ux, um), _, inverse = unique_rows(x[repeat], m[repeat])
        return cls(purchases, pd.DataFrame({"frequency": ux, "monetary_value": um}), repeat, inverse)

    def distinct(self) -> Summary:
        """The purchase rows as their own customers (inverse the identity): values per distinct row."""
        s = self.purchases
        return Summary(s.x, s.t_x, s.T, s.weights, np.arange(len(s.x)), pd.RangeIndex(len(s.x)))

    def weights(self, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per-buyer weights summed onto the purchase rows and onto the spend rows."""
        return (
            np.bincount(self.purchases.inverse, weights=w, minlength=len(self.purchases.x)),
            np.bincount(self.spend_codes, weights=w[self.repeat], minlength=len(self.spend)),
        )


@contextlib.contextmanager
def _recorded(own: bool) -> Iterator[list[warnings.WarningMessage]]:
    """The warnings a fit records: all of them when ``own``, else none. A bootstrap refit's warnings are not its
    own to catch: ``catch_warnings`` changes process-wide state and the refits run on two threads, so the
    bootstrap catches them once around all of them (:meth:`~shopseg.predict.bootstrap.Bootstrap.run`)."""
    if not own:
        yield []
        return
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield caught


def fit_purchases(
    summary: pd.DataFrame,
    model: str = DEFAULT_PURCHASE_MODEL,
    penalizer: float = 0.0,
    weights: np.ndarray | None = None,
    start: PurchaseFit | None = None,
    rows: BuyerRows | None = None,
) -> PurchaseFit:
    """Purchase model (shrunken on degenerate data) and spend (Gamma-Gamma, else the buyers' mean order value).

    ``weights`` counts each row as that many customers (a bootstrap's resample counts);
    ``start``, an earlier fit whose parameters start the optimisers (a bootstrap refit starts at the point fit);
    ``rows``, the distinct rows of ``summary`` of each model (:class:`BuyerRows`), computed once for all the
    refits of a bootstrap, which also skip the standard errors and leave their warnings to the caller.
    """
    reasons: list[str] = []
    shape, spend_params, spend_curvature = None, None, None
    w = np.ones(len(summary)) if weights is None else np.asarray(weights, dtype=float)
    with _recorded(rows is None) as caught:
        bg_rows, bg_weights, spend_rows, spend_weights = summary, weights, summary, weights
        if rows is not None:
            bg_rows, spend_rows = rows.purchases, rows.spend
            bg_weights, spend_weights = rows.weights(w)
        bg = make_purchase_model(model, fallback="penalized", penalizer=penalizer).fit(
            bg_rows,
            weights=bg_weights,
            init_params=start.bg.params_ if start is not None else None,
            standard_errors=rows is None,
            init_curvature=getattr(start.bg, "curvature_", None) if start is not None else None,
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
                spend_rows,
                weights=spend_weights,
                init_params=start.spend_params if start is not None else None,
                init_curvature=start.spend_curvature if start is not None else None,
                standard_errors=rows is None,
                distinct=rows is not None,
            )
            spend = gg.conditional_expected_average_profit
            if gg.fallback_:
                reasons.append(f"Gamma-Gamma: {gg.fallback_}")
            else:
                spend_params, spend_curvature = dict(gg.params_), gg.curvature_
                if gg.params_["q"] > 1.0:
                    shape = (gg.params_["p"], gg.params_["q"])
    notes = sorted({str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)})
    return PurchaseFit(bg, spend, reasons, notes, shape, model, spend_params, spend_curvature)


def monthly_steps(horizon: float, discount_rate: float) -> tuple[np.ndarray, np.ndarray]:
    """Monthly step ends up to ``horizon`` (days) and their discount factors."""
    n_steps = int(np.ceil(horizon / STEP_DAYS - 1e-9))
    times = np.minimum(np.arange(1, n_steps + 1) * STEP_DAYS, horizon)
    return times, (1.0 + discount_rate) ** -np.arange(1, n_steps + 1)


def purchase_values(
    fit: PurchaseFit, rows: pd.DataFrame, horizon: float, discount_rate: float, margin: float
) -> tuple[np.ndarray, np.ndarray]:
    """Expected purchases over ``horizon`` days and discounted CLV (monthly steps), per row."""
    times, factors = monthly_steps(horizon, discount_rate)
    expected, discounted = fit.bg.discounted_expected_purchases(times, factors, rows)
    return expected, margin * fit.spend(rows) * discounted


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


def kept_share(feats: pd.DataFrame) -> np.ndarray:
    """Each buyer's share of her purchases she kept: ``revenue / gross_revenue`` in [0, 1] (1 without returns).

    The features' ``monetary_value`` and ``avg_order_value`` are purchase values before returns (the
    lifetimes definition); the spend model is fed them times this share, so a buyer who returned what she
    bought is not valued as if she had kept it (Online Retail's customer 16446 bought 168,469.60 and took
    it back 12 minutes later: CLV 178,133 before, a few pounds now).
    """
    net = pd.to_numeric(feats["revenue"], errors="coerce").to_numpy(dtype=float)
    gross = pd.to_numeric(feats["gross_revenue"], errors="coerce").to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(gross > 0, net / gross, 1.0)
    return np.clip(np.nan_to_num(share, nan=1.0), 0.0, 1.0)
