"""Request size limit: bodies above ``api_max_body_bytes`` are refused with 413 before any handler runs.

A pure ASGI middleware: a ``Content-Length`` over the limit is refused at once;
a chunked body is counted while it is read and refused as soon as it passes
the limit (the body is buffered, at most the limit, and replayed to the app).
"""

from __future__ import annotations

import json
from typing import Any

from shopseg.api.errors import error_body

__all__ = ["BodyLimitMiddleware"]


class BodyLimitMiddleware:
    """Refuse HTTP request bodies larger than ``max_bytes`` with the canonical 413 error."""

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def _refuse(self, send: Any, got: str) -> None:
        body = error_body(
            413,
            [
                {
                    "code": "PayloadTooLargeError",
                    "message": f"request body: too large. Expected at most {self.max_bytes} bytes "
                    f"(setting api_max_body_bytes); got {got}. Hint: split the batch.",
                }
            ],
        )
        raw = json.dumps(body).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": raw})

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            await self._refuse(send, f"{int(length)} bytes")
            return
        if length is not None and scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(send, f"more than {self.max_bytes} bytes")
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body, sent = b"".join(chunks), False

        async def replay() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
