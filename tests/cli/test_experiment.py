"""`shopseg experiment create/assign/analyze/power` through the CLI runner."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from shopseg.cli import _common
from shopseg.cli.main import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def wide_console(monkeypatch):
    monkeypatch.setattr(_common.console, "width", 220)


def test_experiment_lifecycle(action_ws_path, tmp_path):
    w = ["-w", str(action_ws_path), "experiment"]
    res = runner.invoke(
        app,
        [*w, "create", "win", "At risk", "--split", "control=50,offer=50", "--holdout", "0.1", "--start", "2025-06-01"],
    )
    assert res.exit_code == 0, res.output
    assert "holdout 10%, control 45%, offer 45%" in res.output
    res = runner.invoke(app, [*w, "assign", "win", "-o", str(tmp_path / "a.csv")])
    assert res.exit_code == 0, res.output
    assert "customers assigned" in res.output and (tmp_path / "a.csv").exists()
    res = runner.invoke(app, [*w, "analyze", "win"])
    assert res.exit_code == 0, res.output
    assert "sample ratio check" in res.output and "P(beat control)" in res.output


def test_power_reproduces_evan_miller(action_ws_path):
    res = runner.invoke(app, ["-w", str(action_ws_path), "experiment", "power", "--baseline", "0.2", "--mde", "0.05"])
    assert res.exit_code == 0 and "1,030 customers per variant" in res.output
    res = runner.invoke(app, ["-w", str(action_ws_path), "experiment", "power"])
    assert res.exit_code == 2 and "give either --baseline" in res.output


def test_experiment_errors(action_ws_path):
    w = ["-w", str(action_ws_path), "experiment"]
    res = runner.invoke(app, [*w, "create", "bad", "At risk", "--split", "control=1,x=zero"])
    assert res.exit_code == 2 and "weight 'zero' of variant 'x' is not a number" in res.output
    res = runner.invoke(app, [*w, "analyze", "ghost"])
    assert (
        res.exit_code == 1 and "experiment 'ghost': no such experiment" in res.output and "Traceback" not in res.output
    )
