"""`shopseg report`: one self-contained HTML file a marketing lead can forward (charts and plotly.js embedded).

It opens with an executive summary (:mod:`shopseg.reports.executive`), then one section per analysis
(:mod:`shopseg.reports.sections`), the terms it uses and a short methodology. Money is shown in the store's
currency, shares as percentages; a print stylesheet lays it out on A4. The file opens offline: plotly.js is read
from the installed ``plotly`` package and inlined once; there is no CDN link and no customer-level data in it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, PackageLoader, select_autoescape

from shopseg.reports._format import change, count, money, pct
from shopseg.reports.executive import ExecutiveSummary, executive_summary
from shopseg.reports.sections import build_sections
from shopseg.reports.summary import StoreSummary, summarize_store

if TYPE_CHECKING:
    from shopseg.workspace import Workspace

__all__ = ["render_report", "write_report"]


def write_report(workspace: Workspace, path: str | Path | None = None, *, title: str = "shopseg report") -> Path:
    """Write the HTML report of ``workspace`` to ``path`` and return the path.

    Parameters
    ----------
    workspace : Workspace
        An open workspace; sections appear for what has been built (features, RFM, lifecycle, predictions, ...).
    path : str or Path, optional
        Output file; default ``<workspace folder>/report.html``.
    title : str, default="shopseg report"
        Page title.

    Returns
    -------
    Path
        The written file.
    """
    out = Path(path) if path else workspace.path.parent / "report.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    from shopseg.features.order_totals import purchase_orders_sql

    purchases = purchase_orders_sql(workspace)  # one freshness check for the summary and the executive summary
    summary = summarize_store(workspace, purchases=purchases)
    executive = executive_summary(workspace, purchases=purchases) if summary.kpis["orders"] else None
    meta = {k: workspace.meta(f"features_{k}") for k in ("as_of", "time_unit")}
    text = render_report(summary, title=title, source=workspace.path.name, executive=executive, features=meta)
    out.write_text(text, encoding="utf-8")
    return out


def render_report(
    summary: StoreSummary,
    *,
    title: str = "shopseg report",
    source: str = "",
    executive: ExecutiveSummary | None = None,
    features: dict[str, str | None] | None = None,
) -> str:
    """Render a :class:`StoreSummary` (and its executive summary, when given) as a standalone HTML page."""
    from plotly.offline import get_plotlyjs

    import shopseg

    env = Environment(loader=PackageLoader("shopseg.reports", "templates"), autoescape=select_autoescape())
    currency = executive.currency if executive else None
    terms = executive.terms if executive else {}
    k = summary.kpis
    kpis = [
        ("Customers", count(k["customers"])),
        ("Buyers", count(k["buyers"])),
        ("Orders", count(k["orders"])),
        ("Net revenue", money(k["net_revenue"], currency)),
        ("Gross sales (before returns)", money(k["gross_revenue"], currency)),
        ("Average order value (before returns)", money(k["avg_order_value"], currency, 2)),
        ("First order", k["first_order"]),
        ("Latest order", k["last_order"]),
    ]
    return env.get_template("report.html.j2").render(
        title=title,
        version=shopseg.__version__,
        generated_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        workspace=source,
        features=features or {},
        currency=currency,
        other_currencies=_other_currencies(executive),
        kpis=kpis,
        executive=_executive_view(executive) if executive else None,
        predictions_note=_predictions_note(summary, currency),
        sections=build_sections(summary.sections, currency, terms, summary.notes),
        terms=terms,
        plotly_js=get_plotlyjs(),
    )


def _other_currencies(executive: ExecutiveSummary | None) -> str:
    if not executive or len(executive.currencies) < 2:
        return ""
    return ", ".join(f"{c} {pct(s, 0)}" for c, s in executive.currencies.items())


def _executive_view(e: ExecutiveSummary) -> dict[str, Any]:
    """The executive summary's figures as the text the page shows."""
    cur = e.currency
    cards = [
        {
            "key": h.key,
            "kind": h.kind,
            "label": h.label,
            "value": money(h.value, cur, 2 if h.key == "avg_order_value" else 0)
            if h.kind == "money"
            else count(h.value),
            "previous": money(h.previous, cur, 2 if h.key == "avg_order_value" else 0)
            if h.kind == "money"
            else count(h.previous),
            "change": change(h.change),
            "direction": "up" if (h.change or 0) > 0 else "down" if (h.change or 0) < 0 else "flat",
        }
        for h in e.headlines
    ]
    risk = None
    if e.at_risk:
        r = e.at_risk
        risk = {
            "revenue": money(r["net_revenue_last_12_months"], cur),
            "gross": money(r["gross_sales_last_12_months"], cur),
            "customers": count(r["customers"]),
            "share": pct(r["share_of_buyers"]),
            "clv": money(r["predicted_clv"], cur),
            "threshold": pct(r["threshold"], 0),
        }
    moves = [
        {
            **m,
            "change_text": f"{'+' if m['change'] > 0 else '−'}{abs(m['change']):,}",
            "before": count(m["before"]),
            "after": count(m["after"]),
        }
        for m in e.movements
    ]
    actions = [
        {
            **a,
            "title": a["what"].split(": ", 1)[0] if ": " in a["what"] else a["action"].replace("_", " ").capitalize(),
            "what": a["what"].split(": ", 1)[-1],
            "customers": count(a["customers"]),
            "value": money(a["value"], cur) if a["value"] is not None else "-",
        }
        for a in e.actions
    ]
    return {
        "start": e.period_start,
        "end": e.period_end,
        "days": e.period_days,
        "cards": cards,
        "risk": risk,
        "movements": moves,
        "movement_dates": e.movement_dates,
        "actions": actions,
    }


def _predictions_note(summary: StoreSummary, currency: str | None) -> str:
    p = summary.predictions
    if not p:
        return ""
    return (
        f"{count(p['buyers'])} buyers · total CLV {money(p['clv'], currency)} (model parameter band "
        f"{money(p['clv_param_p10'], currency)} to {money(p['clv_param_p90'], currency)}) · mean probability of "
        f"being still active {pct(p['p_alive'])} · as of {p.get('as_of') or '-'}, horizon "
        f"{p.get('horizon_days') or '-'} days{_caveat(p)}"
    )


def _caveat(p: dict[str, Any]) -> str:
    """What the predictions' ``uncertainty`` flag says, in the report's words (``predict run`` prints it too)."""
    if p.get("uncertainty") == "fallback":
        return f" · flagged, read with care: {p.get('fallback') or 'the models fell back to defaults'}"
    if p.get("uncertainty") == "small_store":
        return " · few buyers: the models' parameters are uncertain, read the figures as rough"
    return ""
