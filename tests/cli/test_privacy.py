"""`shopseg forget` and `shopseg privacy export/consent/retain` through the CLI runner."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from shopseg.cli import _common
from shopseg.cli.main import app
from shopseg.workspace import Workspace

runner = CliRunner()


@pytest.fixture(autouse=True)
def wide_console(monkeypatch):
    monkeypatch.setattr(_common.console, "width", 200)


def test_privacy_commands(action_ws_path, tmp_path):
    w = ["-w", str(action_ws_path)]
    res = runner.invoke(app, [*w, "privacy", "consent", "c000003", "sms_marketing", "--grant", "--source", "store"])
    assert res.exit_code == 0, res.output
    assert "consent event" in res.output and "store" in res.output
    out = tmp_path / "me.json"
    res = runner.invoke(app, [*w, "privacy", "export", "c000003", "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert json.loads(out.read_text())["tables"]["customers"][0]["email"] == "c000003@example.com"
    res = runner.invoke(app, [*w, "privacy", "retain", "--days", "30", "--as-of", "2025-12-31", "--dry-run"])
    assert res.exit_code == 0 and "would delete" in res.output
    res = runner.invoke(app, [*w, "forget", "c000003", "--yes"])
    assert res.exit_code == 0, res.output
    assert "Erased; audit entry" in res.output
    with Workspace.open(action_ws_path, read_only=True) as ws:
        assert ws.con.execute("SELECT count(*) FROM orders WHERE customer_id = 'c000003'").fetchone()[0] == 0
    res = runner.invoke(app, [*w, "forget", "c000003", "--yes"])
    assert res.exit_code == 1 and "Nothing was erased" in res.output and "Traceback" not in res.output


def test_forget_asks_first(action_ws_path):
    res = runner.invoke(app, ["-w", str(action_ws_path), "forget", "c000004"], input="n\n")
    assert res.exit_code == 1 and "Aborted" in res.output
    res = runner.invoke(app, ["-w", str(action_ws_path), "privacy", "consent", "c000004", "fax", "--grant"])
    assert res.exit_code == 2 and "unknown purpose 'fax'" in res.output


def test_forget_without_rewrite_then_compact(action_ws_path):
    w = ["-w", str(action_ws_path)]
    res = runner.invoke(app, [*w, "forget", "c000005", "--yes", "--no-compact"])
    assert res.exit_code == 0 and "still holds erased bytes: run `shopseg privacy compact`" in res.output, res.output
    assert b"c000005" in action_ws_path.read_bytes()  # deleted rows stay in DuckDB's file until the rewrite
    res = runner.invoke(app, [*w, "privacy", "compact"])
    assert res.exit_code == 0 and "workspace file rewritten" in res.output, res.output
    assert b"c000005" not in action_ws_path.read_bytes()
    assert "nothing to do" in runner.invoke(app, [*w, "privacy", "compact"]).output
    res = runner.invoke(app, [*w, "forget", "c000006", "--yes"])
    assert res.exit_code == 0 and "no byte of the erased data is left" in res.output, res.output
