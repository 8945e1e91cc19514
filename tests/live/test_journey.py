"""A scripted customer journey through a real server: view, add to cart, leave, abandoned-cart entry, purchase,
exit -- the exact notification sequence on Python callbacks, the server-sent-events stream and a webhook."""

from __future__ import annotations

import json
import threading
from typing import Any

import httpx

from shopseg.api import create_app
from shopseg.config import config_context
from shopseg.live.notify import Notification
from shopseg.live.webhooks import sign
from tests.api.helpers import Receiver, event, serve_in_thread, wait_until
from tests.live.conftest import ABANDONED_CART, BROWSING_TODAY


def _sse(url: str, key: str, out: list[dict[str, Any]], ready: threading.Event) -> None:
    with httpx.stream("GET", f"{url}/api/v1/stream", headers={"X-API-Key": key}, timeout=60) as r:
        kind = None
        for line in r.iter_lines():
            if line == ": connected":
                ready.set()
            elif line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                out.append({**json.loads(line[6:]), "sse_event": kind})
                if len(out) == 4:
                    return


EXPECTED = [  # (kind, segment, caused by)
    ("entry", "browsing_today", "e1"),  # day 1: product view
    ("entry", "abandoned_cart", None),  # day 2, no new event: the cart was left yesterday (the scheduler)
    ("exit", "browsing_today", None),  # day 2: yesterday's view left the 1-day window (the scheduler)
    ("exit", "abandoned_cart", "e3"),  # day 2: the purchase
]


def _seq(items: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(n["kind"], n["segment"], n["event_id"]) for n in items]


def test_journey_notifications_in_order_on_every_channel(make_ws, clock) -> None:  # type: ignore[no-untyped-def]
    path = make_ws(abandoned_cart=ABANDONED_CART, browsing_today=BROWSING_TODAY)
    called: list[Notification] = []
    with config_context(live_tick_ms=50, webhook_backoff_ms=10):
        app = create_app(path, clock=clock, callbacks=[called.append])
    key = app.state.shopseg.keys.create("journey", "marketer").key
    h = {"X-API-Key": key}
    streamed: list[dict[str, Any]] = []
    ready = threading.Event()
    with Receiver(statuses=[503]) as hook, serve_in_thread(app) as url:
        made = httpx.post(f"{url}/api/v1/webhooks", headers=h, json={"url": hook.url}).json()
        reader = threading.Thread(target=_sse, args=(url, key, streamed, ready), daemon=True)
        reader.start()
        assert ready.wait(20)

        def post(*docs: dict[str, Any]) -> None:
            r = httpx.post(f"{url}/api/v1/events", headers=h, json={"events": list(docs)})
            assert r.status_code == 200, r.text

        post(event("e1", "c1", "product_view", clock.now(), product_id="p1"))
        post(event("e2", "c1", "add_to_cart", clock.advance(minutes=5), product_id="p1"))
        wait_until(lambda: len(called) == 1, what="the browsing entry")
        clock.advance(days=1)  # the customer leaves; nothing is posted; the scheduler notices the new day
        wait_until(lambda: len(called) == 3, what="the scheduler's abandoned-cart entry")
        post(event("e3", "c1", "purchase", clock.now(), properties={"value": 30}))
        wait_until(lambda: len(called) == 4, what="the exit on purchase")
        reader.join(timeout=20)
        wait_until(lambda: len(hook.delivered()) == 4, what="4 webhook deliveries")
        customer = httpx.get(f"{url}/api/v1/customers/c1", headers=h).json()

    assert _seq([n.to_dict() for n in called]) == EXPECTED
    assert [n.seq for n in called] == [1, 2, 3, 4]
    assert _seq(streamed) == EXPECTED and [n["sse_event"] for n in streamed] == [k for k, _, _ in EXPECTED]
    assert _seq(hook.delivered()) == EXPECTED
    # the first delivery was answered 503 and retried: 5 requests, every one signed
    assert len(hook.requests) == 5 and hook.requests[0]["status"] == 503
    for req in hook.requests:
        headers = req["headers"]
        assert headers["x-shopseg-signature"] == sign(made["secret"], headers["x-shopseg-timestamp"], req["body"])
    assert customer["segments"] == [] and customer["live"]["events"] == 3
