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

from typing import TYPE_CHECKING, cast

import ibis
import pandas as pd

from shopseg.engine import Engine, get_engine
from shopseg.errors import InvalidParameterError
from shopseg.features.asof import AsOf, DateLike, day_diff
from shopseg.features.build import resolve_as_of
from shopseg.features.profile import population
from shopseg.features.purchases import purchase_days_in_window
from shopseg.segments.lifecycle_thresholds import (
    DEFAULT_THRESHOLDS,
    LifecycleThresholds,
    lifecycle_thresholds,
    purchase_day_gaps,
)

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
LIFECYCLE_STAGES: tuple[str, ...] = ("new", "active", "repeat", "reactivated", "lapsing", "lapsed", "prospect")


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


def _stages(engine: Engine, th: LifecycleThresholds, purchase_days: ir.Table | None = None) -> ir.Table:
    window = AsOf.of(th.as_of)
    days = purchase_day_gaps(engine, window, purchase_days)
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
        customers; the stages are then stored without a pandas frame: computed inside the
        workspace file on DuckDB (``shopseg lifecycle`` at 1M customers), written by Spark as Parquet
        that DuckDB stores on Spark (``shopseg -e spark lifecycle`` at 10M).

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
        window = AsOf.of(resolve_as_of(eng, as_of))
        days = purchase_days_in_window(eng, window)  # one freshness check of the stored totals for both
        th = lifecycle_thresholds(
            eng,
            window.date,
            new_days=new_days,
            active_days=active_days,
            lapsed_days=lapsed_days,
            fallback=fallback,
            days=days,
        )
        if not return_frame and eng.name == "duckdb" and eng.workspace is workspace:
            # the same types as the pandas path stores, computed and stored inside DuckDB
            workspace.create_table_as(LIFECYCLE_TABLE, _typed(str(workspace.ibis.compile(_stages(eng, th, days)))))
        elif not return_frame and eng.name == "spark":
            from shopseg.engine.spark import SparkEngine

            # Spark writes Parquet that DuckDB stores (the rows never reach the driver: 10M customers), with
            # the pandas path's column types, in one read of the files
            cast(SparkEngine, eng).store(
                _stages(eng, th, days), workspace, LIFECYCLE_TABLE, order_by=None, retype=_typed
            )
        else:
            df = normalize_lifecycle(eng.execute(_stages(eng, th, days)))
            workspace.write_table(LIFECYCLE_TABLE, df)
    finally:
        if owned:
            eng.close()
    workspace.set_meta("lifecycle_thresholds", th.to_json())
    if not return_frame:  # on every engine: the counts of the stored table
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
