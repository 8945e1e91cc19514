"""Data-health warnings: what looks wrong in a store after it loaded, and how to fix it.

Shown after every ingest and by ``shopseg status``. Each warning names what was
measured and the fix; none refuses data (errors do that at ingest).
"""

from __future__ import annotations

import duckdb

__all__ = ["store_health", "key_match_warning"]

_ONE_ORDER_SHARE = 0.95
_MIN_BUYERS = 50


def store_health(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Warnings about the workspace's canonical tables (cheap aggregate queries)."""
    tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE NOT temporary").fetchall()}
    out: list[str] = []
    if "orders" in tables:
        out += _order_warnings(con)
    if "customers" in tables:
        out += _email_case_warnings(con)
    return out


def _email_case_warnings(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Customer ids that are e-mail addresses differing only by case ('Ann@X.com' beside 'ann@x.com'): one
    person as two customers, usually a file keyed by a raw e-mail column beside one keyed by a lower-cased one."""
    row = con.execute(
        "SELECT count(*), min(k), sum(n) FROM (SELECT lower(customer_id) AS k, count(*) AS n FROM customers "
        "WHERE contains(customer_id, '@') GROUP BY 1 HAVING count(*) > 1)"
    ).fetchone()
    if not row or not row[0]:
        return []
    return [
        f"{row[0]:,} e-mail addresses are the id of more than one customer, differing only by case "
        f"({row[2]:,} customers; e.g. {row[1]!r}): each person is counted as several customers. Fix: lower-case the "
        "key where it is loaded (an import spec's `customer_id: {column: Email, lower: true}`)."
    ]


#: Ids platforms give guest checkouts (lower-cased): all of a store's guests would be one customer.
_GUEST_IDS = "('0', '-1', 'guest', 'none', 'null', 'n/a', 'anonymous')"


def _order_warnings(con: duckdb.DuckDBPyConnection) -> list[str]:
    out = []
    row = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE n = 1), max(n) FROM "
        "(SELECT customer_id, count(*) AS n FROM orders WHERE NOT coalesce(is_cancelled, false) GROUP BY 1)"
    ).fetchone()
    if row and row[0] >= _MIN_BUYERS and row[1] / row[0] >= _ONE_ORDER_SHARE:
        out.append(
            f"{row[1] / row[0]:.1%} of {row[0]:,} buyers have exactly one order (at most {row[2]:,}): the customer "
            "key may be per order rather than per person, and then RFM, repeat rates and CLV are meaningless. "
            "Fix: map customer_id to the person key (e.g. a customers file's customer_unique_id, joined on the "
            "per-order key in an import spec; see docs/ingest.md)."
        )
    row = con.execute(
        "SELECT count(*), max(ordered_at) FROM orders WHERE ordered_at > now()::TIMESTAMP + INTERVAL 1 DAY"
    ).fetchone()
    if row and row[0]:
        out.append(
            f"{row[0]:,} orders are dated in the future (latest {row[1]:%Y-%m-%d}): they move the default as-of "
            "date. Fix: check the date column and --date-format (day/month order), or pass --as-of to builds."
        )
    row = con.execute(
        "SELECT customer_id, count(*) FROM orders WHERE lower(trim(customer_id)) IN "
        f"{_GUEST_IDS} GROUP BY 1 HAVING count(*) > 1 ORDER BY 2 DESC LIMIT 1"
    ).fetchone()
    if row:
        out.append(
            f"customer '{row[0]}' has {row[1]:,} orders: stores (WooCommerce, BigCommerce) give every guest checkout "
            "that id, so they count as one customer. Fix: key customers by the lower-cased e-mail "
            "(an import spec's `customer_id: {column: <email column>, lower: true}`) or leave guests out with a filter."
        )
    currencies = con.execute(
        "SELECT currency, count(*) FROM orders WHERE currency IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1"
    ).fetchall()
    if len(currencies) > 1:
        total = sum(n for _, n in currencies)
        shown = ", ".join(f"{c} {n / total:.0%}" for c, n in currencies[:4])
        out.append(
            f"orders are in {len(currencies)} currencies ({shown}): revenue and CLV add them as one. "
            "Fix: load one currency per workspace, or filter the others out in the import spec."
        )
    return out


def key_match_warning(what: str, matched: int, total: int, fix: str, threshold: float = 0.95) -> str | None:
    """A warning when fewer than ``threshold`` of ``total`` rows found their key.

    Examples
    --------
    >>> key_match_warning("order lines have a known customer", 111, 1032, "map customer_id through customers")
    'only 111 of 1,032 order lines have a known customer (10.8%). Fix: map customer_id through customers.'
    """
    if total == 0 or matched / total >= threshold:
        return None
    return f"only {matched:,} of {total:,} {what} ({matched / total:.1%}). Fix: {fix}."
