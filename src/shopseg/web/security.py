"""The dashboard's browser-facing defences: page CSP, where a login may send the browser, cross-origin checks.

- :data:`PAGE_CSP`: the ``Content-Security-Policy`` of every HTML page. Scripts
  only from this server's files (``/static/plotly.min.js``, ``/static/dashboard.js``;
  no inline script, no ``eval``), requests only to this server.
- :func:`safe_next`: the page a login returns to, only ever a path of this
  server (``/login?next=...`` is an open redirect otherwise).
- :func:`check_same_origin` (:mod:`shopseg.api.cookie_auth`): a state-changing
  request (POST, PUT, PATCH, DELETE) authenticated by the session cookie must come
  from a page of this server, by its ``Origin`` header (or ``Referer`` when a
  browser sends no ``Origin``); requests carrying an API key header are not
  cookie-borne and are not checked.
- :func:`secure_cookies`: whether the session cookie gets the ``Secure`` flag
  (setting ``dashboard_secure_cookies``).

>>> [safe_next(t) for t in ["/segments/loyal?x=1", "//evil.example", "/\\t/evil.example", "https://evil.example"]]
['/segments/loyal?x=1', '/', '/', '/']
"""

from __future__ import annotations

import unicodedata
from urllib.parse import urlsplit

from fastapi import Request

from shopseg.api.cookie_auth import UNSAFE_METHODS, check_same_origin
from shopseg.config import get_setting

__all__ = ["PAGE_CSP", "UNSAFE_METHODS", "safe_next", "check_same_origin", "secure_cookies"]

# style-src allows inline styles: plotly.js writes a <style> element (its global rules, the mode bar's colours)
# and style attributes while it draws (plotly/plotly.js#2355; with style-src 'self' the browser reports both).
# Styles cannot run code; scripts stay limited to this server's own files, with no inline script and no eval.
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
_NEXT_MAX = 2048


def safe_next(target: object) -> str:
    """``target`` when it is a path of this server, ``"/"`` otherwise.

    Parsed, not pattern-matched: a target with a control character (browsers
    drop tab and newline, so ``/\\t/evil`` would become ``//evil``), a
    backslash (browsers read ``/\\evil`` as ``//evil``), a scheme, a host, or
    not starting with exactly one ``/`` is refused.
    """
    if not isinstance(target, str) or not target or len(target) > _NEXT_MAX:
        return "/"
    if any(c == "\\" or unicodedata.category(c)[0] == "C" or unicodedata.category(c) in ("Zl", "Zp") for c in target):
        return "/"
    try:
        parts = urlsplit(target)
    except ValueError:  # e.g. an unbalanced '[' read as an IPv6 host
        return "/"
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def secure_cookies(request: Request) -> bool:
    """Should the session cookie carry ``Secure``? (setting ``dashboard_secure_cookies``: auto, always, never)."""
    mode = str(get_setting("dashboard_secure_cookies"))
    return mode == "always" or (mode == "auto" and request.url.scheme == "https")
