"""Segment-compatible collection (/v1/...): auth by write key, gzip, size limits, skew correction, idempotency,
and the E-commerce Spec mapped to the workspace tables (events, products, orders, order_lines, customers).

The expected answers and limits are the Segment HTTP Tracking API's
(https://segment.com/docs/connections/sources/catalog/libraries/server/http-api/): 200 ``{"success": true}``,
32 KB per call, 500 KB per batch, 400 for invalid JSON or too large, and
``timestamp = receivedAt - (sentAt - timestamp)``.
"""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from shopseg.segments.definitions import SegmentStore
from tests.api.conftest import auth


@pytest.fixture
def write_key(app) -> str:  # type: ignore[no-untyped-def]
    return app.state.shopseg.keys.create("storefront", "write").key  # type: ignore[no-any-return]


def basic(key: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}


def rows(app, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:  # type: ignore[no-untyped-def]
    state = app.state.shopseg
    state.live.flush()
    with state.lock:
        return state.workspace.con.execute(sql, params or []).fetchall()  # type: ignore[no-any-return]


def track(event: str, mid: str, user: str | None = "u1", **props: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {"type": "track", "event": event, "messageId": mid, "properties": props}
    doc["timestamp"] = "2024-06-01T08:00:00Z"
    if user:
        doc["userId"] = user
    return doc


def test_a_track_call_answers_success_and_is_stored(app, client: TestClient, write_key: str) -> None:  # type: ignore[no-untyped-def]
    body = track("Product Viewed", "m1", product_id="p9", name="Boot", category="Shoes > Boots", price=80)
    r = client.post("/v1/track", headers=basic(write_key), json=body)
    assert r.status_code == 200, r.text
    assert r.json() == {"success": True}
    [(eid, cid, typ, pid, props)] = rows(app, "SELECT event_id, customer_id, type, product_id, properties FROM events")
    assert (eid, cid, typ, pid) == ("m1", "u1", "product_view", "p9")
    assert json.loads(props)["category"] == "Shoes > Boots" and "_shopseg" not in props
    assert rows(app, "SELECT product_id, name, category, price FROM products") == [
        ("p9", "Boot", "Shoes > Boots", 80.0)
    ]


def test_every_short_path_and_write_key_in_the_body(app, client: TestClient, write_key: str) -> None:  # type: ignore[no-untyped-def]
    calls = {
        "/v1/i": {"userId": "u1", "traits": {}},
        "/v1/t": {"userId": "u1", "event": "Signed Up"},
        "/v1/p": {"userId": "u1", "name": "Home"},
        "/v1/s": {"userId": "u1", "name": "Cart"},
        "/v1/g": {"userId": "u1", "groupId": "g1"},
        "/v1/a": {"userId": "u1", "previousId": "anon-1"},
        "/v1/b": {"batch": [{"type": "page", "userId": "u1"}]},
    }
    for i, (path, body) in enumerate(calls.items()):
        if "batch" in body:
            body["batch"][0]["messageId"] = f"m{i}"
        else:
            body["messageId"] = f"m{i}"
        r = client.post(path, json={**body, "writeKey": write_key})
        assert r.status_code == 200, (path, r.text)
    types = [r[0] for r in rows(app, "SELECT type FROM events ORDER BY event_id")]
    assert types == ["identify", "signed_up", "page_view", "screen_view", "group", "alias", "page_view"]


def test_keys_a_write_key_only_collects(app, client: TestClient, write_key: str, keys) -> None:  # type: ignore[no-untyped-def]
    body = track("Product Viewed", "m1", product_id="p1")
    assert client.post("/v1/track", json=body).status_code == 401
    assert client.post("/v1/track", headers=basic("ss_nothere_x"), json=body).status_code == 401
    assert client.post("/v1/track", headers=basic(keys["viewer"]), json=body).status_code == 403
    assert client.post("/v1/track", headers=basic(keys["marketer"]), json=body).status_code == 200
    for path in ("/api/v1/segments", "/api/v1/customers/u1", "/api/v1/keys"):
        assert client.get(path, headers=auth(write_key)).status_code == 403, path
    doc = {"event_id": "x1", "customer_id": "u1", "type": "page_view", "occurred_at": "2024-06-01T08:00:00"}
    assert client.post("/api/v1/events", headers=auth(write_key), json=doc).status_code == 403
    key_id = write_key.split("_")[1]
    app.state.shopseg.keys.revoke(key_id)
    assert client.post("/v1/track", headers=basic(write_key), json=track("Product Viewed", "m2")).status_code == 401


def test_gzip_and_text_plain_bodies(app, client: TestClient, write_key: str) -> None:  # type: ignore[no-untyped-def]
    batch = {"batch": [track("Product Added", "g1", product_id="p1"), track("Cart Viewed", "g2")]}
    raw = gzip.compress(json.dumps(batch).encode())
    headers = {**basic(write_key), "Content-Encoding": "gzip", "Content-Type": "application/json"}
    assert client.post("/v1/batch", headers=headers, content=raw).json() == {"success": True}
    plain = {**basic(write_key), "Content-Type": "text/plain"}  # what analytics.js sends (no CORS preflight)
    assert client.post("/v1/t", headers=plain, content=json.dumps(track("Checkout Started", "g3"))).status_code == 200
    types = [r[0] for r in rows(app, "SELECT type FROM events ORDER BY event_id")]
    assert types == ["add_to_cart", "cart_view", "checkout_started"]
    bad = client.post("/v1/batch", headers=headers, content=b"not gzip")
    assert bad.status_code == 400 and "gzip" in bad.json()["error"]


def test_size_limits_and_invalid_json_answer_400(client: TestClient, write_key: str) -> None:  # type: ignore[no-untyped-def]
    h = basic(write_key)
    big_call = track("Product Viewed", "big", blob="x" * (32 * 1024))
    r = client.post("/v1/track", headers=h, json=big_call)
    assert r.status_code == 400 and "32 KB" in r.json()["error"]
    many = {"batch": [track("Product Viewed", f"m{i}", blob="x" * 20_000) for i in range(30)]}  # ~600 KB
    r = client.post("/v1/batch", headers=h, json=many)
    assert r.status_code == 400 and "500 KB" in r.json()["error"]
    one_big = {"batch": [big_call]}
    r = client.post("/v1/batch", headers=h, json=one_big)
    assert r.status_code == 400 and "32 KB per call" in r.json()["error"]
    bomb = gzip.compress(b"[" + b" " * 2_000_000 + b"]")  # 2 MB inflated, ~2 KB sent
    r = client.post("/v1/batch", headers={**h, "Content-Encoding": "gzip"}, content=bomb)
    assert r.status_code == 400 and "500 KB" in r.json()["error"]
    r = client.post("/v1/track", headers=h, content=b"{not json")
    assert r.status_code == 400 and "invalid JSON" in r.json()["error"]
    r = client.post("/v1/track", headers=h, json={"type": "track", "messageId": "m", "event": "X"})
    assert r.status_code == 400 and "userId or an anonymousId" in r.json()["error"]


def test_message_id_idempotency_and_clock_skew(app, client: TestClient, write_key: str, clock) -> None:  # type: ignore[no-untyped-def]
    # the client's clock is 2 hours fast: timestamp 11:00, sentAt 11:00:30, received at 09:00 (server clock)
    body = {
        "batch": [{**track("Page Viewed", "dup"), "timestamp": "2024-06-01T11:00:00Z"}],
        "sentAt": "2024-06-01T11:00:30Z",
    }
    for _ in range(2):
        assert client.post("/v1/batch", headers=basic(write_key), json=body).status_code == 200
    [(at,)] = rows(app, "SELECT occurred_at FROM events")
    assert at.isoformat() == "2024-06-01T08:59:30"  # receivedAt - (sentAt - timestamp) = 09:00 - 30 s


def test_order_completed_twice_is_one_order_with_lines(app, client: TestClient, write_key: str) -> None:  # type: ignore[no-untyped-def]
    products = [
        {"product_id": "p1", "sku": "S1", "price": 20.0, "quantity": 2, "name": "Sock", "category": "Socks"},
        {"product_id": "p2", "price": 60.0, "quantity": 1},
    ]
    order = dict(
        order_id="o1", total=95.0, revenue=100.0, discount=5.0, coupon="SUMMER", currency="EUR", products=products
    )
    for mid in ("first", "second"):  # the SDK gives every call its own messageId: the order_id decides
        assert (
            client.post("/v1/track", headers=basic(write_key), json=track("Order Completed", mid, **order)).status_code
            == 200
        )
    assert rows(app, "SELECT order_id, customer_id, currency, is_cancelled FROM orders") == [("o1", "u1", "EUR", False)]
    lines = rows(app, "SELECT line_number, product_id, quantity, unit_price, discount, is_return FROM order_lines")
    assert lines == [(1, "p1", 2, 20.0, 2.0, False), (2, "p2", 1, 60.0, 3.0, False)]  # 5.00 split by line value 40:60
    [(eid, typ, props)] = rows(app, "SELECT event_id, type, properties FROM events")
    assert (eid, typ) == ("order:o1", "purchase") and json.loads(props)["value"] == 95.0
    assert rows(app, "SELECT product_id, name FROM products ORDER BY 1") == [("p1", "Sock"), ("p2", None)]

    h = basic(write_key)
    client.post("/v1/track", headers=h, json=track("Order Refunded", "r1", order_id="o1", products=[products[1]]))
    client.post("/v1/track", headers=h, json=track("Order Cancelled", "c1", order_id="o1"))
    assert rows(app, "SELECT is_cancelled FROM orders") == [(True,)]
    returns = rows(app, "SELECT line_number, product_id, quantity, is_return FROM order_lines WHERE is_return")
    assert returns == [(3, "p2", 1, True)]


def test_identify_traits_fill_the_customer_profile(app, client: TestClient, write_key: str) -> None:  # type: ignore[no-untyped-def]
    traits = {
        "email": "ada@example.com",
        "firstName": "Ada",
        "birthday": "1990-05-02",
        "address": {"city": "Lyon", "state": "ARA", "country": "FR", "street": "1 rue X"},
        "phone": "+33 1 00",
        "loyalty_tier": "gold",
        "points": 120,
    }
    h = basic(write_key)
    client.post("/v1/identify", headers=h, json={"userId": "u1", "messageId": "i1", "traits": traits})
    client.post("/v1/identify", headers=h, json={"userId": "u2", "messageId": "i0", "traits": {"points": 7}})
    app.state.shopseg.live.flush()  # the next identify updates the attribute rows of u1 only (known columns)
    client.post("/v1/identify", headers=h, json={"userId": "u1", "messageId": "i2", "traits": {"points": 150}})
    cols = "email, birth_year, city, region, country, attributes"
    [(email, year, city, region, country, attrs)] = rows(app, f"SELECT {cols} FROM customers WHERE customer_id = 'u1'")
    assert (email, year, city, region, country) == ("ada@example.com", 1990, "Lyon", "ARA", "FR")
    assert json.loads(attrs) == {"first_name": "Ada", "loyalty_tier": "gold", "points": 150}
    assert "+33" not in attrs and "rue" not in attrs  # reserved traits without a column are not kept
    got = rows(app, "SELECT customer_id, attr_loyalty_tier, attr_points FROM customer_attributes ORDER BY 1")
    assert got == [("u1", "gold", 150.0), ("u2", None, 7.0)]
    [(props,)] = rows(app, "SELECT properties FROM events WHERE event_id = 'i1'")
    assert props is None  # the traits live in the profile, not in the event log


def test_anonymous_history_is_stitched_and_live_segments_see_it(app, client: TestClient, write_key: str, keys) -> None:  # type: ignore[no-untyped-def]
    state = app.state.shopseg
    SegmentStore(state.workspace).create("browsers", "events(type='product_view').count >= 2")
    state.segments_changed()
    h = basic(write_key)
    for i in range(2):
        doc = {**track("Product Viewed", f"v{i}", user=None, product_id=f"p{i}"), "anonymousId": "anon-7"}
        assert client.post("/v1/track", headers=h, json=doc).status_code == 200
    state.live.flush()  # one view in the events table, one still waiting: both paths are stitched
    doc = {**track("Product Viewed", "v2", user=None, product_id="p2"), "anonymousId": "anon-7"}
    client.post("/v1/track", headers=h, json=doc)
    guest = {**track("Order Completed", "o", user=None, order_id="g1", total=5.0), "anonymousId": "anon-7"}
    client.post("/v1/track", headers=h, json=guest)  # a guest checkout: the order has no customer yet
    assert client.get("/api/v1/customers/u7/segments", headers=auth(keys["viewer"])).status_code == 404  # not yet
    ident = {"userId": "u7", "anonymousId": "anon-7", "messageId": "id7", "traits": {"email": "u7@example.com"}}
    assert client.post("/v1/identify", headers=h, json=ident).status_code == 200
    segs = client.get("/api/v1/customers/u7/segments", headers=auth(keys["viewer"])).json()
    assert [s["segment"] for s in segs] == ["browsers"]
    later = {**track("Product Viewed", "v3", user=None, product_id="p3"), "anonymousId": "anon-7"}
    client.post("/v1/track", headers=h, json=later)  # the device is known now: stored as the customer's
    got = rows(app, "SELECT event_id, customer_id FROM events WHERE anonymous_id = 'anon-7' ORDER BY event_id")
    assert got == [("id7", "u7"), ("order:g1", "u7"), ("v0", "u7"), ("v1", "u7"), ("v2", "u7"), ("v3", "u7")]
    assert rows(app, "SELECT anonymous_id, customer_id FROM collect_identities") == [("anon-7", "u7")]
    assert rows(app, "SELECT order_id, customer_id FROM orders") == [("g1", "u7")]

    assert client.delete("/api/v1/customers/u7", headers=auth(keys["admin"])).status_code == 200
    assert rows(app, "SELECT count(*) FROM collect_identities") == [(0,)]
    after = {**track("Product Viewed", "v4", user=None, product_id="p4"), "anonymousId": "anon-7"}
    client.post("/v1/track", headers=h, json=after)  # the link went with the erasure: anonymous again
    assert rows(app, "SELECT customer_id FROM events WHERE event_id = 'v4'") == [(None,)]


def test_unknown_events_are_kept_as_generic_events(app, client: TestClient, write_key: str) -> None:  # type: ignore[no-untyped-def]
    client.post("/v1/track", headers=basic(write_key), json=track("Video Played!", "m1", seconds=30))
    [(typ, props)] = rows(app, "SELECT type, properties FROM events")
    assert typ == "video_played" and json.loads(props) == {"seconds": 30, "event": "Video Played!"}


def test_user_properties_cannot_smuggle_collection_work(app, client: TestClient, write_key: str, keys) -> None:  # type: ignore[no-untyped-def]
    evil = {"customer": {"customer_id": "x", 'email" = 1; --': "y"}}
    client.post("/v1/track", headers=basic(write_key), json=track("Thing", "m1", _shopseg=evil))
    assert rows(app, "SELECT count(*) FROM customers") == [(0,)]
    doc = {"event_id": "e1", "customer_id": "u1", "type": "x", "occurred_at": "2024-06-01T08:00:00"}
    r = client.post("/api/v1/events", headers=auth(keys["marketer"]), json={**doc, "properties": {"_shopseg": evil}})
    assert r.status_code == 422 and "reserved" in r.json()["error"]


def test_cors_preflight_and_headers_for_browsers(client: TestClient, write_key: str) -> None:  # type: ignore[no-untyped-def]
    pre = client.options("/v1/t", headers={"Origin": "https://shop.example", "Access-Control-Request-Method": "POST"})
    assert pre.status_code == 204 and pre.headers["access-control-allow-origin"] == "*"
    assert "Authorization" in pre.headers["access-control-allow-headers"]
    r = client.post("/v1/t", headers={**basic(write_key), "Origin": "https://shop.example"}, json=track("X", "m"))
    assert r.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-origin" not in client.get("/api/v1/health").headers  # the API stays same-origin


def test_cors_preflight_allows_the_retry_header_of_analytics_js(client: TestClient, write_key: str) -> None:  # type: ignore[no-untyped-def]
    """analytics.js re-sends a call with ``X-Retry-Count``: its preflight must be allowed, or no retry arrives."""
    asked = "authorization,x-retry-count"
    pre = client.options(
        "/v1/t",
        headers={
            "Origin": "http://shop.test",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": asked,
        },
    )
    assert pre.status_code == 204
    allowed = {h.strip().lower() for h in pre.headers["access-control-allow-headers"].split(",")}
    assert {"authorization", "x-retry-count", "content-type"} <= allowed
    headers = {**basic(write_key), "X-Retry-Count": "1", "Content-Type": "text/plain"}
    assert client.post("/v1/t", headers=headers, content=json.dumps(track("X", "m-retry"))).status_code == 200


def test_analytics_js_metrics_are_acknowledged_and_not_stored(app, client: TestClient) -> None:  # type: ignore[no-untyped-def]
    """``POST /v1/m``: analytics.js's usage counters, sent without a write key; 200, and no event is made."""
    series = {"series": [{"type": "Counter", "metric": "analytics_js.invoke", "value": 1, "tags": {"track": ""}}]}
    r = client.post(
        "/v1/m", headers={"Content-Type": "text/plain", "Origin": "http://shop.test"}, content=json.dumps(series)
    )
    assert r.status_code == 200 and r.json() == {"success": True}
    assert r.headers["access-control-allow-origin"] == "*"
    assert rows(app, "SELECT count(*) FROM events") == [(0,)]
    bad = client.post("/v1/m", content=b"[1]")
    assert bad.status_code == 400 and "expected a JSON object" in bad.json()["error"]
