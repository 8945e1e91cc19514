"""Query values the routes cannot use answer 422 naming the parameter and why, never 500.

Found by a probe of a running server: a page number past 64 bits reached DuckDB (ConversionException, 500), and
the event feed's ``before`` went to SQL as text (``notadate``, ``2026-13-45``: 500)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from shopseg.api import create_app
from shopseg.api.routers.segments import PAGE_MAX
from shopseg.web import dashboard_routers
from tests.api.test_errors import assert_error_shape
from tests.web.conftest import DemoStore


@pytest.fixture(scope="module")
def client(demo_store: DemoStore) -> Iterator[TestClient]:
    app = create_app(demo_store.copy, live=False, routers=dashboard_routers())
    try:
        with TestClient(app, raise_server_exceptions=False, headers={"X-API-Key": demo_store.keys["viewer"]}) as c:
            yield c
    finally:
        app.state.shopseg.close()


def _one_error(response, path: str) -> str:  # type: ignore[no-untyped-def]
    body = assert_error_shape(response, 422)
    assert [e["path"] for e in body["errors"]] == [path], body
    return str(body["error"])


@pytest.mark.parametrize(
    ("page", "why"),
    [
        ("99999999999999999999", f"/query/page: Input should be less than or equal to {PAGE_MAX}"),
        (str(PAGE_MAX + 1), f"/query/page: Input should be less than or equal to {PAGE_MAX}"),
        ("two", "/query/page: Input should be a valid integer, unable to parse string as an integer"),
    ],
)
def test_a_member_page_out_of_range_is_a_422_naming_page(client: TestClient, page: str, why: str) -> None:
    res = client.get(f"/api/v1/segments/loyal/customers?page={page}&size=2")
    assert _one_error(res, "/query/page") == why


def test_the_last_page_allowed_and_small_pages_still_answer(client: TestClient) -> None:
    far = client.get(f"/api/v1/segments/loyal/customers?page={PAGE_MAX}&size=200")  # offset fits 64 bits
    assert far.status_code == 200 and far.json()["rows"] == [], far.text
    first = client.get("/api/v1/segments/loyal/customers?page=-99999999999999999999&size=99999999999999999999")
    assert first.status_code == 200 and first.json()["page"] == 1 and first.json()["size"] == 200  # clamped


@pytest.mark.parametrize(
    ("before", "why"),
    [
        ("notadate", "/query/before: Input should be a valid datetime or date, input is too short"),
        (
            "2026-13-45",
            "/query/before: Input should be a valid datetime or date, month value is outside expected range of 1-12",
        ),
        ("9999-12-31T23:59:59-05:00", "/query/before: Value error, the time in UTC is past the year 9999"),
    ],
)
def test_an_unreadable_before_is_a_422_naming_before(client: TestClient, before: str, why: str) -> None:
    res = client.get("/api/v1/dashboard/events", params={"before": before})
    assert _one_error(res, "/query/before") == why


def test_the_event_feed_pages_backwards_with_before(client: TestClient, demo_store: DemoStore) -> None:
    first = client.get("/api/v1/dashboard/events?limit=5")
    assert first.status_code == 200, first.text
    assert client.get("/api/v1/dashboard/events?limit=5&before=").json() == first.json()  # empty: the newest
    older = client.get("/api/v1/dashboard/events", params={"limit": 5, "before": first.json()["next_before"]}).json()
    assert older["rows"] and older["rows"][0]["occurred_at"] < first.json()["next_before"]
    # an offset is converted to UTC, the events' time zone: 02:00+02:00 is midnight UTC
    day = first.json()["rows"][0]["occurred_at"][:10]
    utc = client.get("/api/v1/dashboard/events", params={"before": f"{day}T00:00:00"}).json()
    shifted = client.get("/api/v1/dashboard/events", params={"before": f"{day}T02:00:00+02:00"}).json()
    assert utc == shifted and all(r["occurred_at"] < day for r in utc["rows"])
