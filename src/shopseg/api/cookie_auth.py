"""Who is asking: an API key header, or the dashboard's login session cookie (same origin only).

Scripts send a key in ``X-API-Key`` or ``Authorization: Bearer``. A browser
logged in to the dashboard sends the cookie :data:`COOKIE` instead, which holds
a session token, never the key (:mod:`shopseg.api.sessions`); the dashboard's
pages call the public ``/api/v1`` routes with it. A state-changing request
(POST, PUT, PATCH, DELETE) that relies on the cookie must also come from a
page of this server (:func:`check_same_origin`, 403 otherwise): with the
cookie's ``SameSite=Strict`` this keeps other sites from acting with it.
A request with a key header is not cookie-borne and is not checked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from fastapi import Request

from shopseg.api.sessions import SessionStore
from shopseg.errors import PermissionDeniedError

if TYPE_CHECKING:
    from shopseg.api.deps import AppState
    from shopseg.api.keys import ApiKey

__all__ = [
    "COOKIE",
    "UNSAFE_METHODS",
    "authenticate",
    "check_same_origin",
    "header_key",
    "is_cookie_borne",
    "session_store",
]

COOKIE = "shopseg_session"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_STORE = "dashboard_sessions"


def header_key(request: Request) -> str | None:
    """The API key of a request's ``X-API-Key`` or ``Authorization: Bearer`` header."""
    key = request.headers.get("x-api-key")
    auth = request.headers.get("authorization", "")
    if not key and auth.lower().startswith("bearer "):
        key = auth[7:].strip()
    return key or None


def session_store(state: AppState) -> SessionStore:
    """The app's :class:`~shopseg.api.sessions.SessionStore` (made on first use)."""
    store = state.extra.get(_STORE)
    if store is None:
        with state.lock:
            store = state.extra.setdefault(_STORE, SessionStore(state.workspace, state.keys, state.lock))
    return store


def authenticate(request: Request, state: AppState) -> ApiKey:
    """The caller's active key: from a key header, else from the session cookie (401 without either)."""
    key = header_key(request)
    if key is not None:
        return state.keys.authenticate(key)
    token = request.cookies.get(COOKIE)
    if not token:
        return state.keys.authenticate(None)  # the API's "no API key" 401
    check_same_origin(request)
    return session_store(state).authenticate(token)


def is_cookie_borne(request: Request) -> bool:
    """The request is authenticated by the dashboard's session cookie (no key header): it came from the dashboard."""
    return header_key(request) is None and bool(request.cookies.get(COOKIE))


def _origin(url: str) -> tuple[str, str, int] | None:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return parts.scheme, parts.hostname.lower(), port or (443 if parts.scheme == "https" else 80)


def _is_own(request: Request, claimed: tuple[str, str, int]) -> bool:
    """Same host and port as the request's Host header; the scheme is ours or https.

    An https origin is accepted on a request the server sees as http: behind an
    HTTPS proxy whose X-Forwarded-Proto is not trusted (api_forwarded_allow_ips)
    the browser's origin is https while the request reaching us is http. A Host
    without a port means the origin's default port (the proxy's 443).
    """
    scheme, host, port = claimed
    own_host, own_port = (request.url.hostname or "").lower(), request.url.port
    if own_port is None:
        own_port = 443 if scheme == "https" else 80
    return host == own_host and port == own_port and scheme in (request.url.scheme, "https")


def check_same_origin(request: Request) -> None:
    """Refuse (403) a state-changing request whose Origin (or, without one, Referer) is not this server."""
    if request.method not in UNSAFE_METHODS:
        return
    origin = request.headers.get("origin")
    header, value = ("Origin", origin) if origin is not None else ("Referer", request.headers.get("referer"))
    claimed = _origin(value) if value else None
    if claimed is not None and _is_own(request, claimed):
        return
    own = f"{request.url.scheme}://{request.url.netloc}"
    got = f"{header} {value!r}" if value else "neither an Origin nor a Referer header"
    raise PermissionDeniedError(
        f"request: {request.method} {request.url.path} with the dashboard session cookie must come from a page of "
        f"this server. Expected an Origin (or Referer) of {own}; got {got}. Hint: scripts send their API key in "
        "an 'X-API-Key' or 'Authorization: Bearer' header instead of the cookie."
    )
