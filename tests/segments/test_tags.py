"""Store tags in rules: Shopify's customer Tags reach `tags`, and `segment fields` lists the workspace's fields."""

from __future__ import annotations

from typer.testing import CliRunner

from shopseg.cli.main import app
from shopseg.engine import get_engine
from shopseg.features import build_features
from shopseg.io import ingest
from shopseg.segments.definitions import SegmentStore
from shopseg.segments.query import SegmentQuery
from tests.io.foreign_stores import shopify_store


def test_shopify_tags_select_customers(workspace, tmp_path):
    shopify_store(tmp_path)
    ingest(workspace, "orders", tmp_path / "orders_export_1.csv")
    ingest(workspace, "customers", tmp_path / "customers_export.csv")  # Ann is tagged 'vip'
    build_features(workspace)
    store = SegmentStore(workspace)
    q = SegmentQuery(store, get_engine(workspace, "duckdb"))
    members = q.members(q.rule("tags CONTAINS 'vip'")).select("customer_id").execute()
    ann = workspace.con.execute("SELECT customer_id FROM customers WHERE email = 'ann@example.com'").fetchone()[0]
    assert members["customer_id"].tolist() == [ann]
    assert "tags" in store.fields.names()


def test_segment_fields_lists_the_workspace_attributes(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("customer_id,email,loyalty_tier\nc1,a@example.com,gold\nc2,b@example.com,silver\n")
    ws = str(tmp_path / "ws.duckdb")
    runner = CliRunner()
    assert runner.invoke(app, ["-w", ws, "init"]).exit_code == 0
    assert runner.invoke(app, ["-w", ws, "ingest", "customers", str(path)]).exit_code == 0
    result = runner.invoke(app, ["-w", ws, "segment", "fields"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "attr_loyalty_tier" in result.output and "tags" in result.output
