"""`shopseg init` and `shopseg status`: create and inspect a workspace."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.text import Text

from shopseg.cli._common import console, open_workspace, print_table
from shopseg.cli._output import JsonOpt, emit_json
from shopseg.config import get_setting


def init(
    path: Annotated[str | None, typer.Argument(help="Workspace file to create.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing workspace.")] = False,
) -> None:
    """Create a workspace (a DuckDB file) holding the canonical tables."""
    from shopseg.workspace import Workspace

    ws = Workspace.init(path or get_setting("workspace"), overwrite=force)
    console.print(f"Created workspace [bold]{ws.path}[/] with tables: {', '.join(ws.row_counts())}")
    ws.close()


def status(as_json: JsonOpt = False) -> None:
    """Show row counts of the canonical tables and the ingest log."""
    from shopseg.io.health import store_health
    from shopseg.workspace import INGEST_LOG

    with open_workspace(read_only=True) as ws:
        counts = ws.row_counts()
        log = ws.con.execute(
            f'SELECT ingest_id, kind, source, rows_read, rows_kept, rows_flagged, ingested_at FROM "{INGEST_LOG}" '
            "ORDER BY ingest_id"
        ).fetchall()
        warnings = list(store_health(ws.con))
        path = str(ws.path)
    if as_json:
        keys = ("id", "kind", "source", "rows_read", "rows_kept", "rows_flagged", "ingested_at")
        emit_json(
            {
                "workspace": path,
                "tables": counts,
                "ingests": [dict(zip(keys, r, strict=True)) for r in log],
                "warnings": warnings,
            }
        )
        return
    print_table(f"Workspace {path}", ["table", "rows"], list(counts.items()))
    if log:
        print_table(
            "Ingests",
            ["id", "kind", "source", "read", "kept", "flagged", "at"],
            [list(r[:6]) + [str(r[6])[:19]] for r in log],
        )
    for text in warnings:
        console.print(Text("warning: ", style="yellow") + Text(text))


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.command("status")(status)
