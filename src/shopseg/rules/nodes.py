"""The segment AST: immutable nodes shared by the text form, the JSON form, the compiler and the evaluator.

Every node is a frozen dataclass. Source positions (``pos``, ``value_pos``)
are kept for error messages only and take no part in equality, so
``parse(render(ast)) == ast`` holds whatever the spacing.

=================  ====================================================================
node               text form
=================  ====================================================================
:class:`Compare`   ``orders >= 3``, ``last_order < -90d``, ``country != 'DE'``
:class:`Between`   ``revenue BETWEEN 100 AND 500``
:class:`In`        ``country IN ('DE', 'AT')``
:class:`Contains`  ``city CONTAINS 'burg'``
:class:`IsNull`    ``age IS NULL``, ``age IS NOT NULL``
:class:`Event`     ``events(type='purchase', within=-30d).count >= 2``
:class:`SegmentRef` ``segment('vip')``
:class:`Distance`  ``distance(52.52, 13.405) < 50km``
:class:`And`       ``a AND b`` (``TRUE`` is the empty ``And``)
:class:`Or`        ``a OR b`` (``FALSE`` is the empty ``Or``)
:class:`Not`       ``NOT a``
=================  ====================================================================
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Union

__all__ = [
    "iso_date",
    "number_of",
    "reldate_of",
    "Span",
    "RelDate",
    "Value",
    "Compare",
    "Between",
    "In",
    "Contains",
    "IsNull",
    "Event",
    "SegmentRef",
    "Distance",
    "And",
    "Or",
    "Not",
    "Node",
    "Segment",
    "COMPARE_OPS",
    "AGGREGATES",
    "SOURCES",
    "ORDER_FILTERS",
    "ORDER_VALUES",
    "DATE_UNITS",
    "walk",
]

COMPARE_OPS = ("=", "!=", "<", "<=", ">", ">=")
AGGREGATES = ("count", "sum", "avg", "min", "max")
#: Sources of event conditions: the ``events`` table, or purchase orders (``orders``; see evaluate.py).
SOURCES = ("events", "orders")
#: What ``orders(...)`` conditions may filter on and aggregate.
ORDER_FILTERS = ("channel",)
ORDER_VALUES = ("value", "units")
#: Units of a relative date: days, weeks, calendar months.
DATE_UNITS = {"d": "days", "w": "weeks", "m": "months"}


@dataclass(frozen=True)
class Span:
    """Where a piece of the text form starts (1-based line and column) and how long it is."""

    line: int
    col: int
    length: int = 1


def _pos() -> Span | None:
    return field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class RelDate:
    """A date relative to the as-of date: ``-90d`` is ``RelDate(-90, "d")``."""

    amount: int | float
    unit: str
    pos: Span | None = _pos()


Value = Union[str, int, float, bool, RelDate]  # noqa: UP007 (a runtime alias)


@dataclass(frozen=True)
class Compare:
    """``field op value`` with ``op`` one of :data:`COMPARE_OPS`."""

    field: str
    op: str
    value: Value
    pos: Span | None = _pos()
    value_pos: Span | None = _pos()


@dataclass(frozen=True)
class Between:
    """``field BETWEEN low AND high`` (both ends included)."""

    field: str
    low: Value
    high: Value
    pos: Span | None = _pos()
    value_pos: Span | None = _pos()


@dataclass(frozen=True)
class In:
    """``field IN (v1, v2, ...)``."""

    field: str
    values: tuple[Value, ...]
    pos: Span | None = _pos()
    value_pos: Span | None = _pos()


@dataclass(frozen=True)
class Contains:
    """``field CONTAINS 'text'``: case-sensitive substring."""

    field: str
    value: Value
    pos: Span | None = _pos()
    value_pos: Span | None = _pos()


@dataclass(frozen=True)
class IsNull:
    """``field IS NULL`` or, with ``negated``, ``field IS NOT NULL``."""

    field: str
    negated: bool = False
    pos: Span | None = _pos()


@dataclass(frozen=True)
class Event:
    """An aggregate over a customer's events (or purchase orders) compared with a value.

    ``events(type='product_view', category='shoes', within=-7d).count >= 3`` is
    ``Event("events", (("type", "product_view"), ("category", "shoes")),
    RelDate(-7, "d"), None, "count", None, ">=", 3)``.

    Attributes
    ----------
    source : str
        ``"events"`` or ``"orders"`` (purchase orders: filter ``channel``,
        aggregate ``value`` or ``units``).
    filters : tuple of (str, value)
        Equality filters: ``type``/``product_id`` columns or JSON properties.
    within : RelDate or None
        Trailing window: the last N days (weeks, months) up to the as-of date.
    between : (str, str) or None
        Absolute window of ISO dates, both days included.
    agg : str
        One of :data:`AGGREGATES`.
    prop : str or None
        The numeric property ``sum``/``avg``/``min``/``max`` read.
    """

    source: str
    filters: tuple[tuple[str, Value], ...]
    within: RelDate | None
    between: tuple[str, str] | None
    agg: str
    prop: str | None
    op: str
    value: Value
    pos: Span | None = _pos()
    value_pos: Span | None = _pos()


@dataclass(frozen=True)
class SegmentRef:
    """``segment('vip')``: membership of another saved segment."""

    name: str
    pos: Span | None = _pos()


@dataclass(frozen=True)
class Distance:
    """``distance(lat, lon) op N km``: great-circle (haversine) distance of the customer's address."""

    lat: float
    lon: float
    op: str
    km: float
    unit: str = "km"
    pos: Span | None = _pos()


@dataclass(frozen=True)
class And:
    """All of ``items`` hold (the empty ``And`` is ``TRUE``)."""

    items: tuple[Node, ...]
    pos: Span | None = _pos()


@dataclass(frozen=True)
class Or:
    """At least one of ``items`` holds (the empty ``Or`` is ``FALSE``)."""

    items: tuple[Node, ...]
    pos: Span | None = _pos()


@dataclass(frozen=True)
class Not:
    """``item`` does not hold."""

    item: Node
    pos: Span | None = _pos()


Node = Union[Compare, Between, In, Contains, IsNull, Event, SegmentRef, Distance, And, Or, Not]  # noqa: UP007 (a runtime alias)


@dataclass(frozen=True)
class Segment:
    """A parsed rule; ``source`` is the text it came from (for carets in error messages)."""

    rule: Node
    source: str | None = field(default=None, compare=False, repr=False)
    name: str | None = field(default=None, compare=False)


def walk(node: Node, path: str = ""):
    """Yield ``(path, node)`` for ``node`` and every node below it, depth first.

    Paths follow the JSON form: ``/and/1/not``. Iterative (an explicit stack): any depth is walked.
    """
    stack: list[tuple[str, Node]] = [(path, node)]
    while stack:
        here, current = stack.pop()
        yield here, current
        if isinstance(current, And | Or):
            key = "and" if isinstance(current, And) else "or"
            stack.extend((f"{here}/{key}/{i}", current.items[i]) for i in reversed(range(len(current.items))))
        elif isinstance(current, Not):
            stack.append((f"{here}/not", current.item))


_DURATION = re.compile(r"([+-]?)(\d+(?:\.\d+)?)([A-Za-z_]\w*)")


def number_of(text: str) -> int | float:
    """``"3"`` -> ``3``, ``"2.5"`` -> ``2.5``."""
    if re.fullmatch(r"[+-]?\d+", text):
        return int(text)
    return float(text)


def reldate_of(text: str, pos: Span | None = None) -> RelDate:
    """``"-90d"`` -> ``RelDate(-90, "d")``; an unsigned offset gets unit ``"?d"`` (validation asks for a sign)."""
    m = _DURATION.fullmatch(text.strip())
    if m is None:
        return RelDate(0, f"?{text}", pos=pos)
    sign, digits, unit = m.groups()
    amount = number_of(digits) * (-1 if sign == "-" else 1)
    return RelDate(amount, unit if sign else f"?{unit}", pos=pos)


def iso_date(value: object) -> dt.date | None:
    """``'2024-01-31'`` -> ``date(2024, 1, 31)``; anything else -> None."""
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None
