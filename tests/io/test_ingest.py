"""``ingest`` (io/ingest.py) is all or nothing: errors and a killed process leave the workspace as it was."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from shopseg.errors import SchemaError
from shopseg.io import ingest, orders
from shopseg.io.ingest import quiet_progress
from shopseg.schema import TABLES
from shopseg.workspace import INGEST_LOG, Workspace

N_BIG = 1_500_000
GOOD = (
    "order_id,customer_id,ordered_at,product_id,quantity,unit_price\no1,c1,2024-01-02,p1,2,5\no2,c2,2024-01-03,p2,1,3\n"
)


def snapshot(ws: Workspace) -> dict[str, tuple[int, int]]:
    """Row count and an order-independent content hash of every canonical table and the ingest log."""
    out = {}
    for name in [*TABLES, INGEST_LOG]:
        row = ws.con.execute(f'SELECT count(*), coalesce(sum(hash(t)), 0) FROM "{name}" AS t').fetchone()
        out[name] = (int(row[0]), int(row[1]))
    return out


@pytest.fixture
def loaded(workspace, tmp_path):
    path = tmp_path / "first.csv"
    path.write_text(GOOD)
    ingest(workspace, "orders", path)
    return workspace


def test_validation_error_changes_nothing(loaded, tmp_path):
    before = snapshot(loaded)
    bad = tmp_path / "bad.csv"
    bad.write_text(GOOD.replace("o1,", "o9,").replace("o2,c2,2024-01-03", "o8,c2,not a date"))
    with pytest.raises(SchemaError, match="ordered_at: cannot be parsed"):
        ingest(loaded, "orders", bad)
    assert snapshot(loaded) == before


def test_failure_after_the_writes_rolls_everything_back(loaded, tmp_path, monkeypatch):
    before = snapshot(loaded)

    def write_then_fail(*args, **kwargs):
        orders_written, replaced = real(*args, **kwargs)
        assert orders_written["order_lines"] == 2 and replaced == {}
        raise RuntimeError("disk full (simulated)")

    real = orders.write_orders
    monkeypatch.setattr(orders, "write_orders", write_then_fail)
    new = tmp_path / "new.csv"
    new.write_text(GOOD.replace("o1,", "o3,").replace("o2,", "o4,").replace("p1", "p9").replace("c2", "c7"))
    with pytest.raises(RuntimeError, match="simulated"):
        ingest(loaded, "orders", new)
    assert snapshot(loaded) == before
    monkeypatch.undo()
    assert ingest(loaded, "orders", new).rows_kept == 2  # and the connection is usable afterwards
    assert loaded.row_counts()["products"] == 3


def test_no_staging_objects_are_left_behind(loaded):
    temp = "SELECT count(*) FROM {} WHERE temporary AND starts_with({}_name, '_shopseg_')"
    assert loaded.con.execute(temp.format("duckdb_tables()", "table")).fetchone() == (0,)
    assert loaded.con.execute(temp.format("duckdb_views()", "view")).fetchone() == (0,)


def test_reingest_refusal_changes_nothing(loaded, tmp_path):
    before = snapshot(loaded)
    path = tmp_path / "first.csv"
    with pytest.raises(SchemaError, match="order already in the workspace"):
        ingest(loaded, "orders", path)
    assert snapshot(loaded) == before


def _cli() -> list[str]:
    script = Path(sys.executable).with_name("shopseg")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from shopseg.cli.main import main; main()"]


def test_sigkill_during_a_large_ingest_leaves_the_workspace_intact(tmp_path):
    """Start `shopseg ingest` on 1.5M lines, SIGKILL it once it reports writing, then reopen.

    The same file then ingests whole. (Speed is measured in bench/, never asserted here.)
    """
    ws_path = tmp_path / "ws.duckdb"
    ws = Workspace.init(ws_path)
    first = tmp_path / "first.csv"
    first.write_text(GOOD)
    ingest(ws, "orders", first)
    before = snapshot(ws)
    big = tmp_path / "big.csv"
    ws.con.execute(
        "COPY (SELECT 'b' || (range // 3) AS order_id, 'c' || (range // 30) AS customer_id, "
        "TIMESTAMP '2024-01-01' + to_seconds(range) AS ordered_at, 'p' || (range % 500) AS product_id, "
        f"1 + range % 4 AS quantity, 2.5 AS unit_price FROM range({N_BIG})) TO '{big}' (HEADER)"
    )
    ws.close()
    env = {**os.environ, "COLUMNS": "200"}
    proc = subprocess.Popen(
        [*_cli(), "--workspace", str(ws_path), "ingest", "orders", str(big)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        text=True,
    )
    seen = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:  # blocks until the next progress line; no fixed sleep
            seen.append(line)
            if "writing" in line:
                break
        assert any("writing" in line for line in seen), "".join(seen)
        assert proc.poll() is None, "the ingest finished before it could be killed: " + "".join(seen)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    with Workspace.open(ws_path) as reopened:
        assert snapshot(reopened) == before
        assert reopened.con.execute("SELECT count(*) FROM duckdb_tables() WHERE temporary").fetchone() == (0,)
        report = ingest(reopened, "orders", big)
        assert report.rows_kept == N_BIG
        assert reopened.row_counts()["order_lines"] == N_BIG + 2


def test_the_load_runs_under_the_ingest_memory_cap_and_restores_the_workspace_cap(workspace, monkeypatch):
    monkeypatch.setenv("SHOPSEG_INGEST_MEMORY_LIMIT", "300MB")
    before = workspace.con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    with quiet_progress(workspace.con):
        during = workspace.con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    assert during == "286.1 MiB"  # 300MB as DuckDB shows it
    assert workspace.con.execute("SELECT current_setting('memory_limit')").fetchone()[0] == before


def test_running_out_of_memory_in_the_load_names_the_ingest_cap(workspace, monkeypatch):
    """The CLI's out-of-memory message names the setting on the exception (tests/cli/test_ingest.py)."""
    monkeypatch.setenv("SHOPSEG_INGEST_MEMORY_LIMIT", "8MB")
    with pytest.raises(duckdb.OutOfMemoryException) as err, quiet_progress(workspace.con):
        workspace.con.execute("SELECT count(DISTINCT i::VARCHAR) FROM range(20000000) t(i)").fetchone()
    assert err.value.memory_setting == "ingest_memory_limit"


def test_order_totals_are_summed_after_the_orders_land_and_running_out_of_memory_there_is_a_warning(
    workspace, tmp_path, monkeypatch
):
    """The derived sums run in their own transaction once the orders are committed (another cursor sees
    them). When DuckDB runs out of memory there (a real out-of-memory error at an 8MB cap), the ingest
    still lands, says so in a warning, and the stale totals are detected and re-summed by features build."""
    import shopseg.features.order_totals as totals
    from shopseg.features import build_features

    real = totals.refresh_order_totals
    seen = []

    def refresh_under_a_tiny_cap(ws, *args, **kwargs):
        seen.append(ws.con.cursor().execute("SELECT count(*) FROM orders").fetchone()[0])
        ws.con.execute("SET memory_limit = '8MB'")
        ws.con.execute("SELECT count(DISTINCT i::VARCHAR) FROM range(20000000) t(i)").fetchone()
        return real(ws, *args, **kwargs)

    monkeypatch.setattr(totals, "refresh_order_totals", refresh_under_a_tiny_cap)
    path = tmp_path / "orders.csv"
    path.write_text(GOOD)
    report = ingest(workspace, "orders", path)
    assert seen == [2]  # committed before the sums began
    assert report.rows_kept == 2 and workspace.row_counts()["orders"] == 2
    assert any("order totals were not re-summed within ingest_memory_limit" in w for w in report.warnings)
    assert not totals.is_fresh(workspace)
    monkeypatch.undo()
    build_features(workspace, return_frame=False)
    assert totals.is_fresh(workspace)
    assert workspace.con.execute("SELECT sum(cents) FROM order_totals").fetchone()[0] == 1300


def test_ingest_does_not_import_pandas(tmp_path):
    """An ingest reads and writes through DuckDB alone and does not import pandas (about 60 MB of resident
    memory beside the ingest's cap). DuckDB's binding imports pandas to convert the first bound parameter
    it is given, and ``shopseg.features`` used to import its pandas-based build when the orders ingest
    read the order totals' definition; this test fails on either. (pyarrow still comes with Ibis's
    schema lookup when the orders ingest compiles the line values.)"""
    (tmp_path / "customers.csv").write_text("customer_id,email,country\nc1,a@x.com,DE\nc2,b@x.com,FR\n")
    (tmp_path / "orders.csv").write_text(GOOD)
    (tmp_path / "events.csv").write_text("event_id,customer_id,type,occurred_at\ne1,c1,page_view,2024-01-02T10:00:00\n")
    code = (
        "import sys\nfrom shopseg.workspace import Workspace\nfrom shopseg.io import ingest\n"
        f"d = {str(tmp_path)!r}\nws = Workspace.init(d + '/ws.duckdb')\n"
        "for kind in ('customers', 'orders', 'events'):\n"
        "    print(kind, ingest(ws, kind, f'{d}/{kind}.csv').rows_kept)\n"
        "ws.close()\n"
        "print('pandas' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.splitlines()
    assert out == ["customers 2", "orders 2", "events 1", "False"]
