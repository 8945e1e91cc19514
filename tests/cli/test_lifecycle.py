"""`shopseg lifecycle` through the CLI runner: thresholds, overrides, stage counts, clean errors."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from shopseg.cli import _common
from shopseg.cli.main import app
from shopseg.segments.lifecycle import LIFECYCLE_STAGES
from shopseg.workspace import Workspace

runner = CliRunner()

# gaps between purchase days: 1..10 for k (p50 = 5, p90 = 9, lapsed = 18); the latest order is 2024-02-25
ORDERS = [
    ("k", d)
    for d in ("01-01", "01-02", "01-04", "01-07", "01-11", "01-16", "01-22", "01-29", "02-06", "02-15", "02-25")
] + [("s", "02-20"), ("old", "01-01")]


@pytest.fixture(autouse=True)
def wide_console(monkeypatch):
    monkeypatch.setattr(_common.console, "width", 160)


@pytest.fixture
def shop_path(tmp_path):
    ws = Workspace.init(tmp_path / "shop.duckdb")
    rows = [(f"o{i}", cid, f"2024-{day} 10:00") for i, (cid, day) in enumerate(ORDERS)]
    ws.con.executemany("INSERT INTO orders (order_id, customer_id, ordered_at) VALUES (?, ?, ?)", rows)
    ws.con.executemany(
        "INSERT INTO order_lines (order_id, line_number, product_id, quantity, unit_price) VALUES (?, 1, 'p', 1, 5.0)",
        [(r[0],) for r in rows],
    )
    ws.con.execute("INSERT INTO customers (customer_id) VALUES ('prospect')")
    ws.close()
    return str(tmp_path / "shop.duckdb")


def _counts(output: str) -> dict[str, int]:
    counts = {}
    for line in output.splitlines():
        cells = [c.strip() for c in line.replace("┃", "│").split("│") if c.strip()]
        if len(cells) == 3 and cells[0] in LIFECYCLE_STAGES:
            counts[cells[0]] = int(cells[1].replace(",", ""))
    return counts


def test_lifecycle_derives_thresholds_and_prints_stages(shop_path):
    result = runner.invoke(app, ["--workspace", shop_path, "lifecycle"])
    assert result.exit_code == 0, result.output
    assert "p50 of 10 gaps" in result.output and "p90 of 10 gaps" in result.output
    assert "as of 2024-02-25" in result.output
    # k: last purchase today, previous gap 10 <= 18 -> repeat; s: 5 days ago, first 5 days ago <= 5 -> new;
    # old: 55 days > 18 -> lapsed; prospect: no order
    assert _counts(result.output) == {
        "new": 1,
        "active": 0,
        "repeat": 1,
        "reactivated": 0,
        "lapsing": 0,
        "lapsed": 1,
        "prospect": 1,
    }


def test_lifecycle_overrides(shop_path):
    args = ["--workspace", shop_path, "lifecycle", "--active-days", "3", "--lapsed-days", "60", "--new-days", "2"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert result.output.count("given") == 3
    # s is now 5 days ago > 3 -> lapsing; old (55 days) <= 60 -> lapsing
    assert _counts(result.output)["lapsing"] == 2
    with Workspace.open(shop_path, read_only=True) as ws:
        stages = dict(ws.con.execute("SELECT customer_id, stage FROM customer_lifecycle").fetchall())
    assert stages == {"k": "repeat", "s": "lapsing", "old": "lapsing", "prospect": "prospect"}


def test_lifecycle_bad_override_is_a_usage_error(shop_path):
    result = runner.invoke(app, ["--workspace", shop_path, "lifecycle", "--active-days", "30", "--lapsed-days", "10"])
    assert result.exit_code == 2
    assert "'lapsed_days' must be greater than 'active_days'" in result.output
    assert "Traceback" not in result.output


def test_lifecycle_on_empty_workspace_fails_cleanly(tmp_path):
    path = str(tmp_path / "empty.duckdb")
    Workspace.init(path).close()
    result = runner.invoke(app, ["--workspace", path, "lifecycle"])
    assert result.exit_code == 1
    assert "the orders table is empty" in result.output and "Traceback" not in result.output
