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
