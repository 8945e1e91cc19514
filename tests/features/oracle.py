"""A slow, obviously correct pure-Python/pandas reference of the core purchase features.

It shares no code with ``shopseg.features``: it walks each customer's rows in
plain Python, following the definitions in docs/features.md. Used to check the
Ibis implementation on random data (Hypothesis) and on Online Retail.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd

CORE = [
    "orders",
    "frequency",
    "recency",
    "T",
    "monetary_value",
    "revenue",
    "gross_revenue",
    "avg_order_value",
    "days_since_last_order",
    "avg_days_between_orders",
    "std_days_between_orders",
    "basket_size",
    "discount_share",
    "return_rate",
]


def to_cents(amount: float) -> int:
    """Round half away from zero on the exact binary value (what both engines do)."""
    return int(Decimal(amount * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _nan_if_none(value: float | None) -> float:
    return float("nan") if value is None else float(value)


def reference_features(orders: pd.DataFrame, lines: pd.DataFrame, as_of: dt.date, divisor: float = 1.0) -> pd.DataFrame:
    """Core features of every customer with a purchase on or before ``as_of``.

    ``orders`` and ``lines`` use the canonical columns (``orders.is_cancelled``,
    ``order_lines.discount``/``is_return`` may be missing or NULL).
    """
    cutoff = pd.Timestamp(as_of + dt.timedelta(days=1))
    order_info = {}
    for o in orders.itertuples(index=False):
        if o.customer_id is None or pd.isna(o.customer_id) or pd.Timestamp(o.ordered_at) >= cutoff:
            continue
        cancelled = getattr(o, "is_cancelled", None)
        order_info[o.order_id] = (
            o.customer_id,
            pd.Timestamp(o.ordered_at),
            bool(cancelled) if pd.notna(cancelled) else False,
        )

    order_cents: dict[str, int] = defaultdict(int)
    order_units: dict[str, int] = defaultdict(int)
    discounted: dict[str, int] = defaultdict(int)
    returned: dict[str, int] = defaultdict(int)
    for ln in lines.itertuples(index=False):
        if ln.order_id not in order_info:
            continue
        customer, _, cancelled = order_info[ln.order_id]
        is_return = getattr(ln, "is_return", None)
        is_return = bool(is_return) if pd.notna(is_return) else False
        discount = getattr(ln, "discount", None)
        discount = float(discount) if pd.notna(discount) else 0.0
        # a return: a credit (negative quantity), or a line marked returned in an order that went ahead;
        # a cancelled order's positive lines are void (docs/features.md)
        if (ln.quantity < 0 or (is_return and not cancelled)) and ln.unit_price > 0:
            returned[customer] += to_cents(max(abs(int(ln.quantity)) * float(ln.unit_price) - discount, 0.0))
        if cancelled or is_return or ln.quantity <= 0 or not ln.unit_price >= 0:
            continue
        value = to_cents(max(int(ln.quantity) * float(ln.unit_price) - discount, 0.0))
        order_cents[ln.order_id] += value
        order_units[ln.order_id] += int(ln.quantity)
        if discount > 0:
            discounted[ln.order_id] += value

    per_customer: dict[str, list[str]] = defaultdict(list)
    for order_id in order_cents:
        per_customer[order_info[order_id][0]].append(order_id)

    rows = []
    for customer, ids in per_customer.items():
        day_cents: dict[dt.date, int] = defaultdict(int)
        for order_id in ids:
            day_cents[order_info[order_id][1].date()] += order_cents[order_id]
        days = sorted(day_cents)
        gaps = [(b - a).days for a, b in zip(days, days[1:])]
        frequency = len(days) - 1
        gross = sum(order_cents[i] for i in ids)
        back = min(returned.get(customer, 0), gross)
        repeat = sum(day_cents[d] for d in days[1:])
        rows.append(
            {
                "customer_id": customer,
                "orders": len(ids),
                "frequency": frequency,
                "recency": (days[-1] - days[0]).days / divisor,
                "T": (as_of - days[0]).days / divisor,
                "monetary_value": repeat / 100 / frequency if frequency else 0.0,
                "revenue": (gross - back) / 100,
                "gross_revenue": gross / 100,
                "avg_order_value": gross / 100 / len(ids),
                "days_since_last_order": (as_of - days[-1]).days,
                "avg_days_between_orders": _nan_if_none(statistics.mean(gaps) if gaps else None),
                "std_days_between_orders": _nan_if_none(statistics.stdev(gaps) if len(gaps) > 1 else None),
                "basket_size": sum(order_units[i] for i in ids) / len(ids),
                "discount_share": _nan_if_none(sum(discounted[i] for i in ids) / gross if gross else None),
                "return_rate": _nan_if_none(back / gross if gross else None),
            }
        )
    return pd.DataFrame(rows, columns=["customer_id", *CORE]).sort_values("customer_id").reset_index(drop=True)
