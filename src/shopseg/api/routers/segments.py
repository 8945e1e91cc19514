"""``/api/v1/segments``: saved segments through :class:`~shopseg.segments.definitions.SegmentStore`.

Reading and previewing needs a viewer key; creating, replacing, deleting and
exporting members needs a marketer key. Every saved segment is live: a change
is picked up by the live engine at once (members of a new or edited segment
are computed silently, without entry notifications).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Depends

from shopseg.api.deps import AppState, Principal, get_state, require_role
from shopseg.api.schemas import ErrorOut, MembersOut, PreviewIn, PreviewOut, SegmentIn, SegmentOut, SegmentUpdateIn
from shopseg.errors import SegmentError, SegmentExistsError, UnsupportedOperationError
from shopseg.rules.render import to_json
from shopseg.segments.definitions import SavedSegment, SegmentStore
from shopseg.segments.saved import describe_broken

__all__ = ["router"]

router = APIRouter(
    tags=["segments"],
    responses={401: {"model": ErrorOut}, 403: {"model": ErrorOut}, 404: {"model": ErrorOut}, 422: {"model": ErrorOut}},
)


def _batch(state: AppState, names: list[str]) -> dict[str, tuple[int, dt.date]]:
    """``name -> (members, as-of day)`` of each segment's latest snapshot (``shopseg segment refresh``)."""
    from shopseg.segments.definitions import SNAPSHOTS_TABLE

    if not names or not state.workspace.has_table(SNAPSHOTS_TABLE):
        return {}
    rows = state.workspace.con.execute(
        f"""WITH latest AS (SELECT name, max(as_of) AS as_of FROM "{SNAPSHOTS_TABLE}"
                            WHERE list_contains(?, name) GROUP BY name)
            SELECT s.name, s.as_of, count(*) FROM "{SNAPSHOTS_TABLE}" s JOIN latest USING (name, as_of)
            GROUP BY s.name, s.as_of""",
        [names],
    ).fetchall()
    return {str(n): (int(c), a.date() if isinstance(a, dt.datetime) else a) for n, a, c in rows}


def _out(
    state: AppState,
    s: SavedSegment,
    broken: Mapping[str, SegmentError] | None = None,
    batch: Mapping[str, tuple[int, dt.date]] | None = None,
) -> SegmentOut:
    """One saved segment; ``broken`` (:attr:`SegmentStore.broken`) says which ones cannot be used, and why;
    ``batch`` (:func:`_batch`) holds the latest snapshots (default: read for this segment)."""
    live = state.live
    size = len(live.evaluator.members.get(s.name, ())) if live is not None else None
    snapshot = (batch if batch is not None else _batch(state, [s.name])).get(s.name)
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


def _changed(state: AppState) -> None:
    state.segments_changed()


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    return None if value != value else value  # NaN -> None


@router.get("/segments", response_model=list[SegmentOut])
def list_segments(
    _: Principal = Depends(require_role("viewer")), state: AppState = Depends(get_state)
) -> list[SegmentOut]:
    """Every saved segment (latest versions)."""
    with state.lock:
        store = SegmentStore(state.workspace)
        store.definitions()  # finds the broken ones
        saved = store.list()
        batch = _batch(state, [s.name for s in saved])
        return [_out(state, s, store.broken, batch) for s in saved]


@router.get("/segments/{name}", response_model=SegmentOut)
def get_segment(
    name: str,
    version: int | None = None,
    _: Principal = Depends(require_role("viewer")),
    state: AppState = Depends(get_state),
) -> SegmentOut:
    """One saved segment (latest version unless ``version``)."""
    with state.lock:
        store = SegmentStore(state.workspace)
        saved = store.get(name, version)
        if version is None:
            store.definitions()  # finds the broken ones (of the latest versions)
        return _out(state, saved, store.broken)


@router.post("/segments", response_model=SegmentOut, status_code=201)
def create_segment(
    body: SegmentIn, _: Principal = Depends(require_role("marketer")), state: AppState = Depends(get_state)
) -> SegmentOut:
    """Validate and save a new segment (409-free: an existing name answers 422, use PUT)."""
    with state.lock:
        store = SegmentStore(state.workspace)
        try:
            saved = store.create(
                body.name, body.definition, description=body.description, force=body.force, surface="api"
            )
        except SegmentExistsError as exc:
            raise exc.on("api") from None
        _changed(state)
        out = _out(state, saved)
        out.warnings = store.value_warnings(saved.segment)
        return out


@router.put("/segments/{name}", response_model=SegmentOut)
def replace_segment(
    name: str,
    body: SegmentUpdateIn,
    _: Principal = Depends(require_role("marketer")),
    state: AppState = Depends(get_state),
) -> SegmentOut:
    """Save a new version of a segment (creating it if absent)."""
    with state.lock:
        saved = SegmentStore(state.workspace).create(
            name, body.definition, description=body.description, replace=True, force=body.force, surface="api"
        )
        _changed(state)
        return _out(state, saved)


@router.delete("/segments/{name}", response_model=SegmentOut)
def delete_segment(
    name: str, _: Principal = Depends(require_role("marketer")), state: AppState = Depends(get_state)
) -> SegmentOut:
    """Delete a segment (a tombstone version; history is kept). Answers the deleted version."""
    with state.lock:
        store = SegmentStore(state.workspace)
        saved = store.get(name)
        out = _out(state, saved)
        store.delete(name)
        _changed(state)
        return out


@router.post("/segments/preview", response_model=PreviewOut)
def preview_segment(
    body: PreviewIn, _: Principal = Depends(require_role("viewer")), state: AppState = Depends(get_state)
) -> PreviewOut:
    """Batch preview of a rule on the stored features: size, shares, overlaps, a sample."""
    from shopseg.engine import get_engine

    with state.lock:
        store = SegmentStore(state.workspace)
        info = store.preview(
            get_engine(state.workspace, "duckdb"), body.definition, as_of=body.as_of, sample=body.sample
        )
    sample = [{k: _jsonable(v) for k, v in row.items()} for row in info.pop("sample").to_dict("records")]
    return PreviewOut(sample=sample, **info)


@router.get("/segments/{name}/members", response_model=MembersOut)
def segment_members(
    name: str,
    limit: int = 1000,
    offset: int = 0,
    _: Principal = Depends(require_role("marketer")),
    state: AppState = Depends(get_state),
) -> MembersOut:
    """Export the live members (customer ids, sorted; paged by ``limit``/``offset``)."""
    if state.live is None:
        raise UnsupportedOperationError("members: the server runs without live mode. Hint: `shopseg serve --live`.")
    with state.lock:
        SegmentStore(state.workspace).get(name)
        ids = sorted(state.live.evaluator.members.get(name, ()))
    limit, offset = max(0, min(limit, 100_000)), max(0, offset)
    return MembersOut(segment=name, size=len(ids), customer_ids=ids[offset : offset + limit])
