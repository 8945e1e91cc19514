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

__all__ = ["ATTRIBUTES_TABLE", "refresh_attributes", "refresh_attribute_rows"]

ATTRIBUTES_TABLE = "customer_attributes"
_TYPES = {"DOUBLE": "DOUBLE", "UBIGINT": "DOUBLE", "BIGINT": "DOUBLE", "BOOLEAN": "BOOLEAN"}


def _column(key: str) -> str:
    return "attr_" + (normalize_name(key) or "value")


def _path(key: str) -> str:
    return "'$.\"" + key.replace("'", "''").replace('"', '\\"') + "\"'"


def refresh_attribute_rows(con: duckdb.DuckDBPyConnection, customer_ids: list[str]) -> None:
    """Rewrite the ``customer_attributes`` rows of ``customer_ids`` only (a live identify call), keeping the column
    types; a key without a column yet rebuilds the whole table (:func:`refresh_attributes`)."""
    import json

    rows = con.execute(
        "SELECT customer_id, attributes FROM customers WHERE customer_id IN (SELECT unnest(?)) "
        "AND attributes IS NOT NULL AND json_valid(attributes)",
        [customer_ids],
    ).fetchall()
    has = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND schema_name = 'main'", [ATTRIBUTES_TABLE]
    ).fetchone()
    described = con.execute(f'DESCRIBE "{ATTRIBUTES_TABLE}"').fetchall() if has and has[0] else []
    columns = {str(r[0]): str(r[1]) for r in described if r[0] != "customer_id"}
    keys = {k for _, attrs in rows for k, v in dict(json.loads(attrs) or {}).items() if v is not None}
    if not columns or any(_column(k) not in columns for k in keys):
        refresh_attributes(con)
        return
    con.execute(f'DELETE FROM "{ATTRIBUTES_TABLE}" WHERE customer_id IN (SELECT unnest(?))', [customer_ids])
    for cid, attrs in rows:
        values: dict[str, str] = {}
        for key in sorted(dict(json.loads(attrs) or {})):
            sql_type = columns[_column(key)] if _column(key) in columns else None
            if sql_type is None or _column(key) in values:
                continue
            values[_column(key)] = (
                f"json_extract_string(attributes, {_path(key)})"
                if sql_type == "VARCHAR"
                else f"TRY_CAST(json_extract(attributes, {_path(key)}) AS {sql_type})"
            )
        picked = ", ".join(f'"{c}"' for c in values)
        con.execute(
            f'INSERT INTO "{ATTRIBUTES_TABLE}" (customer_id{", " if values else ""}{picked}) '
            f"SELECT customer_id{', ' if values else ''}{', '.join(values.values())} FROM customers WHERE customer_id = ?",
            [cid],
        )


#: Each attribute key with each JSON type its values have (``VARCHAR``, ``UBIGINT``, ``BIGINT``, ``DOUBLE``,
#: ``BOOLEAN``, ``OBJECT``, ``ARRAY``; nulls left out) and how many customers have it so. The objects are
#: grouped by their ``json_structure`` first (keys and value types, usually a handful of distinct ones), so
#: each object is parsed once and the keys are listed per structure, not per customer.
KEY_TYPES_SQL = """
WITH structures AS (
    SELECT json_structure(attributes) AS s, count(*) AS n FROM customers
    WHERE attributes IS NOT NULL AND json_valid(attributes) AND json_type(attributes) = 'OBJECT' GROUP BY 1
), keyed AS (
    SELECT k, n, json_extract(s, '$."' || replace(k, '"', '\\"') || '"') AS v
    FROM (SELECT s, n, unnest(json_keys(s)) AS k FROM structures) WHERE k <> ''  -- no path names an empty key
)
SELECT k, t, sum(n) FROM (
    SELECT k, n, CASE WHEN json_type(v) IN ('OBJECT', 'ARRAY') THEN json_type(v)
                      WHEN json_extract_string(v, '$') = 'JSON' THEN 'OBJECT'  -- an empty object's structure
                      ELSE json_extract_string(v, '$') END AS t
    FROM keyed
) WHERE t <> 'NULL' GROUP BY 1, 2 ORDER BY 1, 2
"""


def refresh_attributes(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Rebuild ``customer_attributes`` from ``customers.attributes``; return its attribute columns.

    Run inside the ingest's transaction, so the table lands (or rolls back) with the customers.
    """
    rows = con.execute(KEY_TYPES_SQL).fetchall()
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
        path = _path(key)
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
