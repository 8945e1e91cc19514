"""``order_categories``: the regional breakdowns' base, one row per purchase order x top-level category, stored once.

Every breakdown of :mod:`shopseg.reports.regions` starts from the purchase
lines summed per order and top-level category, joined to their order and buyer:
at a million customers, 9.6M lines grouped into 4.4M rows, about 9 CPU-seconds,
while the aggregates on top take one or two. That base does not depend on the
period, the level or the RFM segments, so ``shopseg report html`` stores it as
the derived table ``order_categories`` (:func:`refresh_region_base`) and the
report and the dashboard's regions page read it while it is fresh.

Columns: ``order_id, customer_id, ordered_at, region, country, category,
value``, for orders not cancelled; ``region`` and ``country`` are the buyer's,
else the order's, else ``'unknown'``; ``value`` sums the lines with a positive
quantity and a unit price of at least zero, each ``round(quantity * unit_price
- discount, 2)``: the definition of :func:`~shopseg.reports.regions.region_performance`.

**Freshness.** Beside the table the workspace meta keeps a stamp of the columns
it reads from ``orders``, ``order_lines``, ``products`` and ``customers`` (row
counts and sums of row hashes, :func:`~shopseg.features.stamp.source_stamp`,
about 1 CPU-second at 1M customers) and :data:`REVISION`, written with the
table. A reader compares it with the tables as they are now and computes the
base itself on any difference, so a stale table never changes a result.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shopseg.workspace import Workspace

__all__ = ["REGION_BASE", "REVISION", "base_sql", "has_fresh_region_base", "refresh_region_base"]

REGION_BASE = "order_categories"
#: Bump when :func:`base_sql` changes: tables stored by an older definition are then stale.
REVISION = 1
_STAMP_KEY = "order_categories_stamp"
# the columns base_sql reads, per source table (hashed over the table aliased t)
_SOURCES = {
    "orders": "order_id, customer_id, ordered_at, region, country, is_cancelled",
    "order_lines": "order_id, product_id, quantity, unit_price, discount",
    "products": "product_id, category",
    "customers": "customer_id, region, country",
}


def base_sql() -> str:
    """The base computed from the canonical tables (the ``lines`` of every regional breakdown)."""
    return """
        WITH pc AS (SELECT product_id, coalesce(nullif(trim(split_part(category, '>', 1)), ''), 'unknown') AS category
                    FROM products),
        oc AS (SELECT l.order_id, coalesce(pc.category, 'unknown') AS category,
                      sum(round(l.quantity * l.unit_price - coalesce(l.discount, 0), 2)) AS value
               FROM order_lines l LEFT JOIN pc ON pc.product_id = l.product_id
               WHERE l.quantity > 0 AND l.unit_price >= 0
               GROUP BY 1, 2),
        od AS (SELECT o.order_id, o.customer_id, o.ordered_at,
                      coalesce(c.region, o.region, 'unknown') AS region,
                      coalesce(c.country, o.country, 'unknown') AS country
               FROM orders o LEFT JOIN customers c ON c.customer_id = o.customer_id
               WHERE NOT coalesce(o.is_cancelled, false))
        SELECT od.*, oc.category, oc.value FROM oc JOIN od ON od.order_id = oc.order_id"""


def _stamp(workspace: Workspace) -> str:
    from shopseg.features.stamp import source_stamp

    return source_stamp(workspace, REVISION, _SOURCES)


def has_fresh_region_base(workspace: Workspace) -> bool:
    """Whether ``order_categories`` exists and matches its source tables as they are now."""
    if not workspace.has_table(REGION_BASE):
        return False
    stored = workspace.meta(_STAMP_KEY)
    return bool(stored) and stored == _stamp(workspace)


def refresh_region_base(workspace: Workspace) -> bool:
    """Store ``order_categories`` and its stamp unless it is fresh; whether a fresh one is stored now.

    A read-only workspace, or one without ``orders``, ``order_lines``,
    ``products`` or ``customers``, stores nothing. The table and the stamp land
    in one transaction. One freshness check (one stamp) either way.
    """
    if not set(_SOURCES) <= set(workspace.tables()):
        return False
    stamp = _stamp(workspace)
    if workspace.has_table(REGION_BASE) and workspace.meta(_STAMP_KEY) == stamp:
        return True
    if workspace.read_only:
        return False
    with workspace.transaction():
        workspace.create_table_as(REGION_BASE, base_sql())
        workspace.set_meta(_STAMP_KEY, stamp)
    return True
