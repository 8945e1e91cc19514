"""A segment saved in the dashboard goes live at once (issue 17: the dashboard's save route did not reload
the live rules, so events produced no entries until some other save happened)."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient

from shopseg.api import create_app
from shopseg.features import build_features
from shopseg.live.clock import ManualClock
from shopseg.web import dashboard_routers
from shopseg.workspace import Workspace
from tests.api.helpers import event
from tests.segments.segment_store import write_store


def test_dashboard_save_is_live_at_once(tmp_path):
    path = tmp_path / "ws.duckdb"
    with Workspace.init(path) as ws:
        write_store(ws, {"a": ["2024-01-05", "2024-05-20"], "b": ["2024-05-30"]})
        build_features(ws, "duckdb", as_of=dt.date(2024, 6, 1))
    clock = ManualClock(dt.datetime(2024, 6, 1, 9, 0))
    seen: list[tuple[str, str, str]] = []
    app = create_app(
        path,
        clock=clock,
        routers=dashboard_routers(),
        callbacks=[lambda n: seen.append((n.kind, n.segment, n.customer_id))],
    )
    key = {"X-API-Key": app.state.shopseg.keys.create("m", "marketer").key}
    try:
        with TestClient(app) as c:
            r = c.post(
                "/api/v1/segments",
                headers=key,
                json={"name": "carts", "rule": "events(type='add_to_cart', within=-7d).count >= 1"},
            )
            assert r.status_code == 201, r.text
            r = c.post("/api/v1/events", headers=key, json=event("e1", "a", "add_to_cart", clock.now()))
            assert r.status_code == 200, r.text
            assert c.get("/api/v1/segments/carts", headers=key).json()["live_members"] == 1
    finally:
        app.state.shopseg.close()
    assert ("entry", "carts", "a") in seen
