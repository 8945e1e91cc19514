"""Hand-computed stores the report tests start from: four orders (gross sales 47, see the docstrings), and one
with returns and a cancelled sale, where gross sales and net revenue differ."""

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


def seed_returns(ws) -> None:
    """A store where gross sales and net revenue differ, latest purchase 2024-03-20 (30-day periods: now is
    2024-02-21 .. 03-20, before is 2024-01-22 .. 02-20):

    - d buys 10 on 2024-01-01 (before both periods; the first month is whole);
    - a buys 100 on 02-10 and returns 30 on 02-15 (a credit note: a cancelled order of a negative quantity,
      as Online Retail's "C" invoices), then buys 50 on 03-10;
    - b buys 200 on 03-20 and cancels it all the same day with a credit note (Online Retail's 12346);
    - c buys 40 on 02-05 and returns 40 on 03-18 (in the later period, with no purchase in it).

    All time: gross sales 400, returns 30 + 200 + 40 = 270 (none above its customer's purchases), net revenue
    130. Now: gross 250, net 50 + 0 + 0 = 50 (c's return capped at c's 0 purchases in the period). Before:
    gross 140, net 70 + 40 = 110. Months: January and February whole, March 20 days.
    """
    con = ws.con
    con.execute(
        """INSERT INTO orders (order_id, customer_id, ordered_at, is_cancelled) VALUES
           ('d1', 'd', '2024-01-01 10:00', false),
           ('a1', 'a', '2024-02-10 10:00', false), ('a2', 'a', '2024-02-15 10:00', true),
           ('a3', 'a', '2024-03-10 10:00', false),
           ('b1', 'b', '2024-03-20 09:00', false), ('b2', 'b', '2024-03-20 09:30', true),
           ('c1', 'c', '2024-02-05 12:00', false), ('c2', 'c', '2024-03-18 12:00', true)"""
    )
    con.execute(
        """INSERT INTO order_lines (order_id, line_number, product_id, quantity, unit_price, discount, is_return) VALUES
           ('d1', 1, 'p1', 1, 10.00, 0, false),
           ('a1', 1, 'p1', 10, 10.00, 0, false), ('a2', 1, 'p1', -3, 10.00, 0, false),
           ('a3', 1, 'p2', 5, 10.00, 0, false),
           ('b1', 1, 'p3', 4, 50.00, 0, false), ('b2', 1, 'p3', -4, 50.00, 0, false),
           ('c1', 1, 'p1', 4, 10.00, 0, false), ('c2', 1, 'p1', -4, 10.00, 0, false)"""
    )
