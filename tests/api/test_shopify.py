"""Shopify webhooks: HMAC verification, idempotency by X-Shopify-Webhook-Id, orders/refunds/customers/checkouts
mapped to the workspace tables, and the compliance topics (erasure, subject access).

Payloads are abridged from Shopify's documented example payloads, keeping the fields shopseg reads with their
documented names and types: the webhook topic reference
https://shopify.dev/docs/api/webhooks/latest (orders/create, refunds/create, customers/update, checkouts/create)
and the mandatory compliance webhooks https://shopify.dev/docs/apps/build/privacy-law-compliance
(customers/redact, customers/data_request). The signature is Shopify's documented scheme: base64 of the
HMAC-SHA256 of the raw body under the app's client secret
(https://shopify.dev/docs/apps/build/webhooks/subscribe/https#step-2-validate-the-origin-of-your-webhook).
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import hashlib
import hmac
import json
import logging
from typing import Any

import pytest
from fastapi.testclient import TestClient

SECRET = "hush-app-secret"
ORDER: dict[str, Any] = {
    "id": 820982911946154508,
    "email": "jon@example.com",
    "created_at": "2024-05-31T13:01:19-04:00",
    "updated_at": "2024-05-31T13:01:19-04:00",
    "currency": "USD",
    "total_price": "403.00",
    "total_discounts": "5.00",
    "cancelled_at": None,
    "source_name": "web",
    "discount_codes": [{"code": "TENOFF", "amount": "5.00", "type": "fixed_amount"}],
    "line_items": [
        {
            "id": 487817672276298554,
            "product_id": 788032119674292922,
            "sku": "IPOD2008PINK",
            "title": "Aviator sunglasses",
            "vendor": None,
            "quantity": 1,
            "price": "199.00",
            "total_discount": "0.00",
        },
        {
            "id": 976318377106520349,
            "product_id": 788032119674292922,
            "sku": "IPOD2008BLACK",
            "title": "Mid-century lounger",
            "vendor": None,
            "quantity": 1,
            "price": "199.00",
            "total_discount": "5.00",
        },
    ],
    "customer": {
        "id": 115310627314723954,
        "email": "john@example.com",
        "first_name": "John",
        "last_name": "Smith",
        "created_at": None,
        "email_marketing_consent": {"state": "not_subscribed", "opt_in_level": None},
        "default_address": {
            "city": "Ottawa",
            "province": "Ontario",
            "country": "Canada",
            "province_code": "ON",
            "country_code": "CA",
            "address1": "123 Elm St.",
            "zip": "K2H7A8",
        },
    },
}  # abridged from the documented orders/create example
CUSTOMER = "115310627314723954"


def sign(body: bytes, secret: str = SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


@pytest.fixture(autouse=True)
def secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPSEG_SHOPIFY_WEBHOOK_SECRET", SECRET)


def deliver(client: TestClient, topic: str, payload: dict[str, Any], webhook_id: str, signature: str | None = None):  # type: ignore[no-untyped-def]
    body = json.dumps(payload).encode()
    headers = {
        "X-Shopify-Topic": topic,
        "X-Shopify-Webhook-Id": webhook_id,
        "Content-Type": "application/json",
        "X-Shopify-Hmac-Sha256": sign(body) if signature is None else signature,
    }
    return client.post("/api/v1/shopify/webhooks", content=body, headers=headers)


def rows(app, sql: str) -> list[tuple[Any, ...]]:  # type: ignore[no-untyped-def]
    state = app.state.shopseg
    state.live.flush()
    with state.lock:
        return state.workspace.con.execute(sql).fetchall()  # type: ignore[no-any-return]


def test_orders_create_is_verified_stored_once_and_logged_without_body(app, client: TestClient, caplog) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.INFO, logger="shopseg")
    assert deliver(client, "orders/create", ORDER, "w1", signature="").status_code == 401
    forged = deliver(client, "orders/create", ORDER, "w1", signature=sign(json.dumps(ORDER).encode(), "other"))
    assert forged.status_code == 401
    for webhook_id in ("w1", "w1", "w2"):  # a redelivery, then the same order under another delivery id
        r = deliver(client, "orders/create", ORDER, webhook_id)
        assert r.status_code == 200, r.text
    assert rows(app, "SELECT order_id, customer_id, currency, channel, is_cancelled FROM orders") == [
        ("820982911946154508", CUSTOMER, "USD", "web", False)
    ]
    lines = rows(app, "SELECT line_number, product_id, quantity, unit_price, discount FROM order_lines ORDER BY 1")
    assert lines == [(1, "788032119674292922", 1, 199.0, 0.0), (2, "788032119674292922", 1, 199.0, 5.0)]
    [(typ, at, props)] = rows(app, "SELECT type, occurred_at, properties FROM events")
    assert typ == "purchase" and at.isoformat() == "2024-05-31T17:01:19"  # -04:00 to UTC
    assert json.loads(props)["coupon"] == "TENOFF"
    assert rows(app, "SELECT email, city, region, country, email_marketing FROM customers") == [
        ("john@example.com", "Ottawa", "ON", "CA", False)
    ]
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "wrong signature" in logged and "orders/create" in logged
    assert "john@example.com" not in logged and "Ottawa" not in logged


def test_refunds_and_cancellations_mark_the_order(app, client: TestClient) -> None:  # type: ignore[no-untyped-def]
    deliver(client, "orders/create", ORDER, "w1")
    refund = {
        "id": 509562969,
        "order_id": 820982911946154508,
        "created_at": "2024-06-01T08:00:00-04:00",
        "refund_line_items": [
            {
                "id": 104689539,
                "quantity": 1,
                "line_item_id": 703073504,
                "line_item": {"product_id": 632910392, "sku": "IPOD2008BLACK", "price": "199.00"},
            }
        ],
    }
    assert deliver(client, "refunds/create", refund, "w2").status_code == 200
    returns = rows(app, "SELECT product_id, quantity, unit_price, is_return FROM order_lines WHERE is_return")
    assert returns == [("632910392", 1, 199.0, True)]
    [(cid,)] = rows(app, "SELECT customer_id FROM events WHERE type = 'order_refunded'")
    assert cid == CUSTOMER  # a refund names only its order: its customer is read from the stored order
    assert (
        deliver(client, "orders/cancelled", {**ORDER, "cancelled_at": "2024-06-01T09:00:00-04:00"}, "w3").status_code
        == 200
    )
    assert rows(app, "SELECT is_cancelled FROM orders") == [(True,)]


def test_customers_update_and_checkouts_once_per_token(app, client: TestClient) -> None:  # type: ignore[no-untyped-def]
    customer = copy.deepcopy(ORDER["customer"])
    customer.update(
        email_marketing_consent={"state": "subscribed"}, tags="vip, newsletter", updated_at="2024-06-01T10:00:00-04:00"
    )
    assert deliver(client, "customers/update", customer, "w1").status_code == 200
    assert rows(app, "SELECT customer_id, email_marketing, tags FROM customers") == [
        (CUSTOMER, True, "vip, newsletter")
    ]
    checkout = {
        "id": 1,
        "token": "b1946ac92492d2347c6235b4d2611184",
        "created_at": "2024-06-01T07:00:00-04:00",
        "total_price": "398.00",
        "line_items": ORDER["line_items"],
        "customer": ORDER["customer"],
    }
    assert deliver(client, "checkouts/create", checkout, "w2").status_code == 200
    assert deliver(client, "checkouts/update", checkout, "w3").status_code == 200
    assert rows(app, "SELECT event_id, customer_id FROM events WHERE type = 'checkout_started'") == [
        ("checkout:b1946ac92492d2347c6235b4d2611184", CUSTOMER)
    ]


def test_compliance_topics_erase_and_record_subject_access(app, client: TestClient) -> None:  # type: ignore[no-untyped-def]
    deliver(client, "orders/create", ORDER, "w1")
    request = {
        "shop_id": 954889,
        "shop_domain": "{shop}.myshopify.com",
        "orders_requested": [299938, 280263],
        "customer": {"id": int(CUSTOMER), "email": "john@example.com", "phone": "555-625-1199"},
        "data_request": {"id": 9999},
    }
    assert deliver(client, "customers/data_request", request, "w2").status_code == 200
    [(action, detail)] = rows(app, "SELECT action, detail FROM privacy_audit")
    assert action == "subject_access_requested" and json.loads(detail)["request"] == 9999
    redact = {
        "shop_id": 954889,
        "shop_domain": "{shop}.myshopify.com",
        "customer": {"id": int(CUSTOMER), "email": "john@example.com", "phone": "555-625-1199"},
        "orders_to_redact": [820982911946154508],
    }
    assert deliver(client, "customers/redact", redact, "w3").status_code == 200
    assert rows(app, "SELECT count(*) FROM orders") == [(0,)]
    assert rows(app, f"SELECT count(*) FROM customers WHERE customer_id = '{CUSTOMER}'") == [(0,)]


def test_without_a_configured_secret_the_route_refuses(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SHOPSEG_SHOPIFY_WEBHOOK_SECRET")
    r = deliver(client, "orders/create", ORDER, "w1")
    assert r.status_code == 401 and "shopify_webhook_secret" in r.json()["error"]


def test_on_a_real_server_created_at_is_stored_and_bad_values_are_refused(app) -> None:  # type: ignore[no-untyped-def]
    """The probe: a signed customers/create with created_at answered 500 (a datetime in the event's JSON), and an
    order with an out-of-range quantity was accepted and wedged the live applier."""
    import httpx

    from shopseg.live.journal import read_raw
    from tests.api.helpers import serve_in_thread

    def send(url: str, topic: str, payload: dict[str, Any], webhook_id: str) -> httpx.Response:
        body = json.dumps(payload).encode()
        headers = {"X-Shopify-Topic": topic, "X-Shopify-Webhook-Id": webhook_id, "X-Shopify-Hmac-Sha256": sign(body)}
        return httpx.post(f"{url}/api/v1/shopify/webhooks", content=body, headers=headers, timeout=30)

    customer = {**copy.deepcopy(ORDER["customer"]), "created_at": "2024-05-30T10:00:00-04:00"}
    bad = copy.deepcopy(ORDER)
    bad["line_items"][1]["quantity"] = 1e30
    bad["total_price"] = "NaN"
    with serve_in_thread(app) as url:
        for _ in range(2):  # a redelivery: stored once
            r = send(url, "customers/create", customer, "w-c1")
            assert r.status_code == 200, r.text
        r = send(url, "orders/create", bad, "w-o1")
        assert r.status_code == 400, r.text
        assert [e["path"] for e in r.json()["errors"]] == ["/total_price", "/line_items/1/quantity"]
        assert "order:820982911946154508" not in {e["event_id"] for e in read_raw(app.state.shopseg.live.journal.path)}
        assert rows(app, "SELECT count(*) FROM orders") == [(0,)]  # refused: nothing stored
        assert send(url, "orders/create", ORDER, "w-o2").status_code == 200
    assert rows(app, "SELECT customer_id, signup_at FROM customers") == [(CUSTOMER, dt.datetime(2024, 5, 30, 14, 0))]
    assert rows(app, "SELECT count(*) FROM orders") == [(1,)]
    assert rows(app, "SELECT sum(quantity) FROM order_lines") == [(2,)]
