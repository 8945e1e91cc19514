"""Segment HTTP Tracking API messages -> canonical ``events`` rows (the Segment Spec and its E-commerce Spec v2).

One message becomes one event: ``messageId`` is its ``event_id`` (an ``Order Completed`` uses
``order:<order_id>``, so an order sent twice is stored once), ``userId`` its ``customer_id``,
``anonymousId`` its ``anonymous_id``. What the event means for the profile, the catalogue or the order
book rides along under the ``_shopseg`` property (:data:`COLLECT_KEY`): the journal keeps it, so a crash
loses nothing, and :mod:`shopseg.collect.materialize` writes it to ``customers``, ``products``, ``orders``
and ``order_lines`` and strips it before the event is stored.

The event time follows the spec's clock-skew correction: ``timestamp = receivedAt - (sentAt - timestamp)``
when the message (or its batch) carries ``sentAt``, the client's ``timestamp`` as it is otherwise, the
arrival time without either.

>>> import datetime as dt
>>> now = dt.datetime(2024, 6, 1, 12)
>>> [e] = map_messages([{"type": "track", "event": "Product Viewed", "userId": "u1", "messageId": "m1",
...     "properties": {"product_id": "p9", "category": "Shoes"}, "timestamp": "2024-06-01T11:59:00Z",
...     "sentAt": "2024-06-01T11:59:30Z"}], received_at=now, identities={})
>>> e["type"], e["product_id"], e["occurred_at"]
('product_view', 'p9', datetime.datetime(2024, 6, 1, 11, 59, 30))
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import re
from collections import ChainMap
from collections.abc import Mapping, MutableMapping, Sequence
from typing import Any

from shopseg.collect._traits import customer_of
from shopseg.collect._values import InvalidCallsError, check_line, check_tree, issue, money, quantity
from shopseg.config import get_setting
from shopseg.errors import Issue

__all__ = ["COLLECT_KEY", "MESSAGE_TYPES", "TRACK_TYPES", "map_messages", "event_type"]

COLLECT_KEY = "_shopseg"
MESSAGE_TYPES = ("identify", "track", "page", "screen", "group", "alias")
#: Spec event name -> shopseg event type (E-commerce Spec v2 and the Email spec); others are slugged.
TRACK_TYPES = {
    "Products Searched": "search",
    "Product List Viewed": "product_list_view",
    "Product List Filtered": "product_list_filter",
    "Product Clicked": "product_click",
    "Product Viewed": "product_view",
    "Product Added": "add_to_cart",
    "Product Removed": "remove_from_cart",
    "Cart Viewed": "cart_view",
    "Checkout Started": "checkout_started",
    "Checkout Step Viewed": "checkout_step_viewed",
    "Checkout Step Completed": "checkout_step_completed",
    "Payment Info Entered": "payment_info_entered",
    "Order Completed": "purchase",
    "Order Updated": "order_updated",
    "Order Cancelled": "order_cancelled",
    "Order Refunded": "order_refunded",
    "Product Added to Wishlist": "add_to_wishlist",
    "Product Removed from Wishlist": "remove_from_wishlist",
    "Email Delivered": "email_delivered",
    "Email Opened": "email_open",
    "Email Link Clicked": "email_click",
    "Email Bounced": "email_bounce",
    "Email Marked as Spam": "email_spam",
    "Unsubscribed": "unsubscribe",
}
_PRODUCT_EVENTS = {"product_view", "product_click", "add_to_cart", "remove_from_cart", "add_to_wishlist"}
_PAGE_TYPES = {"page": "page_view", "screen": "screen_view", "group": "group", "identify": "identify", "alias": "alias"}
_ID_MAX = 128
_EPOCH = dt.datetime(1970, 1, 1)


@functools.lru_cache(maxsize=4096)
def event_type(name: str) -> str:
    """The shopseg event type of a track call's ``event`` name: the spec's mapping, else a snake_case slug.

    >>> event_type("Order Completed"), event_type("Video Played"), event_type("3D View!")
    ('purchase', 'video_played', 'e_3d_view')
    """
    if name in TRACK_TYPES:
        return TRACK_TYPES[name]
    slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    if not slug:
        return "event"
    return (slug if slug[0].isalpha() else f"e_{slug}")[:64]


def _id(value: Any) -> str | None:
    """An id as text (numbers too: the SDKs accept them), None when absent or empty."""
    if value is None or isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    text = str(value).strip()
    return text or None


def _short(value: str) -> str:
    """An id of at most 128 characters (a longer one is replaced by its SHA-256)."""
    return value if len(value) <= _ID_MAX else hashlib.sha256(value.encode()).hexdigest()


def _time(value: Any, seen: dict[str, dt.datetime] | None = None) -> dt.datetime | None:
    """A naive UTC time from ISO 8601 text; ``seen`` caches the texts of one batch (an SDK stamps many calls alike)."""
    if not isinstance(value, str) or not value:
        return None
    if seen is not None and value in seen:
        return seen[value]
    parsed = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))  # ValueError: reported by the caller
    if parsed.tzinfo is not None:
        try:
            parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
        except OverflowError:  # e.g. 9999-12-31T23:59:59-05:00: after the year 9999 in UTC
            raise ValueError(f"{value!r} is out of the years 1 to 9999 in UTC") from None
    if seen is not None:
        seen[value] = parsed
    return parsed


def _occurred_at(msg: Mapping[str, Any], ctx: Mapping[str, Any]) -> dt.datetime:
    """The spec's corrected timestamp: ``receivedAt - (sentAt - timestamp)``."""
    seen = ctx["times"]
    timestamp = _time(msg.get("timestamp") or msg.get("originalTimestamp"), seen)
    sent = _time(msg.get("sentAt"), seen) or _time(ctx.get("sent_at"), seen)
    if timestamp is None:
        return ctx["received_at"]
    if sent is None:
        return timestamp
    return ctx["received_at"] - (sent - timestamp)


def _product_id(p: Mapping[str, Any]) -> str | None:
    return _id(p.get("product_id")) or _id(p.get("sku")) or _id(p.get("id"))


def _product(p: Mapping[str, Any], where: str, issues: list[Issue]) -> dict[str, Any] | None:
    """A ``products`` row of a product object at ``where``; its ``price`` is checked as money and its
    ``quantity`` (a cart's, a view's) as a line's, since rules read both from the stored event."""
    pid = _product_id(p)
    price = money(p.get("price"), f"{where}/price", issues)
    if p.get("quantity") is not None:
        count = quantity(p.get("quantity"), f"{where}/quantity", issues)
        check_line(count, price or 0.0, where, issues)
    if pid is None:
        return None
    row: dict[str, Any] = {"product_id": _short(pid)}
    for key in ("name", "category", "brand"):
        if isinstance(p.get(key), str):
            row[key] = p[key]
    if price is not None:
        row["price"] = price
    return row


def _items(props: Mapping[str, Any], where: str, issues: list[Issue]) -> list[tuple[str, Mapping[str, Any]]]:
    """``(path, product object)`` of ``products[]``; an issue when it is not a list of objects."""
    given = props.get("products")
    if given is None:
        return []
    if not isinstance(given, list):
        issue(issues, f"{where}/products", "invalid", f"expected a list of products; got {type(given).__name__}.")
        return []
    out = []
    for i, p in enumerate(given):
        if isinstance(p, Mapping):
            out.append((f"{where}/products/{i}", p))
        else:
            issue(issues, f"{where}/products/{i}", "invalid", f"expected a product object; got {type(p).__name__}.")
    return out


def _lines(items: list[tuple[str, Mapping[str, Any]]], issues: list[Issue]) -> list[dict[str, Any]]:
    lines = []
    for path, p in items:
        count = quantity(p.get("quantity"), f"{path}/quantity", issues)
        price = money(p.get("price"), f"{path}/price", issues) or 0.0
        check_line(count, price, f"{path}/price", issues)
        if (pid := _product_id(p)) is not None:
            lines.append({"product_id": _short(pid), "quantity": count, "unit_price": price})
    return lines


def _value(props: Mapping[str, Any], where: str, issues: list[Issue]) -> float | None:
    """The spec's ``total``, else ``revenue`` (both checked as money)."""
    total = money(props.get("total"), f"{where}/total", issues)
    revenue = money(props.get("revenue"), f"{where}/revenue", issues)
    return revenue if total is None else total


def _order(props: Mapping[str, Any], order_id: str, where: str, issues: list[Issue]) -> dict[str, Any]:
    """An order and its lines from ``Order Completed``/``Order Updated`` properties; ``discount`` is spread on
    the lines in proportion to their value (whole cents, the rest on the last line)."""
    lines = _lines(_items(props, where, issues), issues)
    discount = money(props.get("discount"), f"{where}/discount", issues, negative=False) or 0.0
    value = _value(props, where, issues)
    gross = sum(line["quantity"] * line["unit_price"] for line in lines)
    if value is None:
        value = round(max(gross - discount, 0.0), 2)
    if not lines:  # the spec allows an order without products[]: one line carries its value
        lines, gross = [{"product_id": "order_total", "quantity": 1, "unit_price": value + discount}], value + discount
        check_line(1, gross, f"{where}/total", issues)
    left = round(discount * 100)
    for i, line in enumerate(lines):
        share = (
            left
            if i == len(lines) - 1
            else round(discount * 100 * line["quantity"] * line["unit_price"] / gross)
            if gross
            else 0
        )
        share = min(share, left)
        line["discount"], left = share / 100, left - share
    order = {"order_id": order_id, "value": value, "lines": lines}
    for key in ("currency", "coupon"):
        if isinstance(props.get(key), str):
            order[key] = props[key]
    return order


def _track(
    name: str, props: dict[str, Any], message_id: str, issues: list[Issue], where: str
) -> tuple[str, str, dict[str, Any]]:
    """``(type, event_id, what to materialize)`` of a track call; ``props`` gets ``value`` where the spec has one."""
    etype, at = event_type(name), f"{where}/properties"
    ops: dict[str, Any] = {}
    if etype not in TRACK_TYPES.values():
        props.setdefault("event", name)
    if etype in _PRODUCT_EVENTS and (product := _product(props, at, issues)) is not None:
        ops["products"] = [product]
    if etype in ("purchase", "order_updated", "order_cancelled", "order_refunded"):
        order_id = _id(props.get("order_id"))
        if order_id is None:
            issue(
                issues, f"{at}/order_id", "missing", f"a {name!r} call needs an order_id. Expected a string; got none."
            )
            return etype, message_id, ops
        order_id = _short(order_id)
        if etype == "purchase":
            ops["order"] = order = _order(props, order_id, at, issues)
            ops["products"] = [q for _, p in _items(props, at, []) if (q := _product(p, at, [])) is not None]
            props["value"] = order["value"]
            return etype, f"order:{order_id}", ops
        if etype == "order_updated":
            given = props.get("products")
            ops["order_update"] = _order(props, order_id, at, issues) if given else {"order_id": order_id}
        elif etype == "order_cancelled":
            ops["order_cancel"] = order_id
        else:
            ops["order_refund"] = {"order_id": order_id, "lines": _lines(_items(props, at, issues), issues)}
    if etype in ("checkout_started", "cart_view", "order_updated", "order_refunded"):
        checked = "lines" in ops.get("order_update", {})  # _order has checked total and revenue
        value = _value(props, at, [] if checked else issues)
        if value is not None:
            props.setdefault("value", value)
    return etype, message_id, ops


def _traits(msg: Mapping[str, Any]) -> dict[str, Any]:
    """An identify call's traits: ``traits``, over ``context.traits`` (where RudderStack's SDKs put them)."""
    context = msg.get("context")
    inner = context.get("traits") if isinstance(context, dict) else None
    top = msg.get("traits")
    return {**(inner if isinstance(inner, dict) else {}), **(top if isinstance(top, dict) else {})}


def _message_id(msg: Mapping[str, Any]) -> str:
    given = _id(msg.get("messageId"))
    if given is not None:
        return _short(given)
    return "msg:" + hashlib.sha256(json.dumps(msg, sort_keys=True, default=str).encode()).hexdigest()[:40]


def _one(
    msg: Mapping[str, Any],
    kind: str,
    where: str,
    ctx: dict[str, Any],
    identities: MutableMapping[str, str],
    issues: list[Issue],
) -> dict[str, Any] | None:
    before = len(issues)
    check_tree(msg, where, issues)  # NaN, infinities, nesting deeper than MAX_DEPTH: nothing else is read
    if len(issues) > before:
        return None
    user, anon = _id(msg.get("userId")), _id(msg.get("anonymousId"))
    if kind == "alias":
        anon = _id(msg.get("previousId"))
        if user is None or anon is None:
            text = f"an alias call needs userId and previousId. Expected two ids; got {user!r}, {anon!r}."
            issue(issues, where, "missing", text)
            return None
    if user is None and anon is None:
        issue(issues, where, "missing", "expected a userId or an anonymousId; got neither.")
        return None
    user, anon = user and _short(user), anon and _short(anon)
    try:
        occurred = _occurred_at(msg, ctx)
    except (ValueError, OverflowError) as exc:
        text = f"expected ISO 8601 times; got {msg.get('timestamp')!r}, sentAt {msg.get('sentAt')!r} ({exc})."
        issue(issues, f"{where}/timestamp", "invalid", text)
        return None
    if not _EPOCH <= occurred <= ctx["latest"]:
        text = f"expected a time from 1970 to now; got {occurred.isoformat()}Z. Check the sender's clock."
        issue(issues, f"{where}/timestamp", "out_of_range", text)
        return None
    props = msg.get("properties") if kind in ("track", "page", "screen") else {}
    if props is not None and not isinstance(props, dict):
        issue(issues, f"{where}/properties", "invalid", f"expected a JSON object; got {type(props).__name__}.")
        return None
    ops: dict[str, Any] = {}
    props, message_id = dict(props or {}), _message_id(msg)
    props.pop(COLLECT_KEY, None)  # only this module writes it
    if kind == "track":
        name = msg.get("event")
        if not isinstance(name, str) or not name.strip():
            text = f"a track call needs the event name. Expected a string; got {name!r}."
            issue(issues, f"{where}/event", "missing", text)
            return None
        etype, message_id, ops = _track(name.strip(), props, message_id, issues, where)
    else:
        etype = _PAGE_TYPES[kind]
        for key in ("name", "category"):
            if kind in ("page", "screen") and isinstance(msg.get(key), str):
                props.setdefault(key, msg[key])
        if kind == "group" and _id(msg.get("groupId")) is not None:
            props["group_id"] = _id(msg.get("groupId"))
    customer = user or (identities.get(anon) if anon else None)
    if user is not None and anon is not None and identities.get(anon) != user:
        identities[anon] = user
        ops["link"] = anon
    if kind == "identify" and user is not None and (traits := _traits(msg)):
        ops["customer"] = customer_of(user, traits, ctx["received_at"])
    channel = {"browser": "web", "mobile": "app"}.get(str(msg.get("channel") or ctx.get("channel") or ""))
    if "order" in ops and channel:
        ops["order"]["channel"] = channel
    if ops:
        props[COLLECT_KEY] = ops
    product_id = _product_id(props) if kind == "track" else None
    return {
        "event_id": message_id,
        "customer_id": customer,
        "anonymous_id": anon,
        "type": etype,
        "occurred_at": occurred,
        "product_id": product_id and _short(product_id),
        "properties": props or None,
    }


def map_messages(
    messages: Sequence[Any],
    *,
    received_at: dt.datetime,
    identities: MutableMapping[str, str],
    kind: str | None = None,
    sent_at: Any = None,
    channel: str | None = None,
) -> list[dict[str, Any]]:
    """Map Segment messages to event documents, in order; :class:`~shopseg.collect._values.InvalidCallsError`
    (a :class:`~shopseg.errors.BadRequestError`) lists every invalid value, each with its path.

    Parameters
    ----------
    messages : sequence
        The calls (a batch's ``batch`` list, or one call).
    received_at : datetime
        Arrival time (naive UTC): the spec's ``receivedAt``.
    identities : mutable mapping
        ``anonymousId -> userId`` links known so far; a message carrying both adds its link (and the
        event carries ``link``, so its anonymous history is stitched to the customer).
    kind : str, default=None
        The call type of a single-call route (``/v1/track``); default each message's ``type``.
    sent_at : str, default=None
        The batch's ``sentAt`` (a message's own ``sentAt`` wins).
    """
    latest = received_at + dt.timedelta(seconds=int(get_setting("api_event_max_future_s")))
    ctx = {"received_at": received_at, "sent_at": sent_at, "channel": channel, "latest": latest, "times": {}}
    issues: list[Issue] = []
    out: list[dict[str, Any]] = []
    links: ChainMap[str, str] = ChainMap({}, identities)  # new links are kept only if every message is valid
    for i, msg in enumerate(messages):
        where = f"/batch/{i}" if kind is None else ""
        if not isinstance(msg, dict):
            issue(issues, where, "invalid", f"expected a JSON object; got {type(msg).__name__}.")
            continue
        this = kind or msg.get("type")
        if this not in MESSAGE_TYPES:
            text = f"unknown call type {this!r}. Expected one of {list(MESSAGE_TYPES)}."
            issue(issues, f"{where}/type", "invalid", text)
            continue
        event = _one(msg, str(this), where, ctx, links, issues)
        if event is not None:
            out.append(event)
    if issues:
        raise InvalidCallsError(issues)
    identities.update(links.maps[0])
    return out
