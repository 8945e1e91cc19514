"""The default engine: Ibis on the workspace's own DuckDB file."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shopseg.engine.base import Engine
from shopseg.errors import NotFound, did_you_mean

if TYPE_CHECKING:
    import ibis.expr.types as ir

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
