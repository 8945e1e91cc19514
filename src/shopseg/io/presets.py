"""Built-in presets: how well-known exports map onto the canonical columns.

A preset is a reader (header, delimiter, column names) plus one DuckDB SQL
expression per canonical input column, written over the source columns. The
expressions only reshape values; parsing and validation stay in one place
(:mod:`shopseg.io.columns` and :mod:`shopseg.io.validate`), so a preset never
hides a bad row.

============  =========  ==========================================================
preset        kind       source
============  =========  ==========================================================
online_retail orders     UCI Online Retail (Chen, Sain & Guo 2012), CSV or Parquet
cdnow         orders     CDNOW_master.txt (Fader & Hardie), whitespace separated
cdnow_sample  orders     CDNOW_sample.txt, the 1/10 sample used in the BG/NBD papers
shopify       orders     Shopify admin "Export orders" CSV
============  =========  ==========================================================
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from shopseg.errors import InvalidParameterError, did_you_mean
from shopseg.io._read import Reader, quote

__all__ = ["Preset", "PRESETS", "get_preset", "detect_preset", "suggest_preset"]

Expr = tuple[str, tuple[str, ...]]


def _col(name: str) -> Expr:
    return quote(name), (name,)


def _const(sql: str) -> Expr:
    return sql, ()


@dataclass(frozen=True)
class Preset:
    """A named mapping of a well-known export onto one ingest kind.

    Attributes
    ----------
    columns : dict of str to (str, tuple of str)
        Canonical input column -> (SQL expression over source columns, source columns it needs).
    order_key : str or None
        SQL expression grouping continuation rows of one order; expressions may use
        ``first_value(x IGNORE NULLS) OVER w`` to fill order-level fields from the
        order's first row.
    marks : tuple of (str, str)
        Extra reasons (label, SQL predicate over the source) counted on kept rows.
    fields : int or None
        Number of fields each line must have (whitespace-separated sources).
    """

    name: str
    kind: str
    help: str
    columns: dict[str, Expr]
    reader: Reader = Reader()
    signature: frozenset[str] = frozenset()
    order_key: str | None = None
    marks: tuple[tuple[str, str], ...] = ()
    fields: int | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def needs_file_order(self) -> bool:
        """Whether the expressions use window functions over file order (then the raw rows are materialised)."""
        return self.order_key is not None or any(" OVER " in expr for expr, _ in self.columns.values())


_CDNOW_ID = "CASE WHEN ltrim(\"customer_id\", '0') = '' THEN '0' ELSE ltrim(\"customer_id\", '0') END"
_CDNOW_COLUMNS: dict[str, Expr] = {
    "customer_id": (_CDNOW_ID, ("customer_id",)),
    # One order per row; the k-th purchase of a customer on a day gets suffix k, so
    # ids are stable across re-reads (and re-ingest is refused).
    "order_id": (
        f"'cdnow:' || ({_CDNOW_ID}) || ':' || \"date\" || ':' || "
        'row_number() OVER (PARTITION BY "customer_id", "date" ORDER BY rowid)',
        ("customer_id", "date"),
    ),
    "ordered_at": _col("date"),
    "product_id": _const("'cd'"),
    "product_name": _const("'CD'"),
    "quantity": _col("number_of_cds"),
    # dollar_value is the line total: unit_price = dollar_value / number_of_cds, unrounded,
    # so round(quantity * unit_price, 2) == dollar_value exactly.
    "unit_price": (
        'CASE WHEN TRY_CAST("dollar_value" AS DOUBLE) IS NULL OR TRY_CAST("number_of_cds" AS DOUBLE) IS NULL '
        'THEN "dollar_value" ELSE CAST(CAST("dollar_value" AS DOUBLE) / '
        'nullif(CAST("number_of_cds" AS DOUBLE), 0) AS VARCHAR) END',
        ("dollar_value", "number_of_cds"),
    ),
    "currency": _const("'USD'"),
}

_RETAIL_CANCEL = "starts_with(upper(CAST(\"InvoiceNo\" AS VARCHAR)), 'C')"
_RETAIL_DATE = (
    "coalesce(strftime(try_strptime(CAST(\"InvoiceDate\" AS VARCHAR), '%m/%d/%Y %H:%M'), '%Y-%m-%d %H:%M:%S'), "
    'CAST("InvoiceDate" AS VARCHAR))'
)

_SHOPIFY_EMAIL = 'lower(trim(first_value("Email" IGNORE NULLS) OVER w))'


def _first(name: str) -> Expr:
    return f"first_value({quote(name)} IGNORE NULLS) OVER w", (name,)


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in [
        Preset(
            "online_retail",
            "orders",
            "UCI Online Retail: InvoiceNo, StockCode, Description, Quantity, InvoiceDate, UnitPrice, CustomerID, Country.",
            {
                "order_id": _col("InvoiceNo"),
                "customer_id": ("regexp_replace(CAST(\"CustomerID\" AS VARCHAR), '\\.0+$', '')", ("CustomerID",)),
                "ordered_at": (_RETAIL_DATE, ("InvoiceDate",)),
                "product_id": _col("StockCode"),
                # UTF-8 read as latin-1 turns '£' into 'Â£': drop the stray 'Â' before U+00A0..U+00BF.
                "product_name": (
                    "regexp_replace(\"Description\", 'Â([\\x{A0}-\\x{BF}])', '\\1', 'g')",
                    ("Description",),
                ),
                "quantity": _col("Quantity"),
                "unit_price": _col("UnitPrice"),
                "country": _col("Country"),
                "currency": _const("'GBP'"),
                "is_cancelled": (_RETAIL_CANCEL, ("InvoiceNo",)),
                "is_return": (f'{_RETAIL_CANCEL} OR TRY_CAST("Quantity" AS DOUBLE) < 0', ("InvoiceNo", "Quantity")),
            },
            signature=frozenset({"InvoiceNo", "StockCode", "InvoiceDate", "UnitPrice", "CustomerID"}),
            marks=(("mojibake in description (repaired)", "contains(\"Description\", 'Â')"),),
            notes=(
                "Invoices starting with C are cancellations: orders.is_cancelled and order_lines.is_return are true.",
                "Negative quantities outside a cancellation (stock adjustments) are kept as returns.",
            ),
        ),
        Preset(
            "cdnow",
            "orders",
            "CDNOW_master.txt: customer_id date(YYYYMMDD) number_of_cds dollar_value, whitespace separated, header.",
            _CDNOW_COLUMNS,
            reader=Reader(
                header=True, names=("customer_id", "date", "number_of_cds", "dollar_value"), delimiter="whitespace"
            ),
            fields=4,
        ),
        Preset(
            "cdnow_sample",
            "orders",
            "CDNOW_sample.txt: customer_id sample_id date number_of_cds dollar_value, whitespace separated, no header.",
            _CDNOW_COLUMNS,
            reader=Reader(
                header=False,
                names=("customer_id", "sample_id", "date", "number_of_cds", "dollar_value"),
                delimiter="whitespace",
            ),
            fields=5,
        ),
        Preset(
            "shopify",
            "orders",
            "Shopify orders export: one row per line item; continuation rows repeat Name only.",
            {
                "order_id": _col("Name"),
                "email": (_SHOPIFY_EMAIL, ("Email",)),
                "customer_id": (f"'shopify:' || left(sha256({_SHOPIFY_EMAIL}), 16)", ("Email",)),
                "ordered_at": _first("Created at"),
                "product_id": (
                    'coalesce("Lineitem sku", \'name:\' || "Lineitem name")',
                    ("Lineitem sku", "Lineitem name"),
                ),
                "product_name": _col("Lineitem name"),
                "quantity": _col("Lineitem quantity"),
                "unit_price": _col("Lineitem price"),
                "discount": _col("Lineitem discount"),
                "brand": _col("Vendor"),
                "country": _first("Billing Country"),
                "region": _first("Billing Province"),
                "currency": _first("Currency"),
                "channel": _first("Source"),
                "is_cancelled": ('first_value("Cancelled at" IGNORE NULLS) OVER w IS NOT NULL', ("Cancelled at",)),
                "is_return": (
                    "coalesce(first_value(\"Financial Status\" IGNORE NULLS) OVER w = 'refunded', false)",
                    ("Financial Status",),
                ),
            },
            signature=frozenset({"Name", "Email", "Lineitem quantity", "Lineitem price", "Lineitem name"}),
            order_key='"Name"',
            marks=(
                (
                    "partially refunded order (kept, marked)",
                    "first_value(\"Financial Status\" IGNORE NULLS) OVER w = 'partially_refunded'",
                ),
            ),
            notes=(
                "customer_id is 'shopify:' + the first 16 hex digits of sha256(lower-cased email).",
                "Orders with a 'Cancelled at' time are cancelled; fully refunded orders mark every line as returned.",
            ),
        ),
    ]
}


def get_preset(name: str, kind: str) -> Preset:
    """Return the preset ``name``, checking it loads ``kind``."""
    if name not in PRESETS:
        raise InvalidParameterError(
            f"The 'preset' parameter of ingest must be one of {sorted(PRESETS)}. Got {name!r} instead."
            f"{did_you_mean(name, PRESETS)}"
        )
    preset = PRESETS[name]
    if preset.kind != kind:
        raise InvalidParameterError(
            f"Preset '{name}' loads {preset.kind}, not {kind}. Hint: run `shopseg ingest {preset.kind} FILE --preset {name}`."
        )
    return preset


_CDNOW_HEADER = ["customer_id", "date", "number_of_cds", "dollar_value"]


def detect_preset(path: Path, fmt: str, kind: str, columns: list[str] | None = None) -> str | None:
    """Guess a preset from the header (or the first line of a whitespace file); ``None`` if none fits."""
    if kind != "orders":
        return None
    if columns is None and fmt == "csv":
        with open(path, "rb") as fh:
            first = fh.readline(4096).decode("utf-8", "replace").split()
        if first == _CDNOW_HEADER:
            return "cdnow"
        return None
    found = set(columns or ())
    for preset in PRESETS.values():
        if preset.signature and preset.signature <= found:
            return preset.name
    return None


def suggest_preset(kind: str, columns: list[str]) -> str | None:
    """A preset whose header mostly matches ``columns`` (for a hint when detection failed)."""
    found = set(columns)
    best = max(PRESETS.values(), key=lambda p: len(p.signature & found))
    if best.kind == kind and len(best.signature & found) >= 3:
        return best.name
    return None
