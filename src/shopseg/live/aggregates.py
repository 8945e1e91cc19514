"""Incremental aggregates of the live segments' ``events(...)`` conditions, kept per customer.

Rescanning a customer's whole history for every condition of every affected
segment makes each event cost O(history x conditions). Instead each customer
keeps, for every distinct filter set of the saved segments' event conditions,
the days of the events that passed it (sorted), and for every (filter set,
property) that a ``sum``/``avg``/``min``/``max`` reads, the days and numeric
values of those events. A condition's aggregate in its window is then two
binary searches on the days (``count``) or the aggregate of one slice of the
values: nothing else of the history is read.

Matching, event days, windows, numeric values and the aggregates themselves are
the batch evaluator's functions (:func:`~shopseg.rules.semantics.matches_filters`,
:func:`~shopseg.rules.semantics.event_day`, :func:`~shopseg.rules.semantics.event_window`,
:func:`~shopseg.rules.semantics.prop_number`, :func:`~shopseg.rules.semantics.aggregate_values`),
and the rule around the conditions is still evaluated by
:func:`~shopseg.rules.evaluate.evaluate_node`; a Hypothesis test holds the
incremental memberships equal to a full rescan of the history. Sums are exactly
rounded, so reading the values in day order rather than arrival order changes nothing.

Days (ordinals) and values are stored as tuples of ints and floats, and the
store is a dict of them: the cyclic garbage collector stops tracking such
containers, so a large live state does not lengthen its pauses (measured: a
full collection over 60,000 customers took 313 ms with lists and arrays, 34 ms
with tuples). Adding an event copies the tuples it joins, O(matching events),
a memory copy.

>>> import datetime as dt
>>> from shopseg.rules.parse import parse_segment
>>> rule = parse_segment("events(type='purchase', within=-7d).sum(value) > 50").rule
>>> cat = ConditionCatalogue({"big": [rule]})
>>> series: dict = {}
>>> for day, value in [(1, 30), (3, 40), (9, 5)]:
...     _ = cat.add(series, {"type": "purchase", "occurred_at": dt.datetime(2024, 6, day), "properties": {"value": value}})
>>> cat.value(series, rule, dt.date(2024, 6, 7)), cat.value(series, rule, dt.date(2024, 6, 9))
(70.0, 45.0)
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from typing import Any

from shopseg.rules.nodes import Event, Node, Value, walk
from shopseg.rules.semantics import (
    aggregate_values,
    event_day,
    event_props,
    event_window,
    matches_filters,
    prop_number,
)

__all__ = ["ConditionCatalogue", "Series"]

Filters = tuple[tuple[str, Value], ...]
#: One customer's store: slot -> day ordinals (a count) or (day ordinals, values) (a property).
Series = dict[int, Any]


class _Key:
    """One distinct filter set: its store slots (count, and one per aggregated property) and the segments reading it."""

    __slots__ = ("filters", "type_only", "props", "segments", "slot", "value_slots")

    def __init__(self, filters: Filters) -> None:
        self.filters = filters
        #: The filter set is one text ``type``: a text event type passes it exactly when it is equal.
        self.type_only = [k for k, _ in filters] == ["type"] and isinstance(filters[0][1], str)
        self.props: list[str] = []
        self.segments: set[str] = set()
        self.slot = -1
        self.value_slots: tuple[tuple[str, int], ...] = ()


def _insert(days: tuple[int, ...], day: int) -> tuple[tuple[int, ...], int]:
    """``days`` with ``day`` inserted after any equal ones (stable), and its position."""
    pos = bisect_right(days, day)
    if pos == len(days):
        return days + (day,), pos
    return days[:pos] + (day,) + days[pos:], pos


class ConditionCatalogue:
    """The distinct ``events(...)`` filter sets of a set of rules, indexed by event type.

    A customer's store (:data:`Series`) maps a slot number to the sorted day
    ordinals of the events that passed one filter set (``count``), or to the
    days and numeric values of one property over them (``sum``/``avg``/``min``/``max``),
    all tuples.
    Slots are numbered from the :meth:`signature`, so two catalogues with equal
    signatures read each other's stores.

    Parameters
    ----------
    rules : mapping of str to iterable of Node
        Segment name -> the nodes whose ``events(...)`` conditions the segment
        reads (its rule, with the segments it refers to inlined).
    """

    def __init__(self, rules: Mapping[str, Iterable[Node]]) -> None:
        self.order = list(rules)
        keys: dict[Filters, _Key] = {}
        for name, nodes in rules.items():
            for root in nodes:
                for _, node in walk(root):
                    if isinstance(node, Event) and node.source == "events":
                        key = keys.get(node.filters) or keys.setdefault(node.filters, _Key(node.filters))
                        key.segments.add(name)
                        if node.agg != "count" and node.prop is not None and node.prop not in key.props:
                            key.props.append(node.prop)
        self.keys = list(keys.values())
        slots = {item: i for i, item in enumerate(self.signature())}
        for key in self.keys:
            key.slot = slots[(key.filters, None)]
            key.value_slots = tuple((prop, slots[(key.filters, prop)]) for prop in key.props)
        self._by_type: dict[str, list[_Key]] = {}
        self._any: list[_Key] = []
        for key in self.keys:
            typ = dict(key.filters).get("type")
            if isinstance(typ, str):  # a text event type passes it only when equal: look it up by type
                self._by_type.setdefault(typ, []).append(key)
            else:  # no type filter, or a numeric one: tested on every event
                self._any.append(key)
        self._affected: dict[frozenset[int], list[str]] = {}
        #: id(condition) -> (condition, as-of day, first day ordinal counted, last one, slot).
        self._plans: dict[int, tuple[Event, dt.date, int, int, int]] = {}

    def signature(self) -> list[tuple[Filters, str | None]]:
        """The store's slots in order: ``(filters, None)`` for a count, ``(filters, prop)`` for a property."""
        items = [(k.filters, None) for k in self.keys] + [(k.filters, p) for k in self.keys for p in k.props]
        return sorted(items, key=repr)

    def add(self, series: Series, event: Mapping[str, Any]) -> list[str]:
        """Add one event to a customer's store; return the segments whose conditions it passed, in rule order.

        An event without a time counts in no window, so it changes nothing.
        """
        day = event_day(event)
        if day is None:
            return []
        ordinal = day.toordinal()
        matched: list[int] = []
        props: dict[str, Any] | None = None
        typ = event.get("type")
        text = isinstance(typ, str)
        for group in (self._by_type.get(str(typ), ()), self._any) if text else (self.keys,):
            for key in group:
                if not (key.type_only and text) and not matches_filters(key.filters, event):
                    continue
                matched.append(key.slot)
                days = series.get(key.slot, ())
                series[key.slot] = days + (ordinal,) if not days or days[-1] <= ordinal else _insert(days, ordinal)[0]
                for prop, slot in key.value_slots:
                    props = event_props(event) if props is None else props
                    number = prop_number(props.get(prop))
                    if number is not None:
                        days, values = series.get(slot, ((), ()))
                        days, pos = _insert(days, ordinal)
                        series[slot] = (days, values[:pos] + (number,) + values[pos:])
        return self._segments_of(matched) if matched else []

    def _segments_of(self, matched: list[int]) -> list[str]:
        found = frozenset(matched)
        names = self._affected.get(found)
        if names is None:
            hit = set().union(*(k.segments for k in self.keys if k.slot in found))
            names = self._affected[found] = [n for n in self.order if n in hit]
        return names

    def _plan(self, node: Event, as_of: dt.date) -> tuple[Event, dt.date, int, int, int]:
        """Where condition ``node`` reads on ``as_of``: its window as day ordinals (both included) and its slot."""
        after, last = event_window(node, as_of)
        first = dt.date.min.toordinal() if after is None else after.toordinal() + 1
        key = next(k for k in self.keys if k.filters == node.filters)
        slot = key.slot if node.agg == "count" else dict(key.value_slots)[str(node.prop)]
        plan = self._plans[id(node)] = (node, as_of, first, last.toordinal(), slot)
        return plan

    def locate(self, node: Event, as_of: dt.date) -> tuple[int, int, int]:
        """Where ``events(...)`` condition ``node`` reads on ``as_of``: its slot, and its window as day ordinals
        (both included)."""
        _, _, first, last, slot = self._plan(node, as_of)
        return slot, first, last

    def value(self, series: Series, node: Event, as_of: dt.date) -> float | None:
        """The aggregate of ``events(...)`` condition ``node`` on ``as_of`` from a customer's store."""
        plan = self._plans.get(id(node))
        if plan is None or plan[0] is not node or (plan[1] is not as_of and plan[1] != as_of):
            plan = self._plan(node, as_of)
        data = series.get(plan[4])
        if node.agg == "count":
            if data is None:
                return 0.0
            n = bisect_right(data, plan[3]) - bisect_left(data, plan[2])
            return float(n) if n > 0 else 0.0
        if data is None:
            return aggregate_values(node.agg, ())
        days, values = data
        return aggregate_values(node.agg, values[bisect_left(days, plan[2]) : bisect_right(days, plan[3])])
