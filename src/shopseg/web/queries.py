"""Aggregates behind the dashboard pages: each one a single grouped query, never customer rows in bulk.

Every function takes an open :class:`~shopseg.workspace.Workspace` and returns
small frames or dicts (tens of rows whatever the store's size). A section whose
source table does not exist yet returns ``None`` and the page shows an empty
state naming the command that builds it. Customer-level rows only appear paged
(:func:`shopseg.web.members.members_page`) or one customer at a time.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import pandas as pd

from shopseg.reports.summary import store_kpis

if TYPE_CHECKING:
    from shopseg.engine import Engine
    from shopseg.workspace import Workspace

__all__ = [
    "overview",
    "rfm_grid",
    "rfm_segments",
    "saved_segment_sizes",
    "cluster_profiles",
    "prediction_summary",
    "latest_events",
    "experiment_results",
    "backtest_groups",
]

_CLV_BINS = 30


def overview(workspace: Workspace) -> dict[str, Any]:
    """KPIs, RFM segment sizes and revenue shares, saved segment sizes, lifecycle stages."""
    out: dict[str, Any] = {"kpis": store_kpis(workspace), "rfm": rfm_segments(workspace)}
    out["saved"] = saved_segment_sizes(workspace)
    if workspace.has_table("customer_lifecycle"):
        out["lifecycle"] = workspace.con.execute(
            "SELECT stage, count(*) AS customers FROM customer_lifecycle GROUP BY stage ORDER BY customers DESC"
        ).df()
    else:
        out["lifecycle"] = None
    out["monthly"] = workspace.con.execute(
        """SELECT date_trunc('month', o.ordered_at)::DATE AS month, count(DISTINCT o.order_id) AS orders,
                  round(sum(l.quantity * l.unit_price - coalesce(l.discount, 0)), 2) AS revenue
           FROM orders o JOIN order_lines l USING (order_id)
           WHERE NOT coalesce(o.is_cancelled, false) AND l.quantity > 0 AND l.unit_price >= 0
           GROUP BY 1 ORDER BY 1"""
    ).df()
    return out


def rfm_segments(workspace: Workspace) -> pd.DataFrame | None:
    """The RFM segment table (customers, shares, means), or None before ``shopseg rfm``."""
    if not workspace.has_table("customer_rfm"):
        return None
    from shopseg.segments.rfm import rfm_segment_table

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


def saved_segment_sizes(workspace: Workspace) -> pd.DataFrame:
    """Saved segments with their latest snapshot: ``name, version, definition, description, as_of, size``.

    Sizes come from the dated snapshots (``shopseg segment refresh``), so the
    overview does not evaluate every rule on every page load; a segment saved
    since the last refresh shows no size until the next one.
    """
    from shopseg.segments.fields import FIELDS
    from shopseg.segments.store import DEFINITIONS_TABLE, SNAPSHOTS_TABLE, SegmentStore

    cols = ["name", "version", "definition", "description", "as_of", "size", "revenue_share"]
    if not workspace.has_table(DEFINITIONS_TABLE):
        return pd.DataFrame(columns=cols)
    saved = SegmentStore(workspace, fields=FIELDS).list()
    df = pd.DataFrame([{"name": s.name, "version": s.version, "definition": s.definition,
                        "description": s.description} for s in saved],  # fmt: skip
                      columns=cols[:4])
    if df.empty or not workspace.has_table(SNAPSHOTS_TABLE):
        return df.assign(as_of=None, size=None, revenue_share=None)
    has_rev = workspace.has_table("customer_features")
    rev = "sum(coalesce(f.revenue, 0)) / nullif((SELECT sum(coalesce(revenue, 0)) FROM customer_features), 0)"
    sizes = workspace.con.execute(
        f"""WITH latest AS (SELECT name, max(as_of) AS as_of FROM "{SNAPSHOTS_TABLE}" GROUP BY name)
            SELECT s.name, s.as_of, count(*) AS size, {rev if has_rev else "NULL"} AS revenue_share
            FROM "{SNAPSHOTS_TABLE}" s JOIN latest USING (name, as_of)
            {"LEFT JOIN customer_features f USING (customer_id)" if has_rev else ""}
            GROUP BY s.name, s.as_of"""
    ).df()
    return df.merge(sizes, on="name", how="left")


def cluster_profiles(workspace: Workspace) -> pd.DataFrame | None:
    """``cluster_profiles`` as written by ``shopseg cluster`` (one row per cluster), or None."""
    if not workspace.has_table("cluster_profiles"):
        return None
    return workspace.con.execute("SELECT * FROM cluster_profiles ORDER BY cluster").df()


def prediction_summary(workspace: Workspace) -> dict[str, Any] | None:
    """CLV histogram (log-spaced bins), churn risk bands, P(alive) deciles and RFM x CLV, or None."""
    if not workspace.has_table("customer_predictions"):
        return None
    con = workspace.con
    totals = con.execute(
        """SELECT count(*) AS buyers, sum(clv) AS clv, sum(clv_p10) AS clv_p10, sum(clv_p90) AS clv_p90,
                  avg(p_alive) AS p_alive, quantile_cont(clv, 0.5) AS clv_median, max(clv) AS clv_max
           FROM customer_predictions"""
    ).df().iloc[0].to_dict()
    hist = con.execute(
        f"""WITH b AS (SELECT least(floor(ln(1 + greatest(clv, 0)) / (ln(1 + ?) / {_CLV_BINS})), {_CLV_BINS - 1}) AS bin
                       FROM customer_predictions)
            SELECT bin::INTEGER AS bin, count(*) AS customers FROM b GROUP BY bin ORDER BY bin""",
        [max(float(totals["clv_max"] or 0.0), 1.0)],
    ).df()
    top = math.log(1 + max(float(totals["clv_max"] or 0.0), 1.0))
    edges = [math.exp(top * i / _CLV_BINS) - 1.0 for i in range(_CLV_BINS + 1)]
    hist["low"] = hist["bin"].map(lambda b: round(edges[b], 2))
    hist["high"] = hist["bin"].map(lambda b: round(edges[b + 1], 2))
    risk = con.execute(
        """SELECT churn_risk, count(*) AS customers, round(avg(churn_probability), 4) AS mean_probability,
                  round(sum(clv), 2) AS clv_at_stake
           FROM customer_predictions GROUP BY churn_risk
           ORDER BY CASE churn_risk WHEN 'low' THEN 0 WHEN 'medium' THEN 1 ELSE 2 END"""
    ).df()
    by_segment = None
    if workspace.has_table("customer_rfm"):
        by_segment = con.execute(
            """SELECT r.rfm_segment AS segment, count(*) AS buyers, round(avg(p.clv), 2) AS mean_clv,
                      round(avg(p.churn_probability), 4) AS mean_churn
               FROM customer_predictions p JOIN customer_rfm r USING (customer_id)
               GROUP BY 1 ORDER BY mean_clv DESC"""
        ).df()
    meta = {k: workspace.meta(f"predictions_{k}") for k in ("as_of", "horizon_days", "churn_source", "uncertainty")}
    return {"totals": totals, "clv_hist": hist, "risk": risk, "by_segment": by_segment, "meta": meta}


def latest_events(workspace: Workspace, *, limit: int = 50, before: str | None = None) -> pd.DataFrame:
    """The newest ``limit`` events (paged backwards with ``before``, an ``occurred_at`` ISO time)."""
    if not workspace.has_table("events"):
        return pd.DataFrame(columns=["event_id", "customer_id", "type", "occurred_at", "product_id"])
    where, params = ("WHERE occurred_at < ?", [before]) if before else ("", [])
    return workspace.con.execute(
        f"""SELECT event_id, customer_id, type, occurred_at, product_id FROM events {where}
            ORDER BY occurred_at DESC, event_id DESC LIMIT ?""",
        [*params, int(limit)],
    ).df()


def experiment_results(workspace: Workspace) -> list[dict[str, Any]] | None:
    """A/B results per experiment and variant with intervals, when the experiments module has stored any.

    Reads the ``experiment_results`` table (experiment, variant, customers,
    conversion, lift, lift_low, lift_high, ...) if some module wrote it;
    otherwise None, and the page shows an empty state.
    """
    if not workspace.has_table("experiment_results"):
        return None
    df = workspace.con.execute('SELECT * FROM "experiment_results"').df()
    if "experiment" not in df.columns:
        return None
    return [{"name": str(name), "rows": grp.drop(columns="experiment").reset_index(drop=True)}
            for name, grp in df.groupby("experiment", sort=True)]  # fmt: skip


def backtest_groups(engine: Engine) -> dict[str, Any]:
    """The purchase backtest's calibration table (actual vs predicted per frequency group) and verdict.

    It fits a BG/NBD on the store's past (one fit on unique frequency/recency/T
    rows), so pages cache it; a store too small or too short to split gives
    ``groups=None`` and the reason.
    """
    from shopseg.errors import ShopsegError
    from shopseg.predict import purchase_backtest

    try:
        bt = purchase_backtest(engine)
    except ShopsegError as exc:
        return {"groups": None, "error": str(exc)}
    info = {k: bt.info[k] for k in ("calibration_end", "observation_end", "holdout_days", "customers")}
    return {"groups": bt.groups, "mae": bt.mae, "verdict": bt.verdict(), "info": info, "error": None}
