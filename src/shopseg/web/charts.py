"""The dashboard"s figures as JSON: :mod:`shopseg.reports.figures`, serialised for ``data-figure`` attributes.

Pages put the JSON (``data``, ``layout`` and the shared ``config``,
:data:`shopseg.reports.figures.CONFIG`) in a ``data-figure`` attribute and
``dashboard.js`` draws it with the plotly.js that the app serves from the
installed ``plotly`` package.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from shopseg.reports import figures

__all__ = list(figures.__all__)  # the same charts, as JSON


def _as_json(build: Callable[..., Any]) -> Callable[..., str]:
    def chart(*args: Any, **kwargs: Any) -> str:
        figure = json.loads(build(*args, **kwargs).to_json())
        return json.dumps({**figure, "config": figures.CONFIG})

    chart.__name__ = build.__name__
    chart.__doc__ = build.__doc__
    return chart


bar_chart = _as_json(figures.bar_chart)
monthly_chart = _as_json(figures.monthly_chart)
share_chart = _as_json(figures.share_chart)
rfm_heatmap = _as_json(figures.rfm_heatmap)
history_chart = _as_json(figures.history_chart)
cluster_bars = _as_json(figures.cluster_bars)
clv_histogram = _as_json(figures.clv_histogram)
risk_bands = _as_json(figures.risk_bands)
calibration_chart = _as_json(figures.calibration_chart)
region_category_heatmap = _as_json(figures.region_category_heatmap)
region_trend = _as_json(figures.region_trend)
lift_chart = _as_json(figures.lift_chart)
revenue_lift_chart = _as_json(figures.revenue_lift_chart)
