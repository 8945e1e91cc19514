"""Who is asking, for the dashboard: the API's keys and roles, also read from the login cookie.

The dashboard uses the API's key store and role order (:mod:`shopseg.api.keys`:
``viewer < marketer < admin``; viewers read, marketers also save segments and
export). Pages are loaded by a browser, so besides the API's ``X-API-Key`` and
``Authorization: Bearer`` headers the key may come from the HTTP-only,
same-site login cookie :data:`COOKIE` set by ``POST /api/v1/dashboard/session``.
No key or a bad one answers 401, a too-weak role 403, in the API's error shape
(the errors are the API's own :class:`~shopseg.errors.AuthenticationError` and
:class:`~shopseg.errors.PermissionDeniedError`).
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Depends, Request

from shopseg.api.deps import AppState, get_state, role_dependency
from shopseg.api.keys import ROLES, ApiKey, role_allows
from shopseg.errors import AuthenticationError

__all__ = ["COOKIE", "ROLES", "key_from_request", "principal_of", "dashboard_key", "require_dashboard_role", "has_role"]

COOKIE = "shopseg_key"


def has_role(role: str | None, needed: str) -> bool:
    """``role`` is at least ``needed`` (False for no role)."""
    return role in ROLES and role_allows(str(role), needed)


def key_from_request(request: Request) -> str | None:
    """The API key of a request: ``X-API-Key``, a bearer token, or the login cookie."""
    key = request.headers.get("x-api-key")
    auth = request.headers.get("authorization", "")
    if not key and auth.lower().startswith("bearer "):
        key = auth[7:].strip()
    return key or request.cookies.get(COOKIE) or None


def principal_of(request: Request) -> ApiKey | None:
    """The caller's active key, or None (no key, unknown or revoked)."""
    key = key_from_request(request)
    if not key:
        return None
    try:
        return get_state(request).keys.authenticate(key)
    except AuthenticationError:
        return None


def dashboard_key(request: Request, state: AppState = Depends(get_state)) -> ApiKey:
    """FastAPI dependency: the caller's key from a header or the login cookie (401 otherwise)."""
    return state.keys.authenticate(key_from_request(request))


def require_dashboard_role(role: str) -> Callable[..., ApiKey]:
    """Like :func:`shopseg.api.deps.require_role`, also accepting the login cookie."""
    return role_dependency(role, dashboard_key, "require_dashboard_role")
