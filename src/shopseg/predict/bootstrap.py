"""The parameter band of ``shopseg predict``: refits of the purchase and spend models to resampled buyers.

:class:`Bootstrap` refits both models to ``n`` resamples of the buyers (on
one or two threads, with the same draws either way) and keeps each
replicate's expected and discounted purchases per distinct row;
:meth:`Draws.intervals` turns them into each buyer's 10th-90th percentile
band of purchases and of CLV (:func:`draw_interval`). Used by
:func:`shopseg.predict.run.predict_workspace`.
"""

from __future__ import annotations

import threading
import warnings
from concurrent.futures import Executor
from dataclasses import dataclass

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from shopseg.errors import ShopsegError
from shopseg.predict.clv_fit import BuyerRows, PurchaseFit, Spend, fit_purchases, monthly_steps

__all__ = ["BAND_CHUNK", "Bootstrap", "Draws", "column_quantiles", "draw_interval"]

#: Buyers per block of the parameter band's value draws (replicates x block floats at a time).
BAND_CHUNK = 200_000


@dataclass
class Draws:
    """A bootstrap's replicates (:meth:`Bootstrap.run`), kept per distinct ``(frequency, recency, T)`` row.

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
        self._times, self._factors = monthly_steps(horizon, discount_rate)
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
        # the draws own the arrays from here: the caller frees them (at 1M buyers 2 x 30 x 428k floats)
        purchases, discounted, fitted = self._purchases, self._discounted, self._spends
        self._purchases = self._discounted = np.empty((0, 0))
        self._spends = []
        done = [i for i, spend in enumerate(fitted) if spend is not None]
        keep = slice(len(done)) if len(done) == self._n else done
        spends = [spend for spend in fitted if spend is not None]
        return Draws(purchases[keep], discounted[keep], spends, self._rows.purchases.inverse)

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


def draw_interval(
    point: np.ndarray, draws: np.ndarray, inverse: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The 10th-90th percentile of bootstrap ``draws``, widened to hold ``point`` (0 to 2x without draws).

    With ``inverse``, column ``inverse[i]`` of ``draws`` belongs to ``point[i]``.
    """
    if len(draws) == 0:
        return np.zeros_like(point), 2.0 * point
    lo, hi = column_quantiles(draws)
    if inverse is not None:
        lo, hi = lo[inverse], hi[inverse]
    return np.minimum(lo, point), np.maximum(hi, point)


def column_quantiles(draws: np.ndarray, levels: tuple[float, ...] = (0.1, 0.9)) -> list[np.ndarray]:
    """``np.quantile(draws, levels, axis=0)`` (its default linear method, to the bit) from one sort of the
    columns: numpy partitions the columns of a (replicates x rows) array one by one, which at 30 x 428k rows
    takes 0.6 s where the sort takes 0.05 s. A column holding a NaN gives NaN, as with numpy."""
    ordered = np.sort(draws, axis=0)  # NaNs sort last
    n = len(ordered)
    out = []
    for q in levels:
        index = (n - 1) * q  # numpy's virtual index of the linear method
        below = min(max(int(np.floor(index)), 0), n - 1)
        above = min(below + 1, n - 1)
        t = index - np.floor(index)
        a, b = ordered[below], ordered[above]
        with np.errstate(invalid="ignore"):
            diff = b - a
            value = b - diff * (1.0 - t) if t >= 0.5 else a + diff * t  # numpy's _lerp
        out.append(np.where(np.isnan(ordered[-1]), np.nan, value))
    return out
