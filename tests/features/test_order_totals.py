"""order_totals: stored by ingest, equal to summing the lines, never used once stale."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from shopseg.datasets import generate_store, write_store
from shopseg.engine import get_engine
from shopseg.errors import SchemaError
from shopseg.features import build_features, calibration_holdout_expr, feature_expr
from shopseg.features.asof import AsOf
from shopseg.features.order_totals import (
    ORDER_TOTALS,
    PURCHASE_DAYS,
    is_fresh,
    order_totals_spec,
    order_totals_stamp,
    refresh_order_totals,
    stored_totals,
)
from shopseg.features.purchases import (
    day_gaps,
    order_totals_expr,
    purchase_days,
    purchase_days_in_window,
    purchase_lines,
    purchase_order_totals,
    purchase_orders,
)
from shopseg.features.stamp import features_spec, features_stamp, source_stamps
from shopseg.io import ingest
from shopseg.privacy import forget_customer
from shopseg.workspace import Workspace

COLUMNS = ["customer_id", "order_id", "ordered_at", "channel", "cents", "units", "discounted_cents"]


def _frame(engine, expr) -> pd.DataFrame:
    return engine.execute(expr).sort_values("order_id").reset_index(drop=True)[COLUMNS]


@pytest.fixture
def store(tmp_path: Path) -> Workspace:
    ws = Workspace.init(tmp_path / "store.duckdb")
    write_store(ws, generate_store(300, seed=11))
    yield ws
    ws.close()


def test_the_stored_table_holds_the_sum_of_the_lines(tiny):
    """Hand-checked on the tiny store: returns, free lines, cancelled orders and discounts."""
    assert refresh_order_totals(tiny) == 7  # of 9: o6 is cancelled, o8 holds only a returned line
    engine = get_engine(tiny, "duckdb")
    stored = _frame(engine, stored_totals(engine)[0])
    assert stored.equals(_frame(engine, order_totals_expr(engine)))
    o1 = stored.set_index("order_id").loc["o1"]
    assert (o1.cents, o1.units, o1.discounted_cents) == (2000 + 1400, 3, 1400)  # 2 x 10.00; 15.50 - 1.50
    assert stored.set_index("order_id").loc["o2", "channel"] == "app"  # cleaned once, at the source
    assert tiny.con.execute(f"SELECT typeof(cents) FROM {ORDER_TOTALS} LIMIT 1").fetchone()[0] == "BIGINT"


def test_windowed_orders_match_the_per_line_path(tiny):
    """purchase_order_totals (from the table) == purchase_orders(purchase_lines(...)) for a cutoff inside the data."""
    refresh_order_totals(tiny)
    engine = get_engine(tiny, "duckdb")
    window = AsOf.of("2024-01-20")
    fast = _frame(engine, purchase_order_totals(engine, window))
    slow = _frame(engine, purchase_orders(purchase_lines(engine, window)))
    assert fast.order_id.tolist() == ["o1", "o2", "o3", "o5", "o7"]  # o4, o9 after the cutoff; o6, o8 not purchases
    pd.testing.assert_frame_equal(fast, slow, check_dtype=False)


def test_features_are_identical_from_the_table_and_from_the_lines(store):
    engine = get_engine(store, "duckdb")
    assert is_fresh(store)  # write_store keeps it
    with_table = engine.execute(feature_expr(engine, as_of="2025-12-20")).sort_values("customer_id")
    split_table = engine.execute(calibration_holdout_expr(engine, "2025-06-30", "2025-12-20", "weeks"))
    store.con.execute(f"DROP TABLE {ORDER_TOTALS}")
    assert stored_totals(engine) is None
    from_lines = engine.execute(feature_expr(engine, as_of="2025-12-20")).sort_values("customer_id")
    split_lines = engine.execute(calibration_holdout_expr(engine, "2025-06-30", "2025-12-20", "weeks"))
    assert with_table["frequency"].sum() > 0
    pd.testing.assert_frame_equal(with_table.reset_index(drop=True), from_lines.reset_index(drop=True))
    key = "customer_id"
    pd.testing.assert_frame_equal(
        split_table.sort_values(key).reset_index(drop=True), split_lines.sort_values(key).reset_index(drop=True)
    )


def test_rows_written_straight_into_the_tables_are_seen_and_the_build_refreshes(tiny):
    refresh_order_totals(tiny)
    tiny.con.execute("INSERT INTO orders (order_id, customer_id, ordered_at) VALUES ('o10', 'c3', '2024-01-05 10:00')")
    tiny.con.execute(
        "INSERT INTO order_lines (order_id, line_number, product_id, quantity, unit_price) "
        "VALUES ('o10', 1, 'p1', 1, 8.0)"
    )
    assert not is_fresh(tiny)
    engine = get_engine(tiny, "duckdb")
    assert stored_totals(engine) is None
    orders = engine.execute(purchase_order_totals(engine, AsOf.of("2024-01-31")))
    assert "o10" in set(orders.order_id)  # summed from the lines, not read from the stale table
    feats = build_features(tiny, as_of="2024-01-31").set_index("customer_id")
    assert feats.loc["c3", "revenue"] == 8.0
    assert is_fresh(tiny)  # the build re-summed it first
    assert tiny.con.execute(f"SELECT count(*) FROM {ORDER_TOTALS} WHERE order_id = 'o10'").fetchone()[0] == 1


def test_an_older_definition_is_stale(tiny, monkeypatch):
    refresh_order_totals(tiny)
    import shopseg.features.order_totals as module

    monkeypatch.setattr(module, "_REVISION", module._REVISION + 1)
    assert not is_fresh(tiny)


def test_ingest_keeps_it_fresh_and_a_refused_file_leaves_it_as_it_was(workspace, tmp_path):
    header = "order_id,customer_id,ordered_at,product_id,quantity,unit_price\n"
    good = tmp_path / "good.csv"
    good.write_text(header + "o1,c1,2024-01-02 10:00:00,p1,2,5.00\no2,c2,2024-01-03,p1,1,5\n", encoding="utf-8")
    ingest(workspace, "orders", good)
    assert is_fresh(workspace)
    assert workspace.con.execute(f"SELECT order_id, cents FROM {ORDER_TOTALS} ORDER BY 1").fetchall() == [
        ("o1", 1000),
        ("o2", 500),
    ]
    stamp = workspace.meta("order_totals_stamp")
    bad = tmp_path / "bad.csv"
    bad.write_text(header + "o3,c1,2024-01-04,p1,1,5\no4,c1,not a date,p1,1,5\n", encoding="utf-8")
    with pytest.raises(SchemaError, match="bad.csv"):
        ingest(workspace, "orders", bad)
    assert workspace.meta("order_totals_stamp") == stamp
    assert workspace.con.execute(f"SELECT count(*) FROM {ORDER_TOTALS}").fetchone()[0] == 2
    assert is_fresh(workspace)


def test_erasure_removes_the_customer_from_it(store):
    victim = store.con.execute(f"SELECT customer_id FROM {ORDER_TOTALS} LIMIT 1").fetchone()[0]
    forget_customer(store, victim)
    assert store.con.execute(f"SELECT count(*) FROM {ORDER_TOTALS} WHERE customer_id = ?", [victim]).fetchone()[0] == 0
    assert not is_fresh(store)  # the sources shrank: the features sum the lines until the next refresh


def test_a_line_edited_in_place_is_seen(tiny):
    """Same row counts, other content: the stamp hashes the rows, so the edit is not missed."""
    refresh_order_totals(tiny)
    tiny.con.execute("UPDATE order_lines SET unit_price = 11.0 WHERE order_id = 'o9'")
    assert not is_fresh(tiny)
    engine = get_engine(tiny, "duckdb")
    orders = engine.execute(purchase_order_totals(engine, AsOf.of("2024-02-29"))).set_index("order_id")
    assert orders.loc["o9", "cents"] == 4400


def test_one_pass_stamps_equal_the_stamps_made_one_by_one(store):
    """build_features makes both stamps in one scan per table; each must be the string made alone."""
    specs = [order_totals_spec(), features_spec()]
    assert source_stamps(store, specs) == [order_totals_stamp(store), features_stamp(store)]
    assert source_stamps(store, [(1, {"orders": "t", "missing": "t"}), specs[0]]) == ["", order_totals_stamp(store)]


def test_the_stamp_survives_reopening_the_file(tiny):
    """Reopening renumbers DuckDB's catalog ids; the stamp must not depend on them."""
    refresh_order_totals(tiny)
    tiny.con.execute("CREATE TABLE unrelated AS SELECT 1 AS x")
    path = tiny.path
    tiny.close()
    with Workspace.open(path) as ws:
        assert is_fresh(ws)


def test_stored_purchase_days_match_the_days_of_the_window(tiny):
    """Days on or before the as-of date == the days of the orders before the cutoff, for every as-of date."""
    refresh_order_totals(tiny)
    engine = get_engine(tiny, "duckdb")
    assert stored_totals(engine) is not None
    for as_of in ("2024-01-01", "2024-01-19", "2024-01-20", "2024-01-31", "2024-03-01"):
        window = AsOf.of(as_of)
        stored = engine.execute(purchase_days_in_window(engine, window)).sort_values(["customer_id", "day"])
        summed = engine.execute(purchase_days(purchase_orders(purchase_lines(engine, window))))
        summed = summed.sort_values(["customer_id", "day"])
        pd.testing.assert_frame_equal(
            stored.reset_index(drop=True)[list(summed.columns)], summed.reset_index(drop=True), check_dtype=False
        )
    c1 = engine.execute(purchase_days_in_window(engine, AsOf.of("2024-01-01")))
    assert c1[["customer_id", "cents", "orders"]].values.tolist() == [["c1", 3400 + 4000, 2]]  # o1 + o2, one day


def test_stored_gaps_equal_the_gaps_computed_in_every_window(store):
    """purchase_days keeps each day's gap over all days; cut at any as-of date it equals the LAG over the window."""
    refresh_order_totals(store)
    engine = get_engine(store, "duckdb")
    last = store.con.execute("SELECT max(day) FROM purchase_days").fetchone()[0]
    for back in (0, 30, 200):
        window = AsOf.of(last - dt.timedelta(days=back))
        stored = engine.execute(day_gaps(purchase_days_in_window(engine, window)))
        orders = purchase_orders(purchase_lines(engine, window))
        computed = engine.execute(day_gaps(purchase_days(orders)))
        assert stored["gap"].notna().sum() > 0
        key = ["customer_id", "day"]
        pd.testing.assert_frame_equal(
            stored.sort_values(key).reset_index(drop=True)[[*key, "gap"]],
            computed.sort_values(key).reset_index(drop=True)[[*key, "gap"]],
            check_dtype=False,
        )


def test_without_purchase_days_the_table_is_not_used(tiny):
    refresh_order_totals(tiny)
    tiny.con.execute(f"DROP TABLE {PURCHASE_DAYS}")
    assert not is_fresh(tiny)
    engine = get_engine(tiny, "duckdb")
    assert stored_totals(engine) is None


def test_store_totals_are_the_features_purchases_from_the_table_or_the_lines(store):
    """The report's and dashboard's KPIs and monthly revenue count purchases as the features do (one coherent
    store): revenue equals the sum of every customer's gross_revenue feature (purchases before returns) at the
    last order date; the same whether read from the fresh table or summed from the lines."""
    from shopseg.features.order_totals import purchase_orders_sql
    from shopseg.reports.summary import monthly_revenue, store_kpis

    assert '"order_totals"' in purchase_orders_sql(store)
    kpis, monthly = store_kpis(store), monthly_revenue(store)
    feats = build_features(store, as_of=kpis["last_order"])
    assert kpis["revenue"] == pytest.approx(feats["gross_revenue"].sum(), abs=0.01)
    assert kpis["buyers"] == int((feats["orders"] > 0).sum())
    assert kpis["orders"] == int(feats["orders"].sum()) == int(monthly["orders"].sum())
    assert monthly["revenue"].sum() == pytest.approx(kpis["revenue"], abs=0.01)
    store.con.execute(f"DROP TABLE {ORDER_TOTALS}")
    assert "order_totals" not in purchase_orders_sql(store).replace("order_totals_", "")
    assert store_kpis(store) == kpis
    pd.testing.assert_frame_equal(monthly_revenue(store), monthly)


_EXPORT_HEADER = "Order ID,Customer ID,Created At,Channel,SKU,Qty,Price,Discount,Returned,Cancelled\n"


def _export(path: Path, rows: str) -> Path:
    """An order-line export with every kind of line the definition treats apart: returns, cancelled
    orders, free and negatively priced lines, discounts above the line value, an order of returns only,
    channels in mixed case with spaces, an unknown customer, no discount given."""
    path.write_text(_EXPORT_HEADER + rows.strip() + "\n", encoding="utf-8")
    return path


_FIRST = """
A1,c1,2024-03-01 10:00:00, Web ,p1,2,10.00,1.50,false,false
A1,c1,2024-03-01 10:00:00,web,p2,1,0,,false,false
A1,c1,2024-03-01 10:00:00,web,p3,-1,10.00,,true,false
A2,c2,2024-03-02 09:00:00,APP,p1,3,2.55,9.00,false,false
A3,c2,2024-03-03 09:00:00,app,p2,1,5.00,,false,true
A4,c3,2024-03-04 09:00:00,,p1,-2,4.00,,true,false
A5,c9,2024-03-05 09:00:00,store,p4,1,-3.00,,false,false
A5,c9,2024-03-05 09:00:00,store,p1,4,1.25,0.25,false,false
"""
_SECOND = """
B1,c1,2024-04-01 10:00:00,web,p1,1,10.00,,false,false
B2,c4,2024-04-02 10:00:00, Store,p2,2,3.10,0.10,false,false
B2,c4,2024-04-02 10:00:00,store,p3,1,7.00,,true,false
"""


def _ingest_export(workspace: Workspace, path: Path) -> None:
    mapping = {
        "order_id": "Order ID",
        "customer_id": "Customer ID",
        "ordered_at": "Created At",
        "channel": "Channel",
        "product_id": "SKU",
        "quantity": "Qty",
        "unit_price": "Price",
        "discount": "Discount",
        "is_return": "Returned",
        "is_cancelled": "Cancelled",
    }
    ingest(workspace, "orders", path, mapping=mapping)


def _assert_the_definition_holds(workspace: Workspace) -> pd.DataFrame:
    """The stored tables equal the definition summed from the stored lines, and are fresh."""
    engine = get_engine(workspace, "duckdb")
    assert is_fresh(workspace)
    stored = _frame(engine, engine.table(ORDER_TOTALS))
    pd.testing.assert_frame_equal(stored, _frame(engine, order_totals_expr(engine)), check_dtype=False)
    days = engine.execute(engine.table(PURCHASE_DAYS)).sort_values(["customer_id", "day"]).reset_index(drop=True)
    totals = engine.table(ORDER_TOTALS)
    again = engine.execute(day_gaps(purchase_days(totals.filter(totals.customer_id.notnull()))))
    pd.testing.assert_frame_equal(
        days, again.sort_values(["customer_id", "day"]).reset_index(drop=True)[days.columns], check_dtype=False
    )
    return stored.set_index("order_id")


def test_ingest_sums_the_files_lines_into_the_totals_the_definition_gives(workspace, tmp_path, monkeypatch):
    """Ingest takes a file's order totals from its own grouping of the lines (no second pass over them):
    into an empty store, added to fresh totals, and summed again from every line when they were stale."""
    import shopseg.features.order_totals as module

    def resummed(engine):
        raise AssertionError("the ingest summed every line again")

    with monkeypatch.context() as patch:  # the first two ingests never sum the stored lines
        patch.setattr(module, "order_totals_expr", resummed)
        _ingest_export(workspace, _export(tmp_path / "first.csv", _FIRST))
    first = _assert_the_definition_holds(workspace)
    # A1: 2 x 10.00 - 1.50 and a free line (the return is not a purchase); A2: 7.65 - 9.00 is worth 0,
    # but a discounted order; A3 cancelled, A4 returns only: no row; A5: the negative price is not a purchase
    assert first.index.tolist() == ["A1", "A2", "A5"]
    assert (first.loc["A1", "cents"], first.loc["A1", "units"], first.loc["A1", "discounted_cents"]) == (1850, 3, 1850)
    assert (first.loc["A2", "cents"], first.loc["A2", "discounted_cents"], first.loc["A2", "channel"]) == (0, 0, "app")
    assert (first.loc["A5", "cents"], first.loc["A5", "units"]) == (475, 4)

    with monkeypatch.context() as patch:
        patch.setattr(module, "order_totals_expr", resummed)
        _ingest_export(workspace, _export(tmp_path / "second.csv", _SECOND))  # added to the fresh totals
    second = _assert_the_definition_holds(workspace)
    assert second.index.tolist() == ["A1", "A2", "A5", "B1", "B2"]
    assert (second.loc["B2", "cents"], second.loc["B2", "channel"]) == (610, "store")

    workspace.con.execute("UPDATE order_lines SET quantity = 5 WHERE order_id = 'A1' AND line_number = 1")
    assert not is_fresh(workspace)  # stale: the next ingest sums every line again, the edit included
    _ingest_export(workspace, _export(tmp_path / "third.csv", "C1,c5,2024-05-01,web,p1,1,1.00,,false,false"))
    third = _assert_the_definition_holds(workspace)
    assert third.loc["A1", "cents"] == 5 * 1000 - 150


def test_purchase_days_of_a_large_store_are_built_in_customer_ranges_with_the_same_rows(store, monkeypatch):
    """Above RANGE_CUSTOMERS customers purchase_days is computed one range of customers at a time (its rows
    all have a customer); order_totals keeps guest orders and is stored whole. Same rows, stored by customer
    (the order within a customer is not defined by either path)."""
    from shopseg.engine import duckdb as engine_module

    store.con.execute(
        "INSERT INTO orders (order_id, customer_id, ordered_at, channel) VALUES ('guest', NULL, '2025-01-02', 'web')"
    )
    store.con.execute(
        "INSERT INTO order_lines (order_id, line_number, product_id, quantity, unit_price) VALUES ('guest', 1, 'p', 1, 9.5)"
    )

    def tables(per_range):
        monkeypatch.setattr(engine_module, "RANGE_CUSTOMERS", per_range)
        refresh_order_totals(store)
        return [store.con.execute(f"SELECT * FROM {name}").fetchall() for name in (ORDER_TOTALS, PURCHASE_DAYS)]

    def key(row):
        return tuple((v is None, v) for v in row)

    ranges = []
    key_range = engine_module._key_range
    monkeypatch.setattr(engine_module, "_key_range", lambda *a: ranges.append(a) or key_range(*a))
    totals, days = tables(10**9)
    assert ranges == []
    ranged_totals, ranged_days = tables(70)
    assert len(ranges) == 5  # purchase_days in five ranges of the 300 customers, order_totals whole
    assert sorted(ranged_totals, key=key) == sorted(totals, key=key)
    assert sorted(ranged_days, key=key) == sorted(days, key=key) and len(days) > 300
    assert [r[0] for r in ranged_days] == sorted(r[0] for r in days) and None not in {r[0] for r in days}
    assert any(r[0] is None and r[1] == "guest" for r in totals)  # the guest order is kept in order_totals
