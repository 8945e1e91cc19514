"""Demographic / geographic breakdown of a segment against a pandas oracle over the same feature table."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from shopseg.cli import _common
from shopseg.cli.main import app
from shopseg.datasets import generate_store, write_store
from shopseg.engine import get_engine
from shopseg.errors import InvalidParameterError
from shopseg.features import build_features
from shopseg.rules.parse import parse_segment
from shopseg.segments.breakdown import BREAKDOWN_DIMENSIONS, UNKNOWN, segment_breakdown
from shopseg.segments.definitions import SegmentStore
from shopseg.workspace import Workspace

RULE = "orders >= 2 AND revenue > 150"


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    path = tmp_path_factory.mktemp("breakdown") / "shop.duckdb"
    with Workspace.init(path) as ws:
        write_store(ws, generate_store(1_200, seed=4))
        feats = build_features(ws, engine="duckdb")
    return path, feats


@pytest.mark.parametrize("by", BREAKDOWN_DIMENSIONS)
def test_breakdown_matches_a_pandas_oracle(shop, by):
    path, feats = shop
    members = feats[(feats.orders >= 2) & (feats.revenue > 150)]
    key = lambda df: df[by].astype(object).where(df[by].notna(), UNKNOWN)  # noqa: E731
    expected = members.groupby(key(members)).agg(members=("customer_id", "size"), revenue=("revenue", "sum"))
    everyone = feats.groupby(key(feats)).size()
    with Workspace.open(path, read_only=True) as ws:
        store = SegmentStore(ws)
        got = segment_breakdown(get_engine(ws, "duckdb"), store, parse_segment(RULE), by).set_index(by)
    assert got["members"].sum() == len(members) > 50
    assert got["members"].to_dict() == expected["members"].to_dict()
    assert got["revenue"].to_numpy() == pytest.approx(expected.loc[got.index, "revenue"].to_numpy(), abs=0.01)
    share = expected["members"] / len(members)
    index = share / (everyone[share.index] / len(feats))
    assert got["index"].to_numpy() == pytest.approx(index[got.index].to_numpy())
    assert got["share"].sum() == pytest.approx(1.0) and got["revenue_share"].sum() == pytest.approx(1.0)
    assert list(got["members"]) == sorted(got["members"], reverse=True)


def test_unknown_dimension_is_refused_with_the_choices(shop):
    path, _ = shop
    with (
        Workspace.open(path, read_only=True) as ws,
        pytest.raises(InvalidParameterError, match="'by' parameter must be one of"),
    ):
        segment_breakdown(get_engine(ws, "duckdb"), SegmentStore(ws), parse_segment(RULE), "shoe_size")


def test_cli_breakdown_of_a_saved_segment(shop, monkeypatch):
    path, feats = shop
    monkeypatch.setattr(_common.console, "width", 200)
    runner = CliRunner()
    r = runner.invoke(app, ["-w", str(path), "segment", "create", "regulars", RULE])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["-w", str(path), "segment", "breakdown", "regulars", "--by", "gender", "--top", "0"])
    assert r.exit_code == 0, r.output
    n = int(((feats.orders >= 2) & (feats.revenue > 150)).sum())
    assert f"regulars by gender ({n:,} members" in r.output and "index vs all" in r.output
    r = runner.invoke(app, ["-w", str(path), "segment", "breakdown", "regulars", "--by", "shoe_size"])
    assert r.exit_code == 2 and "Traceback" not in r.output
