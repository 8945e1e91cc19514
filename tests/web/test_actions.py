"""The dashboard's builder catalogue and actions in-process (issue 20 items 3 and 4).

Each expectation comes from the field registry or from SQL on the same workspace,
not from the code under test. The app runs with its lifespan (``with TestClient``)
because the dashboard's lifespan is what lets ``/api/v1`` accept the session cookie.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from shopseg.api import create_app
from shopseg.rules.fields import FIELDS
from shopseg.web import dashboard_routers
from shopseg.web.catalogue import field_groups, promotions_clusters, promotions_rfm
from tests.web.conftest import DemoStore

ORIGIN = {"Origin": "http://testserver"}  # what a page of this server sends with a POST or DELETE


@pytest.fixture(scope="module")
def client(demo_store: DemoStore, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The API with the dashboard over a private copy of the demo store (these tests save and delete)."""
    path = Path(tmp_path_factory.mktemp("actions")) / "store.duckdb"
    assert demo_store.copy is not None
    shutil.copyfile(demo_store.copy, path)
    app = create_app(path, live=False, routers=dashboard_routers())
    with TestClient(app) as c:
        c.keys = demo_store.keys  # type: ignore[attr-defined]
        yield c


def _as(client: TestClient, role: str) -> dict[str, str]:
    return {"X-API-Key": client.keys[role]}  # type: ignore[attr-defined]


def _sql(client: TestClient, query: str, params: list | None = None) -> list[tuple]:
    state = client.app.state.shopseg  # type: ignore[attr-defined]
    with state.lock:
        return state.workspace.con.execute(query, params or []).fetchall()


def test_field_list_holds_every_registry_field_once_including_predictions_and_interests():
    registry = FIELDS.with_interests(["customer_id", "affinity_shoes", "price_premium", "bargain_hunter", "interests"])
    groups = field_groups(registry)
    listed = [f["name"] for g in groups for f in g["fields"]]
    assert sorted(listed) == sorted(registry.names())  # every field the language accepts, once
    where = {f["name"]: f["group"] for g in groups for f in g["fields"]}
    assert where["p_alive"] == where["next_order_date"] == where["churn_risk"] == "Predictions"
    assert {where[n] for n in ("affinity_shoes", "price_premium", "bargain_hunter", "interests")} == {"Interests"}
    p_alive = next(f for g in groups for f in g["fields"] if f["name"] == "p_alive")
    assert p_alive["type"] == "number" and "still active" in p_alive["help"]


def test_builder_page_lists_the_workspace_fields_with_value_pickers(client):
    html = client.get("/segments/new", headers=_as(client, "marketer")).text
    for name in ("p_alive", "next_order_date", "cluster_name", "rfm_segment", "country"):
        assert f'data-insert="{name}"' in html, name
    assert 'data-field="country"' in html and 'data-field="orders"' not in html  # pickers only for text fields


def test_value_picker_lists_the_stored_values_most_common_first(client):
    body = client.get("/api/v1/dashboard/fields/country/values", headers=_as(client, "viewer")).json()
    truth = _sql(client, "SELECT country, count(*) FROM customer_features GROUP BY 1 ORDER BY 2 DESC, 1 NULLS LAST")
    assert [(v["value"], v["customers"]) for v in body["values"]] == [t for t in truth if t[0] is not None]
    r = client.get("/api/v1/dashboard/fields/countyr/values", headers=_as(client, "viewer"))
    assert r.status_code == 404 and "Did you mean 'country'" in r.json()["error"]


def test_members_sort_and_search_match_sql(client):
    url = "/api/v1/segments/loyal/customers?size=200&sort=revenue&desc=true"
    rows = client.get(url, headers=_as(client, "viewer")).json()["rows"]
    truth = _sql(
        client, "SELECT customer_id FROM customer_features WHERE orders >= 4 ORDER BY revenue DESC, customer_id"
    )
    assert [r["customer_id"] for r in rows] == [t[0] for t in truth][:200]
    body = client.get("/api/v1/segments/loyal/customers?q=germ&size=200", headers=_as(client, "viewer")).json()
    german = _sql(
        client, "SELECT customer_id FROM customer_features WHERE orders >= 4 AND country = 'Germany' ORDER BY 1"
    )
    assert [r["customer_id"] for r in body["rows"]] == [t[0] for t in german] and body["total"] == len(german) > 0
    bad = client.get("/api/v1/segments/loyal/customers?sort=email", headers=_as(client, "viewer"))
    assert bad.status_code == 422 and "cannot sort by 'email'" in bad.json()["error"]


def test_hints_name_the_controls_of_the_surface_that_asked(client):
    """Saved from the dashboard (its cookie), the hints name its controls; from a script, the API's fields."""
    rule = {"name": "never_t", "rule": "orders > 5 AND orders < 2"}
    m = _as(client, "marketer")
    api = client.post("/api/v1/segments", headers=m, json=rule)
    assert api.status_code == 422 and 'send "force": true' in api.json()["error"]
    login = client.post("/api/v1/dashboard/session", headers=ORIGIN, json={"api_key": client.keys["marketer"]})  # type: ignore[attr-defined]
    assert login.status_code == 200
    try:
        never = client.post("/api/v1/segments", headers=ORIGIN, json=rule)
        assert never.status_code == 422
        error = never.json()["error"]
        assert "tick 'save anyway'" in error and "--force" not in error and "force" not in error.replace("anyway", "")
        assert never.json()["errors"][-1] == {
            "code": "hint",
            "message": "Hint: fix the rule, or tick 'save anyway' to save it anyway.",
        }
        assert client.post("/api/v1/segments", headers=ORIGIN, json={**rule, "force": True}).status_code == 201
        again = client.post("/api/v1/segments", headers=ORIGIN, json={"name": "never_t", "rule": "orders > 1"})
        assert "tick 'new version'" in again.json()["error"] and "--replace" not in again.json()["error"]
        assert client.delete("/api/v1/segments/never_t", headers=ORIGIN).status_code == 200
    finally:
        client.post("/logout", headers=ORIGIN)
    assert client.get("/api/v1/segments").status_code == 401  # logged out: no cookie session, no key


def test_export_below_the_minimum_is_an_error_message_not_a_file(client):
    m = _as(client, "marketer")
    assert (
        client.post("/api/v1/segments", headers=m, json={"name": "tiny_t", "rule": "orders >= 30"}).status_code == 201
    )
    consented = _sql(
        client,
        "SELECT count(*) FROM customer_features f JOIN customers c USING (customer_id) WHERE f.orders >= 30 AND c.email_marketing",
    )[0][0]
    assert consented < 100  # below the default export_min_segment_size
    r = client.get("/api/v1/segments/tiny_t/export.csv", headers=m)
    assert r.status_code >= 400 and r.headers["content-type"].startswith("application/json")
    assert f"has {consented:,} consented members; expected at least 100" in r.json()["error"]


def test_customer_page_shows_the_customer_and_a_friendly_message_for_an_unknown_id(client):
    v = _as(client, "viewer")
    cid = _sql(client, "SELECT customer_id FROM customer_features WHERE orders >= 4 ORDER BY revenue DESC LIMIT 1")[0][
        0
    ]
    html = client.get(f"/customers/{cid}", headers=v).text
    orders = _sql(client, "SELECT count(*) FROM orders WHERE customer_id = ?", [cid])[0][0]
    rows = (
        html.count("</tr>", html.index('id="customer-orders"'), html.index("Events timeline")) - 1
    )  # minus the header
    assert rows == min(orders, 100) > 0
    p_alive = _sql(client, "SELECT p_alive FROM customer_predictions WHERE customer_id = ?", [cid])[0][0]
    assert f"{p_alive:,.3f}" in html
    assert 'data-segment="loyal"' in html
    missing = client.get("/customers/nobody_here", headers=v)
    assert missing.status_code == 404
    assert "No customer with id &#39;nobody_here&#39;" in missing.text and "customer_features" not in missing.text


def test_experiment_is_created_started_and_analysed(client):
    m = _as(client, "marketer")
    made = client.post("/api/v1/dashboard/experiments", headers=m, json={"name": "ui_test", "segment": "lapsing"})
    assert made.status_code == 201
    assert client.get("/experiments", headers=m).status_code == 200  # created, not started: listed, no results yet
    early = client.get("/api/v1/dashboard/experiments/ui_test/analysis", headers=m)
    assert early.status_code == 404 and "press Start" in early.json()["error"]
    started = client.post("/api/v1/dashboard/experiments/ui_test/start", headers=m).json()
    members = _sql(client, "SELECT count(*) FROM customer_features WHERE days_since_last_order > 180 AND orders >= 2")[
        0
    ][0]
    assert started["assigned"] == members == sum(started["groups"].values())
    report = client.get("/api/v1/dashboard/experiments/ui_test/analysis", headers=m).json()
    assert sorted(r["variant"] for r in report["rows"]) == ["control", "treatment"]
    assert sum(r["customers"] for r in report["rows"]) == members
    dup = client.post("/api/v1/dashboard/experiments", headers=m, json={"name": "ui_test", "segment": "lapsing"})
    assert dup.status_code == 409 and "already exists" in dup.json()["error"]


def test_promote_rules_select_the_rfm_segment_and_the_cluster(client):
    label, rule, name, _ = promotions_rfm(["Champions"])[0]
    assert (label, rule, name) == ("Champions", "rfm_segment = 'Champions'", "rfm_champions")
    body = client.post("/api/v1/segments/preview", headers=_as(client, "viewer"), json={"rule": rule, "sample": 0})
    assert (
        body.json()["size"] == _sql(client, "SELECT count(*) FROM customer_rfm WHERE rfm_segment = 'Champions'")[0][0]
    )
    import pandas as pd

    cl = promotions_clusters(pd.DataFrame({"cluster": [2], "cluster_name": ["Big baskets"]}))
    assert cl == [
        (
            "2: Big baskets",
            "cluster = 2",
            "cluster_2_big_baskets",
            "Cluster 2: Big baskets (promoted from the clusters page).",
        )
    ]
