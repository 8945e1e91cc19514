"""FastAPI dependencies: the app state, the caller's API key, role checks.

Stable for other routers (the web dashboard mounts its pages on the same app)::

    from fastapi import APIRouter, Depends
    from shopseg.api.deps import AppState, Principal, get_state, require_role

    router = APIRouter()

    @router.get("/dashboard")
    def dashboard(who: Principal = Depends(require_role("viewer")), state: AppState = Depends(get_state)):
        with state.lock:                       # one DuckDB connection, shared: hold the lock
            ...

Keys are read from ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``;
without either, from the dashboard's login session cookie (same-origin only:
:mod:`shopseg.api.cookie_auth`). No key or a bad key answers 401, a too-weak role 403, both in the canonical
error shape.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from shopseg.api.keys import ROLES, ApiKey, KeyStore, role_allows
from shopseg.errors import InvalidParameterError, PermissionDeniedError

if TYPE_CHECKING:
    from shopseg.live.runtime import LiveEngine
    from shopseg.workspace import Workspace

__all__ = ["AppState", "Principal", "RESULT_CACHE", "get_state", "current_key", "require_role"]

Principal = ApiKey

#: Key of ``AppState.extra`` under which the dashboard caches results derived from the workspace's tables.
RESULT_CACHE = "dashboard_cache"

_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer ss_...`.")
_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="An API key: `X-API-Key: ss_...`.")


@dataclass
class AppState:
    """What every request shares: the workspace, its connection lock, the keys and the live engine."""

    workspace: Workspace
    keys: KeyStore
    lock: threading.RLock
    live: LiveEngine | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    closers: list[Callable[[], None]] = field(default_factory=list)

    def segments_changed(self) -> None:
        """The saved segments changed (a save, a new version or a delete): drop the results cached from them
        (:data:`RESULT_CACHE`) and tell the live engine."""
        self.extra.pop(RESULT_CACHE, None)
        if self.live is not None:
            self.live.reload_segments()

    def close(self) -> None:
        """Run the ``closers`` (e.g. stop background work), stop the live engine, close the workspace (idempotent)."""
        while self.closers:
            self.closers.pop()()
        if self.live is not None:
            self.live.stop()
        with self.lock:
            self.workspace.close()


def get_state(request: Request) -> AppState:
    """The :class:`AppState` of the app serving ``request``."""
    return request.app.state.shopseg


async def current_key(
    request: Request,
    bearer: HTTPAuthorizationCredentials | None = Depends(_bearer),
    header: str | None = Depends(_header),
) -> ApiKey:
    """The authenticated API key (401 without a valid one).

    ``async``, like the role check: both only read the in-memory key cache, and a
    plain function would be run on the thread pool, a thread hop per request.
    """
    state = get_state(request)
    if bearer is None and header is None:  # no key header: the dashboard's session cookie, if any
        from shopseg.api.cookie_auth import authenticate

        return authenticate(request, state)
    return state.keys.authenticate(bearer.credentials if bearer is not None else header)


def require_role(role: str) -> Callable[..., Any]:
    """A dependency admitting keys of ``role`` or a stronger one (viewer < marketer < admin).

    Returns the caller's :class:`~shopseg.api.keys.ApiKey`; 401 without a valid
    key, 403 when the role is too weak.
    """
    return role_dependency(role, current_key, "require_role")


def role_dependency(role: str, key_dependency: Callable[..., Any], who: str) -> Callable[..., Any]:
    """A dependency admitting the key ``key_dependency`` finds when its role is ``role`` or stronger.

    Shared by :func:`require_role` (API headers) and the dashboard's cookie-aware variant.
    """
    if role not in ROLES:
        raise InvalidParameterError(f"{who}: unknown role {role!r}. Expected one of {list(ROLES)}.")

    async def dependency(key: ApiKey = Depends(key_dependency)) -> ApiKey:
        if not role_allows(key.role, role):
            raise PermissionDeniedError(
                f"request: the API key '{key.key_id}' has role '{key.role}'. Expected role '{role}' or stronger "
                f"({' < '.join(ROLES)})."
            )
        return key

    dependency.__name__ = f"require_{role}"
    return dependency
