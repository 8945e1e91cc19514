"""The field registry: every name a segment rule may use, its type, table and meaning.

Fields come from the customer feature table (:data:`shopseg.features.FEATURE_COLUMNS`),
the RFM table (``customer_rfm``), the lifecycle table (``customer_lifecycle``,
column ``stage``) and the predicted fields of ``shopseg predict`` (declared
now, refused with a clear message until the models exist). Readable aliases
map onto feature columns (``spent`` is ``revenue``, ``last_order`` is
``last_order_at``). Identifiers in compiled queries only ever come from here.

>>> FIELDS.resolve("spent").column, FIELDS.resolve("last_order").type
('revenue', 'timestamp')
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from shopseg.features import FEATURE_COLUMNS, FEATURES_TABLE
from shopseg.segments.lifecycle import LIFECYCLE_STAGES, LIFECYCLE_TABLE
from shopseg.segments.rfm import NO_PURCHASE, RFM_SEGMENTS, RFM_TABLE

__all__ = ["Field", "FieldRegistry", "FIELDS", "FIELD_TYPES", "PREDICT_HINT", "default_fields"]

FIELD_TYPES = ("number", "string", "boolean", "timestamp")
PREDICT_HINT = "not available until `shopseg predict` has run"


@dataclass(frozen=True)
class Field:
    """One rule field.

    Attributes
    ----------
    name : str
        The name used in rules.
    type : {"number", "string", "boolean", "timestamp"}
    table : str
        Workspace table holding it (joined on ``customer_id``).
    column : str
        Column in ``table``.
    help : str
        One-line meaning and unit.
    available : bool
        False for predicted fields before ``shopseg predict``.
    choices : tuple of str
        Allowed values of a categorical string field (empty: free text).
    """

    name: str
    type: str
    table: str
    column: str
    help: str
    available: bool = True
    choices: tuple[str, ...] = ()
    alias_of: str | None = None


_TIMESTAMPS = {"first_order_at", "last_order_at"}
_STRINGS = {"customer_id", "top_category", "country", "region", "city", "age_band", "gender"}
_BOOLEANS = {"email_marketing", "sms_marketing", "profiling"}
_HELP = {
    "customer_id": "Customer identifier.",
    "first_order_at": "Time of the first purchase order (UTC).",
    "last_order_at": "Time of the last purchase order (UTC).",
    "orders": "Number of purchase orders.",
    "frequency": "Repeat purchase days (distinct purchase days - 1).",
    "recency": "First to last purchase day, in the features' time unit.",
    "T": "First purchase day to the as-of date, in the features' time unit.",
    "monetary_value": "Mean value of the repeat purchase days.",
    "revenue": "Net purchase value (gross - returns), currency.",
    "gross_revenue": "Purchase value before returns, currency.",
    "avg_order_value": "gross_revenue / orders, currency.",
    "days_since_last_order": "Days from the last purchase day to the as-of date.",
    "avg_days_between_orders": "Mean gap between purchase days, days.",
    "std_days_between_orders": "Standard deviation of those gaps, days.",
    "basket_size": "Units per order.",
    "distinct_categories": "Distinct top-level categories bought.",
    "top_category": "Top-level category with the largest purchase value.",
    "discount_share": "Share of gross value bought with a discount, 0-1.",
    "return_rate": "Returned value / gross value, 0-1.",
    "country": "Country of the customer's address.",
    "region": "Region or state.",
    "city": "City.",
    "age": "Age in years on the as-of date.",
    "age_band": "<25, 25-34, 35-44, 45-54, 55-64, 65+.",
    "gender": "Self-declared gender (lower case).",
    "email_marketing": "Consent to marketing email.",
    "sms_marketing": "Consent to marketing SMS.",
    "profiling": "Consent to profiling.",
    "tenure_days": "Days since signup or first purchase, whichever is earlier.",
    "browse_to_buy_ratio": "orders_90d / product_views_90d.",
}
_ALIASES = {
    "last_order": ("last_order_at", "Alias of last_order_at."),
    "first_order": ("first_order_at", "Alias of first_order_at."),
    "spent": ("revenue", "Alias of revenue (net spend)."),
    "aov": ("avg_order_value", "Alias of avg_order_value."),
    "lifecycle": ("lifecycle_stage", "Alias of lifecycle_stage."),
}
_PREDICTED = {
    "clv": ("number", "Predicted customer lifetime value (currency)."),
    "churn_risk": ("number", "Predicted probability of churn, 0-1."),
    "p_alive": ("number", "Probability the customer is still active (BG/NBD), 0-1."),
    "next_order_date": ("timestamp", "Predicted date of the next order."),
}


def _feature_type(name: str) -> str:
    if name in _TIMESTAMPS:
        return "timestamp"
    if name in _STRINGS:
        return "string"
    return "boolean" if name in _BOOLEANS else "number"


def _feature_help(name: str) -> str:
    if name in _HELP:
        return _HELP[name]
    if name.startswith("share_"):
        return f"Share of purchase orders on the {name[6:]} channel, 0-1."
    words = name.replace("_", " ").replace("7d", "in the last 7 days").replace("30d", "in the last 30 days")
    return words.replace("90d", "in the last 90 days").capitalize() + " (count)."


class FieldRegistry:
    """Name -> :class:`Field`, with aliases and "Did you mean" candidates."""

    def __init__(self, fields: Iterable[Field]) -> None:
        self._fields = {f.name: f for f in fields}

    def __iter__(self) -> Iterator[Field]:
        return iter(self._fields.values())

    def __contains__(self, name: object) -> bool:
        return name in self._fields

    def names(self) -> list[str]:
        return list(self._fields)

    def get(self, name: str) -> Field | None:
        """The field ``name`` (an alias is returned as itself; see :meth:`resolve`)."""
        return self._fields.get(name)

    def resolve(self, name: str) -> Field:
        """The field ``name`` with aliases followed; ``KeyError`` when unknown."""
        f = self._fields[name]
        return self._fields[f.alias_of] if f.alias_of else f

    def with_columns(self, columns: Iterable[str]) -> FieldRegistry:
        """A registry extended with extra numeric feature columns (e.g. ``share_<category>``)."""
        extra = [
            Field(c, "number", FEATURES_TABLE, c, f"Share of gross value in category {c[6:]}, 0-1.")
            for c in columns
            if c not in self._fields and c.startswith("share_")
        ]
        return FieldRegistry([*self._fields.values(), *extra])


def default_fields() -> FieldRegistry:
    """The built-in registry (features, RFM, lifecycle, aliases, predicted)."""
    out = [Field(c, _feature_type(c), FEATURES_TABLE, c, _feature_help(c)) for c in FEATURE_COLUMNS]
    rfm_help = "Named RFM segment (shopseg rfm)."
    out.append(Field("rfm_segment", "string", RFM_TABLE, "rfm_segment", rfm_help, choices=(*RFM_SEGMENTS, NO_PURCHASE)))
    out.append(Field("rfm_cell", "string", RFM_TABLE, "rfm_cell", "RFM code '<r><f><m>', e.g. '555'."))
    for s in ("r", "f", "m"):
        out.append(Field(f"{s}_score", "number", RFM_TABLE, f"{s}_score", f"RFM {s.upper()} score, 1 (worst) to bins."))
    out.append(
        Field("lifecycle_stage", "string", LIFECYCLE_TABLE, "stage", "Lifecycle stage (shopseg lifecycle).",
              choices=LIFECYCLE_STAGES)
    )  # fmt: skip
    for name, (target, text) in _ALIASES.items():
        base = next(f for f in out if f.name == target)
        out.append(Field(name, base.type, base.table, base.column, text, choices=base.choices, alias_of=target))
    for name, (typ, text) in _PREDICTED.items():
        out.append(Field(name, typ, "customer_predictions", name, text, available=False))
    return FieldRegistry(out)


FIELDS = default_fields()
