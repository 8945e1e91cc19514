"""SparkEngine.store: Spark writes Parquet, DuckDB stores it; no row reaches the Spark driver.

The oracle is the pandas path every engine had before (:meth:`Engine.store`,
which collects the rows with ``toPandas``) and DuckDB's own ``store``: the
stored tables must have the same column types and the same rows, sorted.
"""

from __future__ import annotations

from collections.abc import Iterator

import ibis
import pandas as pd
import pytest

from shopseg.engine import Engine
from shopseg.features import FEATURES_TABLE, build_features, feature_expr
from shopseg.features.build import normalize_features
from shopseg.workspace import Workspace
from tests.engines.conftest import engines_for
from tests.engines.engine_compare import assert_engines_agree

pytestmark = pytest.mark.spark

AS_OF = "2025-12-20"


@pytest.fixture(scope="module")
def store_workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    from shopseg.datasets import generate_store, write_store

    ws = Workspace.init(tmp_path_factory.mktemp("spark_store") / "store.duckdb")
    write_store(ws, generate_store(300, seed=11))
    yield ws
    ws.close()


@pytest.fixture
def target(tmp_path) -> Iterator[Workspace]:
    """Another workspace to store into (the engines read ``store_workspace``)."""
    ws = Workspace.init(tmp_path / "target.duckdb")
    yield ws
    ws.close()


def _columns(ws: Workspace, name: str) -> list[tuple[str, str]]:
    return [(row[0], row[1]) for row in ws.con.execute(f'DESCRIBE "{name}"').fetchall()]


def _differing_rows(ws: Workspace, left: str, right: str) -> tuple[int, int]:
    """Rows of ``left`` missing from ``right`` and the reverse (EXCEPT ALL: NULLs match, duplicates count)."""
    (a,) = ws.con.execute(f'SELECT count(*) FROM (FROM "{left}" EXCEPT ALL FROM "{right}")').fetchone()
    (b,) = ws.con.execute(f'SELECT count(*) FROM (FROM "{right}" EXCEPT ALL FROM "{left}")').fetchone()
    return a, b


def _is_sorted(ws: Workspace, name: str) -> bool:
    """Stored in ``customer_id`` order (row ids follow the insertion order)."""
    (unsorted,) = ws.con.execute(
        f'SELECT count(*) FROM (SELECT customer_id < lag(customer_id) OVER (ORDER BY rowid) AS down FROM "{name}") '
        "WHERE down"
    ).fetchone()
    return unsorted == 0


@pytest.fixture
def driver_results_capped(store_workspace) -> Iterator[None]:
    """Cap ``spark.driver.maxResultSize`` at 16 KiB, so a stage whose results (rows) reach the driver fails.

    Spark reads the cap from the live SparkConf for every new stage; the session's
    runtime conf refuses core settings, so the JVM's conf is set (and restored) directly.
    """
    key = "spark.driver.maxResultSize"
    conf = engines_for(store_workspace)[1].session.sparkContext._jsc.sc().conf()
    previous = conf.getOption(key)
    conf.set(key, "16k")
    try:
        yield
    finally:
        if previous.isDefined():
            conf.set(key, previous.get())
        else:
            conf.remove(key)


def test_store_gives_the_table_of_the_pandas_path_and_of_duckdb(store_workspace, target):
    duck, spark = engines_for(store_workspace)
    expr = feature_expr(spark, as_of=AS_OF, time_unit="weeks")
    assert spark.store(expr, target, "via_parquet") is None
    Engine.store(spark, expr, target, "via_pandas", normalize=normalize_features)
    duck.store(feature_expr(duck, as_of=AS_OF, time_unit="weeks"), store_workspace, "via_duckdb")
    try:
        stored_by_duckdb = store_workspace.con.execute('FROM "via_duckdb"').df()
        duckdb_columns = _columns(store_workspace, "via_duckdb")
    finally:
        store_workspace.con.execute('DROP TABLE "via_duckdb"')

    assert _columns(target, "via_parquet") == _columns(target, "via_pandas") == duckdb_columns
    assert any(t == "TIMESTAMP" for _, t in duckdb_columns) and any(t == "BOOLEAN" for _, t in duckdb_columns)
    assert target.con.execute('SELECT count(*) FROM "via_parquet"').fetchone() == (296,)
    assert _differing_rows(target, "via_parquet", "via_pandas") == (0, 0)  # both hold Spark's values: exact
    assert _is_sorted(target, "via_parquet")
    assert_engines_agree(stored_by_duckdb, target.con.execute('FROM "via_parquet"').df())
    assert not list(spark._dir.glob("store-*")), "the Parquet files are left behind"


@pytest.mark.filterwarnings("ignore:toPandas attempted Arrow optimization:UserWarning")
def test_features_build_on_spark_does_not_collect_the_rows(store_workspace, driver_results_capped):
    """The user path (`shopseg -e spark features build`) under a 16 KiB cap on results sent to the driver:
    the table (about 120 KiB as Arrow) is stored; collecting it, as the pandas path does, is refused."""
    _, spark = engines_for(store_workspace)
    build_features(store_workspace, spark, as_of=AS_OF, return_frame=False)
    assert store_workspace.meta("features_engine") == "spark"
    assert store_workspace.con.execute(f"SELECT count(*) FROM {FEATURES_TABLE}").fetchone() == (296,)
    with pytest.raises(Exception, match="maxResultSize"):
        Engine.store(spark, spark.table(FEATURES_TABLE), store_workspace, "collected")


@pytest.mark.filterwarnings("ignore:toPandas attempted Arrow optimization:UserWarning")
def test_lifecycle_on_spark_does_not_collect_the_rows_and_stores_duckdbs_table(
    store_workspace, driver_results_capped, monkeypatch
):
    """`shopseg -e spark lifecycle` (return_frame=False) under the 16 KiB cap: the stages are stored without
    reaching the driver, with the columns, types, rows and order DuckDB stores, in one write of the table
    (the Parquet files are read once, with DuckDB's types, not stored and then rewritten)."""
    from shopseg.segments.lifecycle import LIFECYCLE_TABLE, build_lifecycle

    duck, spark = engines_for(store_workspace)
    duck_counts = build_lifecycle(store_workspace, duck, as_of=AS_OF, return_frame=False)
    store_workspace.con.execute(f'CREATE OR REPLACE TABLE "by_duckdb" AS FROM "{LIFECYCLE_TABLE}"')
    written: list[str] = []
    create = store_workspace.create_table_as
    monkeypatch.setattr(store_workspace, "create_table_as", lambda name, sql: (written.append(name), create(name, sql)))
    try:
        spark_counts = build_lifecycle(store_workspace, spark, as_of=AS_OF, return_frame=False)
        assert written == [LIFECYCLE_TABLE]
        assert _columns(store_workspace, LIFECYCLE_TABLE) == _columns(store_workspace, "by_duckdb")
        assert any(t == "TIMESTAMP_S" for _, t in _columns(store_workspace, "by_duckdb"))
        assert _differing_rows(store_workspace, LIFECYCLE_TABLE, "by_duckdb") == (0, 0)
        assert _is_sorted(store_workspace, LIFECYCLE_TABLE)
        pd.testing.assert_frame_equal(spark_counts, duck_counts)
        assert store_workspace.con.execute(f'SELECT count(*) FROM "{LIFECYCLE_TABLE}"').fetchone()[0] > 290
        with pytest.raises(Exception, match="maxResultSize"):
            Engine.store(spark, spark.table(LIFECYCLE_TABLE), store_workspace, "collected")
    finally:
        store_workspace.con.execute('DROP TABLE "by_duckdb"')


@pytest.mark.parametrize("written_as", ["INT96", "TIMESTAMP_MICROS"])
def test_timestamps_keep_their_wall_time_whatever_duckdbs_time_zone(store_workspace, target, written_as):
    """Spark writes INT96 by default (DuckDB reads TIMESTAMP). As TIMESTAMP_MICROS, Spark's own timestamps
    (here the truncated day; the workspace's are TIMESTAMP_NTZ in Spark) are marked UTC-adjusted: DuckDB reads
    TIMESTAMPTZ, whose plain cast to TIMESTAMP would move them to DuckDB's time zone."""
    _, spark = engines_for(store_workspace)
    orders = spark.table("orders")
    orders = orders.select("customer_id", "ordered_at", day=orders.ordered_at.truncate("D"))
    key = "spark.sql.parquet.outputTimestampType"
    previous = spark.session.conf.get(key)
    spark.session.conf.set(key, written_as)
    target.con.execute("SET TimeZone = 'America/New_York'")
    try:
        spark.store(orders, target, "stamps")
    finally:
        spark.session.conf.set(key, previous)
        target.con.execute("RESET TimeZone")
    assert _columns(target, "stamps") == [("customer_id", "VARCHAR"), ("ordered_at", "TIMESTAMP"), ("day", "TIMESTAMP")]
    stored = target.con.execute("FROM stamps").df()
    expected = store_workspace.con.execute(
        "SELECT customer_id, ordered_at, date_trunc('day', ordered_at)::TIMESTAMP AS day FROM orders"
    ).df()
    keys = ["customer_id", "ordered_at"]
    pd.testing.assert_frame_equal(
        stored.sort_values(keys, ignore_index=True), expected.sort_values(keys, ignore_index=True), check_dtype=False
    )


def test_nan_is_stored_as_null_and_an_empty_result_keeps_its_types(store_workspace, target):
    """As the pandas path stored them (DuckDB reads a pandas NaN as NULL)."""
    _, spark = engines_for(store_workspace)
    customers = spark.table("customers").select("customer_id")
    odd = customers.mutate(x=ibis.literal(float("nan")), n=ibis.literal(1, type="int32"))
    spark.store(odd, target, "odd")
    Engine.store(spark, odd, target, "odd_pandas")
    assert target.con.execute("SELECT count(*), count(x) FROM odd").fetchone() == (300, 0)
    assert _columns(target, "odd") == _columns(target, "odd_pandas")
    assert _differing_rows(target, "odd", "odd_pandas") == (0, 0)
    spark.store(odd.filter(odd.customer_id == "nobody"), target, "empty")
    assert _columns(target, "empty") == [("customer_id", "VARCHAR"), ("x", "DOUBLE"), ("n", "INTEGER")]
    assert target.con.execute("SELECT count(*) FROM empty").fetchone() == (0,)
