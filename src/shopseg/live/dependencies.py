"""Which live segments an event (or the passing of a day) can change, read from the segment ASTs.

A segment depends on:

- **events** through its ``events(...)`` conditions (and those of the segments it
  refers to): an event can change the segment only if it passes the filters of
  one of them (``type``, ``product_id``, properties). The filter test is the
  evaluator's own, run on the one event, so it cannot drift from evaluation.
- **the clock** when a condition moves with the as-of date: a trailing window
  (``within=-30d``), an absolute window (``between``), or a relative date
  (``last_order < -90d``). These are re-evaluated by the scheduler each new day.
- **profile fields** only otherwise: they change with a batch features build, not
  with live events.

``orders(...)`` conditions read the batch purchase orders; they are clock
dependent when windowed but no live event changes them.

>>> from shopseg.rules.parse import parse_segment
>>> deps = SegmentDependencies(parse_segment("events(type='add_to_cart', within=-7d).count >= 1").rule)
>>> deps.clock, deps.event_types
(True, frozenset({'add_to_cart'}))
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from shopseg.rules.compile import inline_segments
from shopseg.rules.evaluate import evaluate_node
from shopseg.rules.nodes import Between, Compare, Event, In, Node, RelDate, Segment, walk

__all__ = ["SegmentDependencies", "DependencyIndex"]


def _has_reldate(node: Node) -> bool:
    if isinstance(node, Compare):
        return isinstance(node.value, RelDate)
    if isinstance(node, Between):
        return isinstance(node.low, RelDate) or isinstance(node.high, RelDate)
    if isinstance(node, In):
        return any(isinstance(v, RelDate) for v in node.values)
    return False


class SegmentDependencies:
    """What one (inlined) rule depends on: its event conditions, their types, and the clock."""

    def __init__(self, rule: Node) -> None:
        nodes = [n for _, n in walk(rule)]
        self.events: list[Event] = [n for n in nodes if isinstance(n, Event) and n.source == "events"]
        #: Event conditions reduced to "does this one event pass my filters" probes.
        probes = {Event(e.source, e.filters, None, None, "count", None, ">=", 1) for e in self.events}
        types = {dict(e.filters).get("type") for e in self.events}
        self.any_type = None in types
        self.event_types = frozenset(str(t) for t in types if t is not None)
        #: Types whose every event passes a condition's filters (only ``type`` is filtered): no probe needed.
        self._type_only = frozenset(
            str(dict(p.filters)["type"]) for p in probes if [k for k, _ in p.filters] == ["type"]
        )
        self._probes = [p for p in probes if [k for k, _ in p.filters] != ["type"]]
        self.clock = any(
            (isinstance(n, Event) and (n.within is not None or n.between is not None)) or _has_reldate(n) for n in nodes
        )

    def touched_by(self, event: Mapping[str, Any]) -> bool:
        """Can ``event`` change an aggregate of this rule? (It passes one event condition's filters.)"""
        if not self.any_type and event.get("type") not in self.event_types:
            return False
        if event.get("type") in self._type_only:
            return True
        day = event["occurred_at"].date() if isinstance(event["occurred_at"], dt.datetime) else event["occurred_at"]
        return any(evaluate_node(p, {}, [event], as_of=day) for p in self._probes)


class DependencyIndex:
    """Segment name -> dependencies, with a by-type index for the per-event look-up."""

    def __init__(self, segments: Mapping[str, Segment]) -> None:
        self.deps = {name: SegmentDependencies(inline_segments(seg.rule, segments)) for name, seg in segments.items()}
        self._by_type: dict[str, list[str]] = {}
        self._any: list[str] = []
        for name, d in self.deps.items():
            if d.any_type:
                self._any.append(name)
            for t in d.event_types:
                self._by_type.setdefault(t, []).append(name)

    def affected(self, event: Mapping[str, Any]) -> list[str]:
        """Names of the segments ``event`` can change, in a stable order."""
        candidates = dict.fromkeys(self._by_type.get(str(event.get("type")), []) + self._any)
        return [n for n in candidates if self.deps[n].touched_by(event)]

    def clock_dependent(self) -> list[str]:
        """Segments the scheduler re-evaluates when the day changes."""
        return [n for n, d in self.deps.items() if d.clock]
