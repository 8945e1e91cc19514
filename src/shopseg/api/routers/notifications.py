"""Segment entry/exit out: ``GET /api/v1/stream`` (server-sent events), ``/api/v1/webhooks``, dead letters.

The stream sends one SSE message per notification::

    id: 42
    event: entry
    data: {"id": "abandoned_cart:c1:entry:2024-06-02T00:00:00", "seq": 42, "kind": "entry", ...}

and a ``: keep-alive`` comment every 15 s of silence. ``?segment=a&segment=b``
filters. Webhooks: see :mod:`shopseg.live.webhooks` (signature, retries).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse

from shopseg.api.deps import AppState, Principal, get_state, require_role
from shopseg.api.schemas import DeadLetterOut, ErrorOut, WebhookIn, WebhookOut
from shopseg.errors import UnsupportedOperationError
from shopseg.live.notify import Notification
from shopseg.live.webhooks import Webhook

__all__ = ["router"]

router = APIRouter(tags=["notifications"], responses={401: {"model": ErrorOut}, 403: {"model": ErrorOut}})
KEEPALIVE_S = 15.0


def _live(state: AppState):
    if state.live is None:
        raise UnsupportedOperationError(
            "notifications: the server runs without live mode. Hint: `shopseg serve --live`."
        )
    return state.live


@router.get(
    "/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "Server-sent events."}},
)
async def stream(
    request: Request,
    segment: list[str] = Query(default=[]),
    _: Principal = Depends(require_role("viewer")),
    state: AppState = Depends(get_state),
) -> StreamingResponse:
    """Entry and exit notifications as they happen (server-sent events)."""
    live = _live(state)
    sub = live.subscribe(asyncio.get_running_loop(), segment)

    async def messages() -> AsyncIterator[bytes]:
        try:
            yield b": connected\n\n"
            while True:
                try:
                    n = await sub.get(KEEPALIVE_S)
                except StopAsyncIteration:
                    return
                if n is None:
                    if await request.is_disconnected():
                        return
                    yield b": keep-alive\n\n"
                    continue
                yield "".join(_message(m) for m in [n, *sub.pending()]).encode()  # a burst in one write
        finally:
            live.notifier.unsubscribe(sub)

    return StreamingResponse(
        messages(), media_type="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )


def _message(n: Notification) -> str:
    return f"id: {n.seq}\nevent: {n.kind}\ndata: {json.dumps(n.to_dict())}\n\n"


def _hook(h: Webhook, secret: bool = False) -> WebhookOut:
    return WebhookOut(
        webhook_id=h.webhook_id,
        url=h.url,
        segments=list(h.segments),
        created_at=h.created_at,
        secret=h.secret if secret else None,
    )


@router.get("/webhooks", response_model=list[WebhookOut])
def list_webhooks(
    _: Principal = Depends(require_role("marketer")), state: AppState = Depends(get_state)
) -> list[WebhookOut]:
    """Registered webhooks (secrets are not shown)."""
    return [_hook(h) for h in _live(state).webhooks.list()]


@router.post("/webhooks", response_model=WebhookOut, status_code=201, responses={422: {"model": ErrorOut}})
def add_webhook(
    body: WebhookIn, _: Principal = Depends(require_role("marketer")), state: AppState = Depends(get_state)
) -> WebhookOut:
    """Register a webhook; the answer shows the signing secret once."""
    return _hook(_live(state).webhooks.add(body.url, body.segments, body.secret), secret=True)


@router.delete("/webhooks/{webhook_id}", status_code=204, responses={404: {"model": ErrorOut}})
def remove_webhook(
    webhook_id: str, _: Principal = Depends(require_role("marketer")), state: AppState = Depends(get_state)
) -> None:
    """Stop delivering to a webhook."""
    _live(state).webhooks.remove(webhook_id)


@router.get("/webhooks/dead-letters", response_model=list[DeadLetterOut])
def dead_letters(
    _: Principal = Depends(require_role("marketer")), state: AppState = Depends(get_state)
) -> list[DeadLetterOut]:
    """Notifications that failed every delivery attempt."""
    return [DeadLetterOut(**d) for d in _live(state).webhooks.dead_letters()]
