"""Customers of the synthetic store: group, signup, demographics, place, consent, tags.

The :class:`Population` keeps the per-customer numpy arrays the order and event
generators need (group, signup and first-order times in days since the start
of the period, engagement, unsubscribe time) next to the ``customers`` table.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from shopseg.datasets._arrow import choose, id_column, lookup, prefix_join, timestamps
from shopseg.datasets._geography import CityTable
from shopseg.datasets.groups import PLANTED_GROUPS

__all__ = ["Period", "Population", "assign_groups", "build_population", "group_param"]

GROUPS = list(PLANTED_GROUPS.values())
_GENDERS = ("female", "male", "non-binary")
_GENDER_P = (0.52, 0.45, 0.015, 0.015)  # the last one is "not given" (NULL)
_ACQUISITION = ("organic", "paid_search", "social", "referral", "email")
_ACQUISITION_P = (0.35, 0.25, 0.2, 0.12, 0.08)
_TAGS = ("newsletter", "loyalty_member", "app_user", "b2b")
_FIRST_ORDER_DELAY_DAYS = 2.0
_ONE_SECOND = 1.0 / 86_400.0


@dataclass(frozen=True)
class Period:
    """The simulated period: ``days`` long, ending (exclusive) at ``end_us``."""

    start_us: int
    days: float
    end_year: int
    event_days: float

    @property
    def last(self) -> float:
        """The last representable instant, in days since the start."""
        return self.days - _ONE_SECOND


@dataclass(frozen=True)
class Population:
    """Per-customer arrays (index = customer number - 1) and the ``customers`` table."""

    table: pa.Table
    ids: pa.Array
    group: np.ndarray
    city: np.ndarray
    signup: np.ndarray
    first_order: np.ndarray
    buys: np.ndarray
    engagement: np.ndarray
    email_optin: np.ndarray
    unsubscribed_at: np.ndarray

    @property
    def n(self) -> int:
        return int(self.group.size)


def group_param(name: str) -> np.ndarray:
    """One parameter of every planted group, as an array indexed by group number."""
    return np.array([getattr(g, name) for g in GROUPS], dtype=np.float64)


def assign_groups(rng: np.random.Generator, n: int) -> np.ndarray:
    """Exact group sizes (largest remainder), shuffled."""
    shares = group_param("share")
    raw = shares * n
    counts = np.floor(raw).astype(np.int64)
    counts[np.argsort(-(raw - counts), kind="stable")[: n - counts.sum()]] += 1
    groups: np.ndarray = rng.permutation(np.repeat(np.arange(len(GROUPS), dtype=np.int8), counts))
    return groups


def _signup_days(rng: np.random.Generator, group: np.ndarray, period: Period) -> np.ndarray:
    lo = np.array([0.0 if g.signup_days[0] is None else max(0.0, period.days - g.signup_days[0]) for g in GROUPS])
    hi = np.array([period.days - g.signup_days[1] for g in GROUPS])
    u = rng.random(group.size)
    days: np.ndarray = np.minimum(lo[group] + u * (hi[group] - lo[group]), period.last)
    return days


def _sigmoid(x: np.ndarray) -> np.ndarray:
    out: np.ndarray = 1.0 / (1.0 + np.exp(-x))
    return out


def build_population(
    rng: np.random.Generator,
    n: int,
    period: Period,
    places: CityTable,
    *,
    first_id: int = 1,
    id_width: int | None = None,
    group: np.ndarray | None = None,
) -> Population:
    """Draw ``n`` customers and build the ``customers`` table.

    A chunk of a larger store passes its first customer number, the store's id width and its
    slice of the store's groups; alone, the groups are drawn here (exact shares).
    """
    group = assign_groups(rng, n) if group is None else group
    signup = _signup_days(rng, group, period)
    delay = rng.exponential(_FIRST_ORDER_DELAY_DAYS, n)
    first_order = np.minimum(signup + delay, period.last)
    buys = rng.random(n) < group_param("first_order_p")[group]
    engagement = group_param("engagement")[group] + rng.normal(0.0, 1.0, n)
    email_optin = rng.random(n) < _sigmoid(engagement + 0.1)
    unsub = email_optin & (rng.random(n) < group_param("unsubscribe_p")[group])
    window_start = np.maximum(signup, period.days - period.event_days)
    unsub_at = np.where(unsub, window_start + rng.random(n) * (period.last - window_start), np.nan)

    ids = id_column("c", np.arange(first_id, first_id + n), id_width or max(6, len(str(n))))
    city = choose(rng, places.weight, n)
    age = np.clip(np.rint(rng.normal(group_param("age_mean")[group], 12.0)), 18, 85).astype(np.int32)
    gender = choose(rng, _GENDER_P, n)
    gender[gender == len(_GENDERS)] = -1
    sms = rng.random(n) < _sigmoid(engagement - 1.6)
    profiling = rng.random(n) < _sigmoid(engagement + 0.7)
    email_marketing = email_optin & ~unsub
    tags = _tags(rng, group, engagement, email_marketing)
    attributes = _attributes(rng, city, places)
    jitter = rng.normal(0.0, 0.04, (2, n))
    table = pa.table(
        {
            "customer_id": ids,
            "email": prefix_join("", ids, "@example.com"),
            "signup_at": timestamps(period.start_us, signup),
            "birth_year": pa.array(period.end_year - age, pa.int32()),
            "gender": lookup(_GENDERS, gender),
            "country": lookup(places.country, city),
            "region": lookup(places.region, city),
            "city": lookup(places.city, city),
            "lat": pa.array(np.round(places.lat[city] + jitter[0], 5), pa.float64()),
            "lon": pa.array(np.round(places.lon[city] + jitter[1], 5), pa.float64()),
            "email_marketing": pa.array(email_marketing, pa.bool_()),
            "sms_marketing": pa.array(sms, pa.bool_()),
            "profiling": pa.array(profiling, pa.bool_()),
            "tags": tags,
            "attributes": attributes,
        }
    )
    return Population(table, ids, group, city, signup, first_order, buys, engagement, email_optin, unsub_at)


def _tags(rng: np.random.Generator, group: np.ndarray, engagement: np.ndarray, newsletter: np.ndarray) -> pa.Array:
    """Comma-separated tags from four independent flags (NULL when none applies)."""
    n = group.size
    app_p = np.array([g.channels[1] for g in GROUPS])[group]
    bits = (
        newsletter.astype(np.int64)
        | (rng.random(n) < _sigmoid(engagement - 0.5)).astype(np.int64) << 1
        | (rng.random(n) < app_p).astype(np.int64) << 2
        | (rng.random(n) < 0.01).astype(np.int64) << 3
    )
    combos = [",".join(t for k, t in enumerate(_TAGS) if mask >> k & 1) for mask in range(1 << len(_TAGS))]
    bits[bits == 0] = -1
    return lookup(combos, bits)


def _attributes(rng: np.random.Generator, city: np.ndarray, places: CityTable) -> pa.Array:
    """``{"language": ..., "acquisition": ...}`` JSON per customer."""
    languages = sorted(set(places.language))
    lang = np.array([languages.index(x) for x in places.language])[city]
    source = choose(rng, _ACQUISITION_P, city.size)
    combos = [json.dumps({"language": lg, "acquisition": src}) for lg in languages for src in _ACQUISITION]
    return lookup(combos, lang * len(_ACQUISITION) + source)
