"""The deterministic synthetic store: customers, orders, lines, products, events, survey.

One ``numpy.random.SeedSequence(seed)`` is split into an independent stream
per stage, and every column is built as a numpy array and handed to Arrow, so
the same arguments always give byte-identical tables and a million customers
take seconds, not minutes. The planted groups (:data:`PLANTED_GROUPS`) are
returned as the ``planted_groups`` table: the ground truth segmentation and
prediction are checked against.

Customers are generated in chunks of :data:`CHUNK_CUSTOMERS` (:func:`iter_chunks`),
each with streams of its own, so memory does not grow with the store: ``shopseg
generate --out`` writes chunk after chunk. A store of at most one chunk is
generated exactly as before chunking; in a larger one the group of every customer
is drawn once for the store (exact shares), ids continue from chunk to chunk, and
orders and events are numbered in time order within each chunk.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from numbers import Integral, Real

import numpy as np
import pyarrow as pa

from shopseg.datasets._arrow import lookup
from shopseg.datasets._catalog import build_catalog
from shopseg.datasets._customers import GROUPS, Period, assign_groups, build_population
from shopseg.datasets._events import build_events, build_survey
from shopseg.datasets._geography import city_table
from shopseg.datasets._orders import build_orders
from shopseg.errors import InvalidParameterError

__all__ = [
    "TABLE_ORDER",
    "GENERATOR_META_KEY",
    "CHUNK_CUSTOMERS",
    "generate_store",
    "iter_chunks",
    "iter_store",
    "load_demo_store",
    "validate_arguments",
]

TABLE_ORDER = ("products", "customers", "orders", "order_lines", "events", "survey_answers", "planted_groups")
GENERATOR_META_KEY = b"shopseg.generator"
_STAGES = ("catalog", "customers", "orders", "events", "survey")
#: Customers generated at once: a chunk of 100 000 with its orders and events holds about 400 MB.
CHUNK_CUSTOMERS = 100_000


def generate_store(
    n_customers: int = 10_000,
    *,
    seed: int = 0,
    end_date: str | date = "2025-12-31",
    years: float = 2.0,
    event_days: int = 180,
) -> dict[str, pa.Table]:
    """Generate a synthetic store with planted customer groups.

    Parameters
    ----------
    n_customers : int, default=10_000
        Number of customers (at least 1). Orders, lines and events scale
        linearly: about 5.5 orders, 10 order lines and 9 events per customer.
    seed : int, default=0
        Seed of the random streams; the same arguments give identical tables.
    end_date : str or date, default="2025-12-31"
        Last day of the period (``YYYY-MM-DD``); every timestamp is on or before it.
    years : float, default=2.0
        Length of the period in years, in [1, 10].
    event_days : int, default=180
        Events are generated for this many final days of the period only.

    Returns
    -------
    dict of str to pyarrow.Table
        The canonical tables of :mod:`shopseg.schema` (``customers``,
        ``orders``, ``order_lines``, ``products``, ``events``,
        ``survey_answers``) with exactly their columns and types, plus
        ``planted_groups`` (``customer_id``, ``group``).

    Raises
    ------
    InvalidParameterError
        If an argument is out of range.

    Examples
    --------
    >>> tables = generate_store(200, seed=1)
    >>> tables["customers"].num_rows, sorted(tables)[:2]
    (200, ['customers', 'events'])
    >>> generate_store(200, seed=1)["orders"].equals(tables["orders"])
    True
    """
    return dict(iter_store(n_customers, seed=seed, end_date=end_date, years=years, event_days=event_days))


def iter_store(
    n_customers: int = 10_000,
    *,
    seed: int = 0,
    end_date: str | date = "2025-12-31",
    years: float = 2.0,
    event_days: int = 180,
) -> Iterator[tuple[str, pa.Table]]:
    """Like :func:`generate_store`, but yield ``(name, table)`` pairs, in :data:`TABLE_ORDER`.

    Every chunk is generated before the first table is yielded; to keep memory
    flat, write chunk by chunk with :func:`iter_chunks` instead.
    """
    chunks = list(iter_chunks(n_customers, seed=seed, end_date=end_date, years=years, event_days=event_days))
    for name in TABLE_ORDER:
        parts = [chunk[name] for chunk in chunks if name in chunk]
        yield name, parts[0] if len(parts) == 1 else pa.concat_tables(parts)


def iter_chunks(
    n_customers: int = 10_000,
    *,
    seed: int = 0,
    end_date: str | date = "2025-12-31",
    years: float = 2.0,
    event_days: int = 180,
    chunk_customers: int = CHUNK_CUSTOMERS,
) -> Iterator[dict[str, pa.Table]]:
    """Generate the store ``chunk_customers`` customers at a time; yield each chunk's tables.

    The first chunk also holds ``products``. Concatenated in order, the chunks'
    tables are the store's (:func:`generate_store`). Chunk ``k`` draws from
    children ``5k`` to ``5k + 4`` of ``SeedSequence(seed)``, so the output depends
    on ``seed``, ``n_customers`` and ``chunk_customers`` only.

    Examples
    --------
    >>> chunks = list(iter_chunks(250, seed=1, chunk_customers=100))
    >>> [c["customers"].num_rows for c in chunks], "products" in chunks[1]
    ([100, 100, 50], False)
    >>> chunks[1]["customers"]["customer_id"][0].as_py()
    'c000101'
    """
    period = _validate(n_customers, seed, end_date, years, event_days)
    n, size = int(n_customers), max(1, int(chunk_customers))
    starts = range(0, n, size)
    several = len(starts) > 1
    children = np.random.SeedSequence(int(seed)).spawn(len(_STAGES) * len(starts) + several)
    places = city_table()
    catalog = build_catalog(np.random.default_rng(children[0]))
    groups = assign_groups(np.random.default_rng(children[-1]), n) if several else None
    # ids keep one width across the store: its size in customers bounds its orders and events
    widths = (max(6, len(str(n))), max(8, len(str(20 * n))), max(9, len(str(40 * n)))) if several else (None,) * 3
    meta = json.dumps(
        {
            "seed": int(seed),
            "n_customers": n,
            "end_date": str(_end(end_date)),
            "years": float(years),
            "event_days": int(event_days),
        }
    ).encode()
    next_order = next_event = 1
    for k, start in enumerate(starts):
        rng = {stage: np.random.default_rng(s) for stage, s in zip(_STAGES, children[5 * k : 5 * k + 5])}
        count = min(size, n - start)
        part = None if groups is None else groups[start : start + count]
        pop = build_population(
            rng["customers"], count, period, places, first_id=start + 1, id_width=widths[0], group=part
        )
        book = build_orders(rng["orders"], pop, catalog, period, places, first_id=next_order, id_width=widths[1])
        events = build_events(
            rng["events"], pop, book, catalog, period, first_id=next_event, id_width=widths[2], first_customer=start
        )
        next_order += book.orders.num_rows
        next_event += events.num_rows
        truth = pa.table(
            {"customer_id": pop.ids, "group": lookup([g.name for g in GROUPS], pop.group.astype(np.int64))}
        )
        chunk = {"products": catalog.table} if k == 0 else {}
        chunk |= {
            "customers": pop.table,
            "orders": book.orders,
            "order_lines": book.lines,
            "events": events,
            "survey_answers": build_survey(rng["survey"], pop, period),
            "planted_groups": truth.replace_schema_metadata({GENERATOR_META_KEY: meta}),
        }
        yield chunk
        del chunk, pop, book, events, truth, part  # free this chunk before the next is drawn


def load_demo_store() -> dict[str, pa.Table]:
    """The built-in demo store: 5 000 customers, seed 42 (``generate_store(5_000, seed=42)``).

    Examples
    --------
    >>> load_demo_store()["customers"].num_rows
    5000
    """
    return generate_store(5_000, seed=42)


def validate_arguments(
    n_customers: object,
    *,
    seed: object = 0,
    end_date: str | date = "2025-12-31",
    years: object = 2.0,
    event_days: object = 180,
) -> Period:
    """Check the arguments of :func:`generate_store` and return the simulated period.

    Raises
    ------
    InvalidParameterError
        With the message ``The '<name>' parameter of generate_store must be ... Got ... instead.``
    """
    return _validate(n_customers, seed, end_date, years, event_days)


def _end(end_date: str | date) -> date:
    if isinstance(end_date, datetime):
        return end_date.date()
    if isinstance(end_date, date):
        return end_date
    try:
        return date.fromisoformat(str(end_date))
    except ValueError as exc:
        raise InvalidParameterError(
            f"The 'end_date' parameter of generate_store must be a date as YYYY-MM-DD. Got {end_date!r} instead."
        ) from exc


def _validate(n_customers: object, seed: object, end_date: str | date, years: object, event_days: object) -> Period:
    def bad(name: str, expected: str, got: object) -> InvalidParameterError:
        return InvalidParameterError(
            f"The '{name}' parameter of generate_store must be {expected}. Got {got!r} instead."
        )

    if isinstance(n_customers, bool) or not isinstance(n_customers, Integral) or n_customers < 1:
        raise bad("n_customers", "an int in the range [1, inf)", n_customers)
    if isinstance(seed, bool) or not isinstance(seed, Integral) or seed < 0:
        raise bad("seed", "an int in the range [0, inf)", seed)
    if isinstance(years, bool) or not isinstance(years, Real) or not 1.0 <= float(years) <= 10.0:
        raise bad("years", "a float in the range [1, 10]", years)
    days = round(float(years) * 365.25)
    if isinstance(event_days, bool) or not isinstance(event_days, Integral) or not 1 <= int(event_days) <= days:
        raise bad("event_days", f"an int in the range [1, {days}]", event_days)
    last = _end(end_date)
    end = last + timedelta(days=1)  # exclusive: the day after end_date, 00:00
    start = datetime.combine(end - timedelta(days=days), datetime.min.time())
    start_us = int((start - datetime(1970, 1, 1)).total_seconds()) * 1_000_000
    return Period(start_us=start_us, days=float(days), end_year=last.year, event_days=float(event_days))
