"""`shopseg rfm`: score customers, store ``customer_rfm`` and print the named RFM segments."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import RenderableType

from shopseg.cli._common import console, open_workspace
from shopseg.cli._output import JsonOpt, emit_json, fit_table, records
from shopseg.config import get_setting

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["rfm", "register", "render_segment_table"]


def _cell(value: Any, kind: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if kind == "pct":
        return f"{100 * value:.1f}%"
    if kind == "int":
        return f"{int(value):,}"
    return f"{value:,.{1 if kind == 'days' else 2}f}"


_COLUMNS = [
    ("segment", "segment", "text"),
    ("customers", "customers", "int"),
    ("share", "% customers", "pct"),
    ("revenue_share", "% revenue", "pct"),
    ("recency_days", "mean days since last order", "days"),
    ("orders", "mean orders", "num"),
    ("monetary", "mean revenue", "num"),
]


def render_segment_table(table: pd.DataFrame, title: str, width: int | None = None) -> RenderableType:
    """The segment table of :func:`shopseg.segments.rfm_map.rfm_segment_table`, fitted to ``width`` (the terminal's)."""
    rows = []
    for row in table.itertuples(index=False):
        values = row._asdict()
        rows.append([str(values[c]) if k == "text" else _cell(values[c], k) for c, _, k in _COLUMNS])
    right = [k != "text" for _, _, k in _COLUMNS]
    return fit_table(title, [h for _, h, _ in _COLUMNS], rows, width=width or console.width, right=right)


def rfm(
    bins: Annotated[
        int | None,
        typer.Option("--bins", "-b", help="Quantile bins for R, F and M, 2 to 9 (default: setting rfm_bins, 5)."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Score R, F, M quantiles, store customer_rfm and print the 11 named RFM segments.

    Builds the customer feature table first when the workspace has none.
    """
    from shopseg.segments.rfm_map import NO_PURCHASE, RFM_TABLE, build_rfm, rfm_segment_table

    engine = get_setting("engine")
    n_bins = get_setting("rfm_bins") if bins is None else bins
    with open_workspace() as ws, console.status(f"Scoring RFM on {engine}..."):
        # summed inside DuckDB from the stored table: the 1M-row table is not read back into pandas
        table = rfm_segment_table(build_rfm(ws, engine=engine, bins=n_bins, return_frame=False))
        as_of, notes = ws.meta("rfm_as_of") or "", [n for n in (ws.meta("rfm_notes") or "").split("\n") if n]
    customers = int(table["customers"].sum())
    buyers = int(table.loc[table["segment"] != NO_PURCHASE, "customers"].sum())  # scored = has a named segment
    if as_json:
        emit_json(
            {
                "table": RFM_TABLE,
                "customers": customers,
                "scored": buyers,
                "as_of": as_of,
                "bins": n_bins,
                "engine": engine,
                "segments": records(table),
                "notes": notes,
            }
        )
        return
    console.print(
        f"[bold]{RFM_TABLE}[/]: {customers:,} customers, {buyers:,} scored (with a purchase) · "
        f"as of {as_of or 'unknown'} · {n_bins} bins · engine: {engine}"
    )
    console.print(render_segment_table(table, "RFM segments"))
    for note in notes:
        console.print(f"note: {note}", highlight=False, markup=False)


def register(app: typer.Typer) -> None:
    app.command("rfm")(rfm)
