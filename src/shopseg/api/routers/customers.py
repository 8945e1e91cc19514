"""``/api/v1/customers/{id}``: live profile and segment memberships (viewer); erasure (admin)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from shopseg.api.deps import AppState, Principal, get_state, require_role
from shopseg.api.schemas import CustomerOut, ErasureOut, ErrorOut, MembershipOut
from shopseg.errors import NotFound, UnsupportedOperationError
from shopseg.live.storage import MEMBERSHIPS_TABLE
from shopseg.segments.query import plain

__all__ = ["router"]

router = APIRouter(
    tags=["customers"], responses={401: {"model": ErrorOut}, 403: {"model": ErrorOut}, 404: {"model": ErrorOut}}
)


def _live(state: AppState):
    if state.live is None:
        raise UnsupportedOperationError("customers: the server runs without live mode. Hint: `shopseg serve --live`.")
    return state.live


def _memberships(state: AppState, customer_id: str) -> list[MembershipOut]:
    if state.live is not None:
        state.live.flush()  # the view reads the transition log: apply what is still journaled
    rows = state.workspace.con.execute(
        f'SELECT segment, since FROM "{MEMBERSHIPS_TABLE}" WHERE customer_id = ? ORDER BY segment', [customer_id]
    ).fetchall()
    return [MembershipOut(segment=r[0], since=r[1]) for r in rows]


@router.get("/customers/{customer_id}", response_model=CustomerOut)
def get_customer(
    customer_id: str, _: Principal = Depends(require_role("viewer")), state: AppState = Depends(get_state)
) -> CustomerOut:
    """The customer's batch profile fields, live counters and current live segments."""
    live = _live(state)
    with state.lock:
        prof = live.evaluator.profiles.get(customer_id)
        if prof is None:
            raise NotFound(f"customer '{customer_id}' is not known: no profile and no events yet.")
        profile = {k: plain(v) for k, v in prof.base.items() if k != "email"}
        summary = {k: plain(v) for k, v in prof.summary().items()}
        return CustomerOut(
            customer_id=customer_id, profile=profile, live=summary, segments=_memberships(state, customer_id)
        )


@router.get("/customers/{customer_id}/segments", response_model=list[MembershipOut])
def get_customer_segments(
    customer_id: str, _: Principal = Depends(require_role("viewer")), state: AppState = Depends(get_state)
) -> list[MembershipOut]:
    """The live segments the customer is in, with the time they entered."""
    live = _live(state)
    with state.lock:
        if customer_id not in live.evaluator.profiles:
            raise NotFound(f"customer '{customer_id}' is not known: no profile and no events yet.")
        return _memberships(state, customer_id)


@router.delete("/customers/{customer_id}", response_model=ErasureOut)
def erase_customer(
    customer_id: str, _: Principal = Depends(require_role("admin")), state: AppState = Depends(get_state)
) -> ErasureOut:
    """Erase a customer: every row with this customer_id in every table, their journaled events, their devices'
    anonymous events, the live state; then rewrite the workspace file (setting erasure_compact)."""
    rows = _live(state).erase(customer_id)
    if not rows:
        raise NotFound(f"customer '{customer_id}' is not known: nothing to erase.")
    with state.lock:
        compacted = not state.workspace.compact_pending
    return ErasureOut(customer_id=customer_id, rows_deleted=rows, compacted=compacted)
