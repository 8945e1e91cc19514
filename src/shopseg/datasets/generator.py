"""The deterministic synthetic store: customers, orders, lines, products, events, survey.

One ``numpy.random.SeedSequence(seed)`` is split into an independent stream
per stage, and every column is built as a numpy array and handed to Arrow, so
the same arguments always give byte-identical tables and a million customers
take seconds, not minutes. The planted groups (:data:`PLANTED_GROUPS`) are
returned as the ``planted_groups`` table: the ground truth segmentation and
prediction are checked against.
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
from shopseg.datasets._customers import GROUPS, Period, build_population
from shopseg.datasets._events import build_events, build_survey
from shopseg.datasets._geography import city_table
from shopseg.datasets._orders import build_orders
from shopseg.errors import InvalidParameterError

__all__ = ["TABLE_ORDER", "GENERATOR_META_KEY", "generate_store", "iter_store", "load_demo_store", "validate_arguments"]

TABLE_ORDER = ("products", "customers", "orders", "order_lines", "events", "survey_answers", "planted_groups")
GENERATOR_META_KEY = b"shopseg.generator"
_STAGES = ("catalog", "customers", "orders", "events", "survey")


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
    """Like :func:`generate_store`, but yield ``(name, table)`` pairs as they are built.

    Tables come in :data:`TABLE_ORDER`; ``orders`` and ``order_lines`` are
    built together. Useful to report progress.
    """
    period = _validate(n_customers, seed, end_date, years, event_days)
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(int(seed)).spawn(len(_STAGES))]
    rng = dict(zip(_STAGES, streams))
    places = city_table()
    catalog = build_catalog(rng["catalog"])
    yield "products", catalog.table
    pop = build_population(rng["customers"], int(n_customers), period, places)
    yield "customers", pop.table
    book = build_orders(rng["orders"], pop, catalog, period, places)
    yield "orders", book.orders
    yield "order_lines", book.lines
    yield "events", build_events(rng["events"], pop, book, catalog, period)
    yield "survey_answers", build_survey(rng["survey"], pop, period)
    meta = {
        "seed": int(seed),
        "n_customers": int(n_customers),
        "end_date": str(_end(end_date)),
        "years": float(years),
        "event_days": int(event_days),
    }
    truth = pa.table({"customer_id": pop.ids, "group": lookup([g.name for g in GROUPS], pop.group.astype(np.int64))})
    yield "planted_groups", truth.replace_schema_metadata({GENERATOR_META_KEY: json.dumps(meta).encode()})


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
