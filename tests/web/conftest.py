"""A demo workspace (small synthetic store, features, RFM, lifecycle, predictions, clusters, saved segments),
API keys for each role, and a REAL `shopseg serve` (uvicorn on loopback) over it, once per test session.

Expected figures the browser tests compare with are computed from the workspace
before the server opens it (the server holds the DuckDB file).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from shopseg.cli.main import app as cli
from tests.api.helpers import stop_process

ROOT = Path(__file__).resolve().parents[2]
TYPO_RULE = "orders >= 3 andd revenue > 100"
FIXED_RULE = "orders >= 3 and revenue > 100"
BROWSING_NOW = "events(type='product_view', within=-1d).count >= 1"  # a live segment: entered by a view posted now


def has_experiments() -> bool:
    """Is the experiments module (issue 8) part of this install?"""
    import importlib.util

    try:
        return importlib.util.find_spec("shopseg.experiments.analyze") is not None
    except ModuleNotFoundError:
        return False


@dataclass
class DemoStore:
    """The demo workspace, its keys and the figures the tests check against."""

    path: Path
    keys: dict[str, str]
    expected: dict[str, Any] = field(default_factory=dict)
    copy: Path | None = None  # a pristine copy for in-process tests (the server holds `path`)


def _run(args: list[str]) -> None:
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, f"shopseg {' '.join(args)} failed:\n{result.output}"


def build_demo_store(folder: Path, customers: int = 600) -> DemoStore:
    """``shopseg generate`` + features, RFM, lifecycle, predict, cluster, two saved segments, a snapshot; keys."""
    from shopseg.api.keys import KeyStore
    from shopseg.workspace import Workspace

    path = folder / "demo.duckdb"
    w = ["-w", str(path)]
    _run(["init", str(path)])
    _run([*w, "generate", "-n", str(customers), "--seed", "11", "--end-date", "2025-12-31"])
    for step in (
        ["features", "build"],
        ["rfm"],
        ["lifecycle"],
        ["predict", "run", "--bootstrap", "2"],
        ["cluster", "--k", "4", "--stability-rounds", "0"],
    ):
        _run([*w, *step])
    _run([*w, "segment", "create", "loyal", "orders >= 4", "-d", "four orders or more"])
    _run([*w, "segment", "create", "lapsing", "days_since_last_order > 180 AND orders >= 2"])
    _run([*w, "segment", "create", "browsing_now", BROWSING_NOW, "--force"])
    _run([*w, "segment", "refresh"])
    if has_experiments():  # the A/B module (issue 8) is installed: one experiment with outcomes from the orders
        _run([*w, "experiment", "create", "winback_test", "loyal", "--start", "2025-01-01", "--end", "2025-12-31"])
        _run([*w, "experiment", "assign", "winback_test"])
    with Workspace.open(path) as ws:
        store = KeyStore(ws)
        keys = {role: store.create(f"test-{role}", role).key for role in ("viewer", "marketer", "admin")}
        con = ws.con
        fixed = con.execute("SELECT customer_id FROM customer_features WHERE orders >= 3 AND revenue > 100").fetchall()
        consented = con.execute(
            """SELECT f.customer_id FROM customer_features f JOIN customers c USING (customer_id)
               WHERE f.orders >= 3 AND f.revenue > 100 AND coalesce(c.email_marketing, false)"""
        ).fetchall()
        expected = {
            "customers": con.execute("SELECT count(*) FROM customers").fetchone()[0],
            "fixed_size": len(fixed),
            "fixed_consented": sorted(r[0] for r in consented),
            "loyal_size": con.execute("SELECT count(*) FROM customer_features WHERE orders >= 4").fetchone()[0],
            "events": con.execute("SELECT count(*) FROM events").fetchone()[0],
        }
    return DemoStore(path, keys, expected)


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> DemoStore:
    store = build_demo_store(tmp_path_factory.mktemp("web"))
    store.copy = store.path.with_name("copy.duckdb")
    shutil.copyfile(store.path, store.copy)
    return store


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def running_server(workspace: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """`shopseg serve` (with ``args``) in a subprocess on a free loopback port; yields its base URL."""
    port = _free_port()
    env = dict(os.environ, **(env or {}), PYTHONPATH=str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""))
    cmd = [
        sys.executable,
        "-c",
        "from shopseg.cli.main import main; main()",
        "-w",
        str(workspace),
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "info",
        *args,
    ]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lines = []
    assert proc.stderr is not None
    for line in proc.stderr:  # uvicorn logs to stderr; block until it says it is up (or the process dies)
        lines.append(line)
        if "Uvicorn running on" in line:
            break
    if proc.poll() is not None:
        pytest.fail("shopseg serve did not start:\n" + "".join(lines), pytrace=False)
    # keep draining the server's log so a full pipe never blocks it
    threading.Thread(target=lambda: lines.extend(proc.stderr or ()), daemon=True).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process(proc)
        proc.stderr.close()


@pytest.fixture(scope="session")
def live_server(demo_store: DemoStore) -> Iterator[str]:
    """`shopseg serve` (live mode, as by default) over the demo store; yields its base URL."""
    with running_server(demo_store.path) as url:
        yield url
