"""``/api/v1/segments``: saved segments and the questions about them, for scripts and the dashboard alike.

Every answer comes from :class:`~shopseg.segments.definitions.SegmentStore`
(what is saved) and :class:`~shopseg.segments.query.SegmentQuery` (preview,
members, explain, export); a rule is validated once, here at the boundary.
Reading, previewing and explaining need a viewer key; creating, replacing,
deleting and exporting members need a marketer key (the dashboard's login
cookie counts as its key: :mod:`shopseg.api.cookie_auth`). Every saved segment
is live: a change is picked up by the live engine at once (members of a new or
edited segment are computed silently, without entry notifications), and its
membership is snapshotted so its size shows at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse

from shopseg.api.cookie_auth import is_cookie_borne
from shopseg.api.deps import AppState, Principal, get_state, require_role
from shopseg.api.schemas import (
    ErrorOut,
    MembersOut,
    PreviewIn,
    PreviewOut,
    SegmentIn,
    SegmentOut,
    SegmentUpdateIn,
)
from shopseg.errors import SegmentError, SegmentExistsError, UnsupportedOperationError
from shopseg.rules.render import to_json
from shopseg.segments.definitions import SavedSegment, SegmentStore
from shopseg.segments.query import SegmentQuery
from shopseg.segments.saved import describe_broken

__all__ = ["router"]

Viewer = Annotated[Principal, Depends(require_role("viewer"))]
Marketer = Annotated[Principal, Depends(require_role("marketer"))]
State = Annotated[AppState, Depends(get_state)]

#: Highest member page a request may ask for: its row offset must fit DuckDB's 64-bit integers (at 200 a page).
PAGE_MAX = 1_000_000_000

router = APIRouter(
    tags=["segments"],
    responses={401: {"model": ErrorOut}, 403: {"model": ErrorOut}, 404: {"model": ErrorOut}, 422: {"model": ErrorOut}},
)


def _batch(store: SegmentStore) -> dict[str, tuple[int, dt.date]]:
    """``name -> (members, as-of day)`` of each segment's latest snapshot (``shopseg segment refresh``;
    :meth:`SegmentStore.latest_snapshots`: a refresh that found no member is a snapshot of 0)."""
    latest = store.latest_snapshots()
    return {
        str(name): (int(size), day.date() if isinstance(day, dt.datetime) else day)
        for name, day, size in zip(latest["name"], latest["as_of"], latest["size"], strict=True)
    }


def _out(
    state: AppState,
    s: SavedSegment,
    store: SegmentStore,
    broken: Mapping[str, SegmentError] | None = None,
    batch: Mapping[str, tuple[int, dt.date]] | None = None,
) -> SegmentOut:
    """One saved segment; ``broken`` (:attr:`SegmentStore.broken`) says which ones cannot be used, and why;
    ``batch`` (:func:`_batch`) holds the latest snapshots (default: read from ``store``)."""
    live = state.live
    size = len(live.evaluator.members.get(s.name, ())) if live is not None else None
    snapshot = (batch if batch is not None else _batch(store)).get(s.name)
    exc = (broken or {}).get(s.name)
    json_form = None
    if exc is None:
        try:
            json_form = to_json(s.segment)
        except SegmentError as parse_error:  # saved by an older version, or over a lowered limit: listed, with why
            exc = parse_error
    error = describe_broken(s.name, exc) if exc is not None else None
    return SegmentOut(
        name=s.name,
        version=s.version,
        rule=s.definition,
        definition=s.definition,
        description=s.description,
        created_at=s.created_at,
        json_form=json_form,
        live_members=size,
        live_as_of=live.day if live is not None else None,
        batch_members=snapshot[0] if snapshot else None,
        batch_as_of=snapshot[1] if snapshot else None,
        error=error,
    )


@contextmanager
def _query(state: AppState) -> Iterator[SegmentQuery]:
    """The segment query service on the app's workspace, inside its lock."""
    from shopseg.engine import get_engine

    with state.lock:
        yield SegmentQuery(SegmentStore(state.workspace), get_engine(state.workspace, "duckdb"))


def _save(
    request: Request, state: AppState, name: str, body: SegmentIn | SegmentUpdateIn, *, replace: bool
) -> SegmentOut:
    """The one save path of every surface: validate once, save, snapshot, tell the live engine."""
    with _query(state) as q:
        surface = "dashboard" if is_cookie_borne(request) else "api"
        try:
            saved = q.store.create(
                name, body.rule, description=body.description, replace=replace, force=body.force, surface=surface
            )
        except SegmentExistsError as exc:
            raise exc.on(surface) from None
        if state.workspace.meta("features_as_of") is not None:
            q.store.refresh(q.engine)  # the new size shows at once (overview, `segment list`)
        state.segments_changed()
        out = _out(state, saved, q.store)
        out.warnings = q.store.value_warnings(saved.segment)
        return out


@router.get("/segments", response_model=list[SegmentOut])
def list_segments(_: Viewer, state: State) -> list[SegmentOut]:
    """Every saved segment (latest versions)."""
    with state.lock:
        store = SegmentStore(state.workspace)
        store.definitions()  # finds the broken ones
        saved = store.list()
        batch = _batch(store)
        return [_out(state, s, store, store.broken, batch) for s in saved]


@router.get("/segments/{name}", response_model=SegmentOut)
def get_segment(
    name: str,
    _: Viewer,
    state: State,
    version: int | None = None,
) -> SegmentOut:
    """One saved segment (latest version unless ``version``)."""
    with state.lock:
        store = SegmentStore(state.workspace)
        saved = store.get(name, version)
        if version is None:
            store.definitions()  # finds the broken ones (of the latest versions)
        return _out(state, saved, store, store.broken)


@router.post("/segments", response_model=SegmentOut, status_code=201)
def create_segment(
    body: SegmentIn,
    request: Request,
    _: Marketer,
    state: State,
) -> SegmentOut:
    """Validate and save a new segment (an existing name answers 422: use PUT)."""
    return _save(request, state, body.name, body, replace=False)


@router.put("/segments/{name}", response_model=SegmentOut)
def replace_segment(
    name: str,
    body: SegmentUpdateIn,
    request: Request,
    _: Marketer,
    state: State,
) -> SegmentOut:
    """Save a new version of a segment (creating it if absent)."""
    return _save(request, state, name, body, replace=True)


@router.delete("/segments/{name}", response_model=SegmentOut)
def delete_segment(name: str, _: Marketer, state: State) -> SegmentOut:
    """Delete a segment (a tombstone version; history is kept). Answers the deleted version."""
    with state.lock:
        store = SegmentStore(state.workspace)
        saved = store.get(name)
        out = _out(state, saved, store)
        store.delete(name)
        state.segments_changed()
        return out


@router.post("/segments/preview", response_model=PreviewOut)
def preview_segment(body: PreviewIn, _: Viewer, state: State) -> dict[str, Any]:
    """Batch preview of a rule on the stored features: size, shares, overlaps, a sample, warnings."""
    with _query(state) as q:
        return q.preview(q.rule(body.rule), as_of=body.as_of, sample=body.sample, overlap=body.overlap)


@router.get("/segments/{name}/customers")
def segment_customers(
    name: str,
    _: Viewer,
    state: State,
    page: Annotated[int, Query(le=PAGE_MAX, description="Page number from 1 (below 1: the first page).")] = 1,
    size: int = 50,
    sort: str = "customer_id",
    desc: bool = False,
    q: str = Query(default="", max_length=100),
) -> dict[str, Any]:
    """One page of a saved segment's members on the stored features (at most 200 a page).

    ``sort``: a member column (``customer_id``, ``orders``, ``revenue``, ``last_order_at``, ``country``,
    ``region``), largest first with ``desc``; ``q``: keep members whose id contains it or whose country or
    region starts with it (case-insensitive).
    """
    with _query(state) as query:
        return query.members_page(name, page=page, size=size, sort=sort, desc=desc, search=q)


@router.get("/segments/{name}/explain/{customer_id}")
def explain_customer(name: str, customer_id: str, _: Viewer, state: State) -> dict[str, Any]:
    """Each condition of a saved segment with the customer's value and whether it held."""
    with _query(state) as q:
        return q.explain(name, customer_id)


@router.get("/segments/{name}/export.csv", response_class=StreamingResponse)
def export_segment(name: str, _: Marketer, state: State, consent: str = "email_marketing") -> StreamingResponse:
    """Members who consented to ``consent`` as CSV; headers say how many were left out."""
    with _query(state) as q:
        chunks, stats = q.export_csv(name, consent=consent)
        body = list(chunks)  # materialised under the lock; the CSV holds a few columns per member
    headers = {
        "Content-Disposition": f'attachment; filename="{name}-{dt.date.today().isoformat()}.csv"',
        "X-Shopseg-Members": str(stats["members"]),
        "X-Shopseg-Exported": str(stats["exported"]),
        "X-Shopseg-Left-Out": str(stats["left_out"]),
    }
    return StreamingResponse(iter(body), media_type="text/csv", headers=headers)


@router.get("/segments/{name}/members", response_model=MembersOut)
def segment_members(name: str, _: Marketer, state: State, limit: int = 1000, offset: int = 0) -> MembersOut:
    """Export the live members (customer ids, sorted; paged by ``limit``/``offset``)."""
    if state.live is None:
        raise UnsupportedOperationError("members: the server runs without live mode. Hint: `shopseg serve --live`.")
    with state.lock:
        SegmentStore(state.workspace).get(name)
        ids = sorted(state.live.evaluator.members.get(name, ()))
    limit, offset = max(0, min(limit, 100_000)), max(0, offset)
    return MembersOut(segment=name, size=len(ids), customer_ids=ids[offset : offset + limit])
