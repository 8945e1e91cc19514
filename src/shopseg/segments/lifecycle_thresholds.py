"""Lifecycle thresholds learned from the store's own purchase rhythm (see :mod:`shopseg.segments.lifecycle`).

The gaps between consecutive purchase days of every repeat buyer up to the as-of
date give three thresholds in days (nearest-rank percentiles, so whole days and
identical on every engine) unless they are given: ``new_days`` the 50th
percentile, ``active_days`` the 90th, ``lapsed_days`` twice ``active_days``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
from typing import TYPE_CHECKING, Any

import pandas as pd

from shopseg.errors import InvalidParameterError, SchemaError
from shopseg.features.asof import AsOf, DateLike
from shopseg.features.build import resolve_as_of
from shopseg.features.purchases import day_gaps, purchase_days_in_window

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from shopseg.engine import Engine

__all__ = ["DEFAULT_THRESHOLDS", "LifecycleThresholds", "lifecycle_thresholds", "purchase_day_gaps"]

#: Thresholds used with ``fallback`` when a store has no repeat purchase to derive them from: a
#: month to count as new, a quarter between purchases to stay active, twice that to be lapsed.
DEFAULT_THRESHOLDS: dict[str, int] = {"new_days": 30, "active_days": 90, "lapsed_days": 180}


@dataclasses.dataclass(frozen=True)
class LifecycleThresholds:
    """The three day thresholds of the lifecycle stages and how each was obtained.

    Attributes
    ----------
    as_of : datetime.date
        The last day of data; day counts run up to it.
    new_days, active_days, lapsed_days : int
        The thresholds, in days.
    n_gaps : int
        Number of gaps between consecutive purchase days in the data.
    derivation : dict of str to str
        For each threshold, e.g. ``"p90 of 1,234 gaps"`` or ``"given"``.
    """

    as_of: dt.date
    new_days: int
    active_days: int
    lapsed_days: int
    n_gaps: int
    derivation: dict[str, str]

    def to_frame(self) -> pd.DataFrame:
        """One row per threshold: ``threshold``, ``days``, ``derivation``."""
        names = ("new_days", "active_days", "lapsed_days")
        return pd.DataFrame(
            {
                "threshold": list(names),
                "days": [getattr(self, n) for n in names],
                "derivation": [self.derivation[n] for n in names],
            }
        )

    def to_json(self) -> str:
        """The thresholds as JSON (stored in the workspace metadata)."""
        return json.dumps({**dataclasses.asdict(self), "as_of": self.as_of.isoformat()}, sort_keys=True)


def _window(engine: Engine, as_of: DateLike | None) -> AsOf:
    return AsOf.of(resolve_as_of(engine, as_of))


def purchase_day_gaps(engine: Engine, window: AsOf, days: ir.Table | None = None) -> ir.Table:
    """Purchase days with the gap (days) since the customer's previous purchase day.

    ``days``: the window's purchase days when the caller has them (:func:`purchase_days_in_window`).
    """
    return day_gaps(purchase_days_in_window(engine, window) if days is None else days)


def _nearest_rank(counts: pd.DataFrame, pct: float) -> int:
    """Smallest gap ``g`` with at least ``pct`` of all gaps ``<= g`` (nearest-rank percentile)."""
    counts = counts.sort_values("gap")
    rank = max(1, math.ceil(pct * int(counts["n"].sum())))
    cumulative = counts["n"].cumsum()
    return int(counts["gap"][cumulative >= rank].iloc[0])


def _listing(names: list[str]) -> str:
    quoted = [f"'{n}'" for n in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def _defaults_text() -> str:
    return ", ".join(f"{k.removesuffix('_days')} {v} days" for k, v in DEFAULT_THRESHOLDS.items())


def _check_thresholds(**values: Any) -> None:
    issues = []
    for name, value in values.items():
        if name.endswith("_pct"):
            if not isinstance(value, float | int) or not 0 < value <= 1:
                issues.append(f"The '{name}' parameter must be a float in the range (0, 1]. Got {value!r} instead.")
        elif name == "lapsed_multiple":
            if not isinstance(value, float | int) or value <= 1:
                issues.append(f"The '{name}' parameter must be a number > 1. Got {value!r} instead.")
        elif value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            issues.append(f"The '{name}' parameter must be an int >= 0 (days). Got {value!r} instead.")
    if issues:
        raise InvalidParameterError(" ".join(issues))


def lifecycle_thresholds(
    engine: Engine,
    as_of: DateLike | None = None,
    *,
    new_days: int | None = None,
    active_days: int | None = None,
    lapsed_days: int | None = None,
    new_pct: float = 0.5,
    active_pct: float = 0.9,
    lapsed_multiple: float = 2.0,
    fallback: bool = False,
    days: ir.Table | None = None,
) -> LifecycleThresholds:
    """Derive the lifecycle thresholds from the gaps between purchase days.

    Parameters
    ----------
    engine : Engine
        Where the workspace tables live.
    as_of : date or str, default=None
        Last day of data; default the date of the latest order.
    new_days, active_days, lapsed_days : int, default=None
        Explicit thresholds in days; each one given replaces its derivation.
    new_pct, active_pct : float, default=0.5, 0.9
        Percentiles of the gaps that define ``new_days`` and ``active_days``.
    lapsed_multiple : float, default=2.0
        ``lapsed_days = ceil(lapsed_multiple * active_days)``.
    fallback : bool, default=False
        When a threshold cannot be derived (no repeat purchase), use
        :data:`DEFAULT_THRESHOLDS` for it, flagged in ``derivation``, instead of raising.
    days : ibis.Table, default=None
        The purchase days on or before the as-of date, when the caller has them
        (:func:`~shopseg.features.purchases.purchase_days_in_window`); default: read here.
        :func:`~shopseg.segments.lifecycle.build_lifecycle` passes the days its stages
        read, so the stored totals' freshness is checked once (about 0.8 CPU-s at 1M customers).

    Returns
    -------
    LifecycleThresholds

    Raises
    ------
    InvalidParameterError
        A threshold is negative, or ``lapsed_days <= active_days``.
    SchemaError
        No orders, or no repeat purchase to derive a threshold from: the message
        names every such threshold at once (pass them, or ``fallback``).
    """
    _check_thresholds(
        new_days=new_days,
        active_days=active_days,
        lapsed_days=lapsed_days,
        new_pct=new_pct,
        active_pct=active_pct,
        lapsed_multiple=lapsed_multiple,
    )
    window = _window(engine, as_of)
    gaps = purchase_day_gaps(engine, window, days)
    gaps = gaps.filter(gaps.gap.notnull())
    counts = engine.execute(gaps.group_by("gap").aggregate(n=gaps.count()))
    n_gaps = int(counts["n"].sum()) if len(counts) else 0
    how: dict[str, str] = {}

    wanted = {"new_days": (new_days, new_pct), "active_days": (active_days, active_pct)}
    missing = [n for n, (given, _) in wanted.items() if given is None] if n_gaps == 0 else []
    if missing and lapsed_days is None and "active_days" in missing:
        missing.append("lapsed_days")
    if missing and not fallback:
        flags = " ".join(f"--{n.replace('_', '-')} N" for n in missing)
        raise SchemaError(
            f"lifecycle: cannot derive {_listing(missing)}: no customer has two purchase days on or before "
            f"{window.date}. Expected at least one repeat purchase; got 0. Hint: pass {flags}, or "
            f"--default-thresholds for the documented defaults ({_defaults_text()}), flagged as defaults.",
            table="orders",
        )
    values: dict[str, int] = {}
    for name, (given, pct) in wanted.items():
        if given is not None:
            values[name], how[name] = given, "given"
        elif name in missing:
            values[name], how[name] = DEFAULT_THRESHOLDS[name], "default: no repeat purchase to derive it from"
        else:
            values[name] = max(1, _nearest_rank(counts, pct))
            how[name] = f"p{round(pct * 100):g} of {n_gaps:,} gaps between purchase days"
    new, active = values["new_days"], values["active_days"]
    if lapsed_days is not None:
        lapsed, how["lapsed_days"] = lapsed_days, "given"
    elif "lapsed_days" in missing:
        lapsed, how["lapsed_days"] = DEFAULT_THRESHOLDS["lapsed_days"], "default: no repeat purchase to derive it from"
    else:
        lapsed = math.ceil(lapsed_multiple * active)
        how["lapsed_days"] = f"{lapsed_multiple:g} x active_days"
    if lapsed <= active:
        raise InvalidParameterError(
            f"lifecycle: 'lapsed_days' must be greater than 'active_days'. Got lapsed_days={lapsed} "
            f"and active_days={active} instead."
        )
    return LifecycleThresholds(window.date, new, active, lapsed, n_gaps, how)
