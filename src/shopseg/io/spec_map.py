"""A spec's ``map`` as SQL: one expression per canonical column over the joined source rows, and its filters.

Applies each file's options (decimal comma, date format, time zone) and
constants; date formats left open are inferred from the values. Used by
:mod:`shopseg.io.assemble`, which reads the files (:class:`LoadedFile`) and joins them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from shopseg.io._read import literal, quote
from shopseg.io.columns import INPUTS, normalize_name
from shopseg.io.profile import profile_columns
from shopseg.io.spec import Column, Concat, Const, FileOptions, TableSpec

__all__ = ["LoadedFile", "filter_sql", "infer_date_formats", "map_columns", "src_column"]


_TS_OUT = "'%Y-%m-%d %H:%M:%S.%f'"


@dataclass
class LoadedFile:
    name: str
    path: Path
    table: str
    columns: list[str]
    offset: int
    base: int
    rows: int
    options: FileOptions


def src_column(hit: tuple[LoadedFile, str]) -> str:
    """A column of ``_shopseg_src`` (named ``file.column``)."""
    return quote(f"{hit[0].name}.{hit[1]}")


def map_columns(kind, table, ref, main, where):  # type: ignore[no-untyped-def]
    """Canonical column -> SQL over ``_shopseg_src``, where each came from, and the constants."""
    fields = {f.name: f for f in INPUTS[kind]}
    exprs: dict[str, str] = {}
    origins: dict[str, str] = {}
    constants: dict[str, str] = {}
    for name, src in table.map.items():
        at = f"{where}.map.{name}"
        if isinstance(src, Const):
            value = str(src.const).lower() if isinstance(src.const, bool) else str(src.const)
            exprs[name], origins[name], constants[name] = literal(value), f"constant {value!r}", value
        elif isinstance(src, Concat):
            hits = [ref(c, at) for c in src.concat]
            if all(hits):
                parts = ", ".join(f"nullif(trim(CAST({src_column(h)} AS VARCHAR)), '')" for h in hits)
                exprs[name] = f"nullif(concat_ws({literal(src.sep)}, {parts}), '')"
                origins[name] = "concat(" + ", ".join(f"{h[0].name}.{h[1]}" for h in hits) + ")"
        elif isinstance(src, Column):
            hit = ref(src.column, at)
            over = ref(src.divide_by, f"{at}.divide_by") if src.divide_by else None
            if hit and over:
                num, den = (_typed("double", src_column(h), h[0].options) for h in (hit, over))
                exprs[name] = f"CAST(TRY_CAST({num} AS DOUBLE) / nullif(TRY_CAST({den} AS DOUBLE), 0) AS VARCHAR)"
                origins[name] = f"{hit[0].name}.{hit[1]} / {over[0].name}.{over[1]}"
            elif hit and not src.divide_by:
                exprs[name] = _derived(src, _typed(fields[name].type, src_column(hit), hit[0].options))
                origins[name] = f"{hit[0].name}.{hit[1]}" + _derivation_text(src)
        else:
            hit = ref(src, at)
            if hit:
                exprs[name] = _typed(fields[name].type, src_column(hit), hit[0].options)
                origins[name] = f"{hit[0].name}.{hit[1]}"
    # same-name columns (case, spaces and dashes ignored) fill what the map leaves out, from-file first
    for name, fld in fields.items():
        if name in exprs or name in table.map:
            continue
        hit = _same_name(name, main)
        if hit:
            exprs[name] = _typed(fld.type, src_column(hit), hit[0].options)
            origins[name] = f"{hit[0].name}.{hit[1]} (same name)"
    if "currency" in fields and "currency" not in exprs and main.options.currency:
        exprs["currency"] = literal(main.options.currency)
        origins["currency"] = constants["currency"] = main.options.currency
        origins["currency"] = f"constant {main.options.currency!r} (files' currency option)"
    return exprs, origins, constants


def _same_name(name: str, main: LoadedFile) -> tuple[LoadedFile, str] | None:
    """A column of the from file named like ``name`` (joined files hold other tables' columns: not looked at)."""
    norm = normalize_name(name)
    return next(((main, c) for c in main.columns if normalize_name(c) == norm), None)


def infer_date_formats(
    con: duckdb.DuckDBPyConnection,
    kind: str,
    table: TableSpec,
    exprs: dict[str, str],
    origins: dict[str, str],
    scope: list[LoadedFile],
) -> None:
    """Read non-ISO dates of files without a date_format by the format their values show (1/14/2018: m/d)."""
    by_name = {f.name: f for f in scope}
    for fld in INPUTS[kind]:
        origin = origins.get(fld.name, "")
        file, _, col = origin.removesuffix(" (same name)").partition(".")
        if fld.type != "timestamp" or file not in by_name or col not in by_name[file].columns:
            continue
        loaded = by_name[file]
        if loaded.options.date_format:
            continue
        prof = profile_columns(con, loaded.table, [col])[col]
        if prof.timestamp < 0.9 and len(prof.date_formats) == 1:
            fmt = prof.date_formats[0]
            exprs[fld.name] = _typed(
                "timestamp", src_column((loaded, col)), loaded.options.model_copy(update={"date_format": fmt})
            )
            origins[fld.name] = f"{origin} (dates read as {fmt})"


def _derived(src: Column, value: str) -> str:
    text = f"nullif(trim(CAST({value} AS VARCHAR)), '')"
    if src.lower:
        text = f"lower({text})"
    if src.equals is not None:
        return f"CASE WHEN {text} = {literal(src.equals)} THEN 'true' ELSE 'false' END"
    if src.in_ is not None:
        return f"CASE WHEN {text} IN ({', '.join(literal(v) for v in src.in_)}) THEN 'true' ELSE 'false' END"
    if src.not_empty:
        return f"CASE WHEN {text} IS NOT NULL THEN 'true' ELSE 'false' END"
    if src.prefix:
        text = f"{literal(src.prefix)} || {text}"
    return text


def _derivation_text(src: Column) -> str:
    said = [k for k in ("lower", "prefix", "equals", "in_", "not_empty") if getattr(src, k) not in (None, False)]
    return f" ({', '.join(k.rstrip('_') for k in said)})" if said else ""


def _typed(kind: str, col: str, options: FileOptions) -> str:
    """The source column as the text the canonical parser reads, after the file's options."""
    text = f"nullif(trim(CAST({col} AS VARCHAR)), '')"
    if kind in ("int", "double") and options.decimal == ",":
        return f"replace(replace(replace({text}, ' ', ''), '.', ''), ',', '.')"
    if kind == "timestamp" and (options.date_format or options.timezone not in (None, "UTC", "Etc/UTC")):
        parsed = (
            f"try_strptime({text}, {literal(options.date_format)})"
            if options.date_format
            else f"TRY_CAST({text} AS TIMESTAMP)"
        )
        if options.timezone not in (None, "UTC", "Etc/UTC"):
            parsed = f"timezone('UTC', timezone({literal(options.timezone)}, {parsed}))"
        return f"coalesce(strftime({parsed}, {_TS_OUT}), {text})"
    return col


def filter_sql(value: str, flt) -> str:  # type: ignore[no-untyped-def]
    def lit(v: object) -> str:
        return literal(str(v).lower() if isinstance(v, bool) else str(v))

    if flt.equals is not None:
        return f"coalesce({value} = {lit(flt.equals)}, false)"
    if flt.in_ is not None:
        return f"coalesce({value} IN ({', '.join(lit(v) for v in flt.in_)}), false)"
    if flt.not_in is not None:
        return f"coalesce({value} NOT IN ({', '.join(lit(v) for v in flt.not_in)}), true)"
    return f"{value} IS NOT NULL"
