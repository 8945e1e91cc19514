"""Hand-built purchase histories for the segment tests (imported by conftest.py and the tests)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from shopseg.workspace import Workspace

__all__ = ["write_store"]


def write_store(
    ws: Workspace,
    purchases: Mapping[str, Sequence[str]],
    prospects: Sequence[str] = (),
    price: float = 10.0,
) -> Workspace:
    """Insert orders ``{customer_id: [timestamp, ...]}`` and prospects (customers without orders)."""
    orders, lines = [], []
    for cid, stamps in purchases.items():
        for i, ts in enumerate(stamps):
            oid = f"{cid}-{i}"
            orders.append((oid, cid, ts))
            lines.append((oid, 1, "p1", 1, price))
    if orders:
        ws.con.executemany("INSERT INTO orders (order_id, customer_id, ordered_at) VALUES (?, ?, ?)", orders)
        ws.con.executemany(
            "INSERT INTO order_lines (order_id, line_number, product_id, quantity, unit_price) VALUES (?, ?, ?, ?, ?)",
            lines,
        )
    customers = sorted(set(purchases) | set(prospects))
    if customers:
        ws.con.executemany("INSERT INTO customers (customer_id) VALUES (?)", [(c,) for c in customers])
    return ws
