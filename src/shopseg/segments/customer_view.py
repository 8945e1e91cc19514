"""One customer as the rule evaluator sees them: profile fields, events and purchase orders (for explain).

:func:`customer_profile` reads every table a field of the registry reads
(features, RFM, lifecycle, predictions, interests, attributes) for one
customer id, keyed by field name, plus the customer's coordinates, events and
purchase orders up to the as-of date. It answers :class:`~shopseg.errors.NotFound`
in words when the id is not a customer, or arrived after the features were built.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import pandas as pd

from shopseg.errors import NotFound
from shopseg.features import FEATURES_TABLE

if TYPE_CHECKING:
    from shopseg.segments.definitions import SegmentStore

__all__ = ["customer_profile"]


def customer_profile(
    store: SegmentStore, customer_id: str, as_of: dt.date | None = None
) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    """One customer's profile (features, RFM, lifecycle, coordinates), events and purchase orders.

    Parameters
    ----------
    store : SegmentStore
        The workspace's saved segments; its field registry says which columns to read.
    customer_id : str
    as_of : date, default=None
        Purchase orders up to this day; default the features' as-of date.

    Raises
    ------
    NotFound
        When ``customer_id`` has no row in the feature table (said in words: not a customer, or newer than the
        features).
    """
    ws = store.workspace
    con = ws.con
    if (
        not ws.has_table(FEATURES_TABLE)
        or not con.execute(f'SELECT 1 FROM "{FEATURES_TABLE}" WHERE customer_id = ?', [customer_id]).fetchall()
    ):
        known = (
            ws.has_table("customers")
            and con.execute("SELECT 1 FROM customers WHERE customer_id = ?", [customer_id]).fetchall()
        )
        why = (
            "is a customer, but the customer features were built before they arrived. Hint: rebuild them "
            "(shopseg features build)"
            if known
            else "is not a customer of this store. Expected a customer id such as those of the segment's members page"
        )
        raise NotFound(f"customer '{customer_id}' {why}.")
    out: dict[str, Any] = {}
    by_table = {"customers": {"lat": "lat", "lon": "lon"}}
    for table, names in store.fields.columns_by_table(available_only=True).items():
        by_table.setdefault(table, {}).update({column: name for name, column in names.items()})
    for table, columns in by_table.items():
        if not ws.has_table(table):
            continue
        present = {r[0] for r in con.execute(f'DESCRIBE "{table}"').fetchall()} & set(columns)
        if not present:
            continue
        cols = ", ".join(f'"{c}"' for c in sorted(present))
        df = con.execute(f'SELECT {cols} FROM "{table}" WHERE customer_id = ?', [customer_id]).df()
        if not df.empty:
            out.update({columns[k]: (None if pd.isna(v) else v) for k, v in df.iloc[0].items()})
    events = con.execute(
        "SELECT type, occurred_at, product_id, properties FROM events WHERE customer_id = ?", [customer_id]
    ).df()
    return out, events.to_dict("records"), _orders_of(store, customer_id, as_of or store.as_of())


def _orders_of(store: SegmentStore, customer_id: str, as_of: dt.date) -> list[dict[str, Any]]:
    from shopseg.engine import get_engine
    from shopseg.features.asof import AsOf
    from shopseg.features.purchases import purchase_lines, purchase_orders

    o = purchase_orders(purchase_lines(get_engine(store.workspace, "duckdb"), AsOf.of(as_of)))
    o = o.filter(o.customer_id == customer_id)
    rows = o.select("ordered_at", "units", "channel", value=o.cents.cast("float64") / 100.0).to_pandas()
    return rows.to_dict("records")
