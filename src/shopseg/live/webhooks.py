"""Webhooks: signed HTTP POSTs of entry/exit notifications, retried with exponential backoff, then dead-lettered.

Each notification is POSTed as JSON to every webhook whose segment filter
matches. Headers::

    X-Shopseg-Timestamp: 1717236000
    X-Shopseg-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>

A receiver recomputes the HMAC over the raw body (:func:`sign`) and rejects old
timestamps. A 2xx answer is success; anything else (or a timeout) is retried
after ``webhook_backoff_ms`` x 2^(attempt-1) until ``webhook_max_attempts``,
then the notification goes to the dead-letter table ``live_dead_letters``. One
worker thread per webhook delivers in order (a retry holds back later
notifications of that webhook, never those of other webhooks).

Tables: ``live_webhooks`` (the secret is stored as given: it is needed to sign)
and ``live_dead_letters``.
"""

from __future__ import annotations

import builtins
import datetime as dt
import hashlib
import hmac
import json
import queue
import secrets
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from shopseg._logging import get_logger
from shopseg.config import get_setting
from shopseg.errors import NotFound, did_you_mean
from shopseg.live.clock import utcnow

if TYPE_CHECKING:
    from shopseg.live.notify import Notification
    from shopseg.workspace import Workspace

__all__ = ["Webhook", "WebhookDispatcher", "sign", "WEBHOOKS_TABLE", "DEAD_LETTERS_TABLE"]

log = get_logger("shopseg.live.webhooks")
WEBHOOKS_TABLE = "live_webhooks"
DEAD_LETTERS_TABLE = "live_dead_letters"
_DDL = [
    f"""CREATE TABLE IF NOT EXISTS "{WEBHOOKS_TABLE}" (webhook_id VARCHAR, url VARCHAR, secret VARCHAR,
        segments VARCHAR, created_at TIMESTAMP, deleted BOOLEAN)""",
    f"""CREATE TABLE IF NOT EXISTS "{DEAD_LETTERS_TABLE}" (webhook_id VARCHAR, url VARCHAR, attempts INTEGER,
        last_error VARCHAR, failed_at TIMESTAMP, notification VARCHAR)""",
]


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>``: the HMAC-SHA256 of ``"<timestamp>.<body>"`` under ``secret``."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


@dataclass(frozen=True)
class Webhook:
    webhook_id: str
    url: str
    secret: str
    segments: tuple[str, ...]
    created_at: dt.datetime

    def wants(self, n: Notification) -> bool:
        return not self.segments or n.segment in self.segments


class _Worker:
    def __init__(self, hook: Webhook, parent: WebhookDispatcher) -> None:
        self.hook, self.parent = hook, parent
        self.queue: queue.Queue[Notification | None] = queue.Queue()
        self.thread = threading.Thread(target=self._run, name=f"shopseg-webhook-{hook.webhook_id}", daemon=True)
        self.thread.start()

    def _attempt(self, client: httpx.Client, body: bytes) -> str | None:
        ts = str(int(time.time()))
        headers = {
            "content-type": "application/json",
            "x-shopseg-timestamp": ts,
            "x-shopseg-signature": sign(self.hook.secret, ts, body),
        }
        try:
            r = client.post(self.hook.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return type(exc).__name__
        return None if 200 <= r.status_code < 300 else f"HTTP {r.status_code}"

    def _deliver(self, client: httpx.Client, n: Notification) -> None:
        body = json.dumps(n.to_dict(), sort_keys=True).encode()
        p, error, attempt = self.parent, "stopped", 0
        for attempt in range(1, p.max_attempts + 1):
            if p.erased(n):
                return
            error = self._attempt(client, body) or ""
            if not error:
                return
            log.info("webhook %s attempt %d failed: %s", self.hook.webhook_id, attempt, error)
            if attempt < p.max_attempts and p.stopping.wait(p.delays()[attempt - 1]):
                break
        p.dead_letter(self.hook, attempt, error, n)

    def _run(self) -> None:
        with httpx.Client(timeout=self.parent.timeout_s) as client:
            while True:
                n = self.queue.get()
                if n is None:
                    return
                self._deliver(client, n)


class WebhookDispatcher:
    """Webhook registry and delivery workers of one workspace.

    Parameters
    ----------
    workspace : Workspace
    lock : threading.RLock
        The workspace connection lock.
    max_attempts, backoff_ms, timeout_ms : int, default=None
        Default the ``webhook_*`` settings.
    """

    def __init__(
        self,
        workspace: Workspace,
        lock: threading.RLock,
        *,
        max_attempts: int | None = None,
        backoff_ms: int | None = None,
        timeout_ms: int | None = None,
    ) -> None:
        self.workspace, self.lock = workspace, lock
        self.max_attempts = max(1, int(max_attempts or get_setting("webhook_max_attempts")))
        self.backoff_s = int(backoff_ms if backoff_ms is not None else get_setting("webhook_backoff_ms")) / 1000
        self.timeout_s = int(timeout_ms or get_setting("webhook_timeout_ms")) / 1000
        self.stopping = threading.Event()
        self.workers: dict[str, _Worker] = {}
        self._erased: dict[str, int] = {}  # customer erased -> last notification number then (memory only)
        with lock:
            for stmt in _DDL:
                workspace.con.execute(stmt)
            for hook in self.list():
                self.workers[hook.webhook_id] = _Worker(hook, self)

    def delays(self) -> list[float]:
        """Seconds waited before each retry: ``backoff``, ``2 x backoff``, ``4 x backoff``, ..."""
        return [self.backoff_s * 2**i for i in range(self.max_attempts - 1)]

    def list(self) -> builtins.list[Webhook]:
        with self.lock:
            rows = self.workspace.con.execute(
                f'SELECT webhook_id, url, secret, segments, created_at FROM "{WEBHOOKS_TABLE}" WHERE NOT deleted '
                "ORDER BY created_at"
            ).fetchall()
        return [Webhook(r[0], r[1], r[2], tuple(json.loads(r[3])), r[4]) for r in rows]

    def add(self, url: str, segments: builtins.list[str], secret: str | None = None) -> Webhook:
        """Register a webhook (a random secret when none is given) and start its worker."""
        hook = Webhook(secrets.token_hex(6), url, secret or secrets.token_urlsafe(32), tuple(segments), utcnow())
        with self.lock:
            self.workspace.con.execute(
                f'INSERT INTO "{WEBHOOKS_TABLE}" VALUES (?, ?, ?, ?, ?, false)',
                [hook.webhook_id, url, hook.secret, json.dumps(segments), hook.created_at],
            )
            self.workers[hook.webhook_id] = _Worker(hook, self)
        return hook

    def remove(self, webhook_id: str) -> None:
        with self.lock:
            if webhook_id not in self.workers:
                known = list(self.workers)
                raise NotFound(
                    f"webhook '{webhook_id}' does not exist. Webhooks: {known or 'none'}."
                    f"{did_you_mean(webhook_id, known)}"
                )
            self.workspace.con.execute(
                f'UPDATE "{WEBHOOKS_TABLE}" SET deleted = true WHERE webhook_id = ?', [webhook_id]
            )
            self.workers.pop(webhook_id).queue.put(None)

    @property
    def active(self) -> bool:
        """Is any webhook registered? (Else the notifier does not hand it notifications at all.)"""
        return bool(self.workers)

    def __call__(self, n: Notification) -> None:
        """Queue ``n`` for every matching webhook (called by the notifier thread)."""
        if self.erased(n):
            return
        for worker in list(self.workers.values()):
            if worker.hook.wants(n):
                worker.queue.put(n)

    def erased(self, n: Notification) -> bool:
        """Was ``n`` published before its customer was erased? (Then it is neither sent nor dead-lettered.)"""
        return self._erased.get(n.customer_id, 0) >= n.seq

    def dead_letter(self, hook: Webhook, attempts: int, error: str, n: Notification) -> None:
        if self.erased(n):  # erased while its delivery was retried: storing it would bring the customer back
            return
        log.warning("webhook %s: notification %d dead-lettered after %d attempts", hook.webhook_id, n.seq, attempts)
        with self.lock:
            self.workspace.con.execute(
                f'INSERT INTO "{DEAD_LETTERS_TABLE}" VALUES (?, ?, ?, ?, ?, ?)',
                [hook.webhook_id, hook.url, attempts, error, utcnow(), json.dumps(n.to_dict())],
            )

    def dead_letters(self) -> builtins.list[dict[str, Any]]:
        with self.lock:
            rows = self.workspace.con.execute(
                f'SELECT webhook_id, url, attempts, last_error, failed_at, notification FROM "{DEAD_LETTERS_TABLE}" '
                "ORDER BY failed_at"
            ).fetchall()
        keys = ("webhook_id", "url", "attempts", "last_error", "failed_at")
        return [{**dict(zip(keys, r[:5], strict=True)), "notification": json.loads(r[5])} for r in rows]

    def erase(self, customer_id: str, upto_seq: int = 0) -> int:
        """Delete the dead letters of one customer (erasure); returns how many. Their notifications numbered up to
        ``upto_seq`` still queued or retried are dropped (never sent, never dead-lettered)."""
        where = f"""FROM "{DEAD_LETTERS_TABLE}" WHERE json_extract_string(notification, '$.customer_id') = ?"""
        with self.lock:
            self._erased[customer_id] = max(upto_seq, self._erased.get(customer_id, 0))
            row = self.workspace.con.execute(f"SELECT count(*) {where}", [customer_id]).fetchone()
            self.workspace.con.execute(f"DELETE {where}", [customer_id])
        return int(row[0]) if row else 0

    def stop(self) -> None:
        self.stopping.set()
        for w in self.workers.values():
            w.queue.put(None)
        for w in self.workers.values():
            w.thread.join(timeout=5)
