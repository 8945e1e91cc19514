"""`shopseg lifecycle`: derive the thresholds, assign stages, store ``customer_lifecycle``."""

from __future__ import annotations

from typing import Annotated

import typer

from shopseg.cli._common import console, open_workspace, print_table
from shopseg.cli._output import JsonOpt, emit_json, records
from shopseg.config import get_setting

__all__ = ["lifecycle", "register"]


def _days_option(name: str, derived: str) -> object:
    return typer.Option(f"--{name}", min=0, help=f"Override the threshold in days (default: {derived}).")


def lifecycle(
    new_days: Annotated[int | None, _days_option("new-days", "median gap between purchase days")] = None,
    active_days: Annotated[int | None, _days_option("active-days", "90th percentile of the gaps")] = None,
    lapsed_days: Annotated[int | None, _days_option("lapsed-days", "2 x active days")] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Last day of data, YYYY-MM-DD (default: date of the latest order).")
    ] = None,
    default_thresholds: Annotated[
        bool,
        typer.Option(
            "--default-thresholds",
            help="Use the documented defaults (new 30, active 90, lapsed 180 days) for thresholds "
            "the data cannot give (no repeat purchases); they are flagged.",
        ),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Assign lifecycle stages (new, active, repeat, reactivated, lapsing, lapsed, prospect).

    Thresholds are derived from the store's own gaps between purchase days
    unless given; the result is stored as customer_lifecycle.
    """
    from shopseg.features.asof import parse_date
    from shopseg.segments.lifecycle import LIFECYCLE_TABLE, build_lifecycle

    if as_of is not None:
        parse_date(as_of)
    engine = get_setting("engine")
    with open_workspace() as ws, console.status(f"Assigning lifecycle stages on {engine}..."):
        counts = build_lifecycle(
            ws,
            engine=engine,
            as_of=as_of,
            new_days=new_days,
            active_days=active_days,
            lapsed_days=lapsed_days,
            fallback=default_thresholds,
            return_frame=False,
        )
    th = counts.attrs["thresholds"]
    customers = int(counts["customers"].sum())
    if as_json:
        emit_json(
            {
                "table": LIFECYCLE_TABLE,
                "customers": customers,
                "as_of": th.as_of,
                "engine": engine,
                "thresholds": records(th.to_frame()),
                "stages": records(counts),
            }
        )
        return
    console.print(f"[bold]{LIFECYCLE_TABLE}[/]: {customers:,} customers · as of {th.as_of} · engine: {engine}")
    frame = th.to_frame()
    print_table("Thresholds", ["threshold", "days", "derivation"], frame.values.tolist())
    rows = [[s, int(n), f"{100 * p:.1f}%"] for s, n, p in counts.itertuples(index=False)]
    print_table("Lifecycle stages", ["stage", "customers", "share"], rows)


def register(app: typer.Typer) -> None:
    app.command("lifecycle")(lifecycle)
