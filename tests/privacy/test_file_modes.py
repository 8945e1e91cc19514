"""Workspace files are readable by their owner only (mode 0600), whatever the umask shopseg was started with.

Probe: `store.duckdb` and `store.duckdb.wal` were created 0644 (world-readable, full of PII), while the journal and
the `.server` marker were 0600. DuckDB creates the `.wal` and the `.tmp/` spill folder lazily, so shopseg sets the
process umask to 077 when it opens a workspace for writing."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from shopseg.workspace import Workspace
from tests.api.test_logs import generated_store, logged_server


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _beside(path: Path) -> dict[str, int]:
    """``name -> mode`` of every file beside the workspace that belongs to it."""
    return {p.name: _mode(p) for p in path.parent.iterdir() if p.name.startswith(path.name)}


@pytest.fixture
def umask_022() -> Iterator[None]:
    before = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(before)


def test_a_workspace_made_in_process_and_its_wal_are_0600(tmp_path: Path, umask_022: None) -> None:
    path = tmp_path / "store.duckdb"
    ws = Workspace.init(path)
    try:
        ws.con.execute("INSERT INTO customers (customer_id, email) VALUES ('c1', 'c1@example.com')")
        assert Path(f"{path}.wal").exists()  # not checkpointed yet: the row is in the WAL DuckDB just created
        assert _beside(path) == {"store.duckdb": 0o600, "store.duckdb.wal": 0o600}
        assert os.umask(0o077) & 0o077 == 0o077  # and what the process writes next (an export) too
    finally:
        ws.close()
    export = tmp_path / "audience.csv"
    export.write_text("customer_id\nc1\n")
    assert _mode(export) == 0o600


def test_a_read_only_open_leaves_the_umask(tmp_path: Path, umask_022: None) -> None:
    path = tmp_path / "store.duckdb"
    Workspace.init(path).close()
    os.umask(0o022)
    Workspace.open(path, read_only=True).con.close()
    assert os.umask(0o022) == 0o022


def test_files_of_the_cli_and_of_a_real_server_are_0600(tmp_path: Path) -> None:
    """`shopseg init`, `generate` and `serve` in their own processes, started with umask 022."""
    path, key = generated_store(tmp_path)  # runs `shopseg init` and `shopseg generate` with umask 022
    assert _beside(path) == {"ws.duckdb": 0o600}
    with logged_server(path, tmp_path / "serve.log") as url:
        event = {"event_id": "m1", "customer_id": "c000001", "type": "page_view", "occurred_at": "2026-01-01T00:00:00"}
        res = httpx.post(f"{url}/api/v1/events", json=event, headers={"X-API-Key": key}, timeout=60)
        assert res.status_code in (200, 202), res.text
        during = _beside(path)
    assert {"ws.duckdb", "ws.duckdb.server"} <= set(during), during
    assert all(mode == 0o600 for mode in during.values()), {k: oct(v) for k, v in during.items()}
