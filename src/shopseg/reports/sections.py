"""The report's sections after the executive summary: one titled chart per figure (axis units said), a table
with human column labels, and a note in plain words.

Each builder takes the aggregate frames of :func:`shopseg.reports.summary.summarize_store` and returns
:class:`Section` objects; the template lays them out.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from shopseg.reports import figures
from shopseg.reports._format import REGION_LABELS, cell, column_digits, inline_code, label

__all__ = ["Section", "build_sections", "table_html"]

_CHART_HEIGHT = 380


@dataclass
class Section:
    """One section: an id for links, a title, its charts (HTML), a table (HTML) and a note (HTML)."""

    id: str
    title: str
    charts: list[str] = field(default_factory=list)
    table: str | None = None
    note: str = ""


def chart_html(fig: go.Figure, title: str, x_title: str, y_title: str, height: int | None = None) -> str:
    """A plotly figure with its title and axis titles, as an HTML fragment that resizes with the page; the
    dashboard's legend and config (:data:`figures.LEGEND`, :data:`figures.CONFIG`)."""
    fig.update_layout(
        title={"text": title, "x": 0, "xanchor": "left", "font": {"size": 15}},
        xaxis_title=x_title,
        yaxis_title=y_title,
        margin={"l": 60, "r": 20, "t": 60, "b": 90},
        template="plotly_white",
        legend=figures.LEGEND,
        autosize=True,
    )
    if height:
        fig.update_layout(height=height)
    return str(
        fig.to_html(
            full_html=False,
            include_plotlyjs=False,
            default_width="100%",
            config=figures.CONFIG,
        )
    )


def table_html(df: pd.DataFrame, currency: str | None, labels: dict[str, str] | None = None) -> str:
    """``df`` as an HTML table with human labels (``labels`` first, for a column that means something else here),
    each column's numbers with the same decimals, inside a wrapper that scrolls when the page is narrow."""
    labels = labels or {}
    numeric = {c: pd.api.types.is_numeric_dtype(df[c]) for c in df.columns}
    digits = {c: column_digits(df[c]) if numeric[c] else None for c in df.columns}
    head = "".join(
        f'<th class="{"num" if numeric[c] else ""}">{html.escape(labels.get(str(c)) or label(str(c)))}</th>'
        for c in df.columns
    )
    rows = []
    for rec in df.itertuples(index=False):
        cells = "".join(
            f'<td class="{"num" if numeric[c] else ""}">{cell(v, str(c), currency, digits[c])}</td>'
            for c, v in zip(df.columns, rec, strict=True)
        )
        rows.append(f"<tr>{cells}</tr>")
    return f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>'


def build_sections(
    frames: dict[str, pd.DataFrame],
    currency: str | None,
    meta: dict[str, Any],
    notes: dict[str, str] | None = None,
) -> list[Section]:
    """Every section the frames allow, in reading order; ``notes``: :attr:`StoreSummary.notes` (``rfm``: why a
    dimension uses fewer scores, ``countries``: what 'unknown' means)."""
    unit = f" ({currency})" if currency else ""
    notes = notes or {}
    return _store_sections(frames, currency, unit, notes) + _model_sections(frames, currency, unit, meta)


def partial_month_note(monthly: pd.DataFrame) -> str:
    """Which months the data covers only in part (``monthly_revenue``'s ``partial``), in words."""
    if "partial" not in monthly:
        return ""
    parts = [
        f"{pd.Timestamp(r.month).strftime('%b %Y')} has {int(r.days)} day{'s' if int(r.days) != 1 else ''} of data"
        for r in monthly[monthly["partial"].astype(bool)].itertuples()
    ]
    if not parts:
        return ""
    return "Partial month (lighter, hatched bar): " + "; ".join(parts) + ", so it is not comparable with a full month."


def rfm_table(df: pd.DataFrame) -> pd.DataFrame:
    """The RFM segment table as shown: its per-customer means named as such."""
    return df.rename(columns={"orders": "mean_orders"})


def _store_sections(
    frames: dict[str, pd.DataFrame], currency: str | None, unit: str, notes: dict[str, str]
) -> list[Section]:
    out: list[Section] = []
    if "monthly" in frames:
        df = frames["monthly"]
        fig = figures.monthly_chart(df, currency)
        title = figures.MONTHLY_TITLE
        chart = chart_html(fig, title, "Month", f"Gross sales{unit}")
        note = "Gross sales: purchases before returns (see Definitions). " + partial_month_note(df)
        out.append(Section("revenue", title, [chart], note=html.escape(note.strip())))
    if "rfm_segments" in frames:
        df = rfm_table(frames["rfm_segments"])
        fig = go.Figure()
        fig.add_bar(x=df["segment"], y=df["share"] * 100, name="Share of customers", marker_color="#486581")
        fig.add_bar(x=df["segment"], y=df["revenue_share"] * 100, name="Share of net revenue", marker_color="#f0b429")
        fig.update_layout(barmode="group")
        title = "Customers and net revenue by RFM segment (%)"
        out.append(
            Section(
                "rfm",
                "RFM segments",
                [chart_html(fig, title, "RFM segment", "Share (%)", 420)],
                table_html(df, currency),
                "Each buyer gets a score from 1 to 5 for how recently (R), how often (F) and how much (M) they "
                "bought, by quintiles of the store's own buyers; the named segments group score combinations. "
                "Revenue here is net of returns.",
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
                colorbar={"title": "Customers"},
            )
        )
        out.append(
            Section(
                "rfm-grid",
                "RFM grid",
                [
                    chart_html(
                        fig,
                        "Customers by recency and frequency score",
                        "Frequency score (F1 fewest orders, F5 most)",
                        "Recency score (R1 longest ago, R5 latest)",
                    )
                ],
                note=_rfm_grid_note(notes.get("rfm", "")),
            )
        )
    if "lifecycle" in frames:
        df = frames["lifecycle"]
        fig = go.Figure(go.Bar(x=df["stage"], y=df["customers"], marker_color="#2cb1bc"))
        out.append(
            Section(
                "lifecycle",
                "Lifecycle stages",
                [chart_html(fig, "Customers by lifecycle stage", "Lifecycle stage", "Customers")],
                table_html(df, currency),
                "Stages follow the gaps between purchase days in this store (see Definitions).",
            )
        )
    if "countries" in frames:
        df = frames["countries"]
        fig = go.Figure(go.Bar(x=df["country"], y=df["revenue"], marker_color="#829ab1"))
        out.append(
            Section(
                "countries",
                "Top countries by net revenue",
                [chart_html(fig, "Net revenue by country (top 12)", "Country", f"Net revenue{unit}")],
                table_html(df, currency),
                html.escape(notes.get("countries", "")),
            )
        )
    return out


def _rfm_grid_note(rfm_notes: str) -> str:
    """What ``shopseg rfm`` noted (a dimension with fewer scores than bins: a missing F2 column), as HTML."""
    lines = [line.strip() for line in rfm_notes.split("\n") if line.strip()]
    return "<br>".join(html.escape(f"Note: {line}") for line in lines)


def cluster_labels(profiles: pd.DataFrame) -> dict[str, str]:
    """Headers of the cluster profile table: its feature columns hold each cluster's median (numbers) or most
    common value (text), not means."""
    fixed = {"cluster", "cluster_name", "customers", "share", "revenue_share", "named_by", "degenerate"}
    out = {}
    for c in profiles.columns:
        if c in fixed or c.endswith(("_z", "_mode_share")):
            continue
        words = label(c)
        words = words[:1].lower() + words[1:] if not words[1:2].isupper() else words
        out[c] = f"{'Median' if pd.api.types.is_numeric_dtype(profiles[c]) else 'Most common'} {words}"
    return out


def _model_sections(
    frames: dict[str, pd.DataFrame], currency: str | None, unit: str, meta: dict[str, Any]
) -> list[Section]:
    out: list[Section] = []
    if "saved_segments" in frames:
        df = frames["saved_segments"]
        charts = []
        if df["size"].notna().any():
            total = frames["rfm_segments"]["customers"].sum() if "rfm_segments" in frames else df["size"].max()
            fig = figures.share_chart(df.assign(share=df["size"].fillna(0) / max(float(total), 1.0)), "name")
            charts.append(
                chart_html(fig, "Customers and net revenue by saved segment (%)", "Saved segment", "Share (%)")
            )
        out.append(
            Section(
                "saved-segments",
                "Saved segments",
                charts,
                table_html(df.drop(columns=[c for c in ("error",) if c in df and df[c].isna().all()]), currency),
                inline_code("Members on the latest snapshot date (taken by `shopseg segment refresh`)."),
            )
        )
    if "clv_hist" in frames:
        horizon = meta.get("horizon_days") or "the horizon's"
        charts = [
            chart_html(
                figures.clv_histogram(frames["clv_hist"], currency),
                "Buyers by predicted customer lifetime value",
                f"Predicted CLV over the next {horizon} days{unit}",
                "Buyers",
            ),
            chart_html(
                figures.risk_bands(frames["churn_risk"], currency), "Buyers by churn risk", "Churn risk band", "Buyers"
            ),
        ]
        table = frames["clv_by_segment"] if "clv_by_segment" in frames else frames["churn_risk"]
        out.append(
            Section(
                "predictions",
                "Predictions: customer lifetime value and churn risk",
                charts,
                table_html(table, currency),
                "Churn risk bands: low below 50%, medium from 50% to 80%, high from 80% probability of no purchase "
                "in the churn window (see Definitions).",
            )
        )
    if "clusters" in frames:
        df = frames["clusters"]
        plain = [c for c in df.columns if not c.endswith("_z") and not c.endswith("_mode_share")]
        fig = figures.cluster_bars(df)
        fig.update_xaxes(
            ticktext=[label(c[:-2]) for c in df.columns if c.endswith("_z")],
            tickvals=[c[:-2] for c in df.columns if c.endswith("_z")],
        )
        out.append(
            Section(
                "clusters",
                "Clusters",
                [
                    chart_html(
                        fig,
                        "How each cluster differs from all customers",
                        "Feature",
                        "Standard deviations from the mean",
                        440,
                    )
                ],
                table_html(df[plain], currency, cluster_labels(df[plain])),
                "Bars: how far each cluster's mean sits from all customers' mean, in standard deviations; "
                "table: each cluster's median (the most common value for text).",
            )
        )
    if "region_category" in frames and not frames["region_category"].empty:
        out.append(_regions_section(frames["region_category"], frames.get("region_top"), currency))
    return out


def region_gap(cells: pd.DataFrame) -> str:
    """Why a region x category heat map would say nothing (every region, or every category, 'unknown': the
    index is 1 everywhere), with the command that does; "" when it can be drawn."""
    regions, categories = set(cells["region"]) <= {"unknown"}, set(cells["category"]) <= {"unknown"}
    if not (regions or categories):
        return ""
    missing = " and ".join(
        w for w, gone in (("no customer regions", regions), ("no product categories", categories)) if gone
    )
    hint = " By country: `shopseg report regions --level country`." if regions else ""
    return f"The store's data has {missing}: every order falls under 'unknown', so there is no map to draw.{hint}"


def region_table(top: pd.DataFrame) -> pd.DataFrame:
    """The top segment x region x category rows as shown: most gross sales first; a region or category column
    that is 'unknown' throughout is left out, and then the revenue index too (1 everywhere)."""
    df = top.sort_values("revenue", ascending=False, kind="stable").reset_index(drop=True)
    blank = [c for c in ("region", "category") if c in df and set(df[c]) <= {"unknown"}]
    return df.drop(columns=[*blank, *(["revenue_index"] if blank and "revenue_index" in df else [])])


def _regions_section(cells: pd.DataFrame, top: pd.DataFrame | None, currency: str | None) -> Section:
    gap = region_gap(cells)
    charts = []
    if not gap:
        fig = figures.region_category_heatmap(cells)
        fig.update_traces(colorbar={"title": "Index"})
        charts.append(chart_html(fig, "Revenue index by region and product category", "Product category", "Region"))
    table = table_html(region_table(top), currency, REGION_LABELS) if top is not None and not top.empty else None
    text = (
        f"{gap} "
        if gap
        else "Revenue index: the category's share of the region's gross sales over its share of all "
        "gross sales (above 1 it does better there, below 1 it lags). "
    )
    text += (
        f"Table: the {len(top) if top is not None else 0} segment, region and category combinations with the most "
        "gross sales (purchases before returns), most first; orders are the combination's orders in total. "
        "Over time: `shopseg report regions`."
    )
    return Section("regions", "Regions and product categories", charts, table, inline_code(text))
