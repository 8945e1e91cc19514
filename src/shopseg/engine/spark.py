"""The scale-out engine: the same Ibis expressions on Apache Spark.

Workspace tables are handed to Spark as Parquet (written by DuckDB into a
temporary folder, which Spark must see: local mode, or a cluster sharing the
file system) and registered as temporary views; Ibis then compiles every expression to Spark SQL. Derived
tables come back the same way: Spark writes Parquet and DuckDB reads it into the
workspace (:meth:`SparkEngine.store`). Install with ``pip install
shopseg[spark]``; tests run Spark in local mode.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shopseg.config import get_setting
from shopseg.engine.base import Engine
from shopseg.errors import NotFound, ShopsegError, did_you_mean

if TYPE_CHECKING:
    from collections.abc import Callable

    import ibis.expr.datatypes as dt
    import ibis.expr.types as ir
    import pandas as pd
    import sqlglot.expressions as sge

    from shopseg.workspace import Workspace

__all__ = ["SparkEngine", "get_spark_session"]

_SESSION: Any = None


def get_spark_session() -> Any:
    """Return the process-wide Spark session, starting it on first use."""
    global _SESSION
    if _SESSION is not None:
        return _SESSION
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ShopsegError("The spark engine needs PySpark: pip install 'shopseg[spark]'.") from exc
    warehouse = tempfile.mkdtemp(prefix="shopseg-spark-warehouse-")
    atexit.register(shutil.rmtree, warehouse, True)
    _SESSION = (
        SparkSession.builder.master(get_setting("spark_master"))
        .appName("shopseg")
        .config("spark.driver.memory", get_setting("spark_driver_memory"))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "8")
        .config("spark.sql.warehouse.dir", warehouse)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={warehouse}")
        .getOrCreate()
    )
    _SESSION.sparkContext.setLogLevel("ERROR")
    return _SESSION


class SparkEngine(Engine):
    """Run expressions on Spark; workspace tables are shipped as Parquet."""

    name = "spark"
    dialect = "pyspark"

    def __init__(self, workspace: Workspace) -> None:
        super().__init__(workspace)
        import ibis

        self.session = get_spark_session()
        self.backend = ibis.pyspark.connect(self.session)
        self._dir = Path(tempfile.mkdtemp(prefix="shopseg-spark-"))
        self._loaded: set[str] = set()
        # Views are per engine: two engines over two workspaces share one session.
        self._prefix = f"shopseg_{uuid.uuid4().hex[:8]}_"

    def table(self, name: str) -> ir.Table:
        if name not in self._loaded:
            tables = self.workspace.tables()
            if name not in tables:
                raise NotFound(f"{self.workspace.path}: no table '{name}'.{did_you_mean(name, tables)}")
            target = self._dir / f"{name}.parquet"
            self.workspace.con.execute(f"COPY \"{name}\" TO '{target}' (FORMAT parquet)")
            view = f"{self._prefix}{name}"
            self.session.read.parquet(str(target)).createOrReplaceTempView(view)
            self._loaded.add(name)
        return self.backend.table(f"{self._prefix}{name}")

    def execute(self, expr: ir.Table) -> pd.DataFrame:
        return expr.to_pandas()

    def store(
        self,
        expr: ir.Table,
        workspace: Workspace,
        name: str,
        *,
        normalize: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
        order_by: str | None = "customer_id",
        by_customer: bool = False,
        retype: Callable[[str], str] | None = None,
    ) -> pd.DataFrame | None:
        """Have Spark write ``expr`` as Parquet, and DuckDB store the files as ``name`` in ``workspace``.

        The rows never pass through the Spark driver or Python: the default
        :meth:`Engine.store` collects them with ``toPandas``, which at 10M
        customers ran out of driver heap (2g) or past
        ``spark.driver.maxResultSize`` (8g). Spark's tasks write the Parquet
        files into this engine's folder; one ``CREATE OR REPLACE TABLE ... AS``
        reads them into the workspace (the table is replaced whole or not at
        all) and the files are removed. As in
        :meth:`~shopseg.engine.duckdb.DuckDBEngine.store`, every column is cast
        to the type of ``expr``'s schema and rows are sorted by ``order_by``;
        that is all ``normalize`` does on the pandas path (sort, dtypes), so it
        is not called. Float NaNs are stored as NULL, as the pandas path stored
        them. Timestamps keep their UTC wall time (the session's time zone).
        ``by_customer`` changes nothing here (Spark splits the work itself).
        Like :meth:`table`, this needs the folder on a file system both Spark
        and this process see (local mode). ``retype``, when given, wraps that
        SELECT in the caller's final one (e.g. the DuckDB path's column types;
        pass ``order_by=None`` when it sorts), so the files are read once.
        Returns ``None``.
        """
        folder = self._dir / f"store-{uuid.uuid4().hex[:8]}"
        try:
            self.backend.to_parquet(expr, folder)
            sql = self._stored_sql(expr, workspace, folder, order_by)
            workspace.create_table_as(name, sql if retype is None else retype(sql))
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return None

    @staticmethod
    def _stored_sql(expr: ir.Table, workspace: Workspace, folder: Path, order_by: str | None) -> str:
        import sqlglot as sg
        import sqlglot.expressions as sge

        from shopseg.engine.duckdb import typed_query

        files = sge.Table(this=sg.func("read_parquet", sge.convert((folder / "*.parquet").as_posix())))
        written = dict(
            workspace.con.execute(
                f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM {files.sql('duckdb')})"
            ).fetchall()
        )

        def column(col: str, dtype: dt.DataType) -> sge.Expr:
            ref: sge.Expr = sg.column(col, quoted=True)
            if written[col] == "TIMESTAMP WITH TIME ZONE":  # TIMESTAMP_MICROS marked UTC-adjusted (INT96 is not)
                ref = sg.func("timezone", sge.convert("UTC"), ref)
            if dtype.is_floating():
                ref = sg.func("nullif", ref, sge.Cast(this=sge.convert("NaN"), to=sge.DataType.build("DOUBLE")))
            return ref

        return typed_query(expr.schema(), files, order_by, column)

    def close(self) -> None:
        for name in self._loaded:
            self.session.catalog.dropTempView(f"{self._prefix}{name}")
        self._loaded.clear()
        shutil.rmtree(self._dir, ignore_errors=True)
