"""``load_cluster_frame`` reads only what clustering and profiling use (issue 18: the feature table has ~50 columns)."""

from __future__ import annotations

import pytest

from shopseg.datasets import generate_store, write_store
from shopseg.features import build_features
from shopseg.models.cluster import DEFAULT_FEATURES
from shopseg.models.cluster.workspace import cluster_workspace, load_cluster_frame
from shopseg.workspace import Workspace


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    with Workspace.init(tmp_path_factory.mktemp("frame") / "shop.duckdb") as w:
        write_store(w, generate_store(800, seed=5))
        build_features(w)
        yield w


def test_default_features_and_the_profile_columns_only(ws):
    frame = load_cluster_frame(ws)
    assert list(frame.columns) == ["customer_id", *DEFAULT_FEATURES]  # orders and revenue are default features
    assert (frame["orders"] > 0).all()
    assert frame["customer_id"].is_monotonic_increasing
    every = ws.con.execute("SELECT count(*) FROM customer_features").fetchone()[0]
    assert len(load_cluster_frame(ws, include_prospects=True)) == every > len(frame)


def test_chosen_features_add_only_themselves(ws):
    frame = load_cluster_frame(ws, features=["share_outdoor", "orders"])
    assert list(frame.columns) == ["customer_id", "orders", "revenue", "share_outdoor"]


def test_an_unknown_feature_is_still_reported_by_name(ws):
    from shopseg.errors import InvalidParameterError

    with pytest.raises(InvalidParameterError, match="unknown feature 'revnue'.*Did you mean 'revenue'"):
        cluster_workspace(ws, 3, features=["revnue"])
