"""Issue 14, defect 6: the login cookie holds a server-side session, not the API key.

In-process (TestClient against the app ``shopseg serve`` builds) on real DuckDB
workspaces; the ``Secure`` flag behind a proxy is checked on a real
``shopseg serve`` on loopback, as uvicorn decides what ``X-Forwarded-Proto`` is worth.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from collections.abc import Iterator
from http.cookies import SimpleCookie
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from shopseg.api import create_app
from shopseg.api.keys import KeyStore
from shopseg.api.sessions import SESSIONS_TABLE
from shopseg.cli.main import app as cli
from shopseg.web import dashboard_routers
from shopseg.web.auth import COOKIE, session_store
from shopseg.workspace import Workspace
from tests.web.conftest import DemoStore, running_server

BASE = "http://testserver"


@pytest.fixture()
def workspace(demo_store: DemoStore, tmp_path: Path) -> Path:
    path = tmp_path / "ws.duckdb"
    shutil.copyfile(demo_store.copy, path)  # type: ignore[arg-type]
    return path


@pytest.fixture()
def app(workspace: Path) -> Iterator[object]:
    app = create_app(workspace, live=False, routers=dashboard_routers())
    yield app
    app.state.shopseg.close()


def _login(app: object, key: str, base: str = BASE) -> tuple[TestClient, httpx.Response]:
    client = TestClient(app, base_url=base, headers={"Origin": base})  # type: ignore[arg-type]
    r = client.post("/api/v1/dashboard/session", json={"api_key": key})
    assert r.status_code == 200, r.text
    return client, r


def _cookie(response: httpx.Response) -> SimpleCookie:
    jar: SimpleCookie = SimpleCookie()
    jar.load(response.headers["set-cookie"])
    return jar


def _with_cookie(app: object, token: str) -> TestClient:
    """A new browser holding (a copy of) the cookie ``token``."""
    return TestClient(app, base_url=BASE, headers={"Origin": BASE}, cookies={COOKIE: token})  # type: ignore[arg-type]


def _sql(app: object, query: str, params: list[object] | None = None) -> list[tuple]:
    state = app.state.shopseg  # type: ignore[attr-defined]
    with state.lock:
        return state.workspace.con.execute(query, params or []).fetchall()


def test_the_cookie_holds_a_random_session_token_not_the_key(app, demo_store: DemoStore) -> None:
    key = demo_store.keys["marketer"]
    client, r = _login(app, key)
    morsel = _cookie(r)[COOKIE]
    token = morsel.value
    secret = key.split("_", 2)[2]  # ss_<id>_<secret>; the secret may itself begin with "_"
    assert key not in r.headers["set-cookie"] and secret not in r.headers["set-cookie"]
    assert len(token) >= 43 and token != key  # secrets.token_urlsafe(32): 256 bits
    assert morsel["httponly"] and morsel["samesite"].lower() == "strict" and morsel["path"] == "/"
    assert int(morsel["max-age"]) == 12 * 3600  # the default dashboard_session_hours
    assert not morsel["secure"]  # plain http here
    stored = _sql(app, f'SELECT token_hash, key_id FROM "{SESSIONS_TABLE}"')
    assert (hashlib.sha256(token.encode()).hexdigest(), key.split("_")[1]) in stored
    assert all(token not in row and key not in row for row in stored)  # only the hash is stored
    assert _login(app, key)[1].headers["set-cookie"] != r.headers["set-cookie"]  # a new token each login
    assert client.get("/api/v1/dashboard/whoami").json()["role"] == "marketer"


def test_logout_ends_the_session_and_a_copy_of_the_cookie_is_refused(app, demo_store: DemoStore) -> None:
    client, r = _login(app, demo_store.keys["viewer"])
    token = _cookie(r)[COOKIE].value
    assert client.get("/rfm", follow_redirects=False).status_code == 200
    out = client.post("/logout", follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert _cookie(out)[COOKIE]["max-age"] == "0"  # the browser drops it
    stolen = _with_cookie(app, token)  # the old cookie, kept by someone
    page = stolen.get("/rfm", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/login?next=/rfm"
    api = stolen.get("/api/v1/dashboard/overview")
    assert api.status_code == 401 and "unknown, expired or ended" in api.json()["error"]
    assert stolen.post("/api/v1/segments/preview", json={"rule": "orders >= 1"}).status_code == 401


def test_revoking_the_key_ends_its_sessions_and_only_its(app, demo_store: DemoStore) -> None:
    admin = TestClient(app, headers={"X-API-Key": demo_store.keys["admin"]})  # type: ignore[arg-type]
    created = admin.post("/api/v1/keys", json={"name": "temp", "role": "marketer"}).json()
    client, r = _login(app, created["key"])
    other, _ = _login(app, demo_store.keys["viewer"])
    assert client.get("/api/v1/dashboard/whoami").json()["role"] == "marketer"
    store = session_store(app.state.shopseg)  # type: ignore[attr-defined]
    assert store.count(created["key_id"]) == 1
    assert admin.delete(f"/api/v1/keys/{created['key_id']}").status_code == 200
    assert store.count(created["key_id"]) == 0  # deleted, not only refused
    assert client.get("/api/v1/dashboard/whoami").status_code == 401
    assert client.get("/", follow_redirects=False).headers["location"] == "/login?next=/"
    assert other.get("/api/v1/dashboard/whoami").status_code == 200


def test_cli_key_revocation_ends_sessions_and_sessions_survive_a_restart(workspace: Path) -> None:
    with Workspace.open(workspace) as ws:
        keys = KeyStore(ws)
        kept, revoked = keys.create("kept", "viewer"), keys.create("revoked", "viewer")
    app = create_app(workspace, live=False, routers=dashboard_routers())
    tokens = {name: _cookie(_login(app, k.key)[1])[COOKIE].value for name, k in (("kept", kept), ("revoked", revoked))}
    app.state.shopseg.close()

    result = CliRunner().invoke(cli, ["-w", str(workspace), "keys", "revoke", revoked.info.key_id])
    assert result.exit_code == 0, result.output
    with Workspace.open(workspace) as ws:
        left = ws.con.execute(f'SELECT key_id FROM "{SESSIONS_TABLE}"').fetchall()
    assert (revoked.info.key_id,) not in left and (kept.info.key_id,) in left

    app = create_app(workspace, live=False, routers=dashboard_routers())  # a restarted server
    try:
        assert _with_cookie(app, tokens["kept"]).get("/api/v1/dashboard/whoami").json()["key_id"] == kept.info.key_id
        assert _with_cookie(app, tokens["revoked"]).get("/api/v1/dashboard/whoami").status_code == 401
    finally:
        app.state.shopseg.close()


def test_an_expired_session_is_refused(app, demo_store: DemoStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPSEG_DASHBOARD_SESSION_HOURS", "0.5")
    client, r = _login(app, demo_store.keys["viewer"])
    assert _cookie(r)[COOKIE]["max-age"] == "1800"
    token_hash = hashlib.sha256(_cookie(r)[COOKIE].value.encode()).hexdigest()
    expires = _sql(app, f'SELECT expires_at - created_at FROM "{SESSIONS_TABLE}" WHERE token_hash = ?', [token_hash])
    assert expires == [(dt.timedelta(minutes=30),)]
    assert client.get("/api/v1/dashboard/whoami").status_code == 200
    # half an hour later: move the session's expiry into the past, as the clock would
    past = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(seconds=1)
    _sql(app, f'UPDATE "{SESSIONS_TABLE}" SET expires_at = ? WHERE token_hash = ?', [past, token_hash])
    assert client.get("/api/v1/dashboard/whoami").status_code == 401
    page = client.get("/rfm", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/login?next=/rfm"
    assert _cookie(page)[COOKIE]["max-age"] == "0"  # the stale cookie is dropped


@pytest.mark.parametrize(
    ("mode", "base", "secure"),
    [
        ("auto", "https://testserver", True),
        ("auto", BASE, False),
        ("always", BASE, True),
        ("never", "https://testserver", False),
    ],
)
def test_secure_flag_follows_the_setting(
    app, demo_store: DemoStore, monkeypatch: pytest.MonkeyPatch, mode: str, base: str, secure: bool
) -> None:
    monkeypatch.setenv("SHOPSEG_DASHBOARD_SECURE_COOKIES", mode)
    client, r = _login(app, demo_store.keys["viewer"], base)
    assert bool(_cookie(r)[COOKIE]["secure"]) is secure, r.headers["set-cookie"]
    if secure and base == BASE:  # a client does not send a Secure cookie over plain http: nothing to log out
        assert client.get("/api/v1/dashboard/whoami").status_code == 401
        return
    out = client.post("/logout", follow_redirects=False)
    assert bool(_cookie(out)[COOKIE]["secure"]) is secure and _cookie(out)[COOKIE]["max-age"] == "0"


@pytest.mark.parametrize(("trusted", "secure"), [("127.0.0.1", True), ("", False)])
def test_secure_flag_behind_an_https_proxy_only_when_the_proxy_is_trusted(
    workspace: Path, trusted: str, secure: bool
) -> None:
    """A real `shopseg serve`: X-Forwarded-Proto counts only from an address in api_forwarded_allow_ips."""
    with Workspace.open(workspace) as ws:
        key = KeyStore(ws).create("proxy", "viewer").key
    env = {"SHOPSEG_API_FORWARDED_ALLOW_IPS": trusted}
    with running_server(workspace, "--no-live", env=env) as url:
        host = url.removeprefix("http://")
        r = httpx.post(
            f"{url}/api/v1/dashboard/session",
            json={"api_key": key},
            headers={"X-Forwarded-Proto": "https", "Origin": f"https://{host}"},
        )
        assert r.status_code == 200, r.text
        assert bool(_cookie(r)[COOKIE]["secure"]) is secure, r.headers["set-cookie"]
        assert r.headers["x-frame-options"] == "DENY" and r.headers["x-content-type-options"] == "nosniff"
