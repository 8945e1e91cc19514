"""One store, many hands (issue 17): with a REAL `shopseg serve` holding the workspace, the CLI commands run as
subprocesses succeed (handed over to the server) and their effects are visible through its API at once, without a
restart: a segment created from the CLI enters a customer on the next matching event posted to /api/v1/events;
features, RFM and predictions built from the CLI show in the live profiles; a forgotten customer is gone.

Before the hand-over each of these commands failed with "the workspace is in use by `shopseg serve`"."""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
import subprocess
import sys
import threading
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from shopseg._connection import server_file
from shopseg.api.keys import KeyStore
from shopseg.workspace import Workspace
from tests.web.conftest import ROOT, running_server


def _shopseg(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"), COLUMNS="200")
    return subprocess.run(
        [sys.executable, "-c", "from shopseg.cli.main import main; main()", "-w", "ws.duckdb", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=300,
    )


def _ok(cwd: Path, *args: str) -> str:
    res = _shopseg(cwd, *args)
    text = res.stdout + res.stderr
    assert res.returncode == 0, f"shopseg {' '.join(args)} -> {res.returncode}:\n{text}"
    assert "in use by" not in text and "Conflicting lock" not in text and "Traceback" not in text, text
    return text


class Api:
    def __init__(self, url: str, key: str) -> None:
        self.client = httpx.Client(base_url=f"{url}/api/v1", headers={"X-API-Key": key}, timeout=60)

    def get(self, path: str) -> Any:
        res = self.client.get(path)
        assert res.status_code == 200, res.text
        return res.json()

    def preview_size(self, rule: str) -> int:
        res = self.client.post("/segments/preview", json={"definition": rule, "sample": 0})
        assert res.status_code == 200, res.text
        return int(res.json()["size"])

    def profile(self, customer: str) -> dict[str, Any]:
        return dict(self.get(f"/customers/{customer}")["profile"])


def _entries(url: str, key: str, segment: str, got: list[dict[str, Any]], ready: threading.Event) -> None:
    """Read the server-sent notifications of ``segment`` until the first entry."""
    with httpx.stream(
        "GET", f"{url}/api/v1/stream", params={"segment": segment}, headers={"X-API-Key": key}, timeout=60
    ) as res:
        for line in res.iter_lines():
            ready.set()
            if line.startswith("data:"):
                got.append(json.loads(line[5:]))
                return


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """A generated store (no features yet), an admin key and one customer who has bought."""
    folder = tmp_path_factory.mktemp("handover")
    assert _shopseg(folder, "init").returncode == 0
    _ok(folder, "generate", "-n", "300", "--seed", "5")
    with Workspace.open(folder / "ws.duckdb") as ws:
        key = KeyStore(ws).create("handover", "admin").key
        buyer = ws.con.execute(
            "SELECT customer_id FROM orders WHERE NOT is_cancelled GROUP BY 1 HAVING count(*) >= 3 ORDER BY 1 LIMIT 1"
        ).fetchone()[0]
    return folder, key, str(buyer)


def test_every_cli_command_runs_through_the_server_and_the_api_sees_its_effect(store):
    folder, key, buyer = store
    with running_server(folder / "ws.duckdb", "--no-dashboard") as url:
        marker = server_file(folder / "ws.duckdb")
        assert stat.S_IMODE(marker.stat().st_mode) == 0o600  # the hand-over token is for the server's user only
        api = Api(url, key)
        assert "orders" not in api.profile(buyer)  # no feature table yet

        assert "customers" in _ok(folder, "status")

        _ok(folder, "features", "build")
        orders = api.profile(buyer)["orders"]  # the live profile was re-read: features are live
        assert orders >= 3 and api.preview_size(f"customer_id = '{buyer}' AND orders = {orders}") == 1

        _ok(folder, "rfm")
        rfm = api.profile(buyer)["rfm_segment"]
        assert rfm and api.preview_size(f"customer_id = '{buyer}' AND rfm_segment = '{rfm}'") == 1

        _ok(folder, "predict", "run", "--bootstrap", "0")
        risk = api.profile(buyer)["churn_risk"]
        assert risk in ("low", "medium", "high")
        assert api.preview_size(f"customer_id = '{buyer}' AND churn_risk = '{risk}'") == 1

        # a segment created from the CLI is live at once: the next matching event enters the customer
        _ok(folder, "segment", "create", "probe", "events(type='handover_probe').count >= 1")
        listed = {s["name"]: s for s in api.get("/segments")}
        assert listed["probe"]["live_members"] == 0
        got: list[dict[str, Any]] = []
        ready = threading.Event()
        reader = threading.Thread(target=_entries, args=(url, key, "probe", got, ready), daemon=True)
        reader.start()
        assert ready.wait(30)
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat()
        event = {"event_id": uuid.uuid4().hex, "customer_id": buyer, "type": "handover_probe", "occurred_at": now}
        posted = api.client.post("/events", json=event)
        assert posted.status_code in (200, 201, 202), posted.text
        reader.join(30)
        assert got and got[0]["customer_id"] == buyer and got[0]["segment"] == "probe", got
        assert {s["segment"] for s in api.get(f"/customers/{buyer}/segments")} >= {"probe"}

        _ok(folder, "segment", "create", "regulars", "orders >= 3")
        assert listed.get("regulars") is None and api.get("/segments/regulars")["live_members"] > 0
        size = api.preview_size("orders >= 3")
        assert f"size: {size:,} of" in _ok(folder, "segment", "preview", "regulars")
        assert "probe" in _ok(folder, "segment", "list")
        assert "handover_probe" in _ok(folder, "segment", "explain", "probe", buyer)

        _ok(folder, "segment", "refresh")  # sees the event posted above: batch = live, both dated
        probe = api.get("/segments/probe")
        assert probe["batch_members"] == probe["live_members"] == 1, probe
        assert probe["batch_as_of"] == probe["live_as_of"], probe

        (folder / "new.csv").write_text("customer_id,email,country\nhandover-new,new@example.com,DE\n")
        _ok(folder, "ingest", "customers", "new.csv")  # a path relative to the CLI's directory
        assert api.profile("handover-new") is not None

        _ok(folder, "export", "regulars", "--out", "regulars.csv", "--min-size", "1")
        assert (folder / "regulars.csv").read_text().count("\n") >= 2  # a header and members, in the CLI's folder
        _ok(folder, "report", "--out", "report.html")
        assert (folder / "report.html").stat().st_size > 10_000

        _ok(folder, "forget", buyer, "--yes")
        assert api.client.get(f"/customers/{buyer}").status_code == 404
        assert api.get("/segments/probe")["live_members"] == 0


def test_the_admin_route_needs_the_token_and_is_not_in_the_public_api(store):
    folder, key, _ = store
    with running_server(folder / "ws.duckdb", "--no-dashboard") as url:
        body = {"argv": ["status"], "cwd": str(folder)}
        assert httpx.post(f"{url}/api/v1/admin/cli", json=body).status_code == 401
        wrong = httpx.post(f"{url}/api/v1/admin/cli", json=body, headers={"X-Shopseg-Admin-Token": "guess"})
        assert wrong.status_code == 401 and wrong.json()["ok"] is False
        # an admin API key does not open it either: only the per-run token does
        assert httpx.post(f"{url}/api/v1/admin/cli", json=body, headers={"X-API-Key": key}).status_code == 401
        assert "/api/v1/admin/cli" not in httpx.get(f"{url}/openapi.json").json()["paths"]
        token = json.loads(server_file(folder / "ws.duckdb").read_text())["token"]
        admin = {"X-Shopseg-Admin-Token": token}
        res = httpx.post(f"{url}/api/v1/admin/cli", json=body, headers=admin, timeout=60)
        lines = [json.loads(line) for line in res.text.splitlines()]
        # `status` without -w names ./shopseg.duckdb: not the server's file, refused in words
        assert lines[-1] == {"exit": 1}
        assert "which does not serve this file" in "".join(m.get("data", "") for m in lines), lines
        body["argv"] = ["-w", "ws.duckdb", "status"]
        res = httpx.post(f"{url}/api/v1/admin/cli", json=body, headers=admin, timeout=60)
        lines = [json.loads(line) for line in res.text.splitlines()]
        assert lines[-1] == {"exit": 0} and any("customers" in m.get("data", "") for m in lines), lines
