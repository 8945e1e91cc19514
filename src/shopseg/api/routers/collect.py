"""Segment-compatible collection: the HTTP Tracking API on ``/v1/...``, so a store's tracking SDKs can point here.

``POST /v1/identify``, ``/v1/track``, ``/v1/page``, ``/v1/screen``, ``/v1/group``, ``/v1/alias``, ``/v1/batch``
(also ``/v1/import``), and analytics.js's short paths ``/v1/i``, ``/v1/t``, ``/v1/p``, ``/v1/s``, ``/v1/g``,
``/v1/a``, ``/v1/b``; ``/v1/m`` takes analytics.js's own usage counters (acknowledged, not stored). As the spec:

- the write key comes as HTTP Basic (the key as user name, no password) or as ``writeKey`` in the body; a
  shopseg ``write`` key (``shopseg keys create storefront --role write``), or a marketer or admin key;
- the body may be gzip-compressed (``Content-Encoding: gzip``) and may come as ``text/plain`` (analytics.js);
- a call is at most 32 KB and a batch at most 500 KB (uncompressed): larger, or not JSON, answers 400;
- an invalid call answers 400 and nothing of its request is stored: each error item names the value's path
  (``/batch/3/properties/products/0/quantity``) and the rule (:mod:`shopseg.collect._values`);
- accepted calls answer 200 ``{"success": true}``, once they are in the journal and fsynced (the same
  durability as ``POST /api/v1/events``); a re-sent ``messageId`` is acknowledged and stored once.

``GET /api/v1/quarantined-events`` (admin) lists what the live engine set aside (:mod:`shopseg.live.quarantine`).

Mapping: :mod:`shopseg.collect.segment_spec`. Browsers: :class:`CollectCorsMiddleware` answers the CORS
preflight of ``/v1/`` paths (allowing the headers a tracking SDK asks for, such as analytics.js's
``Authorization`` and, on a retry, ``X-Retry-Count``) and lets any origin read the answers (no cookies are
involved: the write key is the credential, and it is public by design).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import re
import zlib
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from shopseg._logging import get_logger
from shopseg.api.deps import AppState, Principal, get_state, require_role
from shopseg.api.errors import error_response
from shopseg.api.keys import WRITE_ROLE, ApiKey, role_allows
from shopseg.collect._values import MAX_DEPTH, InvalidCallsError
from shopseg.collect.materialize import load_identities
from shopseg.collect.segment_spec import map_messages
from shopseg.errors import (
    AuthenticationError,
    BadRequestError,
    Issue,
    NotFound,
    PermissionDeniedError,
    UnsupportedOperationError,
)
from shopseg.live.quarantine import list_quarantined

__all__ = ["router", "CollectCorsMiddleware", "allowed_headers", "CALLS", "CALL_BYTES", "BATCH_BYTES"]

CALLS = {
    "identify": "identify",
    "track": "track",
    "page": "page",
    "screen": "screen",
    "group": "group",
    "alias": "alias",
    "batch": None,
    "import": None,
    "i": "identify",
    "t": "track",
    "p": "page",
    "s": "screen",
    "g": "group",
    "a": "alias",
    "b": None,
}
_SUCCESS = b'{"success":true}'  # every accepted call's answer, encoded once
CALL_BYTES = 32 * 1024
BATCH_BYTES = 500 * 1024

router = APIRouter(tags=["collect"])
log = get_logger("shopseg.api")


def _inflate(raw: bytes, limit: int) -> bytes:
    """Gunzip at most ``limit + 1`` bytes (a gzip bomb stops there)."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(raw, limit + 1)
    except zlib.error:
        raise BadRequestError("request body: 'Content-Encoding: gzip' but the body is not gzip data.") from None
    return out


def _body(raw: bytes, encoding: str, limit: int) -> tuple[dict[str, Any], int]:
    """The JSON object of a request body, and its size uncompressed (bytes)."""
    if encoding.strip().lower() == "gzip":
        raw = _inflate(raw, limit)
    elif encoding.strip() not in ("", "identity"):
        raise BadRequestError(f"request body: unsupported Content-Encoding {encoding!r}. Expected gzip or none.")
    if len(raw) > limit:
        raise BadRequestError(
            f"request body: too large. Expected at most {limit // 1024} KB uncompressed (the Segment spec's limit); "
            f"got more. Hint: send smaller batches."
        )
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequestError(f"request body: invalid JSON ({exc}).") from None
    except RecursionError:  # the parser's own limit (about 1,000 levels); check_tree refuses over MAX_DEPTH
        text = f"/: the request body is nested too deeply. Expected at most {MAX_DEPTH} levels of objects and lists."
        raise InvalidCallsError([Issue("/", "too_deep", text)]) from None
    if not isinstance(body, dict):
        raise BadRequestError(f"request body: expected a JSON object; got {type(body).__name__}.")
    return body, len(raw)


def _write_key(request: Request, body: dict[str, Any]) -> str | None:
    """The key: HTTP Basic user name, else ``writeKey`` in the body, else shopseg's own headers."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "basic" and value:
        try:
            return base64.b64decode(value.strip(), validate=True).decode().partition(":")[0] or None
        except (binascii.Error, UnicodeDecodeError):
            return None
    if scheme.lower() == "bearer" and value:
        return value.strip()
    key = body.get("writeKey")
    return key if isinstance(key, str) and key else request.headers.get("x-api-key")


def _authorize(state: AppState, key: str | None) -> ApiKey:
    if not key:
        raise AuthenticationError(
            "collection: no write key. Expected HTTP Basic auth with the write key as user name, or 'writeKey' in the "
            "body. Hint: create one with `shopseg keys create storefront --role write`."
        )
    who = state.keys.authenticate(key)
    if not role_allows(who.role, WRITE_ROLE):
        raise PermissionDeniedError(
            f"collection: the API key '{who.key_id}' has role '{who.role}'. Expected a write key (or marketer, admin). "
            "Hint: create one with `shopseg keys create storefront --role write`."
        )
    return who


def _messages(body: dict[str, Any], kind: str | None, size: int) -> list[Any]:
    """The calls of a request; a batch's calls are measured one by one only when the whole body is over 32 KB."""
    if kind is not None:
        return [body]
    batch = body.get("batch")
    if not isinstance(batch, list):
        raise BadRequestError(f"/batch: expected a list of calls; got {type(batch).__name__}.")
    if size <= CALL_BYTES:  # no call can be larger than the body holding it
        return batch
    for i, msg in enumerate(batch):
        if len(json.dumps(msg, separators=(",", ":"))) > CALL_BYTES:
            raise BadRequestError(f"/batch/{i}: too large. Expected at most 32 KB per call (the Segment spec's limit).")
    return batch


def _identities(state: AppState) -> dict[str, str]:
    live = state.live
    assert live is not None
    if live.identities is None:
        with state.lock:
            if live.identities is None:
                live.identities = load_identities(state.workspace.con)
    return live.identities


@router.post("/v1/m", responses={200: {"content": {"application/json": {"example": {"success": True}}}}})
async def metrics(request: Request) -> JSONResponse:
    """analytics.js's own usage counters (``{"series": [...]}``, sent without a write key): acknowledged, not kept.

    analytics.js posts them to ``<apiHost>/m``; answering 200 keeps its console and its retry logic quiet.
    """
    body, _ = _body(await request.body(), request.headers.get("content-encoding", ""), CALL_BYTES)
    series = body.get("series")
    if not isinstance(series, list):
        raise BadRequestError(f"/v1/m: expected 'series', a list of metrics; got {type(series).__name__}.")
    log.debug("collect: %d analytics.js metrics acknowledged (not stored)", len(series))
    return JSONResponse({"success": True})


@router.post("/v1/{call}", responses={200: {"content": {"application/json": {"example": {"success": True}}}}})
async def collect(call: str, request: Request) -> Response:
    """One Segment call, or a batch (``{"batch": [...], "sentAt": ...}``); 200 once durably stored."""
    if call not in CALLS:
        raise NotFound(f"POST /v1/{call}: unknown collection call. Expected one of {sorted(CALLS)}.")
    state = get_state(request)
    kind = CALLS[call]
    limit = CALL_BYTES if kind else BATCH_BYTES
    try:
        body, size = _body(await request.body(), request.headers.get("content-encoding", ""), limit)
    except InvalidCallsError as exc:
        return error_response(exc.status, [i.as_dict() for i in exc.issues])
    _authorize(state, _write_key(request, body))
    if state.live is None:
        raise UnsupportedOperationError(
            f"POST /v1/{call}: the server runs without live mode. Hint: restart it with `shopseg serve --live`."
        )
    try:
        events = map_messages(
            _messages(body, kind, size),
            received_at=state.live.clock.now(),
            identities=_identities(state),
            kind=kind,
            sent_at=body.get("sentAt"),
        )
    except InvalidCallsError as exc:  # one error item per invalid value, each with its path
        return error_response(exc.status, [i.as_dict() for i in exc.issues])
    if events:
        await asyncio.wrap_future(state.live.submit(events, owned=True))
    return Response(_SUCCESS, media_type="application/json")


@router.get("/api/v1/quarantined-events")
async def quarantined_events(request: Request, _: Principal = Depends(require_role("admin"))) -> dict[str, Any]:
    """Journaled events the workspace refused, set aside by the live engine's applier (:mod:`shopseg.live.quarantine`).

    ``count``: every entry set aside; ``entries``: the latest 100 (event id, type, time, error; no customer data).
    """
    state = get_state(request)
    if state.live is None:
        raise UnsupportedOperationError("GET /api/v1/quarantined-events: the server runs without live mode.")

    def read() -> list[dict[str, Any]]:
        with state.lock:
            return list_quarantined(state.workspace)

    entries = await run_in_threadpool(read)
    return {"count": state.live.quarantined, "entries": entries}


_ALLOW_HEADERS = (b"Content-Type", b"Content-Encoding", b"Authorization", b"X-Retry-Count", b"X-API-Key")
_TOKEN = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}")


def allowed_headers(requested: bytes) -> bytes:
    """The preflight's ``Access-Control-Allow-Headers``: the SDKs' headers plus every well-formed name asked for.

    Any origin may send any request header here (no cookies, the write key is public), so what a client asks
    for is allowed: a tracking SDK's next version adding a header keeps working.

    >>> allowed_headers(b"authorization,x-retry-count, AnonymousId")
    b'Content-Type, Content-Encoding, Authorization, X-Retry-Count, X-API-Key, AnonymousId'
    >>> allowed_headers(b"bad header")
    b'Content-Type, Content-Encoding, Authorization, X-Retry-Count, X-API-Key'
    """
    known = {h.lower() for h in _ALLOW_HEADERS}
    asked = [h.strip() for h in requested[:2048].split(b",")]
    extra = [h for h in dict.fromkeys(asked) if _TOKEN.fullmatch(h) and h.lower() not in known]
    return b", ".join([*_ALLOW_HEADERS, *extra])


class CollectCorsMiddleware:
    """CORS for the ``/v1/`` collection paths only: a preflight answers 204, every answer may be read by any origin."""

    _ALLOW = [
        (b"access-control-allow-origin", b"*"),
        (b"access-control-allow-methods", b"POST, OPTIONS"),
        (b"access-control-max-age", b"86400"),
        (b"vary", b"Access-Control-Request-Headers"),
    ]

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/v1/"):
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS":
            requested = dict(scope["headers"]).get(b"access-control-request-headers", b"")
            headers = [*self._ALLOW, (b"access-control-allow-headers", allowed_headers(requested))]
            await send({"type": "http.response.start", "status": 204, "headers": [*headers, (b"content-length", b"0")]})
            await send({"type": "http.response.body", "body": b""})
            return

        async def send_cors(message: Any) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), self._ALLOW[0]]}
            await send(message)

        await self.app(scope, receive, send_cors)
