"""`shopseg segment ...`: write, check, save, preview, diff, refresh and explain rule-based segments."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.text import Text

from shopseg.cli._common import console, err_console, open_workspace, print_table
from shopseg.cli._output import JsonOpt, emit_json, records

__all__ = ["register", "segment_app"]

segment_app = typer.Typer(
    help="Rule-based segments: the segment language, saved versions, snapshots.", no_args_is_help=True
)

AsOf = Annotated[str | None, typer.Option("--as-of", help="Reference date (default: the features' as-of date).")]


def _store(read_only: bool = False):
    from shopseg.segments.definitions import SegmentStore

    ws = open_workspace(read_only=read_only)
    return ws, SegmentStore(ws)


def _engine(ws):
    from shopseg.config import get_setting
    from shopseg.engine import get_engine

    return get_engine(ws, get_setting("engine"))


def _query(ws, store):
    """The segment query service (:class:`~shopseg.segments.query.SegmentQuery`) on the configured engine."""
    from shopseg.segments.query import SegmentQuery

    return SegmentQuery(store, _engine(ws))


def _warn(messages: list[str]) -> None:
    for m in messages:
        console.print(f"[yellow]warning:[/] {m}", highlight=False)


@segment_app.command("fields")
def fields() -> None:
    """List every field a rule may use, with its type and meaning (the workspace's own too: share_<category>,
    interests, clusters, custom attributes attr_<key>)."""
    from shopseg.errors import ShopsegError
    from shopseg.rules.fields import FIELDS, PREDICT_HINT

    try:
        ws, store = _store(read_only=True)
        with ws:
            registry = store.fields
    except (ShopsegError, OSError):  # no workspace yet: the built-in fields
        registry = FIELDS
    rows = [
        (f.name, f.type, f"{f.table}.{f.column}", f.help + ("" if f.available else f" ({PREDICT_HINT})"))
        for f in registry
    ]
    print_table("Segment fields", ["field", "type", "column", "meaning"], rows)


@segment_app.command("check")
def check(rule: Annotated[str, typer.Argument(help="A rule in text or JSON form.")]) -> None:
    """Parse and validate a rule without saving it; print the canonical form and warnings."""
    from shopseg.rules.render import render
    from shopseg.rules.static_checks import static_issues

    ws, store = _store(read_only=True)
    with ws:
        seg = store.check(rule)
        warnings = [i.message for i in static_issues(seg, store.fields)] + store.value_warnings(seg)
    console.print(render(seg), highlight=False, markup=False)
    _warn(warnings)


@segment_app.command("values")
def values(
    field: Annotated[str, typer.Argument(help="A field (shopseg segment fields), e.g. country.")],
    limit: Annotated[int, typer.Option("--limit", "-n", help="Values to show, most common first; 0: all.")] = 30,
) -> None:
    """List the values a field holds, with the number of customers of each (most common first)."""
    from shopseg.rules.values import field_values

    ws, store = _store(read_only=True)
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

    ws, store = _store()
    with ws:
        saved = store.create(name, rule, description=description, replace=replace, force=force)
        console.print(f"[bold]{saved.name}[/] version {saved.version}: ", end="")
        console.print(saved.definition, highlight=False, markup=False)
        if ws.has_table("customer_features"):
            try:
                q = _query(ws, store)
                info = q.preview(q.saved(saved.name), sample=0)
            except QueryTimeoutError as exc:  # saved all the same: only the estimate is missing
                _warn([f"no size estimate: {exc}"])
                return
            console.print(f"estimated size: {info['size']:,} of {info['customers']:,} customers ({info['share']:.1%})")
            shared = [f"{k} {v:,}" for k, v in sorted(info["overlap"].items()) if v]
            if shared:
                console.print(f"overlaps with: {', '.join(shared)}", highlight=False, markup=False)
            _warn(info["warnings"])


@segment_app.command("list")
def list_(as_json: JsonOpt = False) -> None:
    """List saved segments (latest versions) with their members at the last snapshot and its date."""
    from shopseg.reports.aggregates import saved_segment_sizes

    ws, store = _store(read_only=True)
    with ws:
        df = saved_segment_sizes(ws)
        # members and date from the snapshot runs: a refresh that found 0 members is a snapshot of 0, not none
        latest = {r["name"]: r for r in store.latest_snapshots().to_dict("records")}
    records = [
        {
            "name": r["name"],
            "version": int(r["version"]),
            "rule": r["definition"],
            "members": int(latest[r["name"]]["size"]) if r["name"] in latest else None,
            "as_of": str(latest[r["name"]]["as_of"])[:10] if r["name"] in latest else None,
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

    ws, store = _store(read_only=True)
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
        _warn([describe_broken(s.name, exc)])


@segment_app.command("preview")
def preview(
    rule: Annotated[str, typer.Argument(help="A saved segment name or a rule.")],
    as_of: AsOf = None,
    sample: Annotated[int, typer.Option("--sample", "-n", help="Members to show.")] = 10,
    as_json: JsonOpt = False,
) -> None:
    """Size, revenue share, overlap with saved segments and a sample of members."""
    ws, store = _store(read_only=True)
    with ws:
        q = _query(ws, store)
        info = q.preview(q.rule_or_saved(rule), as_of=as_of, sample=sample)
    if as_json:
        emit_json(info)
        return
    console.print(
        f"size: {info['size']:,} of {info['customers']:,} customers ({info['share']:.1%}) · "
        f"revenue share: {info['revenue_share']:.1%}"
    )
    _warn(info["warnings"])
    if info["overlap"]:
        print_table("Overlap with saved segments", ["segment", "shared customers"], sorted(info["overlap"].items()))
    rows = info["sample"]
    columns = list(rows[0]) if rows else ["customer_id"]
    print_table("Sample", columns, [tuple(r[c] for c in columns) for r in rows])


@segment_app.command("diff")
def diff(
    name: str,
    rule: Annotated[str, typer.Argument(help="The edited rule.")],
    as_of: AsOf = None,
    as_json: JsonOpt = False,
) -> None:
    """How many customers would enter and exit NAME if RULE were saved."""
    ws, store = _store(read_only=True)
    with ws:
        q = _query(ws, store)
        d = q.diff(name, q.rule(rule, name), as_of=as_of)
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
    ws, store = _store()
    with ws:
        store.delete(name)
    console.print(f"deleted segment {name}")


@segment_app.command("refresh")
def refresh(as_of: AsOf = None, as_json: JsonOpt = False) -> None:
    """Store a dated membership snapshot of every saved segment (and the RFM map).

    A saved segment that cannot be used (over a limit, a field gone, ...) is reported and left out; the
    others are stored, and the command then exits 1.
    """
    from shopseg.segments.saved import describe_broken

    ws, store = _store()
    with ws:
        day = store.as_of(as_of)
        sizes = store.refresh(_engine(ws), day)
    if as_json:
        broken = {name: describe_broken(name, exc) for name, exc in store.broken.items()}
        emit_json({"as_of": day, "sizes": dict(sorted(sizes.items())), "not_refreshed": broken})
        if store.broken:
            raise typer.Exit(1)
        return
    print_table(f"Snapshot {day}", ["segment", "members"], sorted(sizes.items()))
    for name, exc in store.broken.items():
        err_console.print(
            Text("error: ", style="bold red") + Text(f"not refreshed: {describe_broken(name, exc)}"), soft_wrap=True
        )
    if store.broken:
        raise typer.Exit(1)


@segment_app.command("history")
def history(
    name: str,
    start: Annotated[
        str | None, typer.Option("--from", help="Show who entered/left from this snapshot date...")
    ] = None,
    end: Annotated[str | None, typer.Option("--to", help="...to this one.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Size over time; with --from/--to, who entered and who left between two snapshots."""
    ws, store = _store(read_only=True)
    with ws:
        df = store.history(name)
        moved = store.movement(name, start, end) if start and end else None
    if as_json:
        emit_json({"segment": name, "history": records(df), "movement": moved})
        return
    print_table(f"History of {name}", list(df.columns), [tuple(r) for r in df.itertuples(index=False)])
    if moved is not None:
        for label in ("entered", "left"):
            ids = moved[label]
            console.print(f"{label} ({len(ids)}): {', '.join(ids[:20])}{' ...' if len(ids) > 20 else ''}", markup=False)


@segment_app.command("migration")
def migration(start: str, end: str) -> None:
    """Migration matrix between RFM segments on two snapshot dates (rows: from, columns: to)."""
    ws, store = _store(read_only=True)
    with ws:
        m = store.migration(start, end)
    rows = [(idx, *[int(v) for v in row]) for idx, row in zip(m.index, m.to_numpy(), strict=True)]
    print_table(f"RFM migration {start} -> {end}", ["from \\ to", *m.columns], rows)


@segment_app.command("explain")
def explain(name: str, customer: str, as_of: AsOf = None, as_json: JsonOpt = False) -> None:
    """Each condition of NAME with CUSTOMER's value and whether it held."""
    ws, store = _store(read_only=True)
    with ws:
        got = _query(ws, store).explain(name, customer, as_of)
    steps = got["steps"]
    if as_json:
        emit_json({"segment": name, **{k: v for k, v in got.items() if k != "name"}})
        return
    for s in steps:
        mark = Text("✔ ", style="green") if s["held"] else Text("✘ ", style="red")
        value = Text("" if s["value"] is None else f"  (value: {s['value']})", style="dim")
        console.print(Text("  " * s["depth"]) + mark + Text(s["condition"]) + value, highlight=False)
    console.print(f"{customer} is {'in' if steps[0]['held'] else 'not in'} {name}")


@segment_app.command("breakdown")
def breakdown(
    rule: Annotated[str, typer.Argument(help="A saved segment name or a rule.")],
    by: Annotated[
        str, typer.Option("--by", help="age_band, gender, country, region, city or top_category.")
    ] = "country",
    top: Annotated[int, typer.Option("--top", help="Rows to show (most members first); 0: all.")] = 15,
    as_of: AsOf = None,
    as_json: JsonOpt = False,
) -> None:
    """Demographic / geographic view: members by age band, gender, country, region or city, indexed to all customers."""
    from shopseg.segments.breakdown import segment_breakdown

    ws, store = _store(read_only=True)
    with ws:
        q = _query(ws, store)
        df = segment_breakdown(q.engine, store, q.rule_or_saved(rule), by, as_of=as_of)
    shown = df.head(top) if top else df
    if as_json:
        emit_json({"rule": rule, "by": by, "members": int(df["members"].sum()), "rows": records(shown)})
        return
    rows = [
        (
            r[by],
            int(r["members"]),
            f"{r['share']:.1%}",
            float(r["revenue"]),
            f"{r['revenue_share']:.1%}",
            "-" if r["index"] != r["index"] or r["index"] is None else f"{r['index']:.2f}",
        )
        for r in shown.to_dict("records")
    ]
    print_table(
        f"{rule} by {by} ({int(df['members'].sum()):,} members, {len(df):,} values)",
        [by, "members", "share", "revenue", "revenue share", "index vs all"],
        rows,
    )
    console.print("index: the value's share among members over its share among all customers (> 1: over-represented).")


def register(app: typer.Typer) -> None:
    app.add_typer(segment_app, name="segment")
