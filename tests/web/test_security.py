"""Issue 14, defects 4 and 6 (in-process, TestClient against the app `shopseg serve` builds).

- the login's ``next`` never leaves the server (an open redirect otherwise), by GET, form POST and JSON;
- every response of the dashboard (and the API) carries the security headers; pages carry a CSP with no
  inline or eval'd script;
- a state-changing request authenticated by the session cookie must come from this server's origin;
  requests with an API key header are not affected.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from html import unescape
from urllib.parse import urlencode

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from shopseg.api import create_app
from shopseg.api.routers.segments import router as segments_router
from shopseg.web import dashboard_routers
from shopseg.web.security import PAGE_CSP, safe_next
from tests.web.conftest import DemoStore

BASE = "http://testserver"
EVIL = "https://evil.example"
# what the browser does with them: tab/newline dropped (WHATWG URL), "\\" read as "/"; all leave the site
ATTACKS = [
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r/evil.example",
    "\t//evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "//evil.example",
    "///evil.example",
    "https://evil.example",
    "https:evil.example",
    "https:/evil.example",
    "javascript:alert(1)",
    "evil.example",
    "/\x00/evil.example",
    "/\u2028/evil.example",
    "",
    " /x",
]
KEPT = ["/", "/segments/loyal", "/regions?value=revenue&x=%2F%2Fevil", "/segments/a%09b", "/rfm#top"]
FILL = {"name": "loyal", "customer_id": "c000001"}


@pytest.fixture(scope="module")
def app(demo_store: DemoStore, tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    path = tmp_path_factory.mktemp("security") / "ws.duckdb"
    shutil.copyfile(demo_store.copy, path)  # type: ignore[arg-type]
    app = create_app(path, live=False, routers=dashboard_routers())
    yield app
    app.state.shopseg.close()


def _logged_in(app: object, key: str) -> TestClient:
    client = TestClient(app, base_url=BASE, headers={"Origin": BASE})  # type: ignore[arg-type]
    r = client.post("/api/v1/dashboard/session", json={"api_key": key})
    assert r.status_code == 200, r.text
    return client


def _login_target(html: str) -> tuple[str, str]:
    """The login page's ``data-next`` and hidden ``next`` field (where a login will send the browser)."""
    data = re.search(r'data-next="([^"]*)"', html)
    field = re.search(r'<input type="hidden" name="next" value="([^"]*)"', html)
    assert data and field, html
    return unescape(data.group(1)), unescape(field.group(1))


# -- defect 4: the open redirect ------------------------------------------------------------------------------
@pytest.mark.parametrize("target", ATTACKS)
def test_safe_next_refuses_every_way_off_the_site(target: str) -> None:
    assert safe_next(target) == "/"


@pytest.mark.parametrize("target", KEPT)
def test_safe_next_keeps_paths_of_this_server(target: str) -> None:
    assert safe_next(target) == target


@pytest.mark.parametrize(
    "raw",
    [
        "%2F%09%2Fevil.example",
        "%2F%0A%2Fevil.example",
        "%2F%0D%2Fevil.example",
        "%2F%5Cevil.example",
        "/%5C/evil.example",
        "%2F%2Fevil.example",
        "https:%2F%2Fevil.example",
        "https%3A%2F%2Fevil.example",
        "%09%2F%2Fevil.example",
        "%2F%2F%2Fevil.example",
        "%2F%00%2Fevil.example",
    ],
)
def test_login_page_never_leads_off_the_site(app, raw: str) -> None:
    html = TestClient(app).get(f"/login?next={raw}").text  # type: ignore[arg-type]
    assert _login_target(html) == ("/", "/")


def test_login_page_keeps_a_path_of_this_server(app) -> None:
    html = TestClient(app).get("/login?next=%2Fsegments%2Floyal").text  # type: ignore[arg-type]
    assert _login_target(html) == ("/segments/loyal", "/segments/loyal")


@pytest.mark.parametrize("target", ATTACKS + KEPT)
def test_login_form_post_redirects_only_within_the_site(app, demo_store: DemoStore, target: str) -> None:
    client = TestClient(app, base_url=BASE, headers={"Origin": BASE})  # type: ignore[arg-type]
    body = urlencode({"api_key": demo_store.keys["viewer"], "next": target})
    r = client.post(
        "/login", content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == (target if target in KEPT else "/")
    assert r.headers["set-cookie"].startswith("shopseg_session=")


@pytest.mark.parametrize("target", ATTACKS + KEPT)
def test_login_json_answers_only_a_path_of_this_server(app, demo_store: DemoStore, target: str) -> None:
    client = TestClient(app, base_url=BASE, headers={"Origin": BASE})  # type: ignore[arg-type]
    r = client.post("/api/v1/dashboard/session", json={"api_key": demo_store.keys["viewer"], "next": target})
    assert r.json() == {"ok": True, "role": "viewer", "next": target if target in KEPT else "/"}


def test_login_form_with_a_bad_key_shows_the_form_again_with_the_error(app) -> None:
    client = TestClient(app, base_url=BASE, headers={"Origin": BASE})  # type: ignore[arg-type]
    r = client.post(
        "/login",
        content=urlencode({"api_key": "ss_nope_nope", "next": "//evil.example"}),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )
    assert r.status_code == 401 and "set-cookie" not in r.headers
    assert "the API key is unknown or revoked" in r.text and _login_target(r.text) == ("/", "/")
    flood = client.post(
        "/login",
        content="&".join(f"f{i}=x" for i in range(50)),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert flood.status_code == 401 and "no API key" in flood.text


# -- defect 6: headers ------------------------------------------------------------------------------------------
def _dashboard_requests() -> list[tuple[str, str]]:
    """Every route the dashboard serves or calls: its own routers and the public segment routes its pages use."""
    out = []
    for router in [segments_router, *dashboard_routers()]:  # the API's first: /logout ends the session
        for route in router.routes:
            assert isinstance(route, APIRoute)
            path = route.path.replace("{name}", "dashboard.js") if route.path.startswith("/static/") else route.path
            fill = FILL
            if router is segments_router:  # a name nobody saved: DELETE must not remove the shared store's segment
                path, fill = f"/api/v1{path}", {**FILL, "name": "not_saved"}
            for method in sorted(route.methods):
                out.append((method, path.format(**fill)))
    return out


def _check_headers(r, what: str, dashboard: bool = True) -> None:  # type: ignore[no-untyped-def]
    h = r.headers
    assert h.get("x-content-type-options") == "nosniff", what
    assert h.get("x-frame-options") == "DENY", what
    assert h.get("referrer-policy") == "same-origin", what
    assert "frame-ancestors 'none'" in h.get("content-security-policy", ""), what
    if dashboard and h.get("content-type", "").startswith("text/html"):
        assert h["content-security-policy"] == PAGE_CSP, what
        assert h.get("cache-control") == "no-store", what


def test_every_dashboard_route_answers_with_the_security_headers(app, demo_store: DemoStore) -> None:
    requests = _dashboard_requests()
    assert len(requests) >= 20 and ("GET", "/segments/loyal") in requests and ("POST", "/logout") in requests
    statuses = set()
    for who in (None, "marketer", "viewer"):
        client = _logged_in(app, demo_store.keys[who]) if who else TestClient(app, headers={"Origin": BASE})
        for method, path in requests:
            r = client.request(method, path, json={}, follow_redirects=False)
            _check_headers(r, f"{who} {method} {path} -> {r.status_code}")
            statuses.add(r.status_code)
    assert {200, 303, 401, 403, 422} <= statuses  # pages, redirects to the login and refusals all carry them


def test_pages_allow_only_this_servers_scripts() -> None:
    policy = dict(part.strip().split(" ", 1) for part in PAGE_CSP.split(";"))
    assert policy["script-src"] == "'self'" and policy["default-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'" and policy["object-src"] == "'none'"
    assert "unsafe" not in policy["script-src"] + policy["connect-src"]


def test_no_template_has_inline_script_or_handlers() -> None:
    from importlib import resources

    for f in (resources.files("shopseg.web") / "templates").iterdir():
        text = f.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), f.name  # every <script> has a src
        assert not re.search(r"\son[a-z]+\s*=", text), f.name  # no onclick=, onchange=, ...


def test_api_and_its_docs_answer_with_the_security_headers(app, demo_store: DemoStore) -> None:
    client = TestClient(app)  # type: ignore[arg-type]
    for path, headers in [
        ("/api/v1/health", {}),
        ("/api/v1/settings", {"X-API-Key": demo_store.keys["admin"]}),
        ("/api/v1/settings", {}),
        ("/api/v1/nope", {}),
        ("/openapi.json", {}),
    ]:
        r = client.get(path, headers=headers)
        _check_headers(r, path)
        assert r.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'", path
    docs = client.get("/docs")
    _check_headers(docs, "/docs", dashboard=False)
    assert docs.headers["content-security-policy"] == "frame-ancestors 'none'"  # Swagger UI's CDN script still loads


# -- defect 6: cross-origin requests with the cookie -------------------------------------------------------------
def _unsafe_requests() -> list[tuple[str, str]]:
    return [(m, p) for m, p in _dashboard_requests() if m in ("POST", "PUT", "PATCH", "DELETE")]


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": EVIL},
        {"Origin": "null"},
        {"Origin": "http://testserver.evil.example"},
        {"Origin": "http://testserver:8080"},
        {"Referer": f"{EVIL}/page"},
        {},
    ],
    ids=["evil", "null", "lookalike", "other-port", "referer-only", "none"],
)
def test_cross_origin_cookie_requests_are_refused(app, demo_store: DemoStore, headers: dict[str, str]) -> None:
    client = _logged_in(app, demo_store.keys["marketer"])
    client.headers.pop("Origin")
    unsafe = _unsafe_requests()
    assert {("POST", "/api/v1/segments"), ("POST", "/logout"), ("POST", "/login")} <= set(unsafe)
    for method, path in unsafe:
        body = {"name": "csrf_made", "rule": "orders >= 1", "api_key": demo_store.keys["admin"]}  # each valid
        r = client.request(method, path, json=body, headers=headers, follow_redirects=False)
        assert r.status_code == 403, (method, path, r.status_code)
        if path.startswith("/api/"):
            body = r.json()
            assert body["ok"] is False and body["status"] == 403
            assert (
                "must come from a page of this server. Expected an Origin (or Referer) of http://testserver"
                in body["error"]
            )
    assert client.get("/rfm", follow_redirects=False).status_code == 200  # the refused logout ended nothing
    assert (
        TestClient(app, headers={"X-API-Key": demo_store.keys["viewer"]})
        .get(  # type: ignore[arg-type]
            "/api/v1/segments/csrf_made/customers"
        )
        .status_code
        == 404
    )  # nothing was saved


@pytest.mark.parametrize(
    "headers",
    [{"Origin": BASE}, {"Referer": f"{BASE}/segments/new"}, {"Origin": "https://testserver"}],
    ids=["origin", "referer", "https-origin-behind-a-proxy"],
)
def test_same_origin_cookie_requests_work(app, demo_store: DemoStore, headers: dict[str, str]) -> None:
    client = _logged_in(app, demo_store.keys["viewer"])
    client.headers.pop("Origin")
    r = client.post("/api/v1/segments/preview", json={"rule": "orders >= 4"}, headers=headers)
    assert r.status_code == 200 and r.json()["size"] == demo_store.expected["loyal_size"]


def test_api_key_header_requests_are_not_origin_checked(app, demo_store: DemoStore) -> None:
    client = TestClient(app, headers={"X-API-Key": demo_store.keys["viewer"], "Origin": EVIL})  # type: ignore[arg-type]
    assert client.post("/api/v1/segments/preview", json={"rule": "orders >= 4"}).status_code == 200
    bearer = TestClient(app, headers={"Authorization": f"Bearer {demo_store.keys['viewer']}"})  # type: ignore[arg-type]
    assert bearer.post("/api/v1/segments/preview", json={"rule": "orders >= 4"}).status_code == 200
