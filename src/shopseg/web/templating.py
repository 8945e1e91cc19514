"""The dashboard's Jinja environment and how its pages write numbers for a reader.

The filters reuse the report's formatting (:mod:`shopseg.reports._format`): money
in the store's currency (the page's ``currency``: setting ``report_currency``, else
the most common ``orders.currency``, :func:`shopseg.reports.executive.store_currency`)
with thousands separators, shares as percentages, column names in words. Times
carry their timezone: the workspace stores them in UTC.

>>> env.from_string("{{ 1234.5 | money }} · {{ 0.178 | pct }} · {{ 'revenue_index' | label }}").render(currency="EUR")
'€1,234 · 17.8% · Revenue index'
>>> when(dt.datetime(2025, 3, 1, 9, 5, 7)), when(dt.date(2025, 3, 1)), when("2025-03-01T09:05:07+01:00")
('2025-03-01 09:05 UTC', '2025-03-01', '2025-03-01 08:05 UTC')
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pandas as pd
from jinja2 import Environment, PackageLoader, pass_context, select_autoescape
from jinja2.runtime import Context
from markupsafe import Markup

from shopseg.reports import _format

__all__ = ["env", "when", "money", "cell", "page_currency"]


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def when(value: Any) -> str:
    """A time as ``YYYY-MM-DD HH:MM UTC`` (stored times are UTC); a date as ``YYYY-MM-DD``; ``-`` when missing."""
    if _missing(value) or value is pd.NaT:
        return "-"
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:  # an offset: the same instant in UTC
            value = value.astimezone(dt.UTC)
        return value.strftime("%Y-%m-%d %H:%M UTC")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


@pass_context
def money(ctx: Context, value: Any, digits: int | None = None) -> str:
    """Money in the page's currency: cents below 1,000, whole units above (``€1,234``, ``€99.50``)."""
    if _missing(value):
        return "-"
    places = digits if digits is not None else (2 if abs(float(value)) < 1000 else 0)
    return _format.money(float(value), ctx.get("currency"), places)


def _num(value: Any, digits: int = 0) -> str:
    return "-" if _missing(value) else f"{value:,.{digits}f}"


@pass_context
def cell(ctx: Context, value: Any, column: str, kind: str | None = None, digits: int | None = None) -> Markup:
    """One table cell, formatted after its column (the report's rules) or ``kind``: pct, points, money, when;
    ``digits``: the column's decimals (:func:`column_digits`), so a column's numbers all read alike."""
    if _missing(value):
        return Markup("-")
    if kind == "pct":
        return Markup.escape(_format.pct(float(value)))
    if kind == "points":  # a difference of two shares, in percentage points
        return Markup.escape(f"{100 * float(value):+.1f} pts")
    if kind == "money":
        return Markup.escape(money(ctx, value))
    if isinstance(value, dt.datetime | dt.date) or kind == "when":
        return Markup.escape(when(value))
    return Markup(_format.cell(value, column, ctx.get("currency"), digits))


def column_digits(df: pd.DataFrame) -> dict[str, int | None]:
    """Each numeric column's decimals (:func:`shopseg.reports._format.column_digits`), for the table macro."""
    return {c: _format.column_digits(df[c]) for c in df.columns if pd.api.types.is_numeric_dtype(df[c])}


env = Environment(
    loader=PackageLoader("shopseg.web", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html", "j2"), default_for_string=True),
)
env.globals["zip"] = zip
env.globals["column_digits"] = column_digits
# the report's column rules, for the cells dashboard.js fills in (on <body>: data-money-columns, data-share-columns)
env.globals["money_columns"] = " ".join(sorted(_format.MONEY))
env.globals["share_columns"] = " ".join(sorted(_format.SHARES))
env.filters.update(
    num=_num,
    pct=lambda v, d=1: _format.pct(None if _missing(v) else float(v), d),
    money=money,
    when=when,
    label=_format.label,
    cell=cell,
)


def page_currency(workspace: Any) -> str | None:
    """The currency the pages show money in (the report's choice: setting, else the most common order currency)."""
    if not workspace.has_table("orders"):
        return None
    from shopseg.reports.executive import store_currency

    return store_currency(workspace)[0]


def churn_bands() -> list[tuple[str, str]]:
    """The churn risk bands in words, from the thresholds ``shopseg predict`` uses."""
    from shopseg.predict.run import CHURN_THRESHOLDS

    low, high = (_format.pct(t, 0) for t in CHURN_THRESHOLDS)
    return [
        ("Low", f"churn probability below {low}"),
        ("Medium", f"from {low} to below {high}"),
        ("High", f"{high} or more"),
    ]


def describe_clusters(profiles: Any) -> list[dict[str, str]]:
    """Each cluster in a sentence: its size and revenue share, and the features where it differs most (z-scores)."""
    if profiles is None:
        return []
    zcols = [c for c in profiles.columns if c.endswith("_z")]
    out = []
    for _, row in profiles.iterrows():
        parts = []
        for c in sorted(zcols, key=lambda c: -abs(float(row[c]) if row[c] == row[c] else 0.0))[:3]:
            z = float(row[c]) if row[c] == row[c] else 0.0
            how = (
                "far above"
                if z >= 1
                else "above"
                if z > 0.25
                else "far below"
                if z <= -1
                else "below"
                if z < -0.25
                else "about"
            )
            parts.append(f"{_format.label(c[:-2]).lower()} {how} average")
        size = f"{_format.count(row.get('customers'))} customers" if "customers" in row else ""
        share = f"{_format.pct(row['share'])} of customers" if "share" in row else size
        revenue = f", {_format.pct(row['revenue_share'])} of net revenue" if "revenue_share" in row else ""
        out.append(
            {
                "title": f"{row['cluster']}: {row.get('cluster_name', '')}",
                "text": f"{share}{revenue}; " + ", ".join(parts) + ".",
            }
        )
    return out
