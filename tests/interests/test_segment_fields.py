"""Interest scores and flags as segment fields: SQL membership equals the table and the Python evaluator."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from shopseg.cli import _common
from shopseg.cli.main import app
from shopseg.datasets import generate_store, write_store
from shopseg.engine import get_engine
from shopseg.errors import SegmentError
from shopseg.features import build_features
from shopseg.interests import INTERESTS_TABLE, build_interests
from shopseg.rules.compile import segment_members
from shopseg.rules.evaluate import evaluate_segment
from shopseg.rules.parse import parse_segment
from shopseg.segments.customer_view import customer_profile
from shopseg.segments.definitions import SegmentStore
from shopseg.workspace import Workspace

RULE = "outdoor_enthusiast = true AND price_premium < 0.5 AND interests CONTAINS 'outdoor'"


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    path = tmp_path_factory.mktemp("interest_fields") / "shop.duckdb"
    with Workspace.init(path) as ws:
        write_store(ws, generate_store(1_500, seed=5))
        build_features(ws, engine="duckdb", return_frame=False)
        table = build_interests(ws)
    return path, table


def test_interest_columns_become_typed_fields(shop):
    path, table = shop
    with Workspace.open(path, read_only=True) as ws:
        fields = SegmentStore(ws).fields
    assert (
        fields.get("outdoor_enthusiast").type == "boolean" and fields.get("outdoor_enthusiast").table == INTERESTS_TABLE
    )
    assert fields.get("affinity_outdoor").type == "number" and fields.get("interests").type == "string"
    with pytest.raises(SegmentError, match="'bargain_hunter' is a boolean"):
        with Workspace.open(path, read_only=True) as ws:
            SegmentStore(ws).check("bargain_hunter = 'yes'")


def test_compiled_members_equal_the_table_and_the_evaluator(shop):
    path, table = shop
    expected = table[table.outdoor_enthusiast & (table.price_premium < 0.5) & table.interests.str.contains("outdoor")]
    assert len(expected) > 20
    with Workspace.open(path, read_only=True) as ws:
        store = SegmentStore(ws)
        seg = parse_segment(RULE)
        members = segment_members(get_engine(ws, "duckdb"), seg, as_of=store.as_of(), fields=store.fields).to_pandas()
        assert sorted(members["customer_id"]) == sorted(expected["customer_id"])
        # the live path: one profile at a time, members and non-members alike
        sample = [
            *expected["customer_id"][:15],
            *table.loc[~table.customer_id.isin(expected.customer_id), "customer_id"][:15],
        ]
        for cid in sample:
            profile, events, orders = customer_profile(store, cid)
            held = evaluate_segment(seg, profile, events, as_of=store.as_of(), fields=store.fields, orders=orders)
            assert held == (cid in set(expected["customer_id"])), cid


def test_cli_scores_interests_and_rules_use_them(tmp_path, monkeypatch):
    monkeypatch.setattr(_common.console, "width", 200)
    path = tmp_path / "ws.duckdb"
    with Workspace.init(path) as ws:
        write_store(ws, generate_store(800, seed=9))
    runner = CliRunner()
    r = runner.invoke(app, ["-w", str(path), "interests", "--half-life-days", "30"])
    assert r.exit_code == 0, r.output
    assert "outdoor_enthusiast" in r.output and "bargain_hunter" in r.output and "half-life 30 days" in r.output
    r = runner.invoke(app, ["-w", str(path), "features", "build"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["-w", str(path), "segment", "preview", "premium_buyer = true", "-n", "2"])
    assert r.exit_code == 0, r.output
    with Workspace.open(path, read_only=True) as ws:
        n = ws.con.execute(f"SELECT count(*) FROM {INTERESTS_TABLE} WHERE premium_buyer").fetchone()[0]
    assert f"size: {n:,} of 800 customers" in r.output
    r = runner.invoke(app, ["-w", str(path), "interests", "--half-life-days", "0"])
    assert r.exit_code == 2 and "half_life_days" in r.output and "Traceback" not in r.output
