"""Re-evaluation outside the event path: the day scheduler, saved-segment reloads, and how their transitions go out.

A mixin of :class:`~shopseg.live.runtime.LiveEngine`. When the clock's day
moves, the clock-dependent segments are evaluated again (:meth:`Reevaluation.tick`);
when the saved segments change (a save, a new version or a delete, from any
surface) the engine reloads them, and members of new or edited segments are
logged silently. Both hand their transitions to :meth:`Reevaluation._emit`,
which logs them and notifies the ones the re-entry rule admits. The API's other
questions of the engine (subscriptions, segment names, erasure) are here too.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from shopseg._logging import get_logger
from shopseg.live.evaluator import LiveEvaluator, Transition
from shopseg.live.notify import Subscription
from shopseg.segments.definitions import SegmentStore

if TYPE_CHECKING:
    from shopseg.live.clock import Clock
    from shopseg.live.notify import Notifier, ReentryPolicy
    from shopseg.workspace import Workspace

__all__ = ["Reevaluation"]

log = get_logger("shopseg.live")


class Reevaluation:
    """The scheduler, segment reloads, subscriptions and erasure of the live engine (state and locks are the engine's)."""

    workspace: Workspace
    store: SegmentStore
    evaluator: LiveEvaluator
    clock: Clock
    day: dt.date
    lock: Any
    _state: Any
    _stop: threading.Event
    tick_s: float
    policy: ReentryPolicy
    notifier: Notifier
    broken: dict[str, str]
    seen: Any

    if TYPE_CHECKING:  # the engine's own

        def _pend(self, transitions: list[Transition], notified: list[bool], events: Any = ()) -> None: ...

        def flush(self) -> None: ...

        def _evaluator(self, segments: dict[str, Any]) -> LiveEvaluator: ...

    # -- time --------------------------------------------------------------------------
    def _maybe_tick(self) -> None:
        """When the clock's day moved: re-evaluate the clock-dependent segments, log and notify (both locks)."""
        if self.clock.now().date() == self.day:
            return
        with self.lock, self._state:
            now = self.clock.now()
            if now.date() != self.day:
                self.day = now.date()
                self._emit(self.evaluator.tick(self.day, now))

    def _tick_loop(self) -> None:
        while not self._stop.wait(self.tick_s):
            try:
                self._maybe_tick()
            except Exception as exc:  # keep the scheduler alive; the next tick retries
                log.error("live scheduler failed: %s", type(exc).__name__)

    def tick(self) -> None:
        """Run the scheduler's check now (tests, after moving a manual clock)."""
        self._maybe_tick()

    def _emit(self, transitions: list[Transition], silent: bool = False) -> None:
        """Log ``transitions`` (committed) and notify those the re-entry rule admits (none when ``silent``).

        The caller holds both locks.
        """
        if not transitions:
            return
        if silent:
            for t in transitions:
                self.policy.silence(t)
        admitted = [False if silent else self.policy.admit(t) for t in transitions]
        self._pend(transitions, admitted)
        self.flush()
        self.notifier.publish([t for t, ok in zip(transitions, admitted, strict=True) if ok])

    def _definitions(self) -> dict[str, Any]:
        """The usable saved segments; each broken one is logged by name and left out (the others go live)."""
        from shopseg.segments.saved import describe_broken

        defs = self.store.definitions()
        self.broken = {name: describe_broken(name, exc) for name, exc in self.store.broken.items()}
        for name, exc in self.store.broken.items():  # codes only: an issue's text may quote the rule's values
            log.warning(
                "live engine: segment %r cannot be used and is left out (%s)",
                name,
                ", ".join(sorted({i.code for i in exc.issues})) or "error",
            )
        return defs

    def reload_segments(self) -> None:
        """Pick up saved-segment changes; members of new or edited segments are logged silently (no notification)."""
        with self.lock, self._state:
            self.store = SegmentStore(self.workspace)
            if self.store.fields.columns_by_table() != self.evaluator.fields.columns_by_table():
                self.reload_profiles()  # the registry grew (new predictions, interests, attributes): read them too
                return
            old = {n: set(m) for n, m in self.evaluator.members.items()}
            self.evaluator.set_segments(self._definitions(), self.day)
            self._emit_changes(old)

    def reload_profiles(self) -> None:
        """Re-read every live profile and the field registry from the workspace (after a command changed the batch
        tables: features, RFM, lifecycle, interests, predictions, clusters, attributes, an ingest or an erasure).

        Pending live events are applied first, so the profiles read back hold them; the writer waits meanwhile.
        Memberships that change are logged silently (no notification), as for :meth:`reload_segments`.
        """
        with self.lock, self._state:
            self.flush()
            old = {n: set(m) for n, m in self.evaluator.members.items()}
            self.store = SegmentStore(self.workspace)
            self.evaluator = self._evaluator(self._definitions())
            self._emit_changes(old)

    def _emit_changes(self, old: dict[str, set[str]]) -> None:
        """Log (silently) the entries and exits from the memberships ``old`` to the evaluator's (both locks held)."""
        now, out = self.clock.now(), []
        for name in sorted(set(old) | set(self.evaluator.members)):
            before, after = old.get(name, set()), self.evaluator.members.get(name, set())
            out += [Transition(name, c, "entry", now) for c in sorted(after - before)]
            out += [Transition(name, c, "exit", now) for c in sorted(before - after)]
        self._emit(out, silent=True)

    def subscribe(self, loop: asyncio.AbstractEventLoop, segments: Sequence[str] = ()) -> Subscription:
        return self.notifier.subscribe(Subscription(loop, segments))

    def segment_names(self) -> list[str]:
        return sorted(self.evaluator.segments)

    def erase(self, customer_id: str, reason: str = "erasure request (HTTP API)") -> dict[str, int]:
        """Erase a customer everywhere: workspace tables, journal, live state, dead letters, file bytes
        (:func:`shopseg.live.erase.erase_customer`). Call it without holding :attr:`lock`."""
        from shopseg.live.erase import erase_customer

        return erase_customer(self, customer_id, reason)  # type: ignore[arg-type]  # self is the LiveEngine

    @property
    def event_count(self) -> int:
        return len(self.seen)
