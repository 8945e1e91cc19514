"""`shopseg export SEGMENT` through the CLI runner."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from shopseg.cli import _common
from shopseg.cli.main import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def wide_console(monkeypatch):
    monkeypatch.setattr(_common.console, "width", 200)


def test_export_reports_who_was_left_out(action_ws_path, tmp_path):
    out = tmp_path / "champions.csv"
    res = runner.invoke(
        app,
        ["-w", str(action_ws_path), "export", "Champions", "--format", "mailchimp", "-o", str(out), "--min-size", "10"],
    )
    assert res.exit_code == 0, res.output
    assert "left out (" in res.output and "no email_marketing consent" in res.output
    assert pd.read_csv(out).columns[0] == "Email Address"


def test_export_hash_and_refusals(action_ws_path, tmp_path):
    res = runner.invoke(
        app,
        [
            "-w",
            str(action_ws_path),
            "export",
            "Champions",
            "--hash-emails",
            "-o",
            str(tmp_path / "a.csv"),
            "--min-size",
            "10",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "email_sha256" in (tmp_path / "a.csv").read_text()
    res = runner.invoke(
        app,
        ["-w", str(action_ws_path), "export", "Champions", "-o", str(tmp_path / "b.csv")],
        env={"SHOPSEG_EXPORT_MIN_SEGMENT_SIZE": "5000"},
    )
    assert res.exit_code == 1 and "below the minimum of 5,000" in res.output and not (tmp_path / "b.csv").exists()
    res = runner.invoke(app, ["-w", str(action_ws_path), "export", "Champions", "--format", "xls"])
    assert res.exit_code == 2 and "unknown format 'xls'" in res.output and "Traceback" not in res.output
