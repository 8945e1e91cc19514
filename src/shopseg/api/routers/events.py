"""``POST /api/v1/events``: one event or a batch, validated, stored durably before the answer, idempotent."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Body, Depends, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from shopseg.api.deps import AppState, Principal, get_state, require_role
from shopseg.api.schemas import ErrorOut, EventBatchIn, EventIn, EventsOut
from shopseg.config import get_setting
from shopseg.errors import InvalidParameterError, UnsupportedOperationError

__all__ = ["router"]


def _body_schema() -> dict[str, Any]:
    one = EventIn.model_json_schema()
    batch = {
        "title": "EventBatchIn",
        "type": "object",
        "required": ["events"],
        "additionalProperties": False,
        "properties": {"events": {"type": "array", "minItems": 1, "items": one}},
    }
    return {"content": {"application/json": {"schema": {"anyOf": [one, batch]}}}, "required": True}


def _parse(body: Any) -> list[EventIn]:
    """One event or ``{"events": [...]}``; the presence of ``events`` decides, so errors speak of one shape."""
    model: type[EventIn] | type[EventBatchIn] = EventBatchIn if isinstance(body, dict) and "events" in body else EventIn
    try:
        parsed = model.model_validate(body)
    except ValidationError as exc:
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]) from None
    return parsed.events if isinstance(parsed, EventBatchIn) else [parsed]


router = APIRouter(
    tags=["events"],
    responses={401: {"model": ErrorOut}, 403: {"model": ErrorOut}, 413: {"model": ErrorOut}, 422: {"model": ErrorOut}},
)


@router.post("/events", response_model=EventsOut, openapi_extra={"requestBody": _body_schema()})
async def post_events(
    request: Request,
    body: Any = Body(..., description='One event, or {"events": [...]}.'),
    _: Principal = Depends(require_role("marketer")),
) -> EventsOut:
    """Store events, then answer: a 200 means every event of the request is on disk.

    A re-sent ``event_id`` is acknowledged again (counted in ``duplicates``) and
    stored once. Events of known customers update their live profile and may
    trigger segment entry/exit notifications.
    """
    state: AppState = get_state(request)  # not a dependency: a plain one would run on the thread pool
    events = _parse(body)
    limit = int(get_setting("api_max_batch"))
    if len(events) > limit:
        raise InvalidParameterError(
            f"events: too many in one request. Expected at most {limit} (setting "
            f"api_max_batch); got {len(events)}. Hint: split the batch."
        )
    if state.live is None:
        raise UnsupportedOperationError(
            "POST /api/v1/events: the server runs without live mode. Hint: restart it with `shopseg serve --live`."
        )
    rows = [e.model_dump() for e in events]
    accepted, duplicates, ids = await asyncio.wrap_future(state.live.submit(rows, owned=True))
    return EventsOut(accepted=accepted, duplicates=duplicates, event_ids=ids)
