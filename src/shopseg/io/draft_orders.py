"""Which column of a drafted orders file fills which field (:func:`assign_orders`), for :mod:`shopseg.io.draft`.

Each field takes the column whose name says most about it (:func:`~shopseg.io.profile.name_score`), best
first, each column once; what an export lacks is filled as real exports need it (the e-mail as the
customer key, quantity 1 for an order total, one product 'order' for an order-level export), with a note.
"""

from __future__ import annotations

from typing import Any

from shopseg.io.columns import INPUTS, normalize_name
from shopseg.io.profile import ColumnProfile, name_score, rank_candidates

__all__ = ["assign_orders", "plain_name", "void_statuses"]


def plain_name(column: str) -> str:
    """A column reference without its file ('orders.Order ID' -> 'order id')."""
    return column.rpartition(".")[2].lower()


#: A required field is drafted from a column whose name says at least this much (name_score); below it the
#: values alone decide nothing (a 'Shipping Method' fits an id as well as a customer key does).
_MIN_NAME = 0.5


def assign_orders(profiles: dict[str, ColumnProfile], done: set[str], notes: list[str]) -> dict[str, Any]:
    """Orders fields to columns, best name first, each column once ('Lineitem sku' wins product_id over
    'Lineitem quantity', left to quantity). No customer column: the lower-cased e-mail keys customers; no
    quantity column, or an order total as the price: each line counts 1."""
    named = {k: ColumnProfile(**{**p.__dict__, "name": k}) for k, p in profiles.items()}
    others = tuple(f.name for f in INPUTS["orders"])
    pairs = [
        (name_score(fld.name, plain_name(col)), i, fld, col)
        for i, fld in enumerate(INPUTS["orders"])
        if fld.name not in done
        for col in rank_candidates(fld, named, limit=len(named), others=others)
    ]
    mapping: dict[str, Any] = {}
    for score, _, fld, col in sorted(pairs, key=lambda t: (-t[0], t[1])):
        if fld.name in mapping or col in mapping.values():
            continue
        if (fld.required and score >= _MIN_NAME) or plain_name(col) == fld.name or (not fld.required and score >= 0.8):
            mapping[fld.name] = col
    if "customer_id" not in mapping and "customer_id" not in done and mapping.get("email"):
        mapping["customer_id"] = {"column": mapping["email"], "lower": True}
        notes.append(f"no customer id column: customers are keyed by the lower-cased e-mail ('{mapping['email']}')")
    price = mapping.get("unit_price")
    if isinstance(price, str) and "total" in normalize_name(plain_name(price)):
        mapping["quantity"] = {"const": 1}
        notes.append(f"'{price}' is a total, not a unit price: each row counts as one line of quantity 1")
    if "product_id" not in mapping and "product_id" not in done:
        mapping["product_id"] = {"const": "order"}
        notes.append("no product column: each order is one line of the product 'order' (no recommendations)")
    if isinstance(key := mapping.get("customer_id"), str) and profiles[key].email >= 0.8:
        mapping["customer_id"] = {"column": key, "lower": True}  # 'Ann@X.com' and 'ann@x.com' are one person
    disc, lined = mapping.get("discount"), [c for c in profiles if normalize_name(plain_name(c)).startswith("lineitem")]
    if isinstance(disc, str) and lined and not normalize_name(plain_name(disc)).startswith("lineitem"):
        del mapping["discount"]  # Squarespace's order-level "Discount Amount" beside its Lineitem columns
        notes.append(f"'{disc}' is the order's discount, not a line's: not mapped (each line would lose it all)")
    if "quantity" not in mapping:
        mapping["quantity"] = {"const": 1}
        notes.append("no quantity column: every line counts as quantity 1 (a constant); change it if the store has one")
    return {f.name: mapping[f.name] for f in INPUTS["orders"] if f.name in mapping}


#: Order statuses that are no sale (lower-cased, with '_', '-' and spaces alike): cancelled, voided, failed or
#: never paid. Ecwid's CANCELLED and AWAITING_PAYMENT, Wix's "Not paid", Stripe's Failed, WooCommerce's failed.
_VOID = ("cancel", "void", "fail", "declin", "not paid", "unpaid", "awaiting payment", "pending payment", "abandon")


def void_statuses(column: str, values: list[str], notes: list[str]) -> dict[str, Any]:
    """``is_cancelled`` from a status column's values that are no sale, with a note naming them and the rest;
    nothing (and a note listing the values) when none is one."""
    plain = {v: v.lower().replace("_", " ").replace("-", " ") for v in values}
    void = sorted(v for v, p in plain.items() if any(w in p for w in _VOID))
    rest = ", ".join(sorted(set(values) - set(void))) or "none"
    if not void:
        notes.append(f"column '{column}' holds order statuses ({rest}): add a filter if some are no sale")
        return {}
    notes.append(
        f"column '{column}': {', '.join(void)} made cancelled (no sale; others kept: {rest}); "
        "only the first values of the file were looked at, so check the list"
    )
    return {"is_cancelled": {"column": column, "in": void}}
