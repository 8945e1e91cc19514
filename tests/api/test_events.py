"""POST /api/v1/events: single and batch, validation, idempotency by event_id, stored rows."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from tests.api.conftest import auth
from tests.api.helpers import event


def _rows(app) -> list[tuple]:  # type: ignore[no-untyped-def]
    state = app.state.shopseg
    state.live.flush()  # journaled events reach the events table within live_apply_ms; now, for the test
    with state.lock:
        return state.workspace.con.execute(
            "SELECT event_id, customer_id, anonymous_id, type, occurred_at, product_id, properties FROM events "
            "ORDER BY event_id"
        ).fetchall()


def test_one_event_is_stored_before_the_answer(app, client: TestClient, keys) -> None:  # type: ignore[no-untyped-def]
    doc = event("e1", "c1", "product_view", "2024-06-01T11:00:00+02:00", product_id="p9", properties={"price": 12.5})
    r = client.post("/api/v1/events", headers=auth(keys["marketer"]), json=doc)
    assert r.status_code == 200, r.text
    assert r.json() == {"ok": True, "accepted": 1, "duplicates": 0, "event_ids": ["e1"]}
    (row,) = _rows(app)
    assert row[:4] == ("e1", "c1", None, "product_view") and row[5] == "p9"
    assert row[4].isoformat() == "2024-06-01T09:00:00"  # converted to UTC, stored without a zone
    assert json.loads(row[6]) == {"price": 12.5}


def test_a_batch_is_idempotent_by_event_id(app, client: TestClient, keys) -> None:  # type: ignore[no-untyped-def]
    h = auth(keys["marketer"])
    batch = {"events": [event(f"e{i}", "c1", "page_view", "2024-06-01T09:00:00") for i in range(5)]}
    assert client.post("/api/v1/events", headers=h, json=batch).json()["accepted"] == 5
    again = {"events": batch["events"][2:] + [event("e9", "c2", "page_view", "2024-06-01T09:01:00")] * 2}
    out = client.post("/api/v1/events", headers=h, json=again).json()
    assert (out["accepted"], out["duplicates"]) == (1, 4)
    assert [r[0] for r in _rows(app)] == ["e0", "e1", "e2", "e3", "e4", "e9"]


def test_anonymous_events_are_stored_but_change_no_profile(app, client: TestClient, keys) -> None:  # type: ignore[no-untyped-def]
    doc = {"event_id": "a1", "anonymous_id": "cookie-1", "type": "page_view", "occurred_at": "2024-06-01T09:00:00"}
    assert client.post("/api/v1/events", headers=auth(keys["marketer"]), json=doc).status_code == 200
    assert _rows(app)[0][2] == "cookie-1"
    assert client.get("/api/v1/customers/cookie-1", headers=auth(keys["viewer"])).status_code == 404


def test_validation_collects_every_problem(client: TestClient, keys) -> None:  # type: ignore[no-untyped-def]
    bad = {
        "events": [
            {"event_id": "ok-1", "customer_id": "c1", "type": "Bad Type", "occurred_at": "yesterday"},
            {"event_id": "", "customer_id": "c1", "type": "page_view", "occurred_at": "2024-06-01", "colour": "red"},
        ]
    }
    body = client.post("/api/v1/events", headers=auth(keys["marketer"]), json=bad).json()
    paths = [e["path"] for e in body["errors"]]
    assert paths == [
        "/body/events/0/type",
        "/body/events/0/occurred_at",
        "/body/events/1/event_id",
        "/body/events/1/colour",
    ], paths


def test_health_and_settings(client: TestClient, keys) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/api/v1/health").json() == {
        "ok": True,
        "live": True,
        "events": 0,
        "segments": 0,
        "quarantined": 0,
    }
    names = {s["name"]: s for s in client.get("/api/v1/settings", headers=auth(keys["viewer"])).json()}
    assert names["api_max_batch"]["value"] == 1000 and names["workspace"]["value"] is None


def test_openapi_and_docs_are_served(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert {"/api/v1/events", "/api/v1/segments", "/api/v1/customers/{customer_id}", "/api/v1/stream"} <= set(
        spec["paths"]
    )
    assert "anyOf" in json.dumps(spec["paths"]["/api/v1/events"]["post"]["requestBody"])
    assert client.get("/docs").status_code == 200


def test_out_of_range_times_are_422_with_the_field_named(app, client: TestClient, keys) -> None:  # type: ignore[no-untyped-def]
    """Issue 14, defect 7: 9999-12-31T23:59:59-05:00 overflowed to a 500; year 2200 was stored."""
    import datetime as dt

    h = auth(keys["marketer"])
    soon = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)).isoformat()
    cases = {
        "9999-12-31T23:59:59-05:00": "out of range once converted to UTC",
        "2200-01-01T00:00:00Z": "now plus api_event_max_future_s = 86,400 s); got 2200-01-01T00:00:00Z",
        "1969-12-31T23:59:59Z": "expected a time from 1970-01-01 on",
        "0001-01-01T00:00:00+01:00": "out of range once converted to UTC",
    }
    for i, (when, message) in enumerate(cases.items()):
        r = client.post("/api/v1/events", headers=h, json=event(f"bad{i}", "c1", "page_view", when))
        assert r.status_code == 422, (when, r.text)
        body = r.json()
        assert body["errors"][0]["path"] == "/body/occurred_at" and message in body["error"], (when, body)
    batch = {"events": [event("ok1", "c1", "page_view", soon), event("bad9", "c1", "page_view", "2200-01-01T00:00:00")]}
    r = client.post("/api/v1/events", headers=h, json=batch)
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "/body/events/1/occurred_at"
    assert client.post("/api/v1/events", headers=h, json=event("ok2", "c1", "page_view", soon)).status_code == 200
    assert [r[0] for r in _rows(app)] == ["ok2"]  # a refused batch stores nothing, a clock 2 h ahead is fine


def test_preview_as_of_out_of_range_is_422(client: TestClient, keys) -> None:  # type: ignore[no-untyped-def]
    body = {"definition": "orders >= 1 AND last_order < -90d", "as_of": "0001-01-01"}
    r = client.post("/api/v1/segments/preview", headers=auth(keys["viewer"]), json=body)
    assert r.status_code == 422, r.text
    assert "/body/as_of" in r.text and "between 1900-01-01 and 2999-12-31. Got 0001-01-01" in r.json()["error"]
