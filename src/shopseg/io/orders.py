"""Orders: one source row per order line, written to ``orders``, ``order_lines``,
``products`` (unseen product ids) and ``customers`` (unseen customer ids).

Rules (see docs/ingest.md):

- a line without ``customer_id`` is flagged and not kept (an order needs a buyer);
- cancellations and returns are kept and marked; a negative quantity must be
  marked as a return (``is_return``) or belong to a cancelled order, otherwise
  the ingest is refused: the format has no return semantics and a sign error
  would silently turn a sale into a refund;
- a non-positive unit price or zero quantity is kept and counted;
- ``(order_id, line_number)`` must be unique in the file; without a
  ``line_number`` column lines are numbered in file order, so identical lines
  of one invoice stay distinct lines;
- an order already in the workspace refuses the whole ingest (no double counting), unless the caller says
  what a re-export means (``existing``): ``"skip"`` loads only the orders not yet stored (the stored ones'
  lines are flagged, not kept), ``"replace"`` replaces each stored order and its lines by the file's (a newer
  export: refunds and cancellations since the last one);
- a partly refunded order (``refunded_amount``, order-level money: Shopify's "Refunded Amount") gets one
  return line of that amount (at most the order's purchase value), on its most valuable product: exports
  say how much was refunded, not which items;
- all lines of an order must name the same customer; ``ordered_at`` of the
  order is the earliest of its lines, other order fields come from its first line.
"""

from __future__ import annotations

import duckdb

from shopseg._sql import literal, quote
from shopseg.errors import InvalidParameterError
from shopseg.io.columns import MONEY
from shopseg.io.report import DROPPED, MARKED
from shopseg.io.validate import STAGE_TABLE, Check, Staged, drop_predicate, future_cutoff, raise_problems

__all__ = ["order_checks", "check_orders_across_rows", "write_orders", "check_existing", "MONEY_LIMIT", "ORDERS"]

ORDERS = "_shopseg_orders"
LINES = "_shopseg_lines"
#: Money values (a line's quantity × unit_price, a discount) must stay under this: features sum lines as
#: 64-bit integer cents, which a few absurd values (1e300, a stray exponent) would overflow.
MONEY_LIMIT = 1_000_000_000_000
_NOT_NULL = ["order_id", "ordered_at", "product_id", "quantity", "unit_price"]
#: What an orders ingest does with an order already in the workspace: refuse the file, skip it, replace it.
EXISTING = ("error", "skip", "replace")
_STORED = "order_id IN (SELECT order_id FROM orders)"


def _flag(staged: Staged, name: str) -> str:
    return f"coalesce({name}, false)" if name in staged.present else "false"


def order_checks(staged: Staged, existing: str = "error") -> tuple[list[str], list[Check]]:
    """Columns that must not be null, and the row checks of an orders ingest (``existing``: :data:`EXISTING`)."""
    ret, cancel = _flag(staged, "is_return"), _flag(staged, "is_cancelled")
    has_returns = "is_return" in staged.present or "is_cancelled" in staged.present
    hint = (
        "a positive quantity, or the line marked as a return (is_return true)"
        if has_returns
        else "a positive quantity: this file has no return semantics (no is_return or is_cancelled column), "
        "so a negative quantity is ambiguous. Hint: add an is_return column and map it with "
        "--map is_return=<column>, or use a preset that knows the format's returns"
    )
    not_null = list(_NOT_NULL) + (["line_number"] if "line_number" in staged.present else [])
    checks = [
        Check(f"missing customer_id {DROPPED}", "customer_id IS NULL", "drop"),
        *([Check(f"order already in the workspace, skipped {DROPPED}", _STORED, "drop")] if existing == "skip" else []),
        Check(
            "quantity: negative but not marked as a return",
            f"quantity < 0 AND NOT {ret} AND NOT {cancel}",
            "error",
            "quantity",
            hint,
        ),
        Check(f"cancellation {MARKED}", cancel, "mark"),
        Check(f"return {MARKED}", f"{ret} AND NOT {cancel}", "mark"),
        Check(f"non-positive unit_price {MARKED}", "unit_price <= 0", "mark"),
        Check(f"zero quantity {MARKED}", "quantity = 0", "mark"),
    ]
    if "is_refunded" in staged.present:
        checks.append(Check(f"refunded line: a return line is added {MARKED}", _refunded(staged), "mark"))
    if "refunded_amount" in staged.present:
        whole = _refunded(staged) if "is_refunded" in staged.present else "false"
        checks += [
            *_amount_checks("refunded_amount", "an amount"),
            Check(
                f"partial refund: a return line is added {MARKED}",
                f"refunded_amount > 0 AND NOT {whole} AND NOT {cancel}",
                "mark",
            ),
        ]
    checks += [
        Check(f"dated in the future {DROPPED}", f"ordered_at > {future_cutoff()}", "drop"),
        Check(
            "unit_price: line value out of range",
            f"isfinite(unit_price) AND (abs(unit_price) >= {MONEY_LIMIT} "
            f"OR abs(quantity * unit_price) >= {MONEY_LIMIT})",
            "error",
            "unit_price",
            f"a line value (quantity × unit_price) and a unit_price under {MONEY_LIMIT:,} in absolute value",
        ),
    ]
    if "discount" in staged.present:
        checks += _amount_checks("discount", "a discount", " (money taken off the line)")
    checks += [
        Check(f"{label} {MARKED}" if "(" not in label else label, f"_mark_{i}", "mark")
        for i, label in enumerate(staged.marks)
    ]
    return not_null, checks


def _amount_checks(name: str, noun: str, why: str = "") -> list[Check]:
    """A money column that must be at least 0 and under :data:`MONEY_LIMIT` (``noun`` names one value)."""
    return [
        Check(f"{name}: negative", f"{name} < 0", "error", name, f"{noun} >= 0{why}"),
        Check(
            f"{name}: out of range",
            f"isfinite({name}) AND {name} >= {MONEY_LIMIT}",
            "error",
            name,
            f"{noun} under {MONEY_LIMIT:,}",
        ),
    ]


def check_existing(existing: str, caller: str) -> None:
    """``existing`` is one of :data:`EXISTING`, or ``InvalidParameterError`` naming ``caller``."""
    if existing not in EXISTING:
        raise InvalidParameterError(f"{caller}: 'existing' must be one of {list(EXISTING)}. Got {existing!r}.")


def _refunded(staged: Staged) -> str:
    """A purchase line refunded after the sale (``is_refunded``): a positive quantity, not a return, in an
    order that is not cancelled. It stays a purchase, and :func:`write_orders` adds its return line."""
    ret, cancel = _flag(staged, "is_return"), _flag(staged, "is_cancelled")
    return f"(coalesce(is_refunded, false) AND quantity > 0 AND NOT {ret} AND NOT {cancel})"


def check_orders_across_rows(
    con: duckdb.DuckDBPyConnection, staged: Staged, checks: list[Check], existing: str = "error"
) -> None:
    """Group the kept lines into orders (``_shopseg_orders``) and refuse duplicate lines, orders already in
    the workspace (with ``existing="error"``) and orders naming two customers; raise once."""
    kept = f"NOT ({drop_predicate(checks)})"
    problems: list[tuple[Check, int]] = []
    if "line_number" in staged.present:
        dup = Check(
            "duplicate order line (same order_id and line_number)",
            "count(*) OVER (PARTITION BY order_id, line_number) > 1",
            "error",
            "order_id",
            "each (order_id, line_number) once per file",
        )
        problems += _count_window(con, dup, kept, "_shopseg_dup")
    _group_orders(con, staged, kept)
    stored = Check(
        "order already in the workspace (re-ingesting a file is refused, so nothing is counted twice)",
        _STORED,
        "error",
        "order_id",
        "orders not loaded before. Hint: for a newer export of the same store, --existing replace replaces "
        "the stored orders by the file's (refunds and cancellations since), --existing skip loads only the new ones",
    )
    two = Check(
        "order lines naming different customers",
        "two_customers",
        "error",
        "customer_id",
        "one customer_id per order_id",
    )
    problems += _currency_signs(con, staged, kept)
    for check in (stored, two) if existing == "error" else (two,):
        row = con.execute(f"SELECT count(*) FROM {ORDERS} WHERE {check.predicate}").fetchone()
        if row and row[0]:  # error path: count the lines of those orders
            lines = f"{kept} AND order_id IN (SELECT order_id FROM {ORDERS} WHERE {check.predicate})"
            n = con.execute(f"SELECT count(*) FROM {STAGE_TABLE} WHERE {lines}").fetchone()
            problems.append((Check(check.label, lines, "error", check.column, check.expected), int(n[0]) if n else 0))
    if problems:
        raise_problems(con, staged, problems)


def _currency_signs(con: duckdb.DuckDBPyConnection, staged: Staged, kept: str) -> list[tuple[Check, int]]:
    """Money in two currencies ('$100.00' beside '€100.00') in a file with no currency column: revenue would add
    them as one. Refused, naming the rows of the rarer signs (with a currency column, the store health warns)."""
    if "currency" in staged.present:
        return []
    staged_columns = {r[0] for r in con.execute(f"DESCRIBE {STAGE_TABLE}").fetchall()}
    for name in (m for m in MONEY if f"_sign_{m}" in staged_columns):  # text money columns only (stage_rows)
        col = quote(f"_sign_{name}")
        signs = con.execute(
            f"SELECT {col}, count(*) FROM {STAGE_TABLE} WHERE {kept} AND {col} IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1"
        ).fetchall()
        if len(signs) > 1:
            first, rest = signs[0][0], [str(s) for s, _ in signs[1:]]
            check = Check(
                f"{name}: amounts in {len(signs)} currencies ({', '.join(str(s) for s, _ in signs)})",
                f"{kept} AND {col} IS NOT NULL AND {col} <> {literal(first)}",
                "error",
                name,
                f"amounts in one currency: revenue would add the {', '.join(rest)} amounts to the {first} ones as if "
                f"they were {first}. Hint: load each currency into its own workspace, or map a currency column",
            )
            return [(check, sum(n for _, n in signs[1:]))]
    return []


def _lines_view(con: duckdb.DuckDBPyConnection, staged: Staged, kept: str) -> None:
    """The kept lines as ``order_lines`` stores them (``_shopseg_lines``): the staged columns with
    ``quantity``, ``discount`` and ``is_return`` (a cancelled order's lines are returns) in their stored form.
    The lines are written from it and their purchase sums are taken from it, so both see the same values."""
    stored = {
        "quantity": "CAST(quantity AS INTEGER)",
        "discount": "CAST(discount AS DOUBLE)" if "discount" in staged.present else "CAST(NULL AS DOUBLE)",
        "is_return": f"{_flag(staged, 'is_return')} OR {_flag(staged, 'is_cancelled')}",
    }
    if "is_refunded" in staged.present:
        stored["is_refunded"] = _refunded(staged)
    replaced = [c for c in stored if c in staged.present]
    rest = f"* EXCLUDE ({', '.join(replaced)})" if replaced else "*"
    exprs = ", ".join(f"{sql} AS {name}" for name, sql in stored.items())
    con.execute(f"CREATE OR REPLACE TEMP VIEW {LINES} AS SELECT {rest}, {exprs} FROM {STAGE_TABLE} WHERE {kept}")


def _values_sql(con: duckdb.DuckDBPyConnection) -> str:
    """SQL of the lines of ``_shopseg_lines`` with their purchase values: the features' definition
    (:func:`~shopseg.features.purchases.line_values`), imported here rather than at the top because io
    sits below features (as in :func:`shopseg.io.ingest.refresh_derived`)."""
    import ibis

    from shopseg.features.purchases import line_values

    backend = ibis.duckdb.from_connection(con)
    return str(backend.compile(line_values(backend.table(LINES))))


def _group_orders(con: duckdb.DuckDBPyConnection, staged: Staged, kept: str) -> None:
    """Group the kept lines into orders (``_shopseg_orders``), each with the sums of its purchase lines:
    the columns :func:`~shopseg.features.purchases.purchase_order_rows` turns into ``order_totals`` rows
    (:func:`shopseg.io.ingest.refresh_derived`), so the lines need not be summed and joined again."""

    def first(name: str) -> str:
        return _first(name) if name in staged.present else "CAST(NULL AS VARCHAR)"

    _lines_view(con, staged, kept)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {ORDERS} AS
        SELECT order_id, min(customer_id) AS customer_id, min(customer_id) <> max(customer_id) AS two_customers,
               min(ordered_at) AS ordered_at, {first("channel")} AS channel, {first("region")} AS region,
               {first("country")} AS country, {first("currency")} AS currency, {first("email")} AS email,
               bool_or({_flag(staged, "is_cancelled")}) AS is_cancelled, min(_row) AS _row,
               count(*) FILTER (WHERE purchase) AS purchase_lines,
               CAST(sum(cents) FILTER (WHERE purchase) AS BIGINT) AS cents,
               CAST(sum(units) FILTER (WHERE purchase) AS BIGINT) AS units,
               CAST(coalesce(sum(cents) FILTER (WHERE purchase AND discounted), 0) AS BIGINT) AS discounted_cents
               {_partial_refund(staged)}
        FROM ({_values_sql(con)}) GROUP BY order_id"""
    )


def _count_window(con: duckdb.DuckDBPyConnection, check: Check, where: str, table: str) -> list[tuple[Check, int]]:
    """Count a window predicate over the kept rows, materialising the offending rows."""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT _row FROM {STAGE_TABLE} WHERE {where} "
        f"QUALIFY {check.predicate}"
    )
    row = con.execute(f"SELECT count(*) FROM {table}").fetchone()
    n = int(row[0]) if row else 0
    if not n:
        return []
    return [(Check(check.label, f"_row IN (SELECT _row FROM {table})", "error", check.column, check.expected), n)]


def write_orders(
    con: duckdb.DuckDBPyConnection, staged: Staged, checks: list[Check], existing: str = "error"
) -> tuple[dict[str, int], dict[str, int]]:
    """Insert the kept lines, their orders, new products and new customers; return rows added per table, and
    the stored orders the file replaced (``existing="replace"``: their lines go, the file's take their place)."""
    replaced = _replace_stored(con) if existing == "replace" else {}
    cols = staged.present
    kept = f"NOT ({drop_predicate(checks)})"

    def opt(name: str, sql_type: str = "VARCHAR") -> str:
        return f"CAST({name} AS {sql_type})" if name in cols else f"CAST(NULL AS {sql_type})"

    line_no = "line_number" if "line_number" in cols else "row_number() OVER (PARTITION BY order_id ORDER BY _row)"
    added = {"orders": 0, "order_lines": 0, "products": 0, "customers": 0}
    added["order_lines"] = _n(
        con.execute(
            f"""INSERT INTO order_lines (order_id, line_number, product_id, quantity, unit_price, discount, is_return)
        SELECT order_id, CAST({line_no} AS INTEGER), product_id, quantity, unit_price, discount, is_return
        FROM {LINES}"""
        )
    )
    if "is_refunded" in cols:
        added["order_lines"] += _refund_lines(con)
    if "refunded_amount" in cols:
        added["order_lines"] += _partial_refund_lines(con)
    # sorted by customer: DuckDB writes a sorted insert on every thread (an unsorted one that keeps the
    # temporary table's order runs on one: 4.3 s against 2.1 s for 4.4M orders), and readers group by customer
    added["orders"] = _n(
        con.execute(
            f"""INSERT INTO orders (order_id, customer_id, ordered_at, channel, region, country, currency, is_cancelled)
        SELECT order_id, customer_id, ordered_at, channel, region, country, currency, is_cancelled FROM {ORDERS}
        ORDER BY customer_id, order_id"""
        )
    )
    added["products"] = _n(
        con.execute(
            f"""INSERT INTO products (product_id, name, category, brand, price)
        SELECT product_id, arg_max(product_name, (n, product_name)), {_first("category")}, {_first("brand")}, NULL
        FROM (SELECT product_id, {opt("product_name")} AS product_name, {_first(opt("category"))} AS category,
                     {_first(opt("brand"))} AS brand, count(*) AS n, min(_row) AS _row
              FROM {STAGE_TABLE} WHERE {kept} AND product_id NOT IN (SELECT product_id FROM products)
              GROUP BY ALL)
        GROUP BY product_id"""
        )
    )
    added["customers"] = _n(
        con.execute(
            f"""INSERT INTO customers (customer_id, email, country, region, email_marketing, sms_marketing, profiling)
        SELECT customer_id, {_first("email")}, {_first("country")}, {_first("region")}, false, false, false
        FROM {ORDERS} WHERE customer_id NOT IN (SELECT customer_id FROM customers)
        GROUP BY customer_id"""
        )
    )
    added["orders"] -= replaced.get("orders", 0)  # a replaced order is counted as updated, not added
    return added, replaced


def _replace_stored(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Delete the stored orders the file holds again, and all their lines (return lines collected live
    included: the newer export says what was refunded), before the file's are written."""
    ids = f"order_id IN (SELECT order_id FROM {ORDERS})"
    con.execute(f"DELETE FROM order_lines WHERE {ids}")
    return {"orders": _n(con.execute(f"DELETE FROM orders WHERE {ids}"))}


def _refund_lines(con: duckdb.DuckDBPyConnection) -> int:
    """Add a return line for each refunded line (``is_refunded``), numbered after its order's last line: the
    sale counts as a purchase and its refund as a return, as an ``Order Refunded`` call collected live adds
    one (:mod:`shopseg.collect.materialize`). The orders are new (an order already stored is refused, skipped,
    or deleted with its lines first: ``existing``)."""
    return _n(
        con.execute(
            f"""INSERT INTO order_lines (order_id, line_number, product_id, quantity, unit_price, discount, is_return)
        SELECT r.order_id, CAST(t.top + row_number() OVER (PARTITION BY r.order_id ORDER BY r._row) AS INTEGER),
               r.product_id, r.quantity, r.unit_price, r.discount, true
        FROM {LINES} r
        JOIN {_last_lines(f"SELECT order_id FROM {LINES} WHERE is_refunded")} t USING (order_id)
        WHERE r.is_refunded"""
        )
    )


def _last_lines(ids: str) -> str:
    """SQL of ``order_id, top``: the last stored line number of each order ``ids`` selects (return lines added
    to an order are numbered after it)."""
    return f"(SELECT order_id, max(line_number) AS top FROM order_lines WHERE order_id IN ({ids}) GROUP BY order_id)"


def _partial_refund(staged: Staged) -> str:
    """Columns of ``_shopseg_orders`` for :func:`_partial_refund_lines`: the order's refunded amount (the
    largest of its rows: exports give it on the first row, or on every row when filled down), the product of
    its most valuable purchase line (first in the file on a tie), and whether its lines are refunded whole."""
    if "refunded_amount" not in staged.present:
        return ""
    whole = "bool_or(is_refunded)" if "is_refunded" in staged.present else "false"
    return (
        ", max(refunded_amount) AS refunded_amount, "
        "first(product_id ORDER BY CASE WHEN purchase THEN cents END DESC NULLS LAST, _row) AS top_product, "
        f"{whole} AS refunded_whole"
    )


def _partial_refund_lines(con: duckdb.DuckDBPyConnection) -> int:
    """Add one return line per partly refunded order (``refunded_amount`` > 0; not cancelled, not refunded
    whole, with a purchase): quantity 1 of its most valuable product at the refunded amount, at most the
    order's purchase value (a refund of shipping or taxes is not taken from sales that never counted them)."""
    return _n(
        con.execute(
            f"""INSERT INTO order_lines (order_id, line_number, product_id, quantity, unit_price, discount, is_return)
        SELECT o.order_id, CAST(t.top + 1 AS INTEGER), o.top_product, 1, least(o.refunded_amount, o.cents / 100), NULL, true
        FROM {ORDERS} o JOIN {_last_lines(f"SELECT order_id FROM {ORDERS} WHERE refunded_amount > 0")} t USING (order_id)
        WHERE o.refunded_amount > 0 AND o.cents > 0 AND NOT coalesce(o.is_cancelled, false) AND NOT o.refunded_whole"""
        )
    )


def _first(col: str) -> str:
    """First non-null value in file order (deterministic, unlike any_value)."""
    return f"arg_min({col}, _row) FILTER (WHERE {col} IS NOT NULL)"


def _n(result: duckdb.DuckDBPyConnection) -> int:
    row = result.fetchone()
    return int(row[0]) if row else 0
