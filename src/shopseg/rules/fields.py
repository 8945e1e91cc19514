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

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from shopseg.features import FEATURE_COLUMNS, FEATURES_TABLE
from shopseg.interests import INTERESTS_TABLE
from shopseg.segments.lifecycle import LIFECYCLE_STAGES, LIFECYCLE_TABLE
from shopseg.segments.rfm_map import NO_PURCHASE, RFM_SEGMENTS, RFM_TABLE

__all__ = [
    "Field",
    "FieldRegistry",
    "FIELDS",
    "FIELD_TYPES",
    "PREDICT_HINT",
    "PREDICTIONS_TABLE",
    "INTERESTS_TABLE",
    "CLUSTERS_TABLE",
    "default_fields",
]

FIELD_TYPES = ("number", "string", "boolean", "timestamp")
PREDICT_HINT = "not available until `shopseg predict` has run"
#: Where ``shopseg predict`` is expected to store one row per customer (``customer_id`` + predicted columns).
PREDICTIONS_TABLE = "customer_predictions"
#: Where ``shopseg cluster`` stores each clustered customer's ``cluster`` and ``cluster_name``.
CLUSTERS_TABLE = "customer_clusters"


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
    "clv": ("number", "Predicted customer lifetime value over the horizon (currency)."),
    "clv_p10": (
        "number",
        "The customer's own 10th percentile of value over the horizon: she brings at least this "
        "with 90% probability, given the models (currency).",
    ),
    "clv_p90": ("number", "Upper end of the customer's own 80% value interval over the horizon (currency)."),
    "clv_param_p10": (
        "number",
        "10th percentile of the expected CLV over bootstrap refits (parameter uncertainty only).",
    ),
    "clv_param_p90": (
        "number",
        "90th percentile of the expected CLV over bootstrap refits (parameter uncertainty only).",
    ),
    "churn_probability": ("number", "Predicted probability of no purchase in the churn window, 0-1."),
    "churn_risk": ("string", "Churn risk band: low, medium or high."),
    "p_alive": ("number", "Probability the customer is still active (MBG/NBD by default; see predictions_model), 0-1."),
    "next_order_date": ("timestamp", "Predicted date of the next order."),
    "next_order_date_lower": ("timestamp", "Lower end (p10) of the next-order date interval."),
    "next_order_date_upper": ("timestamp", "Upper end (p90) of the next-order date interval."),
    "expected_purchases": ("number", "Expected purchases over the prediction horizon (MBG/NBD, BG/NBD or Pareto/NBD)."),
    "expected_spend": ("number", "Expected spend per order (Gamma-Gamma), currency."),
    "p_next_order": ("number", "Probability of at least one order within the horizon, 0-1."),
    "purchases_p10": ("number", "The customer's own 10th percentile of purchases over the horizon."),
    "purchases_p90": ("number", "Upper end of the customer's own 80% interval of purchases over the horizon."),
    "expected_purchases_param_p10": (
        "number",
        "10th percentile of expected purchases over bootstrap refits (parameter uncertainty only).",
    ),
    "expected_purchases_param_p90": (
        "number",
        "90th percentile of expected purchases over bootstrap refits (parameter uncertainty only).",
    ),
}
_CHOICES = {"churn_risk": ("low", "medium", "high")}
# rule field -> customer_predictions column, where the two names differ
_PREDICTED_COLUMNS = {"next_order_date_lower": "next_order_p10_date", "next_order_date_upper": "next_order_p90_date"}


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

    def with_interests(self, columns: Iterable[str]) -> FieldRegistry:
        """A registry extended with the columns of ``customer_interests`` (``shopseg interests``).

        ``affinity_<category>`` and ``price_<band>`` are 0-1 scores, ``<category>_enthusiast``,
        ``bargain_hunter`` and ``premium_buyer`` are flags, ``interests`` lists the flags that hold.
        """
        extra = [_interest_field(c) for c in columns if c != "customer_id" and c not in self._fields]
        return FieldRegistry([*self._fields.values(), *extra])

    def columns_by_table(self, *, available_only: bool = False) -> dict[str, dict[str, str]]:
        """``table -> {field name: column}`` of every field (aliases left out): where to read a profile from."""
        out: dict[str, dict[str, str]] = {}
        for f in self._fields.values():
            if f.alias_of is None and (f.available or not available_only):
                out.setdefault(f.table, {})[f.name] = f.column
        return out

    def with_attributes(self, columns: Mapping[str, str]) -> FieldRegistry:
        """A registry extended with the custom attributes of ``customer_attributes`` (``attr_<key>``: SQL type)."""
        kinds = {"DOUBLE": "number", "BOOLEAN": "boolean"}
        extra = [
            Field(
                c,
                kinds.get(t, "string"),
                "customer_attributes",
                c,
                f"Custom attribute '{c[5:]}' from the customers file (kept at ingest).",
            )
            for c, t in columns.items()
            if c.startswith("attr_") and c not in self._fields
        ]
        return FieldRegistry([*self._fields.values(), *extra])

    def with_clusters(self, columns: Iterable[str]) -> FieldRegistry:
        """A registry extended with ``cluster`` (number) and ``cluster_name`` of ``customer_clusters`` (``shopseg cluster``)."""
        known = {
            "cluster": ("number", "Cluster number (shopseg cluster)."),
            "cluster_name": ("string", "Cluster name."),
        }
        extra = [
            Field(c, known[c][0], CLUSTERS_TABLE, c, known[c][1])
            for c in columns
            if c in known and c not in self._fields
        ]
        return FieldRegistry([*self._fields.values(), *extra])

    def with_predictions(self, columns: Iterable[str]) -> FieldRegistry:
        """A registry where the predicted fields stored in ``customer_predictions`` are available."""
        present = set(columns)
        return FieldRegistry([_enable(f, present) for f in self._fields.values()])


def _interest_field(column: str) -> Field:
    if column.startswith("affinity_"):
        kind, text = "number", f"Decayed affinity for category {column[9:]}, 0-1 (shopseg interests)."
    elif column.startswith("price_"):
        kind, text = "number", f"Decayed share of signals in the {column[6:]} price band, 0-1 (shopseg interests)."
    elif column == "interests":
        kind, text = "string", "Comma-separated interest flags that hold (shopseg interests)."
    else:
        kind, text = "boolean", f"Interest flag {column.replace('_', ' ')} (shopseg interests)."
    return Field(column, kind, INTERESTS_TABLE, column, text)


def _enable(f: Field, columns: set[str]) -> Field:
    if f.table == PREDICTIONS_TABLE and f.column in columns:
        return Field(f.name, f.type, f.table, f.column, f.help, True, f.choices, f.alias_of)
    return f


def default_fields() -> FieldRegistry:
    """The built-in registry (features, RFM, lifecycle, aliases, predicted)."""
    out = [Field(c, _feature_type(c), FEATURES_TABLE, c, _feature_help(c)) for c in FEATURE_COLUMNS]
    rfm_help = "Named RFM segment (shopseg rfm)."
    out.append(Field("rfm_segment", "string", RFM_TABLE, "rfm_segment", rfm_help, choices=(*RFM_SEGMENTS, NO_PURCHASE)))
    out.append(Field("rfm_cell", "string", RFM_TABLE, "rfm_cell", "RFM code '<r><f><m>', e.g. '555'."))
    for s in ("r", "f", "m"):
        out.append(Field(f"{s}_score", "number", RFM_TABLE, f"{s}_score", f"RFM {s.upper()} score, 1 (worst) to bins."))
    out.append(
        Field(
            "lifecycle_stage",
            "string",
            LIFECYCLE_TABLE,
            "stage",
            "Lifecycle stage (shopseg lifecycle).",
            choices=LIFECYCLE_STAGES,
        )
    )
    out.append(
        Field(
            "tags",
            "string",
            "customers",
            "tags",
            "The customer's tags from the store (Shopify's Tags), comma-separated: tags CONTAINS 'vip'.",
        )
    )
    for name, (target, text) in _ALIASES.items():
        base = next(f for f in out if f.name == target)
        out.append(Field(name, base.type, base.table, base.column, text, choices=base.choices, alias_of=target))
    for name, (typ, text) in _PREDICTED.items():
        column = _PREDICTED_COLUMNS.get(name, name)
        out.append(Field(name, typ, PREDICTIONS_TABLE, column, text, available=False, choices=_CHOICES.get(name, ())))
    return FieldRegistry(out)


FIELDS = default_fields()
