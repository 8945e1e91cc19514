"""`shopseg ingest KIND FILE`: validated, atomic loading of one file into the workspace."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from shopseg.cli._common import console, open_workspace, print_table, progress
from shopseg.errors import InvalidParameterError

__all__ = ["ingest_command", "parse_mapping", "register"]


def parse_mapping(items: list[str]) -> dict[str, str]:
    """Turn ``["customer_id=cust_id", ...]`` into ``{"customer_id": "cust_id"}``.

    Examples
    --------
    >>> parse_mapping(["customer_id=cust_id", "ordered_at = Order Date"])
    {'customer_id': 'cust_id', 'ordered_at': 'Order Date'}
    """
    out: dict[str, str] = {}
    for item in items:
        canonical, sep, source = item.partition("=")
        if not sep or not canonical.strip() or not source.strip():
            raise InvalidParameterError(
                f"The '--map' option must look like canonical=source (e.g. --map customer_id=cust_id). Got {item!r} instead."
            )
        out[canonical.strip()] = source.strip()
    return out


def ingest_command(
    kind: Annotated[str, typer.Argument(help="customers, orders, products, events or survey_answers.")],
    file: Annotated[Path, typer.Argument(help="CSV/TSV/TXT, Parquet or JSON-lines file.")],
    preset: Annotated[
        Optional[str], typer.Option("--preset", "-p", help="online_retail, cdnow, cdnow_sample or shopify.")
    ] = None,
    fmt: Annotated[Optional[str], typer.Option("--format", "-f", help="csv, parquet or jsonl (default: from the extension).")] = None,
    mapping: Annotated[
        Optional[list[str]], typer.Option("--map", "-m", help="canonical=source column; repeatable.")
    ] = None,
    encoding: Annotated[str, typer.Option("--encoding", help="Text encoding of CSV files: utf-8, latin-1, utf-16.")] = "utf-8",
    date_format: Annotated[
        Optional[str], typer.Option("--date-format", help="strptime format of non-ISO timestamps, e.g. '%d/%m/%Y %H:%M'.")
    ] = None,
) -> None:
    """Validate a file and load it into the workspace, all or nothing, then print a data-quality report."""
    from shopseg.io import ingest

    maps = parse_mapping(mapping or [])
    with open_workspace() as ws, progress(transient=True) as bar:
        task = bar.add_task(f"ingest {file.name}", total=None)

        def step(message: str) -> None:
            bar.update(task, description=message)
            if message != "done":
                console.print(f"[dim]· {message}[/]")

        report = ingest(
            ws, kind, file, preset=preset, fmt=fmt, mapping=maps, encoding=encoding, date_format=date_format, progress=step
        )
    title = f"Ingested {report.source} into {report.kind}" + (f" (preset {report.preset})" if report.preset else "")
    print_table(title, ["data quality", "rows"], report.summary_rows())


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest_command)
