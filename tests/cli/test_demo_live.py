"""`shopseg demo` ends its store today by default (issue 17), so on the demo workspace the live members of each
example segment equal its batch snapshot, and GET /api/v1/segments shows both with their dates. With the old fixed
end (2025-12-31) live evaluated today and batch as of that day, and the counts differed."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from shopseg.api import create_app
from shopseg.api.keys import KeyStore
from shopseg.cli.demo import EXAMPLE_SEGMENTS
from shopseg.cli.main import app
from shopseg.workspace import Workspace


def test_demo_live_members_equal_batch_size_for_every_example_segment(tmp_path):
    result = CliRunner().invoke(app, ["demo", "--customers", "400", "--dir", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    path = tmp_path / "demo" / "shopseg.duckdb"
    today = dt.datetime.now(dt.UTC).date()
    with Workspace.open(path) as ws:
        assert ws.meta("features_as_of") == today.isoformat()  # the store ends today
        key = KeyStore(ws).create("reader", "viewer").key
        truth = dict(ws.con.execute("SELECT name, count(*) FROM segment_snapshots GROUP BY name").fetchall())
    api = create_app(path)
    with TestClient(api) as client:
        listed = client.get("/api/v1/segments", headers={"X-API-Key": key})
    assert listed.status_code == 200, listed.text
    rows = {s["name"]: s for s in listed.json()}
    assert set(rows) == {name for name, _, _ in EXAMPLE_SEGMENTS}
    for name, row in rows.items():
        assert row["batch_members"] == truth[name] and truth[name] > 0, (name, row)
        assert row["batch_as_of"] == today.isoformat() and row["live_as_of"] == today.isoformat(), row
        assert row["live_members"] == row["batch_members"], (name, row["live_members"], row["batch_members"])
