"""`shopseg interests`: decayed category / brand / price-band affinities and interest flags -> ``customer_interests``."""

from __future__ import annotations

from typing import Annotated

import typer

from shopseg.cli._common import console, open_workspace, print_table

__all__ = ["interests", "register"]


def interests(
    half_life_days: Annotated[
        float, typer.Option("--half-life-days", help="Half-life of a signal's weight, days (purchases, carts, views).")
    ] = 90.0,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Score as of this day, YYYY-MM-DD (default: the latest order).")
    ] = None,
) -> None:
    """Score every customer's interests and store customer_interests; its columns become segment fields.

    Flags: <category>_enthusiast, bargain_hunter, premium_buyer (survey answers
    to the 'priority' question lower the bar); scores: affinity_<category>,
    price_budget/mid/premium. Use them in rules, e.g. "outdoor_enthusiast = true".
    """
    from shopseg.features.asof import parse_date
    from shopseg.interests import INTERESTS_TABLE, build_interests

    if as_of is not None:
        parse_date(as_of)
    with open_workspace() as ws, console.status("Scoring interests..."):
        table = build_interests(ws, as_of=as_of, half_life_days=half_life_days)
    flags = [c for c in table.columns if table[c].dtype == bool]
    console.print(
        f"[bold]{INTERESTS_TABLE}[/]: {len(table):,} customers with a signal · half-life {half_life_days:g} days"
    )
    notes = table.attrs.get("notes", [])
    if table.empty:  # a share of no customers is not a number: say what is missing instead
        for line in ["No customer has a signal yet.", *notes]:
            console.print(line, soft_wrap=True, highlight=False, markup=False)
        return
    for line in notes:
        console.print(f"note: {line}", soft_wrap=True, highlight=False, markup=False)
    rows = [(f, int(table[f].sum()), f"{table[f].mean():.1%}") for f in sorted(flags, key=lambda f: -table[f].sum())]
    print_table("Interest segments (use them in rules: `<flag> = true`)", ["flag", "customers", "share"], rows)


def register(app: typer.Typer) -> None:
    app.command("interests")(interests)
