"""The shopseg HTTP API (FastAPI): :func:`create_app` and the :func:`require_role` dependency."""

from __future__ import annotations

from shopseg.api.app import API_PREFIX, create_app
from shopseg.api.deps import AppState, Principal, get_state, require_role

__all__ = ["create_app", "require_role", "get_state", "AppState", "Principal", "API_PREFIX"]
