"""The real tracking SDKs against a real `shopseg serve` on loopback: Segment's ``segment-analytics-python``
(``segment.analytics``) and RudderStack's ``rudder-sdk-python`` (``rudderstack.analytics``), each configured
with the local host and a shopseg write key, in their default (batching, background-thread) mode; RudderStack
gzips its batches by default.

The flow of a store: an anonymous visitor views a product and adds it to the cart, signs in (identify with the
same anonymousId), and completes the order, which the shop sends twice. The customer enters the live segment
``buyers`` (a product view and a purchase: only true once the anonymous browsing is stitched to them), the entry
arrives on the server-sent event stream exactly once, and the workspace holds the order exactly once.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from shopseg.api.keys import KeyStore
from shopseg.segments.definitions import SegmentStore
from shopseg.workspace import Workspace
from tests.api.helpers import free_port, start_serve, stop_process, wait_until


def _segment_client(write_key: str, url: str, errors: list[Any]) -> Any:
    from segment.analytics import Client

    return Client(write_key, host=url, on_error=lambda e, batch: errors.append(e), max_retries=1)


def _rudder_client(write_key: str, url: str, errors: list[Any]) -> Any:
    from rudderstack.analytics import Client

    return Client(write_key, host=url, on_error=lambda e, batch: errors.append(e), max_retries=1)


def _listen(url: str, key: str, seen: list[dict[str, Any]], ready: threading.Event) -> None:
    try:
        with httpx.stream("GET", f"{url}/api/v1/stream", headers={"X-API-Key": key}, timeout=None) as r:
            for line in r.iter_lines():
                if line == ": connected":
                    ready.set()
                elif line.startswith("data: "):
                    seen.append(json.loads(line[6:]))
    except httpx.HTTPError:
        return  # the server stopped


@pytest.mark.parametrize("make_client", [_segment_client, _rudder_client], ids=["segment", "rudderstack"])
def test_store_flow_through_a_real_sdk(tmp_path: Path, make_client: Callable[..., Any]) -> None:
    ws_path = tmp_path / "ws.duckdb"
    with Workspace.init(ws_path) as ws:
        store = KeyStore(ws)
        write_key, admin = store.create("storefront", "write").key, store.create("ops", "admin").key
        SegmentStore(ws).create(
            "buyers", "events(type='product_view').count >= 1 AND events(type='purchase').count >= 1"
        )
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = start_serve(ws_path, port, tmp_path / "serve.log")
    seen: list[dict[str, Any]] = []
    ready = threading.Event()
    listener = threading.Thread(target=_listen, args=(url, admin, seen, ready), daemon=True)
    listener.start()
    errors: list[Any] = []
    try:
        assert ready.wait(30)
        sdk = make_client(write_key, url, errors)
        anon, user = "device-42", "cust-42"
        sdk.track(
            anonymous_id=anon,
            event="Product Viewed",
            properties={"product_id": "sku-1", "name": "Trail shoe", "category": "Shoes", "price": 89.5},
        )
        sdk.track(
            anonymous_id=anon, event="Product Added", properties={"product_id": "sku-1", "price": 89.5, "quantity": 1}
        )
        sdk.flush()
        sdk.identify(user_id=user, anonymous_id=anon, traits={"email": "c42@example.com", "address": {"city": "Oslo"}})
        order = {
            "order_id": "ord-42",
            "total": 89.5,
            "currency": "NOK",
            "products": [{"product_id": "sku-1", "price": 89.5, "quantity": 1}],
        }
        for _ in range(2):  # the shop sends it twice (each with its own messageId)
            sdk.track(user_id=user, anonymous_id=anon, event="Order Completed", properties=order)
        sdk.flush()
        assert errors == []
        wait_until(lambda: any(n["customer_id"] == user for n in seen), what="the entry on the stream")
        entries = [(n["segment"], n["customer_id"], n["kind"]) for n in seen]
        assert entries == [("buyers", user, "entry")]
    finally:
        stop_process(proc)
        listener.join(timeout=30)
    with Workspace.open(ws_path, read_only=True) as ws:
        con = ws.con
        assert con.execute("SELECT order_id, customer_id, currency FROM orders").fetchall() == [("ord-42", user, "NOK")]
        assert con.execute("SELECT product_id, quantity, unit_price FROM order_lines").fetchall() == [
            ("sku-1", 1, 89.5)
        ]
        kinds = con.execute("SELECT type, customer_id FROM events ORDER BY occurred_at, type").fetchall()
        assert sorted(kinds) == [("add_to_cart", user), ("identify", user), ("product_view", user), ("purchase", user)]
        assert con.execute("SELECT email, city FROM customers").fetchall() == [("c42@example.com", "Oslo")]
