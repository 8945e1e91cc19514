"""In-memory live segmentation: profiles updated by each event, memberships re-evaluated where they can change.

:class:`LiveEvaluator` holds, per customer, the batch profile (feature, RFM and
lifecycle fields, coordinates), the purchase orders and the events seen so
far, and the set of saved segments each customer is in. It uses the batch
evaluator (:func:`shopseg.segments.evaluate.evaluate_node`) on that state, so
live and batch memberships agree by construction on the same data; an event
re-evaluates only the segments :class:`~shopseg.live.dependencies.DependencyIndex`
says it can change, and :meth:`LiveEvaluator.tick` re-evaluates the clock
dependent segments of every customer when the day moves. No I/O: the
:class:`~shopseg.live.engine.LiveEngine` adds storage, threads and delivery.

>>> import datetime as dt
>>> from shopseg.segments.parse import parse_segment
>>> ev = LiveEvaluator({"carts": parse_segment("events(type='add_to_cart').count >= 1")})
>>> [t.kind for t in ev.apply({"event_id": "e1", "customer_id": "c1", "type": "add_to_cart",
...                            "occurred_at": dt.datetime(2024, 6, 1, 9)}, dt.date(2024, 6, 1))]
['entry']
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from shopseg.live.dependencies import DependencyIndex
from shopseg.segments.evaluate import evaluate_node
from shopseg.segments.fields import FIELDS, FieldRegistry
from shopseg.segments.nodes import Segment

__all__ = ["Transition", "LiveProfile", "LiveEvaluator"]


@dataclass(frozen=True)
class Transition:
    """A customer entered or left a segment: ``kind`` is ``"entry"`` or ``"exit"``.

    ``event_id`` is the event that caused it, or None when the passing of time
    (the scheduler) or a restart did.
    """

    segment: str
    customer_id: str
    kind: str
    at: dt.datetime
    event_id: str | None = None


@dataclass
class LiveProfile:
    """One customer's live state."""

    customer_id: str
    base: dict[str, Any] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    orders: list[dict[str, Any]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    last_event_at: dt.datetime | None = None

    def add(self, event: Mapping[str, Any]) -> None:
        row = {k: event.get(k) for k in ("event_id", "type", "occurred_at", "product_id", "properties")}
        self.events.append(row)
        self.counts[row["type"]] = self.counts.get(row["type"], 0) + 1
        at = row["occurred_at"]
        if self.last_event_at is None or at > self.last_event_at:
            self.last_event_at = at

    def summary(self) -> dict[str, Any]:
        """What the API shows: events seen (by type) and the last event time."""
        return {"events": len(self.events), "events_by_type": dict(sorted(self.counts.items())),
                "last_event_at": self.last_event_at}  # fmt: skip


class LiveEvaluator:
    """Live profiles and memberships of every known customer.

    Parameters
    ----------
    segments : mapping of str to Segment
        The saved (validated) segments.
    fields : FieldRegistry, default=FIELDS
        The field registry the segments were validated with.
    base : callable, default=None
        ``customer_id -> dict`` of batch profile fields for a customer first
        seen live (default: no fields).
    """

    def __init__(self, segments: Mapping[str, Segment], fields: FieldRegistry = FIELDS,
                 base: Callable[[str], dict[str, Any]] | None = None) -> None:  # fmt: skip
        self.fields = fields
        self.base = base or (lambda cid: {})
        self.profiles: dict[str, LiveProfile] = {}
        self.members: dict[str, set[str]] = {}
        self.set_segments(segments)

    # -- state -------------------------------------------------------------------------
    def set_segments(self, segments: Mapping[str, Segment], as_of: dt.date | None = None) -> None:
        """Replace the segment set; memberships of new or changed segments are recomputed (no transitions)."""
        old = getattr(self, "segments", {})
        self.segments = dict(segments)
        self.index = DependencyIndex(self.segments)
        self.members = {n: m for n, m in self.members.items() if n in self.segments and old.get(n) == self.segments[n]}
        for name in self.segments:
            if name not in self.members:
                self.members[name] = set()
                if as_of is not None:
                    self.members[name] = {c for c in self.profiles if self.is_member(name, c, as_of)}

    def profile(self, customer_id: str) -> LiveProfile:
        """The live profile of ``customer_id`` (created, with its batch fields, on first sight)."""
        prof = self.profiles.get(customer_id)
        if prof is None:
            prof = self.profiles[customer_id] = LiveProfile(customer_id, base=self.base(customer_id))
        return prof

    def load(self, profiles: Iterable[LiveProfile], as_of: dt.date) -> None:
        """Add known customers (batch fields, stored events) and compute their memberships silently."""
        for prof in profiles:
            self.profiles[prof.customer_id] = prof
        for name in self.segments:
            self.members[name] = {c for c in self.profiles if self.is_member(name, c, as_of)}

    def forget(self, customer_id: str) -> None:
        """Erase a customer from the live state (no exit transitions)."""
        self.profiles.pop(customer_id, None)
        for ids in self.members.values():
            ids.discard(customer_id)

    def segments_of(self, customer_id: str) -> list[str]:
        return sorted(n for n, ids in self.members.items() if customer_id in ids)

    # -- evaluation --------------------------------------------------------------------
    def is_member(self, name: str, customer_id: str, as_of: dt.date) -> bool:
        """Evaluate segment ``name`` for one customer now (the batch evaluator, no validation).

        Only events of the types the rule reads are passed (in their order): the
        others fail every one of its conditions' filters anyway.
        """
        prof = self.profile(customer_id)
        deps = self.index.deps[name]
        events = prof.events
        if not deps.any_type:
            events = [e for e in events if e["type"] in deps.event_types] if deps.events else []
        return evaluate_node(self.segments[name].rule, prof.base, events, as_of=as_of, fields=self.fields,
                             segments=self.segments, orders=prof.orders)  # fmt: skip

    def _update(self, customer_id: str, names: Iterable[str], as_of: dt.date, at: dt.datetime,
                event_id: str | None) -> list[Transition]:  # fmt: skip
        out = []
        for name in names:
            ids = self.members[name]
            now, before = self.is_member(name, customer_id, as_of), customer_id in ids
            if now != before:
                (ids.add if now else ids.discard)(customer_id)
                out.append(Transition(name, customer_id, "entry" if now else "exit", at, event_id))
        return out

    def apply(self, event: Mapping[str, Any], as_of: dt.date, at: dt.datetime | None = None) -> list[Transition]:
        """Add one event to its customer's profile; return the entries and exits it caused.

        ``event`` has ``customer_id``, ``type``, ``occurred_at`` (datetime) and
        optionally ``event_id``, ``product_id``, ``properties`` (dict).
        Anonymous events (no ``customer_id``) change nothing.
        """
        cid = event.get("customer_id")
        if cid is None:
            return []
        self.profile(cid).add(event)
        names = self.index.affected(event)
        return self._update(cid, names, as_of, at or event["occurred_at"], event.get("event_id"))

    def tick(self, as_of: dt.date, at: dt.datetime) -> list[Transition]:
        """Re-evaluate every clock-dependent segment for every customer (the day moved)."""
        names = self.index.clock_dependent()
        out: list[Transition] = []
        if names:
            for cid in list(self.profiles):
                out.extend(self._update(cid, names, as_of, at, None))
        return out

    def resync(self, as_of: dt.date, at: dt.datetime, stored: Mapping[str, set[str]]) -> list[Transition]:
        """Transitions from ``stored`` memberships (e.g. persisted before a restart) to the current ones."""
        out = []
        for name, ids in self.members.items():
            before = stored.get(name, set())
            out += [Transition(name, c, "entry", at) for c in sorted(ids - before)]
            out += [Transition(name, c, "exit", at) for c in sorted(before - ids)]
        return out
