"""The dashboard's handle on one workspace: an open connection, a lock, the engine and small caches.

DuckDB connections are not meant to be shared by concurrent threads, and
FastAPI runs plain ``def`` routes in a thread pool, so every route takes
:meth:`DashboardContext.session` (a lock around the one connection). Results that
cost a model fit (the purchase backtest) are cached per context and dropped
when the workspace changes (a segment saved).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shopseg.engine import Engine
    from shopseg.segments.store import SegmentStore
    from shopseg.workspace import Workspace

__all__ = ["DashboardContext", "Session"]


@dataclass
class Session:
    """What a route works with while it holds the lock."""

    workspace: Workspace
    engine: Engine
    store: SegmentStore


@dataclass
class DashboardContext:
    """One workspace served by the dashboard.

    Parameters
    ----------
    workspace : Workspace or str or Path
        An open workspace, or the path of one (opened read-write on first use).
    """

    workspace: Any
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)
    _ws: Workspace | None = field(default=None, repr=False)

    def _open(self) -> Workspace:
        from shopseg.workspace import Workspace

        if self._ws is None:
            self._ws = self.workspace if isinstance(self.workspace, Workspace) else Workspace.open(Path(self.workspace))
        return self._ws

    @contextmanager
    def session(self) -> Iterator[Session]:
        """Hold the workspace for one request."""
        from shopseg.engine import get_engine
        from shopseg.segments.store import SegmentStore

        with self._lock:
            ws = self._open()
            yield Session(ws, get_engine(ws, "duckdb"), SegmentStore(ws))

    def cached(self, key: str, compute: Any) -> Any:
        """``compute()`` once per context (until :meth:`invalidate`)."""
        with self._lock:
            if key not in self._cache:
                self._cache[key] = compute()
            return self._cache[key]

    def invalidate(self) -> None:
        with self._lock:
            self._cache.clear()

    def close(self) -> None:
        with self._lock:
            if self._ws is not None and not isinstance(self.workspace, type(self._ws)):
                self._ws.close()
            self._ws = None
