"""The cleaned purchase base every purchase feature is built on.

A **purchase line** is an order line that

- belongs to an order with a known ``customer_id`` placed before the as-of cutoff,
- whose order is not cancelled (``orders.is_cancelled`` is not true),
- is not marked as a return (``order_lines.is_return`` is not true),
- has ``quantity > 0`` and ``unit_price >= 0``.

Free lines (``unit_price = 0``: promotional items, CDNOW's eight $0
transactions) are purchases worth 0: they count for ``orders``, ``frequency``,
``recency`` and ``T``, as in the Fader-Hardie CDNOW summary. Negative prices
(accounting adjustments such as Online Retail's "Adjust bad debt") and NULL
prices are not purchases.

Its value is ``quantity * unit_price - discount`` (a missing discount is 0, a
negative result is 0), rounded once to whole **cents** and kept as an integer.
Every money feature is a sum of these integer cents divided by 100 or by a
count, so DuckDB and Spark produce bit-identical money columns whatever order
they add in.

A **return line** is a line of an order (before the cutoff, known customer)
with ``unit_price`` not 0 and either ``quantity < 0`` or ``is_return`` true in an
order that is not cancelled; its value is ``|quantity| * |unit_price| - discount``
(at least 0) in cents: point-of-sale exports write a refund as a negative price, a
negative quantity or both, and each means money given back. A cancelled order's lines with a positive quantity are
neither purchases nor returns: the sale did not happen, so nothing is taken back
(ingest marks them ``is_return``, which alone would subtract them a second time).
Online Retail's "C" invoices are cancelled orders of negative quantities: credit
notes for earlier purchases, so they count as returns.

The base is aggregated bottom-up, lines → orders → days → customers, so no
feature needs ``COUNT(DISTINCT ...)`` (the dominant cost on Spark).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import ibis

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from shopseg.engine import Engine
    from shopseg.features.asof import AsOf

__all__ = [
    "cents",
    "known_orders",
    "purchase_lines",
    "purchase_orders",
    "order_totals_expr",
    "line_values",
    "purchase_order_rows",
    "orders_in_window",
    "purchase_order_totals",
    "purchase_days",
    "day_gaps",
    "purchase_days_in_window",
    "purchase_base",
    "return_lines",
    "return_totals",
]


def cents(money: ir.NumericValue) -> ir.IntegerValue:
    """Round a money amount to whole cents, as int64 (identical on every engine).

    Per-line products such as ``3 * 2.55`` sit within 1e-12 of a whole number of
    cents, far from the .5 boundary where engines could round differently.
    """
    return (money.cast("float64") * 100).round().cast("int64")


def known_orders(engine: Engine, window: AsOf) -> ir.Table:
    """Orders of known customers placed before the cutoff (cancelled ones included)."""
    orders = engine.table("orders")
    return orders.filter(orders.customer_id.notnull(), orders.ordered_at < window.cutoff_lit())


def _line_filter(lines: ir.Table) -> ir.BooleanValue:
    return (lines.quantity > 0) & (lines.unit_price >= 0) & ~lines.is_return.fill_null(False)


def _line_values(lines: ir.Table) -> dict[str, ir.Value]:
    discount = lines.discount.fill_null(0.0)
    gross = lines.quantity.cast("float64") * lines.unit_price - discount
    return {
        "units": lines.quantity.cast("int64"),
        "cents": cents(ibis.greatest(gross, 0.0)),
        "discounted": discount > 0,
    }


def _purchase_order_rows(engine: Engine, window: AsOf) -> ir.Table:
    orders = known_orders(engine, window)
    return orders.filter(~orders.is_cancelled.fill_null(False))


def purchase_lines(engine: Engine, window: AsOf) -> ir.Table:
    """Purchase lines with their order's customer, time and channel.

    Returns
    -------
    ibis.Table
        ``order_id, customer_id, ordered_at, channel, product_id, units,
        cents, discounted`` where ``cents`` is the net line value in cents and
        ``discounted`` says whether the line carried a positive discount.
    """
    orders = _purchase_order_rows(engine, window)
    lines = engine.table("order_lines")
    lines = lines.filter(_line_filter(lines))
    joined = lines.join(orders, lines.order_id == orders.order_id)
    return joined.select(
        order_id=lines.order_id,
        customer_id=orders.customer_id,
        ordered_at=orders.ordered_at,
        channel=orders.channel.strip().lower(),
        product_id=lines.product_id,
        **_line_values(lines),
    )


def purchase_orders(lines: ir.Table) -> ir.Table:
    """Aggregate purchase lines to one row per purchase order.

    Returns
    -------
    ibis.Table
        ``customer_id, order_id, ordered_at, channel, cents, units,
        discounted_cents``.
    """
    return lines.group_by(["customer_id", "order_id", "ordered_at", "channel"]).aggregate(
        cents=lines.cents.sum(),
        units=lines.units.sum(),
        discounted_cents=lines.discounted.ifelse(lines.cents, 0).sum(),
    )


def line_values(lines: ir.Table) -> ir.Table:
    """``lines`` with each line's ``purchase`` flag and its ``units``, ``cents`` and ``discounted`` flag.

    The per-line half of :func:`order_totals_expr`; ingest sums the same columns of a file's lines
    while it groups them into orders (:mod:`shopseg.io.orders`), so both give one definition's values.
    """
    return lines.mutate(purchase=_line_filter(lines), **_line_values(lines))


def purchase_order_rows(orders: ir.Table) -> ir.Table:
    """The ``order_totals`` rows of orders carrying their purchase lines' sums.

    ``orders``: ``customer_id, order_id, ordered_at, channel, is_cancelled`` and the sums of
    :func:`line_values` over the order's purchase lines, ``cents, units, discounted_cents`` and
    ``purchase_lines`` (their count). Kept: orders not cancelled with at least one purchase line.
    """
    orders = orders.filter(~orders.is_cancelled.fill_null(False), orders.purchase_lines > 0)
    return orders.select(
        "customer_id",
        "order_id",
        "ordered_at",
        channel=orders.channel.strip().lower(),
        cents=orders.cents.cast("int64"),
        units=orders.units.cast("int64"),
        discounted_cents=orders.discounted_cents.cast("int64"),
    )


def order_totals_expr(engine: Engine) -> ir.Table:
    """Purchase orders of all time, summed from the lines: the definition of the ``order_totals`` table.

    The lines are summed per ``order_id`` first and then joined to their
    order, so the join and the per-order work (channel clean-up) see one row
    per order instead of one per line: about half the cost at 10M lines.
    ``order_id`` is the key of ``orders`` (ingest merges repeated orders). The
    sums are cast back to int64 (DuckDB sums int64 into a 128-bit integer,
    slower to store and to sum again).

    Returns
    -------
    ibis.Table
        ``customer_id, order_id, ordered_at, channel, cents, units,
        discounted_cents``: one row per non-cancelled order with a purchase
        line, orders of unknown customers included.
    """
    values = line_values(engine.table("order_lines"))
    values = values.filter(values.purchase)
    totals = values.group_by("order_id").aggregate(
        cents=values.cents.sum(),
        units=values.units.sum(),
        discounted_cents=values.discounted.ifelse(values.cents, 0).sum(),
        purchase_lines=values.count(),
    )
    orders = engine.table("orders")
    orders = orders.filter(~orders.is_cancelled.fill_null(False))
    joined = totals.join(orders, "order_id")
    return purchase_order_rows(
        joined.select(
            orders.customer_id,
            "order_id",
            orders.ordered_at,
            orders.channel,
            orders.is_cancelled,
            "cents",
            "units",
            "discounted_cents",
            "purchase_lines",
        )
    )


def purchase_order_totals(engine: Engine, window: AsOf) -> ir.Table:
    """Purchase orders in the window: same rows as ``purchase_orders(purchase_lines(...))``.

    Reads the stored ``order_totals`` table when it matches ``orders`` and
    ``order_lines`` (:mod:`shopseg.features.order_totals`); otherwise sums the
    lines with :func:`order_totals_expr`, the definition that table is built
    from. Either way the rows are those of known customers ordered before the
    cutoff.

    Returns
    -------
    ibis.Table
        ``customer_id, order_id, ordered_at, channel, cents, units,
        discounted_cents``.
    """
    return purchase_base(engine, window)[0]


def orders_in_window(orders: ir.Table, window: AsOf) -> ir.Table:
    """The rows of an order table (``order_totals`` or its definition) of known customers before the cutoff."""
    return orders.filter(orders.customer_id.notnull(), orders.ordered_at < window.cutoff_lit())


def purchase_days(orders: ir.Table) -> ir.Table:
    """Aggregate purchase orders to one row per customer and calendar day.

    This is the unit lifetimes and the Fader-Hardie papers count: several
    orders on one day are one transaction whose value is their sum.

    Returns
    -------
    ibis.Table
        ``customer_id, day (date), cents, orders``.
    """
    daily = orders.mutate(day=orders.ordered_at.cast("date"))
    return daily.group_by(["customer_id", "day"]).aggregate(cents=daily.cents.sum(), orders=daily.count())


def day_gaps(days: ir.Table) -> ir.Table:
    """``days`` with ``gap``: whole days (int64) since the customer's previous purchase day, NULL on the first.

    Read as it is when ``days`` has it (the stored ``purchase_days``: a window
    ending on the as-of date keeps every earlier day, so each day's gap is the
    same as over all days), else computed with one ``LAG`` window.
    """
    if "gap" in days.columns:
        return days
    from shopseg.features.asof import day_diff

    previous = days.day.lag().over(ibis.window(group_by=days.customer_id, order_by=days.day))
    return days.mutate(gap=day_diff(days.day, previous))


def purchase_days_in_window(engine: Engine, window: AsOf) -> ir.Table:
    """``purchase_days(purchase_order_totals(engine, window))``, read from the stored ``purchase_days`` when fresh."""
    return purchase_base(engine, window)[1]


def purchase_base(engine: Engine, window: AsOf, fresh: bool | None = None) -> tuple[ir.Table, ir.Table]:
    """The window's purchase orders and purchase days, with one freshness check of the stored tables.

    Read from ``order_totals`` and ``purchase_days`` when they match their
    sources (:mod:`shopseg.features.order_totals`), else summed from the lines.
    The window's cutoff is the day after the as-of date at midnight, so the
    stored days on or before the as-of date are exactly the days of the
    window's orders. ``fresh``: whether they match, when the caller has checked
    (:func:`~shopseg.features.order_totals.is_fresh`).

    Returns
    -------
    tuple of ibis.Table
        ``(orders, days)``: the rows of :func:`purchase_order_totals` and of
        :func:`purchase_days` of them.
    """
    from shopseg.features.order_totals import stored_totals

    stored = stored_totals(engine, fresh)
    if stored is None:
        orders = orders_in_window(order_totals_expr(engine), window)
        return orders, purchase_days(orders)
    orders, days = stored
    return orders_in_window(orders, window), days.filter(days.day <= window.date_lit())


def return_lines(engine: Engine, window: AsOf | None = None) -> ir.Table:
    """The return lines (module docstring) of known customers' orders within the window (all time when
    None), each with its order's customer and time: ``customer_id, ordered_at, units, cents``.

    The one definition of a return: :func:`return_totals` sums it for the features, and the report's net
    revenue (:func:`shopseg.reports.summary.returns_sql`) sums it per day.
    """
    if window is None:
        orders = engine.table("orders")
        orders = orders.filter(orders.customer_id.notnull())
    else:
        orders = known_orders(engine, window)
    lines = engine.table("order_lines")
    lines = lines.filter((lines.quantity < 0) | lines.is_return.fill_null(False), lines.unit_price != 0)
    joined = lines.join(orders, lines.order_id == orders.order_id)
    # a cancelled order's positive lines are void, not returns (they were never counted as purchases)
    joined = joined.filter((lines.quantity < 0) | ~orders.is_cancelled.fill_null(False))
    units = lines.quantity.abs().cast("int64")
    return joined.select(
        customer_id=orders.customer_id,
        ordered_at=orders.ordered_at,
        units=units,
        cents=cents(ibis.greatest(units.cast("float64") * lines.unit_price.abs() - lines.discount.fill_null(0.0), 0.0)),
    )


def return_totals(engine: Engine, window: AsOf) -> ir.Table:
    """Returned value (cents) and units per customer within the window (:func:`return_lines`).

    Returns
    -------
    ibis.Table
        ``customer_id, returned_cents, returned_units``.
    """
    rows = return_lines(engine, window)
    return rows.group_by("customer_id").aggregate(returned_cents=rows.cents.sum(), returned_units=rows.units.sum())
