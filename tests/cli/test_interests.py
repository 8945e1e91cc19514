"""`shopseg interests` on a workspace without signals says so instead of printing shares of nobody."""

from __future__ import annotations

from typer.testing import CliRunner

from shopseg.cli.main import app
from shopseg.workspace import Workspace


def test_no_signal_is_said_not_printed_as_nan(tmp_path):
    ws = str(tmp_path / "ws.duckdb")
    Workspace.init(ws).close()
    result = CliRunner().invoke(app, ["--workspace", ws, "interests"])
    assert result.exit_code == 0, result.output
    assert "0 customers with a signal" in result.output
    assert "No customer has a signal yet. Hint: ingest orders, events or survey answers first." in " ".join(
        result.output.split()
    )
    assert "nan" not in result.output
