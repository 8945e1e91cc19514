"""Loopback servers of the analytics.js test: the test storefront, a reverse proxy that loses one answer, and a
listener on the server-sent event stream.

- :class:`Storefront` serves ``tests/web/storefront/`` and analytics.js's UMD bundle from the npm package
  (``node_modules/@segment/analytics-next/dist/umd/``, at ``/analytics-next/bundles/``, where the bundle looks
  for its lazy chunks), plus ``/config.js`` with the write key and the collection host: no CDN is involved.
- :class:`LossyProxy` forwards every request (CORS preflights included) to ``shopseg serve`` verbatim and, for
  the first request matching a predicate, lets the server store it but loses the acknowledgement on the way
  back: it answers 502 (a gateway giving up on a slow upstream) or closes the connection without an answer
  (a dropped connection), and the client sends the call again.
- :class:`StreamListener` reads ``GET /api/v1/stream`` in a thread and keeps every notification.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler
from pathlib import Path
from typing import Any

import httpx

from tests.api.helpers import LoopbackServer
from tests.web.conftest import ROOT

__all__ = ["STOREFRONT", "BUNDLES", "Storefront", "LossyProxy", "StreamListener"]

STOREFRONT = Path(__file__).resolve().parent / "storefront"
BUNDLES = ROOT / "node_modules" / "@segment" / "analytics-next" / "dist" / "umd"


class Storefront(LoopbackServer):
    """The static test shop; ``config`` becomes ``window.SHOP`` (``/config.js``)."""

    def __init__(self, config: dict[str, Any]) -> None:
        script = f"window.SHOP = {json.dumps(config)};\n".encode()

        class Handler(SimpleHTTPRequestHandler):
            def translate_path(self, path: str) -> str:
                path = path.split("?", 1)[0].split("#", 1)[0]
                if path.startswith("/analytics-next/bundles/"):
                    return str(BUNDLES / Path(path).name)
                return str(STOREFRONT / (Path(path).name or "index.html"))

            def do_GET(self) -> None:  # noqa: N802
                if self.path.split("?", 1)[0] != "/config.js":
                    super().do_GET()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/javascript")
                self.send_header("Content-Length", str(len(script)))
                self.end_headers()
                self.wfile.write(script)

            def log_message(self, *args: Any) -> None:
                pass

        super().__init__(Handler, daemon_threads=True)


class LossyProxy(LoopbackServer):
    """A reverse proxy to ``upstream`` that loses the answer to the first request ``lose`` matches: ``failure``
    502 answers 502 instead (no CORS headers, as a gateway's own error page), None closes the connection.

    ``requests`` records ``(method, path, headers, body)`` of every request received, in order.
    """

    def __init__(self, upstream: str, lose: Callable[[str, str, bytes], bool], failure: int | None = 502) -> None:
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []
        self.lost = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                proxy.requests.append((self.command, self.path, {k.lower(): v for k, v in headers.items()}, body))
                answer = httpx.request(self.command, upstream + self.path, headers=headers, content=body, timeout=30)
                if proxy.lost == 0 and lose(self.command, self.path, body):
                    proxy.lost += 1  # stored upstream; the client never hears of it
                    self.close_connection = True
                    if failure is not None:
                        self.send_response(failure)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                    return
                self.send_response(answer.status_code)
                for name, value in answer.headers.items():
                    if name.lower() not in ("content-length", "connection", "transfer-encoding", "content-encoding"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                try:
                    self.wfile.write(answer.content)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the browser went away (its context closed)

            do_POST = do_OPTIONS = do_GET = _forward  # noqa: N815

            def log_message(self, *args: Any) -> None:
                pass

        super().__init__(Handler, daemon_threads=True)


class StreamListener:
    """Reads ``url``'s ``/api/v1/stream`` with ``key`` in a daemon thread; ``seen`` holds the notifications."""

    def __init__(self, url: str, key: str) -> None:
        self.url, self.key = url, key
        self.seen: list[dict[str, Any]] = []
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        headers = {"X-API-Key": self.key}
        try:
            with httpx.stream("GET", f"{self.url}/api/v1/stream", headers=headers, timeout=None) as r:
                for line in r.iter_lines():
                    if line == ": connected":
                        self.ready.set()
                    elif line.startswith("data: "):
                        self.seen.append(json.loads(line[6:]))
        except httpx.HTTPError:
            return  # the server stopped

    def start(self, timeout: float = 30) -> StreamListener:
        self.thread.start()
        assert self.ready.wait(timeout), "the stream did not connect"
        return self

    def of(self, customer_id: str) -> list[tuple[str, str]]:
        """``(segment, kind)`` of the customer's notifications, in arrival order."""
        return [(n["segment"], n["kind"]) for n in list(self.seen) if n["customer_id"] == customer_id]
