"""The dashboard's own JSON endpoints, under ``/api/v1/dashboard``: login, who am I, overview, the event feed.

Everything about segments (preview, save, members, explain, export) the
dashboard asks the public ``/api/v1/segments`` routes
(:mod:`shopseg.api.routers.segments`), with its login cookie as the key; what is
here has no public counterpart. Thin routes: each takes the workspace lock,
calls one function of :mod:`shopseg.web.queries` and returns JSON. Errors are
:class:`~shopseg.errors.ShopsegError` subclasses, turned into the API's one
error shape by the app's handlers. Every read needs ``viewer``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import AfterValidator, BaseModel, BeforeValidator, Field

from shopseg.api.deps import get_state
from shopseg.api.keys import ApiKey
from shopseg.segments.query import to_records
from shopseg.web import queries
from shopseg.web.auth import dashboard_key, start_session
from shopseg.web.auth import require_dashboard_role as require_role
from shopseg.web.cache import aggregate
from shopseg.web.context import session
from shopseg.web.security import safe_next

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/dashboard", tags=["dashboard"])


class LoginIn(BaseModel):
    """The dashboard login form."""

    api_key: str = Field(max_length=512)
    next: str = Field(default="/", max_length=2048)


@router.post("/session")
def login(body: LoginIn, request: Request, response: Response) -> dict[str, Any]:
    """Check an API key and open a session (its token in the cookie); ``next``: where to go, a path of this server."""
    who = start_session(request, body.api_key, response)  # AuthenticationError -> 401, cross-origin -> 403
    return {"ok": True, "role": who.role, "next": safe_next(body.next)}


@router.get("/whoami")
def whoami(who: ApiKey = Depends(dashboard_key)) -> dict[str, Any]:
    """The caller's role."""
    return {"role": who.role, "key_id": who.key_id}


@router.get("/overview")
def overview(request: Request, _: ApiKey = Depends(require_role("viewer"))) -> dict[str, Any]:
    """KPIs, RFM and saved segment sizes and revenue shares (aggregates only)."""
    totals, saved = aggregate(get_state(request), "order_totals"), aggregate(get_state(request), "segment_sizes")
    with session(request) as s:
        data = queries.overview(s.workspace, totals, saved)
    return {
        "kpis": data["kpis"],
        "rfm": to_records(data["rfm"]) if data["rfm"] is not None else None,
        "saved": to_records(data["saved"]),
    }


def _naive_utc(value: dt.datetime | None) -> dt.datetime | None:
    """``value`` in UTC without an offset, as the events table keeps times."""
    if value is None or value.tzinfo is None:
        return value
    try:
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    except OverflowError:
        raise ValueError("the time in UTC is past the year 9999") from None


#: An ISO time (a date alone is its midnight), or empty for the newest; one with an offset is converted to UTC; a
#: malformed one answers 422 naming ``/query/before``.
Before = Annotated[
    dt.datetime | None,
    BeforeValidator(lambda v: v or None),
    AfterValidator(_naive_utc),
    Query(description="Only events before this ISO time (UTC unless it has an offset)."),
]


@router.get("/events")
def events(
    request: Request, before: Before = None, limit: int = 50, _: ApiKey = Depends(require_role("viewer"))
) -> dict[str, Any]:
    """The newest events, paged backwards with ``before`` (an ISO time)."""
    with session(request) as s:
        df = queries.latest_events(s.workspace, limit=max(1, min(limit, 200)), before=before)
    rows = to_records(df)
    return {"rows": rows, "next_before": rows[-1]["occurred_at"] if rows else None}
