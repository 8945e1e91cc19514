"""Erasure on a running server: the live engine's part of :func:`shopseg.privacy.forget_customer`.

``DELETE /api/v1/customers/{id}`` (and :meth:`LiveEngine.erase`) runs the same
erasure as ``shopseg forget``, with the engine's locks held so nothing about the
customer can be journaled or applied in between:

1. under the connection lock and the live state lock (the writer waits; requests
   queue, nothing is lost): the pending events are applied, the webhook dead
   letters of the customer go (and their notifications still queued or retried
   for a webhook are dropped: never sent, never dead-lettered),
   :func:`~shopseg.privacy.forget_customer` erases the workspace tables and
   rewrites the engine's open journal, and the live profile, memberships and
   re-entry history are dropped (no exit notifications);
2. then, the state lock released (events flow again), the workspace file is
   rewritten (``erasure_compact=now``): the connection lock is held, the dashboard's
   reader cursors are interrupted and waited for (30 s at most), the connection is
   closed, the file replaced, and the connection reopened on next use. If the
   readers do not let go in time, the file stays marked and is rewritten by the next
   erasure or at the next start of ``shopseg serve``; the answer says
   ``"compacted": false``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shopseg._logging import get_logger
from shopseg.config import get_setting
from shopseg.errors import NotFound, ShopsegError

if TYPE_CHECKING:
    from shopseg.live.runtime import LiveEngine

__all__ = ["erase_customer"]

log = get_logger("shopseg.live")


def erase_customer(engine: LiveEngine, customer_id: str, reason: str = "erasure request (HTTP API)") -> dict[str, int]:
    """Erase ``customer_id`` from the workspace, the journal, the live state and the file; rows removed per store.

    An empty result means the customer was unknown (nothing was erased or logged).
    """
    from shopseg.privacy.erasure import forget_customer

    with engine.lock, engine._state:  # noqa: SLF001 - the engine's own lock order: connection, then state
        engine.flush()
        # first: the generic erasure would only redact the id in them; queued deliveries of the customer are dropped
        dead = engine.webhooks.erase(customer_id, upto_seq=engine.notifier.published)
        try:
            rows = dict(
                forget_customer(
                    engine.workspace,
                    customer_id,
                    reason=reason,
                    compact=False,
                    journal=engine.journal,
                ).deleted
            )
        except NotFound:
            rows = {}
        if dead:
            rows["live_dead_letters"] = dead
        engine.evaluator.forget(customer_id)
        engine.policy.forget(customer_id)
        if engine.identities is not None:  # collection's device links: its devices are anonymous again
            for anon in [a for a, c in engine.identities.items() if c == customer_id]:
                del engine.identities[anon]
    if rows and get_setting("erasure_compact") == "now":
        try:
            engine.workspace.compact(lock=engine.lock)
        except ShopsegError as exc:  # the erasure holds; the file is rewritten later (still marked)
            log.error("erasure: the workspace file could not be rewritten yet: %s", exc)
    return rows
