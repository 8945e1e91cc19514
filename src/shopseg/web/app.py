"""The dashboard's routers, for :func:`shopseg.api.create_app`; plotly.js served from the installed package.

``create_app(workspace, routers=dashboard_routers())`` (what ``shopseg serve``
does) adds the pages (:mod:`shopseg.web.pages`), their JSON endpoints
(:mod:`shopseg.web.endpoints`, under ``/api/v1/dashboard``) and the static files to
the API app, which brings the workspace, its lock, the API keys and the error
shape.

``/static/plotly.min.js`` is read from the ``plotly`` Python package's own
files, so pages work offline and always match the figures' plotly version.

>>> sorted(r.path for r in dashboard_routers()[-1].routes)
['/favicon.ico', '/static/plotly.min.js', '/static/{name}']
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from fastapi import APIRouter, HTTPException
from fastapi.responses import Response

from shopseg.web import actions, endpoints, pages

__all__ = ["dashboard_routers", "plotly_js", "static_router"]

_STATIC = {"dashboard.js": "text/javascript", "dashboard.css": "text/css", "favicon.svg": "image/svg+xml"}


static_router = APIRouter(include_in_schema=False)


@lru_cache(maxsize=1)
def plotly_js() -> bytes:
    """plotly.min.js as shipped inside the installed ``plotly`` package."""
    path = resources.files("plotly") / "package_data" / "plotly.min.js"
    if path.is_file():
        return path.read_bytes()
    from plotly.offline import get_plotlyjs  # the same file, located by plotly itself

    return get_plotlyjs().encode("utf-8")


@static_router.get("/static/plotly.min.js")
def _plotly() -> Response:
    return Response(plotly_js(), media_type="text/javascript", headers={"Cache-Control": "max-age=86400"})


@static_router.get("/static/{name}")
def _files(name: str) -> Response:
    if name not in _STATIC:
        raise HTTPException(404, f"static file '{name}' does not exist.")
    data = (resources.files("shopseg.web") / "static" / name).read_bytes()
    return Response(data, media_type=_STATIC[name], headers={"Cache-Control": "max-age=300"})


@static_router.get("/favicon.ico")
def _favicon() -> Response:
    """Browsers ask for /favicon.ico whatever the page links: the same icon (it was a 404 in every log)."""
    return _files("favicon.svg")


def dashboard_routers() -> list[APIRouter]:
    """The routers to pass as ``create_app(..., routers=...)``: JSON endpoints, pages, static files."""
    return [endpoints.router, actions.router, pages.router, static_router]
