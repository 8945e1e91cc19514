"""`shopseg features build|show` on the tiny hand-made store."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from shopseg.cli.main import app
from shopseg.workspace import Workspace
from tests.features.tiny_store import load_tiny

runner = CliRunner()


def _tiny_path(tmp_path: Path) -> str:
    path = tmp_path / "tiny.duckdb"
    with Workspace.init(path) as ws:
        load_tiny(ws)
    return str(path)


def test_build_prints_rows_time_unit_and_as_of(tmp_path):
    ws = _tiny_path(tmp_path)
    result = runner.invoke(
        app, ["--workspace", ws, "features", "build", "--as-of", "2024-01-31", "--time-unit", "weeks"]
    )
    assert result.exit_code == 0, result.output
    assert "customer_features: 4 rows" in result.output
    assert "time unit: weeks" in result.output
    assert "as of 2024-01-31" in result.output
    assert "repeat buyers" in result.output
    with Workspace.open(ws, read_only=True) as opened:
        assert opened.meta("features_time_unit") == "weeks"
        assert opened.meta("features_as_of") == "2024-01-31"


def test_build_defaults_to_latest_order_and_days(tmp_path):
    ws = _tiny_path(tmp_path)
    result = runner.invoke(app, ["--workspace", ws, "features", "build"])
    assert result.exit_code == 0, result.output
    assert "as of 2024-02-02" in result.output
    assert "time unit: days" in result.output


def test_show_prints_one_customer(tmp_path):
    ws = _tiny_path(tmp_path)
    assert runner.invoke(app, ["--workspace", ws, "features", "build", "--as-of", "2024-01-31"]).exit_code == 0
    result = runner.invoke(app, ["--workspace", ws, "features", "show", "c1"])
    assert result.exit_code == 0, result.output
    assert "frequency" in result.output and "monetary_value" in result.output
    assert "13.82" in result.output  # monetary_value 13.825 printed to cents
    assert "true" in result.output  # email_marketing printed as a flag, not 1
    assert "time unit: days" in result.output


def test_show_unknown_customer_exits_1_with_hint(tmp_path):
    ws = _tiny_path(tmp_path)
    assert runner.invoke(app, ["--workspace", ws, "features", "build"]).exit_code == 0
    result = runner.invoke(app, ["--workspace", ws, "features", "show", "c11"])
    assert result.exit_code == 1
    assert "no customer 'c11'" in result.output
    assert "Traceback" not in result.output


def test_show_before_build_exits_1(tmp_path):
    result = runner.invoke(app, ["--workspace", _tiny_path(tmp_path), "features", "show", "c1"])
    assert result.exit_code == 1
    assert "shopseg features build" in result.output


def test_bad_as_of_exits_2(tmp_path):
    result = runner.invoke(app, ["--workspace", _tiny_path(tmp_path), "features", "build", "--as-of", "31/01/2024"])
    assert result.exit_code == 2
    assert "YYYY-MM-DD" in result.output
    assert "Traceback" not in result.output


def test_bad_time_unit_exits_2(tmp_path):
    result = runner.invoke(app, ["--workspace", _tiny_path(tmp_path), "features", "build", "--time-unit", "week"])
    assert result.exit_code == 2
    assert "Did you mean 'weeks'" in result.output


def test_empty_workspace_exits_1(tmp_path):
    ws = str(tmp_path / "empty.duckdb")
    Workspace.init(ws).close()
    result = runner.invoke(app, ["--workspace", ws, "features", "build"])
    assert result.exit_code == 1
    assert "orders table is empty" in result.output
    assert "Traceback" not in result.output


def test_show_finds_a_shopify_customer_by_email_and_explains_a_late_signup(tmp_path):
    """Shopify's presets key customers by a hash of the e-mail: `features show` takes the address. A customer
    who signed up after the features' date has no row, and the message says why."""
    from shopseg.io import ingest
    from shopseg.workspace import Workspace
    from tests.io.foreign_stores import shopify_store

    shopify_store(tmp_path)
    ws = str(tmp_path / "shop.duckdb")
    with Workspace.init(ws) as w:
        ingest(w, "orders", tmp_path / "orders_export_1.csv")
        ingest(w, "customers", tmp_path / "customers_export.csv")
        w.con.execute("INSERT INTO customers (customer_id, signup_at) VALUES ('late', TIMESTAMP '2030-01-01')")
    assert runner.invoke(app, ["--workspace", ws, "features", "build", "--as-of", "2024-06-30"]).exit_code == 0
    result = runner.invoke(app, ["--workspace", ws, "features", "show", "Ann@Example.com", "--json"])
    assert result.exit_code == 0, result.output
    assert '"customer_id": "shopify:' in result.output and '"orders": 2' in result.output
    result = runner.invoke(app, ["--workspace", ws, "features", "show", "late"])
    assert result.exit_code == 1
    assert "customer 'late' has no row as of 2024-06-30" in result.output and "--as-of" in result.output
