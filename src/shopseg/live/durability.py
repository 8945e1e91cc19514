"""Acknowledging events only once they are on disk: the live engine's syncer thread.

A mixin of :class:`~shopseg.live.runtime.LiveEngine`. The writer queues the
futures of every group it wrote to the journal on ``_acks``; the syncer takes
all that is queued, fsyncs the journal once for them and only then resolves the
futures (see the module docstring of :mod:`shopseg.live.runtime`). If an fsync
fails, the pending events are committed to the workspace from memory instead
(:meth:`LiveEngine.flush`), and the requests get the error only if that fails too.
"""

from __future__ import annotations

import queue
from concurrent.futures import Future, InvalidStateError
from typing import TYPE_CHECKING

from shopseg._logging import get_logger

if TYPE_CHECKING:
    from shopseg.live.journal import Journal

__all__ = ["Durability", "IngestResult"]

log = get_logger("shopseg.live")
IngestResult = tuple[int, int, list[str]]


def _resolve(fut: Future[IngestResult], outcome: IngestResult | BaseException) -> None:
    """Resolve a request's future, unless its request was cancelled meanwhile (the client went away)."""
    try:
        if isinstance(outcome, BaseException):
            fut.set_exception(outcome)
        else:
            fut.set_result(outcome)
    except InvalidStateError:
        pass


class Durability:
    """The syncer of the live engine (the journal, the queue and ``flush`` are the engine's)."""

    journal: Journal
    _acks: queue.Queue[list[tuple[Future[IngestResult], IngestResult]] | None]

    def flush(self) -> None:  # pragma: no cover - the engine's
        raise NotImplementedError

    def _sync_loop(self) -> None:
        """Make the written events durable, then acknowledge every batch written before; one fsync for all queued."""
        broken = False
        while True:
            acks = [self._acks.get()]
            while True:
                try:
                    acks.append(self._acks.get_nowait())
                except queue.Empty:
                    break
            outcome: Exception | None = None
            try:
                self._make_durable(broken)
                broken = False
            except Exception as exc:  # the requests get the error; the applier retries the events
                log.error("live syncer: events could not be made durable: %s", type(exc).__name__)
                outcome, broken = exc, True
            for fut, res in (a for batch in acks if batch is not None for a in batch):
                _resolve(fut, res if outcome is None else outcome)
            if None in acks:
                return

    def _make_durable(self, broken: bool) -> None:
        """Fsync the journal; if that fails (or failed before), apply every pending event to the workspace instead.

        After a failed fsync the kernel may have dropped the unwritten pages, so a later fsync of the journal
        proves nothing about them: the events are committed from memory in one workspace transaction (DuckDB
        fsyncs it; the applier takes the same lock, so what it already took is committed too).
        """
        if not broken:
            try:
                self.journal.sync()
                return
            except OSError as exc:
                log.error(
                    "live syncer: journal fsync failed (%s): applying the events to the workspace instead",
                    type(exc).__name__,
                )
        self.flush()
