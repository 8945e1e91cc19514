"""DuckDBEngine.execute gives the frame Ibis' to_pandas gives, NULLs of every type included."""

from __future__ import annotations

import pandas as pd

from shopseg.engine import get_engine


def test_execute_equals_ibis_to_pandas_with_nulls_of_every_type(workspace):
    """Float NULLs come from Arrow as NaN (the fast path); ints, strings, bools and timestamps as Ibis converts them."""
    workspace.con.execute(
        "INSERT INTO orders (order_id, customer_id, ordered_at, channel, is_cancelled) VALUES "
        "('o1', 'a', '2024-01-01 10:00', 'web', NULL), ('o2', NULL, NULL, NULL, true), ('o3', 'b', '2024-01-02', 'app', false)"
    )
    workspace.con.execute(
        "INSERT INTO order_lines (order_id, line_number, product_id, quantity, unit_price, discount) VALUES "
        "('o1', 1, 'p', 2, 5.0, NULL), ('o2', 1, 'p', NULL, 2.5, 0.5), ('o3', 1, NULL, 1, NULL, 1.0)"
    )
    engine = get_engine(workspace, "duckdb")
    orders, lines = engine.table("orders"), engine.table("order_lines")
    joined = lines.join(orders, "order_id", how="left")
    expr = joined.select(
        "order_id",
        "customer_id",
        "ordered_at",
        "is_cancelled",
        "quantity",
        "unit_price",
        "discount",
        total=joined.quantity.sum().over(group_by="customer_id"),
        value=joined.quantity * joined.unit_price,
    ).order_by("order_id")
    got = engine.execute(expr)
    expected = expr.to_pandas()
    assert got["discount"].isna().tolist() == [True, False, False]
    assert got["value"].isna().tolist() == [False, True, True]
    pd.testing.assert_frame_equal(got, expected, check_exact=True)


def test_hugeint_sums_arrive_as_the_int64_ibis_promises(workspace):
    """DuckDB's SUM of integers is a HUGEINT (Arrow decimal128(38, 0)); Ibis types it int64. The frame has
    int64 values equal to to_pandas', and a SUM past int64 is an error, never a wrapped number."""
    import pytest

    workspace.con.execute(
        "INSERT INTO order_lines (order_id, line_number, product_id, quantity, unit_price) VALUES "
        "('o1', 1, 'p', 2, 5.0), ('o1', 2, 'q', 3, 1.0), ('o2', 1, 'p', 7, 2.0)"
    )
    engine = get_engine(workspace, "duckdb")
    lines = engine.table("order_lines")
    expr = lines.group_by("order_id").aggregate(units=lines.quantity.sum()).order_by("order_id")
    got = engine.execute(expr)
    assert str(got["units"].dtype) == "int64" and got["units"].tolist() == [5, 7]
    pd.testing.assert_frame_equal(got, expr.to_pandas(), check_exact=True)
    # the Arrow cast is checked: a sum past int64 raises instead of wrapping
    import ibis.expr.datatypes as dt
    import pyarrow as pa

    from shopseg.engine.duckdb import _numeric

    too_big = pa.chunked_array([pa.array([2**63 + 5], type=pa.decimal128(38, 0))])
    with pytest.raises(pa.ArrowInvalid):
        _numeric(too_big, dt.int64)
    assert _numeric(too_big, dt.Decimal(38, 0)) is too_big  # a true DECIMAL stays as Ibis converts it


def test_a_large_store_is_built_in_customer_ranges_with_the_same_rows_in_the_same_order(tmp_path, monkeypatch):
    """Above RANGE_CUSTOMERS customers a per-customer result is computed one range of customer ids at a time (at
    10M customers the feature query and its sort did not fit the default cap together). Same rows in the same
    storage order as one statement, and a failing range leaves the table as it was."""
    import duckdb
    import pytest

    from shopseg.datasets import generate_store, write_store
    from shopseg.engine import duckdb as engine_module
    from shopseg.features import build_features
    from shopseg.workspace import Workspace

    def features(path, per_range):
        ws = Workspace.init(path)
        write_store(ws, generate_store(400, seed=5))
        monkeypatch.setattr(engine_module, "RANGE_CUSTOMERS", per_range)
        build_features(ws, as_of="2025-12-31", return_frame=False)
        return ws, ws.con.execute("SELECT * FROM customer_features").fetchall()  # storage order

    ws, ranged = features(tmp_path / "ranged.duckdb", 90)  # five ranges
    assert engine_module.DuckDBEngine(ws)._range_bounds() == sorted(engine_module.DuckDBEngine(ws)._range_bounds())
    assert len(engine_module.DuckDBEngine(ws)._range_bounds()) == 4
    together = features(tmp_path / "together.duckdb", 10**9)[1]
    assert ranged == together and len(ranged) == 400
    assert [r[0] for r in ranged] == sorted(r[0] for r in ranged)

    # only a result whose every row has a customer is split: one with a NULL customer_id is stored whole, NULL last
    engine = engine_module.DuckDBEngine(ws)
    keys = ws.ibis.sql("SELECT * FROM (VALUES ('c0001'), (NULL), ('zzz'), ('c0200')) t(customer_id)")
    engine.store(keys, ws, "all_keys")
    assert [r[0] for r in ws.con.execute('SELECT * FROM "all_keys"').fetchall()] == ["c0001", "c0200", "zzz", None]
    engine.store(keys.filter(keys.customer_id.notnull()), ws, "ranged_keys", by_customer=True)
    assert [r[0] for r in ws.con.execute('SELECT * FROM "ranged_keys"').fetchall()] == ["c0001", "c0200", "zzz"]

    # a range that fails (the last) undoes the ranges before it: the stored table is the one from before
    failing = ws.ibis.sql(
        "SELECT customer_id, CASE WHEN customer_id >= (SELECT max(customer_id) FROM customers) "
        "THEN error('boom') ELSE 1 END AS x FROM customers"
    )
    with pytest.raises(duckdb.Error, match="boom"):
        engine.store(failing, ws, "customer_features", by_customer=True)
    assert ws.con.execute("SELECT * FROM customer_features").fetchall() == together
    ws.close()
