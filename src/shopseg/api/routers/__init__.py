"""One router per noun, mounted under ``/api/v1`` by :func:`shopseg.api.create_app`."""

from __future__ import annotations

import importlib

from fastapi import APIRouter

__all__ = ["ROUTERS"]

_NOUNS = ["meta", "keys", "events", "customers", "segments", "notifications", "shopify", "admin"]


def _load() -> list[APIRouter]:
    return [importlib.import_module(f"shopseg.api.routers.{noun}").router for noun in _NOUNS]


ROUTERS = _load()
