"""Value checks in rules (issue 16): `country IN ('DE','AT')` saved at 0 members with no warning because the store
writes countries as 'Germany'. Warned at check, create and preview (CLI, API, dashboard), never refused."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from shopseg.api import create_app
from shopseg.cli import _common
from shopseg.cli.main import app
from shopseg.engine import get_engine
from shopseg.errors import NotFound
from shopseg.rules.values import field_values
from shopseg.segments.definitions import SegmentStore
from shopseg.segments.query import SegmentQuery
from shopseg.web import dashboard_routers
from shopseg.workspace import Workspace

runner = CliRunner()
DE = (
    "/or/0/values/0: no customer has country = 'DE'. Did you mean 'Germany'? The rule is kept as written "
    "(`shopseg segment values country` lists the values)."
)


@pytest.fixture(autouse=True)
def wide_console(monkeypatch):
    monkeypatch.setattr(_common.console, "width", 250)


def _store(ws: Workspace) -> SegmentStore:
    ws.con.execute(
        "UPDATE customer_features SET country = 'Germany' WHERE country IS NOT NULL AND customer_id < 'c000300'"
    )
    return SegmentStore(ws)


def test_unknown_values_warn_with_the_closest_existing_ones(action_ws):
    store = _store(action_ws)
    seg = store.check("country IN ('DE', 'Germany') OR city = 'berlin' OR gender = 'femal' OR region = 'Nowhere'")
    warnings = store.value_warnings(seg)
    assert warnings[0] == DE
    known_cities = {r[0] for r in action_ws.con.execute("SELECT DISTINCT city FROM customer_features").fetchall()}
    assert ("Berlin" in known_cities) == any("city = 'berlin'. Did you mean 'Berlin'?" in w for w in warnings)
    assert any("gender = 'femal'. Did you mean 'female' or 'male'?" in w for w in warnings)
    assert any(w.startswith("/or/3/value: no customer has region = 'Nowhere'.") for w in warnings)
    assert not any("'Germany'." in w.split("Did you mean")[0] for w in warnings)  # an existing value is never flagged
    q = SegmentQuery(store, get_engine(action_ws, "duckdb"))
    info = q.preview(q.rule("country IN ('DE')"), sample=0)
    assert info["size"] == 0 and DE.replace("/or/0/values/0", "/values/0") in info["warnings"]


def test_field_values_lists_counts_most_common_first(action_ws):
    store = _store(action_ws)
    df = field_values(action_ws, "country", store.fields)
    truth = action_ws.con.execute(
        "SELECT country, count(*) FROM customer_features GROUP BY 1 ORDER BY 2 DESC, 1 NULLS LAST"
    ).fetchall()
    assert [tuple(r) for r in df.itertuples(index=False)] == [(a, b) for a, b in truth]
    with pytest.raises(NotFound, match="unknown field 'contry'. Did you mean 'country'"):
        field_values(action_ws, "contry", store.fields)


def test_cli_check_create_and_values(action_ws):
    _store(action_ws)
    path = action_ws.path
    action_ws.close()
    res = runner.invoke(app, ["-w", str(path), "segment", "check", "country IN ('DE')"])
    assert res.exit_code == 0 and "no customer has country = 'DE'. Did you mean 'Germany'?" in res.output, res.output
    res = runner.invoke(app, ["-w", str(path), "segment", "create", "dach", "country IN ('DE', 'AT')"])
    assert res.exit_code == 0, res.output
    assert "estimated size: 0 of" in res.output and "Did you mean 'Germany'?" in res.output
    res = runner.invoke(app, ["-w", str(path), "segment", "values", "country", "-n", "20"])
    assert res.exit_code == 0 and "Germany" in res.output and res.output.startswith("country: "), res.output


def test_api_and_dashboard_warn_on_save_and_preview(action_ws_path):
    with Workspace.open(action_ws_path) as ws:
        _store(ws)
    app_ = create_app(action_ws_path, live=False, routers=dashboard_routers())
    key = {"X-API-Key": app_.state.shopseg.keys.create("m", "marketer").key}
    try:
        with TestClient(app_) as c:
            r = c.post("/api/v1/segments", headers=key, json={"name": "dach", "definition": "country IN ('DE')"})
            assert r.status_code == 201 and r.json()["warnings"] == [DE.replace("/or/0/values/0", "/values/0")]
            r = c.post("/api/v1/segments/preview", headers=key, json={"definition": "country = 'DE'"})
            assert any("Did you mean 'Germany'?" in w for w in r.json()["warnings"])
            r = c.post("/api/v1/segments/preview", headers=key, json={"rule": "country = 'DE'"})
            assert r.status_code == 200, r.text
            assert any("Did you mean 'Germany'?" in w for w in r.json()["warnings"])
    finally:
        app_.state.shopseg.close()


def test_an_existing_name_gets_the_hint_of_the_surface_used(action_ws_path):
    """Issue 20: saving under an existing name in the dashboard said "pass --replace" (a CLI flag)."""
    app_ = create_app(action_ws_path, live=False, routers=dashboard_routers())
    key = {"X-API-Key": app_.state.shopseg.keys.create("m", "marketer").key}
    try:
        with TestClient(app_) as c:
            assert (
                c.post("/api/v1/segments", headers=key, json={"name": "dup", "definition": "orders >= 2"}).status_code
                == 201
            )
            r = c.post("/api/v1/segments", headers=key, json={"name": "dup", "definition": "orders >= 3"})
            assert r.status_code == 422 and r.json()["error"].endswith(
                "segment 'dup' already exists (version 1). Hint: PUT /api/v1/segments/dup saves a new version."
            )
        # the dashboard saves through the same route, with its login cookie instead of a key header
        with TestClient(app_, headers={"Origin": "http://testserver"}) as browser:
            assert browser.post("/api/v1/dashboard/session", json={"api_key": key["X-API-Key"]}).status_code == 200
            r = browser.post("/api/v1/segments", json={"name": "dup", "rule": "orders >= 3"})
            assert r.status_code == 422 and "Hint: tick 'new version' to save a new version." in r.json()["error"]
            assert "--replace" not in r.json()["error"]
    finally:
        app_.state.shopseg.close()
    res = runner.invoke(app, ["-w", str(action_ws_path), "segment", "create", "dup", "orders >= 3"])
    assert res.exit_code == 2 and "Hint: pass --replace to save a new version." in res.output
