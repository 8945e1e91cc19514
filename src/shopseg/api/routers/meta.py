"""``/api/v1/health`` (no key needed) and ``/api/v1/settings`` (viewer)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from shopseg.api.deps import AppState, Principal, get_state, require_role
from shopseg.api.schemas import ErrorOut, HealthOut, SettingOut
from shopseg.config import SETTINGS, get_setting

__all__ = ["router"]

router = APIRouter(tags=["meta"])


@router.get("/health", response_model=HealthOut)
def health(state: AppState = Depends(get_state)) -> HealthOut:
    """Is the server up; how many events and live segments it holds, and how many collected events were
    quarantined (stored apart because the workspace could not take them: docs/collection.md)."""
    live = state.live
    return HealthOut(
        ok=True,
        live=live is not None,
        events=live.event_count if live else 0,
        segments=len(live.segment_names()) if live else 0,
        quarantined=live.quarantined if live else 0,
    )


@router.get("/settings", response_model=list[SettingOut], responses={401: {"model": ErrorOut}})
def settings(_: Principal = Depends(require_role("viewer"))) -> list[SettingOut]:
    """Every process setting with its effective value."""
    hidden = {"workspace", "shopify_webhook_secret"}
    return [
        SettingOut(name=s.name, value=None if s.name in hidden else get_setting(s.name), default=s.default, help=s.help)
        for s in SETTINGS.values()
    ]
