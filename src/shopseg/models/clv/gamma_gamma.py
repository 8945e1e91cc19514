"""The Gamma-Gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV"; Fader & Hardie note 025).

A customer's transaction values are Gamma(p, nu) around her mean p/nu, and
nu ~ Gamma(q, gamma) across customers. With x repeat transactions of mean
``m``, the likelihood is (note 025, eq. 1)::

    L = G(px+q) / (G(px) G(q)) * gamma^q m^(px-1) x^(px) / (gamma + m x)^(px+q)

fitted on repeat customers only (``frequency > 0`` and ``monetary_value > 0``).
The model assumes spend is independent of the purchase process: check
``corr(frequency, monetary_value)`` on your data before combining it with a
purchase model.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from numbers import Integral, Real
from typing import Any

import numpy as np
from scipy import special

from shopseg.errors import DataQualityWarning, SchemaError, ShopsegError
from shopseg.models._validation import Interval, Options, validate_params
from shopseg.models.clv._base import Estimator, fit_mle, start_values
from shopseg.models.clv._summary import read_monetary, read_weights, unique_inverse, unique_rows

__all__ = ["GammaGammaModel"]


class GammaGammaModel(Estimator):
    """Gamma-Gamma model of the average transaction value.

    Parameters
    ----------
    penalizer : float, default=0.0
        L2 penalty on the parameters, added to the mean negative log-likelihood.
    min_customers : int, default=30
        Fewer *repeat* customers with a positive spend is degenerate data.
    fallback : {"raise", "population"}, default="raise"
        On degenerate data (fewer than ``min_customers`` usable repeat
        customers): raise a :class:`~shopseg.errors.SchemaError` with a hint,
        or skip the model, warn (``DataQualityWarning``), record the reason in
        ``fallback_`` and predict ``population_mean_`` for every customer.
    max_iter : int, default=2000
        Iterations of L-BFGS-B (and twice as many for the Nelder-Mead polish);
        hitting it issues a :class:`~shopseg.errors.ConvergenceWarning`.

    Attributes
    ----------
    params_ : dict
        ``p``, ``q``, ``gamma`` (empty when the fallback was used).
    population_mean_ : float
        Observed mean transaction value of the repeat customers (weighted by
        their number of repeat purchases).
    standard_errors_ : dict
    curvature_ : numpy.ndarray or None
        Hessian of the per-customer negative log-likelihood in log-parameters at ``params_`` (with the
        standard errors; None without them or with the fallback): it starts a refit (``fit(init_curvature=...)``).
    log_likelihood_ : float
    converged_ : bool
    n_customers_ : int
        Repeat customers fitted on.
    fallback_ : str or None

    Examples
    --------
    >>> m = GammaGammaModel()
    >>> m.params_ = {"p": 6.25, "q": 3.74, "gamma": 15.44}
    >>> round(float(m.conditional_expected_average_profit([2], [35.0])[0]), 2)
    35.04

    References
    ----------
    .. [1] Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005). RFM and CLV:
       using iso-value curves for customer base analysis. Journal of Marketing
       Research 42(4), 415-430.
    .. [2] Fader, P. S. and Hardie, B. G. S. (2013). The Gamma-Gamma model of
       monetary value (note 025).
    """

    _param_names = ("p", "q", "gamma")
    _parameter_constraints: dict[str, list[Any]] = {
        "penalizer": [Interval(Real, 0, None, closed="left")],
        "min_customers": [Interval(Integral, 1, None, closed="left")],
        "fallback": [Options(("raise", "population"))],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self, *, penalizer: float = 0.0, min_customers: int = 30, fallback: str = "raise", max_iter: int = 2000
    ) -> None:
        self.penalizer = penalizer
        self.min_customers = min_customers
        self.fallback = fallback
        self.max_iter = max_iter

    @staticmethod
    def _loglik(params: np.ndarray, x: np.ndarray, m: np.ndarray) -> np.ndarray:
        p, q, gamma = params
        px = p * x
        return (
            special.gammaln(px + q)
            - special.gammaln(px)
            - special.gammaln(q)
            + q * np.log(gamma)
            + (px - 1) * np.log(m)
            + px * np.log(x)
            - (px + q) * np.log(gamma + m * x)
        )

    @staticmethod
    def _gradient(x: np.ndarray, m: np.ndarray, w: np.ndarray) -> Callable[[np.ndarray], tuple[float, np.ndarray]]:
        """Weighted log-likelihood and its analytic gradient in (p, q, gamma).

        The gamma/digamma terms depend on a customer only through ``x`` (a few dozen
        distinct values): they are evaluated per distinct x and gathered.
        """
        ux, ix = unique_inverse(x)  # by hashing: the sums below do not depend on the order of the values
        wx = np.bincount(ix, weights=w)  # customers per distinct x
        log_m = np.log(m)
        sum_w_logm_x = np.bincount(ix, weights=w * log_m)  # per distinct x: sum of w log m

        def value_and_grad(params: np.ndarray) -> tuple[float, np.ndarray]:
            p, q, gamma = params
            pux = p * ux
            gm = gamma + m * x
            log_gm = np.log(gm)
            sum_log_gm = np.bincount(ix, weights=w * log_gm)
            psi_pxq, psi_px = special.digamma(pux + q), special.digamma(pux)
            ll = (
                np.sum(
                    wx
                    * (
                        special.gammaln(pux + q)
                        - special.gammaln(pux)
                        - special.gammaln(q)
                        + q * np.log(gamma)
                        + pux * np.log(ux)
                    )
                )
                + np.sum((pux - 1) * sum_w_logm_x)
                - np.sum((pux + q) * sum_log_gm)
            )
            g_p = np.sum(ux * (wx * (psi_pxq - psi_px + np.log(ux)) + sum_w_logm_x - sum_log_gm))
            g_q = np.sum(wx * (psi_pxq - special.digamma(q) + np.log(gamma)) - sum_log_gm)
            g_gamma = np.sum(wx) * q / gamma - np.sum(w * (p * x + q) / gm)
            return float(ll), np.array([g_p, g_q, g_gamma])

        return value_and_grad

    def fit(
        self,
        data: Any,
        monetary_value: Any = None,
        *,
        weights: Any = None,
        init_params: Mapping[str, float] | None = None,
        standard_errors: bool = True,
        distinct: bool = False,
        init_curvature: np.ndarray | None = None,
    ) -> GammaGammaModel:
        """Fit on the repeat customers of a summary (``frequency``, ``monetary_value`` or ``_cal`` names).

        Customers with ``frequency == 0`` are skipped (their monetary value is
        undefined); repeat customers with ``monetary_value <= 0`` are skipped
        with a ``DataQualityWarning``. ``weights`` (default None) counts each row as that many
        identical customers (0 leaves it out), as in :meth:`BetaGeoModel.fit`. ``init_params``
        (default None: 1 for each) starts the optimiser, e.g. at an earlier fit's ``params_``. ``standard_errors=False``
        skips the Hessian (``standard_errors_`` are NaN), as a bootstrap refit does. ``distinct=True`` says the
        rows are already distinct ``(frequency, monetary_value)`` pairs (a bootstrap's rows, compressed once), so
        they are not compressed again. ``init_curvature`` (with ``init_params``: an earlier fit's ``curvature_``)
        first takes Newton steps with that Hessian, as :meth:`BetaGeoModel.fit` does for a bootstrap refit.

        Raises
        ------
        SchemaError
            Invalid values, or (``fallback="raise"``) fewer than ``min_customers`` usable repeat customers.
        """
        validate_params(self)
        x, m, _ = read_monetary(data, monetary_value)
        w = read_weights(weights, len(x))
        w = np.ones(len(x)) if w is None else w
        zero_spend = (x > 0) & (m <= 0) & (w > 0)
        if zero_spend.any():
            warnings.warn(
                f"GammaGammaModel.fit: {int(zero_spend.sum())} repeat customers with monetary_value <= 0 were left out.",
                DataQualityWarning,
                stacklevel=2,
            )
        keep = (x > 0) & (m > 0) & (w > 0)
        if distinct:
            ux, um, counts = x[keep], m[keep], w[keep]
        else:
            (ux, um), _, inverse = unique_rows(x[keep], m[keep])
            counts = np.bincount(inverse, weights=w[keep], minlength=len(ux))
        n = int(round(float(w[keep].sum())))
        reason = (
            None
            if n >= self.min_customers
            else (
                f"only {n} repeat customers with a positive monetary_value; expected at least min_customers={self.min_customers}"
            )
        )
        if reason is not None and (self.fallback == "raise" or n == 0):
            raise SchemaError(
                f"GammaGammaModel.fit: {reason}. Hint: the spend model needs repeat buyers; use a longer "
                "calibration period, or pass fallback='population' (needs at least one repeat customer; "
                "shopseg predict does this by itself and flags the rows 'fallback').",
                table="summary",
            )
        wx = w[keep] * x[keep]
        self.population_mean_ = float(np.sum(wx * m[keep]) / np.sum(wx))
        self.n_customers_ = n
        self.fallback_ = reason
        if reason is not None:
            warnings.warn(
                f"GammaGammaModel.fit: {reason}; predicting the population mean spend {self.population_mean_:.4g}.",
                DataQualityWarning,
                stacklevel=2,
            )
            self.params_, self.standard_errors_, self.curvature_ = {}, {}, None
            self.log_likelihood_, self.converged_ = None, False
            return self
        res = fit_mle(
            lambda prm: self._loglik(prm, ux, um),
            counts,
            start_values(init_params, self._param_names, (1.0, 1.0, 1.0)),
            self._param_names,
            "GammaGammaModel",
            float(self.penalizer),
            self.max_iter,
            self._gradient(ux, um, counts),
            standard_errors,
            init_curvature if init_params is not None else None,
        )
        self.params_ = dict(zip(self._param_names, map(float, res.params)))
        self.standard_errors_ = dict(zip(self._param_names, map(float, res.standard_errors)))
        self.curvature_ = res.curvature
        self.log_likelihood_ = res.log_likelihood
        self.converged_ = res.converged
        return self

    def expected_average_profit(self) -> float:
        """Population mean transaction value ``p * gamma / (q - 1)`` (a customer with no repeat purchase).

        With the fallback, ``population_mean_``.
        """
        self._check_fitted()
        if getattr(self, "fallback_", None) is not None:
            return self.population_mean_
        p, q, gamma = (self.params_[k] for k in self._param_names)
        if q <= 1:
            raise ShopsegError(
                f"GammaGammaModel: the population mean spend is infinite because q = {q:.3g} <= 1. "
                "Hint: a few extreme spenders dominate; cap monetary_value or pass penalizer > 0 "
                "(shopseg predict run --penalizer 0.01)."
            )
        return p * gamma / (q - 1)

    def conditional_expected_average_profit(self, data: Any, monetary_value: Any = None) -> np.ndarray:
        """E[mean transaction value | x, m] per customer (note 025, eq. 5).

        A weighted mean of the population mean and the customer's own mean,
        ``(q-1)/(px+q-1) * p gamma/(q-1) + px/(px+q-1) * m``; customers with
        ``frequency == 0`` get the population mean.
        """
        self._check_fitted()
        x, m, _ = read_monetary(data, monetary_value)
        population = self.expected_average_profit()
        if getattr(self, "fallback_", None) is not None:
            return np.full(len(x), population)
        p, q, gamma = (self.params_[k] for k in self._param_names)
        px = p * x
        return np.where(x > 0, (gamma + m * x) * p / (px + q - 1), population)
