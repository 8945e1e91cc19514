"""Collected events -> ``customers``, ``products``, ``orders``, ``order_lines`` and identity links.

Called by :func:`shopseg.live.storage.commit_batch` inside the transaction that appends the events, so the
rows land (or roll back) with them, and a journal replay after a crash writes them again. Only events made
by :mod:`shopseg.collect.segment_spec` carry the ``_shopseg`` property; it is removed here and never stored
in ``events``. Each kind of work:

- ``link`` (identify/alias, or any call with both ids): ``collect_identities`` gets the link; the device's
  anonymous ``events`` (and the ``orders`` of its ``purchase`` events) get the ``customer_id``.
- ``customer`` (identify traits): the ``customers`` row is created or its given columns updated; custom
  traits are merged into ``attributes`` and ``customer_attributes`` is refreshed for that customer.
- ``products``: a product seen for the first time gets its ``products`` row (name, category, brand, price).
- ``order`` (Order Completed): the order and its lines, once per ``order_id``.
- ``order_update`` / ``order_cancel`` / ``order_refund``: lines replaced, ``is_cancelled`` set, return lines
  added (``is_return``; every line of the order when the call names no products).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from shopseg.collect.segment_spec import COLLECT_KEY
from shopseg.io.attributes import refresh_attribute_rows
from shopseg.schema import TABLES, ddl

if TYPE_CHECKING:
    import duckdb

__all__ = ["IDENTITIES_TABLE", "split_rows", "apply_work", "load_identities"]

IDENTITIES_TABLE = "collect_identities"
_IDENTITIES_DDL = (
    f'CREATE TABLE IF NOT EXISTS "{IDENTITIES_TABLE}" (anonymous_id VARCHAR, customer_id VARCHAR, linked_at TIMESTAMP)'
)
_MARK = f'"{COLLECT_KEY}"'
Row = tuple[Any, ...]


def split_rows(rows: Sequence[Sequence[Any]]) -> tuple[list[Row], list[tuple[Row, dict[str, Any]]]]:
    """``(rows to store, (row, work) pairs)``: the ``_shopseg`` property is taken out of each event row."""
    out: list[Row] = []
    work: list[tuple[Row, dict[str, Any]]] = []
    for row in rows:
        props = row[6]
        if props is None or _MARK not in props:
            out.append(tuple(row))
            continue
        data = json.loads(props)
        ops = data.pop(COLLECT_KEY, None)
        clean = (*row[:6], json.dumps(data, separators=(",", ":")) if data else None)
        out.append(clean)
        if isinstance(ops, dict):
            work.append((clean, ops))
    return out, work


def load_identities(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """``anonymous_id -> customer_id``, the latest link of each device."""
    con.execute(_IDENTITIES_DDL)
    rows = con.execute(f'SELECT anonymous_id, customer_id FROM "{IDENTITIES_TABLE}" ORDER BY linked_at').fetchall()
    return {a: c for a, c in rows}


def _link(con: duckdb.DuckDBPyConnection, anon: str, cid: str, at: dt.datetime) -> None:
    con.execute(f'INSERT INTO "{IDENTITIES_TABLE}" VALUES (?, ?, ?)', [anon, cid, at])
    con.execute(
        "UPDATE orders SET customer_id = ? WHERE customer_id IS NULL AND order_id IN (SELECT "
        "json_extract_string(properties, '$.order_id') FROM events WHERE anonymous_id = ? AND type = 'purchase')",
        [cid, anon],
    )
    con.execute("UPDATE events SET customer_id = ? WHERE anonymous_id = ? AND customer_id IS NULL", [cid, anon])


def _customer(con: duckdb.DuckDBPyConnection, row: Mapping[str, Any]) -> bool:
    """Create or update one ``customers`` row; True when its custom attributes changed."""
    columns = set(TABLES["customers"].names) - {"customer_id", "attributes"}
    cid, given = row["customer_id"], {k: v for k, v in row.items() if k in columns}
    old = con.execute("SELECT attributes FROM customers WHERE customer_id = ?", [cid]).fetchone()
    attrs = row.get("attributes")
    if attrs:
        merged = json.loads(old[0]) if old and old[0] else {}
        given["attributes"] = json.dumps({**(merged if isinstance(merged, dict) else {}), **attrs})
    if old is None:
        cols = ["customer_id", *given]
        con.execute(
            f"INSERT INTO customers ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", [cid, *given.values()]
        )
    elif given:
        sets = ", ".join(f'"{c}" = ?' for c in given)
        con.execute(f"UPDATE customers SET {sets} WHERE customer_id = ?", [*given.values(), cid])
    return bool(attrs)


def _products(con: duckdb.DuckDBPyConnection, products: dict[str, dict[str, Any]]) -> None:
    if not products:
        return
    known = {
        r[0]
        for r in con.execute(
            "SELECT product_id FROM products WHERE product_id IN (SELECT unnest(?))", [list(products)]
        ).fetchall()
    }
    cols = TABLES["products"].names
    fresh = [[p.get(c) for c in cols] for pid, p in products.items() if pid not in known]
    if fresh:
        one = "(" + ", ".join("?" * len(cols)) + ")"
        con.execute(
            f"INSERT INTO products ({', '.join(cols)}) VALUES " + ", ".join([one] * len(fresh)),
            [v for r in fresh for v in r],
        )


def _add_lines(
    con: duckdb.DuckDBPyConnection, order_id: str, lines: Sequence[Mapping[str, Any]], returns: bool = False
) -> None:
    if not lines:
        return
    start = con.execute(
        "SELECT coalesce(max(line_number), 0) FROM order_lines WHERE order_id = ?", [order_id]
    ).fetchone()
    first = int(start[0]) if start else 0
    values = [
        [
            order_id,
            first + i + 1,
            line["product_id"],
            abs(int(line["quantity"])),
            line["unit_price"],
            line.get("discount"),
            returns,
        ]
        for i, line in enumerate(lines)
    ]
    con.execute(
        "INSERT INTO order_lines (order_id, line_number, product_id, quantity, unit_price, discount, is_return) VALUES "
        + ", ".join(["(?, ?, ?, ?, ?, ?, ?)"] * len(values)),
        [v for r in values for v in r],
    )


def _order(con: duckdb.DuckDBPyConnection, order: Mapping[str, Any], cid: str | None, at: dt.datetime) -> None:
    """Insert the order and its lines unless ``order_id`` is already stored (an order is stored once)."""
    if con.execute("SELECT 1 FROM orders WHERE order_id = ?", [order["order_id"]]).fetchone():
        return
    con.execute(
        "INSERT INTO orders (order_id, customer_id, ordered_at, channel, currency, is_cancelled) VALUES (?, ?, ?, ?, ?, false)",
        [order["order_id"], cid, at, order.get("channel"), order.get("currency")],
    )
    _add_lines(con, order["order_id"], order["lines"])


def _order_update(con: duckdb.DuckDBPyConnection, order: Mapping[str, Any], cid: str | None, at: dt.datetime) -> None:
    if not con.execute("SELECT 1 FROM orders WHERE order_id = ?", [order["order_id"]]).fetchone():
        if "lines" in order:
            _order(con, order, cid, at)
        return
    if order.get("currency"):
        con.execute("UPDATE orders SET currency = ? WHERE order_id = ?", [order["currency"], order["order_id"]])
    if "lines" in order:
        con.execute(
            "DELETE FROM order_lines WHERE order_id = ? AND NOT coalesce(is_return, false)", [order["order_id"]]
        )
        _add_lines(con, order["order_id"], order["lines"])


def _refund(con: duckdb.DuckDBPyConnection, refund: Mapping[str, Any]) -> None:
    order_id, lines = refund["order_id"], list(refund.get("lines") or [])
    if not lines:
        rows = con.execute(
            "SELECT product_id, quantity, unit_price, discount FROM order_lines WHERE order_id = ? "
            "AND NOT coalesce(is_return, false) ORDER BY line_number",
            [order_id],
        ).fetchall()
        lines = [{"product_id": p, "quantity": q, "unit_price": u, "discount": d} for p, q, u, d in rows]
    _add_lines(con, order_id, lines, returns=True)


def apply_work(con: duckdb.DuckDBPyConnection, work: Sequence[tuple[Row, Mapping[str, Any]]]) -> None:
    """Write what the collected events carry, in their order (inside the caller's transaction, after the events)."""
    if not work:
        return
    for table in ("customers", "products", "orders", "order_lines"):
        con.execute(ddl(table))
    con.execute(_IDENTITIES_DDL)
    products: dict[str, dict[str, Any]] = {}
    attributes: list[str] = []
    for row, ops in work:
        cid, at = row[1], row[4]
        for product in ops.get("products") or []:
            products.setdefault(product["product_id"], {}).update(product)
        if "link" in ops and cid is not None:
            _link(con, ops["link"], cid, at)
        if "customer" in ops and _customer(con, ops["customer"]):
            attributes.append(ops["customer"]["customer_id"])
        if "order" in ops:
            _order(con, ops["order"], cid, at)
        if "order_update" in ops:
            _order_update(con, ops["order_update"], cid, at)
        if "order_cancel" in ops:
            con.execute("UPDATE orders SET is_cancelled = true WHERE order_id = ?", [ops["order_cancel"]])
        if "order_refund" in ops:
            _refund(con, ops["order_refund"])
    _products(con, products)
    if attributes:
        refresh_attribute_rows(con, sorted(set(attributes)))
