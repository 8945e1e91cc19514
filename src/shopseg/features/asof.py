"""The as-of window: which rows a feature table may see, and how time is measured.

Every feature is computed *as of* a calendar date. A row belongs to the window
when its timestamp falls on or before that date, i.e. ``ts < as_of + 1 day``
(:attr:`AsOf.cutoff`). Day counts are differences between calendar dates (the
timestamps are cast to dates first), so an order at 23:59 and one at 00:01 the
next day are one day apart, and two orders on the same day are zero days apart.

``time_unit`` scales the lifetimes quantities (``recency``, ``T``): ``"days"``
divides the day count by 1, ``"weeks"`` by 7. Other ``*_days`` columns are
always in days.

Examples
--------
>>> window = AsOf.of("1997-09-30", "weeks")
>>> window.date, window.cutoff, window.divisor
(datetime.date(1997, 9, 30), datetime.datetime(1997, 10, 1, 0, 0), 7.0)
>>> AsOf.of("30/09/1997")
Traceback (most recent call last):
...
shopseg.errors.InvalidParameterError: The 'as_of' parameter must be a date in ISO form YYYY-MM-DD. Got '30/09/1997' instead.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

import ibis

from shopseg.errors import InvalidParameterError, did_you_mean

if TYPE_CHECKING:
    import ibis.expr.types as ir

__all__ = [
    "AsOf",
    "TIME_UNITS",
    "DateLike",
    "EARLIEST_DATE",
    "LATEST_DATE",
    "parse_date",
    "check_time_unit",
    "day_diff",
]

TIME_UNITS: dict[str, float] = {"days": 1.0, "weeks": 7.0}
#: The range of an as-of date: wide enough for any store, narrow enough that a window of centuries fits.
EARLIEST_DATE, LATEST_DATE = dt.date(1900, 1, 1), dt.date(2999, 12, 31)

DateLike = str | dt.date | dt.datetime


def parse_date(value: DateLike, name: str = "as_of") -> dt.date:
    """Return ``value`` as a :class:`datetime.date` (a datetime or pandas Timestamp keeps its date part).

    Raises
    ------
    InvalidParameterError
        When ``value`` is not a date, a datetime or an ISO ``YYYY-MM-DD`` string, or lies
        outside ``EARLIEST_DATE`` .. ``LATEST_DATE`` (1900-01-01 .. 2999-12-31).
    """
    if isinstance(value, dt.datetime):
        day = value.date()
    elif isinstance(value, dt.date):
        day = value
    else:
        try:
            day = dt.date.fromisoformat(str(value).strip()[:10])
        except ValueError:
            raise InvalidParameterError(
                f"The '{name}' parameter must be a date in ISO form YYYY-MM-DD. Got {value!r} instead."
            ) from None
    if not EARLIEST_DATE <= day <= LATEST_DATE:  # windows of years around it must stay representable
        raise InvalidParameterError(
            f"The '{name}' parameter must be a date between {EARLIEST_DATE} and {LATEST_DATE}. Got {day} instead."
        )
    return day


def check_time_unit(time_unit: str) -> float:
    """Return the number of days in ``time_unit``; raise for an unknown unit."""
    if time_unit not in TIME_UNITS:
        raise InvalidParameterError(
            f"The 'time_unit' parameter must be one of {list(TIME_UNITS)}. Got {time_unit!r} instead."
            f"{did_you_mean(str(time_unit), TIME_UNITS)}"
        )
    return TIME_UNITS[time_unit]


def day_diff(later: ir.DateValue, earlier: ir.DateValue) -> ir.IntegerValue:
    """Whole calendar days from ``earlier`` to ``later`` (both dates), as int64."""
    return later.delta(earlier, unit="day").cast("int64")


@dataclass(frozen=True)
class AsOf:
    """An as-of date, its exclusive timestamp cutoff and the time unit of recency and T.

    Parameters
    ----------
    date : datetime.date
        The last calendar day whose data is included.
    time_unit : {"days", "weeks"}
        Unit of ``recency`` and ``T``.
    """

    date: dt.date
    time_unit: str = "days"

    @classmethod
    def of(cls, as_of: DateLike, time_unit: str = "days") -> AsOf:
        """Validate ``as_of`` and ``time_unit`` and build the window."""
        check_time_unit(time_unit)
        return cls(parse_date(as_of), time_unit)

    @property
    def cutoff(self) -> dt.datetime:
        """First instant *after* the window: midnight starting the day after ``date``."""
        return dt.datetime.combine(self.date + dt.timedelta(days=1), dt.time())

    @property
    def divisor(self) -> float:
        """Days per ``time_unit``."""
        return TIME_UNITS[self.time_unit]

    def date_lit(self) -> ir.DateScalar:
        """``date`` as an Ibis literal."""
        return ibis.date(self.date.year, self.date.month, self.date.day)

    def cutoff_lit(self) -> ir.TimestampScalar:
        """``cutoff`` as an Ibis timestamp literal."""
        return ibis.literal(self.cutoff, type="timestamp")

    def since_lit(self, days: int) -> ir.TimestampScalar:
        """Start of the trailing window of ``days`` calendar days ending on ``date`` (inclusive)."""
        return ibis.literal(self.cutoff - dt.timedelta(days=days), type="timestamp")

    def in_unit(self, days: ir.NumericValue) -> ir.FloatingValue:
        """A day count expressed in ``time_unit`` (float64)."""
        return days.cast("float64") / self.divisor
