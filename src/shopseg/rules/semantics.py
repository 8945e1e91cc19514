"""The shared meaning of dates, windows, event properties, aggregates and distances in a rule.

One definition for both evaluators: the Python one (:mod:`shopseg.rules.evaluate`,
live) reads these functions, and the Ibis compiler (:mod:`shopseg.rules.compile`)
and the live aggregate store (:mod:`shopseg.live.aggregates`) follow the same
constants and formulas. The semantics themselves are described in
:mod:`shopseg.rules.evaluate`.

>>> resolve_offset(RelDate(-6, "m"), dt.date(2024, 8, 31))
datetime.date(2024, 2, 29)
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from shopseg.rules.nodes import Event, RelDate, Value, iso_date

__all__ = [
    "EARTH_RADIUS_KM",
    "EVENT_COLUMNS",
    "NUMERIC_TEXT",
    "aggregate_values",
    "as_date",
    "event_day",
    "event_props",
    "event_window",
    "haversine_km",
    "is_missing",
    "matches_filters",
    "prop_number",
    "prop_text",
    "resolve_offset",
]

EARTH_RADIUS_KM = 6371.0088


EVENT_COLUMNS = ("type", "product_id")


#: Property text that counts as a number (the same regular expression runs in SQL).
NUMERIC_TEXT = r"^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$"


_NUMERIC = re.compile(NUMERIC_TEXT)


def resolve_offset(rel: RelDate, as_of: dt.date) -> dt.date:
    """The calendar date of an offset: ``-6m`` from 2024-08-31 is 2024-02-29."""
    if rel.unit == "d":
        return as_of + dt.timedelta(days=int(rel.amount))
    if rel.unit == "w":
        return as_of + dt.timedelta(weeks=int(rel.amount))
    months = as_of.year * 12 + as_of.month - 1 + int(rel.amount)
    year, month = divmod(months, 12)
    day = min(as_of.day, calendar.monthrange(year, month + 1)[1])
    return dt.date(year, month + 1, day)


def event_window(node: Event, as_of: dt.date) -> tuple[dt.date | None, dt.date]:
    """``(after, last)``: counted events have ``after < day <= last`` (``after`` None: no lower bound)."""
    after: dt.date | None = None
    last = as_of
    if node.within is not None:
        assert isinstance(node.within, RelDate)
        after = resolve_offset(node.within, as_of)
    if node.between is not None:
        start, end = iso_date(node.between[0]), iso_date(node.between[1])
        assert start is not None and end is not None
        prev = start - dt.timedelta(days=1)
        after = prev if after is None else max(after, prev)
        last = min(last, end)
    return after, last


def is_missing(value: Any) -> bool:
    """None, NaN, NaT or NA: a value a condition is false on."""
    if value is None or value is pd.NaT or value is pd.NA:
        return True
    return isinstance(value, float) and math.isnan(value)


def as_date(value: Any) -> dt.date:
    """A date, datetime or timestamp text as a calendar date."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return pd.Timestamp(value).date()


def prop_text(raw: Any) -> str | None:
    """A property as the text SQL compares (JSON for objects, ``true``/``false`` for booleans)."""
    if raw is None or isinstance(raw, dict | list):
        return None if raw is None else json.dumps(raw)
    if isinstance(raw, bool):
        return "true" if raw else "false"
    return str(raw)


def prop_number(raw: Any) -> float | None:
    """The numeric value of a property (a number, or text that :data:`NUMERIC_TEXT` matches), else None."""
    if isinstance(raw, bool) or raw is None:
        return None
    if isinstance(raw, int | float):
        return float(raw)
    return float(raw) if isinstance(raw, str) and _NUMERIC.match(raw) else None


def matches_filters(filters: Iterable[tuple[str, Value]], event: Mapping[str, Any], source: str = "events") -> bool:
    """Does one event (or, with ``source="orders"``, one order) pass an event condition's equality filters?"""
    props = event_props(event) if source == "events" else event
    for key, want in filters:
        raw = event.get(key) if key in EVENT_COLUMNS else props.get(key)
        if isinstance(want, str):
            if prop_text(raw) != want:
                return False
        elif prop_number(raw) != float(want):  # type: ignore[arg-type]
            return False
    return True


def event_day(event: Mapping[str, Any], stamp: str = "occurred_at") -> dt.date | None:
    """The calendar day an event counts on, None when its time is missing (it counts in no window)."""
    value = event.get(stamp)
    if type(value) is dt.datetime:
        return value.date()
    return None if is_missing(value) else as_date(value)


def event_props(event: Mapping[str, Any]) -> dict[str, Any]:
    """An event's properties as a dict (``properties`` may be a dict or JSON text; anything else is empty)."""
    props = event.get("properties") or {}
    if isinstance(props, str):
        try:
            props = json.loads(props)
        except ValueError:
            return {}
    return props if isinstance(props, dict) else {}


def aggregate_values(agg: str, nums: Sequence[float]) -> float | None:
    """``sum``/``avg``/``min``/``max`` of numeric property values; ``sum`` is 0 and the others None without any.

    Sums are exactly rounded (:func:`math.fsum`), so they do not depend on the order the events are read in.
    """
    if agg == "sum":
        return math.fsum(nums)
    if not nums:
        return None
    return {"avg": math.fsum(nums) / len(nums), "min": min(nums), "max": max(nums)}[agg]


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km (the formula compile.py builds in Ibis)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, a)))
