"""While `shopseg serve` runs, the commands that need the workspace file itself say who holds it and what to do
(issue 17), never DuckDB's raw "Conflicting lock is held" text; the others are handed over to the server
(tests/cli/test_serve_handover.py)."""

from __future__ import annotations

import os
import subprocess
import sys

from shopseg._connection import server_file
from shopseg.workspace import Workspace
from tests.web.conftest import ROOT, running_server


def _shopseg(workspace, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"), COLUMNS="200")
    return subprocess.run(
        [sys.executable, "-c", "from shopseg.cli.main import main; main()", "-w", str(workspace), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_commands_needing_the_file_name_the_running_server_instead_of_a_lock_error(tmp_path):
    """`status` is handed over to the server (it succeeds); a second `serve` and `init --force` need the file itself:
    they say who holds it and what to do, and `init --force` leaves the server's store in place."""
    path = tmp_path / "ws.duckdb"
    Workspace.init(path).close()
    with running_server(path, "--no-dashboard") as url:
        assert server_file(path).exists()
        assert _shopseg(path, "status").returncode == 0
        for args in (["serve", "--port", "1"], ["init", str(path), "--force"]):
            res = _shopseg(path, *args)
            text = " ".join((res.stdout + res.stderr).split())
            assert res.returncode == 1, text
            assert "the workspace is in use by `shopseg serve` (PID" in text and url in text, text
            assert "use its API" in text and "Conflicting lock" not in text and "Traceback" not in text
        assert "cannot be replaced while the server holds it" in text
        assert _shopseg(path, "status").returncode == 0  # the store is still there, still served
    assert not server_file(path).exists()  # removed when the server stops
    assert _shopseg(path, "status").returncode == 0
