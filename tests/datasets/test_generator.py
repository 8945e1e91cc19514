"""The synthetic store: schema, determinism, invariants, scaling, planted-group behaviour."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from datetime import datetime, timedelta

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shopseg.datasets import PLANTED_GROUPS, generate_store, iter_chunks, load_demo_store, write_parquet_chunks
from shopseg.errors import InvalidParameterError
from shopseg.schema import TABLES

END = datetime(2026, 1, 1)  # exclusive end of the default period (end_date 2025-12-31)
_ARROW = {
    "VARCHAR": pa.string(),
    "TIMESTAMP": pa.timestamp("us"),
    "INTEGER": pa.int32(),
    "DOUBLE": pa.float64(),
    "BOOLEAN": pa.bool_(),
}


@pytest.fixture(scope="module")
def store() -> dict[str, pa.Table]:
    return generate_store(4_000, seed=11)


@pytest.fixture(scope="module")
def con(store):
    con = duckdb.connect()
    for name, table in store.items():
        con.register(name, table)
    yield con
    con.close()


def _ipc_bytes(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


def _scalar(con, sql: str):
    return con.execute(sql).fetchone()[0]


def check_invariants(con, end: datetime = END, event_days: int = 180) -> None:
    """Keys unique, references resolve, times in range, flags non-null: raises AssertionError otherwise."""
    for name, spec in TABLES.items():
        keys = ", ".join(spec.key)
        dupes = _scalar(con, f"SELECT count(*) FROM (SELECT {keys} FROM {name} GROUP BY ALL HAVING count(*) > 1)")
        assert dupes == 0, f"{name}: {dupes} duplicate keys"
        for col in spec.required:
            assert _scalar(con, f'SELECT count(*) FROM {name} WHERE "{col}" IS NULL') == 0, f"{name}.{col} has NULLs"
    orphans = {
        "orders -> customers": "SELECT count(*) FROM orders o ANTI JOIN customers c USING (customer_id)",
        "lines -> orders": "SELECT count(*) FROM order_lines l ANTI JOIN orders o USING (order_id)",
        "lines -> products": "SELECT count(*) FROM order_lines l ANTI JOIN products p USING (product_id)",
        "events -> customers": "SELECT count(*) FROM events e WHERE customer_id IS NOT NULL "
        "AND customer_id NOT IN (SELECT customer_id FROM customers)",
        "events -> products": "SELECT count(*) FROM events e WHERE product_id IS NOT NULL "
        "AND product_id NOT IN (SELECT product_id FROM products)",
        "survey -> customers": "SELECT count(*) FROM survey_answers s ANTI JOIN customers c USING (customer_id)",
        "orders without lines": "SELECT count(*) FROM orders o ANTI JOIN order_lines l USING (order_id)",
    }
    for what, sql in orphans.items():
        assert _scalar(con, sql) == 0, what
    bad_times = con.execute(
        "SELECT count(*) FROM orders o JOIN customers c USING (customer_id) "
        "WHERE o.ordered_at < c.signup_at OR o.ordered_at >= ?",
        [end],
    ).fetchone()[0]
    assert bad_times == 0, "ordered_at outside [signup_at, end_date]"
    assert (
        con.execute(
            "SELECT count(*) FROM events WHERE occurred_at >= ? OR occurred_at < ?",
            [end, end - timedelta(days=event_days)],
        ).fetchone()[0]
        == 0
    )
    for col in ("email_marketing", "sms_marketing", "profiling"):
        assert _scalar(con, f"SELECT count(*) FROM customers WHERE {col} IS NULL") == 0
    # each line either a purchase (quantity > 0) or a marked return (quantity < 0)
    assert _scalar(con, "SELECT count(*) FROM order_lines WHERE (quantity < 0) <> is_return OR quantity = 0") == 0
    # every customer has exactly one planted group
    assert _scalar(con, "SELECT count(*) FROM customers c ANTI JOIN planted_groups g USING (customer_id)") == 0
    assert _scalar(con, "SELECT count(*) - count(DISTINCT customer_id) FROM planted_groups") == 0


# -- schema, determinism --------------------------------------------------------------


def test_tables_have_exactly_the_canonical_columns_and_types(store):
    assert set(store) == set(TABLES) | {"planted_groups"}
    for name, spec in TABLES.items():
        schema = store[name].schema
        assert schema.names == spec.names, name
        assert [schema.field(c.name).type for c in spec.columns] == [_ARROW[c.sql_type] for c in spec.columns], name
    assert store["planted_groups"].schema.names == ["customer_id", "group"]


def test_same_seed_gives_byte_identical_tables():
    first, second = generate_store(600, seed=5), generate_store(600, seed=5)
    for name in first:
        assert _ipc_bytes(first[name]) == _ipc_bytes(second[name]), name
    other = generate_store(600, seed=6)
    assert _ipc_bytes(other["orders"]) != _ipc_bytes(first["orders"])


_DIGEST = """
import hashlib, io, pyarrow as pa
from shopseg.datasets import generate_store
digest = hashlib.sha256()
for name, table in sorted(generate_store(300, seed=21).items()):
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    digest.update(sink.getvalue())
print(digest.hexdigest())
"""


def test_tables_do_not_depend_on_the_process_hash_seed():
    digests = {
        subprocess.run(
            [sys.executable, "-c", _DIGEST],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2")
    }
    assert len(digests) == 1


def test_demo_store_is_the_seed_42_store():
    demo = load_demo_store()
    assert demo["customers"].num_rows == 5_000
    assert demo["order_lines"].equals(generate_store(5_000, seed=42)["order_lines"])


def _chunked_store(n: int, seed: int, size: int) -> dict[str, pa.Table]:
    chunks = list(iter_chunks(n, seed=seed, chunk_customers=size))
    return {name: pa.concat_tables([c[name] for c in chunks if name in c]) for name in chunks[0]}


def test_a_store_of_one_chunk_is_the_unchunked_store():
    """Chunking changed nothing for stores up to one chunk: chunk 0 draws from the old streams."""
    whole = generate_store(300, seed=5)
    single = _chunked_store(300, 5, 300)
    for name in whole:
        assert _ipc_bytes(single[name]) == _ipc_bytes(whole[name]), name


def test_a_chunked_store_keeps_the_invariants_and_the_exact_group_shares():
    tables = _chunked_store(1_000, 13, 300)
    assert tables["customers"].num_rows == 1_000 and tables["products"].num_rows == 360
    assert tables["customers"].column("customer_id")[-1].as_py() == "c001000"
    with duckdb.connect() as con:
        for name, table in tables.items():
            con.register(name, table)
        check_invariants(con)
        widths = con.execute(
            "SELECT count(DISTINCT length(order_id)), count(DISTINCT length(event_id)) FROM "
            "(SELECT order_id, NULL AS event_id FROM orders UNION ALL SELECT NULL, event_id FROM events)"
        ).fetchone()
        assert widths == (1, 1)
    groups = tables["planted_groups"].column("group").to_pylist()
    for name, spec in PLANTED_GROUPS.items():
        assert abs(groups.count(name) - spec.share * len(groups)) <= 1
    again = _chunked_store(1_000, 13, 300)
    for name in tables:
        assert _ipc_bytes(again[name]) == _ipc_bytes(tables[name]), name


def test_write_parquet_chunks_appends_every_chunk(tmp_path):
    rows = write_parquet_chunks(tmp_path, iter_chunks(250, seed=2, chunk_customers=100))
    tables = _chunked_store(250, 2, 100)
    for name, table in tables.items():
        assert rows[name] == table.num_rows
        assert pq.read_table(tmp_path / f"{name}.parquet").equals(table), name


# -- invariants -----------------------------------------------------------------------


def test_invariants_hold_on_a_mid_sized_store(con):
    check_invariants(con)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(1, 250),
    seed=st.integers(0, 2**32 - 1),
    end=st.dates(min_value=datetime(2015, 1, 1).date(), max_value=datetime(2030, 12, 31).date()),
    years=st.sampled_from([1.0, 1.5, 2.0, 3.0]),
)
def test_invariants_hold_for_any_size_seed_and_period(n, seed, end, years):
    tables = generate_store(n, seed=seed, end_date=end, years=years)
    with duckdb.connect() as con:
        for name, table in tables.items():
            con.register(name, table)
        check_invariants(con, end=datetime.combine(end, datetime.min.time()) + timedelta(days=1))
        first_signup = _scalar(con, "SELECT min(signup_at) FROM customers")
        assert first_signup >= datetime.combine(end, datetime.min.time()) + timedelta(days=1 - round(years * 365.25))
    assert tables["customers"].num_rows == n


def test_cancelled_orders_and_returns_are_marked_at_realistic_rates(con):
    assert 0.012 < _scalar(con, "SELECT avg(is_cancelled::INT) FROM orders") < 0.03
    assert 0.025 < _scalar(con, "SELECT avg(is_return::INT) FROM order_lines") < 0.06
    # returns only on kept orders, each mirroring a purchase line of the same order
    assert (
        _scalar(con, "SELECT count(*) FROM order_lines JOIN orders USING (order_id) WHERE is_return AND is_cancelled")
        == 0
    )
    unmatched = _scalar(
        con,
        """
        SELECT count(*) FROM order_lines r WHERE r.is_return AND NOT EXISTS (
            SELECT 1 FROM order_lines p WHERE p.order_id = r.order_id AND NOT p.is_return
              AND p.product_id = r.product_id AND p.quantity = -r.quantity AND p.unit_price = r.unit_price
              AND p.line_number < r.line_number)""",
    )
    assert unmatched == 0


def test_line_numbers_run_from_one_without_gaps(con):
    gaps = _scalar(
        con,
        "SELECT count(*) FROM (SELECT order_id FROM order_lines GROUP BY 1 "
        "HAVING min(line_number) <> 1 OR max(line_number) <> count(*))",
    )
    assert gaps == 0


def test_unsubscribers_have_no_email_consent(con):
    assert (
        _scalar(
            con,
            "SELECT count(*) FROM events JOIN customers USING (customer_id) "
            "WHERE type = 'unsubscribe' AND email_marketing",
        )
        == 0
    )
    assert _scalar(con, "SELECT count(*) FROM events WHERE type = 'unsubscribe'") > 0


def test_product_events_carry_their_category(con):
    missing = _scalar(
        con,
        """
        SELECT count(*) FROM events e JOIN products p USING (product_id)
        WHERE json_extract_string(e.properties, '$.category') IS DISTINCT FROM p.category""",
    )
    assert missing == 0
    assert (
        _scalar(
            con,
            "SELECT count(*) FROM events e ANTI JOIN orders o "
            "ON json_extract_string(e.properties, '$.order_id') = o.order_id WHERE type = 'purchase'",
        )
        == 0
    )


def test_row_counts_scale_linearly():
    small, large = generate_store(1_000, seed=3), generate_store(4_000, seed=3)
    for name in ("orders", "order_lines", "events", "survey_answers"):
        ratio = large[name].num_rows / small[name].num_rows
        assert 3.2 < ratio < 4.8, (name, ratio)
    assert small["products"].num_rows == large["products"].num_rows == 360


# -- planted groups behave as designed ----------------------------------------------------


def _by_group(con, sql: str) -> dict[str, float]:
    return dict(con.execute(sql).fetchall())


def test_planted_groups_cover_every_customer_with_the_declared_shares(store):
    groups = store["planted_groups"].column("group").to_pylist()
    assert set(groups) == set(PLANTED_GROUPS)
    for name, spec in PLANTED_GROUPS.items():
        assert abs(groups.count(name) - spec.share * len(groups)) <= 1


def test_vip_loyal_orders_far_more_than_one_time(con):
    orders = _by_group(
        con,
        """
        SELECT g."group", avg(coalesce(n, 0)) FROM planted_groups g
        LEFT JOIN (SELECT customer_id, count(*) n FROM orders GROUP BY 1) USING (customer_id) GROUP BY 1""",
    )
    assert orders["vip_loyal"] > 3 * orders["one_time"]
    assert orders["one_time"] == orders["new_customer"] == 1.0
    assert orders["window_shopper"] < 0.5


def test_lapsed_and_one_time_have_been_silent_for_long(con):
    silence = _by_group(
        con,
        """
        SELECT g."group", median(date_diff('day', last_at, TIMESTAMP '2026-01-01')) FROM planted_groups g
        JOIN (SELECT customer_id, max(ordered_at) last_at FROM orders GROUP BY 1) USING (customer_id) GROUP BY 1""",
    )
    assert silence["lapsed"] > 180 and silence["one_time"] > 180
    assert silence["vip_loyal"] < 60 and silence["new_customer"] <= 60


def test_new_customers_signed_up_in_the_last_60_days(con):
    oldest = _scalar(
        con,
        "SELECT min(signup_at) FROM customers JOIN planted_groups USING (customer_id) WHERE \"group\" = 'new_customer'",
    )
    assert oldest >= END - timedelta(days=60)


def test_window_shoppers_start_more_checkouts_than_they_finish(con):
    row = con.execute("""
        SELECT count(*) FILTER (WHERE type = 'checkout_started'), count(*) FILTER (WHERE type = 'purchase'),
               count(*) FILTER (WHERE type = 'product_view') / count(DISTINCT customer_id)
        FROM events JOIN planted_groups USING (customer_id) WHERE "group" = 'window_shopper'""").fetchone()
    checkouts, purchases, views_per_customer = row
    assert checkouts > 3 * purchases
    vip_views = _scalar(
        con,
        "SELECT count(*) FILTER (WHERE type = 'product_view') / count(DISTINCT customer_id) "
        "FROM events JOIN planted_groups USING (customer_id) WHERE \"group\" = 'vip_loyal'",
    )
    assert views_per_customer > vip_views


_LINES = """
    SELECT g."group", {expr} FROM order_lines l JOIN orders o USING (order_id)
    JOIN planted_groups g USING (customer_id) JOIN products p USING (product_id)
    WHERE NOT l.is_return GROUP BY 1"""


def test_bargain_hunters_buy_cheap_discounted_small_baskets(con):
    discounted = _by_group(con, _LINES.format(expr="avg((l.discount > 0)::INT)"))
    price = _by_group(con, _LINES.format(expr="avg(l.unit_price)"))
    lines = _by_group(con, _LINES.format(expr="count(*) / count(DISTINCT order_id)"))
    assert discounted["bargain_hunter"] > 0.6 > 0.2 > discounted["vip_loyal"]
    assert price["premium_occasional"] > 1.8 * price["bargain_hunter"]
    assert lines["premium_occasional"] > 2 * lines["bargain_hunter"]


def test_category_enthusiasts_concentrate_on_outdoor(con):
    outdoor = _by_group(con, _LINES.format(expr="avg((p.category LIKE 'Outdoor >%')::INT)"))
    assert outdoor["category_enthusiast"] > 0.75
    assert max(v for k, v in outdoor.items() if k != "category_enthusiast") < 0.2


def test_consent_and_survey_follow_the_groups(con):
    email = _by_group(
        con,
        'SELECT "group", avg(email_marketing::INT) FROM customers JOIN planted_groups USING (customer_id) GROUP BY 1',
    )
    assert email["vip_loyal"] > email["one_time"] + 0.25
    price_first = _by_group(
        con,
        """
        SELECT g."group", avg((answer = 'price')::INT) FROM survey_answers JOIN planted_groups g USING (customer_id)
        WHERE question = 'priority' GROUP BY 1""",
    )
    assert price_first["bargain_hunter"] > 0.55 > 0.15 > price_first["premium_occasional"]


# -- arguments --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"n_customers": 0},
            r"'n_customers' parameter of generate_store must be an int in the range \[1, inf\)\. "
            r"Got 0 instead",
        ),
        ({"n_customers": 10, "seed": -1}, r"'seed' parameter .* Got -1 instead"),
        ({"n_customers": 10, "years": 0.5}, r"'years' parameter .* range \[1, 10\]\. Got 0.5 instead"),
        ({"n_customers": 10, "end_date": "31/12/2025"}, r"'end_date' parameter .* YYYY-MM-DD\. Got '31/12/2025'"),
        ({"n_customers": 10, "event_days": 0}, r"'event_days' parameter"),
    ],
)
def test_bad_arguments_are_refused_with_the_parameter_named(kwargs, message):
    n = kwargs.pop("n_customers")
    with pytest.raises(InvalidParameterError, match=message):
        generate_store(n, **kwargs)
