"""Who the customers are: the population of a feature table and their profile columns.

**Population.** Every customer known on the as-of date gets a row: each
``customers`` row whose ``signup_at`` is on or before the as-of date (or
unknown), plus every ``customer_id`` of an order (of any status) placed on or
before it. Known customers without a purchase get ``orders = 0``,
``revenue = 0`` and NULL in the purchase features that need a purchase
(``frequency``, ``recency``, ``T``, ``monetary_value``, averages and ratios).
Filter ``orders > 0`` to get the lifetimes population.

**Profile columns** come from ``customers`` as stored (``country``,
``region``, ``city``, ``gender``, consent flags, missing flags read as false),
plus:

- ``age``: ``year(as_of) - birth_year`` (NULL when unknown);
- ``age_band``: ``"<25"``, ``"25-34"``, ``"35-44"``, ``"45-54"``, ``"55-64"``,
  ``"65+"`` (NULL when unknown);
- ``signup_day``: the signup date, used for ``tenure_days``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import ibis

from shopseg.features.purchases import known_orders

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from shopseg.engine import Engine
    from shopseg.features.asof import AsOf

__all__ = ["AGE_BANDS", "population", "profile_columns", "age_band"]

AGE_BANDS = ((25, "<25"), (35, "25-34"), (45, "35-44"), (55, "45-54"), (65, "55-64"))


def population(engine: Engine, window: AsOf) -> ir.Table:
    """One row per customer known on the as-of date: ``customer_id``."""
    customers = engine.table("customers")
    signed_up = customers.filter(
        customers.customer_id.notnull(),
        customers.signup_at.isnull() | (customers.signup_at < window.cutoff_lit()),
    ).select("customer_id")
    buyers = known_orders(engine, window).select("customer_id")
    return signed_up.union(buyers, distinct=True)


def age_band(age: ir.IntegerValue) -> ir.StringValue:
    """Bucket an age into :data:`AGE_BANDS` (``"65+"`` above the last bound)."""
    branches = [(age < upper, label) for upper, label in AGE_BANDS]
    return ibis.ifelse(age.isnull(), ibis.null("string"), ibis.cases(*branches, else_="65+"))


def profile_columns(engine: Engine, window: AsOf) -> ir.Table:
    """Profile attributes per customer in ``customers``.

    Returns
    -------
    ibis.Table
        ``customer_id, country, region, city, age, age_band, gender,
        email_marketing, sms_marketing, profiling, signup_day``.
    """
    c = engine.table("customers")
    age = (ibis.literal(window.date.year, type="int64") - c.birth_year.cast("int64")).name("age")
    return c.select(
        "customer_id",
        country=c.country,
        region=c.region,
        city=c.city,
        age=age,
        age_band=age_band(age),
        gender=c.gender,
        email_marketing=c.email_marketing.fill_null(False),
        sms_marketing=c.sms_marketing.fill_null(False),
        profiling=c.profiling.fill_null(False),
        signup_day=c.signup_at.cast("date"),
    )
