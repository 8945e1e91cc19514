"""API keys: roles, hashing, revocation; `shopseg keys create/list/revoke`."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from shopseg.api.keys import KEYS_TABLE, KeyStore
from shopseg.cli.main import app as cli
from shopseg.workspace import Workspace
from tests.api.conftest import auth


def test_keys_are_stored_salted_and_hashed(app, keys) -> None:  # type: ignore[no-untyped-def]
    state = app.state.shopseg
    with state.lock:
        rows = state.workspace.con.execute(f'SELECT * FROM "{KEYS_TABLE}"').fetchall()
    text = repr(rows)
    for secret in keys.values():
        assert secret.split("_", 2)[2] not in text
    assert len({r[3] for r in rows}) == len(rows)  # a salt per key


def test_role_matrix(client: TestClient, keys) -> None:  # type: ignore[no-untyped-def]
    seg = {"name": "loyal", "definition": "events(type='purchase').count >= 3"}
    want = {  # (method, url, json) -> lowest role allowed
        ("GET", "/api/v1/segments", None): "viewer",
        ("POST", "/api/v1/segments", "seg"): "marketer",
        ("GET", "/api/v1/segments/loyal/members", None): "marketer",
        ("GET", "/api/v1/webhooks", None): "marketer",
        ("GET", "/api/v1/keys", None): "admin",
    }
    order = ["viewer", "marketer", "admin"]
    for (method, url, body), lowest in want.items():
        for role in order:
            payload = dict(seg, name=f"s_{role}") if body else None
            if url.endswith("/members"):
                client.put(
                    "/api/v1/segments/loyal", headers=auth(keys["admin"]), json={"definition": seg["definition"]}
                )
            r = client.request(method, url, headers=auth(keys[role]), json=payload)
            allowed = order.index(role) >= order.index(lowest)
            assert (r.status_code < 400) == allowed and (allowed or r.status_code == 403), (method, url, role, r.text)


def test_a_revoked_key_answers_401(client: TestClient, keys) -> None:  # type: ignore[no-untyped-def]
    admin = auth(keys["admin"])
    made = client.post("/api/v1/keys", headers=admin, json={"name": "tmp", "role": "viewer"}).json()
    assert client.get("/api/v1/segments", headers=auth(made["key"])).status_code == 200
    assert client.delete(f"/api/v1/keys/{made['key_id']}", headers=admin).json()["revoked_at"]
    assert client.get("/api/v1/segments", headers=auth(made["key"])).status_code == 401
    listed = client.get("/api/v1/keys", headers=admin).json()
    assert "key" not in listed[0] and {k["name"] for k in listed} >= {"tmp", "test-admin"}


def test_cli_keys_create_list_revoke(ws_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SHOPSEG_WORKSPACE", str(ws_path))
    runner = CliRunner()
    made = runner.invoke(cli, ["keys", "create", "ops", "--role", "admin"])
    assert made.exit_code == 0, made.output
    secret = made.output.strip().splitlines()[-1]
    with Workspace.open(ws_path) as ws:
        assert KeyStore(ws).authenticate(secret).role == "admin"
        key_id = KeyStore(ws).list()[0].key_id
    listed = runner.invoke(cli, ["keys", "list"])
    assert listed.exit_code == 0 and key_id in listed.output and "active" in listed.output
    assert runner.invoke(cli, ["keys", "revoke", key_id]).exit_code == 0
    assert "revoked" in runner.invoke(cli, ["keys", "list"]).output
    bad = runner.invoke(cli, ["keys", "create", "x", "--role", "root"])
    assert bad.exit_code == 2 and "unknown role 'root'" in bad.output, bad.output
    missing = runner.invoke(cli, ["keys", "revoke", "nope"])
    assert missing.exit_code == 1 and "does not exist" in missing.output and "Traceback" not in missing.output
