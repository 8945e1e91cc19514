"""``POST /api/v1/shopify/webhooks``: a Shopify app's webhooks, verified, stored durably, idempotent.

Point the app's webhook subscriptions (``orders/create``, ``orders/updated``, ``orders/cancelled``,
``refunds/create``, ``customers/create``, ``customers/update``, ``checkouts/create``, ``checkouts/update``,
and the compliance topics ``customers/redact``, ``customers/data_request``) at this URL and set the
app's secret as the ``shopify_webhook_secret`` setting (``SHOPSEG_SHOPIFY_WEBHOOK_SECRET``).

- Verification: ``X-Shopify-Hmac-Sha256`` must be the base64 HMAC-SHA256 of the raw body under the
  secret (compared in constant time); a missing or wrong one answers 401. No API key is involved.
- Idempotency: ``X-Shopify-Webhook-Id`` is the event id (orders and checkouts use their own ids), so a
  redelivery is acknowledged and stored once. A 200 means the event is in the journal and fsynced.
- ``customers/redact`` erases the customer (``DELETE /api/v1/customers/{id}``'s erasure);
  ``customers/data_request`` is recorded in the privacy audit log (the subject's hash only) and logged,
  for the operator to answer with ``shopseg privacy export CUSTOMER_ID``.
- Logs name the topic, the webhook id and the outcome, never the body.

Mapping: :mod:`shopseg.collect.shopify`.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from shopseg._logging import get_logger
from shopseg.api.deps import AppState, get_state
from shopseg.api.errors import error_response
from shopseg.api.schemas import ErrorOut
from shopseg.collect._values import InvalidCallsError
from shopseg.collect.shopify import EVENT_TOPICS, PRIVACY_TOPICS, shopify_event
from shopseg.config import get_setting
from shopseg.errors import AuthenticationError, BadRequestError, UnsupportedOperationError

__all__ = ["router", "sign"]

log = get_logger("shopseg.api")
router = APIRouter(tags=["collect"], responses={400: {"model": ErrorOut}, 401: {"model": ErrorOut}})


def sign(body: bytes, secret: str) -> str:
    """The ``X-Shopify-Hmac-Sha256`` value of ``body``: base64 of its HMAC-SHA256 under ``secret``."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def _verify(request: Request, raw: bytes, topic: str, webhook_id: str) -> None:
    secret = str(get_setting("shopify_webhook_secret"))
    if not secret:
        raise AuthenticationError(  # nothing can be verified: refused like a bad signature (Shopify retries)
            "shopify webhook: no Shopify app secret is configured, so no delivery can be verified. Hint: set the "
            "shopify_webhook_secret setting (SHOPSEG_SHOPIFY_WEBHOOK_SECRET) to the app's client secret."
        )
    given = request.headers.get("x-shopify-hmac-sha256", "")
    if not given or not hmac.compare_digest(given.strip(), sign(raw, secret)):
        log.warning("shopify webhook refused: missing or wrong signature (topic %s, webhook id %s)", topic, webhook_id)
        raise AuthenticationError(
            "shopify webhook: the X-Shopify-Hmac-Sha256 signature is missing or wrong. Expected the base64 "
            "HMAC-SHA256 of the body under the app's secret (setting shopify_webhook_secret)."
        )


def _owner(state: AppState, order_id: Any) -> str | None:
    """The customer of a stored order (a refund's payload names only the order; its order may still wait for
    the applier: applied first, refunds are rare)."""
    if order_id is None or state.live is None:
        return None
    state.live.flush()
    with state.lock:
        row = state.workspace.con.execute(
            "SELECT customer_id FROM orders WHERE order_id = ?", [str(order_id)]
        ).fetchone()
    return str(row[0]) if row and row[0] is not None else None


async def _privacy(state: AppState, topic: str, payload: dict[str, Any], webhook_id: str) -> None:
    from shopseg.privacy.audit import record_audit, subject_hash

    given = payload.get("customer")
    customer: dict[str, Any] = given if isinstance(given, dict) else {}
    cid = None if customer.get("id") is None else str(customer["id"])
    if cid is None:
        raise BadRequestError(f"shopify webhook {topic}: expected customer.id in the payload; got none.")
    if topic == "customers/redact":
        assert state.live is not None
        rows = await run_in_threadpool(state.live.erase, cid)
        log.info("shopify webhook %s (%s): erasure done, %d rows removed", topic, webhook_id, sum(rows.values()))
        return
    data_request = payload.get("data_request")
    request_id = data_request.get("id") if isinstance(data_request, dict) else None

    def record() -> None:
        with state.lock:
            ws = state.workspace
            record_audit(
                ws, "subject_access_requested", subject_hash(ws, cid), {"source": "shopify", "request": request_id}
            )

    await run_in_threadpool(record)
    log.warning(
        "shopify webhook %s (%s): a subject access request was recorded; answer it with "
        "`shopseg privacy export <customer id>` (the id is in the Shopify admin)",
        topic,
        webhook_id,
    )


@router.post(
    "/shopify/webhooks",
    response_model=None,
    responses={200: {"content": {"application/json": {"example": {"ok": True}}}}},
)
async def shopify_webhook(request: Request) -> dict[str, Any] | JSONResponse:
    """One Shopify webhook delivery; 200 once it is stored (or the privacy request is done)."""
    state = get_state(request)
    topic = request.headers.get("x-shopify-topic", "").strip()
    raw = await request.body()
    webhook_id = request.headers.get("x-shopify-webhook-id", "").strip() or hashlib.sha256(raw).hexdigest()[:32]
    _verify(request, raw, topic, webhook_id)
    if state.live is None:
        raise UnsupportedOperationError(
            "POST /api/v1/shopify/webhooks: the server runs without live mode. Hint: restart it with `shopseg serve`."
        )
    try:
        payload = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise BadRequestError(f"shopify webhook {topic}: the body is not JSON.") from None
    except RecursionError:
        raise BadRequestError(f"shopify webhook {topic}: the body is nested too deeply.") from None
    if not isinstance(payload, dict):
        raise BadRequestError(f"shopify webhook {topic}: expected a JSON object; got {type(payload).__name__}.")
    if topic in PRIVACY_TOPICS:
        await _privacy(state, topic, payload, webhook_id)
        return {"ok": True, "topic": topic}
    if topic not in EVENT_TOPICS:
        log.info("shopify webhook %s (%s): topic not used, ignored", topic, webhook_id)
        return {"ok": True, "topic": topic, "ignored": True}
    owner = await run_in_threadpool(_owner, state, payload.get("order_id")) if topic == "refunds/create" else None
    try:
        event = shopify_event(topic, payload, webhook_id, state.live.clock.now(), owner)
    except InvalidCallsError as exc:
        log.warning("shopify webhook %s (%s): refused, %d invalid values", topic, webhook_id, len(exc.issues))
        return error_response(exc.status, [i.as_dict() for i in exc.issues])
    if event is None:
        raise BadRequestError(f"shopify webhook {topic}: expected the resource's id in the payload; got none.")
    accepted, _, _ = await asyncio.wrap_future(state.live.submit([event]))
    log.info("shopify webhook %s (%s): %s", topic, webhook_id, "stored" if accepted else "already stored")
    return {"ok": True, "topic": topic}
