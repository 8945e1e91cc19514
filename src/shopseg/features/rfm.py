"""frequency, recency, T and monetary_value with the lifetimes definitions.

The unit of purchase is the **purchase day**: all purchase orders of a customer
on one calendar day form one transaction whose value is their sum (Fader,
Hardie & Lee 2005; lifetimes' ``summary_data_from_transaction_data`` with
``freq="D"``). With ``d_1 < ... < d_n`` the customer's purchase days and ``as_of``
the last day of the window:

- ``frequency = n - 1``, the number of *repeat* purchase days;
- ``recency = (d_n - d_1) / unit``, age at the last purchase (0 when frequency = 0);
- ``T = (as_of - d_1) / unit``, age at the end of the window;
- ``monetary_value`` = mean value of the repeat days ``d_2 .. d_n`` (the first
  purchase is left out, as the Gamma-Gamma model expects); 0 when frequency = 0.

``unit`` is 1 for ``time_unit="days"`` and 7 for ``"weeks"``. By construction
``0 <= recency <= T``.

References
----------
.. [1] Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005). "Counting your
   customers" the easy way: An alternative to the Pareto/NBD model.
   Marketing Science 24(2), 275-284.
.. [2] Davidson-Pilon, C. lifetimes, ``lifetimes.utils.summary_data_from_transaction_data``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shopseg.features.asof import day_diff

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from shopseg.features.asof import AsOf

__all__ = ["RFM_COLUMNS", "rfm_from_days"]

RFM_COLUMNS = ["frequency", "recency", "T", "monetary_value"]


def rfm_from_days(days: ir.Table, window: AsOf) -> ir.Table:
    """Per-customer lifetimes summary from a table of purchase days.

    Parameters
    ----------
    days : ibis.Table
        One row per customer and purchase day: ``customer_id, day, cents,
        orders`` (see :func:`shopseg.features.purchases.purchase_days`), already
        restricted to days on or before ``window.date``.
    window : AsOf
        The as-of date (end of the observation or calibration period) and the
        time unit.

    Returns
    -------
    ibis.Table
        ``customer_id, frequency (int64), recency, T, monetary_value (float64),
        first_day, last_day (date), recency_days (int64), total_cents (int64),
        orders (int64)``; ``orders`` counts purchase orders (several on one day
        are one purchase day but several orders), summed from the days so no
        second pass over the orders is needed.
    """
    agg = days.group_by("customer_id").aggregate(
        n_days=days.count(),
        first_day=days.day.min(),
        last_day=days.day.max(),
        total_cents=days.cents.sum(),
        first_day_cents=days.cents.argmin(days.day),
        orders=days.orders.sum(),
    )
    frequency = (agg.n_days - 1).cast("int64")
    recency_days = day_diff(agg.last_day, agg.first_day)
    repeat_cents = (agg.total_cents - agg.first_day_cents).cast("float64")
    monetary = repeat_cents / 100.0 / frequency.cast("float64").nullif(0.0)
    return agg.select(
        "customer_id",
        frequency=frequency,
        recency=window.in_unit(recency_days),
        T=window.in_unit(day_diff(window.date_lit(), agg.first_day)),
        monetary_value=monetary.fill_null(0.0),
        first_day=agg.first_day,
        last_day=agg.last_day,
        recency_days=recency_days,
        total_cents=agg.total_cents.cast("int64"),
        orders=agg.orders.cast("int64"),
    )
