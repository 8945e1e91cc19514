"""Aggregates the report and the demo summary show, computed from a workspace.

Every figure is an aggregate (no customer-level rows leave this module), so a
report stays small and free of PII whatever the store's size. Sections whose
source tables do not exist yet (e.g. before ``shopseg rfm``) are left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from shopseg.workspace import Workspace

__all__ = ["StoreSummary", "summarize_store", "store_kpis", "monthly_revenue", "returns_sql", "net_revenue_sql"]


@dataclass
class StoreSummary:
    """Headline figures and per-section tables of one workspace."""

    kpis: dict[str, Any]
    sections: dict[str, pd.DataFrame] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    predictions: dict[str, Any] = field(default_factory=dict)


def summarize_store(workspace: Workspace, *, extended: bool = True, purchases: str | None = None) -> StoreSummary:
    """Compute the figures shown by ``shopseg report`` and at the end of ``shopseg demo``.

    ``extended=False`` leaves out the report-only sections (saved segments,
    predictions, clusters, regions) that the demo's terminal summary does not print.
    ``purchases``: :func:`~shopseg.features.order_totals.purchase_orders_sql` when the caller has it.
    """
    from shopseg.features.order_totals import purchase_orders_sql

    con = workspace.con
    tables = set(workspace.tables())
    purchases = purchases or purchase_orders_sql(workspace)  # one freshness check for KPIs and monthly revenue
    kpis = store_kpis(workspace, purchases)
    summary = StoreSummary(kpis=kpis)
    if "customer_rfm" in tables:
        summary.sections["rfm_segments"] = _rfm_segments(workspace)
        summary.notes["rfm"] = workspace.meta("rfm_notes") or ""  # e.g. "F uses 4 scores", as `shopseg rfm` prints
        summary.sections["rfm_grid"] = con.execute(
            """SELECT r_score, f_score, count(*) AS customers
               FROM customer_rfm WHERE r_score IS NOT NULL GROUP BY ALL ORDER BY ALL"""
        ).df()
    if "customer_lifecycle" in tables:
        summary.sections["lifecycle"] = con.execute(
            """SELECT stage, count(*) AS customers,
                      round(100.0 * count(*) / sum(count(*)) OVER (), 1) AS share_pct
               FROM customer_lifecycle GROUP BY stage ORDER BY customers DESC"""
        ).df()
    if "customer_features" in tables:
        summary.sections["countries"] = con.execute(
            """SELECT coalesce(country, 'unknown') AS country, count(*) AS customers,
                      round(sum(coalesce(revenue, 0)), 2) AS revenue
               FROM customer_features GROUP BY 1 ORDER BY revenue DESC LIMIT 12"""
        ).df()
        summary.sections["monthly"] = monthly_revenue(workspace, purchases)
        summary.notes["countries"] = _countries_note(summary.sections["countries"])
        meta = {k: workspace.meta(k) for k in ("features_as_of", "features_time_unit")}
        summary.notes["features"] = ", ".join(f"{k.split('_', 1)[1]}: {v}" for k, v in meta.items() if v)
    if extended:
        _extended(workspace, summary)
    return summary


def _extended(workspace: Workspace, summary: StoreSummary) -> None:
    """Saved segments, predictions, clusters and regions x categories (what the report adds to the demo summary)."""
    from shopseg.reports.aggregates import cluster_profiles, prediction_summary, saved_segment_sizes
    from shopseg.reports.regions import Breakdown, region_performance_many

    saved = saved_segment_sizes(workspace)
    if not saved.empty:
        summary.sections["saved_segments"] = saved.drop(columns=["description"])
    pred = prediction_summary(workspace)
    if pred is not None:
        summary.sections["clv_hist"] = pred["clv_hist"]
        summary.sections["churn_risk"] = pred["risk"]
        if pred["by_segment"] is not None:
            summary.sections["clv_by_segment"] = pred["by_segment"]
        t = pred["totals"]
        summary.predictions = {
            "buyers": int(t["buyers"]),
            "clv": float(t["clv"] or 0),
            "clv_param_p10": float(t["clv_param_p10"] or 0),
            "clv_param_p90": float(t["clv_param_p90"] or 0),
            "p_alive": float(t["p_alive"] or 0),
            **pred["meta"],
        }
    clusters = cluster_profiles(workspace)
    if clusters is not None:
        summary.sections["clusters"] = clusters
    if workspace.has_table("orders") and summary.kpis["orders"]:
        cells, top = region_performance_many(  # one pass over the order lines for both
            workspace,
            [Breakdown(("region", "category")), Breakdown(("segment", "region", "category"), limit=20)],
            period="all",
        )
        summary.sections["region_category"], summary.sections["region_top"] = cells, top


def store_kpis(workspace: Workspace, purchases: str | None = None) -> dict[str, Any]:
    """Customers, buyers, purchase orders, gross sales, net revenue, average order value and the order period.

    Purchases as the features count them (:func:`~shopseg.features.order_totals.purchase_orders_sql`,
    read from the stored ``order_totals`` when fresh): ``gross_revenue`` (also under its older key
    ``revenue``) is the sum of the customers' ``gross_revenue`` feature (purchases before returns) over
    all time, ``net_revenue`` the sum of their ``revenue`` feature (returns taken off, each customer's
    capped at their purchases; :func:`net_revenue_sql`) and ``returns`` the difference.
    ``avg_order_value`` is gross sales per purchase order, as the feature. ``purchases`` is that SQL
    when the caller already has it (its freshness check reads every order line).
    """
    from shopseg.features.order_totals import purchase_orders_sql

    purchases = purchases or purchase_orders_sql(workspace)
    con = workspace.con
    row = con.execute(
        f"""SELECT count(DISTINCT customer_id), count(*), round(sum(cents) / 100, 2),
                   min(ordered_at)::DATE, max(ordered_at)::DATE
            FROM ({purchases})"""
    ).fetchone()
    buyers, orders, revenue, first, last = row if row else (0, 0, 0.0, None, None)
    net = con.execute(net_revenue_sql(purchases, returns_sql(workspace))).fetchone() if orders else None
    customers = con.execute("SELECT count(*) FROM customers").fetchone()
    n_customers = int(customers[0]) if customers and customers[0] else int(buyers or 0)
    gross = float(revenue or 0.0)
    net_revenue = float(net[0] or 0.0) if net else 0.0
    return {
        "customers": n_customers,
        "buyers": int(buyers or 0),
        "orders": int(orders or 0),
        "revenue": gross,
        "gross_revenue": gross,
        "net_revenue": net_revenue,
        "returns": round(gross - net_revenue, 2),
        "avg_order_value": gross / orders if orders else 0.0,
        "first_order": str(first) if first else "-",
        "last_order": str(last) if last else "-",
    }


def returns_sql(workspace: Workspace) -> str:
    """``customer_id, day, cents``: returned value per customer and calendar day, all time: the features'
    return lines (:func:`shopseg.features.purchases.return_lines`) compiled to SQL, so the report's net
    revenue and the ``revenue`` feature take the same returns off."""
    from shopseg.engine import get_engine
    from shopseg.features.purchases import return_lines

    rows = return_lines(get_engine(workspace, "duckdb"))
    daily = rows.group_by("customer_id", day=rows.ordered_at.date()).aggregate(cents=rows.cents.sum())
    return str(workspace.ibis.compile(daily))


def net_revenue_sql(purchases: str, returns: str, between: bool = False) -> str:
    """One row: net revenue and gross sales (currency units) of the purchase orders ``purchases`` and the
    returns ``returns`` (:func:`returns_sql`), each customer's returns capped at their purchases, as the
    ``revenue`` feature is. ``between``: only days in ``[?, ?]`` (two parameters, for purchases and
    returns alike), so a period's net revenue is its purchases less the returns made in it."""
    when = "WHERE ordered_at::DATE BETWEEN $1 AND $2" if between else ""
    ret_when = "WHERE day BETWEEN $1 AND $2" if between else ""
    return f"""WITH g AS (SELECT customer_id, sum(cents) AS cents FROM ({purchases}) {when} GROUP BY 1),
        r AS (SELECT customer_id, sum(cents) AS cents FROM ({returns}) {ret_when} GROUP BY 1)
        SELECT round(sum(g.cents - least(coalesce(r.cents, 0), g.cents)) / 100, 2), round(sum(g.cents) / 100, 2)
        FROM g LEFT JOIN r ON r.customer_id = g.customer_id"""


def _countries_note(df: pd.DataFrame) -> str:
    """What the row 'unknown' of the countries table means, when it is there."""
    unknown = df[df["country"] == "unknown"]
    if unknown.empty:
        return ""
    n = int(unknown["customers"].iloc[0])
    if len(df) == 1:
        return f"The store's data has no customer countries: all {n:,} customers are under 'unknown'."
    return f"'unknown': the {n:,} customers whose country is not in the data."


def _rfm_segments(workspace: Workspace) -> pd.DataFrame:
    from shopseg.segments.rfm_map import rfm_segment_table

    return rfm_segment_table(workspace.ibis.table("customer_rfm"))


def monthly_revenue(workspace: Workspace, purchases: str | None = None) -> pd.DataFrame:
    """``month, orders, revenue, days, partial`` of purchase orders (the definition :func:`store_kpis` uses),
    oldest first. ``revenue`` is gross sales (before returns); ``days`` the days of the month the data covers
    (from the first to the latest order); ``partial`` whether that is less than the whole month (the data
    starts or ends inside it), so a chart does not draw it like a full month."""
    from shopseg.features.order_totals import purchase_orders_sql

    purchases = purchases or purchase_orders_sql(workspace)
    return workspace.con.execute(
        f"""WITH p AS (SELECT ordered_at FROM ({purchases})),
            span AS (SELECT min(ordered_at)::DATE AS first, max(ordered_at)::DATE AS last FROM p),
            m AS (SELECT date_trunc('month', ordered_at)::DATE AS month, count(*) AS orders,
                         round(sum(cents) / 100, 2) AS revenue
                  FROM ({purchases}) GROUP BY 1)
            SELECT m.month, m.orders, m.revenue,
                   (least(last_day(m.month), span.last) - greatest(m.month, span.first) + 1)::INTEGER AS days,
                   days < extract('day' FROM last_day(m.month)) AS partial
            FROM m, span ORDER BY 1"""
    ).df()
