"""Mount the dashboard on a FastAPI app; serve plotly.js from the installed package (no CDN).

:func:`mount_dashboard` adds the pages (:mod:`shopseg.web.pages`), their JSON
endpoints (:mod:`shopseg.web.api`) and the static files to an existing app (the
``shopseg serve`` app). :func:`create_app` builds a stand-alone app with the
same interface: API keys with roles, and errors in the API's shape
``{"ok": false, "error": ..., "errors": [...], "status": N}``.

``/static/plotly.min.js`` is read from the ``plotly`` Python package's own
files (``plotly/package_data/plotly.min.js``), so pages work offline and
always match the figures' plotly version.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from functools import lru_cache
from importlib import resources
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response

from shopseg.errors import ShopsegError
from shopseg.web import api, pages
from shopseg.web.auth import KeyRing, Principal
from shopseg.web.context import DashboardContext

__all__ = ["create_app", "mount_dashboard", "plotly_js", "error_body"]

_STATIC = {"dashboard.js": "text/javascript", "dashboard.css": "text/css"}


@lru_cache(maxsize=1)
def plotly_js() -> bytes:
    """plotly.min.js as shipped inside the installed ``plotly`` package."""
    from plotly.offline import get_plotlyjs

    path = resources.files("plotly") / "package_data" / "plotly.min.js"
    if path.is_file():
        return path.read_bytes()
    return get_plotlyjs().encode("utf-8")  # same file, read by plotly itself


def error_body(status: int, errors: list[str]) -> dict[str, Any]:
    """The API's one error shape."""
    return {"ok": False, "error": "; ".join(errors), "errors": errors, "status": status}


def _static(name: str) -> Response:
    data = (resources.files("shopseg.web") / "static" / name).read_bytes()
    return Response(data, media_type=_STATIC[name], headers={"Cache-Control": "max-age=3600"})


def mount_dashboard(app: FastAPI, workspace: Any, *, resolve_key: Callable[[str], Principal | None] | None = None) -> FastAPI:
    """Add the dashboard to ``app`` over ``workspace`` (a Workspace or its path).

    Parameters
    ----------
    app : FastAPI
        The app to extend (its routes and handlers are kept).
    workspace : Workspace or str or Path
        What the dashboard shows.
    resolve_key : callable, default=None
        API key -> :class:`~shopseg.web.auth.Principal` (or None); default: the
        ``resolve_key`` already on ``app.state``.
    """
    app.state.dashboard = DashboardContext(workspace)
    if resolve_key is not None or not hasattr(app.state, "resolve_key"):
        app.state.resolve_key = resolve_key
    app.include_router(api.router)
    app.include_router(pages.router)

    @app.get("/static/plotly.min.js", include_in_schema=False)
    def _plotly() -> Response:
        return Response(plotly_js(), media_type="text/javascript", headers={"Cache-Control": "max-age=86400"})

    @app.get("/static/{name}", include_in_schema=False)
    def _files(name: str) -> Response:
        if name not in _STATIC:
            raise HTTPException(404, f"static file '{name}' does not exist.")
        return _static(name)

    return app


def create_app(workspace: Any, *, api_keys: Mapping[str, str] | None = None) -> FastAPI:
    """A stand-alone dashboard app: API keys ``{key: role}``, the error shape, the dashboard.

    Parameters
    ----------
    workspace : Workspace or str or Path
        What the dashboard shows.
    api_keys : mapping, default=None
        ``{key: role}`` with roles viewer, marketer or admin (held hashed).
    """
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        app.state.dashboard.close()

    app = FastAPI(title="shopseg dashboard", version=_version(), lifespan=lifespan)
    ring = KeyRing(api_keys)
    app.state.resolve_key = ring.resolve

    @app.exception_handler(ShopsegError)
    def _shopseg_error(request: Request, exc: ShopsegError) -> JSONResponse:
        return JSONResponse(error_body(exc.status, [str(exc)]), status_code=exc.status)

    @app.exception_handler(HTTPException)
    def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse(error_body(exc.status_code, [str(exc.detail)]), status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))  # fmt: skip

    @app.exception_handler(RequestValidationError)
    def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [f"{'/'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}" for e in exc.errors()]
        return JSONResponse(error_body(422, errors), status_code=422)

    return mount_dashboard(app, workspace)


def _version() -> str:
    import shopseg

    return str(shopseg.__version__)
