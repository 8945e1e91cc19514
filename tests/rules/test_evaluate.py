"""The pure-Python evaluator: dates, windows, months, NULLs, events, distance, segment references, explain."""

from __future__ import annotations

import datetime as dt

import pytest

from shopseg.errors import SegmentError
from shopseg.rules.evaluate import evaluate_segment, explain_segment
from shopseg.rules.nodes import RelDate
from shopseg.rules.parse import parse_segment
from shopseg.rules.semantics import haversine_km, resolve_offset

AS_OF = dt.date(2024, 6, 30)


def _in(text, profile, events=(), **kw):
    return evaluate_segment(parse_segment(text), profile, events, as_of=AS_OF, **kw)


@pytest.mark.parametrize(
    ("offset", "expected"),
    [
        (RelDate(-90, "d"), dt.date(2024, 4, 1)),
        (RelDate(-4, "w"), dt.date(2024, 6, 2)),
        (RelDate(-6, "m"), dt.date(2023, 12, 30)),
        (RelDate(-4, "m"), dt.date(2024, 2, 29)),  # June 30 -> Feb 29: clamped to the month's end
        (RelDate(-18, "m"), dt.date(2022, 12, 30)),
        (RelDate(7, "d"), dt.date(2024, 7, 7)),
    ],
)
def test_offsets_are_calendar_days_weeks_and_months(offset, expected):
    assert resolve_offset(offset, AS_OF) == expected


def test_timestamps_compare_as_dates():
    assert _in("last_order < -90d", {"last_order_at": dt.datetime(2024, 3, 31, 23, 59)})
    assert not _in("last_order < -90d", {"last_order_at": dt.datetime(2024, 4, 1, 0, 0)})
    assert _in("last_order = '2024-04-01'", {"last_order_at": "2024-04-01 18:00"})
    assert _in("last_order BETWEEN -3m AND -1m", {"last_order_at": "2024-04-15"})


def test_missing_values_make_conditions_false_and_not_is_the_complement():
    assert not _in("age > 30", {"age": None})
    assert not _in("age <= 30", {"age": float("nan")})
    assert _in("NOT age > 30", {})
    assert not _in("age != 30", {})
    assert _in("age IS NULL", {"age": None}) and _in("age IS NOT NULL", {"age": 3})
    assert _in("TRUE", {}) and not _in("FALSE", {})


def test_event_windows_filters_and_aggregates():
    events = [
        {
            "type": "product_view",
            "occurred_at": "2024-06-24 00:00",
            "properties": {"category": "shoes"},
        },  # day 7 back: in
        {"type": "product_view", "occurred_at": "2024-06-23 23:59", "properties": '{"category": "shoes"}'},  # out
        {"type": "purchase", "occurred_at": "2024-06-01", "properties": {"value": 30}},
        {"type": "purchase", "occurred_at": "2024-05-01", "properties": {"value": "12.5"}},
        {"type": "purchase", "occurred_at": "2024-07-01", "properties": {"value": 1000}},  # after as_of
    ]
    assert _in("events(type='product_view', category='shoes', within=-7d).count = 1", {}, events)
    assert _in("events(type='product_view', within=-8d).count = 2", {}, events)
    assert _in("events(type='purchase', within=-7d).count = 0", {}, events)
    assert _in("events(type='purchase').sum(value) = 42.5", {}, events)
    assert _in("events(type='purchase').avg(value) = 21.25", {}, events)
    assert _in("events(type='purchase', between '2024-05-01' and '2024-05-31').max(value) = 12.5", {}, events)
    assert _in("events(value=30)", {}, events)
    assert not _in("events(type='email_open').min(value) >= 0", {}, events)  # no value: missing, false
    assert _in("events(type='email_open').sum(value) = 0", {}, events)


def test_distance_uses_the_haversine_formula():
    assert haversine_km(52.52, 13.405, 48.1351, 11.582) == pytest.approx(504.4, abs=1.0)  # Berlin-Munich
    assert _in("distance(52.52, 13.405) < 600km", {"lat": 48.1351, "lon": 11.582})
    assert not _in("distance(52.52, 13.405) < 600km", {"lat": None, "lon": 11.582})


def test_segment_references_are_followed():
    saved = {"vip": parse_segment("orders >= 10")}
    assert _in("segment('vip') AND country = 'DE'", {"orders": 12, "country": "DE"}, segments=saved)
    with pytest.raises(SegmentError, match="unknown segment 'gold'"):
        _in("segment('gold')", {}, segments=saved)


def test_explain_shows_each_condition_value_and_outcome():
    seg = parse_segment(
        "last_order < -90d AND (orders >= 3 OR NOT email_marketing = true) AND events(type='x').count = 0"
    )
    steps = explain_segment(
        seg,
        {"last_order_at": "2024-01-01", "orders": 2, "email_marketing": True},
        [{"type": "x", "occurred_at": "2024-06-01"}],
        as_of=AS_OF,
    )
    rows = [(s.depth, s.condition, s.value, s.held) for s in steps]
    assert rows[1:] == [
        (1, "last_order < -90d", dt.date(2024, 1, 1), True),
        (1, "orders >= 3 OR NOT email_marketing = true", None, False),
        (2, "orders >= 3", 2, False),
        (2, "NOT email_marketing = true", None, False),
        (3, "email_marketing = true", True, True),
        (1, "events(type='x').count = 0", 1.0, False),
    ]
    assert rows[0][3] is False


def test_order_conditions_read_purchase_orders():
    orders = [
        {"ordered_at": "2024-06-20 10:00", "value": 40.0, "units": 2, "channel": "web"},
        {"ordered_at": "2024-03-01", "value": 15.5, "units": 1, "channel": "app"},
    ]
    assert _in("orders(within=-30d).count = 1 AND orders().sum(value) = 55.5", {}, orders=orders)
    assert _in("orders(channel='app').max(units) = 1 AND NOT orders(channel='store')", {}, orders=orders)
    assert _in("orders >= 0 AND orders(within=-7d).count = 0", {"orders": 2}, orders=orders)
    with pytest.raises(SegmentError, match="orders can be filtered by \\['channel'\\]; got 'type'"):
        _in("orders(type='x')", {})
    with pytest.raises(SegmentError, match="orders have no 'price'"):
        _in("orders().sum(price) > 1", {})
