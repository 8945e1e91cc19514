"""How a spec table's canonical columns are read, and what is left unmapped.

:func:`map_columns` turns a table's ``map`` into one SQL expression per
canonical column over ``_shopseg_src`` (columns named ``file.column``),
applying each file's options and constants, and fills what the map leaves out
from same-name columns; :func:`infer_date_formats` reads non-ISO dates by the
format their values show. :func:`missing_columns` words the required columns
nothing maps, with candidates whose values fit, and :func:`describe_unmapped`
lists the columns no canonical column reads (customers keep them as typed
custom attributes).
"""

from __future__ import annotations

import duckdb

from shopseg._sql import literal, quote
from shopseg.io.columns import INPUTS, TYPE_NAMES, normalize_name
from shopseg.io.derivations import Compiler, Const, description, typed
from shopseg.io.profile import ColumnProfile, guess_field, profile_columns, rank_candidates
from shopseg.io.spec import FileOptions, TableSpec
from shopseg.io.spec_files import LoadedFile

__all__ = ["map_columns", "infer_date_formats", "missing_columns", "describe_unmapped"]


def missing_columns(
    con: duckdb.DuckDBPyConnection, kind: str, missing: list, scope: list[LoadedFile], where: str
) -> list[str]:
    """One problem per missing required column, with candidates whose values fit it."""
    out = []
    profiles: dict[str, ColumnProfile] = {}
    for i, f in enumerate(scope):
        for name, prof in profile_columns(con, f.table, f.columns).items():
            prof.name = name if i == 0 else f"{f.name}.{name}"
            profiles[prof.name] = prof
    for fld in missing:
        ranked = rank_candidates(fld, profiles, others=tuple(f.name for f in INPUTS[kind]))
        hint = (
            f" Candidates whose values fit: {ranked}; e.g. map: {{{fld.name}: {ranked[0]}}}."
            if ranked
            else f" No column's values fit {TYPE_NAMES[fld.type]}; set a constant ({{{fld.name}: {{const: ...}}}}) if the "
            "store has one value for all rows."
        )
        out.append(f"{where}.map: required column '{fld.name}' is not mapped and no column of that name exists.{hint}")
    return out


def _src(hit: tuple[LoadedFile, str]) -> str:
    """A column of ``_shopseg_src`` (named ``file.column``)."""
    return quote(f"{hit[0].name}.{hit[1]}")


def map_columns(kind, table, ref, main, where):
    """Canonical column -> SQL over ``_shopseg_src``, where each came from, the constants, and the marks."""
    fields = {f.name: f for f in INPUTS[kind]}
    exprs: dict[str, str] = {}
    origins: dict[str, str] = {}
    constants: dict[str, str] = {}
    used: list[str] = []

    def resolve(name: str, at: str) -> tuple[str, FileOptions] | None:
        hit = ref(name, at)
        if hit is None:
            return None
        used.append(f"{hit[0].name}.{hit[1]}")
        return _src(hit), hit[0].options

    compiler = Compiler(resolve, "_file_row")
    for name, src in table.map.items():
        used.clear()
        sql = compiler.value(src, fields[name].type, f"{where}.map.{name}")
        if sql is None:
            continue
        exprs[name] = sql
        if isinstance(src, Const):
            value = sql[1:-1].replace("''", "'")
            origins[name], constants[name] = f"constant {value!r}", value
        elif isinstance(src, str):
            origins[name] = used[0]
        elif getattr(src, "divide_by", None):
            origins[name] = " / ".join(used)
        elif getattr(src, "minus", None):
            origins[name] = " - ".join(used)
        elif len(used) == 1 and not hasattr(src, "concat"):
            origins[name] = used[0] + description(src)
        else:
            origins[name] = f"{next(iter(type(src).model_fields))}(" + ", ".join(used) + ")"
    # same-name columns (case, spaces and dashes ignored) fill what the map leaves out, from-file first
    for name, fld in fields.items():
        if name in exprs or name in table.map:
            continue
        hit = _same_name(name, main)
        if hit:
            exprs[name] = typed(fld.type, _src(hit), hit[0].options)
            origins[name] = f"{hit[0].name}.{hit[1]} (same name)"
    if "currency" in fields and "currency" not in exprs and main.options.currency:
        exprs["currency"] = literal(main.options.currency)
        constants["currency"] = main.options.currency
        origins["currency"] = f"constant {main.options.currency!r} (files' currency option)"
    marks = []
    for i, mark in enumerate(table.marks):
        test = compiler.test(mark.when, f"{where}.marks[{i}].when")
        if test is not None:
            marks.append((mark.label, test))
    return exprs, origins, constants, marks


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
            exprs[fld.name] = typed(
                "timestamp", _src((loaded, col)), loaded.options.model_copy(update={"date_format": fmt})
            )
            origins[fld.name] = f"{origin} (dates read as {fmt})"


def describe_unmapped(
    con: duckdb.DuckDBPyConnection, kind: str, relation: str, rest: dict[str, str], taken: set[str], keep: bool
) -> tuple[list[tuple[str, str | None]], tuple[str, list[str]] | None]:
    """Unmapped columns (shown name -> column of ``relation``) with the field each looks like, and, with
    ``keep`` and no mapped ``attributes``, the SQL of a typed JSON object holding them (numbers stay numbers,
    true/false stay booleans, the rest is text)."""
    if not rest:
        return [], None
    profiles = profile_columns(con, relation, list(rest.values()), sample=2_000)
    listed = [(shown, guess_field(kind, _renamed(profiles[col], shown), taken)) for shown, col in rest.items()]
    if not keep or "attributes" in taken:
        return listed, None
    parts, names = [], []
    for shown, col in rest.items():
        prof = profiles[col]
        text = f"nullif(trim(CAST({quote(col)} AS VARCHAR)), '')"
        if prof.apostrophe >= 0.99:  # Excel's "keep as text" mark on every value ('10115): not part of it
            text = f"regexp_replace({text}, '^''', '')"
        # a leading zero (02134) makes a code, not a number: it stays text, zero and all
        if prof.number >= 0.99 and prof.boolean < 0.99 and not prof.leading_zero:
            value = f"TRY_CAST({text} AS DOUBLE)"
        elif prof.boolean >= 0.99:
            value = f"CASE WHEN lower({text}) IN ('true', 't', 'yes', 'y', '1') THEN true WHEN {text} IS NOT NULL THEN false END"
        else:
            value = text
        parts.append(f"{quote(normalize_name(shown))} := {value}")
        names.append(normalize_name(shown))
    return listed, (f"CAST(to_json(struct_pack({', '.join(parts)})) AS VARCHAR)", names)


def _renamed(profile: ColumnProfile, name: str) -> ColumnProfile:
    profile.name = name
    return profile
