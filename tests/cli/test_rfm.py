"""`shopseg rfm` through the CLI runner: the 11-segment table, clean errors."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from shopseg.cli import _common
from shopseg.cli.main import app
from shopseg.segments.rfm_map import RFM_SEGMENTS
from shopseg.workspace import Workspace

runner = CliRunner()


@pytest.fixture(autouse=True)
def wide_console(monkeypatch):
    """Rich wraps long segment names at 80 columns; give the shared console room."""
    monkeypatch.setattr(_common.console, "width", 160)


@pytest.fixture
def shop_path(tmp_path):
    ws = Workspace.init(tmp_path / "shop.duckdb")
    end = pd.Timestamp("2024-12-31 12:00")
    orders, lines = [], []
    for i in range(1, 31):  # buyer i: i % 7 + 1 orders, every (i + 3) days back from day i
        for k in range(i % 7 + 1):
            oid = f"o{i}-{k}"
            orders.append((oid, f"c{i:02d}", str(end - pd.Timedelta(days=i * 3 + k * (i + 3)))))
            lines.append((oid, 1, "p1", 1 + (i * 7) % 5, 9.99))
    ws.con.executemany("INSERT INTO orders (order_id, customer_id, ordered_at) VALUES (?, ?, ?)", orders)
    ws.con.executemany(
        "INSERT INTO order_lines (order_id, line_number, product_id, quantity, unit_price) VALUES (?, ?, ?, ?, ?)",
        lines,
    )
    ws.close()
    return str(tmp_path / "shop.duckdb")


def test_rfm_prints_the_eleven_segments_and_stores_scores(shop_path):
    result = runner.invoke(app, ["--workspace", shop_path, "rfm"])
    assert result.exit_code == 0, result.output
    for name in RFM_SEGMENTS:
        assert name in result.output
    assert "customer_rfm: 30 customers, 30 scored (with a purchase) · as of 2024-12-28" in result.output
    assert "% revenue" in result.output
    with Workspace.open(shop_path, read_only=True) as ws:
        assert ws.con.execute("SELECT count(*) FROM customer_rfm WHERE r_score BETWEEN 1 AND 5").fetchone()[0] == 30


def test_rfm_bins_option(shop_path):
    result = runner.invoke(app, ["--workspace", shop_path, "rfm", "--bins", "3"])
    assert result.exit_code == 0, result.output
    assert "3 bins" in result.output
    with Workspace.open(shop_path, read_only=True) as ws:
        assert ws.con.execute("SELECT max(r_score) FROM customer_rfm").fetchone()[0] == 3


def test_rfm_bad_bins_is_a_usage_error(shop_path):
    result = runner.invoke(app, ["--workspace", shop_path, "rfm", "--bins", "12"])
    assert result.exit_code == 2
    assert "The 'bins' parameter must be an int in the range [2, 9]" in result.output
    assert "Traceback" not in result.output


def test_rfm_on_empty_workspace_fails_cleanly(tmp_path):
    path = str(tmp_path / "empty.duckdb")
    Workspace.init(path).close()
    result = runner.invoke(app, ["--workspace", path, "rfm"])
    assert result.exit_code == 1
    assert "the orders table is empty" in result.output
    assert "Traceback" not in result.output


def test_rfm_without_workspace_fails_cleanly(tmp_path):
    result = runner.invoke(app, ["--workspace", str(tmp_path / "none.duckdb"), "rfm"])
    assert result.exit_code == 1
    assert "no workspace here" in result.output and "Traceback" not in result.output
