"""Security headers on every HTTP response of the app (the API, its docs and the dashboard).

A pure ASGI middleware (it leaves streamed responses, e.g. server-sent
events, streaming). Each header is only added when the response does not
already carry it, so a route may set a stricter or a page-specific policy: the
dashboard's HTML pages set their own ``Content-Security-Policy``
(:data:`shopseg.web.security.PAGE_CSP`).

- ``X-Content-Type-Options: nosniff``: a JSON or CSV answer is never run as a script or a page.
- ``X-Frame-Options: DENY`` and the CSP's ``frame-ancestors 'none'``: no page of the app can be framed (clickjacking).
- ``Referrer-Policy: same-origin``: URLs (segment names, customer ids) are not sent to other sites; same-origin
  requests keep their ``Referer`` and ``Origin`` (the dashboard's cross-origin check reads them).
- ``Cross-Origin-Opener-Policy: same-origin``: another site's window cannot keep a handle on ours.
- ``Content-Security-Policy``: ``default-src 'none'`` for API answers (JSON loads nothing); only
  ``frame-ancestors 'none'`` for ``/docs`` and ``/redoc``, which load Swagger UI and ReDoc from their CDN
  with an inline script (FastAPI's pages).
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import MutableHeaders

__all__ = ["SecurityHeadersMiddleware", "SECURITY_HEADERS", "API_CSP", "DOCS_CSP", "DOCS_PATHS"]

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}
API_CSP = "default-src 'none'; frame-ancestors 'none'"
DOCS_CSP = "frame-ancestors 'none'"
DOCS_PATHS = ("/docs", "/docs/oauth2-redirect", "/redoc")


class SecurityHeadersMiddleware:
    """Add :data:`SECURITY_HEADERS` and a ``Content-Security-Policy`` to every HTTP response lacking them."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        csp = DOCS_CSP if scope["path"] in DOCS_PATHS else API_CSP

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                headers.setdefault("Content-Security-Policy", csp)
            await send(message)

        await self.app(scope, receive, send_with_headers)
