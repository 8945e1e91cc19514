"""`shopseg report`: one self-contained HTML file (charts and plotly.js embedded).

The file opens offline: plotly.js is read from the installed ``plotly`` package
and inlined once; there is no CDN link and no customer-level data in it.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import plotly.graph_objects as go
from jinja2 import Environment, PackageLoader, select_autoescape

from shopseg.reports.summary import StoreSummary, summarize_store

if TYPE_CHECKING:
    from shopseg.workspace import Workspace

__all__ = ["render_report", "write_report"]

_CHART_HEIGHT = 380


@dataclass
class _Section:
    id: str
    title: str
    charts: list[str] = field(default_factory=list)
    table: str | None = None
    note: str = ""


def write_report(workspace: Workspace, path: str | Path | None = None, *, title: str = "shopseg report") -> Path:
    """Write the HTML report of ``workspace`` to ``path`` and return the path.

    Parameters
    ----------
    workspace : Workspace
        An open workspace; sections appear for what has been built (features, RFM, lifecycle).
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
    out.write_text(render_report(summarize_store(workspace), title=title, source=workspace.path.name), encoding="utf-8")
    return out


def render_report(summary: StoreSummary, *, title: str = "shopseg report", source: str = "") -> str:
    """Render a :class:`StoreSummary` as a standalone HTML page."""
    from plotly.offline import get_plotlyjs

    import shopseg

    env = Environment(loader=PackageLoader("shopseg.reports", "templates"), autoescape=select_autoescape())
    k = summary.kpis
    kpis = [
        ("Customers", f"{k['customers']:,}"),
        ("Buyers", f"{k['buyers']:,}"),
        ("Orders", f"{k['orders']:,}"),
        ("Revenue", f"{k['revenue']:,.0f}"),
        ("Avg order value", f"{k['avg_order_value']:,.2f}"),
        ("Orders from", k["first_order"]),
        ("Orders to", k["last_order"]),
    ]
    return env.get_template("report.html.j2").render(
        title=title,
        version=shopseg.__version__,
        generated_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        workspace=source,
        features_note=summary.notes.get("features", ""),
        predictions_note=summary.notes.get("predictions", ""),
        kpis=kpis,
        sections=_sections(summary.sections),
        plotly_js=get_plotlyjs(),
    )


def _sections(frames: dict[str, pd.DataFrame]) -> list[_Section]:
    out: list[_Section] = []
    if "monthly" in frames:
        df = frames["monthly"]
        fig = go.Figure(go.Bar(x=df["month"].astype(str), y=df["revenue"], name="revenue", marker_color="#486581"))
        out.append(_Section("revenue", "Revenue by month", [_chart(fig, "Revenue")]))
    if "rfm_segments" in frames:
        df = frames["rfm_segments"]
        fig = go.Figure()
        fig.add_bar(x=df["segment"], y=df["share"] * 100, name="% of customers", marker_color="#486581")
        fig.add_bar(x=df["segment"], y=df["revenue_share"] * 100, name="% of revenue", marker_color="#f0b429")
        fig.update_layout(barmode="group")
        out.append(
            _Section(
                "rfm",
                "RFM segments",
                [_chart(fig, "Share of customers and of revenue (%)")],
                _table(df),
                "Quintile scores R (recency), F (frequency), M (monetary); ties broken by customer id.",
            )
        )
    if "rfm_grid" in frames:
        grid = frames["rfm_grid"].pivot_table(index="r_score", columns="f_score", values="customers", fill_value=0)
        fig = go.Figure(
            go.Heatmap(
                z=grid.values,
                x=[f"F{c}" for c in grid.columns],
                y=[f"R{r}" for r in grid.index],
                colorscale="Blues",
                text=grid.values,
                texttemplate="%{text}",
            )
        )
        out.append(_Section("rfm-grid", "RFM grid (customers by R and F score)", [_chart(fig, "")]))
    if "lifecycle" in frames:
        df = frames["lifecycle"]
        fig = go.Figure(go.Bar(x=df["stage"], y=df["customers"], marker_color="#2cb1bc"))
        out.append(_Section("lifecycle", "Lifecycle stages", [_chart(fig, "Customers")], _table(df)))
    if "countries" in frames:
        df = frames["countries"]
        fig = go.Figure(go.Bar(x=df["country"], y=df["revenue"], marker_color="#829ab1"))
        out.append(_Section("countries", "Top countries by revenue", [_chart(fig, "Revenue")], _table(df)))
    return out + _extended_sections(frames)


def _extended_sections(frames: dict[str, pd.DataFrame]) -> list[_Section]:
    from shopseg.reports import figures

    out: list[_Section] = []
    if "saved_segments" in frames:
        df = frames["saved_segments"]
        charts = []
        if df["size"].notna().any():
            total = frames["rfm_segments"]["customers"].sum() if "rfm_segments" in frames else df["size"].max()
            charts.append(
                _fig(figures.share_chart(df.assign(share=df["size"].fillna(0) / max(float(total), 1.0)), "name"))
            )
        out.append(
            _Section(
                "saved-segments",
                "Saved segments",
                charts,
                _table(df),
                "Sizes from the latest snapshot (`shopseg segment refresh`).",
            )
        )
    if "clv_hist" in frames:
        charts = [_fig(figures.clv_histogram(frames["clv_hist"])), _fig(figures.risk_bands(frames["churn_risk"]))]
        out.append(
            _Section(
                "predictions",
                "Predictions: CLV distribution and churn risk bands",
                charts,
                _table(frames["clv_by_segment"]) if "clv_by_segment" in frames else _table(frames["churn_risk"]),
                "Churn risk: low below 0.5, medium to 0.8, high from 0.8 (P(no purchase in the churn window)).",
            )
        )
    if "clusters" in frames:
        df = frames["clusters"]
        plain = [c for c in df.columns if not c.endswith("_z") and not c.endswith("_mode_share")]
        out.append(
            _Section(
                "clusters",
                "Clusters",
                [_fig(figures.cluster_bars(df))],
                _table(df[plain]),
                "Bars: how far each cluster's mean sits from all customers' (z-score); table: medians.",
            )
        )
    if "region_category" in frames and not frames["region_category"].empty:
        out.append(
            _Section(
                "regions",
                "Regions x product categories",
                [_fig(figures.region_category_heatmap(frames["region_category"]))],
                _table(frames["region_top"]) if "region_top" in frames else None,
                "Revenue index: the category's share of the region's revenue over its share of all revenue "
                "(above 1 it does better there, below 1 it lags). Table: the 20 segment x region x category "
                "cells with the most revenue. Over time: `shopseg report regions`.",
            )
        )
    return out


def _fig(fig: go.Figure) -> str:
    return str(fig.to_html(full_html=False, include_plotlyjs=False, config={"displaylogo": False}))


def _chart(fig: go.Figure, y_title: str) -> str:
    fig.update_layout(
        height=_CHART_HEIGHT, margin={"l": 50, "r": 20, "t": 20, "b": 80}, template="plotly_white", yaxis_title=y_title
    )
    return str(fig.to_html(full_html=False, include_plotlyjs=False, config={"displaylogo": False}))


def _table(df: pd.DataFrame) -> str:
    head = "".join(f'<th class="{_cls(df[c])}">{html.escape(str(c))}</th>' for c in df.columns)
    rows = []
    for rec in df.itertuples(index=False):
        cells = "".join(
            f'<td class="{_cls(df[c])}">{_fmt(v, str(c))}</td>' for c, v in zip(df.columns, rec, strict=True)
        )
        rows.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _cls(col: pd.Series) -> str:
    return "num" if pd.api.types.is_numeric_dtype(col) else ""


def _fmt(value: Any, column: str = "") -> str:
    if isinstance(value, float) and value != value:
        return "-"
    if isinstance(value, float) and column.endswith("share"):
        return f"{100 * value:.1f}%"
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return html.escape(str(value))
