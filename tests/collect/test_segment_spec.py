"""Segment Spec messages -> events: the E-commerce Spec v2 names, the clock-skew correction, orders, traits.

Event names and properties are the spec's own
(https://segment.com/docs/connections/spec/ecommerce/v2/, https://segment.com/docs/connections/spec/email/,
https://segment.com/docs/connections/spec/identify/#traits); the skew formula is the spec's
(https://segment.com/docs/connections/spec/common/#timestamps).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from shopseg.collect._traits import customer_of
from shopseg.collect.segment_spec import COLLECT_KEY, TRACK_TYPES, event_type, map_messages
from shopseg.errors import BadRequestError

NOW = dt.datetime(2024, 6, 1, 12, 0)


def one(msg: dict[str, Any], identities: dict[str, str] | None = None) -> dict[str, Any]:
    [event] = map_messages([msg], received_at=NOW, identities={} if identities is None else identities)
    return event


def test_every_ecommerce_v2_and_email_event_has_a_type() -> None:
    spec = [
        "Products Searched",
        "Product List Viewed",
        "Product List Filtered",
        "Product Clicked",
        "Product Viewed",
        "Product Added",
        "Product Removed",
        "Cart Viewed",
        "Checkout Started",
        "Checkout Step Viewed",
        "Checkout Step Completed",
        "Payment Info Entered",
        "Order Completed",
        "Order Updated",
        "Order Cancelled",
        "Order Refunded",
        "Product Added to Wishlist",
        "Product Removed from Wishlist",
        "Email Delivered",
        "Email Opened",
        "Email Link Clicked",
        "Email Bounced",
        "Email Marked as Spam",
        "Unsubscribed",
    ]  # the spec pages' event lists
    assert sorted(spec) == sorted(TRACK_TYPES)
    # the types the batch features count (features/engagement.py) are the ones the spec's events map to
    assert {
        TRACK_TYPES[n]
        for n in ("Product Viewed", "Product Added", "Checkout Started", "Email Opened", "Email Link Clicked")
    } == {"product_view", "add_to_cart", "checkout_started", "email_open", "email_click"}


def test_unknown_names_are_slugged_not_dropped() -> None:
    assert event_type("Video Played") == "video_played"
    assert event_type("  ") == "event" and event_type("42 things") == "e_42_things"
    assert len(event_type("x" * 200)) == 64


@pytest.mark.parametrize(
    ("timestamp", "sent_at", "expected"),
    [
        ("2024-06-01T13:00:00Z", "2024-06-01T13:00:10Z", "2024-06-01T11:59:50"),  # client 1 h fast
        ("2024-06-01T10:00:00+02:00", None, "2024-06-01T08:00:00"),  # no sentAt: the timestamp, in UTC
        (None, None, "2024-06-01T12:00:00"),  # neither: the arrival
    ],
)
def test_clock_skew_correction_is_the_specs(timestamp: str | None, sent_at: str | None, expected: str) -> None:
    msg = {"type": "page", "userId": "u", "messageId": "m", "timestamp": timestamp, "sentAt": sent_at}
    assert one(msg)["occurred_at"].isoformat() == expected


def test_a_batch_sent_at_applies_to_its_calls() -> None:
    msgs = [{"type": "page", "userId": "u", "messageId": "m", "timestamp": "2024-06-01T12:30:00Z"}]
    [e] = map_messages(msgs, received_at=NOW, identities={}, sent_at="2024-06-01T12:30:05Z")
    assert e["occurred_at"].isoformat() == "2024-06-01T11:59:55"


def test_times_repeated_across_a_batch_are_corrected_call_by_call() -> None:
    """One batch parses each time text once; a text seen as a timestamp and as a sentAt, or a call's own
    sentAt beside the batch's, still gives each call the spec's ``receivedAt - (sentAt - timestamp)``."""
    t1, t2 = "2024-06-01T12:30:00Z", "2024-06-01T12:30:05Z"
    msgs = [
        {"type": "page", "userId": "u", "messageId": "a", "timestamp": t1},  # the batch's sentAt (t2)
        {"type": "page", "userId": "u", "messageId": "b", "timestamp": t1, "sentAt": t1},  # its own: no skew
        {"type": "page", "userId": "u", "messageId": "c", "timestamp": t2},  # t2 again, now as a timestamp
        {"type": "page", "userId": "u", "messageId": "d", "timestamp": t1},
    ]
    events = map_messages(msgs, received_at=NOW, identities={}, sent_at=t2)
    assert [e["occurred_at"].isoformat() for e in events] == [
        "2024-06-01T11:59:55",
        "2024-06-01T12:00:00",
        "2024-06-01T12:00:00",
        "2024-06-01T11:59:55",
    ]


def test_a_future_time_is_refused_in_every_call_of_a_batch() -> None:
    """The latest accepted time is computed once per batch; each call past it is still reported."""
    late = (NOW + dt.timedelta(days=2)).isoformat() + "Z"
    msgs = [
        {"type": "page", "userId": "u", "messageId": "a", "timestamp": late},
        {"type": "page", "userId": "u", "messageId": "b", "timestamp": "2024-06-01T11:00:00Z"},
        {"type": "page", "userId": "u", "messageId": "c", "timestamp": late},
    ]
    with pytest.raises(BadRequestError, match=r"/batch/0/timestamp.*/batch/2/timestamp"):
        map_messages(msgs, received_at=NOW, identities={})


def test_order_completed_is_keyed_by_order_id_with_lines_and_discount() -> None:
    props = {
        "order_id": "o9",
        "revenue": 25.0,
        "discount": 1.0,
        "coupon": "X",
        "currency": "USD",
        "products": [{"sku": "s1", "price": 10, "quantity": 2}, {"product_id": "p2", "price": 5}],
    }
    e = one({"type": "track", "event": "Order Completed", "userId": "u", "messageId": "m1", "properties": props})
    assert (e["event_id"], e["type"], e["properties"]["value"]) == ("order:o9", "purchase", 25.0)
    order = e["properties"][COLLECT_KEY]["order"]
    assert order["lines"] == [
        {"product_id": "s1", "quantity": 2, "unit_price": 10.0, "discount": 0.8},
        {"product_id": "p2", "quantity": 1, "unit_price": 5.0, "discount": 0.2},
    ]
    assert (order["currency"], order["coupon"]) == ("USD", "X")


def test_an_order_without_products_is_one_line_of_its_value() -> None:
    e = one(
        {
            "type": "track",
            "event": "Order Completed",
            "userId": "u",
            "messageId": "m",
            "properties": {"order_id": "o1", "total": 40.0},
        }
    )
    assert e["properties"][COLLECT_KEY]["order"]["lines"] == [
        {"product_id": "order_total", "quantity": 1, "unit_price": 40.0, "discount": 0.0}
    ]


def test_invalid_calls_are_all_reported_and_nothing_is_mapped() -> None:
    identities: dict[str, str] = {}
    msgs = [
        {"type": "identify", "userId": "u1", "anonymousId": "a1"},  # valid, links a1
        {"type": "track", "userId": "u"},  # no event
        {"type": "track", "event": "Order Refunded", "userId": "u"},  # no order_id
        {"type": "page"},  # nobody
        {"type": "nope", "userId": "u"},
        {"type": "page", "userId": "u", "timestamp": "yesterday"},
    ]
    with pytest.raises(BadRequestError) as info:
        map_messages(msgs, received_at=NOW, identities=identities)
    text = str(info.value)
    for part in (
        "/batch/1/event",
        "/batch/2/properties/order_id",
        "/batch/3: expected a userId",
        "/batch/4/type",
        "/batch/5/timestamp",
    ):
        assert part in text
    assert identities == {}  # a refused request links nothing


def test_links_resolve_later_anonymous_calls() -> None:
    identities: dict[str, str] = {}
    ident = one({"type": "identify", "userId": "u1", "anonymousId": "a1", "messageId": "i"}, identities)
    assert ident["properties"][COLLECT_KEY]["link"] == "a1" and identities == {"a1": "u1"}
    later = one({"type": "page", "anonymousId": "a1", "messageId": "p"}, identities)
    assert (later["customer_id"], later["anonymous_id"]) == ("u1", "a1")
    again = one({"type": "page", "userId": "u1", "anonymousId": "a1", "messageId": "q"}, identities)
    assert again["properties"] is None  # already linked: no work
    alias = one({"type": "alias", "userId": "u2", "previousId": "a9", "messageId": "al"}, identities)
    assert alias["anonymous_id"] == "a9" and identities["a9"] == "u2"


def test_traits_map_to_columns_and_attributes() -> None:
    row = customer_of(
        "u",
        {
            "age": 30,
            "gender": "F",
            "createdAt": "2023-01-02T03:04:05Z",
            "vip": True,
            "tags": ["x"],
            "name": "Ada L",
            "state": "CA",
        },
        NOW,
    )
    assert row == {
        "customer_id": "u",
        "birth_year": 1994,
        "gender": "f",
        "region": "CA",
        "signup_at": "2023-01-02T03:04:05",  # text: the work rides in the JSON journal
        "attributes": {"name": "Ada L", "vip": True},
    }
    rudder = one({"type": "identify", "userId": "u", "messageId": "i", "context": {"traits": {"email": "a@b.example"}}})
    assert rudder["properties"][COLLECT_KEY]["customer"]["email"] == "a@b.example"
