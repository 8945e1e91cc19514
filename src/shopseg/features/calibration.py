"""Calibration / holdout split for validating purchase models (BG/NBD, Pareto/NBD, Gamma-Gamma).

The purchase days (:func:`shopseg.features.purchases.purchase_days`) of the
customers whose first purchase falls on or before ``calibration_end`` are split
in two periods:

- **calibration**, days ``<= calibration_end``: ``frequency_cal``,
  ``recency_cal``, ``T_cal``, ``monetary_value_cal`` with the lifetimes
  definitions of :mod:`shopseg.features.rfm`, as of ``calibration_end``;
- **holdout**, days in ``(calibration_end, observation_end]``:
  ``frequency_holdout`` = number of purchase days (every holdout day is a
  repeat purchase, so nothing is subtracted), ``monetary_value_holdout`` =
  their mean value (0 without holdout purchases), and ``duration_holdout`` =
  ``(observation_end - calibration_end)`` in ``time_unit``.

This mirrors lifetimes' ``calibration_and_holdout_data`` with ``freq="D"``,
with two deliberate differences: dates are compared as calendar days (lifetimes
compares timestamps with midnight of ``calibration_end``, dropping that day's
later orders) and ``monetary_value_holdout`` averages purchase days (lifetimes
averages raw transaction rows). On day-level input the two agree exactly.

References
----------
.. [1] Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005). "Counting your
   customers" the easy way. Marketing Science 24(2), 275-284 (39-week
   calibration, 39-week holdout on CDNOW).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import ibis
import pandas as pd

from shopseg.errors import InvalidParameterError
from shopseg.features.asof import AsOf, DateLike, check_time_unit
from shopseg.features.build import resolve_as_of
from shopseg.features.purchases import purchase_days_in_window
from shopseg.features.rfm import RFM_COLUMNS, rfm_from_days

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from shopseg.engine import Engine

__all__ = ["CALIBRATION_COLUMNS", "calibration_holdout_expr", "calibration_holdout_split"]

CALIBRATION_COLUMNS = [
    "customer_id",
    *(f"{c}_cal" for c in RFM_COLUMNS),
    "frequency_holdout",
    "monetary_value_holdout",
    "duration_holdout",
]


def _windows(
    engine: Engine, calibration_end: DateLike, observation_end: DateLike | None, time_unit: str
) -> tuple[AsOf, AsOf]:
    check_time_unit(time_unit)
    cal = AsOf.of(calibration_end, time_unit)
    obs = AsOf.of(resolve_as_of(engine, observation_end), time_unit)
    if obs.date <= cal.date:
        raise InvalidParameterError(
            f"The 'observation_end' parameter must be after calibration_end ({cal.date}). Got {obs.date} instead."
        )
    return cal, obs


def calibration_holdout_expr(
    engine: Engine,
    calibration_end: DateLike,
    observation_end: DateLike | None = None,
    time_unit: str = "days",
) -> ir.Table:
    """The calibration/holdout summary as an Ibis expression (see the module docstring).

    Parameters
    ----------
    engine : Engine
        Engine over the workspace.
    calibration_end : date or str
        Last day of the calibration period (inclusive).
    observation_end : date or str, default=None
        Last day of the holdout period (inclusive); default the latest order date.
    time_unit : {"days", "weeks"}, default="days"
        Unit of ``recency_cal``, ``T_cal`` and ``duration_holdout``.

    Returns
    -------
    ibis.Table
        :data:`CALIBRATION_COLUMNS`, one row per customer with a purchase on or
        before ``calibration_end``.
    """
    cal, obs = _windows(engine, calibration_end, observation_end, time_unit)
    return _split(engine, cal, obs)


def _split(engine: Engine, cal: AsOf, obs: AsOf) -> ir.Table:
    days = purchase_days_in_window(engine, obs)
    summary = rfm_from_days(days.filter(days.day <= cal.date_lit()), cal)
    holdout = days.filter(days.day > cal.date_lit())
    holdout = holdout.group_by("customer_id").aggregate(n=holdout.count(), cents=holdout.cents.sum())
    holdout = holdout.rename(_key="customer_id")
    t = summary.left_join(holdout, summary.customer_id == holdout._key)
    n = t.n.fill_null(0).cast("int64")
    mean = t.cents.cast("float64") / 100.0 / n.cast("float64").nullif(0.0)
    duration = (obs.date - cal.date).days / cal.divisor
    return t.select(
        "customer_id",
        frequency_cal=t.frequency,
        recency_cal=t.recency,
        T_cal=t["T"],
        monetary_value_cal=t.monetary_value,
        frequency_holdout=n,
        monetary_value_holdout=mean.fill_null(0.0),
        duration_holdout=ibis.literal(duration, type="float64"),
    )


def calibration_holdout_split(
    engine: Engine,
    calibration_end: DateLike,
    observation_end: DateLike | None = None,
    time_unit: str = "days",
) -> pd.DataFrame:
    """Per-customer calibration features and holdout outcomes, executed.

    Parameters
    ----------
    engine : Engine
        Engine over the workspace (``get_engine(ws, "duckdb")``).
    calibration_end : date or str
        Last day of the calibration period (inclusive).
    observation_end : date or str, default=None
        Last day of the holdout period (inclusive); default the latest order date.
    time_unit : {"days", "weeks"}, default="days"
        Unit of ``recency_cal``, ``T_cal`` and ``duration_holdout``.

    Returns
    -------
    pandas.DataFrame
        :data:`CALIBRATION_COLUMNS`, sorted by ``customer_id``; ``df.attrs``
        holds ``calibration_end``, ``observation_end`` and ``time_unit``.

    Raises
    ------
    InvalidParameterError
        Bad dates, ``observation_end <= calibration_end`` or unknown ``time_unit``.

    Examples
    --------
    >>> import tempfile, os
    >>> from shopseg.workspace import Workspace
    >>> from shopseg.engine import get_engine
    >>> ws = Workspace.init(os.path.join(tempfile.mkdtemp(), "ws.duckdb"))
    >>> _ = ws.con.execute("INSERT INTO orders (order_id, customer_id, ordered_at) VALUES "
    ...     "('o1', 'c1', '2024-01-01'), ('o2', 'c1', '2024-01-08'), ('o3', 'c1', '2024-01-20')")
    >>> _ = ws.con.execute("INSERT INTO order_lines (order_id, line_number, product_id, quantity, unit_price) "
    ...     "VALUES ('o1', 1, 'p', 1, 10.0), ('o2', 1, 'p', 1, 20.0), ('o3', 1, 'p', 1, 30.0)")
    >>> df = calibration_holdout_split(get_engine(ws, "duckdb"), "2024-01-14", "2024-01-28")
    >>> df.drop(columns="customer_id").to_dict("records")  # doctest: +NORMALIZE_WHITESPACE
    [{'frequency_cal': 1, 'recency_cal': 7.0, 'T_cal': 13.0, 'monetary_value_cal': 20.0,
      'frequency_holdout': 1, 'monetary_value_holdout': 30.0, 'duration_holdout': 14.0}]
    >>> ws.close()
    """
    cal, obs = _windows(engine, calibration_end, observation_end, time_unit)
    df = engine.execute(_split(engine, cal, obs))
    df = df.sort_values("customer_id", kind="stable").reset_index(drop=True)[CALIBRATION_COLUMNS]
    df.attrs.update(
        {"calibration_end": cal.date.isoformat(), "observation_end": obs.date.isoformat(), "time_unit": cal.time_unit}
    )
    return df
