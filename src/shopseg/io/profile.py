"""What a column's values look like, and which canonical field they could fill.

Suggestions go by content first and by name second: a column is only offered
for a field its values can fill (an ``ordered_at`` candidate must parse as a
time, a ``quantity`` candidate must be a non-negative whole number, an id must
have many distinct values), and among those the name decides
(``order_purchase_timestamp`` beats ``order_approved_at`` for ``ordered_at``).
Each column is profiled on a sample of rows with one SQL query.

Dates in ``a/b/yyyy`` form are read by their values: a first part above 12 makes
it day-first, a second part above 12 month-first; when neither happens the
column is ambiguous and both readings are offered.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Set
from dataclasses import dataclass, field

import duckdb

from shopseg._sql import quote
from shopseg.io.columns import INPUTS, Field, normalize_name, parse_sql

__all__ = ["ColumnProfile", "profile_columns", "infer_date_formats", "rank_candidates", "guess_field", "name_score"]

SAMPLE_ROWS = 5_000
_EMAIL = r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$"
_BOOL = ("true", "false", "t", "f", "yes", "no", "y", "n", "0", "1")
_SLASH = re.compile(
    r"^\s*(\d{1,2})([/.-])(\d{1,2})\2(\d{2,4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?(\s*[AaPp]\.?[Mm]\.?)?)?\s*$"
)
#: Magento's and US spreadsheets' "Mar 4, 2024 5:07:12 PM" (a month's name, then the day and the year).
_NAMED = re.compile(
    r"^\s*([A-Za-z]{3,9})\.? (\d{1,2}),? (\d{4})(?: (\d{1,2}):(\d{2})(?::(\d{2}))?(\s*[AaPp][Mm])?)?\s*$"
)
#: eBay's "Mar-04-24".
_NAMED_DASH = re.compile(r"^\s*([A-Za-z]{3})-(\d{1,2})-(\d{2}|\d{4})\s*$")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")

#: Words a column name carries when it holds the field (besides the field's own name).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "customer_id": ("customer", "client", "buyer", "user", "member", "person", "shopper", "cust"),
    "order_id": ("order", "invoice", "receipt", "transaction", "basket", "purchase_id"),
    "ordered_at": (
        "purchase",
        "order_date",
        "ordered",
        "placed",
        "created",
        "invoice_date",
        "date",
        "timestamp",
        "time",
    ),
    "product_id": ("product", "sku", "item", "article", "stock_code", "stockcode", "variant"),
    "quantity": ("qty", "quantity", "units", "count", "amount_ordered"),
    "unit_price": ("price", "unit_price", "amount", "value", "cost"),
    "email": ("email", "e_mail", "mail"),
    "line_number": ("line", "item_id", "order_item", "position", "seq"),
    "discount": ("discount", "coupon_amount", "rebate"),
    "signup_at": ("signup", "created", "registered", "joined", "first_seen"),
    "country": ("country", "nation"),
    "region": ("state", "region", "province", "county"),
    "city": ("city", "town", "municipality"),
    "category": ("category", "department", "aisle", "type"),
    "product_name": ("name", "title", "description"),
    "occurred_at": ("timestamp", "time", "date", "occurred", "at"),
    "event_id": ("event", "message_id", "id"),
    "type": ("event", "type", "name", "action"),
    # Shopify's and Klaviyo's "Accepts Marketing" is e-mail consent; SMS consent always says SMS
    "email_marketing": ("accepts_marketing", "email_marketing", "email_consent", "newsletter"),
    "sms_marketing": ("sms",),
    "refunded_amount": ("amount_refunded", "total_refunded", "refunded"),
}
_WEAK = ("approved", "delivered", "shipped", "estimated", "updated", "modified", "carrier", "limit", "review", "answer")
#: Words of a column that measures something (Klaviyo's "Historic Customer Lifetime Value", Shopify's "Total
#: Orders"): such a column mentions an entity without being its key.
_MEASURE = (
    "lifetime",
    "value",
    "total",
    "spent",
    "number_of",
    "count",
    "amount",
    "average",
    "avg",
    "predicted",
    "expected",
    "probability",
)


def is_measure(column: str) -> bool:
    """Whether the column's name says it measures something (a total, a count, a value), not names a key."""
    col = normalize_name(column)
    return any(w in col for w in _MEASURE)


@dataclass
class ColumnProfile:
    """Shares of a column's non-empty sampled values that look like each kind of value."""

    name: str
    n: int = 0
    non_empty: int = 0
    distinct: int = 0
    timestamp: float = 0.0
    number: float = 0.0
    whole: float = 0.0
    non_negative: float = 0.0
    email: float = 0.0
    boolean: float = 0.0
    examples: list[str] = field(default_factory=list)
    date_formats: list[str] = field(default_factory=list)
    #: shares of values that are digits with a leading zero (a postcode, a phone number: a code, not a number)
    #: and of values starting with an apostrophe (Excel's "keep as text" mark, as in Shopify's exports)
    leading_zero: float = 0.0
    apostrophe: float = 0.0

    @property
    def distinct_ratio(self) -> float:
        return self.distinct / self.non_empty if self.non_empty else 0.0

    def fits(self, fld: Field) -> bool:
        """Whether the values can fill ``fld`` (the content test; names are not looked at)."""
        if self.non_empty == 0:
            return False
        if fld.type == "timestamp":
            return self.timestamp >= 0.9 or bool(self.date_formats)
        if fld.type == "int":
            return self.whole >= 0.95 and (fld.name != "quantity" or self.non_negative >= 0.9)
        if fld.type == "double":
            return self.number >= 0.95 and (fld.name != "unit_price" or self.non_negative >= 0.95)
        if fld.type == "bool":
            return self.boolean >= 0.95
        if fld.name == "email":
            return self.email >= 0.8
        if fld.type == "id":  # a key is text or a whole number, never an amount like 174.25
            amounts = self.number >= 0.95 and self.whole < 0.95
            return self.timestamp < 0.5 and not amounts and (self.whole < 0.95 or self.distinct_ratio > 0.01)
        return self.timestamp < 0.5 and self.number < 0.95 and self.email < 0.5


_NUMBER, _TIME = Field("value", "double"), Field("value", "timestamp")


def _comma_number(col: str) -> str:
    """``col`` as a file with ``decimal: ","`` reads its numbers (:func:`shopseg.io.derivations.typed`)."""
    from shopseg.io.derivations import typed
    from shopseg.io.spec import FileOptions

    return typed("double", col, FileOptions(decimal=","))


def _share(total: int, k: int) -> float:
    return k / total if total else 0.0


def profile_columns(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    columns: list[str],
    sample: int = SAMPLE_ROWS,
    *,
    decimal_comma: bool = False,
) -> dict[str, ColumnProfile]:
    """Profile ``columns`` of ``relation`` on its first ``sample`` rows (one query per column); with
    ``decimal_comma`` numbers are read as the file's ``decimal: ","`` reads them ('1.234,50')."""
    out: dict[str, ColumnProfile] = {}
    # values as ingest parses them (columns.parse_sql): money with a currency sign and thousands commas,
    # timestamps with an offset ('2024-03-04 17:07:12 -0500', as Shopify and Squarespace write them)
    number, ts = parse_sql(_NUMBER, "n", "VARCHAR")[0], parse_sql(_TIME, "v", "VARCHAR")[0]
    text = _comma_number("v") if decimal_comma else "v"
    for col in columns:
        v = f"nullif(trim(CAST({quote(col)} AS VARCHAR)), '')"
        row = con.execute(
            f"""SELECT count(*), count(v), count(DISTINCT v),
                count(*) FILTER (WHERE t IS NOT NULL AND NOT regexp_full_match(v, '-?[0-9.]+')),
                count(d), count(*) FILTER (WHERE d = round(d)),
                count(*) FILTER (WHERE d >= 0), count(*) FILTER (WHERE regexp_full_match(v, '{_EMAIL}')),
                count(*) FILTER (WHERE lower(v) IN {_BOOL}), list(DISTINCT v)[1:5],
                list(v) FILTER (WHERE regexp_full_match(v, '\\s*\\d{{1,2}}[/.-]\\d{{1,2}}[/.-]\\d{{2,4}}.*')
                                OR regexp_full_match(v, '\\s*[A-Za-z]{{3,9}}\\.?[ -]\\d{{1,2}}(,? |-)\\d{{2,4}}.*'))[1:500],
                count(*) FILTER (WHERE regexp_full_match(v, '0[0-9]+')), count(*) FILTER (WHERE starts_with(v, ''''))
            FROM (SELECT v, {number} AS d, {ts} AS t
                  FROM (SELECT v, {text} AS n FROM (SELECT {v} AS v FROM {relation} LIMIT {int(sample)})))"""
        ).fetchone()
        assert row is not None
        n, nn = int(row[0]), int(row[1])
        prof = ColumnProfile(
            col,
            n,
            nn,
            int(row[2]),
            _share(nn, row[3]),
            _share(nn, row[4]),
            _share(nn, row[5]),
            _share(nn, row[6]),
            _share(nn, row[7]),
            _share(nn, row[8]),
            [str(x) for x in row[9] or []],
        )
        prof.leading_zero, prof.apostrophe = _share(nn, row[11]), _share(nn, row[12])
        slashed = [str(x) for x in row[10] or []]
        if nn and len(slashed) >= 0.9 * min(nn, 500):
            prof.date_formats = infer_date_formats(slashed)
        out[col] = prof
    return out


def infer_date_formats(values: list[str]) -> list[str]:
    """strptime formats that read every ``d/m/y``-style value; two when day and month cannot be told apart.

    Examples
    --------
    >>> infer_date_formats(["1/14/2018 9:05", "12/3/2018 10:00"])
    ['%m/%d/%Y %H:%M']
    >>> infer_date_formats(["14/1/2018"])
    ['%d/%m/%Y']
    >>> infer_date_formats(["1/2/2018", "3/4/2018"])
    ['%d/%m/%Y', '%m/%d/%Y']
    >>> infer_date_formats(["03/04/2024 5:07 PM", "03/14/2024 11:30 AM"])
    ['%m/%d/%Y %I:%M %p']
    >>> infer_date_formats(["Mar 4, 2024 5:07:12 PM", "Sep 15, 2024 9:00:00 AM"])
    ['%b %d, %Y %I:%M:%S %p']
    >>> infer_date_formats(["Mar-04-24", "Dec-31-23"])
    ['%b-%d-%y']
    """
    if values and all(_NAMED.match(v) for v in values):
        return _named_format(values)
    dashed = [_NAMED_DASH.match(v) for v in values]
    if values and all(m and m.group(1).lower() in _MONTHS for m in dashed):
        return ["%b-%d-%Y" if all(m and len(m.group(3)) == 4 for m in dashed) else "%b-%d-%y"]
    first = second = 0
    sep, year4, clock = "/", True, ""
    for value in values:
        m = _SLASH.match(value)
        if not m:
            return []
        first, second = max(first, int(m.group(1))), max(second, int(m.group(3)))
        sep, year4 = m.group(2), len(m.group(4)) == 4
        if m.group(5) is not None:
            clock = " %H:%M:%S" if m.group(7) is not None else " %H:%M"
            clock = clock.replace("%H", "%I") + " %p" if m.group(8) else clock
    if first > 12 and second > 12:
        return []
    year = "%Y" if year4 else "%y"
    day_first, month_first = f"%d{sep}%m{sep}{year}{clock}", f"%m{sep}%d{sep}{year}{clock}"
    if first > 12:
        return [day_first]
    if second > 12:
        return [month_first]
    return [day_first, month_first]


def _named_format(values: list[str]) -> list[str]:
    """The format of month-name dates (``_NAMED``), or none when a name is not a month."""
    months, clock = "%b", ""
    for value in values:
        m = _NAMED.match(value)
        assert m is not None
        name = m.group(1).lower()
        if name[:3] not in _MONTHS:
            return []
        months = "%B" if len(name) > 3 and name != "sept" else months
        if m.group(4) is not None:
            clock = " %I" if m.group(7) else " %H"
            clock += ":%M:%S" if m.group(6) is not None else ":%M"
            clock += " %p" if m.group(7) else ""
    return [f"{months} %d, %Y{clock}"]


#: Words that say a column is not the field although it names it: "Shipping Cost" and "Amount Refunded" are
#: money, but not a line's unit price; "Refunded Quantity" is not what was bought.
_NOT = {
    "unit_price": ("shipping", "tax_total", "taxes", "refund", "discount", "compare"),
    "quantity": ("refund",),
    "product_id": ("quantity", "qty", "price"),
    "customer_id": ("billing", "shipping", "bill_to", "ship_to"),  # Wix's "Billing customer" is a name
    "product_name": ("customer", "bill", "ship", "first", "last", "full"),
    "category": ("channel", "payment", "event", "order", "customer", "device"),
}
#: Names that say a little (0.55: enough for a required field with nothing better, never over a real name):
#: an order-level export's total is the only price it has (BigCommerce's "Order Total (inc tax)").
_FALLBACK = {"unit_price": ("subtotal", "total")}  # the first wins a tie: a subtotal leaves shipping and taxes out


def _synonym_hit(words: tuple[str, ...], col: str) -> float:
    """1 for the whole name, 0.8 for whole words of it ('lineitem_quantity' has 'quantity'), 0.6 for a part
    of a word only ('lineitem' holds 'item'; 'discount' holds 'count', which says nothing)."""
    tokens = f"_{col}_"
    return max((1.0 if col == w else 0.8 if f"_{w}_" in tokens else 0.6 for w in words if w in col), default=0.0)


def name_score(field_name: str, column: str) -> float:
    """How much ``column``'s name says it holds ``field_name`` (1: the name or a synonym; < 0.5: little)."""
    col = normalize_name(column)
    base = difflib.SequenceMatcher(None, field_name, col).ratio()
    hit = _synonym_hit(SYNONYMS.get(field_name, ()), col)
    if hit == 0:  # a whole word of _FALLBACK's, the first of them scoring highest
        weak_names = enumerate(_FALLBACK.get(field_name, ()))
        hit = next((0.56 - 0.01 * i for i, w in weak_names if f"_{w}_" in f"_{col}_"), 0.0)
    key = field_name.endswith("_id")
    weak = 0.5 if any(w in col for w in _WEAK) or (key and (is_measure(column) or "name" in col)) else 0.0
    weak += 0.5 if any(w in col for w in _NOT.get(field_name, ())) else 0.0
    if key and (col == "id" or col.endswith("_id")):  # a key column ("Klaviyo ID") beats a look-alike name
        base = max(base, 0.6)
    return max(base, hit) - weak


def rank_candidates(
    fld: Field, profiles: dict[str, ColumnProfile], limit: int = 3, others: tuple[str, ...] = ()
) -> list[str]:
    """Columns whose values fit ``fld``, best name first; never a column that cannot fit, nor one whose
    name plainly is another field of ``others`` (``order_id`` is never offered as ``customer_id``)."""
    fitting = []
    for p in profiles.values():
        if not p.fits(fld) or any(name_score(o, p.name) >= 0.99 for o in others if o != fld.name):
            continue
        fitting.append((p.name, name_score(fld.name, p.name)))
    fitting.sort(key=lambda t: -t[1])
    return [name for name, score in fitting[:limit] if score > 0.3]


def guess_field(kind: str, profile: ColumnProfile, taken: Set[str] = frozenset()) -> str | None:
    """The canonical field of ``kind`` an unmapped column looks like, if any clearly."""
    best, best_score = None, 0.55
    for fld in INPUTS[kind]:
        if fld.name in taken or not profile.fits(fld):
            continue
        score = name_score(fld.name, profile.name)
        if score > best_score:
            best, best_score = fld.name, score
    return best
