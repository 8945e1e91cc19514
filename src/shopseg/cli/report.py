"""`shopseg report`: write the self-contained HTML report."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from shopseg.cli._common import console, open_workspace
from shopseg.reports import write_report


def report(
    out: Annotated[Optional[str], typer.Option("--out", "-o", help="Output HTML file.")] = None,
    title: Annotated[str, typer.Option(help="Page title.")] = "shopseg report",
) -> None:
    """Write a self-contained HTML report (charts embedded, works offline)."""
    with open_workspace(read_only=True) as ws, console.status("Writing report"):
        path = write_report(ws, out, title=title)
    console.print(f"Report written to [bold]{path.resolve()}[/] (open it in a browser)")


def register(app: typer.Typer) -> None:
    app.command("report")(report)
