"""write_store (one transaction into an empty workspace) and write_parquet."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from shopseg.datasets import TRUTH_TABLE, generate_store, write_parquet, write_store
from shopseg.datasets.generator import TABLE_ORDER
from shopseg.datasets.write import META_KEY
from shopseg.errors import SchemaError, WorkspaceError
from shopseg.schema import TABLES
from shopseg.workspace import INGEST_LOG


@pytest.fixture(scope="module")
def small_store() -> dict[str, pa.Table]:
    return generate_store(300, seed=9)


def test_write_store_appends_every_table_and_the_truth(workspace, small_store):
    seen = []
    write_store(workspace, small_store, on_table=lambda name, rows: seen.append((name, rows)))
    counts = workspace.row_counts()
    assert counts == {name: small_store[name].num_rows for name in TABLES}
    truth = workspace.con.execute(f'SELECT "group", count(*) FROM "{TRUTH_TABLE}" GROUP BY 1').fetchall()
    assert sum(n for _, n in truth) == 300
    assert [name for name, _ in seen] == [n for n in TABLE_ORDER if n in TABLES] + ["planted_groups"]
    # the stored rows are the generated rows
    back = workspace.con.execute("SELECT * FROM order_lines ORDER BY order_id, line_number").arrow().read_all()
    assert back.to_pylist() == small_store["order_lines"].to_pylist()
    meta = json.loads(workspace.meta(META_KEY))
    assert meta == {"seed": 9, "n_customers": 300, "end_date": "2025-12-31", "years": 2.0, "event_days": 180}
    log = workspace.con.execute(f'SELECT kind, format, rows_kept FROM "{INGEST_LOG}" ORDER BY ingest_id').fetchall()
    assert ("orders", "synthetic", small_store["orders"].num_rows) in log and len(log) == len(TABLES)


def test_a_second_store_is_refused_and_the_first_is_untouched(workspace, small_store):
    write_store(workspace, small_store)
    before = workspace.row_counts()
    with pytest.raises(WorkspaceError, match=r"already holds data: customers \(300 rows\).*Hint: create a fresh"):
        write_store(workspace, generate_store(200, seed=10))
    assert workspace.row_counts() == before


def test_a_failing_write_leaves_the_workspace_empty(workspace, small_store):
    broken = dict(small_store)
    events = broken["events"]
    bad_time = pa.array(["not a time"] * events.num_rows)
    broken["events"] = events.set_column(events.schema.get_field_index("occurred_at"), "occurred_at", bad_time)
    with pytest.raises(Exception, match="(?i)conver|cast|timestamp"):
        write_store(workspace, broken)
    assert set(workspace.row_counts().values()) == {0}
    assert not workspace.has_table(TRUTH_TABLE)


def test_missing_tables_and_columns_are_reported_together(workspace, small_store):
    broken = {k: v for k, v in small_store.items() if k != "products"}
    broken["orders"] = small_store["orders"].drop_columns(["channel"])
    with pytest.raises(SchemaError, match=r"table 'orders' has columns .*; expected .*table 'products' is missing"):
        write_store(workspace, broken)


def test_write_parquet_round_trips(tmp_path, small_store):
    paths = write_parquet(tmp_path / "out", small_store)
    assert sorted(p.name for p in paths) == sorted(f"{n}.parquet" for n in small_store)
    for name, table in small_store.items():
        assert pq.read_table(tmp_path / "out" / f"{name}.parquet").equals(table), name
