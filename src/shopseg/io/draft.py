"""Draft an import spec from a store's export files, for the user to check and edit.

Each file is profiled (:mod:`shopseg.io.profile`) and given the table it most
looks like: order lines (an order key, a product key and a price or quantity),
order headers (an order key, a customer key and a time, no product), customers,
products, events or survey answers. Order lines are joined to the order headers
on their shared order key; when the customers file holds the headers' customer
key and a second, person-level key (fewer distinct values, as marketplaces'
``customer_unique_id``), orders map ``customer_id`` to that person key through
the customers file. Date formats are read from the values; an ambiguous
day/month order is written as a comment with both readings. Every guess is a
line the user can see and change; ``--plan`` shows what the spec would load.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import yaml

from shopseg.errors import SchemaError
from shopseg.io.columns import INPUTS
from shopseg.io.draft_orders import assign_orders, plain_name, void_statuses
from shopseg.io.profile import ColumnProfile, is_measure, name_score, profile_columns, rank_candidates
from shopseg.io.spec import ImportSpec, parse_spec
from shopseg.io.spec_files import SpecFiles

__all__ = ["draft_spec"]


@dataclass
class _File:
    name: str
    path: Path
    profiles: dict[str, ColumnProfile]
    rows: int

    def best(self, field_name: str, kind: str = "orders") -> str | None:
        fld = next((f for f in INPUTS[kind] if f.name == field_name), None)
        if fld is None:
            return None
        ranked = rank_candidates(fld, self.profiles, limit=1, others=tuple(f.name for f in INPUTS[kind]))
        return ranked[0] if ranked else None

    def has(self, *words: str) -> str | None:
        return next((c for c in self.profiles if any(w in c.lower() for w in words)), None)


def draft_spec(
    paths: Sequence[str | os.PathLike[str]], spec_path: str | os.PathLike[str], **options: str
) -> tuple[str, list[str]]:
    """YAML text of a spec for ``paths`` (relative to the spec's folder) and notes on what was guessed;
    ``options``: file options every file gets (``encoding="utf-16"``, ``decimal=","``), read and written."""
    spec_dir = Path(spec_path).resolve().parent
    names = _names([Path(p) for p in paths])
    files_doc = {n: {"path": os.path.relpath(Path(p).resolve(), spec_dir), **options} for n, p in names.items()}
    probe = parse_spec({"files": files_doc, "tables": {"customers": {"from": next(iter(names))}}}, base_dir=spec_dir)
    con = duckdb.connect()
    try:
        profiled = _profile_all(con, probe, names)
    finally:
        con.close()
    notes: list[str] = []
    roles = {f.name: _role(f) for f in profiled}
    tables: dict[str, Any] = {}
    formats = sorted(
        {fmt for f in profiled for p in f.profiles.values() if len(p.date_formats) == 1 for fmt in p.date_formats}
    )
    ambiguous = sorted({c for f in profiled for c, p in f.profiles.items() if len(p.date_formats) > 1})
    defaults: dict[str, Any] = {}
    if len(formats) == 1:
        defaults["date_format"] = formats[0]
        named = formats[0].startswith(("%b", "%B"))  # a month's name decides nothing between day and month
        notes.append(f"dates read as {formats[0]}" + ("" if named else " (a day or month above 12 decided it)"))
    if ambiguous:
        notes.append(
            f"columns {ambiguous}: day and month cannot be told apart (no value above 12): set "
            "defaults.date_format to '%d/%m/%Y %H:%M' (day first) or '%m/%d/%Y %H:%M' (month first)"
        )
    by_role = {r: [f for f in profiled if roles[f.name] == r] for r in set(roles.values())}
    lines, headers = by_role.get("order_lines", []), by_role.get("order_headers", [])
    customers = by_role.get("customers", [])
    if customers:
        tables["customers"], person = _customers_table(customers[0], headers, notes)
    else:
        person = None
    for f in by_role.get("products", [])[:1]:
        tables["products"] = {"from": f.name, "map": _mapped(f, "products")}
    if lines or headers:
        tables["orders"] = _orders_table(
            lines[0] if lines else headers[0],
            headers if lines else [],
            customers[0] if customers else None,
            person,
            notes,
        )
    for kind in ("events", "survey_answers"):
        for f in by_role.get(kind, [])[:1]:
            tables[kind] = {"from": f.name, "map": _mapped(f, kind)}
    for f in profiled:
        if roles[f.name] == "unknown" or not any(
            t.get("from") == f.name or f.name in [j["file"] for j in t.get("join", [])] for t in tables.values()
        ):
            notes.append(f"file '{f.name}' ({f.path.name}) is not used: it did not look like a table shopseg loads")
    if not tables:
        seen = "; ".join(f"{f.path.name}: {', '.join(list(f.profiles)[:8])}" for f in profiled)
        raise SchemaError(
            f"no file looked like a table shopseg loads, so there is no spec to draft ({seen}). The draft "
            "recognises files by their column names in English (order/invoice, product/sku, customer, event). "
            "Hint: load the file with its columns named, e.g. `shopseg ingest orders FILE --map order_id=<column> "
            "--map customer_id=<column> ...` (shopseg ingest --help), or write the spec by hand (docs/ingest.md, "
            "'Import specs').",
            table=", ".join(f.path.name for f in profiled),
        )
    doc: dict[str, Any] = {"version": 1}
    if defaults:
        doc["defaults"] = defaults
    doc["files"] = files_doc
    doc["tables"] = tables
    header = (
        "# shopseg import spec, drafted from the files' columns and values. Check every mapping, then\n"
        f"#   shopseg ingest --spec {Path(spec_path).name} --plan     (shows what would load, writes nothing)\n"
        "# Format: docs/ingest.md, 'Import specs'.\n"
    )
    body = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=110)
    comments = "".join(f"# note: {n}\n" for n in notes)
    text = header + comments + body
    parse_spec(yaml.safe_load(body), source=Path(spec_path).name, base_dir=spec_dir)  # the draft is a valid spec
    return text, notes


def _names(paths: list[Path]) -> dict[str, Path]:
    out: dict[str, Path] = {}
    for p in paths:
        stem = p.name.split(".")[0].lower()
        for junk in ("olist_", "_dataset", "_export", "export_"):
            stem = stem.replace(junk, "")
        base, i = "".join(c if c.isalnum() else "_" for c in stem).strip("_") or "file", 2
        name = base
        while name in out:
            name, i = f"{base}{i}", i + 1
        out[name] = p
    return out


def _profile_all(con: duckdb.DuckDBPyConnection, probe: ImportSpec, names: dict[str, Path]) -> list[_File]:
    files = SpecFiles(con, probe)
    out = []
    for name in names:
        loaded = files.get(name)
        comma = probe.options_of(name).decimal == ","
        profiles = profile_columns(con, loaded.table, loaded.columns, decimal_comma=comma)
        out.append(_File(name, loaded.path, profiles, loaded.rows))
    return out


def _role(f: _File) -> str:
    cols = [c.lower() for c in f.profiles if not is_measure(c)]  # "Historic Number Of Orders" names no order
    has_order = any(w in c for c in cols for w in ("order", "invoice", "transaction", "receipt"))
    has_product = any(w in c for c in cols for w in ("product", "sku", "item_id", "stock"))
    has_customer = any(w in c for c in cols for w in ("customer", "client", "user", "buyer"))
    time_col = f.best("ordered_at")
    if has_order and has_product and (f.has("price", "amount", "value") or f.has("qty", "quantity")):
        return "order_lines"
    if has_order and has_customer and time_col and not has_product:
        return "order_headers"
    money = f.has("price", "amount", "total", "sales", "revenue")  # Square's "Event Type" is Payment or Refund
    if f.has("event") and (f.best("occurred_at", "events") or time_col) and not money:
        return "events"
    if time_col and money and (has_customer or f.best("email")) and not has_product:  # Magento's order grid
        return "order_lines"
    if f.has("question") and f.has("answer"):
        return "survey_answers"
    if (has_customer or f.best("email")) and not has_order and not has_product:  # a profile export keyed by e-mail
        return "customers"
    if has_product and not has_order and not has_customer:
        return "products"
    if has_order and has_customer and has_product:
        return "order_lines"
    return "unknown"


def _customers_table(f: _File, headers: list[_File], notes: list[str]) -> tuple[dict[str, Any], str | None]:
    keys = [
        c
        for c, p in f.profiles.items()
        if _is_key(c)
        and ("customer" in c.lower() or "client" in c.lower())
        and p.fits(INPUTS["customers"][0])
        and p.distinct_ratio > 0.5
    ]
    person = None
    if len(keys) >= 2:  # a per-order key and a person key: the one with fewer distinct values is the person
        keys.sort(key=lambda c: f.profiles[c].distinct)
        person = keys[0]
        notes.append(
            f"'{f.name}' has two customer keys: {keys}; '{person}' has fewer distinct values, so it is "
            "taken as the person (the other is per order); orders map customer_id to it through this file"
        )
    table: dict[str, Any] = {"from": f.name, "map": _mapped(f, "customers", {"customer_id": person} if person else {})}
    if person:
        table["duplicates"] = "last"
    return table, person


def _orders_table(
    lines: _File, headers: list[_File], customers: _File | None, person: str | None, notes: list[str]
) -> dict[str, Any]:
    table: dict[str, Any] = {"from": lines.name}
    scope = [lines]
    joins = []
    order_key = lines.best("order_id")
    for h in headers[:1]:
        shared = order_key if order_key in h.profiles else h.best("order_id")
        if shared:
            joins.append({"file": h.name, "on": shared if shared == order_key else {order_key: shared}})
            scope.append(h)
    mapping: dict[str, Any] = {}
    if customers and person:
        per_order = next(
            (c for c in customers.profiles if c != person and "customer" in c.lower() and _is_key(c)), None
        )
        source = next((s for s in scope if per_order in s.profiles), None)
        if per_order and source:
            joins.append({"file": customers.name, "on": {f"{source.name}.{per_order}": per_order}})
            mapping["customer_id"] = f"{customers.name}.{person}"
    if joins:
        table["join"] = joins
    profiles = {(c if s is lines else f"{s.name}.{c}"): p for s in scope for c, p in s.profiles.items()}
    mapping.update(assign_orders(profiles, set(mapping), notes))
    status = next((k for k in profiles if "status" in plain_name(k)), None)
    if status:
        mapping.update(void_statuses(status, profiles[status].examples, notes))
    table["map"] = mapping
    return table


def _is_key(column: str) -> bool:
    words = plain_name(column).replace("-", "_").split("_")
    return bool({"id", "key", "no", "number", "uuid", "code"} & set(words)) or plain_name(column).endswith("id")


def _mapped(f: _File, kind: str, fixed: dict[str, str] | None = None) -> dict[str, Any]:
    mapping: dict[str, Any] = dict(fixed or {})
    for fld in INPUTS[kind]:
        if fld.name in mapping or fld.name in ("attributes", "properties"):
            continue
        ranked = rank_candidates(fld, f.profiles, limit=1, others=tuple(x.name for x in INPUTS[kind]))
        if ranked and (fld.required or name_score(fld.name, plain_name(ranked[0])) >= 0.8):
            if ranked[0] not in mapping.values():
                mapping[fld.name] = ranked[0]
    return mapping


def preset_names() -> list[str]:
    """The import spec presets shipped with shopseg (``io/specs/*.yaml``)."""
    from importlib import resources

    return sorted(
        p.name[:-5] for p in resources.files("shopseg.io").joinpath("specs").iterdir() if p.name.endswith(".yaml")
    )


def preset_text(name: str) -> str:
    """The YAML text of a shipped preset spec."""
    from importlib import resources

    from shopseg.errors import InvalidParameterError, did_you_mean

    names = preset_names()
    if name not in names:
        raise InvalidParameterError(
            f"The '--preset' option of --write-spec must be one of {names}. Got {name!r} "
            f"instead.{did_you_mean(name, names)}"
        )
    return resources.files("shopseg.io").joinpath("specs", f"{name}.yaml").read_text(encoding="utf-8")


def draft_from_preset(
    name: str, paths: Sequence[str | os.PathLike[str]], spec_path: str | os.PathLike[str]
) -> tuple[str, list[str]]:
    """The preset's spec with each of ``paths`` put in the file slot whose columns its header shares most."""
    text = preset_text(name)
    spec = parse_spec(yaml.load(text, Loader=_loader()), source=f"preset {name}")
    wanted = {slot: _referenced(spec, slot) for slot in spec.files}
    spec_dir = Path(spec_path).resolve().parent
    con = duckdb.connect()
    notes, free = [], dict(wanted)
    try:
        for p in paths:
            one = len(spec.files) == 1  # a one-file preset: read the file as its slot says (whitespace, names)
            header = set(_header(con, Path(p), spec.options_of(next(iter(spec.files))) if one else None))
            slot, overlap = max(
                ((s, len(cols & header)) for s, cols in free.items()), key=lambda t: t[1], default=(None, 0)
            )
            if slot is None or overlap == 0:
                notes.append(f"{Path(p).name}: its header matches no file of the '{name}' preset; not used")
                continue
            free.pop(slot)
            rel = os.path.relpath(Path(p).resolve(), spec_dir)
            orig = re.escape(spec.files[slot].path)  # each slot's path is its own, flow or block style
            new = json_str(rel).replace("\\", "\\\\")  # a replacement template: keep backslashes literal
            text = re.sub(rf"(\bpath:[ \t]*)([\"']?){orig}\2", rf"\g<1>{new}", text, count=1)
            missing = sorted(wanted[slot] - header)
            notes.append(f"{Path(p).name} -> files.{slot}" + (f" (lacks {missing}: edit the map)" if missing else ""))
    finally:
        con.close()
    for slot in free:
        notes.append(f"no file given for files.{slot}: remove tables that use it, or add the file")
    return text, notes


def json_str(value: str) -> str:
    import json

    return json.dumps(value) if any(c in value for c in ":{}[],#'\" ") else value


def _loader() -> Any:
    from shopseg.io.spec import _Yaml12Loader

    return _Yaml12Loader


def _referenced(spec: ImportSpec, slot: str) -> set[str]:
    """Columns of file ``slot`` the spec reads (map, marks, joins, filters, fill-down)."""
    from shopseg.io.derivations import referenced

    options = spec.files[slot]
    out: set[str] = set(([options.fill_down_by] if options.fill_down_by else []) + (options.fill_down or []))
    for table in spec.tables.values():
        own = table.from_ == slot
        refs: list[str] = [f.column for f in table.filter]
        for src in [*table.map.values(), *table.marks]:
            refs += list(referenced(src))
        for j in table.join:
            for left, right in j.pairs():
                refs.append(left)
                if j.file == slot:
                    out.add(right)
        for r in refs:
            file, _, col = r.rpartition(".")
            if file == slot or (not file and own):
                out.add(col)
    return out


def _header(con: duckdb.DuckDBPyConnection, path: Path, options: Any = None) -> list[str]:
    """The file's column names, read with a slot's reader options (whitespace, columns) when given."""
    from shopseg.io._read import Reader, infer_format, read_source

    reader = Reader()
    if options is not None:
        names = tuple(options.columns or ())
        reader = Reader(header=options.header is not False, names=names, delimiter=options.delimiter)
    source = read_source(con, path, infer_format(path, options.format if options else None), reader)
    return [c for c in source.columns if c != "_n_fields"]
