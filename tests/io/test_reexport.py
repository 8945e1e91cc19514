"""A newer export of the same store over an older one (``ingest(..., existing=...)``, ``--existing``).

Store owners export "all orders" again a month later: the file repeats every order already loaded, some of
them changed since (refunded, cancelled). The fixture is a real-shaped Shopify "Export orders" CSV
(tests/io/data/shopify_orders.csv); its older export is the same file before order #1003 was refunded and
before orders #1004-#1006 were placed.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from shopseg.cli.main import app
from shopseg.errors import InvalidParameterError, SchemaError
from shopseg.io import ingest
from shopseg.workspace import Workspace

NEWER = Path(__file__).parent / "data" / "shopify_orders.csv"
DERIVED = ("orders", "order_lines", "order_totals", "purchase_days", "customers", "products")


def _older(tmp_path: Path) -> Path:
    """The export of a week earlier: #1001-#1003 only, and #1003 still paid."""
    header, *rows = NEWER.read_text(encoding="utf-8").splitlines()
    rows = [r.replace(",refunded,", ",paid,") for r in rows if r.split(",")[0] in ("#1001", "#1002", "#1003")]
    path = tmp_path / "orders_export_older.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def _loaded(tmp_path: Path, name: str) -> Workspace:
    ws = Workspace.init(tmp_path / name)
    ingest(ws, "orders", _older(tmp_path))
    return ws


def _rows(ws: Workspace, table: str) -> list[tuple]:
    return ws.con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()


def test_a_newer_export_is_refused_by_default_with_a_hint_naming_both_choices(tmp_path):
    ws = _loaded(tmp_path, "ws.duckdb")
    before = {t: _rows(ws, t) for t in DERIVED}
    with pytest.raises(SchemaError) as err:
        ingest(ws, "orders", NEWER)
    message = str(err.value)
    assert "order already in the workspace" in message and "got '#1001'" in message
    assert "--existing replace" in message and "--existing skip" in message
    assert {t: _rows(ws, t) for t in DERIVED} == before  # nothing written


def test_replace_gives_the_store_a_fresh_load_of_the_newer_export_would(tmp_path):
    ws = _loaded(tmp_path, "ws.duckdb")
    report = ingest(ws, "orders", NEWER, existing="replace")
    fresh = Workspace.init(tmp_path / "fresh.duckdb")
    ingest(fresh, "orders", NEWER)
    for table in DERIVED:
        assert _rows(ws, table) == _rows(fresh, table), table
    # the refund that happened since the older export is there: #1003's sale and its return line
    assert ws.con.execute("SELECT count(*) FROM order_lines WHERE order_id = '#1003' AND is_return").fetchone() == (1,)
    assert report.updated == {"orders": 3}  # #1001-#1003 replaced
    assert report.added["orders"] == 2  # #1004 and #1005 (#1006 is a guest checkout: flagged)


def test_skip_loads_only_the_new_orders_and_leaves_the_stored_ones_as_they_were(tmp_path):
    ws = _loaded(tmp_path, "ws.duckdb")
    stored = ws.con.execute("SELECT * FROM order_lines WHERE order_id <= '#1003' ORDER BY ALL").fetchall()
    report = ingest(ws, "orders", NEWER, existing="skip")
    assert ws.con.execute("SELECT * FROM order_lines WHERE order_id <= '#1003' ORDER BY ALL").fetchall() == stored
    assert report.reasons["order already in the workspace, skipped (flagged, not kept)"] == 4  # #1001 x2, #1002, #1003
    assert report.added["orders"] == 2 and not report.updated
    orders = [r[0] for r in ws.con.execute("SELECT order_id FROM orders ORDER BY 1").fetchall()]
    assert orders == ["#1001", "#1002", "#1003", "#1004", "#1005"]
    # the stored totals were extended, not re-summed from a stale base: they match the lines
    fresh = Workspace.init(tmp_path / "fresh.duckdb")
    ingest(fresh, "orders", NEWER)
    want = [r for r in _rows(fresh, "order_totals") if r[1] != "#1003"]
    assert [r for r in _rows(ws, "order_totals") if r[1] != "#1003"] == want


def test_replace_is_all_or_nothing(tmp_path):
    ws = _loaded(tmp_path, "ws.duckdb")
    before = {t: _rows(ws, t) for t in DERIVED}
    bad = tmp_path / "newer_with_a_bad_row.csv"
    text = NEWER.read_text(encoding="utf-8").replace(",2024-03-11 08:58:00 -0500,", ",11/03/2024 nonsense,")
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(SchemaError, match="Created at"):
        ingest(ws, "orders", bad, existing="replace")
    assert {t: _rows(ws, t) for t in DERIVED} == before


def test_existing_takes_three_values(workspace):
    with pytest.raises(InvalidParameterError, match=r"'existing' must be one of \['error', 'skip', 'replace'\]"):
        ingest(workspace, "orders", NEWER, existing="merge")


def test_cli_existing(tmp_path):
    cli_runner = CliRunner()
    ws = _loaded(tmp_path, "ws.duckdb")
    ws.close()
    path = str(tmp_path / "ws.duckdb")
    result = cli_runner.invoke(app, ["-w", path, "ingest", "orders", str(NEWER), "--existing", "replace"])
    assert result.exit_code == 0, result.output
    assert "updated in orders" in result.output
    wrong = cli_runner.invoke(app, ["-w", path, "ingest", "customers", str(NEWER), "--existing", "skip"])
    assert wrong.exit_code == 2
    assert "--existing skip applies to orders (`shopseg ingest orders FILE` or --spec)" in " ".join(
        wrong.output.split()
    )


def test_a_newer_export_through_a_spec(tmp_path):
    """The same re-export loaded through the Shopify import spec (`--spec`, as stores without a preset load)."""
    from shopseg.io.draft import preset_text
    from shopseg.io.spec_ingest import ingest_spec

    older, spec = _older(tmp_path), tmp_path / "shopify.yaml"
    spec.write_text(preset_text("shopify_orders").replace("orders_export_1.csv", str(older)), encoding="utf-8")
    ws = Workspace.init(tmp_path / "ws.duckdb")
    ingest_spec(ws, spec)
    newer = tmp_path / "newer.yaml"
    newer.write_text(preset_text("shopify_orders").replace("orders_export_1.csv", str(NEWER)), encoding="utf-8")
    with pytest.raises(SchemaError, match="--existing replace"):
        ingest_spec(ws, newer)
    ingest_spec(ws, newer, existing="replace")
    fresh = Workspace.init(tmp_path / "fresh.duckdb")
    ingest_spec(fresh, newer)
    for table in DERIVED:
        assert _rows(ws, table) == _rows(fresh, table), table
    ws.close()
    result = CliRunner().invoke(
        app, ["-w", str(tmp_path / "ws.duckdb"), "ingest", "--spec", str(newer), "--existing", "skip"]
    )
    assert result.exit_code == 0, result.output
    assert "order already in the workspace, skipped" in result.output
