"""Who is asking: an API key (header or login cookie) -> a role; ``require_role`` guards routes.

Roles are ordered ``viewer < marketer < admin``: viewers read, marketers also
save segments and export, admins also manage keys. The dashboard's login page
stores the key in an HTTP-only, same-site cookie (:data:`COOKIE`); API clients
send it as ``X-API-Key`` or ``Authorization: Bearer <key>``. Unknown or missing
keys get 401, a too-low role 403, both in the API's error shape.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from fastapi import Depends, HTTPException, Request

__all__ = ["ROLES", "COOKIE", "KeyRing", "Principal", "current_principal", "require_role", "has_role", "key_from_request"]

ROLES = ("viewer", "marketer", "admin")
COOKIE = "shopseg_key"


@dataclass(frozen=True)
class Principal:
    """The caller: a role and a short, non-secret key id for display and logs."""

    role: str
    key_id: str


def has_role(role: str, needed: str) -> bool:
    """``role`` is at least ``needed`` in :data:`ROLES` order."""
    return role in ROLES and ROLES.index(role) >= ROLES.index(needed)


class KeyRing:
    """API keys held as SHA-256 digests (never the key itself), each with a role.

    >>> ring = KeyRing({"s3cret-viewer": "viewer"})
    >>> ring.resolve("s3cret-viewer").role, ring.resolve("nope")
    ('viewer', None)
    """

    def __init__(self, keys: Mapping[str, str] | None = None) -> None:
        self._digests: dict[str, str] = {}
        for key, role in (keys or {}).items():
            self.add(key, role)

    def add(self, key: str, role: str) -> None:
        if role not in ROLES:
            from shopseg.errors import InvalidParameterError

            raise InvalidParameterError(f"API key role must be one of {list(ROLES)}. Got {role!r} instead.")
        self._digests[_digest(key)] = role

    def resolve(self, key: str) -> Principal | None:
        digest = _digest(key)
        for known, role in self._digests.items():
            if hmac.compare_digest(known, digest):
                return Principal(role, digest[:8])
        return None


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


Resolver = Callable[[str], "Principal | None"]


def key_from_request(request: Request) -> str | None:
    """The API key of a request: ``X-API-Key``, a bearer token, or the login cookie."""
    key = request.headers.get("x-api-key")
    auth = request.headers.get("authorization", "")
    if not key and auth.lower().startswith("bearer "):
        key = auth[7:].strip()
    return key or request.cookies.get(COOKIE) or None


def principal_of(request: Request) -> Principal | None:
    """The caller of ``request`` or None (no key, or a key the app does not know)."""
    key = key_from_request(request)
    resolver: Resolver | None = getattr(request.app.state, "resolve_key", None)
    if not key or resolver is None:
        return None
    return resolver(key)


def current_principal(request: Request) -> Principal:
    """FastAPI dependency: the caller, or 401."""
    who = principal_of(request)
    if who is None:
        raise HTTPException(401, "an API key is required: send X-API-Key (or log in to the dashboard).")
    return who


def require_role(role: str) -> Callable[..., Principal]:
    """FastAPI dependency factory: the caller must have at least ``role`` (401 without a key, 403 below it)."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; expected one of {ROLES}")

    def check(who: Principal = Depends(current_principal)) -> Principal:
        if not has_role(who.role, role):
            raise HTTPException(403, f"this needs the '{role}' role; your key has '{who.role}'.")
        return who

    return check
