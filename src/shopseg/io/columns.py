"""Canonical input columns of each ingest kind, how they are found, and how they are parsed.

Every kind reads a flat set of *input* columns (orders also carry product and
customer fields that are spread over several canonical tables). A column is
found, in order, from ``mapping`` (canonical -> source column), the preset's
SQL expression, or a source column of the same name (case, spaces and dashes
ignored). All problems are collected and raised as one :class:`SchemaError`.

Parsing is SQL only: each input column becomes a typed value plus a boolean
``_bad_<name>`` that is true when the source held something that could not be
parsed (an empty cell is missing, not bad).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from shopseg._sql import quote
from shopseg.errors import InvalidParameterError, SchemaError, did_you_mean
from shopseg.io._read import Source
from shopseg.schema import TABLES

__all__ = [
    "normalize_name",
    "shown_list",
    "Field",
    "INPUTS",
    "KINDS",
    "Resolved",
    "resolve_columns",
    "parse_sql",
    "decimal_comma",
]


@dataclass(frozen=True)
class Field:
    """An input column: canonical name, parse type and whether the kind requires it.

    ``type`` is one of ``id``, ``text``, ``timestamp``, ``int``, ``double``, ``bool``, ``json``.
    """

    name: str
    type: str
    required: bool = False


def _from_table(table: str) -> tuple[Field, ...]:
    types = {"VARCHAR": "text", "TIMESTAMP": "timestamp", "INTEGER": "int", "BIGINT": "int", "DOUBLE": "double"}
    out = []
    for col in TABLES[table].columns:
        kind = types.get(col.sql_type, "bool" if col.sql_type == "BOOLEAN" else "text")
        if col.name.endswith("_id"):
            kind = "id"
        if col.name in ("properties", "attributes"):
            kind = "json"
        out.append(Field(col.name, kind, col.required))
    return tuple(out)


_ORDER_INPUTS = (
    Field("order_id", "id", True),
    Field("customer_id", "id", True),
    Field("ordered_at", "timestamp", True),
    Field("product_id", "id", True),
    Field("quantity", "int", True),
    Field("unit_price", "double", True),
    Field("discount", "double"),
    Field("line_number", "int"),
    Field("is_return", "bool"),
    Field("is_cancelled", "bool"),
    Field("is_refunded", "bool"),
    Field("refunded_amount", "double"),
    Field("channel", "text"),
    Field("region", "text"),
    Field("country", "text"),
    Field("currency", "text"),
    Field("product_name", "text"),
    Field("category", "text"),
    Field("brand", "text"),
    Field("email", "text"),
)

INPUTS: dict[str, tuple[Field, ...]] = {
    "customers": _from_table("customers"),
    "orders": _ORDER_INPUTS,
    "products": _from_table("products"),
    "events": _from_table("events"),
    "survey_answers": _from_table("survey_answers"),
}
KINDS = tuple(INPUTS)


@dataclass
class Resolved:
    """Where each input column of an ingest comes from: a SQL expression over the source."""

    exprs: dict[str, str]


def normalize_name(name: str) -> str:
    """A column name compared ignoring case, spaces and punctuation (``Customer ID`` ~ ``customer_id``)."""
    return re.sub(r"[^0-9a-z]+", "_", name.strip().lower()).strip("_")


def resolve_columns(
    kind: str,
    source: Source,
    mapping: dict[str, str],
    preset_exprs: dict[str, tuple[str, tuple[str, ...]]],
    preset_name: str | None = None,
    candidates: Callable[[Field], list[str]] | None = None,
) -> Resolved:
    """Find the source of every input column of ``kind``; raise once listing every problem.

    ``candidates`` gives, for a missing required field, the columns whose values fit
    it (:mod:`shopseg.io.profile`); without it the suggestion goes by name only.

    Raises
    ------
    InvalidParameterError
        ``mapping`` names a canonical column ``kind`` does not have.
    SchemaError
        A mapped column is not in the file, or a required column is missing.
    """
    fields = {f.name: f for f in INPUTS[kind]}
    unknown = [c for c in mapping if c not in fields]
    if unknown:
        hints = "".join(did_you_mean(c, fields) for c in unknown)
        raise InvalidParameterError(
            f"--map: {unknown} {'is not a' if len(unknown) == 1 else 'are not'} canonical column"
            f"{'' if len(unknown) == 1 else 's'} of {kind}. Expected some of {list(fields)}.{hints}"
        )
    cols = [c for c in source.columns if c != "_n_fields"]
    by_norm = {normalize_name(c): c for c in cols}
    exprs: dict[str, str] = {}
    problems: list[str] = []
    first_column: str | None = None
    for name, fld in fields.items():
        if name in mapping:
            target = mapping[name]
            found = target if target in cols else by_norm.get(normalize_name(target))
            if found is None:
                problems.append(
                    f"--map {name}={target}: column '{target}' is not in the file; found {shown_list(cols)}."
                    f"{did_you_mean(target, cols)}"
                )
                first_column = first_column or name
                continue
            exprs[name] = quote(found)
        elif name in preset_exprs:
            expr, needs = preset_exprs[name]
            absent = [n for n in needs if n not in source.columns]
            if not absent:
                exprs[name] = expr
            elif fld.required:
                problems.append(
                    f"preset '{preset_name}' needs column{'s' if len(absent) > 1 else ''} {absent} for "
                    f"'{name}', but the file has {shown_list(cols)}.{did_you_mean(absent[0], cols)}"
                )
                first_column = first_column or name
        elif normalize_name(name) in by_norm:
            found = by_norm[normalize_name(name)]
            exprs[name] = quote(found)
        elif fld.required:
            problems.append(_missing_message(fld, cols, candidates))
            first_column = first_column or name
    if problems:
        raise SchemaError(f"{source.name}: " + " ".join(problems), table=source.name, column=first_column)
    return Resolved(exprs=exprs)


TYPE_NAMES = {
    "id": "an id",
    "text": "a text",
    "timestamp": "a timestamp",
    "int": "a whole number",
    "double": "a non-negative number",
    "bool": "a true/false value",
    "json": "a JSON value",
}


def _map_arg(name: str, column: str) -> str:
    """``--map name=column`` as a shell takes it: quoted when the column has a space or a shell character
    (``--map 'ordered_at=Order Date'``, ``--map 'order_id=Order #'``), so the hint can be pasted."""
    import shlex

    return f"--map {shlex.quote(f'{name}={column}')}" if column != "<column>" else f"--map {name}=<column>"


def _missing_message(fld: Field, cols: list[str], candidates: Callable[[Field], list[str]] | None) -> str:
    name = fld.name
    head = f"required column '{name}' is missing; found {shown_list(cols)}."
    if candidates is None:
        guess = did_you_mean(name, cols)
        fix = guess[len(" Did you mean '") : -2] if guess else "<column>"
        return f"{head}{guess} Map it with {_map_arg(name, fix)}."
    ranked = candidates(fld)
    if len(ranked) == 1:
        return f"{head} Did you mean '{ranked[0]}'? Map it with {_map_arg(name, ranked[0])}."
    what = TYPE_NAMES[fld.type]
    if ranked:
        return f"{head} Columns whose values fit {what}: {ranked}. Map one with {_map_arg(name, ranked[0])}."
    where = (
        (
            " If the key is in another file, describe the store with an import spec (shopseg ingest "
            "--write-spec) and join it."
        )
        if fld.type == "id"
        else ""
    )
    return (
        f"{head} No column's values fit {what}. Set one value for every row with --const "
        f"{name}=VALUE if the store has none.{where}"
    )


def shown_list(cols: list[str], limit: int = 15) -> str:
    """``cols`` for a message: the first ``limit`` of them and how many more."""
    if len(cols) <= limit:
        return str(cols)
    return str(cols[:limit])[:-1] + f", ... {len(cols) - limit} more]"


_NUMERIC = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT")
_FLOATS = ("FLOAT", "DOUBLE", "REAL")

_TS_NAIVE = "coalesce(TRY_CAST({s} AS TIMESTAMP), try_strptime({s}, '%Y%m%d'))"
# Normalise offsets DuckDB does not cast ("-0500", "+02", a time without seconds) to "-05:00", "+02:00", "HH:MM:00".
_TS_OFFSET = "make_timestamp(epoch_us(TRY_CAST({norm} AS TIMESTAMPTZ)))".format(
    norm=r"regexp_replace(regexp_replace(regexp_replace({s}, '\s*([+-]\d{{2}}):?(\d{{2}})$', '\1:\2'), "
    r"'\s*([+-]\d{{2}})$', '\1:00'), '([T ]\d{{1,2}}:\d{{2}})(\s*(?:[+-]|Z))', '\1:00\2')"
)
# An offset or Z after the date part (cheap string tests; the regexp only runs on those rows).
_HAS_OFFSET = "(suffix({s}, 'Z') OR contains(substr({s}, 11), '+') OR contains(substr({s}, 11), '-'))"


#: A currency sign before (after a minus) or after a number: '$4.50', '-$1.00', '12,50 €' (after --decimal ',').
SIGNS = "[$€£¥₹]"
#: Order fields that hold money: a file whose values carry two currency signs is refused (shopseg.io.orders).
MONEY = ("unit_price", "discount", "refunded_amount")


def _money_text(txt: str) -> str:
    """SQL of a number as shops export money, made plain: a currency sign at either end dropped, and commas
    dropped where they can only group thousands (``1,234.50``: commas, then a decimal point). A value that
    is plain already never gets here (the caller tries it first); ``1,234`` alone stays ambiguous (a
    decimal comma?) and does not parse."""
    bare = rf"regexp_replace(regexp_replace({txt}, '^(-?)\s*{SIGNS}\s*', '\1'), '\s*{SIGNS}$', '')"
    return rf"CASE WHEN regexp_full_match({bare}, '-?\d{{1,3}}(,\d{{3}})+\.\d+') THEN replace({bare}, ',', '') ELSE {bare} END"


def parse_sql(field: Field, col: str, source_type: str, date_format: str | None = None) -> tuple[str, bool]:
    """SQL for the parsed value of input column ``col`` (already trimmed), and whether parsing can fail.

    A value can fail when the source held text that does not parse: the caller flags
    ``source IS NOT NULL AND parsed IS NULL`` (an empty cell is missing, not bad).
    """
    c = quote(col)
    t = source_type.upper()
    is_int = t in _NUMERIC
    is_float = t in _FLOATS or t.startswith("DECIMAL")
    txt = c if t == "VARCHAR" else f"CAST({c} AS VARCHAR)"
    if field.type == "id":
        if is_float:
            return (
                f"CASE WHEN {c} = floor({c}) THEN CAST(CAST({c} AS BIGINT) AS VARCHAR) ELSE CAST({c} AS VARCHAR) END",
                False,
            )
        return txt, False
    if field.type == "text":
        return txt, False
    if field.type == "int":
        if is_int:  # unsigned and 128-bit values beyond BIGINT are unparsable, not an error of the reader
            return f"TRY_CAST({c} AS BIGINT)", t in ("HUGEINT", "UBIGINT")
        num = c if is_float else f"TRY_CAST({txt} AS DOUBLE)"
        parsed = f"CASE WHEN {num} = round({num}) AND abs({num}) < 1e15 THEN CAST({num} AS BIGINT) END"
        return parsed, True
    if field.type == "double":
        if is_int or is_float:
            return f"CAST({c} AS DOUBLE)", False
        # CASE, not coalesce: the money reading (two regexps) runs only on values that are not plain numbers
        # (coalesce evaluated it for every row: 0.84 s against 0.12 s for 5M values)
        plain = f"TRY_CAST({txt} AS DOUBLE)"
        return f"CASE WHEN {plain} IS NULL THEN TRY_CAST({_money_text(txt)} AS DOUBLE) ELSE {plain} END", True
    if field.type == "bool":
        if t == "BOOLEAN":
            return c, False
        low = f"lower({txt})"
        parsed = (
            f"CASE WHEN {low} IN ('true', 't', 'yes', 'y', '1') THEN true "
            f"WHEN {low} IN ('false', 'f', 'no', 'n', '0') THEN false END"
        )
        return parsed, True
    if field.type == "timestamp":
        if t == "TIMESTAMP" or t.startswith("TIMESTAMP_") or t == "DATE":
            return f"CAST({c} AS TIMESTAMP)", False
        if t == "TIMESTAMP WITH TIME ZONE":
            return f"make_timestamp(epoch_us({c}))", False
        if date_format:
            parsed = f"make_timestamp(epoch_us(try_strptime({txt}, '{date_format.replace(chr(39), chr(39) * 2)}')))"
        else:
            parsed = (
                f"CASE WHEN {_HAS_OFFSET.format(s=txt)} THEN {_TS_OFFSET.format(s=txt)} "
                f"ELSE {_TS_NAIVE.format(s=txt)} END"
            )
        return parsed, True
    if field.type == "json":
        if t.startswith(("STRUCT", "MAP", "JSON")) or t.endswith("[]"):
            return f"CAST(to_json({c}) AS VARCHAR)", False
        return f"CASE WHEN json_valid({txt}) THEN {txt} END", True
    raise AssertionError(field.type)


def text_sql(expr: str, source_type: str, *, trim: bool = True) -> str:
    """Trim text and turn empty strings into NULL; typed columns pass through.

    ``trim=False`` for a text column known to have no value that trimming changes
    (:func:`shopseg.io.stage.stage_rows` finds out in one pass over a Parquet file).
    """
    t = source_type.upper()
    if t == "VARCHAR":
        return f"nullif(trim({expr}), '')" if trim else f"nullif({expr}, '')"
    if t == "JSON_TEXT":  # a JSON scalar: strings lose their quotes
        return f"nullif(trim(json_extract_string({expr}, '$')), '')"
    return expr


def decimal_comma(kind: str, source: Source, resolved: Resolved) -> None:
    """Read the numbers of text columns with a decimal comma: ``1.234,50`` and ``1 234,50`` are 1234.5 (dots
    and spaces group thousands), as an import spec's ``decimal: ","`` reads them. Typed columns (Parquet's
    numbers) are numbers already and are left alone."""
    from shopseg.io.derivations import typed
    from shopseg.io.spec import FileOptions

    numeric = {f.name for f in INPUTS[kind] if f.type in ("int", "double")}
    text = {quote(c) for c, t in source.columns.items() if t == "VARCHAR"}
    for name, expr in resolved.exprs.items():
        if name in numeric and expr in text:
            resolved.exprs[name] = typed("double", expr, FileOptions(decimal=","))
