"""The dashboard's handle on the API's workspace: hold the shared lock, get an engine and a segment store.

The API app holds one workspace connection (``app.state.shopseg``, an
:class:`~shopseg.api.deps.AppState`) and a lock that serialises its use; every
dashboard route works inside :func:`session`. The results that cost a scan of
every order line or a model fit are not computed here but by
:func:`shopseg.web.cache.aggregate` (per data version, outside the lock);
:func:`cached` keeps a lighter result in ``AppState.extra`` while the tables it
reads are unchanged (their :func:`~shopseg.web.cache.stamp`), and
:func:`invalidate` drops those (a segment was saved).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fastapi import Request

from shopseg.api.deps import RESULT_CACHE, AppState, get_state

if TYPE_CHECKING:
    from shopseg.engine import Engine
    from shopseg.segments.definitions import SegmentStore
    from shopseg.workspace import Workspace

__all__ = ["Session", "session", "cached", "invalidate"]

_CACHE = RESULT_CACHE


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
    from shopseg.segments.definitions import SegmentStore

    state = get_state(request)
    with state.lock:
        ws = state.workspace
        yield Session(ws, get_engine(ws, "duckdb"), SegmentStore(ws), state)


def cached(s: Session, key: str, compute: Callable[[], Any], *, tables: Sequence[str]) -> Any:
    """``compute()`` once while ``tables`` are unchanged (and until :func:`invalidate`); call it inside :func:`session`."""
    from shopseg.web.cache import stamp

    cache = s.state.extra.setdefault(_CACHE, {})
    version = stamp(s.workspace, tables)
    hit = cache.get(key)
    if hit is None or hit[0] != version:
        hit = cache[key] = (version, compute())
    return hit[1]


def invalidate(s: Session) -> None:
    """Forget the cached results (the workspace changed)."""
    s.state.extra.pop(_CACHE, None)
