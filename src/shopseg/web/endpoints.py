"""JSON endpoints the dashboard pages call, under ``/api/v1/dashboard``.

Thin routes: each takes the workspace lock, calls one function of
:mod:`shopseg.web.queries` or :mod:`shopseg.web.members`, and returns JSON.
Errors are :class:`~shopseg.errors.ShopsegError` subclasses, turned into the
API's error shape by the app's handlers; a rule error additionally carries
``issues`` with line/col so the builder can underline the character.

Roles: every read needs ``viewer``; saving a segment and exporting need ``marketer``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, Field

from shopseg.api.deps import get_state
from shopseg.api.keys import ApiKey
from shopseg.errors import SegmentError, SegmentExistsError
from shopseg.web import members, queries
from shopseg.web.auth import dashboard_key, start_session
from shopseg.web.auth import require_dashboard_role as require_role
from shopseg.web.cache import aggregate
from shopseg.web.context import invalidate, session
from shopseg.web.security import safe_next

__all__ = ["router", "RuleIn", "SegmentIn"]

router = APIRouter(prefix="/api/v1/dashboard", tags=["dashboard"])


class RuleIn(BaseModel):
    """A rule to check and preview (its length is checked against ``segment_max_rule_chars``: 413)."""

    rule: str
    sample: int = Field(default=10, ge=0, le=100)


class SegmentIn(BaseModel):
    """A segment to save."""

    name: str = Field(max_length=64)
    rule: str
    description: str = Field(default="", max_length=2_000)
    replace: bool = False
    force: bool = False


class LoginIn(BaseModel):
    """The dashboard login form."""

    api_key: str = Field(max_length=512)
    next: str = Field(default="/", max_length=2048)


def _rule_error(exc: SegmentError) -> JSONResponse:
    return JSONResponse(members.rule_error(exc), status_code=exc.status)


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
        "rfm": members.to_records(data["rfm"]) if data["rfm"] is not None else None,
        "saved": members.to_records(data["saved"]),
    }


@router.post("/segments/preview")
def preview(body: RuleIn, request: Request, _: ApiKey = Depends(require_role("viewer"))) -> Any:
    """Size, shares and a sample of a rule; a bad rule answers 422 with positioned issues."""
    try:
        with session(request) as s:
            return {"ok": True, **members.preview_rule(s.store, s.engine, body.rule, sample=body.sample)}
    except SegmentError as exc:
        return _rule_error(exc)


@router.post("/segments", status_code=201)
def save(body: SegmentIn, request: Request, _: ApiKey = Depends(require_role("marketer"))) -> Any:
    """Validate and save a segment, then snapshot it so its size shows on the overview."""
    try:
        with session(request) as s:
            try:
                saved = s.store.create(
                    body.name,
                    body.rule,
                    description=body.description,
                    replace=body.replace,
                    force=body.force,
                    surface="dashboard",
                )
            except SegmentExistsError as exc:
                raise exc.on("dashboard") from None
            s.store.refresh(s.engine)
            invalidate(s)
            s.state.segments_changed()  # the new rule is live at once, as when saved through /api/v1/segments
    except SegmentError as exc:
        return _rule_error(exc)
    return JSONResponse(
        {
            "ok": True,
            "name": saved.name,
            "version": saved.version,
            "rule": saved.definition,
            "url": f"/segments/{saved.name}",
        },
        status_code=201,
    )


@router.get("/segments/{name}/members")
def segment_members(
    request: Request,
    name: str,
    page: int = 1,
    size: int = 50,
    sort: str = "customer_id",
    desc: bool = False,
    q: str = "",
    _: ApiKey = Depends(require_role("viewer")),
) -> dict[str, Any]:
    """One page of a saved segment's members (at most 200 a page), sorted by ``sort``, filtered by ``q``."""
    with session(request) as s:
        return members.members_page(s.store, s.engine, name, page=page, size=size, sort=sort, desc=desc, search=q)


@router.get("/segments/{name}/explain/{customer_id}")
def explain(
    request: Request, name: str, customer_id: str, _: ApiKey = Depends(require_role("viewer"))
) -> dict[str, Any]:
    """Why a customer is, or is not, in a segment."""
    with session(request) as s:
        return members.explain_member(s.store, name, customer_id)


@router.get("/segments/{name}/export.csv")
def export(
    request: Request, name: str, consent: str = "email_marketing", _: ApiKey = Depends(require_role("marketer"))
) -> StreamingResponse:
    """Members who consented to ``consent`` as CSV; headers say how many were left out."""
    with session(request) as s:
        chunks, stats = members.export_rows(s.store, s.engine, name, consent=consent)
        body = list(chunks)  # materialised under the lock; the CSV holds a few columns per member
    day = dt.date.today().isoformat()
    headers = {
        "Content-Disposition": f'attachment; filename="{name}-{day}.csv"',
        "X-Shopseg-Members": str(stats["members"]),
        "X-Shopseg-Exported": str(stats["exported"]),
        "X-Shopseg-Left-Out": str(stats["left_out"]),
    }
    return StreamingResponse(iter(body), media_type="text/csv", headers=headers)


@router.get("/stream")
async def stream(request: Request, who: ApiKey = Depends(require_role("viewer"))) -> StreamingResponse:
    """Segment entries and exits as server-sent events: the API's ``/api/v1/stream``, with the login cookie."""
    from shopseg.api.routers.notifications import stream as api_stream

    return await api_stream(request, [], who, get_state(request))


@router.get("/events")
def events(
    request: Request, before: str | None = None, limit: int = 50, _: ApiKey = Depends(require_role("viewer"))
) -> dict[str, Any]:
    """The newest events, paged backwards with ``before`` (an ISO time)."""
    with session(request) as s:
        df = queries.latest_events(s.workspace, limit=max(1, min(limit, 200)), before=before)
    rows = members.to_records(df)
    return {"rows": rows, "next_before": rows[-1]["occurred_at"] if rows else None}
