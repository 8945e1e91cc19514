"""Collection refuses the values the workspace cannot hold, on a real server on loopback (the probe's payloads).

Each payload below was accepted (200) or crashed the route (500) before; an out-of-range quantity wedged the
live applier for good. The rules are the file ingest's (:mod:`shopseg.io.orders`: ``MONEY_LIMIT``, finite
numbers, whole non-negative quantities within 32 bits), so the expected answer is 400 with an error item whose
``path`` points at the value, and nothing of the request stored: no table row, no journaled event, no change of
the live state.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest

from shopseg.live.journal import read_raw
from tests.api.conftest import auth
from tests.api.helpers import serve_in_thread, wait_until

TABLES = ("events", "orders", "order_lines", "products", "customers", "collect_identities")
DEEP = '{"userId":"c1","event":"Deep","properties":' + '{"a":' * 3000 + "1" + "}" * 3000 + "}"
DEEP_40 = '{"userId":"c1","event":"Deep","properties":' + '{"a":' * 40 + "1" + "}" * 40 + "}"
# (payload exactly as sent, the error items' paths, a word of the message)
REFUSED = {
    "cart_quantity_1e30": (  # rules read a cart's quantity from the stored event: events(...).max(quantity)
        '{"userId":"c1","event":"Product Added","properties":{"product_id":"MUG-01","price":12.5,"quantity":1e30}}',
        ["/properties/quantity"],
        "whole number",
    ),
    "cart_quantity_negative": (
        '{"userId":"c1","event":"Product Added","properties":{"product_id":"MUG-01","price":12.5,"quantity":-5}}',
        ["/properties/quantity"],
        "whole number",
    ),
    "quantity_1e30": (
        '{"userId":"evil","event":"Order Completed","properties":{"order_id":"evil-1",'
        '"products":[{"product_id":"p1","price":10,"quantity":1e30}]}}',
        ["/properties/products/0/quantity"],
        "whole number",
    ),
    "price_1e17": (
        '{"userId":"c1","event":"Order Completed","properties":{"order_id":"o-p",'
        '"products":[{"product_id":"p1","price":1e17,"quantity":1}]}}',
        ["/properties/products/0/price"],
        "1,000,000,000,000",
    ),
    "total_nan_text": (
        '{"userId":"c1","event":"Order Completed","properties":{"order_id":"o-n","total":"NaN"}}',
        ["/properties/total"],
        "finite",
    ),
    "price_abc_quantity_two": (
        '{"userId":"c1","event":"Order Completed","properties":{"order_id":"o-a",'
        '"products":[{"product_id":"p1","price":"abc","quantity":"two"}]}}',
        ["/properties/products/0/quantity", "/properties/products/0/price"],
        "not a number",
    ),
    "quantity_negative": (
        '{"userId":"c1","event":"Order Completed","properties":{"order_id":"o-q",'
        '"products":[{"product_id":"p1","price":10,"quantity":-5}]}}',
        ["/properties/products/0/quantity"],
        "Order Refunded",
    ),
    "total_1e999": (
        '{"userId":"c1","event":"Order Completed","properties":{"order_id":"o-i","total":1e999}}',
        ["/properties/total"],
        "finite",
    ),
    "products_not_a_list": (
        '{"userId":"c1","event":"Order Completed","properties":{"order_id":"o-x1","products":"abc"}}',
        ["/properties/products"],
        "list of products",
    ),
    "timestamp_past_9999": (
        '{"userId":"c1","event":"Order Completed","timestamp":"9999-12-31T23:59:59-05:00",'
        '"properties":{"order_id":"o-t"}}',
        ["/timestamp"],
        "9999",
    ),
    "nested_3000": (DEEP, ["/"], "nested too deeply"),
    "nested_40": (DEEP_40, ["/properties" + "/a" * 31], "at most 32 levels"),
    "batch_with_one_bad_call": (
        json.dumps(
            {
                "batch": [
                    {"type": "track", "userId": "c1", "event": "Product Viewed", "properties": {"product_id": "p1"}},
                    {
                        "type": "track",
                        "userId": "c1",
                        "event": "Order Completed",
                        "properties": {"order_id": "o-b", "products": [{"product_id": "p1", "quantity": 1.5}]},
                    },
                ]
            }
        ),
        ["/batch/1/properties/products/0/quantity"],
        "whole number",
    ),
}
ORDER = {"userId": "c1", "event": "Order Completed", "messageId": "ok-1"}
ORDER["properties"] = {"order_id": "o-ok", "products": [{"product_id": "p1", "price": 10, "quantity": 2}]}


@pytest.fixture
def write_key(app) -> str:  # type: ignore[no-untyped-def]
    return app.state.shopseg.keys.create("storefront", "write").key  # type: ignore[no-any-return]


@pytest.fixture
def url(app):  # type: ignore[no-untyped-def]
    with serve_in_thread(app) as base:
        yield base


def post(url: str, key: str, path: str, body: str) -> httpx.Response:
    auth_header = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
    headers = {"Authorization": auth_header, "Content-Type": "application/json"}
    return httpx.post(url + path, content=body, headers=headers, timeout=30)


def state_of(app) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """What a request could change: the journal (read before any flush), the live state, the tables."""
    live = app.state.shopseg.live
    journaled = read_raw(live.journal.path)
    seen, profiles = set(live.seen), sorted(live.evaluator.profiles)
    live.flush()
    with app.state.shopseg.lock:
        ws = app.state.shopseg.workspace
        counts = {
            t: ws.con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] if ws.has_table(t) else 0 for t in TABLES
        }
    return {"journal": journaled, "seen": seen, "profiles": profiles, "tables": counts}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_a_value_the_workspace_cannot_hold_is_refused_with_its_path(app, url: str, write_key: str, case: str) -> None:  # type: ignore[no-untyped-def]
    payload, paths, word = REFUSED[case]
    before = state_of(app)
    r = post(url, write_key, "/v1/batch" if payload.startswith('{"batch"') else "/v1/track", payload)
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["ok"] is False and body["status"] == 400
    assert [e["path"] for e in body["errors"]] == paths, body
    assert word in body["error"]
    assert all(e["message"].startswith(e["path"]) for e in body["errors"])
    after = state_of(app)
    assert after == before and after["journal"] == []


def test_after_a_refused_call_valid_events_are_applied_and_erasure_works(app, url: str, write_key: str, keys) -> None:  # type: ignore[no-untyped-def]
    state = app.state.shopseg
    assert post(url, write_key, "/v1/track", REFUSED["quantity_1e30"][0]).status_code == 400
    r = post(url, write_key, "/v1/track", json.dumps(ORDER))
    assert r.status_code == 200, r.text

    def applied() -> bool:  # by the applier thread, not by a flush of the test
        with state.lock:
            return state.workspace.con.execute("SELECT count(*) FROM orders").fetchone()[0] == 1  # type: ignore[no-any-return]

    wait_until(applied, what="the applier to store the valid order")
    with state.lock:
        lines = state.workspace.con.execute("SELECT product_id, quantity, unit_price FROM order_lines").fetchall()
    assert lines == [("p1", 2, 10.0)]
    r = httpx.delete(f"{url}/api/v1/customers/c1", headers=auth(keys["admin"]), timeout=60)
    assert r.status_code == 200, r.text
    r = httpx.delete(f"{url}/api/v1/customers/evil", headers=auth(keys["admin"]), timeout=60)
    assert r.status_code == 404, r.text  # refused: never stored, so unknown
    assert state_of(app)["tables"]["orders"] == 0


def test_identify_created_at_is_stored_once_and_counted_once(app, url: str, write_key: str, keys) -> None:  # type: ignore[no-untyped-def]
    call = {
        "userId": "u1",
        "messageId": "id-1",
        "traits": {"email": "u1@example.com", "createdAt": "2023-01-02T03:04:05Z"},
    }
    for _ in range(2):  # the SDK's retry: same messageId
        r = post(url, write_key, "/v1/identify", json.dumps(call))
        assert r.status_code == 200, r.text
    state_of(app)  # flush
    with app.state.shopseg.lock:
        got = app.state.shopseg.workspace.con.execute("SELECT customer_id, signup_at FROM customers").fetchall()
    assert [(c, s.isoformat()) for c, s in got] == [("u1", "2023-01-02T03:04:05")]
    live = httpx.get(f"{url}/api/v1/customers/u1", headers=auth(keys["viewer"]), timeout=30).json()["live"]
    assert live["events_by_type"] == {"identify": 1}


def test_created_at_past_the_year_9999_is_ignored_not_a_500(app, url: str, write_key: str) -> None:  # type: ignore[no-untyped-def]
    call = {"userId": "u2", "messageId": "id-2", "traits": {"createdAt": "9999-12-31T23:59:59-05:00", "plan": "x"}}
    r = post(url, write_key, "/v1/identify", json.dumps(call))
    assert r.status_code == 200, r.text
    state_of(app)
    with app.state.shopseg.lock:
        got = app.state.shopseg.workspace.con.execute("SELECT customer_id, signup_at FROM customers").fetchall()
    assert got == [("u2", None)]
