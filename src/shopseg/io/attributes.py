"""Custom customer attributes as typed columns segment rules can use (as Shopify metafields, Unomi properties).

A customers file's columns that no canonical column reads are kept in
``customers.attributes`` as a JSON object (numbers stay numbers, true/false stay
booleans). After every customers ingest, :func:`refresh_attributes` spreads them
into ``customer_attributes``: ``customer_id`` and one column ``attr_<key>`` per key,
typed by its values (a key whose values are all numbers is a number, all booleans a
boolean, otherwise text). The segment language offers each column as a field
(``attr_loyalty_tier = 'gold' AND attr_points > 500``); ``shopseg segment fields``
lists them.
"""

from __future__ import annotations

import duckdb

from shopseg.io.columns import normalize_name

__all__ = ["ATTRIBUTES_TABLE", "refresh_attributes"]

ATTRIBUTES_TABLE = "customer_attributes"
_TYPES = {"DOUBLE": "DOUBLE", "UBIGINT": "DOUBLE", "BIGINT": "DOUBLE", "BOOLEAN": "BOOLEAN"}


def _column(key: str) -> str:
    return "attr_" + (normalize_name(key) or "value")


def refresh_attributes(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Rebuild ``customer_attributes`` from ``customers.attributes``; return its attribute columns.

    Run inside the ingest's transaction, so the table lands (or rolls back) with the customers.
    """
    rows = con.execute(
        """SELECT k, json_type(json_extract(attributes, '$."' || replace(k, '"', '\\"') || '"')) AS t, count(*)
           FROM (SELECT attributes, unnest(json_keys(attributes)) AS k FROM customers
                 WHERE attributes IS NOT NULL AND json_valid(attributes) AND json_type(attributes) = 'OBJECT')
           WHERE t <> 'NULL' GROUP BY 1, 2 ORDER BY 1"""
    ).fetchall()
    types: dict[str, set[str]] = {}
    for key, kind, _ in rows:
        types.setdefault(key, set()).add(str(kind))
    if not types:
        con.execute(f'DROP TABLE IF EXISTS "{ATTRIBUTES_TABLE}"')
        return []
    cols, seen = [], set()
    for key, kinds in sorted(types.items()):
        name = _column(key)
        if name in seen:
            continue
        seen.add(name)
        sql_type = _TYPES.get(next(iter(kinds))) if len(kinds) == 1 else None
        path = "'$.\"" + key.replace("'", "''").replace('"', '\\"') + "\"'"
        value = (
            f"TRY_CAST(json_extract(attributes, {path}) AS {sql_type})"
            if sql_type
            else f"json_extract_string(attributes, {path})"
        )
        cols.append(f'{value} AS "{name}"')
    con.execute(
        f'CREATE OR REPLACE TABLE "{ATTRIBUTES_TABLE}" AS SELECT customer_id, {", ".join(cols)} FROM customers '
        "WHERE attributes IS NOT NULL AND json_valid(attributes)"
    )
    return [_column(k) for k in sorted(types)]
