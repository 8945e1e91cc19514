"""Time sources of the live engine: the system clock, and a manual clock for tests and replays.

Live evaluation reads "today" from a clock (segment windows are calendar days,
as in batch); the scheduler notices when the day moves and expires windows.

>>> import datetime as dt
>>> clock = ManualClock(dt.datetime(2024, 6, 1, 12))
>>> clock.advance(days=30).date().isoformat()
'2024-07-01'
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Protocol

__all__ = ["Clock", "SystemClock", "ManualClock", "utcnow"]


def utcnow() -> dt.datetime:
    """The current UTC time, timezone-free (the workspace convention)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Clock(Protocol):
    """Anything with ``now() -> datetime`` (naive UTC)."""

    def now(self) -> dt.datetime: ...


class SystemClock:
    """The machine's UTC clock."""

    def now(self) -> dt.datetime:
        return utcnow()


class ManualClock:
    """A clock that only moves when told to (thread-safe).

    Parameters
    ----------
    start : datetime
        The initial time (naive UTC).
    """

    def __init__(self, start: dt.datetime) -> None:
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> dt.datetime:
        with self._lock:
            return self._now

    def set(self, when: dt.datetime) -> dt.datetime:
        """Jump to ``when`` (backwards too: replays may do it)."""
        with self._lock:
            self._now = when
            return when

    def advance(self, **delta: float) -> dt.datetime:
        """Move forward by ``datetime.timedelta(**delta)``."""
        with self._lock:
            self._now += dt.timedelta(**delta)
            return self._now
