"""The dashboard's stored aggregates: equal to plain pandas over the same tables, and never stale.

Each test works on its own copy of the demo store, through the app ``shopseg serve``
builds (``create_app(..., routers=dashboard_routers())``).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from shopseg.api import create_app
from shopseg.reports.aggregates import prediction_summary, saved_segment_sizes
from shopseg.reports.regions import region_performance
from shopseg.reports.summary import store_kpis
from shopseg.web import cache as dash_cache
from shopseg.web import dashboard_routers
from shopseg.web.cache import AGGREGATES, CACHE_TABLE, Aggregate, aggregate, start_warmup
from shopseg.web.queries import backtest_groups
from tests.web.conftest import DemoStore


@pytest.fixture()
def path(demo_store: DemoStore, tmp_path: Path) -> Path:
    out = tmp_path / "store.duckdb"
    shutil.copyfile(demo_store.copy, out)  # type: ignore[arg-type]
    return out


@pytest.fixture()
def app(path: Path) -> Iterator[object]:
    app = create_app(path, live=False, routers=dashboard_routers())
    yield app
    app.state.shopseg.close()


@pytest.fixture()
def state(app) -> object:
    return app.state.shopseg


def _sql(state, query: str) -> pd.DataFrame:
    with state.lock:
        return state.workspace.con.execute(query).df()


def _stored(state) -> pd.DataFrame:
    with state.lock:
        if not state.workspace.has_table(CACHE_TABLE):
            return pd.DataFrame(columns=["key", "version", "computed_at"])
    return _sql(state, f'SELECT key, version, computed_at FROM "{CACHE_TABLE}" ORDER BY key')


def _purchase_lines(state, min_price_exclusive: bool) -> pd.DataFrame:
    orders, lines = _sql(state, "SELECT * FROM orders"), _sql(state, "SELECT * FROM order_lines")
    df = lines.merge(orders, on="order_id")
    keep = ~df["is_cancelled"].fillna(False).astype(bool) & (df["quantity"] > 0)
    keep &= (df["unit_price"] > 0) if min_price_exclusive else (df["unit_price"] >= 0)
    df = df[keep].copy()
    df["value"] = df["quantity"] * df["unit_price"] - df["discount"].fillna(0)
    return df


def _oracle_totals(state) -> tuple[dict, pd.DataFrame]:
    """KPIs and monthly revenue by the features' definition of a purchase (shopseg.features.purchases):
    non-cancelled orders; lines with quantity > 0, unit price >= 0 and no return flag; each line's net value
    rounded to cents and never below zero."""
    df = _purchase_lines(state, False)
    df = df[~df["is_return"].fillna(False).astype(bool)].copy()
    df["value"] = (df["value"].clip(lower=0) * 100).round() / 100
    kpis = {
        "customers": len(_sql(state, "SELECT customer_id FROM customers")),
        "buyers": df["customer_id"].nunique(),
        "orders": df["order_id"].nunique(),
        "revenue": round(df["value"].sum(), 2),
        "first_order": str(df["ordered_at"].min().date()),
        "last_order": str(df["ordered_at"].max().date()),
    }
    df["month"] = df["ordered_at"].dt.to_period("M").dt.start_time
    monthly = df.groupby("month").agg(orders=("order_id", "nunique"), revenue=("value", "sum")).reset_index()
    monthly["revenue"] = monthly["revenue"].round(2)
    return kpis, monthly


def _oracle_region_revenue(state) -> pd.Series:
    df = _purchase_lines(state, False)
    df["value"] = df["value"].round(2)
    customers = _sql(state, "SELECT customer_id, region AS customer_region FROM customers")
    products = _sql(state, "SELECT product_id, category AS path FROM products")
    df = df.merge(customers, on="customer_id", how="left").merge(products, on="product_id", how="left")
    df["region"] = df["customer_region"].fillna(df["region"]).fillna("unknown")
    top = df["path"].fillna("").str.split(">").str[0].str.strip()
    df["category"] = top.where(top != "", "unknown")
    return df.groupby(["region", "category"])["value"].sum().round(2)


def test_order_totals_equal_pandas(state):
    kpis, monthly = _oracle_totals(state)
    got = aggregate(state, "order_totals")
    assert {k: got["kpis"][k] for k in kpis} == pytest.approx(kpis)
    assert got["kpis"]["avg_order_value"] == pytest.approx(kpis["revenue"] / kpis["orders"])
    months = got["monthly"]
    assert pd.to_datetime(months["month"]).tolist() == monthly["month"].tolist()
    assert months["orders"].tolist() == monthly["orders"].tolist()
    assert months["revenue"].tolist() == pytest.approx(monthly["revenue"].tolist(), abs=0.005)


def test_region_cells_equal_pandas(state):
    cells, top, trend = aggregate(state, "regions")
    oracle = _oracle_region_revenue(state)
    got = cells.set_index(["region", "category"])["revenue"].sort_index()
    assert got.index.tolist() == oracle.sort_index().index.tolist()
    assert got.tolist() == pytest.approx(oracle.sort_index().tolist(), abs=0.01)
    with state.lock:
        full = region_performance(state.workspace, by=["segment", "region", "category"], period="all")
    assert len(full) > 25 and len(top) == 25
    assert sorted(top["revenue"], reverse=True) == full["revenue"].sort_values(ascending=False).head(25).tolist()
    assert trend["revenue"].sum() == pytest.approx(oracle.sum(), abs=0.05)


def test_a_restart_reads_the_stored_aggregates_exactly(path):
    """The second app does not recompute (computed_at is unchanged) and returns the same frames, dtypes included."""
    app = create_app(path, live=False, routers=dashboard_routers())
    first = {key: aggregate(app.state.shopseg, key) for key in AGGREGATES}
    stored = _stored(app.state.shopseg)
    app.state.shopseg.close()

    app = create_app(path, live=False, routers=dashboard_routers())
    state = app.state.shopseg
    try:
        again = {key: aggregate(state, key) for key in AGGREGATES}
        pd.testing.assert_frame_equal(_stored(state), stored)
        assert sorted(stored["key"]) == sorted(AGGREGATES)
        with state.lock:  # the independent way: the same functions, computed now
            fresh_kpis = store_kpis(state.workspace)
            fresh_backtest = backtest_groups(_engine(state))
            fresh_cells = region_performance(state.workspace, by=["region", "category"], period="all")
            fresh_trend = region_performance(state.workspace, by=["region", "period"], period="quarter")
            fresh_sizes = saved_segment_sizes(state.workspace)
            fresh_predictions = prediction_summary(state.workspace)
    finally:
        state.close()
    assert again["order_totals"]["kpis"] == first["order_totals"]["kpis"] == fresh_kpis
    pd.testing.assert_frame_equal(again["order_totals"]["monthly"], first["order_totals"]["monthly"])
    pd.testing.assert_frame_equal(again["regions"][0], fresh_cells)
    pd.testing.assert_frame_equal(again["regions"][2], fresh_trend)
    pd.testing.assert_frame_equal(again["segment_sizes"], fresh_sizes)
    for name in ("clv_hist", "risk", "by_segment"):
        pd.testing.assert_frame_equal(again["predictions"][name], fresh_predictions[name])
    assert again["predictions"]["totals"] == fresh_predictions["totals"]
    assert again["predictions"]["meta"] == fresh_predictions["meta"]
    assert again["backtest"]["error"] == fresh_backtest["error"]
    if fresh_backtest["groups"] is not None:
        pd.testing.assert_frame_equal(again["backtest"]["groups"], fresh_backtest["groups"])
        assert again["backtest"]["mae"] == fresh_backtest["mae"] and again["backtest"]["info"] == fresh_backtest["info"]


def _engine(state):
    from shopseg.engine import get_engine

    return get_engine(state.workspace, "duckdb")


def test_an_ingest_in_the_server_invalidates_the_totals_and_regions(state, tmp_path):
    before, cells_before = aggregate(state, "order_totals")["kpis"], aggregate(state, "regions")[0]
    versions = _stored(state).set_index("key")["version"]
    row = _sql(
        state,
        """SELECT c.customer_id, c.region, p.product_id, split_part(p.category, '>', 1) AS top_category
                         FROM customers c, products p WHERE c.region IS NOT NULL AND p.category IS NOT NULL
                         ORDER BY c.customer_id, p.product_id LIMIT 1""",
    ).iloc[0]
    last = _sql(state, "SELECT max(ordered_at)::DATE AS d FROM orders")["d"].iloc[0]
    csv = tmp_path / "new.csv"
    csv.write_text(
        f"order_id,customer_id,ordered_at,product_id,quantity,unit_price\n"
        f"zz-new-1,{row.customer_id},{pd.Timestamp(last).date()},{row.product_id},2,7.25\n"
    )
    from shopseg.io import ingest

    with state.lock:
        ingest(state.workspace, "orders", csv)
    after, cells = aggregate(state, "order_totals")["kpis"], aggregate(state, "regions")[0]
    assert after["orders"] == before["orders"] + 1
    assert after["revenue"] == pytest.approx(before["revenue"] + 14.5)
    key = (row.region, row.top_category.strip())
    old = cells_before.set_index(["region", "category"])["revenue"]
    assert cells.set_index(["region", "category"])["revenue"][key] == pytest.approx(old.get(key, 0.0) + 14.5)
    now = _stored(state).set_index("key")["version"]
    assert now["order_totals"] != versions["order_totals"] and now["regions"] != versions["regions"]


def test_a_rebuilt_predictions_table_invalidates_the_regions_clv(state):
    cells, total = aggregate(state, "regions")[0], aggregate(state, "predictions")["totals"]["clv"]
    with state.lock:
        state.workspace.create_table_as(
            "customer_predictions", "SELECT * REPLACE (clv * 2 AS clv) FROM customer_predictions"
        )
    again = aggregate(state, "regions")[0]
    assert again["clv"].tolist() == pytest.approx((cells["clv"] * 2).tolist(), abs=0.02)
    assert again["revenue"].tolist() == cells["revenue"].tolist()
    assert aggregate(state, "predictions")["totals"]["clv"] == pytest.approx(2 * total)


def test_saving_a_segment_updates_the_overview_sizes(demo_store, app, state):
    before = aggregate(state, "segment_sizes")
    assert "big_spenders" not in set(before["name"])
    app_client = TestClient(app, headers={"X-API-Key": demo_store.keys["marketer"]})
    r = app_client.post("/api/v1/segments", json={"name": "big_spenders", "rule": "revenue > 100"})
    assert r.status_code == 201, r.text
    sizes = aggregate(state, "segment_sizes").set_index("name")
    expected = _sql(state, "SELECT count(*) AS n FROM customer_features WHERE revenue > 100")["n"][0]
    assert sizes.loc["big_spenders", "size"] == expected


def test_a_change_made_while_the_server_was_down_is_seen(path):
    """A raw UPDATE keeps every row count and writes no ingest log: the stored fingerprint no longer matches."""
    app = create_app(path, live=False, routers=dashboard_routers())
    before = aggregate(app.state.shopseg, "order_totals")["kpis"]
    app.state.shopseg.close()
    con = duckdb.connect(str(path))
    qty = con.execute("""UPDATE order_lines SET unit_price = unit_price + 1 WHERE rowid = (
                             SELECT min(l.rowid) FROM order_lines l JOIN orders o USING (order_id)
                             WHERE NOT coalesce(o.is_cancelled, false) AND l.quantity > 0 AND l.unit_price > 0)
                         RETURNING quantity""").fetchone()[0]
    con.close()
    app = create_app(path, live=False, routers=dashboard_routers())
    try:
        after = aggregate(app.state.shopseg, "order_totals")["kpis"]
    finally:
        app.state.shopseg.close()
    assert after["revenue"] == pytest.approx(before["revenue"] + qty)
    assert after["orders"] == before["orders"]


def test_the_warmup_stores_every_aggregate_and_pages_then_use_them(demo_store, path):
    app = create_app(path, live=False, routers=dashboard_routers())
    state = app.state.shopseg
    try:
        start_warmup(state).join()
        stored = _stored(state)
        assert sorted(stored["key"]) == sorted(AGGREGATES)
        client = TestClient(app, headers={"X-API-Key": demo_store.keys["viewer"]})
        for page in ("/", "/predictions", "/regions"):
            assert client.get(page).status_code == 200
        overview = client.get("/api/v1/dashboard/overview").json()
        assert overview["kpis"] == aggregate(state, "order_totals")["kpis"]
        pd.testing.assert_frame_equal(_stored(state), stored)  # nothing was computed again
    finally:
        state.close()


def test_one_computation_at_a_time_and_waiting_callers_share_it(state, monkeypatch):
    started, go, calls = threading.Event(), threading.Event(), []

    def compute(ws):
        calls.append(1)
        started.set()
        go.wait(timeout=30)
        return {"orders": int(ws.con.execute("SELECT count(*) FROM orders").fetchone()[0])}

    monkeypatch.setitem(AGGREGATES, "test_counted", Aggregate("test_counted", ("orders",), compute))
    results: list[object] = []
    first = threading.Thread(target=lambda: results.append(aggregate(state, "test_counted")))
    first.start()
    assert started.wait(timeout=30)
    second = threading.Thread(target=lambda: results.append(aggregate(state, "test_counted")))
    second.start()
    second.join(timeout=0.5)
    assert second.is_alive()  # waiting for the first computation, not running its own
    go.set()
    first.join(timeout=30)
    second.join(timeout=30)
    assert len(calls) == 1 and results[0] == results[1] == {
        "orders": _sql(state, "SELECT count(*) n FROM orders")["n"][0]
    }


def test_payloads_round_trip_with_their_types():
    frame = pd.DataFrame(
        {
            "d": [dt.date(2024, 1, 1), dt.date(2024, 4, 1)],
            "t": pd.to_datetime(["2024-01-01", "2024-02-01"]),
            "x": [1.5, np.nan],
            "n": np.array([1, 2], dtype="int64"),
            "s": ["a", None],
            "b": np.array([3, 4], dtype="int32"),
        }
    )
    value = {
        "frame": frame,
        "pair": (1, "a"),
        "items": [np.float64(2.5), np.int64(3), None, True],
        "when": dt.date(2025, 1, 2),
        "at": pd.Timestamp("2025-01-02 03:04:05"),
        7: float("nan"),
    }
    back = dash_cache._decode(json.loads(json.dumps(dash_cache._encode(value))))
    pd.testing.assert_frame_equal(back["frame"], frame)
    assert back["pair"] == (1, "a") and back["items"][:3] == [2.5, 3, None] and back["items"][3] is True
    assert type(back["items"][1]) is np.int64 and back["when"] == dt.date(2025, 1, 2)
    assert back["at"] == pd.Timestamp("2025-01-02 03:04:05") and np.isnan(back[7])


def test_the_background_recheck_recomputes_after_a_change_without_a_request(state):
    from shopseg.web.cache import stop_warmup

    thread = start_warmup(state, recheck_s=0.05)
    try:
        deadline = time.monotonic() + 120
        while len(_stored(state)) < len(AGGREGATES) and time.monotonic() < deadline:
            time.sleep(0.05)
        version = _stored(state).set_index("key")["version"]["order_totals"]
        with state.lock:  # an erasure-like change: one purchase order and its lines go
            order = state.workspace.con.execute("SELECT min(order_id) FROM order_lines").fetchone()[0]
            state.workspace.con.execute("DELETE FROM order_lines WHERE order_id = ?", [order])
            state.workspace.con.execute("DELETE FROM orders WHERE order_id = ?", [order])
        while _stored(state).set_index("key")["version"]["order_totals"] == version and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop_warmup(state)
        thread.join(timeout=120)
    assert not thread.is_alive()
    assert _stored(state).set_index("key")["version"]["order_totals"] != version
    kpis, _ = _oracle_totals(state)
    stored = _stored(state)
    assert aggregate(state, "order_totals")["kpis"]["orders"] == kpis["orders"]
    pd.testing.assert_frame_equal(_stored(state), stored)  # it was ready: the request computed nothing


def test_closing_the_app_interrupts_a_running_computation(path, monkeypatch):
    """The app closes without waiting for the warm-up's query, and the warm-up thread stops."""
    app = create_app(path, live=False, routers=dashboard_routers())
    state = app.state.shopseg
    started, outcome = threading.Event(), []

    def endless(ws):
        started.set()
        try:  # a query that would run for hours: a cross join of 10^12 rows
            return ws.con.execute(
                "SELECT count(*) FROM range(1000000) a, range(1000000) b WHERE a.range + b.range < 0"
            ).fetchone()
        except BaseException as exc:
            outcome.append(exc)
            raise

    monkeypatch.setattr(dash_cache, "AGGREGATES", {"endless": Aggregate("endless", ("orders",), endless)})
    thread = start_warmup(state, recheck_s=30)
    assert started.wait(timeout=60)
    closing = threading.Thread(target=state.close)
    closing.start()
    closing.join(timeout=60)  # without the interrupt, close() would wait for the query to end
    thread.join(timeout=60)
    assert not closing.is_alive() and not thread.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], duckdb.Error), outcome  # interrupted, or its connection closed
    assert not state.workspace.is_open
