"""The dashboard's aggregates against plain pandas over the same tables (the obviously correct slow way)."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest

from shopseg.web import queries
from shopseg.workspace import Workspace
from tests.web.conftest import DemoStore, has_experiments


@pytest.fixture(scope="module")
def ws(demo_store: DemoStore, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    import shutil

    path = tmp_path_factory.mktemp("queries") / "q.duckdb"
    shutil.copyfile(demo_store.copy, path)  # type: ignore[arg-type]
    with Workspace.open(path, read_only=True) as w:
        yield w


def _df(ws: Workspace, table: str) -> pd.DataFrame:
    return ws.con.execute(f'SELECT * FROM "{table}"').df()


def test_rfm_grid_counts_equal_pandas(ws):
    rfm = _df(ws, "customer_rfm").dropna(subset=["r_score"])
    oracle = rfm.groupby(["r_score", "f_score"]).size().rename("customers").reset_index()
    grid = queries.rfm_grid(ws)
    assert grid[["r_score", "f_score", "customers"]].astype(int).values.tolist() == oracle.astype(int).values.tolist()


def test_prediction_bands_and_histogram_cover_every_buyer(ws):
    pred = _df(ws, "customer_predictions")
    s = queries.prediction_summary(ws)
    assert int(s["clv_hist"]["customers"].sum()) == len(pred)
    oracle = pred["churn_risk"].value_counts()
    assert {r.churn_risk: r.customers for r in s["risk"].itertuples()} == oracle.to_dict()
    assert s["totals"]["clv"] == pytest.approx(pred["clv"].sum())
    hist = s["clv_hist"]
    assert (hist["low"] < hist["high"]).all() and hist["low"].iloc[0] == 0.0


def test_saved_segment_sizes_come_from_the_latest_snapshot(ws):
    sizes = queries.saved_segment_sizes(ws).set_index("name")
    snaps = _df(ws, "segment_snapshots")
    latest = snaps[snaps["as_of"] == snaps["as_of"].max()].groupby("name").size()
    assert sizes.loc["loyal", "size"] == latest["loyal"]
    feats = _df(ws, "customer_features")
    loyal = feats[feats["customer_id"].isin(snaps.loc[snaps["name"] == "loyal", "customer_id"])]
    assert sizes.loc["loyal", "revenue_share"] == pytest.approx(loyal["revenue"].sum() / feats["revenue"].sum())


def test_latest_events_page_backwards_without_gaps(ws):
    first = queries.latest_events(ws, limit=30)
    second = queries.latest_events(ws, limit=30, before=first["occurred_at"].iloc[-1].isoformat())
    events = _df(ws, "events").sort_values(["occurred_at", "event_id"], ascending=False)
    assert first["event_id"].tolist() == events["event_id"].head(30).tolist()
    assert second["occurred_at"].max() < first["occurred_at"].min()


def test_experiments_results_or_empty_state_and_clusters(ws):
    results = queries.experiment_results(ws)
    if has_experiments():
        [exp] = results
        rows = exp["rows"].set_index("variant")
        assert int(rows["customers"].sum()) == len(_df(ws, "experiment_assignments"))
        treat = rows.loc["treatment"]
        assert treat["lift_low"] <= treat["lift"] <= treat["lift_high"]
    else:
        assert results is None
    profiles = queries.cluster_profiles(ws)
    assert int(profiles["customers"].sum()) == len(_df(ws, "customer_clusters"))


def test_top_cells_are_ordered_by_revenue_as_titled(ws):
    """Issue 20: "Top 25 cells by revenue" was sorted by name."""
    _, top, _ = queries.region_tables(ws)
    assert len(top) == 25 and top["revenue"].is_monotonic_decreasing
