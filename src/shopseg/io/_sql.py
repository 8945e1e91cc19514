"""SQL text helpers: a column name quoted as a DuckDB identifier, a value as a string literal."""

from __future__ import annotations

__all__ = ["quote", "literal"]


def quote(name: str) -> str:
    """Quote a column name for DuckDB SQL."""
    return '"' + name.replace('"', '""') + '"'


def literal(value: object) -> str:
    """``value`` as a quoted SQL string literal."""
    return "'" + str(value).replace("'", "''") + "'"
