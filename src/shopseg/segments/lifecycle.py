"""Lifecycle stages with thresholds learned from the store's own purchase rhythm.

The unit is the **purchase day** (all purchase orders of a customer on one
calendar day, as in :mod:`shopseg.features.purchases`). A **gap** is the
number of days between two consecutive purchase days of one customer; the
gaps of all repeat buyers up to the as-of date form the store's
inter-purchase distribution. Three thresholds, in days, are derived from it
(nearest-rank percentiles, so they are whole days and identical on every
engine) unless given explicitly:

- ``new_days`` = 50th percentile of the gaps (a typical time to come back);
- ``active_days`` = 90th percentile of the gaps (nine in ten come sooner);
- ``lapsed_days`` = 2 x ``active_days``.

With ``since_last`` the days from the last purchase day to the as-of date, ``since_first``
the days since the first one and ``previous_gap`` the gap that ended with the last purchase
day, each customer gets the first stage that applies:

============  ==========================================================
prospect      known customer without any purchase
lapsed        ``since_last > lapsed_days``
lapsing       ``since_last > active_days``
reactivated   ``previous_gap > lapsed_days`` (came back after lapsing)
new           ``since_first <= new_days``
repeat        two or more purchase days
active        otherwise: one purchase day, within the active window
============  ==========================================================

References
----------
.. [1] Fader, P. S. and Hardie, B. G. S. (2009). Probability models for
   customer-base analysis. Journal of Interactive Marketing 23(1), 61-69.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
from typing import TYPE_CHECKING, Any

import ibis
import pandas as pd

from shopseg.engine import Engine, get_engine
from shopseg.errors import InvalidParameterError, SchemaError
from shopseg.features.asof import AsOf, DateLike, day_diff
from shopseg.features.build import resolve_as_of
from shopseg.features.profile import population
from shopseg.features.purchases import purchase_days_in_window

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from shopseg.workspace import Workspace

__all__ = [
    "LIFECYCLE_STAGES",
    "LIFECYCLE_TABLE",
    "DEFAULT_THRESHOLDS",
    "LifecycleThresholds",
    "lifecycle_thresholds",
    "lifecycle_stages",
    "build_lifecycle",
    "stage_counts",
]

LIFECYCLE_TABLE = "customer_lifecycle"
#: Thresholds used with ``fallback`` when a store has no repeat purchase to derive them from: a
#: month to count as new, a quarter between purchases to stay active, twice that to be lapsed.
DEFAULT_THRESHOLDS: dict[str, int] = {"new_days": 30, "active_days": 90, "lapsed_days": 180}
LIFECYCLE_STAGES: tuple[str, ...] = ("new", "active", "repeat", "reactivated", "lapsing", "lapsed", "prospect")


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


def _days(engine: Engine, window: AsOf) -> ir.Table:
    """Purchase days with the gap (days) since the customer's previous purchase day."""
    days = purchase_days_in_window(engine, window)
    previous = days.day.lag().over(ibis.window(group_by=days.customer_id, order_by=days.day))
    return days.mutate(gap=day_diff(days.day, previous))


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
    gaps = _days(engine, window)
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


def lifecycle_stages(
    engine: Engine,
    thresholds: LifecycleThresholds | None = None,
    *,
    as_of: DateLike | None = None,
    new_days: int | None = None,
    active_days: int | None = None,
    lapsed_days: int | None = None,
) -> ir.Table:
    """The lifecycle stage of every customer known on the as-of date, as an Ibis expression.

    Parameters
    ----------
    engine : Engine
        Where the workspace tables live.
    thresholds : LifecycleThresholds, default=None
        Precomputed thresholds (their ``as_of`` is used); default: derived
        by :func:`lifecycle_thresholds` with ``as_of`` and the overrides.
    as_of : date or str, default=None
        Last day of data (only without ``thresholds``).
    new_days, active_days, lapsed_days : int, default=None
        Overrides passed to :func:`lifecycle_thresholds`.

    Returns
    -------
    ibis.Table
        ``customer_id, first_purchase_day, last_purchase_day, purchase_days,
        days_since_first_purchase, days_since_last_purchase,
        previous_gap_days, stage``.
    """
    overrides = {"new_days": new_days, "active_days": active_days, "lapsed_days": lapsed_days}
    if thresholds is None:
        thresholds = lifecycle_thresholds(
            engine, as_of, new_days=new_days, active_days=active_days, lapsed_days=lapsed_days
        )
    elif as_of is not None or any(v is not None for v in overrides.values()):
        raise InvalidParameterError(
            "lifecycle_stages: pass either 'thresholds' or 'as_of'/'*_days' overrides, not both."
        )
    return _stages(engine, thresholds)


def _stages(engine: Engine, th: LifecycleThresholds) -> ir.Table:
    window = AsOf.of(th.as_of)
    days = _days(engine, window)
    per = days.group_by("customer_id").aggregate(
        first_purchase_day=days.day.min(),
        last_purchase_day=days.day.max(),
        purchase_days=days.count().cast("int64"),
        previous_gap_days=days.gap.argmax(days.day),
    )
    per = per.rename(_key="customer_id")
    pop = population(engine, window)
    t = pop.left_join(per, pop.customer_id == per._key).drop("_key")
    as_of = window.date_lit()
    t = t.mutate(
        purchase_days=t.purchase_days.fill_null(0),
        days_since_first_purchase=day_diff(as_of, t.first_purchase_day),
        days_since_last_purchase=day_diff(as_of, t.last_purchase_day),
    )
    since_last = t.days_since_last_purchase
    stage = ibis.cases(
        (t.last_purchase_day.isnull(), "prospect"),
        (since_last > th.lapsed_days, "lapsed"),
        (since_last > th.active_days, "lapsing"),
        (t.previous_gap_days.fill_null(0) > th.lapsed_days, "reactivated"),
        (t.days_since_first_purchase <= th.new_days, "new"),
        (t.purchase_days >= 2, "repeat"),
        else_="active",
    )
    return t.mutate(stage=stage).select(
        "customer_id",
        "first_purchase_day",
        "last_purchase_day",
        "purchase_days",
        "days_since_first_purchase",
        "days_since_last_purchase",
        "previous_gap_days",
        "stage",
    )


def stage_counts(stages: pd.DataFrame) -> pd.DataFrame:
    """Customers per stage, every stage of :data:`LIFECYCLE_STAGES` in order: ``stage, customers, share``."""
    return _stage_table(stages["stage"].value_counts())


def _stage_table(counts: pd.Series) -> pd.DataFrame:
    counts = counts.reindex(list(LIFECYCLE_STAGES), fill_value=0).astype("int64")
    total = int(counts.sum())
    share = (counts / total).round(4) if total else counts * 0.0
    return pd.DataFrame({"stage": counts.index, "customers": counts.to_numpy(), "share": share.to_numpy()})


def build_lifecycle(
    workspace: Workspace,
    engine: str | Engine = "duckdb",
    as_of: DateLike | None = None,
    *,
    new_days: int | None = None,
    active_days: int | None = None,
    lapsed_days: int | None = None,
    fallback: bool = False,
    return_frame: bool = True,
) -> pd.DataFrame:
    """Assign lifecycle stages, store them as ``customer_lifecycle`` and return them.

    Parameters
    ----------
    workspace : Workspace
        An open, writable workspace.
    engine : {"duckdb", "spark"} or Engine, default="duckdb"
        Where to compute; the result is stored in the workspace file.
    as_of : date or str, default=None
        Last day of data; default the date of the latest order.
    new_days, active_days, lapsed_days : int, default=None
        Threshold overrides (see :func:`lifecycle_thresholds`).
    fallback : bool, default=False
        Use :data:`DEFAULT_THRESHOLDS` for thresholds the data cannot give, flagged.
    return_frame : bool, default=True
        ``False`` returns :func:`stage_counts` of the stored table instead of the
        customers; on DuckDB the stages are then computed and stored inside the
        workspace file without a pandas frame (``shopseg lifecycle`` at 1M customers).

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`lifecycle_stages`, sorted by ``customer_id``;
        ``attrs["thresholds"]`` holds the :class:`LifecycleThresholds`, also
        stored as JSON in the workspace metadata key ``lifecycle_thresholds``.
    """
    owned = isinstance(engine, str)
    eng = get_engine(workspace, engine) if isinstance(engine, str) else engine
    try:
        th = lifecycle_thresholds(
            eng, as_of, new_days=new_days, active_days=active_days, lapsed_days=lapsed_days, fallback=fallback
        )
        if return_frame or eng.name != "duckdb" or eng.workspace is not workspace:
            df: pd.DataFrame | None = normalize_lifecycle(eng.execute(_stages(eng, th)))
            workspace.write_table(LIFECYCLE_TABLE, df)
        else:  # the same types as the pandas path stores, computed and stored inside DuckDB
            df = None
            workspace.create_table_as(LIFECYCLE_TABLE, _typed(str(workspace.ibis.compile(_stages(eng, th)))))
    finally:
        if owned:
            eng.close()
    workspace.set_meta("lifecycle_thresholds", th.to_json())
    if df is None:
        rows = workspace.con.execute(f'SELECT stage, count(*) FROM "{LIFECYCLE_TABLE}" GROUP BY stage').fetchall()
        df = _stage_table(pd.Series(dict(rows), dtype="int64"))
    df.attrs["thresholds"] = th
    return df


def _typed(sql: str) -> str:
    """``sql`` (the stages) with the column types :func:`normalize_lifecycle` gives the pandas path."""
    return f"""SELECT customer_id::VARCHAR AS customer_id, first_purchase_day::TIMESTAMP_S AS first_purchase_day,
                      last_purchase_day::TIMESTAMP_S AS last_purchase_day, purchase_days::BIGINT AS purchase_days,
                      days_since_first_purchase::BIGINT AS days_since_first_purchase,
                      days_since_last_purchase::BIGINT AS days_since_last_purchase,
                      previous_gap_days::BIGINT AS previous_gap_days, stage::VARCHAR AS stage
               FROM ({sql}) ORDER BY customer_id"""


def normalize_lifecycle(df: pd.DataFrame) -> pd.DataFrame:
    """Sort by customer and give every engine's output the same pandas dtypes."""
    df = df.sort_values("customer_id", kind="stable").reset_index(drop=True)
    for col in ("first_purchase_day", "last_purchase_day"):
        df[col] = pd.to_datetime(df[col]).astype("datetime64[s]")
    for col in ("days_since_first_purchase", "days_since_last_purchase", "previous_gap_days"):
        df[col] = pd.array(df[col], dtype="Int64")
    df["purchase_days"] = df["purchase_days"].astype("int64")
    for col in ("customer_id", "stage"):
        df[col] = df[col].astype("string").astype(object).where(df[col].notna(), None)
    return df
