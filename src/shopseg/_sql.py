"""Small helpers shared by modules that speak SQL directly: a query's scalar, quoted names and literals."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import duckdb

__all__ = ["scalar_sql", "quote", "literal", "value_sql"]


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


def value_sql(value: None | bool | int | str | dt.datetime) -> str:
    """``value`` as a typed SQL literal: NULL, a boolean, an integer, a quoted string or a TIMESTAMP.

    For statements on paths that read no frame: DuckDB's Python binding imports pandas (with
    numpy and pyarrow, about 130 MB of resident memory) to convert the first bound parameter a
    process gives it, so the ingest, the workspace meta and the memory cap write their few values
    as literals.

    >>> [value_sql(v) for v in (None, True, 7, "it's", dt.datetime(2026, 1, 2, 3, 4, 5, 6))]
    ['NULL', 'true', '7', "'it''s'", "TIMESTAMP '2026-01-02 03:04:05.000006'"]
    """
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, dt.datetime):
        return f"TIMESTAMP '{value.isoformat(sep=' ')}'"
    if isinstance(value, str):
        return literal(value)
    raise TypeError(f"value_sql: no SQL literal for {type(value).__name__}")
