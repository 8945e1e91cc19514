"""Small helpers shared by modules that speak SQL directly: a query's scalar, quoted names and literals."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb

__all__ = ["scalar_sql", "quote", "literal"]


def scalar_sql(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] | None = None) -> Any:
    """The first column of the first row of ``sql`` (``None`` when it returns no row).

    >>> scalar_sql(duckdb.connect(), "SELECT 40 + ?", [2])
    42
    """
    row = con.execute(sql, params or []).fetchone()
    return None if row is None else row[0]


def quote(name: str) -> str:
    """Quote a column name for DuckDB SQL."""
    return '"' + name.replace('"', '""') + '"'


def literal(value: object) -> str:
    """``value`` as a quoted SQL string literal."""
    return "'" + str(value).replace("'", "''") + "'"
