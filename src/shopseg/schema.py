"""Canonical tables and columns of a shopseg workspace.

Every loader maps its source onto these tables; every feature and segment reads
only from them. Timestamps are timezone-free UTC with microsecond precision.
Money is stored as DOUBLE and rounded to cents before ranking or comparing
across engines.

The ``required`` columns must be present in every ingest of that kind; the
others are optional and filled with NULL (or the stated default) when absent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ibis.expr.schema as sch

__all__ = ["Column", "TableSpec", "TABLES", "SCHEMA_VERSION", "ibis_schema", "ddl"]

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Column:
    """A canonical column: name, DuckDB SQL type, whether it is required, and what it holds."""

    name: str
    sql_type: str
    required: bool = False
    help: str = ""
    pii: bool = False


@dataclass(frozen=True)
class TableSpec:
    """A canonical table: its columns and its primary key."""

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    help: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


C = Column

TABLES: dict[str, TableSpec] = {
    t.name: t
    for t in [
        TableSpec(
            "customers",
            (
                C("customer_id", "VARCHAR", True, "Store's customer identifier."),
                C("email", "VARCHAR", help="Email address.", pii=True),
                C("signup_at", "TIMESTAMP", help="Account creation time (UTC)."),
                C("birth_year", "INTEGER", help="Year of birth."),
                C("gender", "VARCHAR", help="Self-declared gender (free text, lower case)."),
                C("country", "VARCHAR", help="Country name or ISO code."),
                C("region", "VARCHAR", help="Region or state."),
                C("city", "VARCHAR", help="City."),
                C("lat", "DOUBLE", help="Latitude of the customer's address, if known."),
                C("lon", "DOUBLE", help="Longitude of the customer's address, if known."),
                C("email_marketing", "BOOLEAN", help="Consent to marketing email (default false)."),
                C("sms_marketing", "BOOLEAN", help="Consent to marketing SMS (default false)."),
                C("profiling", "BOOLEAN", help="Consent to profiling (default false)."),
                C("tags", "VARCHAR", help="Comma-separated tags."),
                C("attributes", "VARCHAR", help="Custom attributes as a JSON object."),
            ),
            key=("customer_id",),
            help="One row per known customer.",
        ),
        TableSpec(
            "orders",
            (
                C("order_id", "VARCHAR", True, "Order (invoice) identifier."),
                C("customer_id", "VARCHAR", True, "Buyer; NULL rows are flagged, not kept."),
                C("ordered_at", "TIMESTAMP", True, "Order time (UTC)."),
                C("channel", "VARCHAR", help="web, app, store, marketplace, ..."),
                C("region", "VARCHAR", help="Store or shipping region."),
                C("country", "VARCHAR", help="Shipping country."),
                C("currency", "VARCHAR", help="ISO currency code."),
                C("is_cancelled", "BOOLEAN", help="The order was cancelled (kept, marked)."),
            ),
            key=("order_id",),
            help="One row per order.",
        ),
        TableSpec(
            "order_lines",
            (
                C("order_id", "VARCHAR", True, "Order the line belongs to."),
                C("line_number", "INTEGER", True, "Position of the line in its order (1-based)."),
                C("product_id", "VARCHAR", True, "Product (SKU) identifier."),
                C("quantity", "INTEGER", True, "Units; negative for returns and cancellations."),
                C("unit_price", "DOUBLE", True, "Price per unit before discount."),
                C("discount", "DOUBLE", help="Discount on the whole line (money, >= 0)."),
                C("is_return", "BOOLEAN", help="The line is a return or cancellation (kept, marked)."),
            ),
            key=("order_id", "line_number"),
            help="One row per order line.",
        ),
        TableSpec(
            "products",
            (
                C("product_id", "VARCHAR", True, "Product (SKU) identifier."),
                C("name", "VARCHAR", help="Product name."),
                C("category", "VARCHAR", help="Category path, levels joined by ' > '."),
                C("brand", "VARCHAR", help="Brand."),
                C("price", "DOUBLE", help="List price."),
            ),
            key=("product_id",),
            help="One row per product.",
        ),
        TableSpec(
            "events",
            (
                C("event_id", "VARCHAR", True, "Unique id; re-sent events are ignored."),
                C("customer_id", "VARCHAR", help="Known customer, or NULL for anonymous."),
                C("anonymous_id", "VARCHAR", help="Device or cookie id for anonymous events."),
                C("type", "VARCHAR", True, "page_view, product_view, add_to_cart, checkout_started, ..."),
                C("occurred_at", "TIMESTAMP", True, "Event time (UTC)."),
                C("product_id", "VARCHAR", help="Product involved, if any."),
                C("properties", "VARCHAR", help="Other properties as a JSON object."),
            ),
            key=("event_id",),
            help="Web, app and email events.",
        ),
        TableSpec(
            "survey_answers",
            (
                C("customer_id", "VARCHAR", True, "Respondent."),
                C("question", "VARCHAR", True, "Question key."),
                C("answer", "VARCHAR", True, "Answer text or option key."),
                C("answered_at", "TIMESTAMP", help="Answer time (UTC)."),
            ),
            key=("customer_id", "question"),
            help="Psychographic input: one row per customer and question.",
        ),
    ]
}


_IBIS_TYPES = {
    "VARCHAR": "string",
    "TIMESTAMP": "timestamp",
    "INTEGER": "int32",
    "BIGINT": "int64",
    "DOUBLE": "float64",
    "BOOLEAN": "boolean",
}


def ibis_schema(table: str) -> sch.Schema:
    """Return the Ibis schema of a canonical table."""
    import ibis  # on first use: the CLI starts without Ibis

    spec = TABLES[table]
    return ibis.schema({c.name: _IBIS_TYPES[c.sql_type] for c in spec.columns})


def ddl(table: str) -> str:
    """Return the ``CREATE TABLE`` statement of a canonical table (DuckDB dialect)."""
    spec = TABLES[table]
    cols = ",\n  ".join(f'"{c.name}" {c.sql_type}' for c in spec.columns)
    return f'CREATE TABLE IF NOT EXISTS "{spec.name}" (\n  {cols}\n)'
