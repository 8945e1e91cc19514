"""A tiny hand-made store covering every feature (shared by tests/features and tests/cli).

c1: a regular buyer (two orders on 2024-01-01, discounts, a return, a free (0-price)
line, an uncategorised product, events); c2: one purchase, one returned line, a
cancelled order, one abandoned checkout; c3: known, never bought; c4: buyer
missing from ``customers``; c9: signed up after 2024-01-31.
"""

from __future__ import annotations

from shopseg.workspace import Workspace

TINY_SQL = [
    """INSERT INTO customers (customer_id, signup_at, birth_year, gender, country, region, city, email_marketing)
    VALUES ('c1', '2023-06-01', 1990, 'female', 'FR', 'IDF', 'Paris', true),
           ('c2', '2024-01-05', 1950, 'male', 'DE', 'BY', 'Munich', NULL),
           ('c3', '2023-01-01', NULL, NULL, 'UK', NULL, 'London', false),
           ('c9', '2024-03-01', 2001, NULL, 'US', NULL, NULL, NULL)""",
    """INSERT INTO products (product_id, name, category) VALUES
           ('p1', 'mug', 'Home > Kitchen'), ('p2', 'tee', 'Clothing > Tops'),
           ('p3', 'pan', 'Home > Kitchen > Pans'), ('p4', 'gift card', NULL)""",
    """INSERT INTO orders (order_id, customer_id, ordered_at, channel, is_cancelled) VALUES
           ('o1', 'c1', '2024-01-01 10:00', 'web', false),
           ('o2', 'c1', '2024-01-01 18:00', 'App', NULL),
           ('o3', 'c1', '2024-01-10 09:00', 'web', false),
           ('o4', 'c1', '2024-01-31 23:59', 'store', false),
           ('o5', 'c2', '2024-01-20 12:00', 'web', false),
           ('o6', 'c2', '2024-01-25 12:00', 'web', true),
           ('o7', 'c4', '2024-01-15 08:00', 'app', false),
           ('o8', 'c1', '2024-01-20 10:00', 'web', false),
           ('o9', 'c1', '2024-02-02 10:00', 'web', false)""",
    """INSERT INTO order_lines (order_id, line_number, product_id, quantity, unit_price, discount, is_return) VALUES
           ('o1', 1, 'p1', 2, 10.0, 0, false), ('o1', 2, 'p2', 1, 15.5, 1.5, false),
           ('o2', 1, 'p3', 1, 40.0, NULL, NULL), ('o2', 2, 'p1', 1, 0.0, NULL, NULL),
           ('o3', 1, 'p2', 3, 2.55, NULL, false),
           ('o4', 1, 'p4', 1, 25.0, 5.0, false),
           ('o5', 1, 'p1', 1, 12.0, NULL, false), ('o5', 2, 'p2', -1, 12.0, NULL, false),
           ('o6', 1, 'p3', 5, 40.0, NULL, false),
           ('o7', 1, 'p2', 1, 9.99, NULL, false),
           ('o8', 1, 'p1', -1, 10.0, NULL, true),
           ('o9', 1, 'p1', 4, 10.0, NULL, false)""",
    """INSERT INTO events (event_id, customer_id, type, occurred_at) VALUES
           ('e1', 'c1', 'product_view', '2024-01-31 10:00'),
           ('e2', 'c1', 'product_view', '2024-01-20 10:00'),
           ('e3', 'c1', 'product_view', '2023-12-01 10:00'),
           ('e4', 'c1', 'add_to_cart', '2024-01-30 10:00'),
           ('e5', 'c1', 'checkout_started', '2024-01-31 23:00'),
           ('e6', 'c2', 'checkout_started', '2024-01-20 11:00'),
           ('e7', 'c2', 'checkout_started', '2024-01-10 11:00'),
           ('e8', 'c2', 'email_open', '2024-01-10 11:00'),
           ('e9', 'c2', 'email_click', '2024-01-10 11:05'),
           ('e10', NULL, 'product_view', '2024-01-10 11:05'),
           ('e11', 'c3', 'product_view', '2024-02-01 00:00')""",
]


def load_tiny(ws: Workspace) -> Workspace:
    for stmt in TINY_SQL:
        ws.con.execute(stmt)
    return ws
