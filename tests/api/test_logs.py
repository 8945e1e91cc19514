"""No personal data in logs: a session full of e-mail addresses leaves none in any log record."""

from __future__ import annotations

import logging

import httpx
from fastapi import APIRouter

from shopseg.api import create_app
from shopseg.config import config_context
from tests.api.helpers import Receiver, event, serve_in_thread, wait_until

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
    assert "GET /api/v1/customers/<email>" in text and "dead-lettered" in text and "RuntimeError" in text
    assert "example.com" not in text, [line for line in capture.lines if "example.com" in line]
