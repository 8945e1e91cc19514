"""The executive summary that opens the report: headline figures against the previous period, revenue at risk
from likely churners, the biggest segment movements and the playbook's top actions.

Every figure is an aggregate over the workspace tables, computed here once and shown as is by the report
(and by ``shopseg report html --json``). Purchases are counted as in :func:`shopseg.reports.summary.store_kpis`:
lines with a positive quantity and price of orders that were not cancelled. Money headlines are **net revenue**
(purchases less returns, each customer's returns in the period capped at their purchases in it, as the
``revenue`` feature) beside **gross sales** (before returns); both periods are measured the same way.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from shopseg.config import get_setting

if TYPE_CHECKING:
    from shopseg.workspace import Workspace

__all__ = ["Headline", "ExecutiveSummary", "executive_summary", "store_currency", "HIGH_RISK"]

HIGH_RISK = 0.8  # churn probability from which a buyer is a likely churner (the "high" churn risk band)


@dataclass(frozen=True)
class Headline:
    """One headline figure: this period's value, the previous period's and the relative change."""

    key: str
    label: str
    value: float
    previous: float
    kind: str  # "money" or "count"

    @property
    def change(self) -> float | None:
        """Relative change against the previous period (0.1 for +10%); 0.0 when both are equal (0 and 0 too),
        None when only the previous value is 0 (new)."""
        if self.value == self.previous:
            return 0.0
        return (self.value - self.previous) / self.previous if self.previous else None


@dataclass
class ExecutiveSummary:
    """What the first section of the report says, as data."""

    period_days: int
    period_start: dt.date | None
    period_end: dt.date | None
    currency: str | None
    currencies: dict[str, float] = field(default_factory=dict)
    headlines: list[Headline] = field(default_factory=list)
    at_risk: dict[str, Any] | None = None
    movements: list[dict[str, Any]] = field(default_factory=list)
    movement_dates: tuple[dt.date, dt.date] | None = None
    actions: list[dict[str, Any]] = field(default_factory=list)
    terms: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain data (dates as ISO strings) for ``--json``."""
        return {
            "period_days": self.period_days,
            "period_start": _iso(self.period_start),
            "period_end": _iso(self.period_end),
            "currency": self.currency,
            "currencies": self.currencies,
            "headlines": [
                {"key": h.key, "label": h.label, "value": h.value, "previous": h.previous, "change": h.change}
                for h in self.headlines
            ],
            "at_risk": self.at_risk,
            "movements": self.movements,
            "movement_dates": [_iso(d) for d in self.movement_dates] if self.movement_dates else None,
            "actions": self.actions,
            "terms": self.terms,
        }


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def store_currency(workspace: Workspace) -> tuple[str | None, dict[str, float]]:
    """The currency money is shown in (setting ``report_currency``, else the most common ``orders.currency``)
    and each currency's share of the orders (several mean revenue adds them as one)."""
    rows = workspace.con.execute(
        """SELECT upper(trim(currency)) AS c, count(*) AS n FROM orders
           WHERE currency IS NOT NULL AND trim(currency) <> '' GROUP BY 1 ORDER BY n DESC, c"""
    ).fetchall()
    total = sum(n for _, n in rows)
    shares = {c: n / total for c, n in rows} if total else {}
    chosen = str(get_setting("report_currency") or "").strip().upper() or (rows[0][0] if rows else None)
    return chosen, shares


def executive_summary(workspace: Workspace, *, period_days: int = 90, purchases: str | None = None) -> ExecutiveSummary:
    """Headlines of the last ``period_days`` days of orders against the ``period_days`` before them, and the rest.

    Parameters
    ----------
    workspace : Workspace
        An open workspace with orders; the at-risk figure needs ``shopseg predict``, movements two snapshot
        dates (``shopseg segment refresh``), actions the features, RFM map and lifecycle stages.
    period_days : int, default=90
        Length of the compared periods; the current one ends on the day of the latest order.
    purchases : str, default=None
        :func:`~shopseg.features.order_totals.purchase_orders_sql` when the caller has it (its
        freshness check reads every order line).

    Returns
    -------
    ExecutiveSummary
    """
    from shopseg.features.order_totals import purchase_orders_sql

    currency, shares = store_currency(workspace)
    # purchases as the features and the KPIs count them, one row per order (the stored order_totals when fresh)
    purchases = purchases or purchase_orders_sql(workspace)
    end = workspace.con.execute(f"SELECT max(ordered_at)::DATE FROM ({purchases})").fetchone()
    last = end[0] if end else None
    out = ExecutiveSummary(period_days, None, last, currency, shares)
    if last is None:
        return out
    start = last - dt.timedelta(days=period_days - 1)
    out.period_start = start
    out.headlines = _headlines(workspace, purchases, start, last, period_days)
    out.at_risk = _at_risk(workspace, purchases, last)
    out.movement_dates, out.movements = _movements(workspace)
    out.actions = _actions(workspace)
    out.terms = {k: workspace.meta(f"predictions_{k}") for k in ("churn_days", "horizon_days", "model", "as_of")}
    return out


def _headlines(workspace: Workspace, purchases: str, start: dt.date, last: dt.date, days: int) -> list[Headline]:
    from shopseg.reports.summary import net_revenue_sql, returns_sql

    prev_start = start - dt.timedelta(days=days)
    sql = f"""WITH p AS (
            SELECT order_id, customer_id, ordered_at::DATE AS day, cents / 100 AS value FROM ({purchases})),
        first AS (SELECT customer_id, min(day) AS first_day FROM p GROUP BY 1)
        SELECT CASE WHEN day >= ? THEN 'now' ELSE 'before' END AS period,
               sum(value), count(DISTINCT order_id), count(DISTINCT customer_id),
               count(DISTINCT CASE WHEN day = first_day THEN customer_id END)
        FROM p JOIN first USING (customer_id) WHERE day BETWEEN ? AND ? GROUP BY 1"""
    got = {r[0]: r[1:] for r in workspace.con.execute(sql, [start, prev_start, last]).fetchall()}
    now, before = got.get("now", (0, 0, 0, 0)), got.get("before", (0, 0, 0, 0))
    net_sql = net_revenue_sql(purchases, returns_sql(workspace), between=True)
    net_now, net_before = (
        float((workspace.con.execute(net_sql, [a, b]).fetchone() or (0,))[0] or 0)
        for a, b in ((start, last), (prev_start, start - dt.timedelta(days=1)))
    )

    def aov(row: tuple[Any, ...]) -> float:
        return float(row[0] or 0) / row[1] if row[1] else 0.0

    return [
        Headline("net_revenue", "Net revenue", net_now, net_before, "money"),
        Headline("gross_sales", "Gross sales (before returns)", float(now[0] or 0), float(before[0] or 0), "money"),
        Headline("orders", "Orders", int(now[1]), int(before[1]), "count"),
        Headline("buyers", "Customers who bought", int(now[2]), int(before[2]), "count"),
        Headline("new_buyers", "First-time buyers", int(now[3]), int(before[3]), "count"),
        Headline("avg_order_value", "Average order value (before returns)", aov(now), aov(before), "money"),
    ]


def _at_risk(workspace: Workspace, purchases: str, last: dt.date) -> dict[str, Any] | None:
    """Likely churners (churn probability >= 0.8): how many, their last 12 months' net revenue and gross sales
    (returns capped per customer, as in the headlines) and their predicted CLV over the horizon."""
    from shopseg.reports.summary import net_revenue_sql, returns_sql

    if not workspace.has_table("customer_predictions"):
        return None
    year_ago = last - dt.timedelta(days=364)
    risky = "SELECT customer_id FROM customer_predictions WHERE churn_probability >= $3"
    their = f"SELECT * FROM ({purchases}) WHERE customer_id IN ({risky})"
    their_returns = f"SELECT * FROM ({returns_sql(workspace)}) WHERE customer_id IN ({risky})"
    net, gross = workspace.con.execute(
        net_revenue_sql(their, their_returns, between=True), [year_ago, last, HIGH_RISK]
    ).fetchone() or (0.0, 0.0)
    row = workspace.con.execute(
        """SELECT count(*) FILTER (churn_probability >= ?), coalesce(sum(clv) FILTER (churn_probability >= ?), 0),
                  count(*) FROM customer_predictions""",
        [HIGH_RISK, HIGH_RISK],
    ).fetchone()
    customers, clv, buyers = row if row else (0, 0.0, 0)
    return {
        "customers": int(customers),
        "share_of_buyers": int(customers) / int(buyers) if buyers else 0.0,
        "net_revenue_last_12_months": float(net or 0.0),
        "gross_sales_last_12_months": float(gross or 0.0),
        "predicted_clv": float(clv),
        "threshold": HIGH_RISK,
    }


def _movements(workspace: Workspace) -> tuple[tuple[dt.date, dt.date] | None, list[dict[str, Any]]]:
    """Size changes of saved segments and RFM segments between the two latest snapshot dates, biggest first."""
    from shopseg.segments.snapshots import RFM_SNAPSHOTS_TABLE, SNAPSHOTS_TABLE

    parts = []
    if workspace.has_table(SNAPSHOTS_TABLE):
        parts.append(f"SELECT as_of, name AS segment, 'saved segment' AS kind, customer_id FROM \"{SNAPSHOTS_TABLE}\"")
    if workspace.has_table(RFM_SNAPSHOTS_TABLE):
        parts.append(
            f"SELECT as_of, rfm_segment AS segment, 'RFM segment' AS kind, customer_id FROM \"{RFM_SNAPSHOTS_TABLE}\""
            " WHERE rfm_segment IS NOT NULL"
        )
    if not parts:
        return None, []
    union = " UNION ALL ".join(parts)
    dates = [r[0] for r in workspace.con.execute(f"SELECT DISTINCT as_of FROM ({union}) ORDER BY 1 DESC").fetchall()]
    if len(dates) < 2:
        return None, []
    new, old = dates[0], dates[1]
    rows = workspace.con.execute(
        f"""SELECT segment, kind, count(*) FILTER (as_of = ?) AS before, count(*) FILTER (as_of = ?) AS after
            FROM ({union}) WHERE as_of IN (?, ?) GROUP BY 1, 2
            ORDER BY abs(after - before) DESC, segment LIMIT 3""",
        [old, new, old, new],
    ).fetchall()
    return (old, new), [
        {"segment": s, "kind": k, "before": int(b), "after": int(a), "change": int(a) - int(b)}
        for s, k, b, a in rows
        if a != b
    ]


def _actions(workspace: Workspace, top: int = 3) -> list[dict[str, Any]]:
    """The default playbook's actions with the most value in play (the audience's predicted CLV), else audience."""
    from shopseg.personalize.nba import action_audiences

    if not all(workspace.has_table(t) for t in ("customer_features", "customer_rfm", "customer_lifecycle")):
        return []
    df = action_audiences(workspace)
    df = df[(df["action_name"] != "none") & (df["customers"] > 0)]
    return [
        {
            "action": r["action_name"],
            "what": r["action"],
            "why": r["reason"],
            "channel": r["channel"],
            "customers": int(r["customers"]),
            "value": None if r["clv"] != r["clv"] else float(r["clv"]),
        }
        for r in df.sort_values(["clv", "customers"], ascending=False, na_position="last").head(top).to_dict("records")
    ]
