"""The dashboard's handle on the API's workspace: hold the shared lock, get an engine and a segment store.

The API app holds one workspace connection (``app.state.shopseg``, an
:class:`~shopseg.api.deps.AppState`) and a lock that serialises its use; every
dashboard route works inside :func:`session`. Results that cost a model fit
(the purchase backtest) or a scan of every order line (KPIs and monthly revenue
for :data:`AGGREGATE_TTL_S` seconds; the regions page until the next
invalidation) are cached in ``AppState.extra`` and dropped when a segment is
saved (:func:`invalidate`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fastapi import Request

from shopseg.api.deps import AppState, get_state

if TYPE_CHECKING:
    from shopseg.engine import Engine
    from shopseg.segments.store import SegmentStore
    from shopseg.workspace import Workspace

__all__ = ["Session", "session", "cached", "invalidate", "AGGREGATE_TTL_S"]

_CACHE = "dashboard_cache"
AGGREGATE_TTL_S = 600.0


@dataclass
class Session:
    """What a route works with while it holds the lock."""

    workspace: Workspace
    engine: Engine
    store: SegmentStore
    state: AppState


@contextmanager
def session(request: Request) -> Iterator[Session]:
    """Hold the app's workspace for one request."""
    from shopseg.engine import get_engine
    from shopseg.segments.store import SegmentStore

    state = get_state(request)
    with state.lock:
        ws = state.workspace
        yield Session(ws, get_engine(ws, "duckdb"), SegmentStore(ws), state)


def cached(s: Session, key: str, compute: Callable[[], Any], *, ttl_s: float | None = None) -> Any:
    """``compute()`` once per app, until :func:`invalidate` or ``ttl_s`` seconds; call it inside :func:`session`."""
    cache = s.state.extra.setdefault(_CACHE, {})
    hit = cache.get(key)
    if hit is None or (ttl_s is not None and time.monotonic() - hit[0] > ttl_s):
        value = compute()
        hit = cache[key] = (time.monotonic(), value)  # the age counts from when the value was ready
    return hit[1]


def invalidate(s: Session) -> None:
    """Forget the cached results (the workspace changed)."""
    s.state.extra.pop(_CACHE, None)
