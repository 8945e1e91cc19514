"""Aggregates behind the dashboard pages: each one a single grouped query, never customer rows in bulk.

Every function takes an open :class:`~shopseg.workspace.Workspace` and returns
small frames or dicts (tens of rows whatever the store's size). A section whose
source table does not exist yet returns ``None`` and the page shows an empty
state naming the command that builds it. Customer-level rows only appear paged
(:meth:`shopseg.segments.query.SegmentQuery.members_page`) or one customer at a time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from shopseg.reports.aggregates import cluster_profiles, prediction_summary, saved_segment_sizes
from shopseg.reports.summary import monthly_revenue, store_kpis

if TYPE_CHECKING:
    import datetime as dt

    from shopseg.engine import Engine
    from shopseg.workspace import Workspace

__all__ = [
    "overview",
    "order_totals",
    "region_tables",
    "rfm_grid",
    "rfm_segments",
    "saved_segment_sizes",
    "cluster_profiles",
    "prediction_summary",
    "latest_events",
    "experiment_results",
    "backtest_groups",
    "lift_rows",
    "LIFT_FORMATS",
    "assigned",
]


def overview(
    workspace: Workspace, totals: dict[str, Any] | None = None, saved: pd.DataFrame | None = None
) -> dict[str, Any]:
    """KPIs, monthly revenue, RFM segment sizes and revenue shares, saved segment sizes, lifecycle stages.

    ``totals`` (:func:`order_totals`) and ``saved`` (:func:`saved_segment_sizes`)
    may come computed earlier (the dashboard keeps them per data version,
    :mod:`shopseg.web.cache`); otherwise they are computed here.
    """
    totals = order_totals(workspace) if totals is None else totals
    out: dict[str, Any] = {"kpis": totals["kpis"], "rfm": rfm_segments(workspace)}
    out["saved"] = saved_segment_sizes(workspace) if saved is None else saved
    if workspace.has_table("customer_lifecycle"):
        out["lifecycle"] = workspace.con.execute(
            "SELECT stage, count(*) AS customers FROM customer_lifecycle GROUP BY stage ORDER BY customers DESC"
        ).df()
    else:
        out["lifecycle"] = None
    out["monthly"] = totals["monthly"]
    return out


def order_totals(workspace: Workspace) -> dict[str, Any]:
    """The overview's store totals: ``{"kpis": store_kpis(...), "monthly": monthly_revenue(...)}``.

    Both read the stored ``order_totals`` when it is fresh (a scan of the orders, not of every line).
    """
    from shopseg.features.order_totals import purchase_orders_sql

    purchases = purchase_orders_sql(workspace)  # one freshness check for both
    return {"kpis": store_kpis(workspace, purchases), "monthly": monthly_revenue(workspace, purchases)}


def region_tables(workspace: Workspace) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The regions page: region x category cells, the top 25 segment x region x category cells, quarterly trend."""
    from shopseg.reports.regions import Breakdown, region_performance_many

    cells, top, trend = region_performance_many(  # one pass over the order lines for the three
        workspace,
        [
            Breakdown(("region", "category")),
            Breakdown(("segment", "region", "category"), limit=25),
            Breakdown(("region", "period")),
        ],
        period="quarter",
    )
    # the top 25, as titled
    return cells, top.sort_values("revenue", ascending=False, kind="stable").reset_index(drop=True), trend


def rfm_segments(workspace: Workspace) -> pd.DataFrame | None:
    """The RFM segment table (customers, shares, means), or None before ``shopseg rfm``."""
    if not workspace.has_table("customer_rfm"):
        return None
    from shopseg.segments.rfm_map import rfm_segment_table

    return rfm_segment_table(workspace.ibis.table("customer_rfm"))


def rfm_grid(workspace: Workspace) -> pd.DataFrame | None:
    """Customers and mean revenue per (R, F) score pair, with the most common segment of the cell."""
    if not workspace.has_table("customer_rfm"):
        return None
    return workspace.con.execute(
        """SELECT r_score, f_score, count(*) AS customers, round(avg(revenue), 2) AS mean_revenue,
                  mode(rfm_segment) AS segment
           FROM customer_rfm WHERE r_score IS NOT NULL GROUP BY ALL ORDER BY ALL"""
    ).df()


def latest_events(workspace: Workspace, *, limit: int = 50, before: dt.datetime | str | None = None) -> pd.DataFrame:
    """The newest ``limit`` events (paged backwards with ``before``, an ``occurred_at`` time or its ISO text)."""
    if not workspace.has_table("events"):
        return pd.DataFrame(columns=["event_id", "customer_id", "type", "occurred_at", "product_id"])
    where, params = ("WHERE occurred_at < ?", [before]) if before else ("", [])
    return workspace.con.execute(
        f"""SELECT event_id, customer_id, type, occurred_at, product_id FROM events {where}
            ORDER BY occurred_at DESC, event_id DESC LIMIT ?""",
        [*params, int(limit)],
    ).df()


def experiment_results(workspace: Workspace, *, n_boot: int = 200) -> list[dict[str, Any]] | None:
    """A/B results per experiment: one row per variant with conversion and revenue lifts and their intervals.

    Uses :mod:`shopseg.experiments` (``analyze_experiment``, overall rows, the SRM
    check) when the workspace has experiments; otherwise None, and the page shows an empty state. Columns of ``rows``:
    ``variant, customers, conversion, revenue_per_customer`` and, for
    non-control variants, ``lift, lift_low, lift_high`` (conversion, absolute),
    ``revenue_lift, revenue_low, revenue_high`` and ``prob_beat_control``.
    """
    from shopseg.experiments import analyze_experiment
    from shopseg.experiments.records import EXPERIMENTS_TABLE, list_experiments

    if not workspace.has_table(EXPERIMENTS_TABLE):
        return None
    out = []
    for exp in list_experiments(workspace):
        if not assigned(workspace, exp.name):  # created, not started yet: listed on the page, no results
            continue
        rep = analyze_experiment(workspace, exp.name, n_boot=n_boot, by_segment=False)
        out.append(
            {
                "name": exp.name,
                "segment": exp.segment,
                "control": rep.control,
                "srm": rep.srm,
                "rows": lift_rows(rep.table),
            }
        )
    return out or None


def assigned(workspace: Workspace, name: str) -> int:
    """How many customers experiment ``name`` has assigned (0 before it is started)."""
    from shopseg.experiments.records import ASSIGNMENTS_TABLE

    if not workspace.has_table(ASSIGNMENTS_TABLE):
        return 0
    row = workspace.con.execute(f'SELECT count(*) FROM "{ASSIGNMENTS_TABLE}" WHERE experiment = ?', [name]).fetchone()
    return int(row[0]) if row else 0


#: How the columns of :func:`lift_rows` are written (the page's table and the analysis dashboard.js fills in).
LIFT_FORMATS = {
    "conversion": "pct",
    "prob_beat_control": "pct",
    "lift": "points",
    "lift_low": "points",
    "lift_high": "points",
    "revenue_per_customer": "money",
    "revenue_lift": "money",
    "revenue_low": "money",
    "revenue_high": "money",
}


def lift_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The overall rows of an experiment report with lifts and their interval ends as plain columns."""

    def ci(col: str, i: int) -> pd.Series:
        if col not in table:
            return pd.Series([None] * len(table), index=table.index, dtype=object)
        return table[col].map(lambda v: v[i] if isinstance(v, tuple | list) else None)

    rows = table[["variant", "customers", "conversion", "revenue_per_customer"]].copy()
    for name, col in (
        ("lift", "conversion_lift"),
        ("revenue_lift", "revenue_lift"),
        ("prob_beat_control", "prob_beat_control"),
    ):
        rows[name] = table[col] if col in table else None
    rows["lift_low"], rows["lift_high"] = ci("conversion_lift_ci", 0), ci("conversion_lift_ci", 1)
    rows["revenue_low"], rows["revenue_high"] = ci("revenue_lift_ci", 0), ci("revenue_lift_ci", 1)
    return rows


def backtest_groups(engine: Engine) -> dict[str, Any]:
    """The purchase backtest's calibration table (actual vs predicted per frequency group) and verdict.

    It fits a BG/NBD on the store's past (one fit on unique frequency/recency/T
    rows), so pages cache it; a store too small or too short to split gives
    ``groups=None`` and the reason.
    """
    from shopseg.errors import ShopsegError
    from shopseg.predict import purchase_backtest

    try:
        bt = purchase_backtest(engine, intervals=False)  # the page shows the calibration chart and verdict
    except ShopsegError as exc:
        return {"groups": None, "error": str(exc)}
    info = {k: bt.info[k] for k in ("calibration_end", "observation_end", "holdout_days", "customers")}
    return {"groups": bt.groups, "mae": bt.mae, "verdict": bt.verdict(), "info": info, "error": None}
