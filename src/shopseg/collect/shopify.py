"""Shopify webhook payloads (Admin REST resources) -> canonical events carrying their ``_shopseg`` work.

Topics and what they become (the order, product and profile rows are written by
:mod:`shopseg.collect.materialize`, as for Segment calls):

- ``orders/create``: a ``purchase`` event (id ``order:<order id>``, so the order is stored once even if the
  storefront's tracking also sent ``Order Completed`` for it) with the order and its ``line_items``
  (``product_id`` else ``sku`` else ``variant_id``; ``quantity``; ``price``; ``total_discount``);
  ``cancelled_at`` set also cancels it.
- ``orders/updated``: ``order_updated``: currency and the lines replaced, cancelled when ``cancelled_at``.
- ``orders/cancelled``: ``order_cancelled``: ``orders.is_cancelled``.
- ``refunds/create``: ``order_refunded``: return lines for its ``refund_line_items``.
- ``customers/create``, ``customers/update``: ``identify``: email, names, ``default_address`` (city,
  province, country code), ``created_at``, e-mail marketing consent, tags.
- ``checkouts/create``, ``checkouts/update``: ``checkout_started`` (id ``checkout:<token>``: one per checkout,
  so ``abandoned_checkouts_90d`` counts it once).

The customer is the payload's ``customer.id``; without one (a guest), the event is anonymous
(``anonymous_id`` ``shopify:<order id or checkout token>``). ``customers/redact`` and
``customers/data_request`` are handled by the route (:mod:`shopseg.api.routers.shopify`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from typing import Any

from shopseg.collect._traits import customer_of
from shopseg.collect._values import InvalidCallsError, check_line, check_tree, money, quantity
from shopseg.collect.segment_spec import COLLECT_KEY
from shopseg.errors import Issue

__all__ = ["EVENT_TOPICS", "PRIVACY_TOPICS", "shopify_event"]

EVENT_TOPICS = (
    "orders/create",
    "orders/updated",
    "orders/cancelled",
    "refunds/create",
    "customers/create",
    "customers/update",
    "checkouts/create",
    "checkouts/update",
)
PRIVACY_TOPICS = ("customers/redact", "customers/data_request")
_CHANNELS = {"web": "web", "pos": "store", "iphone": "app", "android": "app", "shopify_draft_order": None}


def _id(value: Any) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    text = str(value).strip()
    return text or None


def _money(value: Any, path: str, issues: list[Issue], *, negative: bool = True) -> float:
    """A money value (Shopify sends them as text: ``"199.00"``); 0.0 when absent, an issue when not a valid amount."""
    return money(value, path, issues, negative=negative) or 0.0


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _time(value: Any, default: dt.datetime) -> dt.datetime:
    if not isinstance(value, str):
        return default
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        return parsed.astimezone(dt.UTC).replace(tzinfo=None) if parsed.tzinfo else parsed
    except (ValueError, OverflowError):  # not a time, or past the year 9999 in UTC
        return default


def _product_id(item: Mapping[str, Any]) -> str:
    return _id(item.get("product_id")) or _id(item.get("sku")) or _id(item.get("variant_id")) or "unknown"


def _line(item: Mapping[str, Any], path: str, issues: list[Issue], count: Any = None) -> dict[str, Any]:
    """An order line of the ``line_items`` entry at ``path``; ``count``: a refund line's own quantity (beside it)."""
    if count is None:
        units = quantity(item.get("quantity"), f"{path}/quantity", issues)
    else:
        units = quantity(count, path.rsplit("/", 1)[0] + "/quantity", issues)
    price = _money(item.get("price"), f"{path}/price", issues)
    check_line(units, price, f"{path}/price", issues)
    return {
        "product_id": _product_id(item),
        "quantity": units,
        "unit_price": price,
        "discount": _money(item.get("total_discount"), f"{path}/total_discount", issues, negative=False),
    }


def _products(items: Any, path: str, issues: list[Issue]) -> list[dict[str, Any]]:
    out = []
    for i, item in enumerate(items if isinstance(items, list) else []):
        if isinstance(item, Mapping):
            price = _money(item.get("price"), f"{path}/{i}/price", issues)
            row: dict[str, Any] = {"product_id": _product_id(item), "price": price}
            if isinstance(item.get("title"), str):
                row["name"] = item["title"]
            if isinstance(item.get("vendor"), str):
                row["brand"] = item["vendor"]
            out.append(row)
    return out


def _order(payload: Mapping[str, Any], order_id: str, issues: list[Issue]) -> dict[str, Any]:
    given = payload.get("line_items")
    items = [
        (f"/line_items/{n}", i)
        for n, i in enumerate(given if isinstance(given, list) else [])
        if isinstance(i, Mapping)
    ]
    order: dict[str, Any] = {"order_id": order_id, "value": _money(payload.get("total_price"), "/total_price", issues)}
    order["lines"] = [_line(i, path, issues) for path, i in items] or [
        {"product_id": "order_total", "quantity": 1, "unit_price": order["value"], "discount": 0.0}
    ]
    if isinstance(payload.get("currency"), str):
        order["currency"] = payload["currency"]
    channel = _CHANNELS.get(str(payload.get("source_name") or ""), None)
    if channel:
        order["channel"] = channel
    return order


def _customer(customer: Mapping[str, Any], received_at: dt.datetime) -> dict[str, Any] | None:
    cid = _id(customer.get("id"))
    if cid is None:
        return None
    given = customer.get("default_address")
    address: Mapping[str, Any] = given if isinstance(given, Mapping) else {}
    traits = {
        "email": customer.get("email"),
        "firstName": customer.get("first_name"),
        "lastName": customer.get("last_name"),
        "createdAt": customer.get("created_at"),
        "address": {
            "city": address.get("city"),
            "state": address.get("province_code") or address.get("province"),
            "country": address.get("country_code") or address.get("country"),
        },
    }
    row = customer_of(cid, {k: v for k, v in traits.items() if v is not None}, received_at)
    consent = customer.get("email_marketing_consent")
    if isinstance(consent, Mapping) and isinstance(consent.get("state"), str):
        row["email_marketing"] = consent["state"] == "subscribed"
    elif isinstance(customer.get("accepts_marketing"), bool):
        row["email_marketing"] = customer["accepts_marketing"]
    if isinstance(customer.get("tags"), str) and customer["tags"].strip():
        row["tags"] = customer["tags"]
    return row


def _who(payload: Mapping[str, Any], fallback: str, owner: str | None = None) -> tuple[str | None, str | None]:
    """``(customer_id, anonymous_id)``: the payload's customer, else ``owner``, else an anonymous id."""
    given = payload.get("customer")
    customer: Mapping[str, Any] = given if isinstance(given, Mapping) else {}
    cid = _id(customer.get("id")) or owner
    return cid, (None if cid else f"shopify:{fallback}")


def shopify_event(
    topic: str, payload: Mapping[str, Any], webhook_id: str, received_at: dt.datetime, owner: str | None = None
) -> dict[str, Any] | None:
    """The event of one webhook delivery (None for a topic that makes none).

    Raises :class:`~shopseg.collect._values.InvalidCallsError` (400) for values the workspace cannot hold: money
    that is not a finite amount under the file ingest's limit, a quantity that is not a whole number from 0 to
    2,147,483,647, NaN or infinity anywhere, nesting deeper than 32 levels; each issue names its path.
    ``webhook_id`` (``X-Shopify-Webhook-Id``) is the event id, so a redelivery is stored once; orders
    and checkouts use their own ids instead (``order:<id>``, ``checkout:<token>``). ``owner``: the
    customer of the order a refund belongs to, when the workspace knows it.
    """
    event_id = "shopify:" + (webhook_id if len(webhook_id) <= 100 else hashlib.sha256(webhook_id.encode()).hexdigest())
    ops: dict[str, Any] = {}
    props: dict[str, Any] = {"source": "shopify"}
    issues: list[Issue] = []
    check_tree(payload, "", issues)
    if issues:
        raise InvalidCallsError(issues)
    customer = payload.get("customer") if isinstance(payload.get("customer"), Mapping) else None
    if topic.startswith("orders/"):
        order_id = _id(payload.get("id")) or "unknown"
        cid, anon = _who(payload, f"order-{order_id}")
        at = _time(payload.get("updated_at") if topic != "orders/create" else payload.get("created_at"), received_at)
        props.update(order_id=order_id, value=_money(payload.get("total_price"), "/total_price", []))
        codes = [c.get("code") for c in _list(payload.get("discount_codes")) if isinstance(c, Mapping)]
        if codes:
            props["coupon"] = codes[0]
        if topic == "orders/create":
            etype, event_id = "purchase", f"order:{order_id}"
            ops["order"] = _order(payload, order_id, issues)
            ops["products"] = _products(payload.get("line_items"), "/line_items", [])  # prices: checked as lines
        elif topic == "orders/updated":
            etype, ops["order_update"] = "order_updated", _order(payload, order_id, issues)
        else:
            etype = "order_cancelled"
        if topic == "orders/cancelled" or payload.get("cancelled_at"):
            ops["order_cancel"] = order_id
    elif topic == "refunds/create":
        order_id = _id(payload.get("order_id")) or "unknown"
        cid, anon = _who(payload, f"order-{order_id}", owner)
        at, etype = _time(payload.get("created_at"), received_at), "order_refunded"
        lines = [
            _line(r["line_item"], f"/refund_line_items/{n}/line_item", issues, r.get("quantity"))
            for n, r in enumerate(_list(payload.get("refund_line_items")))
            if isinstance(r, Mapping) and isinstance(r.get("line_item"), Mapping)
        ]
        props["order_id"], ops["order_refund"] = order_id, {"order_id": order_id, "lines": lines}
    elif topic.startswith("customers/"):
        cid, anon, etype = _id(payload.get("id")), None, "identify"
        if cid is None:
            return None
        at = _time(payload.get("updated_at"), received_at)
        if (row := _customer(payload, received_at)) is not None:
            ops["customer"] = row
        customer = None
    elif topic.startswith("checkouts/"):
        token = _id(payload.get("token")) or _id(payload.get("id")) or "unknown"
        cid, anon = _who(payload, f"checkout-{token}")
        at, etype, event_id = _time(payload.get("created_at"), received_at), "checkout_started", f"checkout:{token}"
        props.update(value=_money(payload.get("total_price"), "/total_price", issues), checkout_token=token)
        ops["products"] = _products(payload.get("line_items"), "/line_items", issues)
    else:
        return None
    if issues:
        raise InvalidCallsError(issues)
    if customer is not None and (row := _customer(customer, received_at)) is not None:
        ops["customer"] = row
    if ops:
        props[COLLECT_KEY] = ops
    return {
        "event_id": event_id,
        "customer_id": cid,
        "anonymous_id": anon,
        "type": etype,
        "occurred_at": min(at, received_at),
        "product_id": None,
        "properties": props,
    }
