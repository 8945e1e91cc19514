"""The purchase model fit of ``shopseg predict``: expected purchases and discounted CLV per customer, with intervals.

:func:`fit_purchases` fits the purchase model (and Gamma-Gamma spend when it
applies) to the buyers' summary; :func:`purchase_values` gives each row's
expected purchases and CLV over a horizon in monthly discounted steps;
:func:`bootstrap_values` refits on resampled buyers for parameter intervals,
and :func:`customer_intervals` gives each customer's predictive interval.
Used by :func:`shopseg.predict.run.predict_workspace`.
"""

from __future__ import annotations

import contextlib
import threading
import warnings
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from shopseg.errors import ConvergenceWarning, ShopsegError
from shopseg.models import GammaGammaModel
from shopseg.models.clv._purchase import PurchaseModel
from shopseg.models.clv._summary import Summary, compress, read_summary, unique_rows
from shopseg.models.clv.predictive import scan_counts, value_interval
from shopseg.models.clv.registry import DEFAULT_PURCHASE_MODEL, MODEL_LABELS, make_purchase_model

__all__ = [
    "STEP_DAYS",
    "PurchaseFit",
    "BuyerRows",
    "Bootstrap",
    "Draws",
    "bootstrap_values",
    "customer_intervals",
    "draw_interval",
    "fit_purchases",
    "purchase_values",
]


STEP_DAYS = 365.25 / 12
#: Buyers per block of the parameter band's value draws (replicates x block floats at a time).
BAND_CHUNK = 200_000


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


@dataclass(frozen=True)
class BuyerRows:
    """The buyers' distinct rows of each model, computed once for all the refits of a bootstrap.

    ``purchases``: the distinct (frequency, recency, T) rows (buyer ``i`` is row ``purchases.inverse[i]``);
    ``spend``: the distinct (frequency, monetary_value) rows of the repeat buyers with a positive value,
    the only rows the Gamma-Gamma fit reads (buyer ``i`` is row ``spend_inverse[i]``, -1 for the others).
    """

    purchases: Summary
    spend: pd.DataFrame
    spend_inverse: np.ndarray

    @classmethod
    def of(cls, summary: pd.DataFrame) -> BuyerRows:
        purchases = read_summary(summary[["frequency", "recency", "T"]])  # checked once
        x, m = (summary[c].to_numpy(dtype=float) for c in ("frequency", "monetary_value"))
        repeat = np.flatnonzero((x > 0) & (m > 0))
        (ux, um), _, inverse = unique_rows(x[repeat], m[repeat])
        spend_inverse = np.full(len(x), -1, dtype=np.intp)
        spend_inverse[repeat] = inverse
        return cls(purchases, pd.DataFrame({"frequency": ux, "monetary_value": um}), spend_inverse)

    def distinct(self) -> Summary:
        """The purchase rows as their own customers (inverse the identity): values per distinct row."""
        s = self.purchases
        return Summary(s.x, s.t_x, s.T, s.weights, np.arange(len(s.x)), pd.RangeIndex(len(s.x)))

    def weights(self, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per-buyer weights summed onto the purchase rows and onto the spend rows."""
        keep = self.spend_inverse >= 0
        return (
            np.bincount(self.purchases.inverse, weights=w, minlength=len(self.purchases.x)),
            np.bincount(self.spend_inverse[keep], weights=w[keep], minlength=len(self.spend)),
        )


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
    shape, spend_params = None, None
    w = np.ones(len(summary)) if weights is None else np.asarray(weights, dtype=float)
    # a refit's warnings are not its own to catch: catch_warnings changes process-wide state, and the refits
    # of a bootstrap run on two threads; the bootstrap catches them once around all of them (Bootstrap.run)
    with warnings.catch_warnings(record=True) if rows is None else contextlib.nullcontext([]) as caught:
        if rows is None:
            warnings.simplefilter("always")
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
                standard_errors=rows is None,
                distinct=rows is not None,
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


@dataclass
class Draws:
    """A bootstrap's replicates (:func:`bootstrap_values`), kept per distinct ``(frequency, recency, T)`` row.

    ``purchases`` and ``discounted`` are ``(replicates, rows)``: each replicate's expected and discounted
    expected purchases of each distinct row; ``spends``, each replicate's spend function; ``inverse[i]``,
    the row of buyer ``i``. A buyer's value in a replicate is ``margin * spend(buyer) * discounted``, made
    chunk by chunk in :meth:`intervals`, never as a (replicates x buyers) matrix (10 GB at 10M buyers).
    """

    purchases: np.ndarray
    discounted: np.ndarray
    spends: list[Spend]
    inverse: np.ndarray

    @property
    def replicates(self) -> int:
        return len(self.spends)

    def intervals(
        self,
        summary: pd.DataFrame,
        expected: np.ndarray,
        clv: np.ndarray,
        margin: float,
        chunk: int = BAND_CHUNK,
        pool: Executor | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The parameter band of purchases and of CLV per buyer: :func:`draw_interval` of the replicates.

        The value draws are made for ``chunk`` buyers at a time; their percentiles are the same as those of
        the whole (replicates x buyers) matrix. With ``pool`` (an idle worker), every other block is made
        there, beside the calling thread's (each block fills its own rows).
        """
        c_lo, c_hi = np.empty(len(clv)), np.empty(len(clv))

        def block(a: int) -> None:
            part, rows = summary.iloc[a : a + chunk], self.inverse[a : a + chunk]
            with np.errstate(all="ignore"):
                draws = np.stack([margin * spend(part) * d[rows] for spend, d in zip(self.spends, self.discounted)])
            c_lo[a : a + chunk], c_hi[a : a + chunk] = draw_interval(clv[a : a + chunk], draws)

        if not self.replicates:
            c_lo, c_hi = draw_interval(clv, np.empty((0, len(clv))))
            return *draw_interval(expected, self.purchases, self.inverse), c_lo, c_hi
        starts = range(0, len(clv), chunk)
        helped = [pool.submit(block, a) for a in starts[1::2]] if pool is not None else []
        e_lo, e_hi = draw_interval(expected, self.purchases, self.inverse)
        for a in starts[::2] if pool is not None else starts:
            block(a)
        for job in helped:
            job.result()
        return e_lo, e_hi, c_lo, c_hi


class Bootstrap:
    """Refits to ``n`` resamples of the buyers (with replacement), and each one's values per distinct row.

    A replicate draws ``len(summary)`` buyers with replacement (seeded), counted as weights per
    buyer; each model is fitted on its distinct rows (:class:`BuyerRows`, compressed once for all the
    refits) with the counts summed onto them.
    ``start`` (the point fit) starts every refit's optimiser, which then needs fewer steps to the same
    optimum. The expected and discounted purchases are computed once per distinct row; the values per
    buyer (and the margin) wait for :meth:`Draws.intervals`.

    The refits may run on two threads: :meth:`run` fits replicates in the calling thread and :meth:`help`,
    called from another thread, takes replicates too once ``run`` has started (``predict run`` hands the
    churn model's thread over when that model is done). Replicate ``i`` always gets the ``i``-th draw of
    the seeded generator (drawn under the lock, in order) and lands in row ``i``, so the draws do not
    depend on which thread fits what. :meth:`close` releases a waiting helper when ``run`` is never reached.
    """

    def __init__(
        self,
        summary: pd.DataFrame,
        n: int,
        seed: int,
        horizon: float,
        discount_rate: float,
        model: str,
        penalizer: float,
        start: PurchaseFit | None = None,
    ) -> None:
        self._summary, self._n, self._model, self._penalizer, self._start = summary, n, model, penalizer, start
        self._times, self._factors = _steps(horizon, discount_rate)
        self._rng = np.random.default_rng(seed)
        self._cond = threading.Condition()
        self._open = threading.Event()
        self._next = self._running = 0
        self._error: BaseException | None = None

    def run(self) -> Draws:
        """Fit every replicate (with a helper, if one has come), then return the draws.

        Their warnings (a refit that does not converge counts as a replicate like any other) are caught
        here, once for both threads, and BLAS runs on one thread throughout (see :func:`fit_mle`).
        """
        self._rows = BuyerRows.of(self._summary)
        self._distinct = self._rows.distinct()
        width = len(self._distinct.x)
        self._purchases, self._discounted = np.empty((self._n, width)), np.empty((self._n, width))
        self._spends: list[Spend | None] = [None] * self._n
        with warnings.catch_warnings(record=True), threadpool_limits(limits=1, user_api="blas"):
            warnings.simplefilter("always")
            self._open.set()
            self._work()
            with self._cond:  # the helper's replicate in flight
                self._cond.wait_for(lambda: self._running == 0)
        if self._error is not None:
            raise self._error
        done = [i for i, spend in enumerate(self._spends) if spend is not None]
        keep = slice(len(done)) if len(done) == self._n else done
        spends = [spend for spend in self._spends if spend is not None]
        return Draws(self._purchases[keep], self._discounted[keep], spends, self._rows.purchases.inverse)

    def help(self) -> None:
        """Fit replicates from another thread once :meth:`run` has started; return when none is left."""
        self._open.wait()
        self._work()

    def close(self) -> None:
        """No replicate is left to take: a helper still waiting (``run`` was never reached) returns."""
        with self._cond:
            self._next = self._n
        self._open.set()

    def _work(self) -> None:
        size = len(self._summary)
        while True:
            with self._cond:
                if self._next >= self._n or self._error is not None:
                    return
                i, self._next, self._running = self._next, self._next + 1, self._running + 1
                weights = np.bincount(self._rng.integers(0, size, size), minlength=size).astype(float)
            try:
                self._refit(i, weights)
            except BaseException as exc:  # re-raised by run, in the caller's thread
                with self._cond:
                    self._error = self._error or exc
            finally:
                with self._cond:
                    self._running -= 1
                    self._cond.notify_all()

    def _refit(self, i: int, weights: np.ndarray) -> None:
        summary = self._summary
        try:
            fit = fit_purchases(summary, self._model, self._penalizer, weights, self._start, self._rows)
            with np.errstate(all="ignore"):
                e, d = fit.bg.discounted_expected_purchases(self._times, self._factors, self._distinct)
            fit.spend(summary.iloc[:1])  # a spend that cannot be evaluated (q <= 1) fails here, not later
        except (ShopsegError, ArithmeticError, ValueError):  # SchemaError is a ShopsegError
            return  # an unusable resample (e.g. no repeat buyer); counted as missing
        self._purchases[i], self._discounted[i] = e, d
        self._spends[i] = fit.spend


def bootstrap_values(
    summary: pd.DataFrame,
    n: int,
    seed: int,
    horizon: float,
    discount_rate: float,
    model: str,
    penalizer: float,
    start: PurchaseFit | None = None,
) -> Draws:
    """:class:`Bootstrap`'s draws, every refit in the calling thread."""
    return Bootstrap(summary, n, seed, horizon, discount_rate, model, penalizer, start).run()


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
