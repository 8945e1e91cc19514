"""`--json` output and confirmations of commands handed over to a REAL `shopseg serve` (see test_serve_handover).

Probe: while the server ran, `status --json`, `rfm --json`, `segment refresh --json`, `segment list --json` and
`privacy export ID` failed after doing their work with `internal error: TypeError: Object of type bytes is not JSON
serializable` (typer.echo took the server's capture stream for a binary one); `echo y | shopseg forget ID` asked
twice and aborted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from shopseg.api.keys import KeyStore
from shopseg.workspace import Workspace
from tests.web.conftest import ROOT, running_server

JSON_COMMANDS = [
    ("status", "--json"),
    ("rfm", "--json"),
    ("segment", "refresh", "--json"),
    ("segment", "list", "--json"),
]


def _shopseg(cwd: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[bytes]:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"), COLUMNS="120")
    return subprocess.run(
        [sys.executable, "-c", "from shopseg.cli.main import main; main()", "-w", "ws.duckdb", *args],
        capture_output=True,
        input=stdin.encode() if stdin is not None else None,
        env=env,
        cwd=cwd,
        timeout=300,
    )


def _ok(cwd: Path, *args: str) -> bytes:
    res = _shopseg(cwd, *args)
    assert res.returncode == 0, f"shopseg {' '.join(args)} -> {res.returncode}:\n{res.stdout!r}\n{res.stderr!r}"
    return res.stdout


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("serve_json")
    _ok(folder, "init")
    _ok(folder, "generate", "-n", "200", "--seed", "7")
    _ok(folder, "features", "build")
    _ok(folder, "segment", "create", "big", "orders >= 1")
    with Workspace.open(folder / "ws.duckdb") as ws:
        key = KeyStore(ws).create("json", "admin").key
    return folder, key


def test_json_output_through_the_server_is_byte_identical_to_the_offline_command(store):
    folder, _ = store
    offline = {args: _ok(folder, *args) for args in JSON_COMMANDS}
    subject = json.loads(_ok(folder, "privacy", "export", "c000004"))
    with running_server(folder / "ws.duckdb", "--no-dashboard"):
        for args in JSON_COMMANDS:
            res = _shopseg(folder, *args)
            assert res.returncode == 0 and b"internal error" not in res.stderr, (args, res.stderr)
            assert res.stdout == offline[args], args
            json.loads(res.stdout)
        res = _shopseg(folder, "privacy", "export", "c000004")
        assert res.returncode == 0, res.stderr
    handed = json.loads(res.stdout)
    assert handed.pop("generated_at") and subject.pop("generated_at")  # the one field that says when
    assert handed == subject and handed["customer_id"] == "c000004" and handed["tables"]["customers"]


def test_forget_through_the_server_asks_once(store):
    folder, key = store
    prompt = b"Erase customer c000005 everywhere? This cannot be undone"
    with running_server(folder / "ws.duckdb", "--no-dashboard") as url:
        refused = _shopseg(folder, "forget", "c000005", "--reason", "x", stdin="n\n")
        assert refused.returncode == 1 and (refused.stdout + refused.stderr).count(prompt) == 1, refused
        assert b"Aborted" in refused.stdout + refused.stderr
        h = {"X-API-Key": key}
        assert httpx.get(f"{url}/api/v1/customers/c000005", headers=h, timeout=60).status_code == 200  # kept
        res = _shopseg(folder, "forget", "c000005", "--reason", "x", stdin="y\n")
        out = res.stdout + res.stderr
        assert res.returncode == 0 and out.count(prompt) == 1, out
        assert b"Erased customer c000005" in out and b"Aborted" not in out
        assert httpx.get(f"{url}/api/v1/customers/c000005", headers=h, timeout=60).status_code == 404
