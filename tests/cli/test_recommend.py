"""`shopseg recommend ...` and `shopseg nba ...` through the CLI runner."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from shopseg.cli import _common
from shopseg.cli.main import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def wide_console(monkeypatch):
    monkeypatch.setattr(_common.console, "width", 200)


def _run(path, *args):
    return runner.invoke(app, ["--workspace", str(path), *args])


def test_recommend_commands(action_ws_path):
    res = _run(action_ws_path, "recommend", "customer", "c000001", "-n", "3")
    assert res.exit_code == 0, res.output
    assert "Recommendations for c000001" in res.output and "bought together with" in res.output
    res = _run(action_ws_path, "recommend", "segment", "Champions", "-n", "3")
    assert res.exit_code == 0, res.output
    assert "Top products of RFM segment 'Champions'" in res.output
    res = _run(action_ws_path, "recommend", "evaluate")
    assert res.exit_code == 0, res.output
    assert "global popularity (baseline)" in res.output and "hit rate@10" in res.output


def test_recommend_errors_are_one_line(action_ws_path):
    res = _run(action_ws_path, "recommend", "customer", "nobody")
    assert res.exit_code == 1 and "customer 'nobody'" in res.output and "Traceback" not in res.output
    res = _run(action_ws_path, "recommend", "segment", "Champion")
    assert res.exit_code == 1 and "Did you mean 'Champions'" in res.output


def test_nba_commands(action_ws_path, tmp_path):
    res = _run(action_ws_path, "nba", "playbook")
    assert res.exit_code == 0 and "win_back" in res.output
    book = tmp_path / "book.yaml"
    book.write_text(res.output, encoding="utf-8")
    res = _run(action_ws_path, "nba", "customer", "c000002", "--playbook", str(book))
    assert res.exit_code == 0, res.output
    assert "reason:" in res.output and "products:" in res.output
    res = _run(action_ws_path, "nba", "segment", "At risk", "-o", str(tmp_path / "risk.csv"))
    assert res.exit_code == 0, res.output
    assert "Next best actions in RFM segment 'At risk'" in res.output and "win_back" in res.output
    res = _run(action_ws_path, "nba", "run", "-o", str(tmp_path / "nba.csv"))
    assert res.exit_code == 0, res.output
    assert "customer_next_actions" in res.output and (tmp_path / "nba.csv").exists()


def test_nba_bad_playbook(action_ws_path, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"rules": [{"name": "x"}]}', encoding="utf-8")
    res = _run(action_ws_path, "nba", "run", "--playbook", str(bad))
    assert res.exit_code == 2 and "/rules/0/when: Field required" in res.output and "Traceback" not in res.output
