"""Login sessions of the web dashboard, stored hashed in the workspace table ``dashboard_sessions``.

Logging in with an API key (``POST /login``, ``POST /api/v1/dashboard/session``)
creates a session: a random token (:func:`secrets.token_urlsafe`, 256 bits)
that goes into the browser's cookie. The key itself never leaves the login
request. The table keeps ``sha256(token)`` (a fast unsalted hash is enough for
a 256-bit random token: there is nothing to guess), the id of the key it was
made from and its expiry (setting ``dashboard_session_hours``).

Each request with the cookie looks the session up and then the key it came
from (:meth:`~shopseg.api.keys.KeyStore.get_active`): the role is the key's role at
that moment, and a revoked key's sessions stop at once. Sessions end at logout
(:meth:`SessionStore.end`), at expiry, and when their key is revoked
(:meth:`~shopseg.api.keys.KeyStore.revoke` deletes them, through the API's
``DELETE /api/v1/keys/ID`` or ``shopseg keys revoke``). They are in the
workspace, so they survive a server restart.

>>> import tempfile, os
>>> from shopseg.workspace import Workspace
>>> from shopseg.api.keys import KeyStore
>>> ws = Workspace.init(os.path.join(tempfile.mkdtemp(), "ws.duckdb"))
>>> keys = KeyStore(ws)
>>> sessions = SessionStore(ws, keys)
>>> token = sessions.create(keys.create("ana", "viewer").info, hours=1)
>>> sessions.authenticate(token).role
'viewer'
>>> sessions.end(token)
True
>>> sessions.authenticate(token)
Traceback (most recent call last):
...
shopseg.errors.AuthenticationError: request: the dashboard session is unknown, expired or ended. Expected a \
session from a login at /login.
>>> ws.close()
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import threading
from typing import TYPE_CHECKING

from shopseg.errors import AuthenticationError, InvalidParameterError

if TYPE_CHECKING:
    from shopseg.api.keys import ApiKey, KeyStore
    from shopseg.workspace import Workspace

__all__ = ["SESSIONS_TABLE", "SessionStore", "end_key_sessions"]

SESSIONS_TABLE = "dashboard_sessions"
_DDL = f"""CREATE TABLE IF NOT EXISTS "{SESSIONS_TABLE}" (token_hash VARCHAR, key_id VARCHAR, created_at TIMESTAMP,
    expires_at TIMESTAMP)"""
_UNKNOWN = "request: the dashboard session is unknown, expired or ended. Expected a session from a login at /login."


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def end_key_sessions(workspace: Workspace, key_id: str) -> int:
    """Delete every session made from the key ``key_id`` (it was revoked); returns how many there were."""
    if workspace.read_only or not workspace.has_table(SESSIONS_TABLE):
        return 0
    row = workspace.con.execute(
        f'DELETE FROM "{SESSIONS_TABLE}" WHERE key_id = ? RETURNING token_hash', [key_id]
    ).fetchall()
    return len(row)


class SessionStore:
    """The dashboard's login sessions in one workspace.

    Parameters
    ----------
    workspace : Workspace
        An open, writable workspace.
    keys : KeyStore
        The API keys sessions are made from (the role is read from here at every request).
    lock : threading.RLock, default=None
        Serialises use of the workspace connection; default the key store's lock.
    """

    def __init__(self, workspace: Workspace, keys: KeyStore, lock: threading.RLock | None = None) -> None:
        self.workspace = workspace
        self.keys = keys
        self.lock = lock or keys.lock
        with self.lock:
            workspace.con.execute(_DDL)

    def create(self, key: ApiKey, *, hours: float) -> str:
        """A new session for ``key`` lasting ``hours``; returns its token (the only copy: only its hash is stored)."""
        if not hours > 0:
            raise InvalidParameterError(
                f"The 'dashboard_session_hours' setting must be a number of hours > 0. Got {hours!r} instead."
            )
        token, now = secrets.token_urlsafe(32), _now()
        with self.lock:
            con = self.workspace.con
            con.execute(f'DELETE FROM "{SESSIONS_TABLE}" WHERE expires_at <= ?', [now])  # forget expired ones
            con.execute(
                f'INSERT INTO "{SESSIONS_TABLE}" VALUES (?, ?, ?, ?)',
                [_hash(token), key.key_id, now, now + dt.timedelta(hours=hours)],
            )
        return token

    def authenticate(self, token: str | None) -> ApiKey:
        """The active key behind the live session ``token``; :class:`AuthenticationError` otherwise."""
        if not token:
            raise AuthenticationError(_UNKNOWN)
        with self.lock:
            row = self.workspace.con.execute(
                f'SELECT key_id FROM "{SESSIONS_TABLE}" WHERE token_hash = ? AND expires_at > ?', [_hash(token), _now()]
            ).fetchone()
        if row is None:
            raise AuthenticationError(_UNKNOWN)
        return self.keys.get_active(str(row[0]))

    def end(self, token: str | None) -> bool:
        """End the session ``token`` (logout); False when there was none."""
        if not token:
            return False
        with self.lock:
            gone = self.workspace.con.execute(
                f'DELETE FROM "{SESSIONS_TABLE}" WHERE token_hash = ? RETURNING key_id', [_hash(token)]
            ).fetchall()
        return bool(gone)

    def count(self, key_id: str | None = None) -> int:
        """How many unexpired sessions there are (of the key ``key_id``, or all)."""
        query = f'SELECT count(*) FROM "{SESSIONS_TABLE}" WHERE expires_at > ?'
        params: list[object] = [_now()]
        if key_id is not None:
            query, params = query + " AND key_id = ?", [*params, key_id]
        with self.lock:
            row = self.workspace.con.execute(query, params).fetchone()
        return int(row[0]) if row else 0
