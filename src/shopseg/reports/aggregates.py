"""Aggregates shared by the HTML report and the dashboard: saved segment sizes, predictions, clusters.

Each is one or a few grouped queries over the workspace tables; results are a
few dozen rows whatever the store's size, and none carries customer-level data.
Functions return None when their source table has not been built yet.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from shopseg.workspace import Workspace

__all__ = ["saved_segment_sizes", "prediction_summary", "cluster_profiles", "CLV_BINS"]

CLV_BINS = 30


def saved_segment_sizes(workspace: Workspace) -> pd.DataFrame:
    """Saved segments with their latest snapshot: ``name, version, definition, description, as_of, size``, and
    ``error``: why a saved rule cannot be used (None for the others; such a segment is left out of refresh).

    Sizes come from the dated snapshots (``shopseg segment refresh``), so the
    overview does not evaluate every rule on every page load; a segment saved
    since the last refresh shows no size until the next one.
    """
    from shopseg.segments.definitions import DEFINITIONS_TABLE, SNAPSHOTS_TABLE, SegmentStore
    from shopseg.segments.saved import describe_broken

    cols = ["name", "version", "definition", "description", "as_of", "size", "revenue_share", "error"]
    if not workspace.has_table(DEFINITIONS_TABLE):
        return pd.DataFrame(columns=cols)
    store = SegmentStore(workspace)
    saved = store.list()
    store.definitions()  # finds the saved rules that cannot be used
    df = pd.DataFrame(
        [
            {"name": s.name, "version": s.version, "definition": s.definition, "description": s.description}
            for s in saved
        ],
        columns=cols[:4],
    )
    errors = {name: describe_broken(name, exc) for name, exc in store.broken.items()}
    if df.empty or not workspace.has_table(SNAPSHOTS_TABLE):
        return df.assign(as_of=None, size=None, revenue_share=None, error=[errors.get(n) for n in df["name"]])
    # the latest snapshot of each segment, a refresh that found no member included (size 0)
    latest = store.latest_snapshots()
    days = [d.date() if isinstance(d, dt.datetime) else d for d in latest["as_of"]]
    sizes = pd.DataFrame({"name": latest["name"], "as_of": [str(d) for d in days], "size": latest["size"].astype(int)})
    if workspace.has_table("customer_features"):
        keys = [f"{n}@{d}" for n, d in zip(latest["name"], days, strict=True)]
        shares = dict(
            workspace.con.execute(
                f"""SELECT s.name, sum(coalesce(f.revenue, 0))
                       / nullif((SELECT sum(coalesce(revenue, 0)) FROM customer_features), 0)
                FROM "{SNAPSHOTS_TABLE}" s LEFT JOIN customer_features f USING (customer_id)
                WHERE list_contains(?, s.name || '@' || CAST(CAST(s.as_of AS DATE) AS VARCHAR)) GROUP BY s.name""",
                [keys],
            ).fetchall()
        )
        sizes["revenue_share"] = [shares.get(n, 0.0) for n in sizes["name"]]
    else:
        sizes["revenue_share"] = None
    return df.merge(sizes, on="name", how="left").assign(error=lambda d: [errors.get(n) for n in d["name"]])


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
    totals = (
        con.execute(
            """SELECT count(*) AS buyers, sum(clv) AS clv, sum(clv_param_p10) AS clv_param_p10, sum(clv_param_p90) AS clv_param_p90,
                  avg(p_alive) AS p_alive, quantile_cont(clv, 0.5) AS clv_median, max(clv) AS clv_max
           FROM customer_predictions"""
        )
        .df()
        .iloc[0]
        .to_dict()
    )
    hist = con.execute(
        f"""WITH b AS (SELECT least(floor(ln(1 + greatest(clv, 0)) / (ln(1 + ?) / {CLV_BINS})), {CLV_BINS - 1}) AS bin
                       FROM customer_predictions)
            SELECT bin::INTEGER AS bin, count(*) AS customers FROM b GROUP BY bin ORDER BY bin""",
        [max(float(totals["clv_max"] or 0.0), 1.0)],
    ).df()
    top = math.log(1 + max(float(totals["clv_max"] or 0.0), 1.0))
    edges = [math.exp(top * i / CLV_BINS) - 1.0 for i in range(CLV_BINS + 1)]
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
    keys = ("as_of", "horizon_days", "churn_source", "uncertainty", "fallback")
    meta = {k: workspace.meta(f"predictions_{k}") for k in keys}
    return {"totals": totals, "clv_hist": hist, "risk": risk, "by_segment": by_segment, "meta": meta}
