"""`shopseg generate`: a deterministic synthetic store with planted customer groups.

Without ``--out`` the store is written into the workspace (created if it does
not exist; it must be empty). With ``--out DIR`` every table becomes
``DIR/<table>.parquet`` (``planted_groups.parquet`` holds the truth), ready for
``shopseg ingest`` or the benchmarks; the files are written chunk by chunk of
customers, so memory stays flat whatever the store's size.
"""

from __future__ import annotations

from collections.abc import Iterator
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
    from shopseg.datasets.generator import validate_arguments
    from shopseg.datasets.write import check_empty

    end_date = end_date or default_end_date()
    validate_arguments(customers, seed=seed, end_date=end_date, years=years)
    if out is not None:
        rows, groups = _write_chunks(out, customers, seed, end_date, years)
        where = str(out)
    else:
        ws = _target_workspace()
        where = str(ws.path)
        try:
            check_empty(ws)
            tables = _write_workspace(ws, customers, seed, end_date, years)
        finally:
            ws.close()
        rows = {name: table.num_rows for name, table in tables.items()}
        groups = _group_counts(tables["planted_groups"])
    print_table(f"Synthetic store, seed {seed}", ["table", "rows"], [[n, rows[n]] for n in rows])
    console.print(f"Written to [bold]{where}[/]")
    console.print(f"Planted groups: {', '.join(f'{g} {n:,}' for g, n in sorted(groups.items()))}")


def _write_workspace(ws: Workspace, customers: int, seed: int, end_date: str, years: float) -> dict[str, pa.Table]:
    """Generate the whole store, then write it into the workspace in one transaction."""
    from shopseg.datasets import iter_store, write_store
    from shopseg.datasets.generator import TABLE_ORDER

    tables: dict[str, pa.Table] = {}
    with progress() as bar:
        tasks = {name: bar.add_task(f"generate {name}", total=1) for name in TABLE_ORDER}
        for name, table in iter_store(customers, seed=seed, end_date=end_date, years=years):
            tables[name] = table
            bar.update(tasks[name], completed=1, description=f"generate {name} ({table.num_rows:,} rows)")
        task = bar.add_task(f"write to {ws.path}", total=len(tables))
        write_store(ws, tables, on_table=lambda _name, _rows: bar.advance(task))
    return tables


def _write_chunks(
    out: Path, customers: int, seed: int, end_date: str, years: float
) -> tuple[dict[str, int], dict[str, int]]:
    """Generate and append the Parquet files chunk by chunk (memory flat in the store's size);
    return rows per table and customers per planted group."""
    from shopseg.datasets import iter_chunks, write_parquet_chunks
    from shopseg.datasets.generator import CHUNK_CUSTOMERS, TABLE_ORDER

    groups: dict[str, int] = {}

    def counted(chunks: Iterator[dict[str, pa.Table]]) -> Iterator[dict[str, pa.Table]]:
        for chunk in chunks:
            for name, n in _group_counts(chunk["planted_groups"]).items():
                groups[name] = groups.get(name, 0) + n
            yield chunk
            del chunk

    with progress() as bar:
        task = bar.add_task(f"generate and write to {out}", total=-(-customers // CHUNK_CUSTOMERS))
        chunks = iter_chunks(customers, seed=seed, end_date=end_date, years=years)
        rows = write_parquet_chunks(out, counted(chunks), on_chunk=lambda _rows: bar.advance(task))
    return {name: rows[name] for name in TABLE_ORDER}, groups


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


def _group_counts(truth: pa.Table) -> dict[str, int]:
    return {c["values"]: c["counts"] for c in truth.column("group").value_counts().to_pylist()}


def register(app: typer.Typer) -> None:
    app.command("generate")(generate)
