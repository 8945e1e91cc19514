"""``order_totals`` and ``purchase_days``: the purchase value of every order and customer-day, kept by ingest.

Every purchase feature starts from one row per purchase order (its customer,
time, channel and the summed value of its purchase lines, see
:mod:`shopseg.features.purchases`). Summing ten million order lines into four
million orders and joining them back to their orders is most of the cost of a
feature build, and it is the same whatever the as-of date: the as-of cutoff and
the known-customer filter act on whole orders. So ingest stores the result once,
as the derived table ``order_totals``, and every feature build, calibration
split, lifecycle and RFM run at any date reads it instead of the lines (the RFM
core at 1M customers: 3.2-3.8 s instead of 5.6 s; bench/RESULTS.md).

``order_totals`` holds the rows of :func:`shopseg.features.purchases.order_totals_expr`: one per
non-cancelled order with at least one purchase line, ``customer_id, order_id,
ordered_at, channel, cents, units, discounted_cents`` (int64 cents, as in
:mod:`shopseg.features.purchases`). ``purchase_days`` holds the next step,
:func:`~shopseg.features.purchases.purchase_days` of the known customers'
orders (``customer_id, day, cents, orders``) with ``gap``, the days since the
customer's previous purchase day (:func:`~shopseg.features.purchases.day_gaps`,
read by the features' gap spread and the lifecycle thresholds and stages instead
of a ``LAG`` window each): as-of independent too, since the cutoff is always a
day boundary and a day's previous purchase day comes before it.

**Freshness.** The table is used only while it matches the tables it is summed
from. Beside it the workspace meta keeps a stamp of ``orders`` and
``order_lines`` (row count and sum of row hashes of the columns the definition
reads, and this module's definition revision), written in the same transaction
as the table. :func:`stored_totals` compares the stamp with the tables as
they are now (about 0.4 s at 10M lines) and returns ``None`` on any difference;
the caller then sums the lines itself, with the same expression, so a stale
table can slow a build down but never change its result. Ingest and the
generator's :func:`~shopseg.datasets.write_store` refresh it; erasure and rows
written, deleted or edited straight in the tables make it stale until
:func:`refresh_order_totals` runs again (``build_features`` does that first on a
writable workspace).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shopseg.features.purchases import day_gaps, order_totals_expr, purchase_days, purchase_order_rows

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from shopseg.engine import Engine
    from shopseg.workspace import Workspace

__all__ = [
    "ORDER_TOTALS",
    "PURCHASE_DAYS",
    "is_fresh",
    "order_totals_spec",
    "order_totals_stamp",
    "purchase_orders_sql",
    "refresh_order_totals",
    "stored_totals",
]

ORDER_TOTALS = "order_totals"
PURCHASE_DAYS = "purchase_days"
_STAMP_KEY = "order_totals_stamp"
# the source tables and the columns order_totals_expr reads from them
_SOURCES = {
    "orders": ("order_id", "customer_id", "ordered_at", "channel", "is_cancelled"),
    "order_lines": ("order_id", "quantity", "unit_price", "discount", "is_return"),
}
# Bump when order_totals_expr or purchase_days changes: tables stored by an older definition are then stale.
# 2: purchase_days keeps each day's gap to the customer's previous purchase day (day_gaps).
_REVISION = 2
_COLUMNS = ("customer_id", "order_id", "ordered_at", "channel", "cents", "units", "discounted_cents")
_DAY_COLUMNS = ("customer_id", "day", "cents", "orders", "gap")


def order_totals_stamp(workspace: Workspace) -> str:
    """The current stamp of the sources: definition revision, row count and sum of row hashes of each.

    Only the columns the definition reads are hashed. Row hashes are summed, so
    the stamp does not depend on row order and changes when a row is added,
    removed or edited in place (:func:`~shopseg.features.stamp.source_stamp`).
    About 0.4 s at 10M lines.
    """
    from shopseg.features.stamp import source_stamp

    return source_stamp(workspace, *order_totals_spec())


def order_totals_spec() -> tuple[int, dict[str, str]]:
    """``(revision, sources)`` of :func:`order_totals_stamp`, for :func:`~shopseg.features.stamp.source_stamps`."""
    return _REVISION, {name: ", ".join(columns) for name, columns in _SOURCES.items()}


def refresh_order_totals(
    workspace: Workspace, stamp: str | None = None, *, added: str | None = None, replace: bool = False
) -> int:
    """(Re)build ``order_totals`` and ``purchase_days`` from ``orders`` and ``order_lines`` and stamp them.

    Returns the row count of ``order_totals``. ``stamp``: :func:`order_totals_stamp` of the sources as
    they are, when the caller has just made it.

    ``added``: a table of orders just ingested with their purchase lines' sums (the input of
    :func:`~shopseg.features.purchases.purchase_order_rows`; ingest groups a file's lines into it). Its
    rows replace ``order_totals`` when ``replace`` (they are all the orders), else they are added to it
    (the caller knows the table matched the orders before they came, and that they are new orders). The
    rows are those :func:`order_totals_expr` gives for the same orders: one definition of a line's value.

    Runs on the workspace's connection, so inside an open transaction the table and its stamp land or
    roll back with the rest.
    """
    from shopseg.engine import get_engine
    from shopseg.engine.duckdb import DuckDBEngine

    engine = get_engine(workspace, "duckdb")
    assert isinstance(engine, DuckDBEngine)
    if added is None:
        # stored with the declared int64 types, sorted by customer (the order every feature groups in)
        engine.store(order_totals_expr(engine), workspace, ORDER_TOTALS, order_by="customer_id")
    elif replace or ORDER_TOTALS not in workspace.tables():
        engine.store(purchase_order_rows(workspace.ibis.table(added)), workspace, ORDER_TOTALS)
    else:
        engine.append(purchase_order_rows(workspace.ibis.table(added)), ORDER_TOTALS)
    orders = engine.table(ORDER_TOTALS)
    buyers = orders.filter(orders.customer_id.notnull())
    engine.store(day_gaps(purchase_days(buyers)), workspace, PURCHASE_DAYS, by_customer=True)
    workspace.set_meta(_STAMP_KEY, stamp or order_totals_stamp(workspace))
    row = workspace.con.execute(f'SELECT count(*) FROM "{ORDER_TOTALS}"').fetchone()
    return int(row[0]) if row else 0


def is_fresh(workspace: Workspace, stamp: str | None = None) -> bool:
    """Whether ``order_totals`` and ``purchase_days`` exist and match ``orders`` and ``order_lines`` as they are now.

    ``stamp``: :func:`order_totals_stamp` as the caller has just made it (else made here).
    """
    tables = workspace.tables()
    if ORDER_TOTALS not in tables or PURCHASE_DAYS not in tables:
        return False
    stored = workspace.meta(_STAMP_KEY)
    return bool(stored) and stored == (stamp if stamp is not None else order_totals_stamp(workspace))


def stored_totals(engine: Engine, fresh: bool | None = None) -> tuple[ir.Table, ir.Table] | None:
    """The stored ``order_totals`` and ``purchase_days`` on ``engine`` when they are fresh, else ``None``.

    One freshness check (one stamp) for both, so a build that reads both pays it once; none when the
    caller passes ``fresh`` (:func:`is_fresh`, checked by it).
    """
    if not (is_fresh(engine.workspace) if fresh is None else fresh):
        return None
    return engine.table(ORDER_TOTALS).select(*_COLUMNS), engine.table(PURCHASE_DAYS).select(*_DAY_COLUMNS)


def purchase_orders_sql(workspace: Workspace) -> str:
    """SQL for the rows of ``order_totals`` (one per purchase order, values in int64 ``cents``).

    The stored table when it is fresh, otherwise :func:`order_totals_expr`
    compiled, so a reader of store totals (the report's and the dashboard's
    KPIs and monthly revenue) gets the features' definition of a purchase
    either way: non-cancelled orders, lines with a positive quantity, a price
    of at least zero and no return flag, each line's net value rounded to
    cents and never below zero.
    """
    if is_fresh(workspace):
        return f'SELECT {", ".join(_COLUMNS)} FROM "{ORDER_TOTALS}"'
    from shopseg.engine import get_engine

    engine = get_engine(workspace, "duckdb")
    return str(workspace.ibis.compile(order_totals_expr(engine)))
