"""The builder's field list: every field the rule language accepts, grouped, from the field registry.

The list is made from the workspace's :class:`~shopseg.rules.fields.FieldRegistry`
(the one the parser and validator use), so a field the language accepts is a
field the builder shows: features, RFM, lifecycle, every prediction field
(``p_alive``, ``next_order_date``, ...), every interest field of
``customer_interests``, clusters and custom attributes. Text fields with a
small set of values get a value picker (:func:`picker_values`, from the data).

>>> from shopseg.rules.fields import FIELDS
>>> groups = field_groups(FIELDS)
>>> [g["group"] for g in groups][:3]
['Profile', 'Consent', 'Orders and activity']
>>> next(f for g in groups for f in g["fields"] if f["name"] == "p_alive")["group"]
'Predictions'
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from shopseg.rules.fields import CLUSTERS_TABLE, INTERESTS_TABLE, PREDICT_HINT, PREDICTIONS_TABLE, Field
from shopseg.rules.values import field_values

if TYPE_CHECKING:
    import pandas as pd

    from shopseg.rules.fields import FieldRegistry
    from shopseg.workspace import Workspace

__all__ = ["field_groups", "picker_values", "promotions_rfm", "promotions_clusters", "SYNTAX", "PICKER_MAX"]

#: The most values a picker lists (most common first); more than that is free text.
PICKER_MAX = 60

_PROFILE = {"customer_id", "country", "region", "city", "age", "age_band", "gender", "tenure_days"}
_CONSENT = {"email_marketing", "sms_marketing", "profiling"}
_BY_TABLE = {
    "customer_rfm": "RFM",
    "customer_lifecycle": "Lifecycle",
    PREDICTIONS_TABLE: "Predictions",
    INTERESTS_TABLE: "Interests",
    CLUSTERS_TABLE: "Clusters",
    "customer_attributes": "Custom attributes",
}
_ORDER = [
    "Profile",
    "Consent",
    "Orders and activity",
    "RFM",
    "Lifecycle",
    "Predictions",
    "Interests",
    "Clusters",
    "Custom attributes",
    "Aliases",
]

#: Conditions that are not fields: what to insert, and what it means.
SYNTAX = [
    ("events(type='add_to_cart', within=-30d).count >= 1", "Events of a type in a window (count, sum, avg, min, max)."),
    ("orders(within=-90d).sum(value) > 100", "Purchase orders in a window: value, units; filter channel."),
    ("segment('name')", "Member of another saved segment."),
    ("distance(52.52, 13.405) < 50km", "Distance of the customer's address from a point, km."),
    ("NOT ", "Negates the next condition."),
    (" AND ", "Both conditions hold."),
    (" OR ", "Either condition holds."),
    ("-90d", "A date 90 days before the as-of date (also w weeks, m months)."),
]


def _group(f: Field) -> str:
    if f.alias_of is not None:
        return "Aliases"
    if f.table in _BY_TABLE:
        return _BY_TABLE[f.table]
    if f.name in _PROFILE:
        return "Profile"
    return "Consent" if f.name in _CONSENT else "Orders and activity"


def _item(f: Field, group: str) -> dict[str, Any]:
    note = "" if f.available else f" ({PREDICT_HINT})"
    meaning = f.help + (f" One of: {', '.join(f.choices)}." if f.choices else "") + note
    return {
        "name": f.name,
        "type": f.type,
        "help": meaning,
        "group": group,
        "available": f.available,
        "picker": f.type == "string" and f.name != "customer_id" and f.available,
        "choices": list(f.choices or ()),
    }


def field_groups(fields: FieldRegistry) -> list[dict[str, Any]]:
    """``[{group, fields: [{name, type, help, group, available, picker, choices}]}]`` in a fixed group order."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for f in fields:
        group = _group(f)
        groups.setdefault(group, []).append(_item(f, group))
    return [{"group": g, "fields": groups[g]} for g in _ORDER if g in groups]


def picker_values(ws: Workspace, name: str, fields: FieldRegistry) -> dict[str, Any]:
    """The values of text field ``name`` for the picker: ``{field, values: [{value, customers}], more}``.

    Declared choices (``churn_risk``, ``rfm_segment``) come first with their counts; ``more`` is
    True when the field holds more than :data:`PICKER_MAX` values (type the rest).

    Raises
    ------
    NotFound
        Unknown field, or its table is not built yet (:func:`shopseg.rules.values.field_values`).
    """
    df = field_values(ws, name, fields, limit=PICKER_MAX + 1)
    rows = [
        {"value": str(v), "customers": int(n)}
        for v, n in zip(df["value"], df["customers"], strict=True)
        if v is not None
    ]
    field = fields.resolve(name)
    seen = {r["value"] for r in rows}
    rows += [{"value": c, "customers": 0} for c in field.choices or () if c not in seen]
    return {"field": name, "values": rows[:PICKER_MAX], "more": len(df) > PICKER_MAX}


def _slug(*parts: object) -> str:
    """A segment name from ``parts``: lower case, words joined by '_' (``rfm_at_risk``), 64 characters at most."""
    text = "_".join(re.sub(r"[^a-z0-9]+", "_", str(p).lower()).strip("_") for p in parts)
    return text[:64].rstrip("_")


def promotions_rfm(segments: Iterable[str]) -> list[tuple[str, str, str, str]]:
    """``(label, rule, name, description)`` of each RFM segment, for the RFM page's promote buttons.

    >>> promotions_rfm(["At risk"])
    [('At risk', "rfm_segment = 'At risk'", 'rfm_at_risk', "RFM segment 'At risk' (promoted from the RFM map).")]
    """
    out = []
    for seg in segments:
        rule = f"rfm_segment = {_quote(seg)}"
        out.append((str(seg), rule, _slug("rfm", seg), f"RFM segment '{seg}' (promoted from the RFM map)."))
    return out


def promotions_clusters(profiles: pd.DataFrame | None) -> list[tuple[str, str, str, str]]:
    """``(label, rule, name, description)`` of each cluster (``cluster = N``), for the clusters page."""
    if profiles is None or "cluster" not in profiles:
        return []
    names = profiles["cluster_name"] if "cluster_name" in profiles else [""] * len(profiles)
    out = []
    for number, label in zip(profiles["cluster"], names, strict=True):
        text = f"{int(number)}: {label}" if label else str(int(number))
        out.append(
            (
                text,
                f"cluster = {int(number)}",
                _slug("cluster", int(number), label or ""),
                f"Cluster {text} (promoted from the clusters page).",
            )
        )
    return out


def _quote(value: str) -> str:
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"
