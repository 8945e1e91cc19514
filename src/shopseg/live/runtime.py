"""The live engine: durable event intake, live evaluation, the day scheduler and notification delivery.

One writer thread owns the write path. Requests hand it event batches
(:meth:`LiveEngine.submit`) and wait on a future; the writer drains what is
queued (up to ``live_commit_batch`` events: group commit), drops event ids it
has already stored, applies the rest to the live profiles, writes them to the
journal (:mod:`shopseg.live.journal`; from there they survive a crash of the
process) and hands the transitions to the :class:`~shopseg.live.notify.Notifier`.
A syncer thread then fsyncs the journal (one ``fsync`` for every group written
meanwhile) and only then resolves the futures, so an acknowledged event is on
disk. The ``fsync`` is off the writer's path: when the disk stalls it (this
virtual disk sometimes takes 100-450 ms), acknowledgements wait, evaluation and
notification do not. A notified entry's event is therefore in the journal
(replayed after ``kill -9``) but may not be acknowledged yet; only a crash of
the machine can lose it, and then its request was never answered, so the
producer sends it again (same ``event_id``, same notification id). If an
``fsync`` fails, the syncer commits the pending events to the workspace from
memory instead (the kernel may have dropped the journal's unwritten pages) and
acknowledges them once that commit holds; if it fails too, the requests get the
error and the applier retries the events.

An applier thread moves journaled events and the transitions they caused to
the workspace tables in one DuckDB transaction every ``live_apply_ms`` (or
``live_apply_batch`` events, or before a read that needs them:
:meth:`LiveEngine.flush`); a restart replays the journal first. It takes the
pending lists and rotates the journal under the state lock (microseconds),
then commits with only the workspace lock held, so the writer never waits for
DuckDB. If the journal write fails, the requests get the error and the
in-memory state is reloaded from disk. An entry the workspace refuses (at
apply time or at the start-up replay) is moved to ``live_quarantine`` and the
rest applied (:mod:`shopseg.live.quarantine`).

A scheduler thread wakes every ``live_tick_ms`` and, when the clock's day has
moved, re-evaluates the clock-dependent segments of every customer: "no
purchase in 30 days" enters on day 31 without any new event.

Two locks: the workspace connection lock shared with the API (``lock``:
every DuckDB access) and the live state lock (``_state``: profiles,
memberships, pending lists, the journal). Whoever needs both takes the
connection lock first. The writer takes only the state lock.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import queue
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from shopseg._logging import get_logger
from shopseg.config import get_setting
from shopseg.errors import BadRequestError
from shopseg.live import stitch, storage
from shopseg.live.clock import Clock, SystemClock
from shopseg.live.durability import Durability, IngestResult, _resolve
from shopseg.live.evaluator import LiveEvaluator, Transition
from shopseg.live.journal import Journal
from shopseg.live.notify import Notification, Notifier, ReentryPolicy
from shopseg.live.quarantine import commit_isolating, count_quarantined, rows_of
from shopseg.live.reevaluate import Reevaluation
from shopseg.live.webhooks import WebhookDispatcher
from shopseg.rules.nodes import walk
from shopseg.segments.definitions import SegmentStore

if TYPE_CHECKING:
    from shopseg.workspace import Workspace

__all__ = ["LiveEngine", "IngestResult"]

log = get_logger("shopseg.live")


def _row(event: Mapping[str, Any]) -> tuple[Any, ...]:
    """:func:`storage.event_row`, or a :class:`BadRequestError` naming the event whose properties are not JSON."""
    try:
        return storage.event_row(event)
    except (TypeError, ValueError) as exc:
        raise BadRequestError(
            f"event {event.get('event_id')!r}: its properties cannot be stored as JSON ({exc}). "
            "Expected JSON values (text, finite numbers, booleans, null, lists, objects)."
        ) from exc


class LiveEngine(Reevaluation, Durability):
    """Live segmentation of one workspace.

    Parameters
    ----------
    workspace : Workspace
        Open, writable.
    lock : threading.RLock, default=None
        The workspace connection lock shared with the API.
    clock : Clock, default=None
        Time source (default :class:`~shopseg.live.clock.SystemClock`).
    callbacks : sequence of callable, default=()
        Called with each :class:`~shopseg.live.notify.Notification`, in order, on the dispatch thread.
    reentry : {"always", "once", "cooldown"}, default=None
        Default the ``live_reentry`` setting (see :mod:`shopseg.live.notify`).
    tick_ms, commit_batch : int, default=None
        Default the ``live_tick_ms`` and ``live_commit_batch`` settings.
    apply_ms, apply_batch : int, default=None
        How often journaled events are applied to the workspace (``live_apply_ms``,
        ``live_apply_batch``).
    """

    def __init__(
        self,
        workspace: Workspace,
        *,
        lock: threading.RLock | None = None,
        clock: Clock | None = None,
        callbacks: Sequence[Callable[[Notification], None]] = (),
        reentry: str | None = None,
        cooldown_s: int | None = None,
        tick_ms: int | None = None,
        commit_batch: int | None = None,
        apply_ms: int | None = None,
        apply_batch: int | None = None,
        webhook_options: Mapping[str, int] | None = None,
    ) -> None:
        self.workspace, self.lock = workspace, lock or threading.RLock()
        self.clock = clock or SystemClock()
        self.policy = ReentryPolicy(
            reentry or str(get_setting("live_reentry")),
            cooldown_s if cooldown_s is not None else int(get_setting("live_reentry_cooldown_s")),
        )
        self.tick_s = int(tick_ms or get_setting("live_tick_ms")) / 1000
        self.commit_batch = int(commit_batch or get_setting("live_commit_batch"))
        self.apply_s = int(apply_ms if apply_ms is not None else get_setting("live_apply_ms")) / 1000
        self.apply_batch = int(apply_batch or get_setting("live_apply_batch"))
        self.journal = Journal(f"{workspace.path}.journal")
        self.webhooks = WebhookDispatcher(workspace, self.lock, **dict(webhook_options or {}))
        self.notifier = Notifier(callbacks, self.webhooks)
        self._queue: queue.Queue[tuple[list[dict[str, Any]], Future[IngestResult]] | None] = queue.Queue()
        self._acks: queue.Queue[list[tuple[Future[IngestResult], IngestResult]] | None] = queue.Queue()
        self._stop = threading.Event()
        self._state = threading.RLock()
        self._apply_now = threading.Event()
        self._threads = [
            threading.Thread(target=self._write_loop, name="shopseg-live-writer", daemon=True),
            threading.Thread(target=self._tick_loop, name="shopseg-live-scheduler", daemon=True),
            threading.Thread(target=self._apply_loop, name="shopseg-live-applier", daemon=True),
            threading.Thread(target=self._sync_loop, name="shopseg-live-syncer", daemon=True),
        ]
        self._started = False
        self.identities: dict[str, str] | None = None  # collection's anonymousId -> customer links, loaded on use
        with self.lock, self._state:
            self._load()

    # -- start-up ----------------------------------------------------------------------
    def _load(self) -> None:
        con = self.workspace.con
        storage.create_tables(con)
        self._recover()
        self.store = SegmentStore(self.workspace)
        defs = self._definitions()
        now = self.clock.now()
        self.day = now.date()
        self.evaluator = self._evaluator(defs)
        self.seen = storage.load_event_ids(con)
        self._seq = storage.next_seq(con)
        self.policy.restore(storage.load_notified(con))
        self._pending = self.evaluator.resync(self.day, now, storage.load_memberships(con))
        log.info(
            "live engine loaded: %d customers, %d segments, %d events",
            len(self.evaluator.profiles),
            len(defs),
            len(self.seen),
        )

    def _evaluator(self, defs: dict[str, Any]) -> LiveEvaluator:
        """An evaluator of ``defs`` over every profile read from the workspace (fields of the store's registry)."""
        uses_orders = any(getattr(n, "source", None) == "orders" for s in defs.values() for _, n in walk(s.rule))
        orders_day = None
        if uses_orders:
            stored = self.workspace.meta("features_as_of")
            orders_day = dt.date.fromisoformat(stored) if stored else self.day
        evaluator = LiveEvaluator(defs, self.store.fields)
        evaluator.load(storage.load_profiles(self.workspace, orders_day, self.store.fields).values(), self.day)
        return evaluator

    def _recover(self) -> None:
        """Apply journaled events missing from the workspace (acknowledged before a crash), then empty the journal."""
        from shopseg.privacy.tombstones import drop_pending, mark_journal_clean

        journaled = self.journal.read()
        if journaled:
            kept = drop_pending(self.workspace, journaled)  # customers erased before their events left the journal
            stored = storage.load_event_ids(self.workspace.con)
            missing = list({e["event_id"]: e for e in kept if e["event_id"] not in stored}.values())
            now = self.clock.now()
            refused = commit_isolating(self.workspace.con, rows_of(missing, now, self.workspace.con), [], now)
            log.info(
                "live engine: %d journaled events applied after a restart (%d of erased customers skipped, "
                "%d quarantined)",
                len(missing) - len(refused),
                len(journaled) - len(kept),
                len(refused),
            )
        self.journal.truncate()
        mark_journal_clean(self.workspace)
        self.quarantined = count_quarantined(self.workspace)  # entries set aside (live.quarantine), ever
        self._events: list[tuple[Any, ...]] = []  # rows waiting for the applier (storage.event_row)
        self._transitions: list[tuple[Any, ...]] = []  # storage.transition_row
        self._applied_at = time.monotonic()

    def flush(self) -> None:
        """Apply journaled events and pending transitions to the workspace now (one transaction)."""
        with self.lock:
            with self._state:  # take what is pending; the writer goes on with a new journal file
                events, transitions = self._events, self._transitions
                self._events, self._transitions = [], []
                segment = self.journal.rotate()
            if events or transitions:
                try:  # an entry the store refuses is quarantined; what is committed leaves `events`
                    refused = commit_isolating(self.workspace.con, events, transitions, self.clock.now())
                    self.quarantined += len(refused)
                except BaseException:
                    with self._state:  # back in front of what came since: the next flush retries them
                        self._events[:0], self._transitions[:0] = events, transitions
                    raise
            if segment is not None:
                self.journal.discard(segment)
            self._applied_at = time.monotonic()

    def _apply_loop(self) -> None:
        """Flush ``live_apply_ms`` after the last flush, or when the writer has ``live_apply_batch`` events pending."""
        while not self._stop.is_set():
            if self.apply_s <= 0:
                self._apply_now.wait()
            else:
                wait = self._applied_at + self.apply_s - time.monotonic()
                if wait > 0 and not self._apply_now.wait(wait):
                    continue  # timed out: due now
            self._apply_now.clear()
            if self._stop.is_set():
                return
            try:
                self.flush()
            except Exception as exc:  # the journal still holds the events: retried at the next flush
                self._applied_at = time.monotonic()
                log.error("live engine: applying journaled events failed: %s", type(exc).__name__)

    def start(self) -> None:
        """Start the writer, scheduler and dispatch threads; notify what changed while stopped."""
        if self._started:
            return
        self._started = True
        self.notifier.start()
        for t in self._threads:
            t.start()
        with self.lock, self._state:
            self._emit(self._pending)
            self._pending = []

    def stop(self) -> None:
        """Finish queued batches, stop the threads (idempotent)."""
        if self._stop.is_set():
            return
        self._stop.set()
        self._queue.put(None)
        self._apply_now.set()
        for t in self._threads:
            if t.is_alive():
                t.join(timeout=10)
        self.flush()
        self.journal.close()
        self.journal.path.unlink(missing_ok=True)  # empty after the flush: a clean stop leaves no journal
        self.notifier.stop()
        self.webhooks.stop()

    # -- intake ------------------------------------------------------------------------
    def submit(self, events: Sequence[Mapping[str, Any]], *, owned: bool = False) -> Future[IngestResult]:
        """Queue a batch; the future gives ``(accepted, duplicates, event_ids)`` once it is committed.

        ``owned=True``: ``events`` is a list of dicts the caller built for this call and no longer touches
        (the HTTP routes' own), so they are queued as they are instead of copied.
        """
        fut: Future[IngestResult] = Future()
        if self._stop.is_set():
            fut.set_exception(RuntimeError("the live engine is stopped"))
            return fut
        batch = events if owned and isinstance(events, list) else [dict(e) for e in events]
        self._queue.put((batch, fut))
        return fut

    def ingest(self, events: Sequence[Mapping[str, Any]], timeout: float | None = 60) -> IngestResult:
        """Submit and wait (the in-process, synchronous form)."""
        return self.submit(events).result(timeout)

    def _drain(self, first: tuple[list[dict[str, Any]], Future[IngestResult]]) -> list[Any]:
        items, n = [first], len(first[0])
        while n < self.commit_batch:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is None:
                self._queue.put(None)
                break
            items.append(item)
            n += len(item[0])
        return items

    def _write_loop(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                self._acks.put(None)  # the syncer stops after the acknowledgements queued before
                return
            items = self._drain(first)
            try:
                self._commit(items)
            except Exception as exc:
                log.error("live writer: batch of %d requests failed: %s", len(items), type(exc).__name__)
                for _, fut in items:
                    if not fut.done():
                        fut.set_exception(exc)

    def _admit(
        self, items: list[tuple[list[dict[str, Any]], Future[IngestResult]]]
    ) -> tuple[list[dict[str, Any]], list[tuple[Any, ...]], set[str], list[tuple[Future[IngestResult], IngestResult]]]:
        """``(fresh events, their rows, their ids, (future, result) of each request kept)``.

        A request holding an event that has no ``events`` row (properties that are not JSON: a datetime, NaN)
        gets a :class:`~shopseg.errors.BadRequestError` here, before anything about it changes.
        """
        fresh: list[dict[str, Any]] = []
        rows: list[tuple[Any, ...]] = []
        batch_ids: set[str] = set()
        kept = []
        for events, fut in items:
            mine, ids = [], set()
            for e in events:
                if e["event_id"] not in self.seen and e["event_id"] not in batch_ids and e["event_id"] not in ids:
                    ids.add(e["event_id"])
                    mine.append(e)
            try:
                mine_rows = [_row(e) for e in mine]
            except BadRequestError as exc:
                log.error("live writer: a request's events cannot be stored: %s", type(exc.__cause__).__name__)
                _resolve(fut, exc)  # unless the client went away meanwhile
                continue
            fresh += mine
            rows += mine_rows
            batch_ids |= ids
            kept.append((fut, (len(mine), len(events) - len(mine), [e["event_id"] for e in events])))
        return fresh, rows, batch_ids, kept

    def _commit(self, items: list[tuple[list[dict[str, Any]], Future[IngestResult]]]) -> None:
        fresh, rows, batch_ids, acks = self._admit(items)
        self._maybe_tick()
        failed: Exception | None = None
        linking = stitch.has_links(fresh)  # reads the workspace: the connection lock first, as everywhere
        with self.lock if linking else contextlib.nullcontext(), self._state:
            out: list[Transition] = []
            now = self.clock.now()
            try:  # a failure from here: the evaluator and the policy are reloaded from disk (below)
                for i, e in enumerate(fresh):
                    for old in stitch.anonymous_history(self, fresh, i) if linking else ():
                        out += self.evaluator.apply(old, self.day, now)
                    out += self.evaluator.apply(stitch.visible(e), self.day, now)
                admitted = [self.policy.admit(t) for t in out]
                if fresh:
                    self.journal.write(fresh)  # from here on the events survive a crash of the process
            except Exception as exc:
                failed = exc
            if failed is None:
                self._pend(out, admitted, rows)
                self.seen |= batch_ids
                self.notifier.publish([t for t, ok in zip(out, admitted, strict=True) if ok])
                # acknowledged once fsynced; a batch of duplicates too, as its events may still be unsynced
                self._acks.put(acks)
                if len(self._events) >= self.apply_batch or self.apply_s <= 0:
                    self._apply_now.set()
        if failed is not None:
            with self.lock, self._state:
                self._load()  # back to what is on disk: the evaluator and the policy ran ahead of the journal
            raise failed

    def _pend(self, transitions: list[Transition], notified: list[bool], rows: Sequence[tuple[Any, ...]] = ()) -> None:
        """Queue rows for the applier: the events' rows (:func:`storage.event_row`), and the transitions numbered on
        from the last one."""
        self._events.extend(rows)
        seq = self._seq
        self._transitions.extend(
            storage.transition_row(seq + i, t, ok) for i, (t, ok) in enumerate(zip(transitions, notified, strict=True))
        )
        self._seq += len(transitions)
