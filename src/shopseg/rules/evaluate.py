"""Evaluate a rule on one customer's profile and events, in pure Python (the live path and the oracle).

Semantics shared with :mod:`shopseg.rules.compile` (a Hypothesis test holds the two equal):

- **Missing values.** A condition on a missing (NULL/NaN) value is false;
  ``IS NULL`` is the only test that sees it. ``NOT`` is the complement, so
  ``NOT age > 30`` includes customers of unknown age. Every condition is
  therefore true or false (two-valued logic), and De Morgan holds.
- **Dates.** Timestamp fields are compared as calendar dates. ``-90d`` is the
  as-of date minus 90 days, ``-4w`` minus 28 days, ``-6m`` minus six calendar
  months (the day clamped to the month's end). ``last_order < -90d``: the last
  order was before that day.
- **Event windows.** Only events with a customer on or before the as-of date
  count. ``within=-7d``: the last 7 days including the as-of date (as the
  features' ``_7d`` columns); ``between 'a' and 'b'``: both days included.
- **Event filters.** ``type`` and ``product_id`` are columns; any other name is
  a top-level property of the event's JSON ``properties``. A text value
  matches the property's text; a number matches its numeric value.
- **Aggregates.** ``count`` and ``sum`` are 0 without matching events;
  ``avg``/``min``/``max`` read numeric property values and are missing
  without one (so the condition is false). Sums are exactly rounded
  (``math.fsum``): the order the events are read in does not matter.
- **Orders.** ``orders(...)`` reads purchase orders as the features define
  them (not cancelled, purchase lines only): ``value`` in currency, ``units``,
  filter ``channel`` (trimmed, lower case).
- **Distance** is the haversine distance (Earth radius 6371.0088 km) from
  the customer's ``lat``/``lon`` (``customers`` table).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from shopseg.errors import Issue, SegmentError
from shopseg.features.asof import parse_date
from shopseg.rules.fields import FIELDS, FieldRegistry
from shopseg.rules.nodes import (
    And,
    Between,
    Compare,
    Contains,
    Distance,
    Event,
    In,
    IsNull,
    Node,
    Not,
    Or,
    RelDate,
    Segment,
    SegmentRef,
    Value,
    iso_date,
    walk,
)
from shopseg.rules.semantics import (
    aggregate_values,
    as_date,
    event_day,
    event_props,
    event_window,
    haversine_km,
    is_missing,
    matches_filters,
    prop_number,
    resolve_offset,
)
from shopseg.rules.validate import validate_segment

__all__ = [
    "evaluate_segment",
    "evaluate_node",
    "customer_evaluator",
    "Aggregates",
    "explain_segment",
    "Step",
]

#: ``(condition, as_of) -> aggregate`` of ``events(...)`` conditions computed elsewhere (the live engine's
#: incremental store, :mod:`shopseg.live.aggregates`) instead of scanning the events.
Aggregates = Callable[[Event, dt.date], "float | None"]
_OPS = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def _literal(value: Value, ftype: str, as_of: dt.date) -> Any:
    if ftype == "timestamp":
        return resolve_offset(value, as_of) if isinstance(value, RelDate) else iso_date(value)
    return value


class _Evaluator:
    def __init__(
        self,
        profile: Mapping[str, Any],
        events: list[Mapping[str, Any]],
        as_of: dt.date,
        fields: FieldRegistry,
        segments: Mapping[str, Segment],
        orders: list[Mapping[str, Any]] | None = None,
        aggregates: Aggregates | None = None,
    ) -> None:
        self.profile, self.events, self.as_of = profile, events, as_of
        self.fields, self.segments = fields, segments
        self.orders = orders or []
        self.aggregates = aggregates
        self.refs: dict[str, bool] = {}  # segment('name') -> outcome: one customer, one as-of date

    def segment_ref(self, node: SegmentRef) -> bool:
        held = self.refs.get(node.name)
        if held is None:
            held = self.refs[node.name] = self(self.segments[node.name].rule)
        return held

    def field_value(self, name: str) -> tuple[Any, str]:
        f = self.fields.resolve(name)
        value = self.profile.get(f.name)
        if is_missing(value):
            return None, f.type
        return (as_date(value) if f.type == "timestamp" else value), f.type

    def __call__(self, node: Node) -> bool:
        return _STEPS[type(node)](self, node)

    def all_of(self, node: And) -> bool:
        for item in node.items:
            if not self(item):
                return False
        return True

    def any_of(self, node: Or) -> bool:
        for item in node.items:
            if self(item):
                return True
        return False

    def condition(self, node: Node) -> bool:
        """A condition on a profile field."""
        value, ftype = self.field_value(node.field)  # type: ignore[union-attr]  # a field condition (the caller dispatches)
        if isinstance(node, IsNull):
            return (value is not None) if node.negated else (value is None)
        if value is None:
            return False
        if isinstance(node, Compare):
            return bool(_OPS[node.op](value, _literal(node.value, ftype, self.as_of)))
        if isinstance(node, Between):
            low, high = (_literal(v, ftype, self.as_of) for v in (node.low, node.high))
            return bool(low <= value <= high)
        if isinstance(node, In):
            return any(value == _literal(v, ftype, self.as_of) for v in node.values)
        assert isinstance(node, Contains)
        return str(node.value) in value

    def event_value(self, node: Event) -> float | None:
        """The aggregate the condition compares (count and sum are 0 without events)."""
        if self.aggregates is not None and node.source == "events":
            return self.aggregates(node, self.as_of)
        after, last = event_window(node, self.as_of)
        rows, stamp = (self.events, "occurred_at") if node.source == "events" else (self.orders, "ordered_at")
        picked = []
        for ev in rows:
            day = event_day(ev, stamp)
            if day is None:
                continue
            if day <= last and (after is None or day > after) and matches_filters(node.filters, ev, node.source):
                picked.append(ev)
        if node.agg == "count":
            return float(len(picked))
        read = event_props if node.source == "events" else dict
        nums = [n for n in (prop_number(read(ev).get(node.prop)) for ev in picked) if n is not None]  # type: ignore[arg-type]
        return aggregate_values(node.agg, nums)

    def event(self, node: Event) -> bool:
        if self.aggregates is not None and node.source == "events":
            total = self.aggregates(node, self.as_of)
        else:
            total = self.event_value(node)
        return total is not None and bool(_OPS[node.op](total, node.value))

    def distance_value(self, node: Distance) -> float | None:
        lat, lon = self.profile.get("lat"), self.profile.get("lon")
        if is_missing(lat) or is_missing(lon):
            return None
        return haversine_km(float(lat), float(lon), node.lat, node.lon)  # type: ignore[arg-type]

    def distance(self, node: Distance) -> bool:
        km = self.distance_value(node)
        return km is not None and bool(_OPS[node.op](km, node.km))

    def observed(self, node: Node) -> Any:
        """What the customer has for one condition: the field value, the aggregate or the distance."""
        if isinstance(node, Event):
            return self.event_value(node)
        if isinstance(node, Distance):
            return self.distance_value(node)
        if isinstance(node, Compare | Between | In | Contains | IsNull):
            return self.field_value(node.field)[0]
        return None


#: How each kind of node is evaluated: a look-up by type, not a chain of tests.
_STEPS: dict[type, Callable[[_Evaluator, Any], bool]] = {
    And: _Evaluator.all_of,
    Or: _Evaluator.any_of,
    Not: lambda ev, node: not ev(node.item),
    SegmentRef: _Evaluator.segment_ref,
    Event: _Evaluator.event,
    Distance: _Evaluator.distance,
    **{kind: _Evaluator.condition for kind in (Compare, Between, In, Contains, IsNull)},
}


def evaluate_node(
    node: Node,
    profile: Mapping[str, Any],
    events: Iterable[Mapping[str, Any]] = (),
    *,
    as_of: dt.date,
    fields: FieldRegistry = FIELDS,
    segments: Mapping[str, Segment] | None = None,
    orders: Iterable[Mapping[str, Any]] = (),
    aggregates: Aggregates | None = None,
) -> bool:
    """Evaluate one (validated) node; see :func:`evaluate_segment`.

    With ``aggregates``, ``events(...)`` conditions take their aggregate from it (``events`` is then not read);
    every other part of the rule is evaluated here as always.
    """
    return _Evaluator(profile, list(events), as_of, fields, segments or {}, list(orders), aggregates)(node)


def customer_evaluator(
    profile: Mapping[str, Any],
    events: Iterable[Mapping[str, Any]] = (),
    *,
    as_of: dt.date,
    fields: FieldRegistry = FIELDS,
    segments: Mapping[str, Segment] | None = None,
    orders: Iterable[Mapping[str, Any]] = (),
    aggregates: Aggregates | None = None,
) -> Callable[[Node], bool]:
    """One customer's evaluator: ``node -> bool`` for many (validated) nodes; see :func:`evaluate_node`."""
    return _Evaluator(profile, list(events), as_of, fields, segments or {}, list(orders), aggregates)


def evaluate_segment(
    segment: Segment,
    profile: Mapping[str, Any],
    events: Iterable[Mapping[str, Any]] = (),
    *,
    as_of: dt.date | str,
    fields: FieldRegistry = FIELDS,
    segments: Mapping[str, Segment] | None = None,
    orders: Iterable[Mapping[str, Any]] = (),
) -> bool:
    """Is this customer in ``segment``?

    Parameters
    ----------
    segment : Segment
        A parsed rule (validated here).
    profile : mapping
        Field name -> value (feature columns, ``rfm_segment``, ``lifecycle_stage``,
        ``lat``/``lon``); missing keys are NULL.
    events : iterable of mapping, default=()
        The customer's events: ``type``, ``occurred_at``, ``product_id``,
        ``properties`` (dict or JSON text).
    as_of : date or str
        The reference date of relative offsets and windows.
    fields : FieldRegistry, default=FIELDS
    segments : mapping of str to Segment, default=None
        Saved segments ``segment('name')`` refers to.
    orders : iterable of mapping, default=()
        The customer's purchase orders (for ``orders(...)``): ``ordered_at``,
        ``value`` (currency), ``units``, ``channel`` (trimmed, lower case).

    Returns
    -------
    bool

    Examples
    --------
    >>> from shopseg.rules.parse import parse_segment
    >>> seg = parse_segment("orders >= 3 AND last_order < -90d")
    >>> evaluate_segment(seg, {"orders": 4, "last_order_at": "2024-01-02"}, as_of="2024-06-30")
    True
    """
    day = parse_date(as_of)
    validate_segment(segment, fields, segments if segments is not None else None)
    refs = segments or {}
    try:
        return _Evaluator(profile, list(events), day, fields, refs, list(orders))(segment.rule)
    except KeyError as exc:  # a segment('name') without its definition
        issue = Issue("/", "unknown_segment", f"unknown segment {exc.args[0]!r}: pass it in segments=.")
        raise SegmentError(f"segment: {issue.message}", [issue]) from None


@dataclass(frozen=True)
class Step:
    """One line of :func:`explain_segment`: a condition, the customer's value and whether it held."""

    path: str
    depth: int
    condition: str
    value: Any
    held: bool


def explain_segment(
    segment: Segment,
    profile: Mapping[str, Any],
    events: Iterable[Mapping[str, Any]] = (),
    *,
    as_of: dt.date | str,
    fields: FieldRegistry = FIELDS,
    segments: Mapping[str, Segment] | None = None,
    orders: Iterable[Mapping[str, Any]] = (),
    validated: bool = False,
) -> list[Step]:
    """Every node of the rule, depth first, with the customer's value and the outcome.

    ``validated=True`` skips the check for a rule the caller already validated (once, at its boundary).

    Examples
    --------
    >>> from shopseg.rules.parse import parse_segment
    >>> steps = explain_segment(parse_segment("orders >= 3 AND spent > 100"), {"orders": 4, "revenue": 50.0},
    ...                         as_of="2024-06-30")
    >>> [(s.condition, s.value, s.held) for s in steps]
    [('orders >= 3 AND spent > 100', None, False), ('orders >= 3', 4, True), ('spent > 100', 50.0, False)]
    """
    from shopseg.rules.render import render_node

    day = parse_date(as_of)
    if not validated:
        validate_segment(segment, fields, segments if segments is not None else None)
    ev = _Evaluator(profile, list(events), day, fields, segments or {}, list(orders))
    return [
        Step(
            path or "/", len(re.findall(r"/(?:and|or)/\d+|/not", path)), render_node(node), ev.observed(node), ev(node)
        )
        for path, node in walk(segment.rule)
    ]
