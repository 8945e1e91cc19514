"""No personal data in logs: a session full of e-mail addresses leaves none in any log record."""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
from fastapi import APIRouter

from shopseg.api import create_app
from shopseg.api.keys import KeyStore
from shopseg.config import config_context
from shopseg.workspace import Workspace
from tests.api.helpers import Receiver, event, serve_in_thread, stop_process, wait_until
from tests.web.conftest import ROOT, _free_port

EMAIL = "ann.smith+vip@example.com"


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record) + (record.exc_text or ""))


def test_no_email_reaches_the_logs(ws_path, clock) -> None:  # type: ignore[no-untyped-def]
    router = APIRouter()

    @router.get("/boom/{who}")
    def boom(who: str) -> None:
        raise RuntimeError(f"failed for {who}")  # a bug that puts the customer in the exception

    capture = _Capture()
    names = [
        "",
        "shopseg",
        "shopseg.api",
        "shopseg.live",
        "shopseg.live.webhooks",
        "uvicorn",
        "uvicorn.access",
        "uvicorn.error",
    ]
    loggers = [logging.getLogger(n) for n in names]
    levels = [lg.level for lg in loggers]
    with config_context(webhook_max_attempts=2, webhook_backoff_ms=10):
        app = create_app(ws_path, clock=clock, routers=[router])
    key = app.state.shopseg.keys.create("pii", "admin").key
    h = {"X-API-Key": key}
    try:
        with serve_in_thread(app, log_level="debug") as url, Receiver(statuses=[500, 500]) as hook:
            for lg in loggers:
                lg.addHandler(capture)
                lg.setLevel(logging.DEBUG)
            httpx.post(
                f"{url}/api/v1/segments",
                headers=h,
                json={"name": "carts", "definition": "events(type='add_to_cart').count >= 1"},
            )
            httpx.post(f"{url}/api/v1/webhooks", headers=h, json={"url": hook.url})
            docs = [
                event("e1", EMAIL, "add_to_cart", clock.now(), properties={"email": EMAIL}),
                event("e2", "c2", "page_view", clock.now(), properties={"contact": EMAIL}),
            ]
            assert httpx.post(f"{url}/api/v1/events", headers=h, json={"events": docs}).status_code == 200
            httpx.post(f"{url}/api/v1/events", headers=h, json={"event_id": EMAIL, "type": "x y"})
            assert httpx.get(f"{url}/api/v1/customers/{EMAIL}", headers=h).status_code == 200
            assert httpx.get(f"{url}/boom/{EMAIL}", headers=h).status_code == 500
            httpx.get(f"{url}/api/v1/customers/{EMAIL}?email={EMAIL}", headers={"X-API-Key": "ss_bad_" + EMAIL})
            wait_until(lambda: len(app.state.shopseg.live.webhooks.dead_letters()) == 1, what="a dead letter")
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.removeHandler(capture)
            lg.setLevel(level)
        app.state.shopseg.close()
    text = "\n".join(capture.lines)
    assert "GET /api/v1/customers/<id>" in text and "dead-lettered" in text and "RuntimeError" in text
    assert "example.com" not in text, [line for line in capture.lines if "example.com" in line]


def shopseg_process(*args: str, cwd: Path, **kwargs: object) -> subprocess.Popen[str]:
    """``shopseg <args>`` in a new process started with umask 022 (as a login shell has), not this test's umask."""
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""))
    cmd = [sys.executable, "-c", "from shopseg.cli.main import main; main()", *args]
    return subprocess.Popen(cmd, env=env, cwd=cwd, text=True, umask=0o022, **kwargs)  # type: ignore[call-overload]


@contextlib.contextmanager
def logged_server(workspace: Path, log: Path, *args: str) -> Iterator[str]:
    """A real `shopseg serve` (uvicorn, access log on) whose output goes to the file ``log``; yields its URL."""
    port = _free_port()
    with log.open("w") as out:
        proc = shopseg_process(
            "-w",
            str(workspace),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "info",
            *args,
            cwd=workspace.parent,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 120
        while "Uvicorn running on" not in log.read_text():
            assert proc.poll() is None and time.monotonic() < deadline, (
                "shopseg serve did not start:\n" + log.read_text()
            )
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process(proc)


def generated_store(folder: Path, customers: int = 40) -> tuple[Path, str]:
    """A generated store made by `shopseg init` and `shopseg generate` (own processes); an admin key."""
    path = folder / "ws.duckdb"
    for step in (["init", str(path)], ["-w", str(path), "generate", "-n", str(customers), "--seed", "3"]):
        assert shopseg_process(*step, cwd=folder, stdout=subprocess.DEVNULL).wait(timeout=300) == 0, step
    with Workspace.open(path) as ws:
        key = KeyStore(ws).create("logs", "admin").key
    return path, key


def test_the_access_log_of_a_real_server_names_no_customer(tmp_path: Path) -> None:
    """docs/security.md: customer ids are never logged by the API. The probe found uvicorn's access log writing
    `"DELETE /api/v1/customers/c000010 HTTP/1.1" 200` and `GET /api/v1/customers/c000004`."""
    path, key = generated_store(tmp_path)
    log = tmp_path / "serve.log"
    h = {"X-API-Key": key}
    with logged_server(path, log) as url:
        api = httpx.Client(base_url=url, headers=h, timeout=60)
        made = api.post("/api/v1/segments", json={"name": "big", "definition": "orders >= 0"})
        assert made.status_code == 201, made.text
        assert api.get("/api/v1/customers/c000004").status_code == 200
        assert api.get("/api/v1/customers/c000004/segments").status_code == 200
        # answered or not (no features built), each is in the access log
        api.get("/api/v1/segments/big/explain/c000004")
        members = api.get("/api/v1/segments/big/customers?q=c000004&page=1&size=5").status_code
        api.get("/api/v1/dashboard/customers/c000004/next-action")
        page = httpx.get(f"{url}/customers/c000004", follow_redirects=True)  # no session: to /login?next=...
        assert page.status_code == 200 and "next=/customers/c000004" in str(page.url)
        assert api.get(f"/api/v1/customers/{EMAIL}?email={EMAIL}").status_code == 404
        assert api.delete("/api/v1/customers/c000010").status_code == 200
    text = log.read_text()
    for line in (
        '"GET /api/v1/customers/<id> HTTP/1.1" 200',
        '"GET /api/v1/customers/<id>/segments HTTP/1.1" 200',
        f'"GET /api/v1/segments/big/customers?q=<redacted>&page=1&size=5 HTTP/1.1" {members}',
        '"GET /customers/<id> HTTP/1.1" 303',
        '"GET /login?next=<redacted> HTTP/1.1" 200',
        '"GET /api/v1/customers/<id>?email=<redacted> HTTP/1.1" 404',
        '"DELETE /api/v1/customers/<id> HTTP/1.1" 200',
    ):
        assert line in text, f"{line} not in the log:\n{text}"
    assert "/explain/<id>" in text and "/dashboard/customers/<id>/next-action" in text, text
    assert "c000004" not in text and "c000010" not in text and "example.com" not in text, text
