from __future__ import annotations

from typer.testing import CliRunner

from shopseg.cli.main import app

runner = CliRunner()


def test_init_then_status(tmp_path):
    ws = str(tmp_path / "w.duckdb")
    result = runner.invoke(app, ["init", ws])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["--workspace", ws, "status"])
    assert result.exit_code == 0, result.output
    assert "order_lines" in result.output


def test_data_error_exits_1_without_traceback(tmp_path):
    result = runner.invoke(app, ["--workspace", str(tmp_path / "missing.duckdb"), "status"])
    assert result.exit_code == 1
    assert "no workspace here" in result.output
    assert "Traceback" not in result.output


def test_usage_error_exits_2():
    result = runner.invoke(app, ["--engine", "sprak", "status"])
    assert result.exit_code == 2
    assert "Did you mean 'spark'" in result.output
