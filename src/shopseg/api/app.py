"""The HTTP API: :func:`create_app` builds the FastAPI app of one workspace.

>>> import tempfile, os
>>> from shopseg.workspace import Workspace
>>> path = os.path.join(tempfile.mkdtemp(), "ws.duckdb")
>>> Workspace.init(path).close()
>>> app = create_app(path, live=False)
>>> app.title
'shopseg'
>>> app.state.shopseg.close()
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, FastAPI

from shopseg._logging import protect_logger
from shopseg.api.body_limit import BodyLimitMiddleware
from shopseg.api.deps import AppState
from shopseg.api.errors import install_error_handlers
from shopseg.api.headers import SecurityHeadersMiddleware
from shopseg.api.keys import KeyStore
from shopseg.config import get_setting
from shopseg.workspace import Workspace

if TYPE_CHECKING:
    from shopseg.live.clock import Clock
    from shopseg.live.notify import Notification

__all__ = ["create_app", "API_PREFIX", "AccessLogFilter", "redact_target"]

API_PREFIX = "/api/v1"
_TAGS = [
    {"name": "events", "description": "Post events (one or a batch); stored durably before the answer, idempotent."},
    {"name": "collect", "description": "Segment-compatible HTTP Tracking API (/v1/track, /v1/batch, ...) for SDKs."},
    {"name": "customers", "description": "Live profiles, segment memberships, erasure."},
    {"name": "segments", "description": "Saved segments (the segment language): CRUD, preview, live members."},
    {"name": "notifications", "description": "Segment entry/exit: server-sent events, webhooks, dead letters."},
    {"name": "keys", "description": "API keys and roles (admin)."},
    {"name": "meta", "description": "Health and settings."},
]


#: A path segment after one of these names a customer (``/api/v1/customers/{id}``, the dashboard's
#: ``/customers/{id}`` and ``/api/v1/dashboard/customers/{id}/next-action``, ``/segments/{name}/explain/{id}``).
_ID_SEGMENT = re.compile(r"(/(?:customers|explain)/)[^/?#]+")
#: Query parameters whose values are logged; any other value (a search, a rule, ``next``, an id, an address) is not.
_PLAIN_QUERY = frozenset(
    {"page", "size", "sort", "desc", "limit", "offset", "version", "consent", "before", "segment", "value", "edit"}
)


def redact_target(target: str) -> str:
    """A request's path and query as the logs show it: no customer id, no free-text or unknown query value.

    >>> redact_target("/api/v1/customers/c000010/segments")
    '/api/v1/customers/<id>/segments'
    >>> redact_target("/api/v1/segments/big/customers?page=2&q=c0001&x")
    '/api/v1/segments/big/customers?page=2&q=<redacted>&<redacted>'
    """
    path, sep, query = target.partition("?")
    path = _ID_SEGMENT.sub(r"\1<id>", path)
    if not sep:
        return path
    items = []
    for item in query.split("&"):
        name, eq, _ = item.partition("=")
        items.append(item if name in _PLAIN_QUERY and eq else f"{name}=<redacted>" if eq else "<redacted>")
    return f"{path}?{'&'.join(items)}"


class AccessLogFilter(logging.Filter):
    """Redact the request target (:func:`redact_target`) in uvicorn's access log lines: customer ids never reach
    the log, also where the access log is configured by hand (``uvicorn --factory``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args  # uvicorn: (client address, method, path with query, HTTP version, status)
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            record.args = (args[0], args[1], redact_target(args[2]), *args[3:])
        return True


_ACCESS_FILTER = AccessLogFilter()


def create_app(
    workspace_path: str | os.PathLike[str],
    *,
    live: bool = True,
    clock: Clock | None = None,
    callbacks: Sequence[Callable[[Notification], None]] = (),
    routers: Sequence[APIRouter] = (),
    max_body_bytes: int | None = None,
) -> FastAPI:
    """Build the shopseg HTTP API for the workspace at ``workspace_path``.

    Parameters
    ----------
    workspace_path : str or path
        An existing workspace (``shopseg init``); it is opened read-write and
        held by this process.
    live : bool, default=True
        Run live segmentation (events update profiles, segments emit entry/exit).
    clock : Clock, default=None
        Time source of the live engine and its scheduler (tests pass a
        :class:`~shopseg.live.clock.ManualClock`); default the system clock.
    callbacks : sequence of callable, default=()
        Python callbacks receiving every :class:`~shopseg.live.notify.Notification`.
    routers : sequence of APIRouter, default=()
        Extra routers mounted as they are (e.g. the web dashboard); protect
        them with :func:`shopseg.api.deps.require_role`.
    max_body_bytes : int, default=None
        Request size limit; default the ``api_max_body_bytes`` setting.

    Returns
    -------
    FastAPI
        ``app.state.shopseg`` is the :class:`~shopseg.api.deps.AppState`;
        ``app.state.shopseg.close()`` stops the live engine and closes the
        workspace (done at server shutdown).
    """
    from shopseg.api.routers import ROUTERS
    from shopseg.api.routers.collect import CollectCorsMiddleware
    from shopseg.api.routers.collect import router as collect_router

    for name in ("uvicorn", "uvicorn.access", "uvicorn.error", "fastapi", "httpx", "httpcore"):
        protect_logger(name)
    access = logging.getLogger("uvicorn.access")
    if _ACCESS_FILTER not in access.filters:
        access.addFilter(_ACCESS_FILTER)
    workspace = Workspace.open(workspace_path)
    if workspace.compact_pending:  # an erasure left the file to rewrite (erasure_compact=later, or readers were busy)
        workspace.compact()
    lock = threading.RLock()
    state = AppState(workspace=workspace, keys=KeyStore(workspace, lock), lock=lock)
    if live:
        from shopseg.live.runtime import LiveEngine

        state.live = LiveEngine(workspace, lock=lock, clock=clock, callbacks=callbacks)
        state.live.start()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        state.close()

    app = FastAPI(
        title="shopseg",
        version="1",
        lifespan=lifespan,
        openapi_tags=_TAGS,
        description="E-commerce customer segmentation: events in, live segment entry and exit out.",
    )
    app.state.shopseg = state
    install_error_handlers(app)
    # At /v1/..., where the Segment-spec SDKs post; first, as routes are matched in order and these take the
    # most requests (thousands of events a second come in batches here; a /api/v1 path never matches them).
    app.include_router(collect_router)
    for router in ROUTERS:
        app.include_router(router, prefix=API_PREFIX)
    for router in routers:
        app.include_router(router)
    limit = max_body_bytes if max_body_bytes is not None else int(get_setting("api_max_body_bytes"))
    app.add_middleware(BodyLimitMiddleware, max_bytes=limit)
    app.add_middleware(CollectCorsMiddleware)  # around the body limit: browsers can read its 413 too
    app.add_middleware(SecurityHeadersMiddleware)  # outermost: also on the body limit's 413
    return app


def app_factory() -> Any:
    """``uvicorn --factory shopseg.api.app:app_factory``: the app of the ``workspace`` setting."""
    return create_app(get_setting("workspace"))
