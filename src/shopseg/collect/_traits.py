"""identify ``traits`` -> a ``customers`` row: the spec's reserved traits to canonical columns, custom ones to attributes.

Reserved traits with a column: ``email``; ``address.city``/``state``/``country`` (or flat ``city``, ``state``,
``region``, ``country``) -> ``city``/``region``/``country``; ``birthday`` (else ``age``) -> ``birth_year``;
``gender``; ``createdAt`` -> ``signup_at`` (ignored unless an ISO 8601 time of the years 1 to 9999).
``firstName``/``lastName``/``name`` become the attributes ``first_name``/``last_name``/``name``. Reserved traits shopseg has no use for (``phone``, ``address.street``,
``address.postalCode``, ``avatar``, ``username``, ``website``, ``title``, ``description``, ``id``,
``company``) are not kept. Every other trait with a text, number or boolean value becomes a custom
attribute (:mod:`shopseg.io.attributes`), so ``attr_<trait>`` is a segment field.

>>> import datetime as dt
>>> customer_of("u1", {"email": "a@b.example", "birthday": "1990-05-02", "address": {"city": "Lyon", "country": "FR"},
...     "firstName": "Ada", "plan": "gold", "phone": "+33 1"}, dt.datetime(2024, 6, 1))
{'customer_id': 'u1', 'email': 'a@b.example', 'birth_year': 1990, 'city': 'Lyon', 'country': 'FR', 'attributes': {'first_name': 'Ada', 'plan': 'gold'}}
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

__all__ = ["customer_of", "DROPPED_TRAITS"]

DROPPED_TRAITS = frozenset(
    {"phone", "avatar", "username", "website", "title", "description", "id", "company", "address", "street"}
)
_NAMES = {"firstName": "first_name", "first_name": "first_name", "lastName": "last_name", "last_name": "last_name"}
_PLACES = {"city": "city", "state": "region", "region": "region", "country": "country"}
_HANDLED = {"email", "birthday", "age", "gender", "createdAt", "created_at", "name", *_NAMES, *_PLACES}


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _birth_year(traits: Mapping[str, Any], today: dt.datetime) -> int | None:
    birthday = _text(traits.get("birthday"))
    if birthday is not None:
        try:
            return dt.date.fromisoformat(birthday[:10]).year
        except ValueError:
            return None
    age = traits.get("age")
    if isinstance(age, int | float) and not isinstance(age, bool) and 0 <= age < 130:
        return today.year - int(age)
    return None


def _signup(value: Any) -> str | None:
    """``createdAt`` as naive UTC ISO 8601 text (the event's work is JSON: journaled and stored as text); None when
    it is not an ISO 8601 time of the years 1 to 9999."""
    text = _text(value)
    if text is None:
        return None
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None) if parsed.tzinfo else parsed
    except (ValueError, OverflowError):  # 9999-12-31T23:59:59-05:00 is past the year 9999 in UTC
        return None
    return parsed.isoformat()


def customer_of(customer_id: str, traits: Mapping[str, Any], received_at: dt.datetime) -> dict[str, Any]:
    """The ``customers`` columns an identify call's ``traits`` set (absent keys leave the stored value alone)."""
    row: dict[str, Any] = {"customer_id": customer_id}
    if (email := _text(traits.get("email"))) is not None:
        row["email"] = email
    if (year := _birth_year(traits, received_at)) is not None:
        row["birth_year"] = year
    if (gender := _text(traits.get("gender"))) is not None:
        row["gender"] = gender.lower()
    given = traits.get("address")
    address: Mapping[str, Any] = given if isinstance(given, Mapping) else {}
    for key, column in _PLACES.items():
        value = _text(address.get(key)) or _text(traits.get(key))
        if value is not None:
            row[column] = value
    if (signup := _signup(traits.get("createdAt") or traits.get("created_at"))) is not None:
        row["signup_at"] = signup
    attributes: dict[str, Any] = {}
    for key, column in _NAMES.items():
        if (value := _text(traits.get(key))) is not None:
            attributes[column] = value
    if (name := _text(traits.get("name"))) is not None:
        attributes["name"] = name
    for key, value in traits.items():
        if key in _HANDLED or key in DROPPED_TRAITS or value is None:
            continue
        if isinstance(value, str | bool | int | float):
            attributes[key] = value
    if attributes:
        row["attributes"] = attributes
    return row
