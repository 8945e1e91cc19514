"""`shopseg ingest`: the data-quality table, clean errors, exit codes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shopseg.cli.ingest import parse_mapping
from shopseg.cli.main import app
from shopseg.errors import InvalidParameterError
from shopseg.workspace import Workspace

runner = CliRunner()
SHOPIFY = Path(__file__).resolve().parents[1] / "io" / "data" / "shopify_orders.csv"


@pytest.fixture
def ws_path(tmp_path):
    path = tmp_path / "ws.duckdb"
    Workspace.init(path).close()
    return str(path)


def test_ingest_cdnow_sample_prints_the_quality_table(ws_path, cdnow_sample_path):
    result = runner.invoke(app, ["-w", ws_path, "ingest", "orders", str(cdnow_sample_path), "--preset", "cdnow_sample"])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    for text in ("rows read", "6,919", "added to customers", "2,357", "non-positive unit_price (kept, marked)"):
        assert text in result.output
    status = runner.invoke(app, ["-w", ws_path, "status"])
    assert status.exit_code == 0, status.output
    assert "CDNOW_sample.txt" in status.output


def test_ingest_shopify_with_explicit_format(ws_path):
    result = runner.invoke(
        app, ["-w", ws_path, "ingest", "orders", str(SHOPIFY), "--preset", "shopify", "--format", "csv"]
    )
    assert result.exit_code == 0, result.output
    assert "missing customer_id (flagged, not kept)" in result.output


def test_map_option_fixes_a_misnamed_column(ws_path, tmp_path):
    path = tmp_path / "transactions.csv"
    path.write_text("order_id,cust_id,ordered_at,product_id,quantity,unit_price\no1,c1,2024-01-01,p1,1,2\n")
    result = runner.invoke(app, ["-w", ws_path, "ingest", "orders", str(path)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "required column 'customer_id' is missing" in result.output
    assert "--map customer_id=cust_id" in result.output
    result = runner.invoke(app, ["-w", ws_path, "ingest", "orders", str(path), "--map", "customer_id=cust_id"])
    assert result.exit_code == 0, result.output


def test_reingest_exits_1_and_leaves_counts(ws_path, cdnow_sample_path):
    args = ["-w", ws_path, "ingest", "orders", str(cdnow_sample_path), "-p", "cdnow_sample"]
    assert runner.invoke(app, args).exit_code == 0
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert "re-ingesting a file is refused" in result.output
    with Workspace.open(ws_path) as ws:
        assert ws.row_counts()["orders"] == 6_919


def test_usage_errors_exit_2(ws_path, tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("customer_id\n1\n")
    for args, text in [
        (["ingest", "custmers", str(path)], "Did you mean 'customers'"),
        (["ingest", "customers", str(path), "--map", "customer_id"], "canonical=source"),
        (
            ["ingest", "customers", str(path), "--preset", "shopify"],
            "loads orders, not customers. Hint: `--preset shopify_customers`",
        ),
    ]:
        result = runner.invoke(app, ["-w", ws_path, *args])
        assert result.exit_code == 2, result.output
        assert text in result.output
        assert "Traceback" not in result.output


def test_parse_mapping():
    assert parse_mapping(["a=b", " c = d e "]) == {"a": "b", "c": "d e"}
    with pytest.raises(InvalidParameterError, match="Got 'x=' instead"):
        parse_mapping(["x="])


HEADER = "order_id,customer_id,ordered_at,product_id,quantity,unit_price"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "o1,c1,2024-01-01,p1,1,nan\n",
            "error: orders.csv: unit_price: not a finite number in 1 row (row 2); got 'nan'. "
            "Expected a finite number (not NaN or infinity).",
        ),
        (
            "o1,c1,2024-01-01,p1,1,2\no2,c1,2024-01-02,p1,1\n",
            "error: orders.csv: row 3 has 5 fields but the header has 6",
        ),
        (
            "o1,c1,2024-01-01,p1,1,2\no2,c1,2024-01-02,p1,1," + "x" * 2_100_000 + "\n",
            "error: orders.csv: row 3, column 'unit_price': the field is too large (2,100,000 bytes; the row is 2,100,022).",
        ),
    ],
    ids=["nan-price", "ragged-row", "field-over-2mb"],
)
def test_bad_rows_exit_1_with_the_row_named_never_internal_error(ws_path, tmp_path, body, message):
    path = tmp_path / "orders.csv"
    path.write_text(HEADER + "\n" + body)
    result = runner.invoke(app, ["-w", ws_path, "ingest", "orders", str(path)])
    assert result.exit_code == 1, result.output
    assert message in result.output
    assert "internal error" not in result.output and "Traceback" not in result.output
    with Workspace.open(ws_path) as ws:
        assert ws.row_counts()["order_lines"] == 0


def test_a_directory_exits_1_and_lists_what_it_holds(ws_path, tmp_path):
    folder = tmp_path / "some_dir"
    folder.mkdir()
    (folder / "orders.csv").write_text(HEADER + "\n")
    result = runner.invoke(app, ["-w", ws_path, "ingest", "orders", str(folder) + "/"])
    assert result.exit_code == 1, result.output
    assert result.output.strip() == (
        "error: some_dir: is a directory, not a file; it holds 1 entry (orders.csv). Expected one data file. "
        "Hint: pass one file, e.g. some_dir/orders.csv."
    )


def test_blank_rows_are_reported_as_skipped(ws_path, tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text(HEADER + "\no1,c1,2024-01-01,p1,1,2\n,,,,,\n,,,,,\n")
    result = runner.invoke(app, ["-w", ws_path, "ingest", "orders", str(path)])
    assert result.exit_code == 0, result.output
    assert re.search(r"blank row \(every field empty, skipped\)\s*│\s*2 │", result.output), result.output


def test_out_of_memory_is_a_clear_error_and_changes_nothing(tmp_path, cdnow_sample_path):
    """DuckDB's OutOfMemoryException (caught without importing DuckDB for `--help`) names the cap and the setting,
    and the ingest is rolled back. In its own process: DuckDB refuses a second configuration of one open file."""
    import os
    import subprocess
    import sys

    ws_path = str(tmp_path / "ws.duckdb")
    Workspace.init(ws_path).close()
    shopseg = [sys.executable, "-c", "from shopseg.cli.main import main; main()"]
    args = ["-w", ws_path, "ingest", "orders", str(cdnow_sample_path), "--preset", "cdnow_sample"]
    env = {**os.environ, "SHOPSEG_DUCKDB_MEMORY_LIMIT": "256KB", "COLUMNS": "200"}
    result = subprocess.run([*shopseg, *args], capture_output=True, text=True, env=env, timeout=120)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "out of memory: the command needed more than the workspace's memory cap (256KB" in output
    assert "Traceback" not in output and "internal error" not in output
    with Workspace.open(ws_path, read_only=True) as ws:
        assert ws.row_counts()["orders"] == 0
