"""How the report writes numbers and column names for a reader: money in the store's currency with thousands
separators, shares as percentages (17.8%, as the dashboard shows them), human column labels."""

from __future__ import annotations

import html
import math
import re
from typing import Any

__all__ = ["money", "pct", "count", "label", "cell", "change", "inline_code", "column_digits", "REGION_LABELS"]

_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CNY": "¥", "INR": "₹", "KRW": "₩", "BRL": "R$"}

LABELS = {
    "segment": "Segment",
    "customers": "Customers",
    "share": "Share of customers",
    "share_pct": "Share of customers",
    "revenue": "Net revenue",
    "gross_sales": "Gross sales",
    "gross_revenue": "Gross sales",
    "revenue_share": "Share of net revenue",
    "recency_days": "Mean days since last order",
    "orders": "Orders",
    "mean_orders": "Mean orders per customer",
    "monetary": "Mean net revenue per customer",
    "stage": "Lifecycle stage",
    "country": "Country",
    "name": "Segment",
    "version": "Version",
    "definition": "Rule",
    "as_of": "Snapshot date",
    "size": "Members",
    "error": "Problem",
    "buyers": "Buyers",
    "mean_clv": "Mean predicted CLV",
    "mean_churn": "Mean churn probability",
    "churn_risk": "Churn risk",
    "mean_probability": "Mean churn probability",
    "clv_at_stake": "Predicted CLV at stake",
    "cluster": "Cluster",
    "cluster_name": "Name",
    "region": "Region",
    "category": "Product category",
    "aov": "Average order value (before returns)",
    "avg_order_value": "Average order value (before returns)",
    "repeat_rate": "Repeat customers",
    "clv": "Predicted CLV",
    "revenue_index": "Revenue index",
    "period": "Period",
    "T": "Days since first order",
    "frequency": "Repeat purchases",
    "recency": "Days between first and last order",
    "monetary_value": "Mean repeat order value",
}
MONEY = {
    "revenue",
    "gross_sales",
    "monetary",
    "mean_clv",
    "clv_at_stake",
    "clv",
    "aov",
    "monetary_value",
    "avg_order_value",
}
#: The regions breakdown's own words: its ``revenue`` is gross sales (purchase lines before returns).
REGION_LABELS = {
    "revenue": "Gross sales",
    "orders": "Orders",
    "buyers": "Buyers",
    "aov": "Average order value (before returns)",
    "repeat_rate": "Repeat customers",
    "clv": "Mean predicted CLV",
    "revenue_index": "Revenue index",
}
SHARES = {"share", "revenue_share", "mean_churn", "mean_probability", "repeat_rate", "p_alive", "churn_probability"}
PERCENT_NUMBERS = {"share_pct"}  # already multiplied by 100


def money(value: float | None, currency: str | None, digits: int = 0) -> str:
    """``value`` in ``currency``: a symbol before it when one is common, else the code after it.

    Examples
    --------
    >>> money(1234567.891, "EUR"), money(99.5, "SEK", 2), money(10, None)
    ('€1,234,568', '99.50 SEK', '10')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    text = f"{abs(value):,.{digits}f}"
    sign = "-" if value < 0 and text.strip("0.,") else ""
    if currency in _SYMBOLS:
        return f"{sign}{_SYMBOLS[currency]}{text}"
    return f"{sign}{text} {currency}" if currency else f"{sign}{text}"


def pct(value: float | None, digits: int = 1) -> str:
    """A fraction as a percentage: ``pct(0.178)`` is ``'17.8%'``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{100 * value:.{digits}f}%"


def count(value: float | None) -> str:
    """A whole number with thousands separators."""
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{round(value):,}"


def change(value: float | None) -> str:
    """A relative change with its sign and arrow: ``'▲ 12.3%'``; ``'new'`` when there was nothing before,
    ``'no change'`` when it is exactly 0 (0 against 0 too).

    >>> change(0.123), change(None), change(0.0)
    ('▲ 12.3%', 'new', 'no change')
    """
    if value is None:
        return "new"
    if value == 0:
        return "no change"
    arrow = "▲" if value > 0 else "▼" if value < 0 else "="
    return f"{arrow} {abs(100 * value):.1f}%"


def label(column: str) -> str:
    """A column's label for a reader: known names, else the snake_case name in words.

    Examples
    --------
    >>> label("revenue_share"), label("days_since_last_order")
    ('Share of net revenue', 'Days since last order')
    """
    if column in LABELS:
        return LABELS[column]
    words = column.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def column_digits(values: Any) -> int | None:
    """Decimals that show every number of a column the same way: the fewest (0 to 2) that write each value
    exactly, else 2; None for a column without fractional numbers (written as counts).

    >>> column_digits([10.3, 510.0, 114.1]), column_digits([0.0, 1.0, 12.48]), column_digits([3, 4])
    (1, 2, None)
    """
    nums = [float(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool) and v == v]
    if not nums or all(float(v).is_integer() for v in nums):
        return None
    for digits in (1, 2):
        if all(abs(v * 10**digits - round(v * 10**digits)) < 1e-6 for v in nums):
            return digits
    return 2


def cell(value: Any, column: str, currency: str | None, digits: int | None = None) -> str:
    """One table cell as escaped HTML text, formatted after its column; ``digits``: the column's decimals
    for plain numbers (:func:`column_digits`), so 10.3 and 510 read ``10.3`` and ``510.0``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float) and not isinstance(value, bool):
        if column in PERCENT_NUMBERS:
            return f"{value:.1f}%"
        if column in SHARES or column.endswith("_share"):
            return pct(float(value))
        if column in MONEY or column.startswith("revenue") and column != "revenue_index":
            return money(float(value), currency, 2 if abs(value) < 1000 else 0)
        if digits is not None:
            return f"{value:,.{digits}f}"
        if isinstance(value, int) or float(value).is_integer():
            return count(value)
        return f"{value:,.2f}"
    if hasattr(value, "item"):
        return cell(value.item(), column, currency, digits)
    return html.escape(str(value))


def inline_code(text: str) -> str:
    """Escape ``text`` and show its `command` spans as <code> (no literal backticks reach the page)."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text))
