"""Why interests came out empty or partial: what the signals and the catalogue lack, and how to add it.

Interests are scored on each signal's product: its category, brand and price
band (:mod:`shopseg.interests.affinity`). Orders without a catalogue behind
them (Online Retail and CDNOW load product ids and names only) give no
category or brand; :func:`explain_interests` says so, with the command that
adds a catalogue, instead of asking for orders that are already loaded.

>>> from shopseg.interests.diagnosis import explain_interests
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from shopseg.workspace import Workspace

__all__ = ["PRODUCTS_HINT", "explain_interests"]

PRODUCTS_HINT = (
    "Hint: ingest a products file with product_id and category (brand and price too): "
    "`shopseg ingest products products.csv` adds them to the catalogue."
)

_COUNTS = """
SELECT (SELECT count(*) FROM order_lines),
       (SELECT count(*) FROM events WHERE type IN ('product_view', 'add_to_cart')
               AND customer_id IS NOT NULL AND product_id IS NOT NULL),
       count(*), count(category), count(brand), count(price)
FROM products
"""


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


def explain_interests(ws: Workspace, scores: pd.DataFrame | Collection[str]) -> list[str]:
    """Plain-words notes on what ``scores`` (:func:`~shopseg.interests.affinity_scores`, or the set of its
    dimensions) could not use.

    Empty when every dimension was scored. With no score at all the first note says why (no purchase or
    product event loaded; or a catalogue without category, brand or enough prices; or no signal by ``as_of``)
    and ends in a hint naming the command that fixes it.
    """
    lines, events, products, categories, brands, prices = ws.con.execute(_COUNTS).fetchone() or (0,) * 6
    if isinstance(scores, pd.DataFrame):
        dims = set(scores["dimension"]) if len(scores) else set()
    else:
        dims = set(scores)
    if not lines and not events:
        return [
            "No purchase line, product view or add-to-cart is loaded. "
            "Hint: ingest orders or events first (`shopseg ingest orders lines.csv`)."
        ]
    loaded = " and ".join(
        part
        for part, n in ((_plural(lines, "order line"), lines), (_plural(events, "product view or add-to-cart"), events))
        if n
    )
    loaded += " is loaded" if lines + events == 1 else " are loaded"
    if not dims and not categories and not brands:
        return [
            f"{loaded}, but interests are scored on products' category, brand and price band, and the store's "
            f"{_plural(products, 'product')} {'has' if products == 1 else 'have'} no category or brand; "
            "price bands need 3 products with a price (products.price, else their order lines' unit prices). "
            + PRODUCTS_HINT
        ]
    if not dims:
        return [f"{loaded}, but none is a signal on or before the as-of day. Hint: choose a later --as-of."]
    notes = []
    if not categories:
        notes.append(
            f"No product has a category: only {', '.join(sorted(d.replace('_', ' ') for d in dims))} scored, "
            "no affinity_<category> or <category>_enthusiast. " + PRODUCTS_HINT
        )
    if prices < products and "price_band" in dims:
        notes.append(
            f"{_plural(products - prices, 'product')} without products.price: "
            "price band from the median unit price of their order lines."
        )
    return notes
