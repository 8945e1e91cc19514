"""`shopseg predict` through the CLI runner: run, no verb, backtest, clean errors."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from shopseg.cli import _common
from shopseg.cli.main import app
from shopseg.workspace import Workspace

runner = CliRunner()


@pytest.fixture(autouse=True)
def wide_console(monkeypatch):
    monkeypatch.setattr(_common.console, "width", 200)


@pytest.fixture(scope="module")
def store_path(tmp_path_factory):
    from shopseg.datasets import generate_store, write_store

    path = tmp_path_factory.mktemp("cli_predict") / "shop.duckdb"
    ws = Workspace.init(path)
    write_store(ws, generate_store(600, seed=4))
    ws.close()
    return str(path)


def test_run_stores_predictions(store_path):
    result = runner.invoke(app, ["-w", store_path, "predict", "run", "--horizon-days", "180", "--bootstrap", "2"])
    assert result.exit_code == 0, result.output
    assert "customer_predictions:" in result.output and "horizon 180 days" in result.output
    assert "Top 10 customers by CLV" in result.output and "churn risk high" in result.output
    with Workspace.open(store_path, read_only=True) as ws:
        assert ws.meta("predictions_horizon_days") == "180"
        n, bad = ws.con.execute("SELECT count(*), count(*) FILTER (WHERE clv_p10 > clv) FROM customer_predictions").fetchone()
    assert n > 300 and bad == 0


def test_predict_without_a_verb_runs(store_path):
    result = runner.invoke(app, ["-w", store_path, "predict"])
    assert result.exit_code == 0, result.output
    assert "horizon 365 days" in result.output


def test_backtest_prints_groups_and_plain_verdicts(store_path):
    result = runner.invoke(app, ["-w", store_path, "predict", "backtest", "--holdout-days", "180", "--churn-days", "60"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Purchase backtest" in out and "(180 days)" in out and "7+" in out
    assert "the naive baseline" in out and ("BG/NBD beats" in out or "BG/NBD loses to" in out)
    assert "Churn backtest" in out and "churn = no purchase in 60 days" in out
    assert out.count("churn model beats the") + out.count("churn model loses to the") == 2


def test_bad_date_exits_2(store_path):
    result = runner.invoke(app, ["-w", store_path, "predict", "backtest", "--calibration-end", "31/12/2025"])
    assert result.exit_code == 2, result.output
    assert "YYYY-MM-DD" in result.output and "Traceback" not in result.output
    late = runner.invoke(app, ["-w", store_path, "predict", "backtest", "--calibration-end", "2030-01-01"])
    assert late.exit_code == 2 and "holdout inside the data" in late.output


def test_empty_workspace_exits_1_without_traceback(tmp_path):
    Workspace.init(tmp_path / "empty.duckdb").close()
    for argv in (["predict", "run"], ["predict", "backtest"]):
        result = runner.invoke(app, ["-w", str(tmp_path / "empty.duckdb"), *argv])
        assert result.exit_code == 1, result.output
        assert "orders table is empty" in result.output and "Traceback" not in result.output
