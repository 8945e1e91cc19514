"""Segment CRUD and preview through SegmentStore, live members, customer look-ups and erasure over HTTP."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient

from shopseg.api import create_app
from shopseg.engine import get_engine
from shopseg.features import build_features
from shopseg.workspace import Workspace
from tests.api.conftest import auth
from tests.api.helpers import event
from tests.segments.segment_store import write_store


def test_segment_crud_goes_live(client: TestClient, keys, clock) -> None:  # type: ignore[no-untyped-def]
    m, v = auth(keys["marketer"]), auth(keys["viewer"])
    r = client.post(
        "/api/v1/segments",
        headers=m,
        json={
            "name": "carts",
            "definition": {"events": {"type": "add_to_cart"}, "agg": "count", "op": ">=", "value": 1},
            "description": "JSON form",
        },
    )
    assert r.status_code == 201, r.text
    assert r.json()["definition"] == "events(type='add_to_cart').count >= 1" and r.json()["live_members"] == 0
    assert (
        client.post("/api/v1/segments", headers=m, json={"name": "carts", "definition": "orders > 1"}).status_code
        == 422
    )
    client.post(
        "/api/v1/events",
        headers=m,
        json={"events": [event(f"e{i}", f"c{i}", "add_to_cart", clock.now()) for i in range(3)]},
    )
    assert client.get("/api/v1/segments/carts", headers=v).json()["live_members"] == 3
    members = client.get("/api/v1/segments/carts/members?limit=2", headers=m).json()
    assert members == {"segment": "carts", "size": 3, "customer_ids": ["c0", "c1"]}
    put = client.put("/api/v1/segments/carts", headers=m, json={"definition": "events(type='add_to_cart').count >= 2"})
    assert put.json()["version"] == 2 and put.json()["live_members"] == 0  # recomputed for the new rule
    assert client.get("/api/v1/segments/carts?version=1", headers=v).json()["version"] == 1
    assert client.get("/api/v1/customers/c1/segments", headers=v).json() == []
    assert client.delete("/api/v1/segments/carts", headers=m).json()["version"] == 2
    assert client.get("/api/v1/segments", headers=v).json() == []


def test_customer_profile_memberships_and_erasure(client: TestClient, keys, clock) -> None:  # type: ignore[no-untyped-def]
    m, v, a = auth(keys["marketer"]), auth(keys["viewer"]), auth(keys["admin"])
    client.post(
        "/api/v1/segments", headers=m, json={"name": "viewers", "definition": "events(type='product_view').count >= 2"}
    )
    docs = [event("e1", "c1", "product_view", clock.now()), event("e2", "c1", "product_view", clock.advance(minutes=1))]
    client.post("/api/v1/events", headers=m, json={"events": docs})
    out = client.get("/api/v1/customers/c1", headers=v).json()
    assert out["live"]["events_by_type"] == {"product_view": 2}
    assert [s["segment"] for s in out["segments"]] == ["viewers"]
    assert out["segments"][0]["since"] == clock.now().isoformat()
    erased = client.delete("/api/v1/customers/c1", headers=a).json()
    assert erased["rows_deleted"]["events"] == 2
    assert client.get("/api/v1/customers/c1", headers=v).status_code == 404
    # the API erases through shopseg.privacy, like `shopseg forget`: audited under a salted hash, never the id
    con = client.app.state.shopseg.workspace.con
    audit = con.execute("SELECT * FROM privacy_audit").fetchall()
    assert [a for a in audit if "forget" in a]
    assert all(cell != "c1" and '"c1"' not in str(cell) for row in audit for cell in row)  # (a hex hash may hold "c1")
    for table, column in con.execute(
        "SELECT table_name, column_name FROM duckdb_columns() WHERE NOT internal AND table_name <> 'privacy_audit'"
    ).fetchall():
        hits = con.execute(f'SELECT count(*) FROM "{table}" WHERE CAST("{column}" AS VARCHAR) = ?', ["c1"]).fetchone()
        assert hits[0] == 0, (table, column)


def test_preview_runs_the_batch_path(ws_path, clock) -> None:  # type: ignore[no-untyped-def]
    with Workspace.open(ws_path) as ws:
        write_store(ws, {"a": ["2024-01-05", "2024-03-01", "2024-05-20"], "b": ["2024-05-30"]}, prospects=["z"])
        build_features(ws, "duckdb", as_of=dt.date(2024, 6, 1))
    app = create_app(ws_path, clock=clock)
    key = app.state.shopseg.keys.create("v", "viewer").key
    try:
        with TestClient(app) as c:
            r = c.post("/api/v1/segments/preview", headers=auth(key), json={"definition": "orders >= 2", "sample": 5})
            body = r.json()
            assert r.status_code == 200, r.text
            assert (body["size"], body["customers"]) == (1, 3) and body["sample"][0]["customer_id"] == "a"
            assert c.get("/api/v1/customers/z", headers=auth(key)).json()["profile"]["orders"] == 0
    finally:
        app.state.shopseg.close()


def test_a_refreshed_segment_with_no_member_shows_zero_and_its_day(ws_path, clock) -> None:  # type: ignore[no-untyped-def]
    """A snapshot that found nobody is a snapshot: 0 members on its day, not 'never refreshed'."""
    from shopseg.segments.definitions import SegmentStore

    with Workspace.open(ws_path) as ws:
        write_store(ws, {"a": ["2024-01-05", "2024-03-01"], "b": ["2024-05-30"]})
        build_features(ws, "duckdb", as_of=dt.date(2024, 6, 1))
        store = SegmentStore(ws)
        store.create("nobody", "orders >= 50")
        store.create("repeaters", "orders >= 2")
        store.refresh(get_engine(ws, "duckdb"), as_of=dt.date(2024, 6, 1))
    app = create_app(ws_path, clock=clock)
    key = app.state.shopseg.keys.create("v", "viewer").key
    try:
        with TestClient(app) as c:
            listed = {s["name"]: s for s in c.get("/api/v1/segments", headers=auth(key)).json()}
            assert (listed["nobody"]["batch_members"], listed["nobody"]["batch_as_of"]) == (0, "2024-06-01")
            assert listed["repeaters"]["batch_members"] == 1
            one = c.get("/api/v1/segments/nobody", headers=auth(key)).json()
            assert one["batch_members"] == 0
    finally:
        app.state.shopseg.close()
