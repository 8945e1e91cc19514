"""Bootstrap confidence intervals over customers and the verdict of a model against a baseline.

Each model has one value per evaluated customer (hit@k as 0/1, NDCG@k), the
same customers for every model. One seeded set of ``n_boot`` resamples of the
customers (with replacement) gives, for every model, the percentile interval of
its mean, and, **paired** (the same resample for both), the interval of the
difference model - baseline (Efron & Tibshirani 1993, ch. 13).

The verdict reads that paired interval: ``"beats"`` when it lies above 0,
``"loses"`` when it lies below 0, ``"no significant difference"`` when it
contains 0 (ties are ties: identical values give the interval [0, 0]).

Examples
--------
>>> verdict(0.01, 0.05), verdict(-0.05, -0.01), verdict(-0.01, 0.02), verdict(0.0, 0.0)
('beats', 'loses', 'no significant difference', 'no significant difference')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from shopseg.errors import InvalidParameterError

__all__ = ["BEATS", "LOSES", "NO_DIFFERENCE", "Comparison", "bootstrap", "paired_interval", "verdict"]

BEATS = "beats"
LOSES = "loses"
NO_DIFFERENCE = "no significant difference"
_CELLS = 4_000_000  # resampled values held at once (32 MB of float64)


def verdict(low: float, high: float) -> str:
    """``"beats"``, ``"loses"`` or ``"no significant difference"`` from the interval of model - baseline."""
    if low > 0:
        return BEATS
    if high < 0:
        return LOSES
    return NO_DIFFERENCE


@dataclass(frozen=True)
class Comparison:
    """The model against one baseline on one metric: mean difference and its paired bootstrap interval."""

    metric: str
    baseline: str
    difference: float
    low: float
    high: float
    level: float = 0.95

    @property
    def verdict(self) -> str:
        return verdict(self.low, self.high)

    def line(self) -> str:
        """One printed sentence, e.g. ``hit rate@10: beats global popularity (+9.5 points, 95% CI +8.1 to +10.9)``.

        Hit rates differ in percentage points, NDCG in its own units (3 decimals).
        """
        link = {BEATS: "beats", LOSES: "loses to", NO_DIFFERENCE: "no significant difference from"}[self.verdict]
        if self.metric.startswith("hit rate"):
            d, lo, hi = (f"{100 * v:+.1f}" for v in (self.difference, self.low, self.high))
            return f"{self.metric}: {link} {self.baseline} ({d} points, {self.level:.0%} CI {lo} to {hi})"
        d, lo, hi = (f"{v:+.3f}" for v in (self.difference, self.low, self.high))
        return f"{self.metric}: {link} {self.baseline} ({d}, {self.level:.0%} CI {lo} to {hi})"


def _check(values: Mapping[str, np.ndarray], n_boot: int, level: float) -> int:
    sizes = {len(np.asarray(v)) for v in values.values()}
    if len(sizes) != 1:
        raise InvalidParameterError(
            f"bootstrap: every model needs one value per customer. Got lengths {sorted(sizes)}."
        )
    if not isinstance(n_boot, int) or n_boot < 100:
        raise InvalidParameterError(
            f"The 'n_boot' parameter must be an int in the range [100, inf). Got {n_boot!r} instead."
        )
    if not 0 < level < 1:
        raise InvalidParameterError(
            f"The 'level' parameter must be a float in the range (0, 1). Got {level!r} instead."
        )
    return sizes.pop()


def bootstrap(
    values: Mapping[str, np.ndarray], *, n_boot: int = 1000, seed: int = 0, level: float = 0.95
) -> tuple[dict[str, tuple[float, float]], np.ndarray]:
    """Percentile intervals of each model's mean over resampled customers, and the resampled means.

    Parameters
    ----------
    values : mapping of str to numpy.ndarray
        Per model, one value per customer (same customers, same order).
    n_boot : int, default=1000
        Resamples.
    seed : int, default=0
        Seed of the resampling: the same seed gives the same intervals.
    level : float, default=0.95

    Returns
    -------
    intervals : dict of str to (float, float)
        ``(low, high)`` per model.
    means : numpy.ndarray of shape (n_models, n_boot)
        The resampled means, in the order of ``values``, for paired differences
        (see :func:`paired_interval`).
    """
    n = _check(values, n_boot, level)
    stacked = np.vstack([np.asarray(v, dtype=np.float64) for v in values.values()])
    rng = np.random.default_rng(seed)
    means = np.empty((len(stacked), n_boot))
    chunk = max(1, _CELLS // max(n * len(stacked), 1))
    for start in range(0, n_boot, chunk):
        size = min(chunk, n_boot - start)
        idx = rng.integers(0, n, size=(size, n)) if n else np.zeros((size, 0), dtype=np.int64)
        means[:, start : start + size] = stacked[:, idx].mean(axis=2) if n else np.nan
    q = [(1 - level) / 2 * 100, (1 + level) / 2 * 100]
    intervals = {name: tuple(float(x) for x in np.percentile(means[i], q)) for i, name in enumerate(values)}
    return intervals, means  # type: ignore[return-value]


def paired_interval(means: np.ndarray, model: int, baseline: int, level: float = 0.95) -> tuple[float, float]:
    """Percentile interval of the resampled mean differences ``means[model] - means[baseline]``."""
    diff = means[model] - means[baseline]
    low, high = np.percentile(diff, [(1 - level) / 2 * 100, (1 + level) / 2 * 100])
    return float(low), float(high)
