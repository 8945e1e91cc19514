"""``/api/v1/keys``: create, list and revoke API keys (admin)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from shopseg.api.deps import AppState, Principal, get_state, require_role
from shopseg.api.keys import ApiKey
from shopseg.api.schemas import ErrorOut, KeyCreatedOut, KeyIn, KeyOut

__all__ = ["router"]

router = APIRouter(tags=["keys"], responses={401: {"model": ErrorOut}, 403: {"model": ErrorOut}})


def _out(k: ApiKey) -> KeyOut:
    return KeyOut(key_id=k.key_id, name=k.name, role=k.role, created_at=k.created_at, revoked_at=k.revoked_at)


@router.get("/keys", response_model=list[KeyOut])
def list_keys(_: Principal = Depends(require_role("admin")), state: AppState = Depends(get_state)) -> list[KeyOut]:
    """Every key (never a secret)."""
    return [_out(k) for k in state.keys.list()]


@router.post("/keys", response_model=KeyCreatedOut, status_code=201, responses={422: {"model": ErrorOut}})
def create_key(
    body: KeyIn, _: Principal = Depends(require_role("admin")), state: AppState = Depends(get_state)
) -> KeyCreatedOut:
    """Create a key; the answer holds the only copy of the secret."""
    created = state.keys.create(body.name, body.role)
    return KeyCreatedOut(key=created.key, **_out(created.info).model_dump())


@router.delete("/keys/{key_id}", response_model=KeyOut, responses={404: {"model": ErrorOut}})
def revoke_key(
    key_id: str, _: Principal = Depends(require_role("admin")), state: AppState = Depends(get_state)
) -> KeyOut:
    """Revoke a key: later requests with it answer 401."""
    return _out(state.keys.revoke(key_id))
