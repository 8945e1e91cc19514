"""Every error answer has the canonical shape ``{"ok": false, "error": "a; b", "errors": [...], "status": N}``."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient

from shopseg.api import create_app
from tests.api.conftest import auth


def assert_error_shape(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"ok", "error", "errors", "status"}, body
    assert body["ok"] is False and body["status"] == status
    assert isinstance(body["errors"], list) and body["errors"], body
    assert all(isinstance(e, dict) and isinstance(e["message"], str) and e["message"] for e in body["errors"])
    assert body["error"] == "; ".join(e["message"] for e in body["errors"])
    return body


def _cases(keys: dict[str, str]) -> list[tuple[str, str, dict[str, Any], int]]:
    v, m, a = (auth(keys[r]) for r in ("viewer", "marketer", "admin"))
    bad = {"Authorization": "Bearer ss_00000000_nope"}
    good = {"event_id": "e1", "customer_id": "c1", "type": "page_view", "occurred_at": "2024-06-01T09:00:00"}
    return [
        ("GET", "/api/v1/segments", {}, 401),
        ("GET", "/api/v1/segments", {"headers": bad}, 401),
        ("GET", "/api/v1/segments", {"headers": {"X-API-Key": "garbage"}}, 401),
        ("POST", "/api/v1/events", {"json": good}, 401),
        ("POST", "/api/v1/events", {"headers": v, "json": good}, 403),
        ("POST", "/api/v1/segments", {"headers": v, "json": {"name": "x", "definition": "orders >= 1"}}, 403),
        ("GET", "/api/v1/keys", {"headers": m}, 403),
        ("DELETE", "/api/v1/customers/c1", {"headers": m}, 403),
        ("GET", "/api/v1/nowhere", {"headers": v}, 404),
        ("GET", "/api/v1/segments/nope", {"headers": v}, 404),
        ("GET", "/api/v1/customers/nobody", {"headers": v}, 404),
        ("GET", "/api/v1/customers/nobody/segments", {"headers": v}, 404),
        ("DELETE", "/api/v1/customers/nobody", {"headers": a}, 404),
        ("DELETE", "/api/v1/keys/deadbeef", {"headers": a}, 404),
        ("DELETE", "/api/v1/webhooks/nope", {"headers": m}, 404),
        ("GET", "/api/v1/segments/nope/members", {"headers": m}, 404),
        ("POST", "/api/v1/segments/preview", {"headers": v, "json": {"definition": "orders >= 1"}}, 404),
        ("PATCH", "/api/v1/segments", {"headers": v}, 405),
        ("POST", "/api/v1/events", {"headers": m, "content": b"{" * 2_000_000}, 413),
        ("POST", "/api/v1/events", {"headers": m, "json": {"event_id": "e1"}}, 422),
        ("POST", "/api/v1/events", {"headers": m, "content": b"not json", "headers_extra": True}, 422),
        ("POST", "/api/v1/events", {"headers": m, "json": {"events": []}}, 422),
        ("POST", "/api/v1/events", {"headers": m, "json": {**good, "customer_id": None}}, 422),
        ("POST", "/api/v1/events", {"headers": m, "json": {"events": [good] * 1001}}, 422),
        ("POST", "/api/v1/segments", {"headers": m, "json": {"name": "x", "definition": "orders >>= 1"}}, 422),
        ("POST", "/api/v1/segments", {"headers": m, "json": {"name": "x", "definition": "recnecy > 3"}}, 422),
        ("POST", "/api/v1/segments", {"headers": m, "json": {"name": "1bad", "definition": "orders > 3"}}, 422),
        ("POST", "/api/v1/keys", {"headers": a, "json": {"name": "k", "role": "root"}}, 422),
        ("POST", "/api/v1/webhooks", {"headers": m, "json": {"url": "ftp://x"}}, 422),
    ]


def test_every_error_path_has_the_canonical_shape(client: TestClient, keys: dict[str, str]) -> None:
    for method, url, kwargs, status in _cases(keys):
        kwargs = {k: v for k, v in kwargs.items() if k != "headers_extra"}
        if "content" in kwargs:
            kwargs["headers"] = {**kwargs.get("headers", {}), "content-type": "application/json"}
        assert_error_shape(client.request(method, url, **kwargs), status)


def test_401_names_the_header_and_403_the_role(client: TestClient, keys: dict[str, str]) -> None:
    body = assert_error_shape(client.get("/api/v1/keys"), 401)
    assert "Authorization: Bearer" in body["error"]
    body = assert_error_shape(client.get("/api/v1/keys", headers=auth(keys["viewer"])), 403)
    assert "Expected role 'admin'" in body["error"]


def test_segment_errors_carry_paths_and_codes(client: TestClient, keys: dict[str, str]) -> None:
    r = client.post("/api/v1/segments", headers=auth(keys["marketer"]), json={"name": "x", "definition": "recnecy > 3"})
    body = assert_error_shape(r, 422)
    assert "Did you mean 'recency'" in body["error"] and body["errors"][0]["code"]


def test_a_bug_answers_500_in_the_same_shape(ws_path) -> None:  # type: ignore[no-untyped-def]
    router = APIRouter()

    @router.get("/boom")
    def boom() -> None:
        raise RuntimeError("boom")

    app = create_app(ws_path, live=False, routers=[router])
    try:
        with TestClient(app, raise_server_exceptions=False) as c:
            assert "internal error" in assert_error_shape(c.get("/boom"), 500)["error"]
            body = assert_error_shape(c.post("/api/v1/events", headers={}, json={}), 401)
            assert body["status"] == 401
    finally:
        app.state.shopseg.close()


def test_without_live_mode_events_answer_501(ws_path) -> None:  # type: ignore[no-untyped-def]
    app = create_app(ws_path, live=False)
    key = app.state.shopseg.keys.create("m", "marketer").key
    try:
        with TestClient(app) as c:
            good = {"event_id": "e1", "customer_id": "c1", "type": "page_view", "occurred_at": "2024-06-01T09:00:00"}
            assert (
                "live mode" in assert_error_shape(c.post("/api/v1/events", headers=auth(key), json=good), 501)["error"]
            )
    finally:
        app.state.shopseg.close()


@pytest.mark.parametrize("size", [10, 1000])
def test_413_for_chunked_bodies_too(ws_path, size: int) -> None:  # type: ignore[no-untyped-def]
    app = create_app(ws_path, live=False, max_body_bytes=100)
    try:
        with TestClient(app) as c:
            chunks = (b"x" * size for _ in range(3))
            r = c.post("/api/v1/keys", content=chunks, headers={"content-type": "application/json"})
            assert_error_shape(r, 413 if size * 3 > 100 else 422)  # small: read, then refused as bad JSON
    finally:
        app.state.shopseg.close()


def test_the_cli_admin_route_authenticates_before_it_reads_the_body(ws_path, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A caller without the run's token gets 401 whatever it sends: never a 422 listing the route's fields."""
    from shopseg.api.routers.admin import new_token

    app = create_app(ws_path, live=False)
    try:
        with TestClient(app, raise_server_exceptions=False, client=("127.0.0.1", 50000)) as c:
            url = "/api/v1/admin/cli"
            assert_error_shape(c.post(url, json={"nope": 1}), 404)  # no `shopseg serve`: no such route
            token = new_token(app.state.shopseg)
            wrong = {"X-Shopseg-Admin-Token": "guess"}
            for kwargs in (
                {"json": {"nope": 1}},
                {"json": {"nope": 1}, "headers": wrong},
                {"content": b"{not json", "headers": {**wrong, "content-type": "application/json"}},
                {"json": {"argv": ["status"], "cwd": str(tmp_path)}, "headers": wrong},
            ):
                body = assert_error_shape(c.post(url, **kwargs), 401)
                assert body["error"].startswith("request: missing or wrong X-Shopseg-Admin-Token."), body
                assert "argv" not in body["error"] and "cwd" not in body["error"]
            right = {"X-Shopseg-Admin-Token": token}
            body = assert_error_shape(c.post(url, json={"nope": 1}, headers=right), 422)  # admitted: now the body
            assert {e["path"] for e in body["errors"]} == {"/body/argv", "/body/cwd", "/body/nope"}, body
            assert "/body/argv: Field required" in body["error"]
            bad = c.post(url, content=b"{not json", headers={**right, "content-type": "application/json"})
            assert assert_error_shape(bad, 422)["errors"][0]["path"].startswith("/body")
        with TestClient(app, raise_server_exceptions=False, client=("192.0.2.7", 50000)) as c:
            body = assert_error_shape(c.post(url, json={"nope": 1}, headers=right), 403)
            assert "Expected a loopback client; got '192.0.2.7'" in body["error"]
    finally:
        app.state.shopseg.close()
