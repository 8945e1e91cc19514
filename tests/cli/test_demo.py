from __future__ import annotations

from typer.testing import CliRunner

from shopseg.cli import _common
from shopseg.cli.demo import EXAMPLE_SEGMENTS
from shopseg.cli.main import app
from shopseg.workspace import Workspace

runner = CliRunner()


def test_demo_runs_end_to_end_and_writes_report(tmp_path, monkeypatch):
    monkeypatch.setattr(_common.console, "width", 250)
    result = runner.invoke(app, ["demo", "--customers", "600", "--dir", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    report = tmp_path / "demo" / "report.html"
    assert report.exists() and report.stat().st_size > 1_000_000
    assert "Report:" in result.output and "RFM segments" in result.output
    with Workspace.open(tmp_path / "demo" / "shopseg.duckdb", read_only=True) as ws:
        counts = ws.row_counts()
        assert counts["customers"] == 600
        assert counts["orders"] > 600
        assert {"customer_features", "customer_rfm"} <= set(ws.tables())
        # every buyer got an RFM segment
        buyers = ws.con.execute(
            """SELECT count(DISTINCT o.customer_id) FROM orders o JOIN order_lines l USING (order_id)
               WHERE NOT o.is_cancelled AND l.quantity > 0 AND l.unit_price >= 0"""
        ).fetchone()[0]
        scored = ws.con.execute("SELECT count(*) FROM customer_rfm WHERE r_score IS NOT NULL").fetchone()[0]
        assert scored == buyers
    with Workspace.open(tmp_path / "demo" / "shopseg.duckdb", read_only=True) as ws:
        tables = set(ws.tables())
        assert {"customer_interests", "customer_predictions", "customer_clusters", "segment_snapshots"} <= tables
        # every saved example segment got a snapshot whose size the summary prints
        sizes = dict(ws.con.execute("SELECT name, count(*) FROM segment_snapshots GROUP BY name").fetchall())
        n_clusters = ws.con.execute("SELECT count(DISTINCT cluster) FROM customer_clusters").fetchone()[0]
    assert set(sizes) <= {name for name, _, _ in EXAMPLE_SEGMENTS} and sizes
    for name, rule, _ in EXAMPLE_SEGMENTS:
        assert name in result.output and rule in result.output
    assert n_clusters == 6 and "Clusters (k-means, named)" in result.output and "Predictions" in result.output
    html = report.read_text(encoding="utf-8")
    assert "RFM segments" in html and "Lifecycle stages" in html


def test_demo_rejects_tiny_store(tmp_path):
    result = runner.invoke(app, ["demo", "--customers", "5", "--dir", str(tmp_path / "d")])
    assert result.exit_code == 2
    assert "at least 100" in result.output
    assert "Traceback" not in result.output
