"""One router per noun, mounted under ``/api/v1`` by :func:`shopseg.api.create_app`."""

from __future__ import annotations

import importlib

from fastapi import APIRouter

__all__ = ["ROUTERS"]

_NOUNS = ["meta", "keys", "events", "customers", "segments", "notifications"]


def _load() -> list[APIRouter]:
    out = []
    for noun in _NOUNS:
        try:
            module = importlib.import_module(f"shopseg.api.routers.{noun}")
        except ModuleNotFoundError as exc:  # a router still being written must not break the rest
            if exc.name != f"shopseg.api.routers.{noun}":
                raise
            continue
        out.append(module.router)
    return out


ROUTERS = _load()
