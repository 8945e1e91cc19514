"""Plotly figures of the report and the dashboard, built from small aggregate frames.

Each function returns a :class:`plotly.graph_objects.Figure` with its layout
set. The HTML report embeds them (``fig.to_html``); the dashboard ships them as
JSON (:mod:`shopseg.web.charts`) and draws them with the plotly.js served from
the installed package. Both draw them with :data:`CONFIG`.

A figure with money on an axis takes the store's ``currency`` and names it in
the axis title (:func:`money_title`). Legends sit under the plot, in rows
(:data:`LEGEND`), where a narrow screen has room for them and the mode bar
(shown on hover, top right) does not cover them.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go

from shopseg.reports._format import MONEY, REGION_LABELS, label

__all__ = [
    "bar_chart",
    "monthly_chart",
    "share_chart",
    "rfm_heatmap",
    "history_chart",
    "cluster_bars",
    "clv_histogram",
    "risk_bands",
    "calibration_chart",
    "region_category_heatmap",
    "region_trend",
    "lift_chart",
    "revenue_lift_chart",
]

#: How every chart is drawn (the dashboard and the report): no logo, resizes with its box, the mode bar on hover.
CONFIG: dict[str, Any] = {"displaylogo": False, "responsive": True, "displayModeBar": "hover"}
#: Every legend: in rows at the foot of the figure (under the x axis, its labels and its title), from the left;
#: plotly widens the bottom margin to make room for it.
LEGEND: dict[str, Any] = {
    "orientation": "h",
    "x": 0,
    "xanchor": "left",
    "yref": "container",
    "y": 0,
    "yanchor": "bottom",
}


def money_title(text: str, currency: str | None) -> str:
    """An axis title for money, naming the currency when it is known.

    >>> money_title("Revenue", "GBP"), money_title("Revenue", None), money_title("Gross sales (before returns)", "GBP")
    ('Revenue (GBP)', 'Revenue', 'Gross sales (before returns, GBP)')
    """
    if currency and text.endswith(")"):
        return f"{text[:-1]}, {currency})"
    return f"{text} ({currency})" if currency else text


_BLUE, _GOLD, _TEAL, _RED, _GREY = "#486581", "#f0b429", "#2cb1bc", "#d64545", "#9fb3c8"


def _layout(fig: go.Figure, height: int = 340, title: str = "", **layout: Any) -> go.Figure:
    if title:
        layout["title"] = {"text": title, "x": 0, "xanchor": "left", "font": {"size": 14}}
    fig.update_layout(
        height=height,
        separators=".,",
        margin={"l": 55, "r": 20, "t": 60 if title else 30, "b": 70},
        template="plotly_white",
        legend=LEGEND,
        **layout,
    )
    return fig


def bar_chart(
    x: list[Any],
    y: list[Any],
    *,
    y_title: str = "",
    color: str = _BLUE,
    title: str = "",
    x_title: str = "",
    currency: str | None = None,
) -> go.Figure:
    """One bar series; ``currency``: the bars are money in it (the y title names it)."""
    fig = go.Figure(go.Bar(x=[str(v) for v in x], y=y, marker_color=color))
    y_title = money_title(y_title, currency)
    return _layout(fig, title=title, xaxis_title=x_title, yaxis_title=y_title, yaxis_tickformat=",")


#: The title of the monthly chart: its bars are gross sales (purchases before returns).
MONTHLY_TITLE = "Sales by month (before returns)"


def monthly_chart(monthly: pd.DataFrame, currency: str | None = None) -> go.Figure:
    """Gross sales per month (:func:`shopseg.reports.summary.monthly_revenue`); a month the data covers only
    in part (its ``partial`` flag) is labelled with its days (``Dec 2011 (9 days)``) and drawn lighter and
    hatched, so it is not read as a full month."""
    partial = [bool(p) for p in monthly.get("partial", pd.Series(False, index=monthly.index))]
    days = list(monthly["days"]) if "days" in monthly else [0] * len(monthly)
    x = [
        pd.Timestamp(m).strftime("%b %Y") + (f" ({int(d)} day{'s' if int(d) != 1 else ''})" if p else "")
        for m, d, p in zip(monthly["month"], days, partial, strict=True)
    ]
    fig = go.Figure(
        go.Bar(
            x=x,
            y=monthly["revenue"],
            marker={
                "color": [_GREY if p else _BLUE for p in partial],
                "pattern": {"shape": ["/" if p else "" for p in partial]},
            },
            hovertemplate="%{x}: %{y:,.0f}<extra></extra>",
        )
    )
    return _layout(
        fig,
        title=MONTHLY_TITLE,
        xaxis={"type": "category", "title": "Month"},
        yaxis_title=money_title("Gross sales", currency),
        yaxis_tickformat=",",
    )


def share_chart(df: pd.DataFrame, label: str = "segment") -> go.Figure:
    """Share of customers and share of net revenue per segment (grouped bars, percent)."""
    fig = go.Figure()
    fig.add_bar(x=df[label], y=df["share"] * 100, name="% of customers", marker_color=_BLUE)
    fig.add_bar(x=df[label], y=df["revenue_share"].fillna(0) * 100, name="% of net revenue", marker_color=_GOLD)
    return _layout(fig, barmode="group", yaxis_title="Share (%)", title="Share of customers and of net revenue")


def rfm_heatmap(grid: pd.DataFrame, currency: str | None = None) -> go.Figure:
    """Customers per R x F score, hover: mean revenue and the cell's most common segment."""
    z = grid.pivot_table(index="r_score", columns="f_score", values="customers", fill_value=0)
    seg = grid.pivot_table(index="r_score", columns="f_score", values="segment", aggfunc="first").reindex_like(z)
    rev = grid.pivot_table(index="r_score", columns="f_score", values="mean_revenue").reindex_like(z)
    custom = [
        [[str(s), float(r) if r == r else 0.0] for s, r in zip(srow, rrow, strict=True)]
        for srow, rrow in zip(seg.values, rev.values, strict=True)
    ]
    fig = go.Figure(
        go.Heatmap(
            z=z.values,
            x=[f"F{c}" for c in z.columns],
            y=[f"R{r}" for r in z.index],
            colorscale="Blues",
            text=z.values,
            texttemplate="%{text}",
            customdata=custom,
            hovertemplate="%{y} %{x}: %{z} customers<br>%{customdata[0]}<br>"
            + money_title("mean net revenue", currency)
            + " %{customdata[1]:,.2f}<extra></extra>",
            colorbar={"title": {"text": "Customers"}},
        )
    )
    fig.data[0].text = [
        [
            f"{int(n):,}<br>{s}" if isinstance(s, str) and int(n) else f"{int(n):,}"
            for n, s in zip(zrow, srow, strict=True)
        ]
        for zrow, srow in zip(z.values, seg.values, strict=True)
    ]
    return _layout(
        fig,
        height=440,
        title="Customers by recency and frequency score",
        xaxis_title="Frequency score (F1 fewest orders, F5 most)",
        yaxis_title="Recency score (R1 longest ago, R5 latest)",
    )


def history_chart(history: pd.DataFrame) -> go.Figure:
    """Size over snapshot dates, with customers who entered and left."""
    x = [str(d) for d in history["as_of"]]
    fig = go.Figure()
    fig.add_scatter(x=x, y=history["size"], name="members", mode="lines+markers", line={"color": _BLUE})
    fig.add_bar(x=x, y=history["entered"], name="entered", marker_color=_TEAL)
    fig.add_bar(x=x, y=-history["left"], name="left", marker_color=_RED)
    return _layout(
        fig,
        title="Members per snapshot, with entries and exits",
        barmode="relative",
        yaxis_title="Customers",
        xaxis={"type": "category", "title": "Snapshot date"},
    )


def cluster_bars(profiles: pd.DataFrame) -> go.Figure:
    """Feature z-scores per cluster (how each cluster differs from the average customer)."""
    zcols = [c for c in profiles.columns if c.endswith("_z")]
    fig = go.Figure()
    for _, row in profiles.iterrows():
        fig.add_bar(
            x=[c[:-2] for c in zcols], y=[row[c] for c in zcols], name=f"{row['cluster']}: {row['cluster_name']}"
        )
    fig.update_xaxes(ticktext=[c[:-2].replace("_", " ") for c in zcols], tickvals=[c[:-2] for c in zcols])
    return _layout(
        fig,
        height=440,
        title="How each cluster differs from all customers",
        barmode="group",
        xaxis_title="Feature",
        yaxis_title="Standard deviations from the mean",
    )


def clv_histogram(hist: pd.DataFrame, currency: str | None = None) -> go.Figure:
    """Buyers per CLV bin (log-spaced bins); the x title names ``currency``."""
    labels = [f"{_edge(lo)} to {_edge(hi)}" for lo, hi in zip(hist["low"], hist["high"], strict=True)]
    return _layout(
        go.Figure(go.Bar(x=labels, y=hist["customers"], marker_color=_BLUE)),
        title="Buyers by predicted customer lifetime value",
        xaxis_title=money_title("Predicted CLV", currency) + ", bins on a log scale",
        yaxis_title="Buyers",
    )


def _edge(value: float) -> str:
    """A bin edge a reader can tell from its neighbours: cents below 10, whole units above."""
    return f"{value:,.2f}" if value < 10 else f"{value:,.0f}"


def risk_bands(risk: pd.DataFrame, currency: str | None = None) -> go.Figure:
    """Buyers and CLV at stake (in ``currency``, on hover) per churn risk band."""
    colors = {"low": _TEAL, "medium": _GOLD, "high": _RED}
    fig = go.Figure(
        go.Bar(
            x=risk["churn_risk"],
            y=risk["customers"],
            marker_color=[colors.get(r, _GREY) for r in risk["churn_risk"]],
            customdata=risk["clv_at_stake"],
            hovertemplate="%{x}: %{y} buyers, " + money_title("CLV", currency) + " %{customdata:,.0f}<extra></extra>",
        )
    )
    return _layout(fig, title="Buyers by churn risk band", xaxis_title="Churn risk band", yaxis_title="Buyers")


def calibration_chart(groups: pd.DataFrame) -> go.Figure:
    """Backtest: mean actual vs predicted holdout purchases per calibration-frequency group."""
    fig = go.Figure()
    fig.add_scatter(
        x=groups["group"], y=groups["actual_mean"], name="actual", mode="lines+markers", line={"color": _BLUE}
    )
    fig.add_scatter(
        x=groups["group"], y=groups["predicted_mean"], name="BG/NBD", mode="lines+markers", line={"color": _GOLD}
    )
    if "naive_mean" in groups:
        fig.add_scatter(
            x=groups["group"], y=groups["naive_mean"], name="naive", mode="lines", line={"color": _GREY, "dash": "dot"}
        )
    return _layout(
        fig,
        title="Backtest: actual and predicted purchases in the holdout",
        xaxis_title="Repeat purchase days in calibration",
        yaxis_title="Mean purchases in the holdout",
    )


def region_category_heatmap(df: pd.DataFrame, value: str = "revenue_index", currency: str | None = None) -> go.Figure:
    """Regions x categories coloured by ``value`` (revenue index: 1 = as in the whole store); a money value's
    colour bar names ``currency``. The breakdown's ``revenue`` is gross sales (:data:`REGION_LABELS`)."""
    z = df.pivot_table(index="region", columns="category", values=value)
    if (
        "revenue" in df
    ):  # largest region at the top (plotly draws the first row at the bottom), categories from the left
        by_region = df.groupby("region")["revenue"].sum().sort_values()
        by_category = df.groupby("category")["revenue"].sum().sort_values(ascending=False)
        z = z.reindex(index=list(by_region.index), columns=list(by_category.index))
    fig = go.Figure(
        go.Heatmap(
            z=z.values,
            x=list(z.columns),
            y=list(z.index),
            colorscale="RdBu",
            zmid=1.0 if value == "revenue_index" else None,
            hovertemplate="%{y} · %{x}: %{z:,.2f}<extra></extra>",
            colorbar={"title": {"text": _value_title(value, currency)}},
        )
    )
    return _layout(fig, height=max(360, 18 * len(z.index) + 120), xaxis_title="Product category", yaxis_title="Region")


def _value_title(value: str, currency: str | None) -> str:
    text = REGION_LABELS.get(value) or label(value)
    return money_title(text, currency) if value in MONEY else text


def region_trend(df: pd.DataFrame, top: int = 8, currency: str | None = None) -> go.Figure:
    """Gross sales (in ``currency``, before returns) per period of the ``top`` regions by it (one line each)."""
    best = df.groupby("region")["revenue"].sum().nlargest(top).index
    fig = go.Figure()
    for region in best:
        part = df[df["region"] == region].sort_values("period")
        fig.add_scatter(x=[str(p) for p in part["period"]], y=part["revenue"], name=str(region), mode="lines+markers")
    return _layout(
        fig,
        height=380,
        title="Gross sales per quarter, top regions",
        xaxis_title="Quarter",
        yaxis_title=money_title("Gross sales", currency),
    )


def lift_chart(
    rows: pd.DataFrame,
    *,
    value: str = "lift",
    low: str = "lift_low",
    high: str = "lift_high",
    title: str = "conversion lift vs control",
    y_title: str = "Lift against control",
) -> go.Figure:
    """Lift per non-control variant with its confidence interval (error bars) and the zero line."""
    rows = rows.dropna(subset=[value, low, high])
    fig = go.Figure(
        go.Scatter(
            x=rows["variant"],
            y=rows[value].astype(float),
            mode="markers",
            marker={"size": 11, "color": _BLUE},
            error_y={
                "type": "data",
                "symmetric": False,
                "array": (rows[high] - rows[value]).astype(float),
                "arrayminus": (rows[value] - rows[low]).astype(float),
            },
        )
    )
    fig.add_hline(y=0, line_dash="dot", line_color=_GREY)
    return _layout(fig, height=320, title=title.capitalize(), xaxis_title="Group", yaxis_title=y_title)


def revenue_lift_chart(rows: pd.DataFrame, currency: str | None = None) -> go.Figure:
    """Revenue per customer lift (money, in ``currency``) per non-control variant, with its interval."""
    return lift_chart(
        rows,
        value="revenue_lift",
        low="revenue_low",
        high="revenue_high",
        title="revenue per customer lift",
        y_title=money_title("Lift in revenue per customer", currency),
    )
