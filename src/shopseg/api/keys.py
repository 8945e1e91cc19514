"""API keys with roles, stored hashed in the workspace table ``api_keys``.

A key reads ``ss_<key_id>_<secret>``: ``key_id`` (8 hex digits) names the row,
``secret`` (32 random URL-safe bytes) is never stored. The row keeps a random
16-byte salt and ``sha256(salt || secret)``. A fast salted hash is enough here
because the secret is 256 random bits, not a password: there is nothing to
brute-force, and every request is checked without a 50 ms scrypt. Comparisons use
:func:`hmac.compare_digest`.

Roles are ordered: ``viewer`` reads; ``marketer`` also posts events, edits
segments, webhooks and exports; ``admin`` also manages keys and erases customers.
A ``write`` key (:data:`WRITE_ROLE`) stands apart: the write key a storefront's tracking
SDK carries (Segment-compatible collection, :mod:`shopseg.api.routers.collect`). It is
public by nature (it sits in the page's JavaScript), so it may only send collection
calls: it reads nothing and is refused everywhere else; marketer and admin keys may
collect too.

>>> import tempfile, os
>>> from shopseg.workspace import Workspace
>>> ws = Workspace.init(os.path.join(tempfile.mkdtemp(), "ws.duckdb"))
>>> keys = KeyStore(ws)
>>> created = keys.create("ops", "admin")
>>> keys.authenticate(created.key).role
'admin'
>>> ws.close()
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from shopseg.api.sessions import end_key_sessions
from shopseg.errors import AuthenticationError, InvalidParameterError, NotFound, did_you_mean

if TYPE_CHECKING:
    from shopseg.workspace import Workspace

__all__ = ["ROLES", "WRITE_ROLE", "KEY_ROLES", "KEYS_TABLE", "ApiKey", "CreatedKey", "KeyStore", "role_allows"]

ROLES = ("viewer", "marketer", "admin")
WRITE_ROLE = "write"
KEY_ROLES = (*ROLES, WRITE_ROLE)
KEYS_TABLE = "api_keys"
_DDL = f"""CREATE TABLE IF NOT EXISTS "{KEYS_TABLE}" (key_id VARCHAR, name VARCHAR, role VARCHAR, salt VARCHAR,
    hash VARCHAR, created_at TIMESTAMP, revoked_at TIMESTAMP)"""


def role_allows(have: str, need: str) -> bool:
    """Does role ``have`` include role ``need``? (viewer < marketer < admin; ``write`` only collects).

    >>> role_allows("write", "viewer"), role_allows("marketer", "write"), role_allows("viewer", "write")
    (False, True, False)
    """
    if need == WRITE_ROLE:
        return have in (WRITE_ROLE, "marketer", "admin")
    if have not in ROLES:
        return False
    return ROLES.index(have) >= ROLES.index(need)


@dataclass(frozen=True)
class ApiKey:
    """One stored key (never the secret)."""

    key_id: str
    name: str
    role: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True)
class CreatedKey:
    """A new key: ``key`` is shown once and cannot be recovered."""

    key: str
    info: ApiKey


def _digest(salt: str, secret: str) -> str:
    return hashlib.sha256(bytes.fromhex(salt) + secret.encode()).hexdigest()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class KeyStore:
    """The API keys of one workspace, with an in-memory cache of the hashed rows.

    Parameters
    ----------
    workspace : Workspace
        An open, writable workspace.
    lock : threading.RLock, default=None
        Serialises use of the workspace connection (the server shares one).
    """

    def __init__(self, workspace: Workspace, lock: threading.RLock | None = None) -> None:
        self.workspace = workspace
        self.lock = lock or threading.RLock()
        self._cache: dict[str, tuple[str, str, ApiKey]] = {}
        with self.lock:
            if not workspace.read_only:
                workspace.con.execute(_DDL)
            self._load()

    def _load(self) -> None:
        if not self.workspace.has_table(KEYS_TABLE):
            return
        rows = self.workspace.con.execute(
            f'SELECT key_id, name, role, salt, hash, created_at, revoked_at FROM "{KEYS_TABLE}" ORDER BY created_at'
        ).fetchall()
        self._cache = {r[0]: (r[3], r[4], ApiKey(r[0], r[1], r[2], r[5], r[6])) for r in rows}

    def create(self, name: str, role: str) -> CreatedKey:
        """Create a key named ``name`` with ``role``; the returned ``key`` is the only copy of the secret."""
        if role not in KEY_ROLES:
            raise InvalidParameterError(
                f"api key {name!r}: unknown role {role!r}. Expected one of {list(KEY_ROLES)}; got {role!r}."
                f"{did_you_mean(role, KEY_ROLES)}"
            )
        if not name or len(name) > 64:
            raise InvalidParameterError(f"api key name: expected 1 to 64 characters; got {len(name)}.")
        key_id, secret, salt = secrets.token_hex(4), secrets.token_urlsafe(32), secrets.token_hex(16)
        info = ApiKey(key_id, name, role, _now())
        with self.lock:
            self.workspace.con.execute(
                f'INSERT INTO "{KEYS_TABLE}" VALUES (?, ?, ?, ?, ?, ?, NULL)',
                [key_id, name, role, salt, _digest(salt, secret), info.created_at],
            )
            self._cache[key_id] = (salt, _digest(salt, secret), info)
        return CreatedKey(f"ss_{key_id}_{secret}", info)

    def list(self) -> list[ApiKey]:
        """Every key, revoked ones included, oldest first."""
        with self.lock:
            self._load()
            return [entry[2] for entry in self._cache.values()]

    def revoke(self, key_id: str) -> ApiKey:
        """Revoke a key by id; later requests with it answer 401, and its dashboard sessions are deleted."""
        with self.lock:
            self._load()
            if key_id not in self._cache:
                known = list(self._cache)
                raise NotFound(
                    f"api key '{key_id}' does not exist. Known key ids: {known or 'none'}.{did_you_mean(key_id, known)}"
                )
            salt, digest, info = self._cache[key_id]
            if info.revoked_at is None:
                now = _now()
                self.workspace.con.execute(f'UPDATE "{KEYS_TABLE}" SET revoked_at = ? WHERE key_id = ?', [now, key_id])
                info = ApiKey(info.key_id, info.name, info.role, info.created_at, now)
                self._cache[key_id] = (salt, digest, info)
            end_key_sessions(self.workspace, key_id)  # also when it was revoked before: no session outlives it
            return info

    def get_active(self, key_id: str) -> ApiKey:
        """The active key with id ``key_id`` (a dashboard session's key); :class:`AuthenticationError` otherwise."""
        entry = self._cache.get(key_id)
        if entry is None or not entry[2].active:
            raise AuthenticationError("request: the API key is unknown or revoked. Expected an active shopseg key.")
        return entry[2]

    def authenticate(self, key: str | None) -> ApiKey:
        """The active key matching ``key``; :class:`AuthenticationError` otherwise (the reason is not disclosed)."""
        if not key:
            raise AuthenticationError(
                "request: no API key. Expected an 'Authorization: Bearer <key>' or 'X-API-Key' header. "
                "Hint: create one with `shopseg keys create NAME --role viewer`."
            )
        parts = key.split("_", 2)
        entry = self._cache.get(parts[1]) if len(parts) == 3 and parts[0] == "ss" else None
        if entry is None or not hmac.compare_digest(entry[1], _digest(entry[0], parts[2])) or not entry[2].active:
            raise AuthenticationError("request: the API key is unknown or revoked. Expected an active shopseg key.")
        return entry[2]
