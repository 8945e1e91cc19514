"""Entry/exit notifications: the re-entry rule, Python callbacks, server-sent-event subscribers.

Re-entry semantics (setting ``live_reentry``; membership itself is always exact,
the rule only decides which transitions are *notified*):

- ``always`` (default): every entry and every exit is notified.
- ``once``: only a customer's first entry into a segment is notified (and the
  exit that follows it); later re-entries and their exits are silent.
- ``cooldown``: an entry is notified only if the customer's last notified exit
  from that segment is at least ``live_reentry_cooldown_s`` seconds old
  (clock time); a silent entry makes its exit silent too.

An exit is notified exactly when the entry before it was, so subscribers
always see entry, exit, entry, exit ... per customer and segment. Delivery is
at least once: a notification id (``segment:customer:kind:cause``) lets a
receiver drop a repeat after a crash.

The :class:`Notifier` feeds each server-sent-events :class:`Subscription` at
once, from the publishing thread (a non-blocking hand-off to the subscriber's
event loop: one thread switch less on the way to the stream), and runs one
dispatch thread that calls the Python callbacks in order and hands
notifications to the webhook dispatcher (both may block). A failing callback is
logged (by type, no data) and does not stop the others.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import queue
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple

from shopseg._logging import get_logger
from shopseg.errors import InvalidParameterError
from shopseg.live.evaluator import Transition

__all__ = ["Notification", "ReentryPolicy", "Subscription", "Notifier", "REENTRY_MODES"]

log = get_logger("shopseg.live")
REENTRY_MODES = ("always", "once", "cooldown")


class Notification(NamedTuple):
    """One delivered entry or exit (a named tuple: cheap to make, one per entry at thousands per second, and
    untracked by the garbage collector)."""

    id: str
    seq: int
    kind: str
    segment: str
    customer_id: str
    at: str
    event_id: str | None

    def to_dict(self) -> dict[str, Any]:
        return self._asdict()


class ReentryPolicy:
    """Decides which transitions are notified (see the module docstring)."""

    def __init__(self, mode: str = "always", cooldown_s: float = 86400) -> None:
        if mode not in REENTRY_MODES:
            raise InvalidParameterError(
                f"The 'live_reentry' setting must be one of {list(REENTRY_MODES)}. Got {mode!r} instead."
            )
        self.mode, self.cooldown = mode, dt.timedelta(seconds=cooldown_s)
        self.inside: set[tuple[str, str]] = set()
        self.entered: set[tuple[str, str]] = set()
        self.last_exit: dict[tuple[str, str], dt.datetime] = {}

    def silence(self, t: Transition) -> None:
        """A transition logged without notification (a segment edit): an exit closes any notified entry."""
        if t.kind == "exit":
            self.inside.discard((t.segment, t.customer_id))

    def admit(self, t: Transition) -> bool:
        """Should ``t`` be notified? Updates the policy's memory either way."""
        key = (t.segment, t.customer_id)
        if t.kind == "exit":
            if key not in self.inside:
                return False
            self.inside.discard(key)
            self.last_exit[key] = t.at
            return True
        ok = self.mode == "always" or (self.mode == "once" and key not in self.entered)
        if self.mode == "cooldown":
            last = self.last_exit.get(key)
            ok = last is None or t.at - last >= self.cooldown
        if ok:
            self.inside.add(key)
            self.entered.add(key)
        return ok

    def forget(self, customer_id: str) -> None:
        """Erase a customer's notification history (their logged transitions are erased too)."""
        self.inside = {k for k in self.inside if k[1] != customer_id}
        self.entered = {k for k in self.entered if k[1] != customer_id}
        self.last_exit = {k: at for k, at in self.last_exit.items() if k[1] != customer_id}

    def restore(self, notified: Iterable[tuple[str, str, str, dt.datetime]]) -> None:
        """Forget everything, then replay notified ``(segment, customer_id, kind, at)`` rows, oldest first."""
        self.inside, self.entered, self.last_exit = set(), set(), {}
        for seg, cid, kind, at in notified:
            key = (seg, cid)
            if kind == "entry":
                self.inside.add(key)
                self.entered.add(key)
            else:
                self.inside.discard(key)
                self.last_exit[key] = at


class Subscription:
    """A server-sent-events subscriber: an asyncio queue fed from the dispatch thread.

    ``segments`` filters (empty: all). A subscriber that falls ``maxsize``
    notifications behind is closed (``lagged``) rather than slowing the server.
    """

    _CLOSE = object()

    def __init__(self, loop: asyncio.AbstractEventLoop, segments: Sequence[str] = (), maxsize: int = 10000) -> None:
        self.loop, self.segments = loop, frozenset(segments)
        self.queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=maxsize)
        self.lagged = False
        self.closed = False

    def wants(self, n: Notification) -> bool:
        return not self.segments or n.segment in self.segments

    def _put(self, item: Any) -> None:
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            self.lagged = True

    def _put_many(self, items: list[Any]) -> None:
        for item in items:
            self._put(item)

    def push(self, n: Notification | object) -> None:
        """Thread-safe: queue ``n`` on the subscriber's event loop."""
        self.push_many([n])

    def push_many(self, items: list[Any]) -> None:
        """Thread-safe: queue ``items``, in order, with one wake-up of the subscriber's event loop."""
        try:
            self.loop.call_soon_threadsafe(self._put_many, items)
        except RuntimeError:  # the loop is closed: the client is gone
            self.lagged = True

    def close(self) -> None:
        self.push(self._CLOSE)

    async def get(self, timeout: float) -> Notification | None:
        """The next notification, None after ``timeout`` s; raises StopAsyncIteration when closed."""
        if self.lagged or self.closed:
            raise StopAsyncIteration
        try:
            item = await asyncio.wait_for(self.queue.get(), timeout)
        except TimeoutError:
            return None
        if item is self._CLOSE:
            raise StopAsyncIteration
        return item

    def pending(self) -> list[Notification]:
        """The notifications already queued (no waiting), so a burst goes out in one write."""
        out = []
        while not self.queue.empty():
            item = self.queue.get_nowait()
            if item is self._CLOSE:
                self.closed = True  # the next get() ends the stream
                break
            out.append(item)
        return out


class Notifier:
    """Numbered notifications to SSE subscribers (at once) and, on the dispatch thread, to callbacks and webhooks."""

    def __init__(
        self,
        callbacks: Sequence[Callable[[Notification], None]] = (),
        webhooks: Callable[[Notification], None] | None = None,
    ) -> None:
        self.callbacks = list(callbacks)
        self.webhooks = webhooks
        self.subscriptions: set[Subscription] = set()
        self._seq = itertools.count(1)
        self.published = 0  # the number of the last notification published
        self._queue: queue.Queue[list[Notification] | None] = queue.Queue()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="shopseg-notify", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._queue.put(None)
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        with self._lock:
            for sub in self.subscriptions:
                sub.close()

    def subscribe(self, sub: Subscription) -> Subscription:
        with self._lock:
            self.subscriptions.add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            self.subscriptions.discard(sub)

    def publish(self, transitions: Iterable[Transition]) -> list[Notification]:
        """Number notifications for ``transitions`` (already admitted by the policy), push them to the SSE
        subscribers and queue them for the dispatch thread.

        Callers publish one batch at a time (they hold the live state lock)."""
        out = []
        for t in transitions:
            cause = t.event_id or t.at.isoformat()
            out.append(
                Notification(
                    f"{t.segment}:{t.customer_id}:{t.kind}:{cause}",
                    next(self._seq),
                    t.kind,
                    t.segment,
                    t.customer_id,
                    t.at.isoformat(),
                    t.event_id,
                )
            )
        if not out:
            return out
        self.published = out[-1].seq
        with self._lock:
            subs = list(self.subscriptions)
        for sub in subs:  # one event-loop wake-up per subscriber and batch
            wanted = [n for n in out if sub.wants(n)]
            if wanted:
                sub.push_many(wanted)
        if self.callbacks or getattr(self.webhooks, "active", self.webhooks is not None):
            self._queue.put(out)  # one hand-off per published batch, none while no callback or webhook listens
        return out

    def _take(self) -> tuple[list[Notification], bool]:
        """Wait for a published batch, then take every one queued behind it; and whether to stop afterwards."""
        batch: list[Notification] = []
        item = self._queue.get()
        while item is not None:
            batch += item
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return batch, False
        return batch, True

    def _run(self) -> None:
        while True:
            batch, stop = self._take()
            for n in batch:
                for cb in self.callbacks:
                    try:
                        cb(n)
                    except Exception as exc:  # a subscriber's bug must not stop delivery to the others
                        log.warning(
                            "live callback %s failed: %s", getattr(cb, "__name__", "callback"), type(exc).__name__
                        )
            if self.webhooks is not None:
                for n in batch:
                    self.webhooks(n)
            if stop:
                return
