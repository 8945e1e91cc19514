"""The hand-computed four-order store both report test modules start from (revenue 47; see their docstrings)."""

from __future__ import annotations


def seed_orders(ws) -> None:
    """Orders o1-o4 of customers a and b (o4 cancelled, one return line)."""
    con = ws.con
    con.execute(
        """INSERT INTO orders (order_id, customer_id, ordered_at, is_cancelled) VALUES
           ('o1', 'a', '2024-01-05 10:00', false), ('o2', 'a', '2024-02-01 09:00', false),
           ('o3', 'b', '2024-02-03 12:00', false), ('o4', 'b', '2024-02-04 12:00', true)"""
    )
    con.execute(
        """INSERT INTO order_lines (order_id, line_number, product_id, quantity, unit_price, discount, is_return) VALUES
           ('o1', 1, 'p1', 2, 10.00, 0, false), ('o1', 2, 'p2', 1, 5.50, 0.50, false),
           ('o2', 1, 'p1', 1, 10.00, 0, false), ('o3', 1, 'p3', 3, 4.00, 0, false),
           ('o3', 2, 'p3', -1, 4.00, 0, true), ('o4', 1, 'p1', 9, 10.00, 0, false)"""
    )
