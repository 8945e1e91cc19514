"""Helpers of the API and live tests: free ports, an in-thread uvicorn server, a loopback webhook receiver."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

import uvicorn

__all__ = ["free_port", "serve_in_thread", "Receiver", "wait_until", "event", "start_serve", "stop_process"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(check: Callable[[], bool], timeout: float = 20.0, what: str = "condition") -> None:
    """Poll ``check`` until it holds (tests never assert on wall-clock durations, they wait for states)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


@contextmanager
def serve_in_thread(app: Any, log_level: str = "warning") -> Iterator[str]:
    """Run ``app`` on a real uvicorn server on 127.0.0.1 (a free port) in a thread; yield its base URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level=log_level, timeout_graceful_shutdown=2)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started, what="uvicorn to start")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


class LoopbackServer:
    """A threading HTTP server on a free loopback port, serving from a thread while in a ``with`` block."""

    def __init__(self, handler: type[BaseHTTPRequestHandler], *, daemon_threads: bool = False) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = daemon_threads
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


class Receiver(LoopbackServer):
    """A real HTTP server on loopback recording webhook POSTs; answers ``statuses`` in turn, then 200."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.requests: list[dict[str, Any]] = []
        self.statuses = list(statuses or [])
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                receiver.requests.append(
                    {
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "body": body,
                        "status": status,
                        "t": time.monotonic(),
                    }
                )
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        super().__init__(Handler)
        self.url += "/hook"

    def delivered(self) -> list[dict[str, Any]]:
        """Bodies of the requests answered 2xx, decoded."""
        return [json.loads(r["body"]) for r in self.requests if 200 <= r["status"] < 300]


def event(event_id: str, customer_id: str | None, type_: str, at: Any, **extra: Any) -> dict[str, Any]:
    """An event document as POST /api/v1/events takes it."""
    doc = {
        "event_id": event_id,
        "customer_id": customer_id,
        "type": type_,
        "occurred_at": at if isinstance(at, str) else at.isoformat(),
    }
    doc.update(extra)
    return doc


def start_serve(ws_path: Any, port: int, log: Any, **settings: str) -> Any:
    """`shopseg serve` (this checkout's sources) in a subprocess on ``port`` with ``SHOPSEG_<SETTING>`` variables,
    logging to ``log``; returns the process once /api/v1/health answers."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    import httpx

    src = Path(__file__).resolve().parents[2] / "src"
    env = {**os.environ, "PYTHONPATH": str(src), **{f"SHOPSEG_{k.upper()}": v for k, v in settings.items()}}
    cmd = [
        sys.executable,
        "-c",
        "from shopseg.cli.main import main; main()",
        "-w",
        str(ws_path),
        "serve",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    proc = subprocess.Popen(cmd, env=env, stdout=Path(log).open("ab"), stderr=subprocess.STDOUT)

    def up() -> bool:
        assert proc.poll() is None, Path(log).read_text()
        try:
            return httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    wait_until(up, timeout=60, what="shopseg serve to answer")
    return proc


def stop_process(proc: Any, timeout: float = 20.0) -> None:
    """SIGTERM ``proc`` and wait for it; SIGKILL it if it has not ended after ``timeout`` seconds."""
    import subprocess

    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
