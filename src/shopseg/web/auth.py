"""Who is asking, for the dashboard: an API key header, or the login session cookie (:mod:`shopseg.api.cookie_auth`).

The dashboard uses the API's key store and role order (:mod:`shopseg.api.keys`:
``viewer < marketer < admin``; viewers read, marketers also save segments and
export). Scripts send a key in the API's ``X-API-Key`` or ``Authorization:
Bearer`` header. A browser logs in once (:func:`start_session`) and then sends
the cookie :data:`COOKIE`, which holds a session token, never the key
(:mod:`shopseg.api.sessions`): HTTP-only, ``SameSite=Strict``, ``Secure`` over
HTTPS (:func:`~shopseg.web.security.secure_cookies`), as long-lived as the
session (setting ``dashboard_session_hours``). The role is read from the
session's key at every request, so revoking the key ends its sessions.

A state-changing request (POST, PUT, PATCH, DELETE) that relies on the cookie
must also come from a page of this server
(:func:`~shopseg.web.security.check_same_origin`, 403 otherwise).
No key or a bad one answers 401, a too-weak role 403, in the API's error shape
(the errors are the API's own :class:`~shopseg.errors.AuthenticationError` and
:class:`~shopseg.errors.PermissionDeniedError`).
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Depends, Request, Response

from shopseg.api.cookie_auth import COOKIE, authenticate, check_same_origin, header_key, session_store
from shopseg.api.deps import AppState, get_state, role_dependency
from shopseg.api.keys import ROLES, ApiKey, role_allows
from shopseg.config import get_setting
from shopseg.errors import AuthenticationError, PermissionDeniedError
from shopseg.web.security import secure_cookies

__all__ = [
    "COOKIE",
    "ROLES",
    "header_key",
    "session_store",
    "principal_of",
    "dashboard_key",
    "require_dashboard_role",
    "has_role",
    "start_session",
    "end_session",
]


def has_role(role: str | None, needed: str) -> bool:
    """``role`` is at least ``needed`` (False for no role)."""
    return role in ROLES and role_allows(str(role), needed)


def principal_of(request: Request) -> ApiKey | None:
    """The caller's active key, or None (no key or session, unknown, expired or revoked)."""
    try:
        return authenticate(request, get_state(request))
    except AuthenticationError:
        return None


def dashboard_key(request: Request, state: AppState = Depends(get_state)) -> ApiKey:
    """FastAPI dependency: the caller's key from a header or the session cookie (401 otherwise, 403 cross-origin)."""
    return authenticate(request, state)


def require_dashboard_role(role: str) -> Callable[..., ApiKey]:
    """Like :func:`shopseg.api.deps.require_role`, also accepting the session cookie."""
    return role_dependency(role, dashboard_key, "require_dashboard_role")


def start_session(request: Request, api_key: str, response: Response) -> ApiKey:
    """Check ``api_key``, open a session for it and set its cookie on ``response``.

    Logging in changes state in the browser, so it is held to the same-origin
    rule as the cookie's requests (a cross-site page cannot log a user in).
    """
    check_same_origin(request)
    state = get_state(request)
    who = state.keys.authenticate(api_key)  # AuthenticationError -> 401
    if who.role not in ROLES:  # a write key only sends collection calls: it opens no dashboard session
        raise PermissionDeniedError(
            f"dashboard login: the API key '{who.key_id}' is a '{who.role}' key (collection only). "
            f"Expected one of {list(ROLES)}. Hint: log in with a viewer, marketer or admin key."
        )
    hours = float(get_setting("dashboard_session_hours"))
    token = session_store(state).create(who, hours=hours)
    end_session(request, None)  # a session this browser held before is ended, not left behind
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(hours * 3600),
        path="/",
        httponly=True,
        samesite="strict",
        secure=secure_cookies(request),
    )
    return who


def end_session(request: Request, response: Response | None) -> bool:
    """End the request's session (logout) and, with a ``response``, delete its cookie; False when there was none."""
    ended = session_store(get_state(request)).end(request.cookies.get(COOKIE))
    if response is not None:
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict", secure=secure_cookies(request))
    return ended
