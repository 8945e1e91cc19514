"""Issue 20 item 5: every money axis of the figures names the store's currency; every legend sits under the plot.

Each builder of :mod:`shopseg.reports.figures` is built from a small frame (a
table below covers ``figures.__all__``, so a new figure cannot be left out), with
``currency="GBP"`` where it shows money. Every title on an axis or a colour bar
that speaks of money (revenue, CLV, order value) must name GBP.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import pytest

from shopseg.reports import figures
from shopseg.reports.regions import METRICS

_SEGMENTS = pd.DataFrame({"segment": ["Champions", "At risk"], "share": [0.3, 0.7], "revenue_share": [0.6, 0.4]})
_GRID = pd.DataFrame(
    {
        "r_score": [1, 5],
        "f_score": [1, 5],
        "customers": [10, 4],
        "segment": ["Lost", "Champions"],
        "mean_revenue": [20.0, 900.0],
    }
)
_HISTORY = pd.DataFrame({"as_of": ["2025-01-01", "2025-02-01"], "size": [10, 12], "entered": [10, 3], "left": [0, 1]})
_PROFILES = pd.DataFrame(
    {"cluster": [0, 1], "cluster_name": ["Big", "Small"], "recency_z": [1.0, -1.0], "monetary_value_z": [0.5, -0.5]}
)
_CLV = pd.DataFrame({"low": [1.0, 10.0], "high": [10.0, 100.0], "customers": [5, 7]})
_RISK = pd.DataFrame({"churn_risk": ["low", "high"], "customers": [8, 2], "clv_at_stake": [1200.0, 300.0]})
_CALIBRATION = pd.DataFrame({"group": ["0", "1"], "actual_mean": [0.1, 0.5], "predicted_mean": [0.2, 0.4]})
_CELLS = pd.DataFrame(
    {
        "region": ["North", "North", "South", "South"],
        "category": ["Shoes", "Bags", "Shoes", "Bags"],
        **{m: [1.0, 2.0, 3.0, 4.0] for m in METRICS},
    }
)
_TREND = pd.DataFrame(
    {"region": ["North", "North", "South"], "period": ["Q1", "Q2", "Q1"], "revenue": [10.0, 20.0, 5.0]}
)
_LIFTS = pd.DataFrame(
    {
        "variant": ["B"],
        "lift": [0.02],
        "lift_low": [0.01],
        "lift_high": [0.03],
        "revenue_lift": [4.0],
        "revenue_low": [1.0],
        "revenue_high": [7.0],
    }
)

_MONTHLY = pd.DataFrame(
    {"month": pd.to_datetime(["2025-01-01", "2025-02-01"]), "orders": [3, 1], "revenue": [120.0, 30.0]}
    | {"days": [31, 9], "partial": [False, True]}
)

# every builder with the arguments of one figure (money builders get currency="GBP" below)
BUILDS: dict[str, list[tuple[Any, ...]]] = {
    "bar_chart": [(["2025-01"], [1234.0], {"y_title": "Revenue"})],
    "monthly_chart": [(_MONTHLY,)],
    "share_chart": [(_SEGMENTS,)],
    "rfm_heatmap": [(_GRID,)],
    "history_chart": [(_HISTORY,)],
    "cluster_bars": [(_PROFILES,)],
    "clv_histogram": [(_CLV,)],
    "risk_bands": [(_RISK,)],
    "calibration_chart": [(_CALIBRATION,)],
    "region_category_heatmap": [(_CELLS, m) for m in METRICS],
    "region_trend": [(_TREND,)],
    "lift_chart": [(_LIFTS,)],
    "revenue_lift_chart": [(_LIFTS,)],
}
_MONEY_WORDS = re.compile(r"revenue|sales|\bclv\b|order value", re.IGNORECASE)
_NOT_MONEY = re.compile(r"index|share|%", re.IGNORECASE)


def _build(name: str, args: tuple[Any, ...]) -> go.Figure:
    build: Callable[..., go.Figure] = getattr(figures, name)
    kwargs = dict(args[-1]) if args and isinstance(args[-1], dict) else {}
    positional = args[:-1] if kwargs else args
    if "currency" in inspect.signature(build).parameters:
        kwargs["currency"] = "GBP"
    return build(*positional, **kwargs)


def _titles(fig: go.Figure) -> list[str]:
    """Every axis title and colour bar title of a figure."""
    layout = fig.to_plotly_json()["layout"]
    out = [
        str(v["title"]["text"])
        for k, v in layout.items()
        if re.fullmatch(r"[xy]axis\d*", k) and isinstance(v.get("title"), dict) and v["title"].get("text")
    ]
    for trace in fig.to_plotly_json()["data"]:
        title = (trace.get("colorbar") or {}).get("title") or {}
        if title.get("text"):
            out.append(str(title["text"]))
    return out


def test_the_table_covers_every_figure() -> None:
    assert set(BUILDS) == set(figures.__all__)


def test_every_money_axis_title_names_the_currency() -> None:
    money_titles = []
    for name, calls in BUILDS.items():
        for args in calls:
            for title in _titles(_build(name, args)):
                if _MONEY_WORDS.search(title) and not _NOT_MONEY.search(title):
                    money_titles.append((name, title))
    unnamed = [(name, title) for name, title in money_titles if "GBP" not in title]
    assert not unnamed, f"money axis titles without the currency: {unnamed}"
    # the money axes this test knows of: monthly revenue, CLV bins, revenue/AOV/CLV colour bars, regional trend,
    # revenue lift; none may go missing from the scan
    assert {name for name, _ in money_titles} >= {
        "bar_chart",
        "monthly_chart",
        "clv_histogram",
        "region_category_heatmap",
        "region_trend",
        "revenue_lift_chart",
    }, money_titles


@pytest.mark.parametrize(
    ("name", "args", "where", "expected"),
    [
        ("bar_chart", (["2025-01"], [1234.0], {"y_title": "Revenue"}), "yaxis", "Revenue (GBP)"),
        ("region_trend", (_TREND,), "yaxis", "Gross sales (GBP)"),
        ("monthly_chart", (_MONTHLY,), "yaxis", "Gross sales (GBP)"),
        ("clv_histogram", (_CLV,), "xaxis", "Predicted CLV (GBP), bins on a log scale"),
        ("revenue_lift_chart", (_LIFTS,), "yaxis", "Lift in revenue per customer (GBP)"),
        ("region_category_heatmap", (_CELLS, "aov"), "colorbar", "Average order value (before returns, GBP)"),
        ("region_category_heatmap", (_CELLS, "revenue_index"), "colorbar", "Revenue index"),
        ("lift_chart", (_LIFTS,), "yaxis", "Lift against control"),
    ],
)
def test_axis_titles_read(name: str, args: tuple[Any, ...], where: str, expected: str) -> None:
    fig = _build(name, args)
    got = fig.data[0].colorbar.title.text if where == "colorbar" else fig.layout[where].title.text
    assert got == expected


def test_money_hovers_name_the_currency() -> None:
    assert "CLV (GBP)" in _build("risk_bands", (_RISK,)).data[0].hovertemplate
    assert "mean net revenue (GBP)" in _build("rfm_heatmap", (_GRID,)).data[0].hovertemplate


def test_every_legend_sits_under_the_plot_in_rows() -> None:
    """One shared legend (figures.LEGEND): horizontal, anchored at the foot of the figure, not over the plot."""
    for name, calls in BUILDS.items():
        legend = _build(name, calls[0]).layout.legend
        assert legend.orientation == "h", name
        assert legend.yref == "container" and legend.y == 0 and legend.yanchor == "bottom", name


def test_the_report_draws_with_the_shared_legend_and_config() -> None:
    from shopseg.reports.sections import chart_html

    fig = go.Figure(go.Bar(x=["a"], y=[1], name="one"))
    fig.add_bar(x=["a"], y=[2], name="two")
    html = chart_html(fig, "Title", "x", "y")
    assert '"displayModeBar": "hover"' in html
    assert fig.layout.legend.yref == "container" and fig.layout.legend.orientation == "h"
