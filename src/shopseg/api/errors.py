"""One error shape for every failed request: ``{"ok": false, "error": "a; b", "errors": [...], "status": N}``.

``error`` joins the messages of ``errors``; each item has ``message`` and, where
known, ``path`` (JSON pointer into the request or the segment rule) and ``code``;
an issue of a segment rule also has ``what`` (the message without its position),
``line``, ``col`` and ``length`` (:meth:`shopseg.errors.Issue.as_dict`), from which
every surface underlines the rule.
:class:`~shopseg.errors.ShopsegError` maps to its ``status`` (401, 403, 404, 409,
413, 422, ...), request validation to 422, unknown routes to 404 and methods to
405; anything else is a 500 that is logged (without personal data) and answered
in the same shape.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from shopseg._logging import get_logger
from shopseg.errors import SchemaError, SegmentError, ShopsegError

__all__ = ["error_body", "error_response", "install_error_handlers"]

log = get_logger("shopseg.api")
#: Union branch names pydantic puts in error locations (``EventIn``, ``function-after[...]``): not part of the path.
_UNION_TAG = re.compile(r"^(?:[A-Z][A-Za-z]+|function-(?:after|before|wrap|plain)\[.*\])$")


def error_body(status: int, errors: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The canonical error document."""
    items = [dict(e) for e in errors] or [{"message": "error"}]
    return {"ok": False, "error": "; ".join(str(e["message"]) for e in items), "errors": items, "status": status}


def error_response(
    status: int, errors: Sequence[dict[str, Any]], headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(error_body(status, errors), status_code=status, headers=headers)


def _shopseg_items(exc: ShopsegError) -> list[dict[str, Any]]:
    if isinstance(exc, SegmentError) and exc.issues:
        items = [i.as_dict() for i in exc.issues]
        return items + ([{"code": "hint", "message": f"Hint: {exc.hint}"}] if exc.hint else [])
    item: dict[str, Any] = {"code": type(exc).__name__, "message": str(exc)}
    if isinstance(exc, SchemaError) and exc.column:
        item["path"] = f"/{exc.column}"
    return [item]


def _validation_items(exc: RequestValidationError) -> list[dict[str, Any]]:
    out = []
    for e in exc.errors():
        loc = [str(p) for p in e.get("loc", ()) if not _UNION_TAG.match(str(p))]
        path = "/" + "/".join(loc)
        out.append({"path": path, "code": e.get("type", "invalid"), "message": f"{path}: {e.get('msg', 'invalid')}"})
    return out


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that give every error the canonical shape."""

    @app.exception_handler(ShopsegError)
    async def _shopseg(request: Request, exc: ShopsegError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return error_response(exc.status, _shopseg_items(exc), headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(422, _validation_items(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else "error"
        message = f"{request.method} {request.url.path}: {detail}"
        return error_response(exc.status_code, [{"code": "http", "message": message}], getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> JSONResponse:
        from shopseg.api.app import redact_target  # app imports this module

        where = redact_target(request.url.path)  # no customer id in the log
        log.error("internal error on %s %s: %s", request.method, where, type(exc).__name__, exc_info=exc)
        message = (
            f"{request.method} {request.url.path}: internal error ({type(exc).__name__}). This is a bug in shopseg."
        )
        return error_response(500, [{"code": "internal", "message": message}])
