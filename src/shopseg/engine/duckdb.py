"""The default engine: Ibis on the workspace's own DuckDB file."""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlglot as sg
import sqlglot.expressions as sge
from ibis.backends.sql.datatypes import DuckDBType

from shopseg.engine.base import Engine
from shopseg.errors import NotFound, did_you_mean

if TYPE_CHECKING:
    from collections.abc import Callable

    import ibis.expr.types as ir
    import pandas as pd

    from shopseg.workspace import Workspace

__all__ = ["DuckDBEngine"]


class DuckDBEngine(Engine):
    """Run expressions in process on the workspace's DuckDB connection."""

    name = "duckdb"
    dialect = "duckdb"

    def table(self, name: str) -> ir.Table:
        tables = self.workspace.tables()
        if name not in tables:
            raise NotFound(f"{self.workspace.path}: no table '{name}'.{did_you_mean(name, tables)}")
        return self.workspace.ibis.table(name)

    def store(
        self,
        expr: ir.Table,
        workspace: Workspace,
        name: str,
        *,
        normalize: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
        order_by: str = "customer_id",
    ) -> pd.DataFrame | None:
        """Store ``expr`` with ``CREATE OR REPLACE TABLE ... AS`` inside the workspace file.

        The rows never leave DuckDB: no pandas frame is built, so time and
        memory stay those of the query. Every column is cast to the type of
        ``expr``'s schema (DuckDB sums integers into HUGEINT where Ibis
        promises int64) and rows are stored sorted by ``order_by``, as the
        pandas path stores them. Returns ``None``; read the table back when a
        frame is needed. An engine over another workspace falls back to the
        pandas path.
        """
        if workspace is not self.workspace:
            return super().store(expr, workspace, name, normalize=normalize, order_by=order_by)
        workspace.create_table_as(name, self._typed_sql(expr, order_by))
        return None

    def _typed_sql(self, expr: ir.Table, order_by: str) -> str:
        inner = sg.parse_one(str(self.workspace.ibis.compile(expr)), dialect=self.dialect)
        columns = [
            sge.Cast(this=sg.column(col, quoted=True), to=DuckDBType.from_ibis(dtype)).as_(col, quoted=True)
            for col, dtype in expr.schema().items()
        ]
        query = sg.select(*columns).from_(inner.subquery("_result")).order_by(sg.column(order_by, quoted=True))
        return query.sql(dialect=self.dialect)
