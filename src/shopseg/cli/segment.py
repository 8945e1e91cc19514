"""`shopseg segment ...`: write, check, save, preview, diff and delete rule-based segments.

The commands on snapshots and members (refresh, history, migration, explain,
breakdown) are in :mod:`shopseg.cli._segment_members`; the Typer app and the
helpers both share are in :mod:`shopseg.cli._segment_shared`.
"""

from __future__ import annotations

import importlib
from typing import Annotated

import typer

from shopseg.cli._common import console, print_table
from shopseg.cli._output import JsonOpt, emit_json, records
from shopseg.cli._segment_shared import AsOf, engine_of, rule_or_name, segment_app, store_of, warn

__all__ = ["register", "segment_app"]


@segment_app.command("fields")
def fields() -> None:
    """List every field a rule may use, with its type and meaning."""
    from shopseg.rules.fields import FIELDS, PREDICT_HINT

    rows = [
        (f.name, f.type, f"{f.table}.{f.column}", f.help + ("" if f.available else f" ({PREDICT_HINT})"))
        for f in FIELDS
    ]
    print_table("Segment fields", ["field", "type", "column", "meaning"], rows)


@segment_app.command("check")
def check(rule: Annotated[str, typer.Argument(help="A rule in text or JSON form.")]) -> None:
    """Parse and validate a rule without saving it; print the canonical form and warnings."""
    from shopseg.rules.render import render
    from shopseg.rules.validate import static_issues

    ws, store = store_of(read_only=True)
    with ws:
        seg = store.check(rule)
        warnings = [i.message for i in static_issues(seg)] + store.value_warnings(seg)
    console.print(render(seg), highlight=False, markup=False)
    warn(warnings)


@segment_app.command("values")
def values(
    field: Annotated[str, typer.Argument(help="A field (shopseg segment fields), e.g. country.")],
    limit: Annotated[int, typer.Option("--limit", "-n", help="Values to show, most common first; 0: all.")] = 30,
) -> None:
    """List the values a field holds, with the number of customers of each (most common first)."""
    from shopseg.rules.values import field_values

    ws, store = store_of(read_only=True)
    with ws:
        df = field_values(ws, field, store.fields, limit=limit or None)
    rows = [("(empty)" if v is None else v, int(n)) for v, n in df.itertuples(index=False)]
    print_table(
        f"{field}: {len(rows):,} values" + (f" (the {limit} most common)" if limit and len(rows) == limit else ""),
        ["value", "customers"],
        rows,
    )


@segment_app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="Segment name.")],
    rule: Annotated[str, typer.Argument(help='The rule, e.g. "orders >= 3 AND last_order < -90d".')],
    description: Annotated[str, typer.Option("--description", "-d", help="What the segment is for.")] = "",
    replace: Annotated[bool, typer.Option("--replace", help="Save a new version of an existing segment.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Save even a rule that never or always matches.")] = False,
) -> None:
    """Validate and save a segment (a new version with --replace); show its estimated size and overlaps."""
    from shopseg.errors import QueryTimeoutError

    ws, store = store_of()
    with ws:
        saved = store.create(name, rule, description=description, replace=replace, force=force)
        console.print(f"[bold]{saved.name}[/] version {saved.version}: ", end="")
        console.print(saved.definition, highlight=False, markup=False)
        if ws.has_table("customer_features"):
            try:
                info = store.preview(engine_of(ws), saved.segment, sample=0)
            except QueryTimeoutError as exc:  # saved all the same: only the estimate is missing
                warn([f"no size estimate: {exc}"])
                return
            console.print(f"estimated size: {info['size']:,} of {info['customers']:,} customers ({info['share']:.1%})")
            shared = [f"{k} {v:,}" for k, v in sorted(info["overlap"].items()) if v]
            if shared:
                console.print(f"overlaps with: {', '.join(shared)}", highlight=False, markup=False)
            warn(info["warnings"])


@segment_app.command("list")
def list_(as_json: JsonOpt = False) -> None:
    """List saved segments (latest versions) with their members at the last snapshot and its date."""
    from shopseg.reports.aggregates import saved_segment_sizes

    ws, _ = store_of(read_only=True)
    with ws:
        df = saved_segment_sizes(ws)
    records = [
        {
            "name": r["name"],
            "version": int(r["version"]),
            "rule": r["definition"],
            "members": None if r["size"] is None or r["size"] != r["size"] else int(r["size"]),
            "as_of": None if r["as_of"] is None or r["as_of"] != r["as_of"] else str(r["as_of"])[:10],
            "description": r["description"],
            "error": r["error"],
        }
        for r in df.to_dict("records")
    ]
    if as_json:
        emit_json(records)
        return
    rows = [
        (
            r["name"],
            r["version"],
            r["rule"],
            "-" if r["members"] is None else r["members"],
            r["as_of"] or "-",
            r["error"] or r["description"],
        )
        for r in records
    ]
    print_table(
        "Saved segments (members at the last 'shopseg segment refresh')",
        ["name", "version", "rule", "members", "as of", "description"],
        rows,
    )


@segment_app.command("show")
def show(
    name: str, version: Annotated[int | None, typer.Option("--version", "-v")] = None, as_json: JsonOpt = False
) -> None:
    """Show one saved segment (latest version unless --version), in text and JSON form."""
    import json

    from shopseg.errors import SegmentError
    from shopseg.rules.render import to_json
    from shopseg.segments.saved import describe_broken

    ws, store = store_of(read_only=True)
    with ws:
        s = store.get(name, version)
    if as_json:
        try:
            rule_json, error = to_json(s.segment), None
        except SegmentError as exc:
            rule_json, error = None, describe_broken(s.name, exc)
        emit_json(
            {
                "name": s.name,
                "version": s.version,
                "created_at": s.created_at,
                "description": s.description,
                "rule": s.definition,
                "rule_json": rule_json,
                "error": error,
            }
        )
        return
    console.print(f"[bold]{s.name}[/] version {s.version} · saved {s.created_at:%Y-%m-%d %H:%M} UTC")
    if s.description:
        console.print(s.description, markup=False)
    console.print(s.definition, highlight=False, markup=False)
    try:
        console.print(json.dumps(to_json(s.segment), indent=2), highlight=False, markup=False)
    except SegmentError as exc:  # saved by an older version (over a limit, ...): shown, with why it cannot be used
        warn([describe_broken(s.name, exc)])


@segment_app.command("preview")
def preview(
    rule: Annotated[str, typer.Argument(help="A saved segment name or a rule.")],
    as_of: AsOf = None,
    sample: Annotated[int, typer.Option("--sample", "-n", help="Members to show.")] = 10,
    as_json: JsonOpt = False,
) -> None:
    """Size, revenue share, overlap with saved segments and a sample of members."""
    ws, store = store_of(read_only=True)
    with ws:
        seg = rule_or_name(store, rule)
        info = store.preview(engine_of(ws), seg, as_of=as_of, sample=sample)
        day = store.as_of(as_of)
    if as_json:
        emit_json({**info, "as_of": day, "sample": records(info["sample"])})
        return
    console.print(
        f"size: {info['size']:,} of {info['customers']:,} customers ({info['share']:.1%}) · "
        f"revenue share: {info['revenue_share']:.1%}"
    )
    warn(info["warnings"])
    if info["overlap"]:
        print_table("Overlap with saved segments", ["segment", "shared customers"], sorted(info["overlap"].items()))
    df = info["sample"]
    print_table("Sample", list(df.columns), [tuple(r) for r in df.itertuples(index=False)])


@segment_app.command("diff")
def diff(
    name: str,
    rule: Annotated[str, typer.Argument(help="The edited rule.")],
    as_of: AsOf = None,
    as_json: JsonOpt = False,
) -> None:
    """How many customers would enter and exit NAME if RULE were saved."""
    ws, store = store_of(read_only=True)
    with ws:
        d = store.diff(engine_of(ws), name, rule, as_of=as_of)
    if as_json:
        emit_json({"segment": name, **d})
        return
    console.print(
        f"{name}: {d['before']:,} -> {d['after']:,} customers · "
        f"[green]+{len(d['enter']):,} enter[/] · [red]-{len(d['exit']):,} exit[/] · {d['stay']:,} stay"
    )
    for label, ids in (("enter", d["enter"]), ("exit", d["exit"])):
        if ids:
            console.print(f"{label}: {', '.join(ids[:10])}{' ...' if len(ids) > 10 else ''}", markup=False)


@segment_app.command("delete")
def delete(name: str) -> None:
    """Delete a saved segment (its versions and snapshots are kept)."""
    ws, store = store_of()
    with ws:
        store.delete(name)
    console.print(f"deleted segment {name}")


def register(app: typer.Typer) -> None:
    # refresh, history, migration, explain and breakdown: registered after the commands above, as listed in --help
    importlib.import_module("shopseg.cli._segment_members")
    app.add_typer(segment_app, name="segment")
