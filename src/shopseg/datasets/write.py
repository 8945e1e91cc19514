"""Write a generated store into a workspace (one transaction) or into Parquet files."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from shopseg.datasets.generator import GENERATOR_META_KEY, TABLE_ORDER
from shopseg.errors import SchemaError, WorkspaceError
from shopseg.schema import TABLES
from shopseg.workspace import INGEST_LOG, Workspace

__all__ = ["TRUTH_TABLE", "META_KEY", "check_empty", "write_store", "write_parquet", "write_parquet_chunks"]

TRUTH_TABLE = "_truth_planted_groups"
META_KEY = "synthetic_store"
_VIEW = "_shopseg_generated"

OnTable = Callable[[str, int], None]


def write_store(workspace: Workspace, tables: Mapping[str, pa.Table], *, on_table: OnTable | None = None) -> None:
    """Append a generated store to an empty workspace, in one transaction.

    The canonical tables are appended; ``planted_groups`` (if present) is
    stored as the table ``_truth_planted_groups``. Each table gets a line in
    the ingest log (format ``synthetic``) and the generator's arguments are
    kept in the workspace meta under ``synthetic_store``.

    Parameters
    ----------
    workspace : Workspace
        An open, writable workspace whose canonical tables are all empty.
    tables : mapping of str to pyarrow.Table
        As returned by :func:`shopseg.datasets.generate_store`.
    on_table : callable, optional
        Called as ``on_table(name, rows)`` after each table is written.

    Raises
    ------
    WorkspaceError
        If the workspace already holds rows: generated ids start at 1 and
        would collide with (or silently join onto) the rows already there.
    SchemaError
        If a canonical table is missing or its columns differ from the schema.

    Examples
    --------
    >>> import tempfile, os
    >>> from shopseg.datasets import generate_store
    >>> ws = Workspace.init(os.path.join(tempfile.mkdtemp(), "ws.duckdb"))
    >>> write_store(ws, generate_store(100, seed=3))
    >>> ws.row_counts()["customers"]
    100
    >>> ws.close()
    """
    _check_tables(tables)
    check_empty(workspace)
    meta = _meta(tables)
    with workspace.transaction() as con:
        row = con.execute(f'SELECT coalesce(max(ingest_id), 0) FROM "{INGEST_LOG}"').fetchone()
        next_id = int(row[0]) + 1 if row else 1
        now = datetime.now(UTC).replace(tzinfo=None)
        for name in (n for n in TABLE_ORDER if n in TABLES):
            cols = ", ".join(f'"{c}"' for c in TABLES[name].names)
            _insert(con, f'INSERT INTO "{name}" ({cols}) SELECT {cols} FROM {_VIEW}', tables[name])
            rows = tables[name].num_rows
            con.execute(
                f'INSERT INTO "{INGEST_LOG}" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
                [next_id, name, _source(meta), "synthetic", rows, rows, 0, json.dumps(meta), now],
            )
            next_id += 1
            if on_table:
                on_table(name, rows)
        if "planted_groups" in tables:
            truth = tables["planted_groups"]
            _insert(con, f'CREATE OR REPLACE TABLE "{TRUTH_TABLE}" AS SELECT customer_id, "group" FROM {_VIEW}', truth)
            if on_table:
                on_table("planted_groups", truth.num_rows)
        workspace.set_meta(META_KEY, json.dumps(meta))
        from shopseg.features.order_totals import refresh_order_totals  # datasets sit below features

        refresh_order_totals(workspace)  # the purchase value of each order, as ingest keeps it


def check_empty(workspace: Workspace) -> None:
    """Raise :class:`WorkspaceError` unless every canonical table of ``workspace`` is empty."""
    filled = {name: rows for name, rows in workspace.row_counts().items() if rows}
    if filled:
        listed = ", ".join(f"{name} ({rows:,} rows)" for name, rows in filled.items())
        raise WorkspaceError(
            f"{workspace.path}: the workspace already holds data: {listed}. Expected an empty workspace: "
            "generated ids start at 1 and would collide with the rows already there. Hint: create a fresh "
            "workspace (`shopseg init --force`) or write Parquet files with `shopseg generate --out DIR`."
        )


def write_parquet(
    directory: str | os.PathLike[str], tables: Mapping[str, pa.Table], *, on_table: OnTable | None = None
) -> list[Path]:
    """Write every table to ``<directory>/<name>.parquet`` (zstd); return the paths.

    The files can be loaded with ``shopseg ingest`` and read by the benchmarks;
    ``planted_groups.parquet`` holds the truth.
    """
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in (n for n in TABLE_ORDER if n in tables):
        path = out / f"{name}.parquet"
        pq.write_table(tables[name], path, compression="zstd")
        paths.append(path)
        if on_table:
            on_table(name, tables[name].num_rows)
    return paths


def write_parquet_chunks(
    directory: str | os.PathLike[str],
    chunks: Iterable[Mapping[str, pa.Table]],
    *,
    on_chunk: Callable[[Mapping[str, int]], None] | None = None,
) -> dict[str, int]:
    """Append each chunk's tables to ``<directory>/<name>.parquet`` (zstd) as they come; return rows per table.

    Only one chunk is in memory at a time (:func:`shopseg.datasets.iter_chunks`), so a store of any
    size is written with the memory of one chunk. ``on_chunk`` is called with the rows written so far.

    Examples
    --------
    >>> import tempfile
    >>> from shopseg.datasets import iter_chunks
    >>> rows = write_parquet_chunks(tempfile.mkdtemp(), iter_chunks(250, seed=1, chunk_customers=100))
    >>> rows["customers"], rows["products"]
    (250, 360)
    """
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    writers: dict[str, pq.ParquetWriter] = {}
    rows: dict[str, int] = {}
    try:
        for chunk in chunks:
            for name in (n for n in TABLE_ORDER if n in chunk):
                table = chunk[name]
                if name not in writers:
                    writers[name] = pq.ParquetWriter(out / f"{name}.parquet", table.schema, compression="zstd")
                writers[name].write_table(table)
                rows[name] = rows.get(name, 0) + table.num_rows
            del chunk, table  # let the chunk go before the next one is generated
            if on_chunk:
                on_chunk(rows)
    finally:
        for writer in writers.values():
            writer.close()
    return rows


def _insert(con: duckdb.DuckDBPyConnection, sql: str, table: pa.Table) -> None:
    con.register(_VIEW, table)
    try:
        con.execute(sql)
    finally:
        con.unregister(_VIEW)


def _check_tables(tables: Mapping[str, pa.Table]) -> None:
    problems = []
    for name, spec in TABLES.items():
        if name not in tables:
            problems.append(f"table '{name}' is missing")
            continue
        got = tables[name].column_names
        if got != spec.names:
            problems.append(f"table '{name}' has columns {got}; expected {spec.names}")
    if problems:
        raise SchemaError(f"write_store: {'; '.join(problems)}.", table=None)


def _meta(tables: Mapping[str, pa.Table]) -> dict[str, object]:
    truth = tables.get("planted_groups")
    raw = (truth.schema.metadata or {}).get(GENERATOR_META_KEY) if truth is not None else None
    return json.loads(raw) if raw else {}


def _source(meta: Mapping[str, object]) -> str:
    if not meta:
        return "generate"
    return f"generate n={meta['n_customers']} seed={meta['seed']}"
