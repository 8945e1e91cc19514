"""In-memory live segmentation: profiles updated by each event, memberships re-evaluated where they can change.

:class:`LiveEvaluator` holds, per customer, the batch profile (feature, RFM and
lifecycle fields, coordinates), the purchase orders, the events seen so far
with the incremental aggregates of the segments' event conditions
(:mod:`shopseg.live.aggregates`), and the set of saved segments each customer
is in. Memberships are decided by the segments compiled for the day
(:mod:`shopseg.live.compiled`): event conditions read the incremental store
instead of a rescan of the history, every other condition is the batch
evaluator's (:func:`shopseg.rules.evaluate.evaluate_node`) own step, and a
Hypothesis test holds the memberships equal to a batch rescan, so live and
batch agree on the same data.
An event re-evaluates only the segments whose event conditions it passes, and
:meth:`LiveEvaluator.tick` re-evaluates the clock dependent segments of every
customer when the day moves. No I/O: the :class:`~shopseg.live.runtime.LiveEngine`
adds storage, threads and delivery.

>>> import datetime as dt
>>> from shopseg.rules.parse import parse_segment
>>> ev = LiveEvaluator({"carts": parse_segment("events(type='add_to_cart').count >= 1")})
>>> [t.kind for t in ev.apply({"event_id": "e1", "customer_id": "c1", "type": "add_to_cart",
...                            "occurred_at": dt.datetime(2024, 6, 1, 9)}, dt.date(2024, 6, 1))]
['entry']
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from shopseg.live.aggregates import ConditionCatalogue, Series
from shopseg.live.compiled import CompiledSegments
from shopseg.live.dependencies import DependencyIndex
from shopseg.rules.fields import FIELDS, FieldRegistry
from shopseg.rules.nodes import Segment

__all__ = ["Transition", "LiveProfile", "LiveEvaluator"]


class Transition(NamedTuple):
    """A customer entered or left a segment: ``kind`` is ``"entry"`` or ``"exit"``.

    ``event_id`` is the event that caused it, or None when the passing of time
    (the scheduler) or a restart did. (A named tuple: cheap to make. Unlike a
    plain tuple it stays tracked by the garbage collector, so the engine keeps
    the transitions waiting for the applier as plain rows.)
    """

    segment: str
    customer_id: str
    kind: str
    at: dt.datetime
    event_id: str | None = None


_ROW = ("event_id", "type", "occurred_at", "product_id")
EventRow = tuple[Any, ...]


class LiveProfile:
    """One customer's live state.

    ``events`` is a tuple of ``(event_id, type, occurred_at, product_id,
    properties as a tuple of items or None)``, ``orders`` a sequence: the
    cyclic garbage collector stops tracking tuples (and dicts) of plain
    values, so a large live state does not lengthen its pauses (an append
    copies the tuple: a memory copy). :meth:`event_dicts` gives the events
    back as the evaluator's mappings. ``series`` is the incremental aggregate
    store (:mod:`shopseg.live.aggregates`), kept by :class:`LiveEvaluator`.
    """

    __slots__ = ("customer_id", "base", "events", "orders", "counts", "last_event_at", "series")

    def __init__(
        self, customer_id: str, base: dict[str, Any] | None = None, orders: Sequence[dict[str, Any]] = ()
    ) -> None:
        self.customer_id = customer_id
        self.base: dict[str, Any] = {} if base is None else base
        self.events: tuple[EventRow, ...] = ()
        self.orders: Sequence[dict[str, Any]] = orders
        self.counts: dict[str, int] = {}
        self.last_event_at: dt.datetime | None = None
        self.series: Series = {}

    def __repr__(self) -> str:
        return f"LiveProfile({self.customer_id!r}, events={len(self.events)})"

    def add(self, event: Mapping[str, Any]) -> None:
        get = event.get
        props, typ, at = get("properties"), get("type"), get("occurred_at")
        self.events += (
            (get("event_id"), typ, at, get("product_id"), tuple(props.items()) if isinstance(props, dict) else props),
        )
        self.counts[str(typ)] = self.counts.get(str(typ), 0) + 1
        if self.last_event_at is None or (at is not None and at > self.last_event_at):
            self.last_event_at = at

    def event_dicts(self) -> list[dict[str, Any]]:
        """The events as the evaluator reads them (``event_id``, ``type``, ``occurred_at``, ``product_id``, ``properties``)."""
        return [
            {**dict(zip(_ROW, row)), "properties": dict(row[4]) if isinstance(row[4], tuple) else row[4]}
            for row in self.events
        ]

    def summary(self) -> dict[str, Any]:
        """What the API shows: events seen (by type) and the last event time."""
        return {
            "events": len(self.events),
            "events_by_type": dict(sorted(self.counts.items())),
            "last_event_at": self.last_event_at,
        }


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

    def __init__(
        self,
        segments: Mapping[str, Segment],
        fields: FieldRegistry = FIELDS,
        base: Callable[[str], dict[str, Any]] | None = None,
    ) -> None:
        self.fields = fields
        self.base = base or (lambda cid: {})
        self.profiles: dict[str, LiveProfile] = {}
        self.members: dict[str, set[str]] = {}
        self.set_segments(segments)

    # -- state -------------------------------------------------------------------------
    def set_segments(self, segments: Mapping[str, Segment], as_of: dt.date | None = None) -> None:
        """Replace the segment set; memberships of new or changed segments are recomputed (no transitions)."""
        old = getattr(self, "segments", {})
        before = self.catalogue.signature() if hasattr(self, "catalogue") else None  # the first call sets it
        self.segments = dict(segments)
        self._compiled: dict[dt.date, CompiledSegments] = {}  # per as-of day, the latest few
        self._empty_day: dt.date | None = None  # the segments an eventless, fieldless profile is in, on that day
        self._empty_in: set[str] = set()
        self.index = DependencyIndex(self.segments)
        self.catalogue: ConditionCatalogue = ConditionCatalogue({n: d.events for n, d in self.index.deps.items()})
        if before is not None and before != self.catalogue.signature():
            for prof in self.profiles.values():  # the conditions changed: rebuild the stores from the history
                self._rebuild(prof)
        self.members = {n: m for n, m in self.members.items() if n in self.segments and old.get(n) == self.segments[n]}
        for name in self.segments:
            if name not in self.members:
                self.members[name] = set()
                if as_of is not None:
                    self.members[name] = {c for c in self.profiles if self.is_member(name, c, as_of)}

    def _rebuild(self, prof: LiveProfile) -> None:
        prof.series = {}
        for event in prof.event_dicts():
            self.catalogue.add(prof.series, event)

    def profile(self, customer_id: str) -> LiveProfile:
        """The live profile of ``customer_id`` (created, with its batch fields, on first sight)."""
        prof = self.profiles.get(customer_id)
        if prof is None:
            prof = self.profiles[customer_id] = LiveProfile(customer_id, base=self.base(customer_id))
        return prof

    def load(self, profiles: Iterable[LiveProfile], as_of: dt.date) -> None:
        """Add known customers (batch fields, stored events) and compute their memberships silently."""
        for prof in profiles:
            self._rebuild(prof)
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
    def compiled(self, as_of: dt.date) -> CompiledSegments:
        """The saved segments compiled for ``as_of`` (kept for the latest few days)."""
        done = self._compiled.get(as_of)
        if done is None:
            if len(self._compiled) >= 8:
                self._compiled.pop(next(iter(self._compiled)))
            done = self._compiled[as_of] = CompiledSegments(self.segments, self.catalogue, self.fields, as_of=as_of)
        return done

    def is_member(self, name: str, customer_id: str, as_of: dt.date) -> bool:
        """Evaluate segment ``name`` for one customer now (no validation).

        The aggregates of its ``events(...)`` conditions come from the customer's
        incremental store (:mod:`shopseg.live.aggregates`), not from a rescan.
        """
        return self.compiled(as_of).check(name, self.profile(customer_id), {})

    def _update(
        self, customer_id: str, names: Iterable[str], as_of: dt.date, at: dt.datetime, event_id: str | None
    ) -> list[Transition]:
        out = []
        prof, check = self.profiles[customer_id], self.compiled(as_of).check
        memo: dict[Any, Any] = {}
        for name in names:
            ids = self.members[name]
            now, before = check(name, prof, memo), customer_id in ids  # a reference: evaluated once per update
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
        prof = self.profiles.get(cid)
        first = prof is None
        if prof is None:
            prof = self.profiles[cid] = LiveProfile(cid, base=self.base(cid))
        prof.add(event)
        names = self.catalogue.add(prof.series, event)
        if first:  # a new customer may also be in segments this event does not touch (``NOT events(...)``)
            names = self._first_sight(prof, names, as_of)
        return self._update(cid, names, as_of, at or event["occurred_at"], event.get("event_id")) if names else []

    def _first_sight(self, prof: LiveProfile, touched: list[str], as_of: dt.date) -> list[str]:
        """Segments to evaluate for a customer's first event: those it touches, and those an eventless profile is in.

        The event passes no condition of the others, so their outcome is the one of the profile without it; for
        a customer with no batch fields that is one evaluation per segment and day, cached.
        """
        if prof.base or prof.orders:
            return list(self.segments)
        if self._empty_day != as_of:
            empty, check = LiveProfile(""), self.compiled(as_of).check
            memo: dict[Any, Any] = {}
            self._empty_in = {n for n in self.segments if check(n, empty, memo)}
            self._empty_day = as_of
        if not self._empty_in:
            return touched
        hit = set(touched) | self._empty_in
        return [n for n in self.segments if n in hit]

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
