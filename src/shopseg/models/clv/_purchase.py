"""Base class of the purchase-count models (BG/NBD, Pareto/NBD): fit and customer-level predictions.

Subclasses supply the model's formulas on arrays of unique ``(x, t_x, T)`` rows;
this class validates, compresses, fits, and broadcasts predictions back to
customers. Every public prediction is finite or raises: a NaN never leaves
silently.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from numbers import Integral, Real
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from shopseg.errors import DataQualityWarning, SchemaError, ShopsegError
from shopseg.models._validation import Interval, Options, validate_params
from shopseg.models.clv._base import Estimator, fit_mle, start_values
from shopseg.models.clv._summary import Summary, read_summary
from shopseg.models.clv.next_order import next_order_from_cdf

__all__ = ["PurchaseModel", "PmfStepper", "nbinom_pmf", "nbinom_sf"]

FALLBACK_PENALIZER = 0.1


def nbinom_pmf(k: int | np.ndarray, n: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Negative binomial ``P(K = k)`` with ``n`` successes of probability ``p`` (``scipy.stats.nbinom.pmf``),
    from log-gamma terms: scipy.stats costs 0.3 s to import and ``predict run`` needs only this."""
    k = np.asarray(k, dtype=float)
    with np.errstate(all="ignore"):
        log = special.gammaln(k + n) - special.gammaln(n) - special.gammaln(k + 1.0)
        out = np.exp(log + special.xlogy(n, p) + special.xlog1py(k, -p))
    return np.asarray(np.where(k >= 0, out, 0.0))


def nbinom_sf(k: int | np.ndarray, n: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Negative binomial ``P(K > k)`` (``scipy.stats.nbinom.sf``): the regularised incomplete beta."""
    k = np.floor(np.asarray(k, dtype=float))
    with np.errstate(all="ignore"):
        return np.asarray(np.where(k < 0, 1.0, special.betainc(k + 1.0, n, 1.0 - p)))


class PmfStepper:
    """Yields ``P(X = n | alive)`` for n = 0, 1, ... over rows; ``keep(mask)`` drops rows between steps.

    The generic stepper calls ``pmf(n, x, T)`` afresh; models with a recursion in n override
    :meth:`PurchaseModel._pmf_stepper` with a cheaper one.
    """

    def __init__(self, pmf: Callable[[int, np.ndarray, np.ndarray], np.ndarray], x: np.ndarray, T: np.ndarray) -> None:
        self._pmf, self.x, self.T, self.n = pmf, x, T, 0

    def next(self) -> np.ndarray:
        out = self._pmf(self.n, self.x, self.T)
        self.n += 1
        return out

    def keep(self, mask: np.ndarray) -> None:
        self.x, self.T = self.x[mask], self.T[mask]


def _drop_empty(s: Summary) -> Summary:
    """The rows of positive weight (a fit needs no map back to customers)."""
    return s.subset(s.weights > 0)


class PurchaseModel(Estimator):
    """Common constructor, ``fit`` and predictions; see :class:`BetaGeoModel`."""

    _param_names: tuple[str, ...] = ()
    _x0: tuple[float, ...] = ()
    _parameter_constraints: dict[str, list[Any]] = {
        "penalizer": [Interval(Real, 0, None, closed="left")],
        "min_customers": [Interval(Integral, 1, None, closed="left")],
        "fallback": [Options(("raise", "penalized"))],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self, *, penalizer: float = 0.0, min_customers: int = 30, fallback: str = "raise", max_iter: int = 2000
    ) -> None:
        self.penalizer = penalizer
        self.min_customers = min_customers
        self.fallback = fallback
        self.max_iter = max_iter

    # ----- formulas (subclasses) -------------------------------------------------------------
    def _loglik(self, p: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _p_alive(self, p: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _cond_expected(self, p: np.ndarray, t: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _cond_expected_at(self, p: np.ndarray, times: np.ndarray, s: Summary) -> np.ndarray:
        """:meth:`_cond_expected` at each of ``times`` for the rows of ``s``, shape (len(times), rows);
        a subclass may share work between the times."""
        return np.stack([self._cond_expected(p, np.asarray(float(t)), s.x, s.t_x, s.T) for t in times])

    def _discounted_at(
        self, p: np.ndarray, times: np.ndarray, factors: np.ndarray, s: Summary
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per row of ``s``: expected purchases by ``times[-1]`` and the ``factors``-weighted increments."""
        cum = self._cond_expected_at(p, times, s)
        return cum[-1], factors @ np.diff(cum, axis=0, prepend=0.0)

    def _expected(self, p: np.ndarray, t: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _pmf_alive(self, p: np.ndarray, n: int, t: float, x: np.ndarray, T: np.ndarray) -> np.ndarray:
        """P(exactly ``n`` purchases in (T, T + t] | alive at T, x, T)."""
        raise NotImplementedError

    def _pmf_stepper(self, p: np.ndarray, t: float, x: np.ndarray, T: np.ndarray) -> PmfStepper:
        """P(n | alive) for n = 0, 1, ... on rows that can be dropped (see :class:`PmfStepper`)."""
        return PmfStepper(lambda n, rows_x, rows_T: self._pmf_alive(p, n, t, rows_x, rows_T), x, T)

    def _cond_pmf(self, p: np.ndarray, n: int, t: float, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
        alive = self._p_alive(p, x, t_x, T)
        return alive * self._pmf_alive(p, n, t, x, T) + (1.0 - alive) * (n == 0)

    def _next_cdf(self, p: np.ndarray, u: np.ndarray, x: np.ndarray, T: np.ndarray) -> np.ndarray:
        """P(next purchase within u | alive at T), ``u`` of shape (k, 1) against rows (n,)."""
        raise NotImplementedError

    def _next_order_closed(
        self, p: np.ndarray, x: np.ndarray, T: np.ndarray, horizon: float, interval: tuple[float, float]
    ) -> pd.DataFrame | None:
        """Optional closed form of :func:`next_order_from_cdf` (same columns); None to use the grid."""
        return None

    def _gradient(self, s: Summary) -> Callable[[np.ndarray], tuple[float, np.ndarray]] | None:
        """Optional: a function of the parameters giving the weighted log-likelihood and its gradient."""
        return None

    # ----- fit --------------------------------------------------------------------------------
    def _degenerate(self, s: Summary) -> str | None:
        n, repeat = s.n_customers, float(s.weights[s.x > 0].sum())
        if n < self.min_customers:
            return f"only {n} customers; expected at least min_customers={self.min_customers}"
        if repeat == 0:
            return (
                f"none of the {n} customers made a repeat purchase, so the purchase rate and dropout are not identified"
            )
        return None

    def fit(
        self,
        data: Any,
        recency: Any = None,
        T: Any = None,
        *,
        weights: Any = None,
        init_params: Mapping[str, float] | None = None,
        standard_errors: bool = True,
        init_curvature: np.ndarray | None = None,
    ) -> PurchaseModel:
        """Fit by maximum likelihood on the unique ``(frequency, recency, T)`` rows.

        Parameters
        ----------
        data : pandas.DataFrame or array-like
            A summary with columns ``frequency``, ``recency``, ``T`` (or their
            ``_cal`` names from :func:`~shopseg.features.calibration_holdout_split`),
            or the frequency array, with ``recency`` and ``T`` given as arrays, or an
            already compressed :class:`~shopseg.models.clv._summary.Summary` (weights per its rows).
        recency, T : array-like, default=None
            Only when ``data`` is an array.
        weights : array-like, default=None
            A count per row (as lifetimes' ``weights``): a row of weight k counts as k identical
            customers, 0 leaves it out. A bootstrap passes its resample counts here.
        init_params : dict, default=None
            Starting values of the optimiser, e.g. an earlier fit's ``params_`` (a bootstrap
            refit starts from the point estimate); None starts from 1 for every parameter.
        standard_errors : bool, default=True
            False skips the Hessian behind ``standard_errors_`` (they are NaN): a bootstrap
            refit needs only the estimate.
        init_curvature : numpy.ndarray, default=None
            With ``init_params``, the earlier fit's ``curvature_``: the refit first takes Newton steps with
            that Hessian, which on a large store reach the optimum in fewer likelihood evaluations than
            L-BFGS-B (which takes over when they do not settle). A bootstrap refit passes the point fit's.

        Returns
        -------
        self

        Raises
        ------
        InvalidParameterError
            A hyperparameter is out of range.
        SchemaError
            Invalid rows (recency > T, negative frequency...), or with
            ``fallback="raise"``: too few customers or no repeat buyer.
        """
        validate_params(self)
        s = read_summary(data, recency, T, weights)
        if weights is not None:
            s = _drop_empty(s)
        name = type(self).__name__
        reason = self._degenerate(s)
        penalizer = float(self.penalizer)
        if reason is not None:
            if self.fallback == "raise":
                raise SchemaError(
                    f"{name}.fit: {reason}. Hint: use a longer calibration period or more customers, or pass "
                    f"fallback='penalized' to fit a shrunken model (penalizer={FALLBACK_PENALIZER}) flagged in fallback_ "
                    "(shopseg predict does this by itself and flags the rows 'fallback').",
                    table="summary",
                )
            warnings.warn(
                f"{name}.fit: {reason}; fitted with penalizer={FALLBACK_PENALIZER}.", DataQualityWarning, stacklevel=2
            )
            penalizer = max(penalizer, FALLBACK_PENALIZER)
        res = fit_mle(
            lambda p: self._loglik(p, s.x, s.t_x, s.T),
            s.weights,
            start_values(init_params, self._param_names, self._x0),
            self._param_names,
            name,
            penalizer,
            self.max_iter,
            self._gradient(s),
            standard_errors,
            init_curvature if init_params is not None else None,
        )
        self.params_ = dict(zip(self._param_names, map(float, res.params)))
        self.standard_errors_ = dict(zip(self._param_names, map(float, res.standard_errors)))
        self.curvature_ = res.curvature
        self.log_likelihood_ = res.log_likelihood
        self.converged_ = res.converged
        self.n_customers_ = s.n_customers
        self.n_unique_rows_ = len(s.x)
        self.fallback_ = reason
        self.time_unit_ = getattr(data, "attrs", {}).get("time_unit") if isinstance(data, pd.DataFrame) else None
        return self

    # ----- predictions ------------------------------------------------------------------------
    def _p(self) -> np.ndarray:
        self._check_fitted()
        return np.array([self.params_[k] for k in self._param_names])

    def _finite(self, values: np.ndarray, what: str) -> np.ndarray:
        bad = ~np.isfinite(values)
        if bad.any():
            raise ShopsegError(
                f"{type(self).__name__}: {what} is not finite for {int(bad.sum())} rows at parameters {self.params_}. "
                "Hint: the fit may have run to a boundary (see converged_); refit with penalizer > 0 "
                "(shopseg predict run --penalizer 0.01)."
            )
        return values

    def _rows(self, data: Any, recency: Any, T: Any) -> Summary:
        self._check_fitted()
        return read_summary(data, recency, T)

    def conditional_probability_alive(self, data: Any, recency: Any = None, T: Any = None) -> np.ndarray:
        """P(alive at T | x, t_x, T), one value per customer, in [0, 1]."""
        s = self._rows(data, recency, T)
        with np.errstate(all="ignore"):
            out = self._p_alive(self._p(), s.x, s.t_x, s.T)
        return self._finite(np.clip(out, 0.0, 1.0), "P(alive)")[s.inverse]

    def conditional_expected_purchases(self, t: float, data: Any, recency: Any = None, T: Any = None) -> np.ndarray:
        """E[number of purchases in (T, T + t] | x, t_x, T], one value per customer."""
        s = self._rows(data, recency, T)
        with np.errstate(all="ignore"):
            out = self._cond_expected(self._p(), np.asarray(float(t)), s.x, s.t_x, s.T)
        return self._finite(out, "expected purchases")[s.inverse]

    def conditional_expected_purchases_at(
        self, times: Any, data: Any, recency: Any = None, T: Any = None
    ) -> np.ndarray:
        """:meth:`conditional_expected_purchases` at each of ``times``: shape (len(times), customers)."""
        s = self._rows(data, recency, T)
        p = self._p()
        with np.errstate(all="ignore"):
            out = self._cond_expected_at(p, np.ravel(np.asarray(times, dtype=float)), s)
        return self._finite(out, "expected purchases")[:, s.inverse]

    def discounted_expected_purchases(
        self, times: Any, factors: Any, data: Any, recency: Any = None, T: Any = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Expected purchases by the last of ``times`` and ``sum_k factors[k] * E[purchases in (t_(k-1), t_k]]``.

        The increments between the increasing ``times`` (from 0) weighted by ``factors``
        (e.g. discount factors), per customer; computed on the distinct rows without
        materialising the (times, customers) matrix.
        """
        s = self._rows(data, recency, T)
        times = np.ravel(np.asarray(times, dtype=float))
        with np.errstate(all="ignore"):
            last, discounted = self._discounted_at(self._p(), times, np.asarray(factors, dtype=float), s)
        last = self._finite(last, "expected purchases")
        return last[s.inverse], self._finite(discounted, "discounted expected purchases")[s.inverse]

    def expected_purchases(self, t: Any) -> np.ndarray:
        """E[X(t)] for a customer just acquired (no history), for each ``t``."""
        with np.errstate(all="ignore"):
            return self._finite(np.atleast_1d(self._expected(self._p(), np.asarray(t, float))), "E[X(t)]")

    def probability_of_purchases(
        self, n: int, t: float, data: Any = None, recency: Any = None, T: Any = None
    ) -> np.ndarray:
        """P(exactly ``n`` purchases in the next ``t``): of a new customer when ``data`` is None, else per customer."""
        self._check_fitted()
        if isinstance(n, bool) or not isinstance(n, Integral) or n < 0:
            raise SchemaError(
                f"{type(self).__name__}.probability_of_purchases: n must be a whole number >= 0; got {n!r}."
            )
        if data is None:
            x = t_x = np.zeros(1)
            big_t = np.zeros(1)
            with np.errstate(all="ignore"):
                return self._finite(self._cond_pmf(self._p(), int(n), float(t), x, t_x, big_t), "P(X(t)=n)")
        s = self._rows(data, recency, T)
        with np.errstate(all="ignore"):
            out = self._cond_pmf(self._p(), int(n), float(t), s.x, s.t_x, s.T)
        return self._finite(np.clip(out, 0.0, 1.0), "P(X(t)=n)")[s.inverse]

    def next_order(
        self,
        data: Any,
        recency: Any = None,
        T: Any = None,
        *,
        horizon: float = 52.0,
        interval: tuple[float, float] = (0.1, 0.9),
    ) -> pd.DataFrame:
        """Time from T to the next order: probability within ``horizon`` and, given one, its mean and interval.

        See :mod:`shopseg.models.clv.next_order` for the derivation. Returns a
        frame with ``p_next_order`` (P(alive) x P(next purchase <= horizon | alive)),
        ``next_order_expected``, ``next_order_lower``, ``next_order_upper`` (in the
        model's time unit, measured from T, conditional on an order within ``horizon``).
        """
        s = self._rows(data, recency, T)
        table = self._next_order_rows(s, horizon, interval)
        out = table.iloc[s.inverse].reset_index(drop=True)
        out.index = s.index
        return out[["p_next_order", "next_order_expected", "next_order_lower", "next_order_upper"]]

    def _next_order_rows(self, s: Summary, horizon: float, interval: tuple[float, float]) -> pd.DataFrame:
        lo, hi = interval
        if not (0 < lo < hi < 1) or not horizon > 0:
            raise SchemaError(
                f"next_order: expected horizon > 0 and 0 < lower < upper < 1; got {horizon!r}, {interval!r}."
            )
        p = self._p()
        with np.errstate(all="ignore"):
            alive = np.clip(self._p_alive(p, s.x, s.t_x, s.T), 0.0, 1.0)
            table = self._next_order_closed(p, s.x, s.T, float(horizon), (lo, hi))
            if table is None:
                table = next_order_from_cdf(
                    lambda u, rows: self._next_cdf(p, u, s.x[rows], s.T[rows]), len(s.x), float(horizon), (lo, hi)
                )
        table["p_next_order"] = alive * table.pop("p_within")
        table.insert(0, "p_alive", alive)
        for col in table.columns:
            self._finite(table[col].to_numpy(), col)
        return table

    def predict(self, data: Any, *, horizon: float = 52.0, interval: tuple[float, float] = (0.1, 0.9)) -> pd.DataFrame:
        """Per-customer predictions for the workspace: p_alive, expected purchases over ``horizon``, next order.

        Keeps ``customer_id`` when ``data`` has it; ``attrs`` record the model,
        horizon, time unit and any fallback.
        """
        frame = data if isinstance(data, pd.DataFrame) else None
        s = self._rows(data, None, None)
        table = self._next_order_rows(s, horizon, interval)
        with np.errstate(all="ignore"):
            expected = self._cond_expected(self._p(), np.asarray(float(horizon)), s.x, s.t_x, s.T)
        table.insert(1, "expected_purchases", self._finite(expected, "expected purchases"))
        out = table.iloc[s.inverse].reset_index(drop=True)
        out.index = s.index
        if frame is not None and "customer_id" in frame.columns:
            out.insert(0, "customer_id", frame["customer_id"].to_numpy())
        out.attrs.update(
            {"model": type(self).__name__, "horizon": horizon, "time_unit": self.time_unit_, "fallback": self.fallback_}
        )
        return out
