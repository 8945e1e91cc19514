"""The BG/NBD purchase model ("Counting your customers the easy way").

While alive a customer buys as a Poisson process with rate lambda ~ Gamma(r, alpha);
after every purchase she drops out with probability p ~ Beta(a, b). The
likelihood of one customer with x repeat purchases, the last at t_x, observed
for T is (Fader, Hardie & Lee 2005, eq. 6)::

    L = B(a, b+x)/B(a, b) * G(r+x) alpha^r / (G(r) (alpha+T)^(r+x))
        + [x > 0] B(a+1, b+x-1)/B(a, b) * G(r+x) alpha^r / (G(r) (alpha+t_x)^(r+x))

evaluated in log space with ``logaddexp``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from scipy import special

from shopseg.models.clv._purchase import PmfStepper, PurchaseModel, nbinom_pmf, nbinom_sf
from shopseg.models.clv._summary import Summary, row_blocks

__all__ = ["BetaGeoModel"]


def _expected_given_alive(
    p: np.ndarray, t: np.ndarray, x: np.ndarray, T: np.ndarray, shift: int = 0, nodes: int = 64
) -> np.ndarray:
    """E[Y(t) | alive at T] by Gauss-Jacobi quadrature over the dropout probability.

    Given alive, lambda ~ Gamma(r+x, alpha+T) and p ~ Beta(a, b+x+shift) (shift 1 in the MBG/NBD);
    E[Y(t) | lambda, p] = (1 - exp(-lambda p t)) / p, so
    E[Y(t)] = E_p[(1 - ((alpha+T)/(alpha+T+p t))^(r+x)) / p], a smooth bounded integrand
    against the Beta weight (exact in the weight). Used where the 2F1 closed form fails.
    """
    r, alpha, a, b = p
    out = np.empty(len(x))
    for xv in np.unique(x):
        rows = x == xv
        u, w = special.roots_jacobi(nodes, b + xv + shift - 1.0, a - 1.0)  # weight (1-u)^(b+x-1) (1+u)^(a-1) on [-1, 1]
        q = (u + 1.0) / 2.0  # dropout probability
        w = w / w.sum()
        c = (alpha + T[rows])[:, None]
        f = -np.expm1(-(r + xv) * np.log1p(q[None, :] * t[rows][:, None] / c)) / q[None, :]
        out[rows] = np.sum(f * w[None, :], axis=1)
    return out


class _BetaGeoStepper(PmfStepper):
    """P(n | alive) of the BG/NBD family for n = 0, 1, ... by recursion in n (no special function per step).

    With k = r + x, q = (alpha+T)/(alpha+T+t), c = b + x + shift: the negative binomial count
    ``log NB(n) = log NB(n-1) + log((k+n-1)/n) + log(1-q)``, ``S(n) = B(a, c+n)/B(a, c)`` with
    ``S(n) = S(n-1) (c+n-1)/(a+c+n-1)``, and P(n | alive) = S(n) NB(n) + [n > 0] a/(a+c+n-1) S(n-1) P(NB >= n).
    """

    def __init__(self, p: np.ndarray, t: float, x: np.ndarray, T: np.ndarray, shift: int) -> None:
        r, alpha, a, b = p
        self.a, self.n = a, 0
        self.k, self.c = r + x, b + x + shift
        q = (alpha + T) / (alpha + T + t)
        self.log1q = np.log1p(-q)
        self.log_nb = self.k * np.log(q)
        self.cdf = np.zeros(len(x))  # P(NB <= n - 1)
        self.stay = np.ones(len(x))  # S(n)

    def next(self) -> np.ndarray:
        n = self.n
        if n > 0:
            self.log_nb = self.log_nb + np.log((self.k + n - 1) / n) + self.log1q
            prev_stay = self.stay
            self.stay = prev_stay * (self.c + n - 1) / (self.a + self.c + n - 1)
        nb = np.exp(self.log_nb)
        out = self.stay * nb
        if n > 0:
            out = out + self.a / (self.a + self.c + n - 1) * prev_stay * np.maximum(1.0 - self.cdf, 0.0)
        self.cdf = self.cdf + nb
        self.n += 1
        return out

    def keep(self, mask: np.ndarray) -> None:
        for name in ("k", "c", "log1q", "log_nb", "cdf", "stay"):
            setattr(self, name, getattr(self, name)[mask])


class BetaGeoModel(PurchaseModel):
    """BG/NBD model of repeat purchasing, fitted by maximum likelihood.

    Parameters
    ----------
    penalizer : float, default=0.0
        L2 penalty on the parameters, added to the mean negative
        log-likelihood (as lifetimes' ``penalizer_coef``). 0 gives the MLE.
    min_customers : int, default=30
        Fewer customers than this is treated as degenerate data (see ``fallback``).
    fallback : {"raise", "penalized"}, default="raise"
        On degenerate data (fewer than ``min_customers`` customers, or no
        repeat buyer): raise a :class:`~shopseg.errors.SchemaError` with a hint,
        or fit with ``penalizer=0.1``, warn (``DataQualityWarning``) and record
        the reason in ``fallback_``.
    max_iter : int, default=2000
        Iterations of L-BFGS-B (and twice as many for the Nelder-Mead polish);
        hitting it issues a :class:`~shopseg.errors.ConvergenceWarning`.

    Attributes
    ----------
    params_ : dict
        ``r``, ``alpha``, ``a``, ``b``.
    standard_errors_ : dict
        Standard errors (inverse numerical Hessian, delta method).
    curvature_ : numpy.ndarray or None
        Hessian of the per-customer negative log-likelihood in log-parameters at ``params_`` (with the
        standard errors; None without them): it starts a refit (``fit(init_curvature=...)``).
    log_likelihood_ : float
        Log-likelihood at ``params_`` (without the penalty).
    converged_ : bool
        False when the optimiser stopped early (a ``ConvergenceWarning`` was issued).
    n_customers_, n_unique_rows_ : int
        Customers fitted and distinct ``(x, t_x, T)`` rows the likelihood was evaluated on.
    fallback_ : str or None
        Why the fallback was used, or None.
    time_unit_ : str or None
        From ``data.attrs["time_unit"]`` when the summary came from shopseg.features.

    Examples
    --------
    >>> m = BetaGeoModel()
    >>> m.params_ = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}  # published CDNOW fit
    >>> round(float(m.conditional_expected_purchases(39, [2], [30.43], [38.86])[0]), 3)
    1.226
    >>> round(float(m.conditional_probability_alive([2], [30.43], [38.86])[0]), 4)
    0.7266

    References
    ----------
    .. [1] Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005). "Counting your
       customers" the easy way: an alternative to the Pareto/NBD model.
       Marketing Science 24(2), 275-284.
    .. [2] Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2007). Computing P(alive)
       using the BG/NBD model (note 021).
    """

    _param_names = ("r", "alpha", "a", "b")
    _x0 = (1.0, 1.0, 1.0, 1.0)
    #: Dropout chances survived by a customer with x repeat purchases are x + _shift: the BG/NBD flips the
    #: coin after each repeat purchase (0), the MBG/NBD also right after the first purchase (1).
    _shift = 0

    def _loglik(self, p: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
        r, alpha, a, b = p
        bx = b + x + self._shift  # posterior Beta(a, bx) of the dropout probability given alive
        head = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
        alive = special.betaln(a, bx) - special.betaln(a, b) - (r + x) * np.log(alpha + T)
        dead = special.betaln(a + 1, np.maximum(bx - 1, 1e-300)) - special.betaln(a, b) - (r + x) * np.log(alpha + t_x)
        return head + np.logaddexp(alive, np.where(x + self._shift > 0, dead, -np.inf))

    def _gradient(self, s: Summary) -> Callable[[np.ndarray], tuple[float, np.ndarray]]:
        """Weighted log-likelihood and its analytic gradient.

        Special functions of ``x``, ``T`` and ``t_x`` are evaluated once per distinct
        value and gathered, so one evaluation costs a few passes over the unique rows,
        taken block by block (:func:`~shopseg.models.clv._summary.row_blocks`).
        """
        (ux, ix), (ut, it), (uT, iT) = s.column_codes
        w, d = s.weights, self._shift
        repeat = ux + d > 0  # the "dropped out at t_x" branch exists

        def value_and_grad(p: np.ndarray) -> tuple[float, np.ndarray]:
            r, alpha, a, b = p
            bx1 = np.where(repeat, b + ux + d - 1, 1.0)
            # per distinct x, T or t_x: log B ratios of the alive/dead branches and their digamma derivatives
            log_aT_u, log_at_u = np.log(alpha + uT), np.log(alpha + ut)
            inv_aT_u, inv_at_u = 1.0 / (alpha + uT), 1.0 / (alpha + ut)
            rx_u = r + ux
            alive_x = special.betaln(a, b + ux + d) - special.betaln(a, b)
            dead_x = np.where(repeat, special.betaln(a + 1, bx1) - special.betaln(a, b), -np.inf)
            head_x = special.gammaln(r + ux) - special.gammaln(r) + r * np.log(alpha)
            d_ab = special.digamma(a + b)
            psi_abx = special.digamma(a + b + ux + d)
            da_x_alive = special.digamma(a) - psi_abx
            da_x_dead = special.digamma(a + 1) - psi_abx
            db_x_alive = special.digamma(b + ux + d) - psi_abx
            db_x_dead = np.where(repeat, special.digamma(bx1) - psi_abx, 0.0)
            dr_x = special.digamma(r + ux) - special.digamma(r) + np.log(alpha)
            da_0, db_0 = special.digamma(a) - d_ab, special.digamma(b) - d_ab
            ll, grad = 0.0, np.zeros(4)
            for rows in row_blocks(len(ix)):
                jx, jt, jT, wb = ix[rows], it[rows], iT[rows], w[rows]
                log_aT, log_at, rx = log_aT_u[jT], log_at_u[jt], rx_u[jx]
                alive = alive_x[jx] - rx * log_aT
                diff = dead_x[jx] - rx * log_at - alive  # -inf when x = 0
                dead_share = special.expit(diff)  # weight of the "dropped out at t_x" branch
                share = 1.0 - dead_share
                total = alive + np.maximum(diff, 0.0) + np.log1p(np.exp(-np.abs(diff)))
                ll += float(np.sum(wb * (head_x[jx] + total)))
                g_r = dr_x[jx] - share * log_aT - dead_share * log_at
                g_alpha = r / alpha - rx * (share * inv_aT_u[jT] + dead_share * inv_at_u[jt])
                g_a = share * da_x_alive[jx] + dead_share * da_x_dead[jx] - da_0
                g_b = share * db_x_alive[jx] + dead_share * db_x_dead[jx] - db_0
                grad += [np.sum(wb * g) for g in (g_r, g_alpha, g_a, g_b)]
            return ll, grad

        return value_and_grad

    def _p_alive(self, p: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
        r, alpha, a, b = p
        bx = b + x + self._shift
        log_odds_dead = (
            np.log(a) - np.log(np.maximum(bx - 1, 1e-300)) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
        )
        return np.where(x + self._shift > 0, special.expit(-log_odds_dead), 1.0)

    def _given_alive(self, p: np.ndarray, t: np.ndarray, x: np.ndarray, T: np.ndarray) -> np.ndarray:
        """E[purchases in (T, T + t] | alive at T, x, T]: depends on ``(x, T)`` only, not on ``t_x``."""
        r, alpha, a, b = p
        bx = b + x + self._shift
        z = t / (alpha + T + t)
        hyp = special.hyp2f1(r + x, bx, a + bx - 1, z)
        bracket = 1.0 - np.exp((r + x) * np.log1p(-z)) * hyp
        given_alive = (a + bx - 1) / (a - 1) * bracket
        # 2F1 loses all accuracy for large x * t (and near a = 1): redo those rows by quadrature
        bad = ~np.isfinite(given_alive) | (given_alive < 0) | (np.abs(a - 1.0) < 1e-3)
        if np.any(bad):
            given_alive = np.where(bad, 0.0, given_alive)
            given_alive[bad] = _expected_given_alive(p, np.broadcast_to(t, x.shape)[bad], x[bad], T[bad], self._shift)
        return np.asarray(given_alive)

    def _cond_expected(self, p: np.ndarray, t: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
        return self._given_alive(p, t, x, T) * self._p_alive(p, x, t_x, T)

    def _cond_expected_at(self, p: np.ndarray, times: np.ndarray, s: Summary) -> np.ndarray:
        """The 2F1 term once per distinct ``(x, T)`` and time, P(alive) once per row: the same values, fewer 2F1s."""
        ux, uT, inverse = s.x_T_groups
        alive = self._p_alive(p, s.x, s.t_x, s.T)
        return np.stack([self._given_alive(p, np.asarray(float(t)), ux, uT)[inverse] * alive for t in times])

    def _discounted_at(
        self, p: np.ndarray, times: np.ndarray, factors: np.ndarray, s: Summary
    ) -> tuple[np.ndarray, np.ndarray]:
        """E = given_alive(x, T) x P(alive): the time path is a path of the (x, T) groups, scaled per row."""
        ux, uT, inverse = s.x_T_groups
        alive = self._p_alive(p, s.x, s.t_x, s.T)
        path = np.stack([self._given_alive(p, np.asarray(float(t)), ux, uT) for t in times])
        discounted = factors @ np.diff(path, axis=0, prepend=0.0)
        return path[-1][inverse] * alive, discounted[inverse] * alive

    def _expected(self, p: np.ndarray, t: np.ndarray) -> np.ndarray:
        # FHL (2005) eq. 9 is the conditional expectation at x = t_x = T = 0
        t = np.atleast_1d(t).astype(float)
        zeros = np.zeros(t.shape)
        return self._cond_expected(p, t, zeros, zeros, zeros)

    def _pmf_alive(self, p: np.ndarray, n: int, t: float, x: np.ndarray, T: np.ndarray) -> np.ndarray:
        # Alive at T: lambda ~ Gamma(r+x, alpha+T), p ~ Beta(a, b+x+shift). Either n purchases and still alive
        # (negative binomial count, (1-p)^n), or dropout right after the n-th purchase (NB survival at n-1).
        r, alpha, a, b = p
        bx = b + x + self._shift
        prob = (alpha + T) / (alpha + T + t)
        stay = np.exp(special.betaln(a, bx + n) - special.betaln(a, bx)) * nbinom_pmf(n, r + x, prob)
        drop = 0.0
        if n > 0:
            drop = np.exp(special.betaln(a + 1, bx + n - 1) - special.betaln(a, bx)) * nbinom_sf(n - 1, r + x, prob)
        return stay + drop

    def _pmf_stepper(self, p: np.ndarray, t: float, x: np.ndarray, T: np.ndarray) -> PmfStepper:
        return _BetaGeoStepper(p, t, x, T, self._shift)

    def _next_order_closed(
        self, p: np.ndarray, x: np.ndarray, T: np.ndarray, horizon: float, interval: tuple[float, float]
    ) -> pd.DataFrame:
        """The Lomax(k = r+x, c = alpha+T) wait, truncated at h: exact F(h), quantiles and mean.

        ``S(u) = (c/(c+u))^k``; quantile ``c ((1 - q F(h))^(-1/k) - 1)``; mean
        ``(int_0^h S - h S(h)) / F(h)`` with ``int_0^h S = c (1 - (c/(c+h))^(k-1)) / (k-1)``
        (``c log(1 + h/c)`` at k = 1).
        """
        r, alpha, _, _ = p
        k, c = r + x, alpha + T
        g = np.log1p(horizon / c)
        fh = -np.expm1(-k * g)
        km1 = k - 1.0
        near_one = np.abs(km1) < 1e-8
        area = np.where(
            near_one, c * g, c * -np.expm1(-np.where(near_one, 1.0, km1) * g) / np.where(near_one, 1.0, km1)
        )
        mean = (area - horizon * (1.0 - fh)) / fh
        quantile = lambda q: c * np.expm1(-np.log1p(-q * fh) / k)  # noqa: E731
        return pd.DataFrame(
            {
                "p_within": fh,
                "next_order_expected": mean,
                "next_order_lower": quantile(interval[0]),
                "next_order_upper": quantile(interval[1]),
            }
        )

    def _next_cdf(self, p: np.ndarray, u: np.ndarray, x: np.ndarray, T: np.ndarray) -> np.ndarray:
        r, alpha, _, _ = p
        return -np.expm1(-(r + x) * np.log1p(u / (alpha + T)))
