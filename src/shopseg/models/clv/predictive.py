"""What *one* customer may do: the distribution of her purchases and spend in a horizon.

A purchase model gives, for a customer with history ``(x, t_x, T)``, the
probability of exactly ``k`` purchases in the next ``t``::

    P(X(t) = k | x, t_x, T) = P(alive) P(k | alive) + (1 - P(alive)) [k = 0]

(closed forms for the BG/NBD and MBG/NBD, a quadrature over the remaining
lifetime for the Pareto/NBD). :func:`scan_counts` walks ``k = 0, 1, ...`` with
every customer row at once (NumPy over rows, a loop over ``k`` only, each row
leaving once its quantiles are found and its remaining mass is negligible) and
returns the quantiles of ``X(t)``, the CDF at observed counts (for the
randomized PIT of a backtest) and, optionally, the CDF of the customer's spend.

**Spend.** In the Gamma-Gamma model each order's value is Gamma(p, nu) and the
customer's nu, given her x repeat orders of mean m, is Gamma(q + p x, gamma + m x).
The sum S of k future orders is then ``(gamma + m x) * W`` with
``W ~ BetaPrime(p k, q + p x)``: in units of her expected order value
``E = p (gamma + m x) / (q + p x - 1)``, ``V = S / E`` has a distribution that
depends on ``x`` and ``k`` only::

    P(V <= v | k) = I_{w/(1+w)}(p k, q + p x),   w = v p / (q + p x - 1)

(the regularised incomplete beta), and ``P(V <= v) = sum_k P(X = k) P(V <= v | k)``.
It is tabulated on :data:`VALUE_GRID` (0, then geometric from 0.02 to 2000
expected orders) and its quantiles are interpolated in log space; the
atom at 0 (no purchase) is exact. ``clv_p10``/``clv_p90`` are these quantiles
times ``E``, the margin and the customer's average discount factor.

This is the spread of what the customer may do *given* the fitted parameters;
the uncertainty of the parameters themselves (a bootstrap) is much smaller on
any store of a useful size and is reported apart (``clv_param_p10``/``_p90``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from shopseg.models.clv._purchase import PurchaseModel
from shopseg.models.clv._summary import row_blocks

__all__ = [
    "CountScan",
    "scan_counts",
    "value_interval",
    "value_quantiles",
    "value_cdf_at",
    "randomized_pit",
    "VALUE_GRID",
]

VALUE_GRID = np.concatenate([[0.0], np.geomspace(0.02, 2000.0, 81)])
_TAIL = 1e-3  # with a spend CDF, a row leaves once P(X > k) is below this (its value CDF is then low by at most 1e-3)


@dataclass
class CountScan:
    """Result of :func:`scan_counts`, one row per input row.

    Attributes
    ----------
    lower, upper : numpy.ndarray
        The 80% interval (for ``mass=0.8``): ``lower`` is the 10th percentile (smallest ``k`` with
        ``P(X <= k) >= 0.1``), ``upper`` the smallest ``k`` with ``P(lower <= X <= k) >= 0.8``.
    below, at : numpy.ndarray or None
        ``P(X < y)`` and ``P(X <= y)`` at the observed counts ``y``.
    value_cdf : numpy.ndarray or None
        ``(rows, len(VALUE_GRID))``, float32: ``P(V <= v)`` of the spend in expected-order units.
    """

    lower: np.ndarray
    upper: np.ndarray
    below: np.ndarray | None = None
    at: np.ndarray | None = None
    value_cdf: np.ndarray | None = None


def _add_value(value: np.ndarray, pmf: np.ndarray, n: int, x: np.ndarray, shape: tuple[float, float]) -> None:
    """``value += pmf * P(V <= grid | k = n)``, rows sorted by ``x``: one betainc row per distinct x, added by slice."""
    if n == 0:
        value += pmf[:, None].astype(value.dtype)
        return
    p, q = shape
    starts = np.flatnonzero(np.r_[True, x[1:] != x[:-1]])
    ux = x[starts]
    w = VALUE_GRID[None, :] * p / (q + p * ux[:, None] - 1.0)
    table = special.betainc(p * n, (q + p * ux)[:, None], w / (1.0 + w)).astype(value.dtype)
    ends = np.r_[starts[1:], len(x)]
    weight = pmf.astype(value.dtype)
    for g, (a, b) in enumerate(zip(starts, ends)):
        value[a:b] += weight[a:b, None] * table[g]


class _State:
    """The rows still being scanned, compacted (contiguous arrays), with their original positions ``idx``."""

    def __init__(self, **arrays: np.ndarray) -> None:
        self.arrays = arrays

    def __getitem__(self, key: str) -> np.ndarray:
        return self.arrays[key]

    def __setitem__(self, key: str, value: np.ndarray) -> None:
        self.arrays[key] = value

    def keep(self, mask: np.ndarray) -> None:
        self.arrays = {k: v[mask] for k, v in self.arrays.items()}


def scan_counts(
    model: PurchaseModel,
    t: float,
    x: np.ndarray,
    t_x: np.ndarray,
    T: np.ndarray,
    *,
    lower: float = 0.1,
    mass: float = 0.8,
    observed: np.ndarray | None = None,
    spend_shape: tuple[float, float] | None = None,
    max_count: int = 100_000,
) -> CountScan:
    """The ``mass`` interval (and optionally the CDF at ``observed`` and the spend CDF) of ``X(t)``; see the module docstring.

    Parameters
    ----------
    model : BetaGeoModel, ModifiedBetaGeoModel or ParetoNBDModel
        Fitted purchase model.
    t : float
        Horizon, in the model's time unit.
    x, t_x, T : numpy.ndarray
        Customer rows (unique rows of a :class:`~shopseg.models.clv._summary.Summary` to save work).
    lower, mass : float, default=0.1, 0.8
        The interval starts at the ``lower`` quantile and ends where it holds ``mass``
        of the probability: for a continuous variable the equal-tailed [p10, p90]; for a
        count whose lower 10% is the atom at 0 it is [0, p80], not [0, p90], which
        would hold 90% or more (see docs/predictions.md, "Per-customer intervals").
    observed : numpy.ndarray, default=None
        Realised counts; fills ``below`` and ``at``.
    spend_shape : (p, q), default=None
        Gamma-Gamma shape parameters; fills ``value_cdf``.
    max_count : int, default=100000
        Safety cap on ``k``; an interval end not reached by then is reported as the cap.
    """
    prm = model._p()
    n_rows = len(x)
    order = np.argsort(np.asarray(x, dtype=float), kind="stable")  # rows grouped by x (see _add_value)
    x, t_x, T = (np.asarray(c, dtype=float)[order] for c in (x, t_x, T))
    y = None if observed is None else np.asarray(observed, dtype=float)[order]
    out = CountScan(
        np.full(n_rows, max_count, dtype=np.int64),
        np.full(n_rows, max_count, dtype=np.int64),
        None if y is None else np.ones(n_rows),
        None if y is None else np.ones(n_rows),
        None if spend_shape is None else np.zeros((n_rows, len(VALUE_GRID)), dtype=np.float32),
    )
    # block by block (rows are independent): each block's arrays stay small enough for the allocator to reuse
    for rows in row_blocks(n_rows):
        block = _State(idx=order[rows], x=x[rows], t_x=t_x[rows], T=T[rows])
        if y is not None:
            block["y"] = y[rows]
        _scan_block(model, prm, float(t), block, out, lower, mass, spend_shape, max_count)
    if out.value_cdf is not None:
        np.clip(out.value_cdf, 0.0, 1.0, out=out.value_cdf)
        np.maximum.accumulate(out.value_cdf, axis=1, out=out.value_cdf)
    return out


def _scan_block(
    model: PurchaseModel,
    prm: np.ndarray,
    t: float,
    st: _State,
    out: CountScan,
    lower: float,
    mass: float,
    spend_shape: tuple[float, float] | None,
    max_count: int,
) -> None:
    """Walk ``k = 0, 1, ...`` for the rows of ``st`` (sorted by ``x``; ``idx``: their positions in ``out``),
    writing their results into ``out`` at those positions (see :func:`scan_counts`)."""
    n_rows = len(st["x"])
    with np.errstate(all="ignore"):
        st["alive"] = np.clip(model._p_alive(prm, st["x"], st["t_x"], st["T"]), 0.0, 1.0)
    stepper = model._pmf_stepper(prm, t, st["x"], st["T"])
    del st.arrays["t_x"], st.arrays["T"]
    st["cdf"] = np.zeros(n_rows)
    st["lo"], st["hi"] = np.full(n_rows, -1), np.full(n_rows, -1)
    st["target"] = np.full(n_rows, np.inf)
    if out.value_cdf is not None:
        st["value"] = np.zeros((n_rows, len(VALUE_GRID)), dtype=np.float32)
        st["open"] = np.ones(n_rows, dtype=bool)
    y = st.arrays.get("y")
    for n in range(max_count + 1):
        with np.errstate(all="ignore"):
            pmf = st["alive"] * stepper.next() + (1.0 - st["alive"]) * (n == 0)
        pmf = np.clip(np.nan_to_num(pmf), 0.0, 1.0)
        before = st["cdf"]
        st["cdf"] = after = np.minimum(before + pmf, 1.0)
        hit = (st["lo"] < 0) & (after >= lower - 1e-12)
        st["lo"] = np.where(hit, n, st["lo"])
        st["target"] = np.where(hit, before + mass, st["target"])
        st["hi"] = np.where((st["hi"] < 0) & (after >= st["target"] - 1e-12), n, st["hi"])
        done = st["hi"] >= 0
        if y is not None and out.below is not None and out.at is not None:
            here = st["y"] == n
            out.below[st["idx"][here]], out.at[st["idx"][here]] = before[here], after[here]
            done &= st["y"] <= n
        if out.value_cdf is not None and spend_shape is not None:
            # a finished row's value stops at the step it finished, whenever the block is compacted
            _add_value(st["value"], pmf * st["open"], n, st["x"], spend_shape)
            done &= after >= 1.0 - _TAIL
            st["open"] = ~done
        if done.all() or done.sum() > 0.2 * len(done):
            _write(st, done, out)
            st.keep(~done)
            stepper.keep(~done)
            if len(st["idx"]) == 0:
                return
    # rows the cap stopped: an end not reached is the cap
    out.lower[st["idx"]] = np.where(st["lo"] >= 0, st["lo"], max_count)
    out.upper[st["idx"]] = np.where(st["hi"] >= 0, st["hi"], max_count)
    if out.value_cdf is not None:
        out.value_cdf[st["idx"]] = st["value"]


def _write(st: _State, done: np.ndarray, out: CountScan) -> None:
    """The finished rows' interval (and value CDF) into ``out`` at their positions."""
    where = st["idx"][done]
    out.lower[where], out.upper[where] = st["lo"][done], st["hi"][done]
    if out.value_cdf is not None:
        out.value_cdf[where] = st["value"][done]


def value_interval(value_cdf: np.ndarray, lower: float = 0.1, mass: float = 0.8) -> tuple[np.ndarray, np.ndarray]:
    """The ``mass`` interval of ``V`` starting at its ``lower`` quantile (the rule of :func:`scan_counts`)."""
    low = value_quantiles(value_cdf, lower)
    base = np.where(low > 0, value_cdf_at(value_cdf, low), 0.0)  # P(V < low): 0 when low is the atom at 0
    return low, value_quantiles(value_cdf, np.minimum(base + mass, 1.0))


def value_quantiles(value_cdf: np.ndarray, level: float | np.ndarray) -> np.ndarray:
    """``V`` at ``level`` (one, or one per row): 0 inside the atom at 0, else log-linear interpolation on the grid."""
    level = np.broadcast_to(np.asarray(level, dtype=float), (len(value_cdf),))
    idx = np.clip((value_cdf < level[:, None] - 1e-12).sum(axis=1), 0, len(VALUE_GRID) - 1)
    rows = np.arange(len(value_cdf))
    c1 = value_cdf[rows, idx]
    c0 = value_cdf[rows, np.maximum(idx - 1, 0)]
    frac = np.where(c1 > c0, (level - c0) / np.where(c1 > c0, c1 - c0, 1.0), 1.0)
    frac = np.clip(frac, 0.0, 1.0)
    g0, g1 = VALUE_GRID[np.maximum(idx - 1, 0)], VALUE_GRID[idx]
    with np.errstate(all="ignore"):
        log_mid = np.exp(
            np.log(np.maximum(g0, 1e-300)) + frac * (np.log(np.maximum(g1, 1e-300)) - np.log(np.maximum(g0, 1e-300)))
        )
    out = np.where(idx <= 1, g0 + frac * (g1 - g0), log_mid)
    return np.where(idx == 0, 0.0, out)


def value_cdf_at(value_cdf: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``P(V <= v)`` per row, log-linear interpolation on the grid (``v`` in expected-order units)."""
    v = np.asarray(v, dtype=float)
    idx = np.clip(np.searchsorted(VALUE_GRID, v, side="right"), 1, len(VALUE_GRID) - 1)
    rows = np.arange(len(value_cdf))
    g0, g1 = VALUE_GRID[idx - 1], VALUE_GRID[idx]
    with np.errstate(all="ignore"):
        frac = np.where(idx == 1, (v - g0) / (g1 - g0), np.log(np.maximum(v, 1e-300) / g0) / np.log(g1 / g0))
    frac = np.clip(np.nan_to_num(frac), 0.0, 1.0)
    out = value_cdf[rows, idx - 1] + frac * (value_cdf[rows, idx] - value_cdf[rows, idx - 1])
    return np.where(v >= VALUE_GRID[-1], value_cdf[:, -1], out)


def randomized_pit(below: np.ndarray, at: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Randomized probability integral transform of a count: ``F(y-1) + U (F(y) - F(y-1))``, U ~ Uniform(0, 1).

    Uniform on [0, 1] when the predicted distributions are right (Czado, Gneiting & Held 2009).
    """
    return below + rng.uniform(size=len(below)) * (at - below)
