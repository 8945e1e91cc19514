"""`shopseg report`: the self-contained HTML report; `shopseg report regions`: retail network performance."""

from __future__ import annotations

from typing import Annotated

import typer

from shopseg.cli._common import console, exit_usage, open_workspace, print_table
from shopseg.cli._output import JsonOpt, emit_json, records

__all__ = ["report_app", "register"]

report_app = typer.Typer(help="Reports: the self-contained HTML report, retail network performance by region.")

_OUT = typer.Option("--out", "-o", help="Output HTML file (default: report.html beside the workspace).")
_TITLE = typer.Option(help="Page title.")


def _html(out: str | None, title: str, as_json: bool = False) -> None:
    with open_workspace(read_only=True) as ws, console.status("Writing report"):
        from shopseg.reports import write_report
        from shopseg.reports.executive import executive_summary

        path = write_report(ws, out, title=title)
        summary = executive_summary(ws).to_dict() if as_json else None
    if as_json:
        emit_json({"path": str(path.resolve()), "summary": summary})
        return
    console.print(f"Report written to [bold]{path.resolve()}[/] (open it in a browser)")


@report_app.callback(invoke_without_command=True)
def _default(
    ctx: typer.Context,
    out: Annotated[str | None, _OUT] = None,
    title: Annotated[str, _TITLE] = "shopseg report",
    as_json: JsonOpt = False,
) -> None:
    """Without a verb: `shopseg report html` (the self-contained HTML report)."""
    if ctx.invoked_subcommand is None:
        _html(out, title, as_json)


@report_app.command("html")
def html(
    out: Annotated[str | None, _OUT] = None,
    title: Annotated[str, _TITLE] = "shopseg report",
    as_json: JsonOpt = False,
) -> None:
    """Write a self-contained HTML report: an executive summary first, then the sections (works offline)."""
    _html(out, title, as_json)


@report_app.command("regions")
def regions(
    by: Annotated[str, typer.Option("--by", help="Comma-separated dimensions: segment, region, category, period.")] = (
        "segment,region,category,period"
    ),
    period: Annotated[str, typer.Option("--period", help="month, quarter, year or all.")] = "quarter",
    level: Annotated[str, typer.Option("--level", help="Geography: region or country.")] = "region",
    top: Annotated[int, typer.Option("--top", help="Rows to print (most revenue first); 0: all.")] = 30,
    csv_out: Annotated[str | None, typer.Option("--csv", help="Also write every row to this CSV file.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Revenue, orders, AOV, repeat rate and CLV by segment x region x product category over time."""
    from shopseg.reports.regions import region_performance

    dims = [d.strip() for d in by.split(",") if d.strip()]
    if not dims:
        exit_usage("--by needs at least one of segment, region, category, period.")
    with open_workspace(read_only=True) as ws:
        df = region_performance(ws, by=dims, period=period, level=level)
    if csv_out:
        from shopseg.export.spreadsheet import write_csv

        write_csv(df, csv_out)
    shown = df.sort_values("revenue", ascending=False).head(top) if top else df
    if as_json:
        emit_json({"by": dims, "period": period, "level": level, "groups": len(df), "rows": records(shown)})
        return
    cols = [c for c in df.columns if c != "revenue_index" or df[c].notna().any()]
    shown = shown.assign(repeat_rate=shown["repeat_rate"].map(_percent)) if "repeat_rate" in cols else shown
    rows = [tuple(_cell(v) for v in r) for r in shown[cols].itertuples(index=False)]
    print_table(
        f"Performance by {' x '.join(dims)} ({period}; {len(df):,} groups, top {len(shown):,} by revenue)", cols, rows
    )
    if "revenue_index" in cols:
        console.print(
            "revenue_index: the category's share of the region's revenue over its share of all revenue "
            "(> 1 does better there, < 1 lags).",
            highlight=False,
        )
    if csv_out:
        console.print(f"all {len(df):,} rows written to [bold]{csv_out}[/]")


def _percent(share: object) -> object:
    """A 0-1 share as the HTML report shows it (``83.0%``); missing stays missing."""
    return f"{float(share):.1%}" if isinstance(share, int | float) and share == share else share


def _cell(value: object) -> object:
    if value is None or (isinstance(value, float) and value != value):
        return "-"
    if hasattr(value, "item"):
        return value.item()
    return str(value) if not isinstance(value, int | float) else value


def register(app: typer.Typer) -> None:
    app.add_typer(report_app, name="report")
