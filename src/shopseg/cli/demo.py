"""`shopseg demo`: a synthetic store, end to end, with a summary and a report.

The demo needs no data of yours and no network: it generates a deterministic
store, loads it into a fresh workspace, builds the feature table, the RFM map
and the lifecycle stages, prints a summary and writes the HTML report.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from shopseg.cli._common import console, print_table, progress
from shopseg.config import get_setting
from shopseg.workspace import Workspace


def demo(
    customers: Annotated[int, typer.Option("--customers", "-n", help="Customers in the synthetic store.")] = 5_000,
    seed: Annotated[int, typer.Option(help="Random seed of the generator.")] = 42,
    directory: Annotated[Path, typer.Option("--dir", help="Folder for the demo workspace and report.")] = Path(
        "shopseg-demo"
    ),
) -> None:
    """Generate a store, build features, RFM and lifecycle segments, and write a report."""
    from shopseg.datasets import generate_store, write_store
    from shopseg.features import build_features
    from shopseg.reports import summarize_store, write_report
    from shopseg.segments.lifecycle import build_lifecycle
    from shopseg.segments.rfm import build_rfm

    if customers < 100:
        from shopseg.errors import InvalidParameterError

        raise InvalidParameterError(f"The '--customers' option must be at least 100. Got {customers} instead.")
    engine = get_setting("engine")
    ws = Workspace.init(directory / "shopseg.duckdb", overwrite=True)
    state: dict[str, Any] = {}
    steps: list[tuple[str, Callable[[], Any]]] = [
        (f"Generating a store of {customers:,} customers", lambda: state.update(tables=generate_store(customers, seed=seed))),
        ("Loading it into the workspace", lambda: write_store(ws, state["tables"])),
        (f"Building customer features ({engine})", lambda: build_features(ws, engine=engine, return_frame=False)),
        ("Scoring RFM segments", lambda: build_rfm(ws, engine=engine, return_frame=False)),
        ("Assigning lifecycle stages", lambda: build_lifecycle(ws, engine=engine)),
        ("Writing the HTML report", lambda: state.update(report=write_report(ws, directory / "report.html"))),
    ]
    timings = []
    with progress() as bar:
        task = bar.add_task("demo", total=len(steps))
        for label, step in steps:
            bar.update(task, description=label)
            start = time.perf_counter()
            step()
            timings.append((label, round(time.perf_counter() - start, 2)))
            bar.advance(task)
        bar.update(task, description="Done")
    summary = summarize_store(ws, extended=False)
    _print_summary(summary, timings)
    ws.close()
    console.print(f"\nWorkspace: [bold]{ws.path.resolve()}[/]")
    console.print(f"Report:    [bold]{Path(state['report']).resolve()}[/]  (open it in a browser)")


def _print_summary(summary: Any, timings: list[tuple[str, float]]) -> None:
    k = summary.kpis
    print_table(
        "Store",
        ["customers", "buyers", "orders", "revenue", "avg order value", "period"],
        [[k["customers"], k["buyers"], k["orders"], k["revenue"], k["avg_order_value"], f"{k['first_order']} .. {k['last_order']}"]],
    )
    rfm = summary.sections.get("rfm_segments")
    if rfm is not None:
        from shopseg.cli.rfm import render_segment_table

        console.print(render_segment_table(rfm, "RFM segments"))
    life = summary.sections.get("lifecycle")
    if life is not None:
        print_table("Lifecycle stages", list(life.columns), life.values.tolist())
    print_table("Steps", ["step", "seconds"], timings)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
