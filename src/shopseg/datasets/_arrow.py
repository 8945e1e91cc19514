"""numpy → Arrow column builders shared by the generator modules.

Everything here runs in Arrow's C++ kernels: no Python loop over rows.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["DAY_US", "id_column", "lookup", "timestamps", "prefix_join", "choose"]

DAY_US = 86_400_000_000


def id_column(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """Identifiers ``<prefix><number zero-padded to width>``, e.g. ``c000123``.

    Examples
    --------
    >>> id_column("c", np.array([1, 123]), 6).to_pylist()
    ['c000001', 'c000123']
    """
    digits = pc.utf8_lpad(pc.cast(pa.array(numbers, pa.int64()), pa.string()), width=width, padding="0")
    return pc.binary_join_element_wise(prefix, digits, "")


def lookup(values: Sequence[str] | pa.Array, index: np.ndarray) -> pa.Array:
    """``values[index]`` as a string column; a negative index gives NULL.

    Examples
    --------
    >>> lookup(["web", "app"], np.array([1, -1, 0])).to_pylist()
    ['app', None, 'web']
    """
    table = values if isinstance(values, pa.Array) else pa.array(list(values), pa.string())
    idx = pa.array(index.astype(np.int64, copy=False), mask=index < 0)
    return table.take(idx)


def timestamps(start_us: int, days: np.ndarray) -> pa.Array:
    """Timestamps (microsecond type, whole seconds) at ``days`` after ``start_us``."""
    seconds = np.floor(days * 86_400.0).astype(np.int64)
    return pa.array(start_us + seconds * 1_000_000, pa.timestamp("us"))


def prefix_join(left: str, middle: pa.Array, right: str) -> pa.Array:
    """``left + middle + right`` for every row (NULL stays NULL)."""
    return pc.binary_join_element_wise(left, middle, right, "")


def choose(rng: np.random.Generator, weights: Sequence[float] | np.ndarray, size: int) -> np.ndarray:
    """Draw ``size`` indices with the given (unnormalised) weights."""
    p = np.asarray(weights, dtype=np.float64)
    return rng.choice(p.size, size=size, p=p / p.sum())
