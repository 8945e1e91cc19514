"""Orders and order lines of the synthetic store.

Order times follow each group's purchase process (see
:mod:`shopseg.datasets.groups`); orders are numbered in time order. Each
order has ``1 + Poisson(lines_mean - 1)`` lines drawn from the group's
category and tier preferences. About 2% of orders are cancelled (kept,
``is_cancelled``). A returned line of a kept order is recorded as an extra
line of the same order after its purchase lines: same product and unit price,
negative quantity, no discount, ``is_return`` true.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from shopseg.datasets._arrow import id_column, lookup, timestamps
from shopseg.datasets._catalog import Catalog
from shopseg.datasets._customers import GROUPS, Period, Population, group_param
from shopseg.datasets._geography import CityTable

__all__ = ["CHANNELS", "CANCEL_P", "OrderBook", "build_orders"]

CHANNELS = ("web", "app", "store")
CANCEL_P = 0.02
_DAYS_PER_YEAR = 365.25


@dataclass(frozen=True)
class OrderBook:
    """The ``orders`` and ``order_lines`` tables plus per-order arrays for events."""

    orders: pa.Table
    lines: pa.Table
    ids: pa.Array
    customer: np.ndarray
    time: np.ndarray
    first_product: np.ndarray
    n_lines: np.ndarray


def _order_times(rng: np.random.Generator, pop: Population, period: Period) -> tuple[np.ndarray, np.ndarray]:
    """Customer index and time (days) of every order, sorted by time."""
    g = pop.group
    shape = group_param("rate_shape")[g]
    rate = rng.gamma(shape, group_param("repeat_rate")[g] / shape) / _DAYS_PER_YEAR
    mean_life = np.array([np.inf if x.lifetime_days is None else x.lifetime_days for x in GROUPS])[g]
    life = rng.exponential(1.0, pop.n) * mean_life
    active = np.minimum(life, period.last - pop.first_order)
    quiet = np.array([np.nan if x.quiet_days is None else x.quiet_days for x in GROUPS])[g]
    lapses = ~np.isnan(quiet)
    horizon = np.maximum(period.days - np.nan_to_num(quiet) - pop.first_order, 0.0)
    active = np.where(lapses, horizon * rng.uniform(0.3, 1.0, pop.n), active)
    repeats = rng.poisson(rate * active) + lapses
    counts = np.where(pop.buys, 1 + repeats, 0)
    customer = np.repeat(np.arange(pop.n), counts)
    starts = np.cumsum(counts) - counts
    is_repeat = np.ones(customer.size, dtype=bool)
    is_repeat[starts[counts > 0]] = False
    u = rng.random(customer.size)
    time = pop.first_order[customer] + np.where(is_repeat, u * active[customer], 0.0)
    order = np.argsort(time, kind="stable")
    return customer[order], time[order]


def build_orders(
    rng: np.random.Generator,
    pop: Population,
    catalog: Catalog,
    period: Period,
    places: CityTable,
    *,
    first_id: int = 1,
    id_width: int | None = None,
) -> OrderBook:
    """Draw every order and line of the population (ids from ``first_id``, a chunk's offset in its store)."""
    customer, time = _order_times(rng, pop, period)
    n_orders = customer.size
    g = pop.group[customer]
    ids = id_column("o", np.arange(first_id, first_id + n_orders), id_width or max(8, len(str(n_orders))))
    channel = np.empty(n_orders, dtype=np.int64)
    for k, spec in enumerate(GROUPS):
        mask = g == k
        channel[mask] = rng.choice(len(CHANNELS), size=int(mask.sum()), p=np.array(spec.channels) / sum(spec.channels))
    cancelled = rng.random(n_orders) < CANCEL_P
    city = pop.city[customer]
    orders = pa.table(
        {
            "order_id": ids,
            "customer_id": pop.ids.take(pa.array(customer)),
            "ordered_at": timestamps(period.start_us, time),
            "channel": lookup(CHANNELS, channel),
            "region": lookup(places.region, city),
            "country": lookup(places.country, city),
            "currency": lookup(places.currency, city),
            "is_cancelled": pa.array(cancelled, pa.bool_()),
        }
    )
    lines, first_product, n_lines = _build_lines(rng, g, cancelled, ids, catalog)
    return OrderBook(orders, lines, ids, customer, time, first_product, n_lines)


def _build_lines(
    rng: np.random.Generator, g: np.ndarray, cancelled: np.ndarray, ids: pa.Array, catalog: Catalog
) -> tuple[pa.Table, np.ndarray, np.ndarray]:
    n_orders = g.size
    n_lines = 1 + rng.poisson(group_param("lines_mean")[g] - 1.0)
    order = np.repeat(np.arange(n_orders), n_lines)
    lg = g[order]
    product = np.empty(order.size, dtype=np.int64)
    for k, spec in enumerate(GROUPS):
        mask = lg == k
        product[mask] = catalog.sample(rng, int(mask.sum()), np.array(spec.categories), np.array(spec.tiers))
    first_product = product[np.cumsum(n_lines) - n_lines]
    quantity = 1 + rng.poisson(group_param("extra_units")[lg])
    price = catalog.price[product]
    lo, hi = (np.array([s.discount_range[i] for s in GROUPS]) for i in (0, 1))
    discounted = rng.random(n_orders) < group_param("discount_p")[g]
    rate = np.round((lo[g] + rng.random(n_orders) * (hi[g] - lo[g])) * 20.0) / 20.0
    rate = np.where(discounted, rate, 0.0)[order]
    discount = np.round(quantity * price * rate, 2)
    returned = (rng.random(order.size) < group_param("return_p")[lg]) & ~cancelled[order]

    all_order = np.concatenate([order, order[returned]])
    keep = np.argsort(all_order, kind="stable")  # purchase lines first, then returns, within an order
    all_order = all_order[keep]
    per_order = np.bincount(all_order, minlength=n_orders)
    line_number = np.arange(all_order.size) - np.repeat(np.cumsum(per_order) - per_order, per_order) + 1
    cols = {
        "product": np.concatenate([product, product[returned]])[keep],
        "quantity": np.concatenate([quantity, -quantity[returned]])[keep],
        "price": np.concatenate([price, price[returned]])[keep],
        "discount": np.concatenate([discount, np.zeros(int(returned.sum()))])[keep],
        "is_return": np.concatenate([np.zeros(order.size, bool), np.ones(int(returned.sum()), bool)])[keep],
    }
    table = pa.table(
        {
            "order_id": ids.take(pa.array(all_order)),
            "line_number": pa.array(line_number, pa.int32()),
            "product_id": catalog.ids.take(pa.array(cols["product"])),
            "quantity": pa.array(cols["quantity"], pa.int32()),
            "unit_price": pa.array(cols["price"], pa.float64()),
            "discount": pa.array(cols["discount"], pa.float64()),
            "is_return": pa.array(cols["is_return"], pa.bool_()),
        }
    )
    return table, first_product, n_lines
