"""`shopseg generate`: into the workspace (created if missing, refused if not empty) or Parquet files."""

from __future__ import annotations

import pyarrow.parquet as pq
from typer.testing import CliRunner

from shopseg.cli.main import app
from shopseg.datasets import TRUTH_TABLE, generate_store
from shopseg.workspace import Workspace

runner = CliRunner()


def test_generate_creates_and_fills_the_workspace(tmp_path):
    ws = tmp_path / "store.duckdb"
    result = runner.invoke(
        app, ["--workspace", str(ws), "generate", "--customers", "400", "--seed", "4", "--end", "2025-12-31"]
    )
    assert result.exit_code == 0, result.output
    assert "order_lines" in result.output and "Planted groups:" in result.output and "vip_loyal" in result.output
    expected = generate_store(400, seed=4)
    with Workspace.open(ws, read_only=True) as opened:
        counts = opened.row_counts()
        assert counts["customers"] == 400
        assert counts["order_lines"] == expected["order_lines"].num_rows
        assert opened.con.execute(f'SELECT count(*) FROM "{TRUTH_TABLE}"').fetchone()[0] == 400


def test_generate_refuses_a_workspace_with_data(tmp_path):
    ws = str(tmp_path / "store.duckdb")
    assert runner.invoke(app, ["--workspace", ws, "generate", "-n", "150"]).exit_code == 0
    result = runner.invoke(app, ["--workspace", ws, "generate", "-n", "150", "--seed", "1"])
    assert result.exit_code == 1
    assert "already holds data" in result.output and "--out DIR" in result.output
    assert "Traceback" not in result.output
    with Workspace.open(ws, read_only=True) as opened:
        assert opened.row_counts()["customers"] == 150


def test_generate_out_writes_identical_parquet_for_the_same_seed(tmp_path):
    for name in ("a", "b"):
        result = runner.invoke(
            app, ["generate", "-n", "250", "--seed", "8", "--end-date", "2024-06-30", "--out", str(tmp_path / name)]
        )
        assert result.exit_code == 0, result.output
    files = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert files == sorted(
        f"{n}.parquet"
        for n in ("customers", "orders", "order_lines", "products", "events", "survey_answers", "planted_groups")
    )
    for name in files:
        assert pq.read_table(tmp_path / "a" / name).equals(pq.read_table(tmp_path / "b" / name)), name
    last = pq.read_table(tmp_path / "a" / "orders.parquet").column("ordered_at").to_pylist()
    assert max(last).date().isoformat() <= "2024-06-30"


def test_bad_end_date_is_a_usage_error(tmp_path):
    result = runner.invoke(app, ["generate", "-n", "10", "--end-date", "2025-13-01", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "YYYY-MM-DD" in result.output and "Traceback" not in result.output
