"""Engagement per customer from the ``events`` table: browsing, carts, checkouts, email.

Trailing windows end on the as-of date (inclusive): the ``Nd`` window holds
events with ``as_of + 1 day - N days <= occurred_at < as_of + 1 day``, i.e.
the last N calendar days. Events without a ``customer_id`` (anonymous) are
ignored. Event types are matched exactly (canonical lower-case names).

- ``product_views_Nd``: ``product_view`` events; ``add_to_carts_Nd``:
  ``add_to_cart`` events; ``email_opens_90d``/``email_clicks_90d``:
  ``email_open``/``email_click`` events.
- ``checkouts_started_90d``: ``checkout_started`` events in the 90-day window.
- ``abandoned_checkouts_90d``: those of them not followed by a purchase order
  (see :mod:`shopseg.features.purchases`) of the same customer within
  :data:`ABANDON_HOURS` hours (``started <= ordered_at < started + 24h``).
  Only data up to the as-of date is used, so a checkout started on the as-of
  day without an order yet counts as abandoned.
- ``orders_90d``: purchase orders in the 90-day window, and
  ``browse_to_buy_ratio = orders_90d / product_views_90d`` (NULL without views).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import ibis

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from shopseg.engine import Engine
    from shopseg.features.asof import AsOf

__all__ = ["ABANDON_HOURS", "WINDOWS", "event_counts", "abandoned_checkouts", "recent_orders"]

ABANDON_HOURS = 24
WINDOWS = (7, 30, 90)

_WINDOWED = {"product_views": "product_view", "add_to_carts": "add_to_cart"}
_LONG_ONLY = {
    "checkouts_started_90d": "checkout_started",
    "email_opens_90d": "email_open",
    "email_clicks_90d": "email_click",
}


def _recent_events(engine: Engine, window: AsOf) -> ir.Table:
    events = engine.table("events")
    return events.filter(
        events.customer_id.notnull(),
        events.occurred_at >= window.since_lit(max(WINDOWS)),
        events.occurred_at < window.cutoff_lit(),
    )


def event_counts(engine: Engine, window: AsOf) -> ir.Table:
    """Windowed event counts per customer (int64).

    Returns
    -------
    ibis.Table
        ``customer_id``, ``product_views_{7,30,90}d``, ``add_to_carts_{7,30,90}d``,
        ``checkouts_started_90d``, ``email_opens_90d``, ``email_clicks_90d``.
    """
    ev = _recent_events(engine, window)
    counts: dict[str, ir.IntegerScalar] = {}
    for prefix, kind in _WINDOWED.items():
        for days in WINDOWS:
            hit = (ev.type == kind) & (ev.occurred_at >= window.since_lit(days))
            counts[f"{prefix}_{days}d"] = hit.ifelse(1, 0).sum().cast("int64")
    for name, kind in _LONG_ONLY.items():
        counts[name] = (ev.type == kind).ifelse(1, 0).sum().cast("int64")
    return ev.group_by("customer_id").aggregate(**counts)


def abandoned_checkouts(engine: Engine, window: AsOf, orders: ir.Table) -> ir.Table:
    """Checkouts in the last 90 days with no purchase order within 24 hours.

    Parameters
    ----------
    engine : Engine
        Gives the ``events`` table.
    window : AsOf
        The as-of window.
    orders : ibis.Table
        Purchase orders (``customer_id, ordered_at``) before the cutoff.

    Returns
    -------
    ibis.Table
        ``customer_id, abandoned_checkouts_90d``.
    """
    ev = _recent_events(engine, window)
    starts = ev.filter(ev.type == "checkout_started").select("customer_id", "occurred_at")
    # only an order on or after the window's start can follow a checkout in it: the join's hash table
    # holds the last 90 days' orders, not every order before the cutoff (same result, a fraction of the work)
    recent = orders.filter(orders.ordered_at >= window.since_lit(max(WINDOWS)))
    bought = recent.select(buyer=recent.customer_id, bought_at=recent.ordered_at)
    pending = starts.anti_join(
        bought,
        [
            starts.customer_id == bought.buyer,
            bought.bought_at >= starts.occurred_at,
            bought.bought_at < starts.occurred_at + ibis.interval(hours=ABANDON_HOURS),
        ],
    )
    return pending.group_by("customer_id").aggregate(abandoned_checkouts_90d=pending.count().cast("int64"))


def recent_orders(orders: ir.Table, window: AsOf) -> ir.Table:
    """Purchase orders in the 90-day window per customer: ``customer_id, orders_90d``."""
    recent = orders.filter(orders.ordered_at >= window.since_lit(max(WINDOWS)))
    return recent.group_by("customer_id").aggregate(orders_90d=recent.count().cast("int64"))
