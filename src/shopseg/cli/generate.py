"""`shopseg generate`: a deterministic synthetic store with planted customer groups.

Without ``--out`` the store is written into the workspace (created if it does
not exist; it must be empty). With ``--out DIR`` every table becomes
``DIR/<table>.parquet`` (``planted_groups.parquet`` holds the truth), ready for
``shopseg ingest`` or the benchmarks.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from shopseg.cli._common import console, open_workspace, print_table, progress
from shopseg.config import get_setting

if TYPE_CHECKING:
    import pyarrow as pa

    from shopseg.workspace import Workspace

__all__ = ["generate", "register"]


def generate(
    customers: Annotated[int, typer.Option("--customers", "-n", min=1, help="Number of customers.")] = 10_000,
    seed: Annotated[int, typer.Option(min=0, help="Random seed; the same seed gives identical tables.")] = 0,
    end_date: Annotated[
        str | None,
        typer.Option(
            "--end-date",
            "--end",
            help="Last day of the period (YYYY-MM-DD); default today, so live and batch agree. Pass it for a "
            "reproducible store.",
        ),
    ] = None,
    years: Annotated[float, typer.Option(min=1.0, max=10.0, help="Length of the period in years.")] = 2.0,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write Parquet files into this folder instead of the workspace.")
    ] = None,
) -> None:
    """Generate a synthetic store (customers, orders, lines, products, events, survey) with planted groups."""
    from shopseg.datasets import iter_store
    from shopseg.datasets.generator import TABLE_ORDER, validate_arguments
    from shopseg.datasets.write import check_empty

    end_date = end_date or default_end_date()
    validate_arguments(customers, seed=seed, end_date=end_date, years=years)
    ws = None if out is not None else _target_workspace()
    where = str(out) if out is not None else str(ws.path if ws else "")
    tables: dict[str, pa.Table] = {}
    try:
        if ws is not None:
            check_empty(ws)
        with progress() as bar:
            tasks = {name: bar.add_task(f"generate {name}", total=1) for name in TABLE_ORDER}
            for name, table in iter_store(customers, seed=seed, end_date=end_date, years=years):
                tables[name] = table
                bar.update(tasks[name], completed=1, description=f"generate {name} ({table.num_rows:,} rows)")
            _write(bar, ws, out, tables, where)
    finally:
        if ws is not None:
            ws.close()
    print_table(f"Synthetic store, seed {seed}", ["table", "rows"], [[n, tables[n].num_rows] for n in TABLE_ORDER])
    console.print(f"Written to [bold]{where}[/]")
    console.print(f"Planted groups: {_group_counts(tables['planted_groups'])}")


def _write(bar: object, ws: Workspace | None, out: Path | None, tables: dict[str, pa.Table], where: str) -> None:
    from shopseg.datasets import write_parquet, write_store

    task = bar.add_task(f"write to {where}", total=len(tables))  # type: ignore[attr-defined]

    def on_table(name: str, rows: int) -> None:
        bar.advance(task)  # type: ignore[attr-defined]

    if out is not None:
        write_parquet(out, tables, on_table=on_table)
    elif ws is not None:
        write_store(ws, tables, on_table=on_table)


def default_end_date() -> str:
    """Today (UTC), the default last day of a generated store: features, snapshots and live segments all date it."""
    import datetime as dt

    return dt.datetime.now(dt.UTC).date().isoformat()


def _target_workspace() -> Workspace:
    path = Path(get_setting("workspace"))
    if path.exists():
        return open_workspace()
    from shopseg.workspace import Workspace

    return Workspace.init(path)


def _group_counts(truth: pa.Table) -> str:
    counts = truth.column("group").value_counts().to_pylist()
    return ", ".join(f"{c['values']} {c['counts']:,}" for c in sorted(counts, key=lambda c: c["values"]))


def register(app: typer.Typer) -> None:
    app.command("generate")(generate)
