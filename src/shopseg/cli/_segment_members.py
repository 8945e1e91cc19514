"""`shopseg segment` commands on snapshots and members: refresh, history, migration, explain, breakdown.

They are registered on :data:`shopseg.cli._segment_shared.segment_app` when
:func:`shopseg.cli.segment.register` imports this module, after the commands of
:mod:`shopseg.cli.segment`, so ``shopseg segment --help`` lists them last.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.text import Text

from shopseg.cli._common import console, err_console, print_table
from shopseg.cli._output import JsonOpt, emit_json, records
from shopseg.cli._segment_shared import AsOf, engine_of, rule_or_name, segment_app, store_of

__all__ = ["refresh", "history", "migration", "explain", "breakdown"]


@segment_app.command("refresh")
def refresh(as_of: AsOf = None, as_json: JsonOpt = False) -> None:
    """Store a dated membership snapshot of every saved segment (and the RFM map).

    A saved segment that cannot be used (over a limit, a field gone, ...) is reported and left out; the
    others are stored, and the command then exits 1.
    """
    from shopseg.segments.saved import describe_broken

    ws, store = store_of()
    with ws:
        day = store.as_of(as_of)
        sizes = store.refresh(engine_of(ws), day)
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
    ws, store = store_of(read_only=True)
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
    ws, store = store_of(read_only=True)
    with ws:
        m = store.migration(start, end)
    rows = [(idx, *[int(v) for v in row]) for idx, row in zip(m.index, m.to_numpy(), strict=True)]
    print_table(f"RFM migration {start} -> {end}", ["from \\ to", *m.columns], rows)


@segment_app.command("explain")
def explain(name: str, customer: str, as_of: AsOf = None, as_json: JsonOpt = False) -> None:
    """Each condition of NAME with CUSTOMER's value and whether it held."""
    from shopseg.rules.evaluate import explain_segment

    ws, store = store_of(read_only=True)
    with ws:
        profile, events, orders = store.profile(customer)
        day = store.as_of(as_of)
        steps = explain_segment(
            store.get(name).segment,
            profile,
            events,
            as_of=day,
            fields=store.fields,
            segments=store.definitions(),
            orders=orders,
        )
    if as_json:
        emit_json(
            {
                "segment": name,
                "customer_id": customer,
                "as_of": day,
                "member": steps[0].held,
                "steps": [
                    {"path": s.path, "depth": s.depth, "condition": s.condition, "value": s.value, "held": s.held}
                    for s in steps
                ],
            }
        )
        return
    for s in steps:
        mark = Text("✔ ", style="green") if s.held else Text("✘ ", style="red")
        value = Text("" if s.value is None else f"  (value: {s.value})", style="dim")
        console.print(Text("  " * s.depth) + mark + Text(s.condition) + value, highlight=False)
    console.print(f"{customer} is {'in' if steps[0].held else 'not in'} {name}")


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

    ws, store = store_of(read_only=True)
    with ws:
        df = segment_breakdown(engine_of(ws), store, rule_or_name(store, rule), by, as_of=as_of)
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
