"""Plain-words verdicts of a backtest comparison, with a paired bootstrap interval.

A verdict names a winner only when the 95% bootstrap interval of the difference
excludes 0; an exact tie (``0.000 vs 0.000``) or an interval that straddles 0 is
reported as a tie, never as "loses to". The interval resamples the *customers*
(paired: both scores are recomputed on the same resample), 200 times, seeded.

>>> verdict("churn model", "the recency-only baseline", "AUC", 0.5, 0.5, (0.0, 0.0))
'churn model ties with the recency-only baseline: AUC 0.500 vs 0.500 (difference +0.000, 95% CI +0.000 to +0.000)'
"""

from __future__ import annotations

import numpy as np

__all__ = ["verdict", "mean_difference_ci", "N_BOOTSTRAP"]

N_BOOTSTRAP = 200


def verdict(
    name: str,
    other: str,
    metric: str,
    value: float,
    other_value: float,
    ci: tuple[float, float],
    *,
    higher_is_better: bool = True,
) -> str:
    """``"<name> beats|loses to|ties with <other>: <metric> a vs b (difference d, 95% CI lo to hi)"``.

    ``ci`` is the interval of ``value - other_value``. "beats" needs the whole interval on the
    better side of 0, "loses to" the whole interval on the worse side; anything else is a tie.
    """
    lo, hi = ci
    diff = value - other_value
    sign = 1.0 if higher_is_better else -1.0
    if f"{value:.3f}" == f"{other_value:.3f}":
        word = "ties with"
    elif not (np.isfinite(lo) and np.isfinite(hi)):  # no interval: the point values decide
        word = "beats" if sign * diff > 0 else "loses to"
    elif sign * lo > 0 and sign * hi > 0:
        word = "beats"
    elif sign * lo < 0 and sign * hi < 0:
        word = "loses to"
    else:
        word = "ties with"
    detail = f"difference {diff:+.3f}, 95% CI {lo:+.3f} to {hi:+.3f}"
    if not (np.isfinite(lo) and np.isfinite(hi)):
        detail = f"difference {diff:+.3f}, no bootstrap interval"
    elif word == "ties with" and lo <= 0 <= hi and not (lo == hi == 0):
        detail += ": within noise"
    return f"{name} {word} {other}: {metric} {value:.3f} vs {other_value:.3f} ({detail})"


def mean_difference_ci(diff: np.ndarray, *, seed: int = 0, n_boot: int = N_BOOTSTRAP) -> tuple[float, float]:
    """95% bootstrap interval of ``mean(diff)`` over customers (vectorised in chunks of replicates)."""
    diff = np.asarray(diff, dtype=float)
    n = len(diff)
    if n == 0:
        return (float("nan"), float("nan"))
    rng = np.random.default_rng(seed)
    means = np.concatenate([diff[rng.integers(0, n, (k, n))].mean(axis=1) for k in np.diff(np.r_[0:n_boot:20, n_boot])])
    lo, hi = np.quantile(means, [0.025, 0.975])
    return float(lo), float(hi)
