"""``ingest_spec()``: load every table of an import spec in one transaction, or plan it without writing.

Tables load in the order customers, products, orders, events, survey answers,
each through :func:`~shopseg.io.assemble.assemble_table` and the same checks
and writes as a single file. Everything lands or nothing does. A plan runs the
very same load inside the transaction and rolls it back, so what it shows
(columns per canonical field with sample values, join match rates, rows per
table, warnings) is what a load would do.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from shopseg.errors import InvalidParameterError
from shopseg.io.assemble import Assembled, assemble_table
from shopseg.io.attributes import refresh_attributes
from shopseg.io.health import key_match_warning, store_health
from shopseg.io.ingest import Progress, drop_temp, load_resolved, quiet_progress, refresh_derived
from shopseg.io.orders import check_existing
from shopseg.io.report import IngestReport, log_report
from shopseg.io.spec import ImportSpec, load_spec
from shopseg.io.spec_files import SpecFiles
from shopseg.workspace import INGEST_LOG, Workspace

__all__ = ["TablePlan", "SpecReport", "ingest_spec"]


@dataclass
class TablePlan:
    """What one table of the spec reads and (would) write."""

    kind: str
    file: str
    rows_in_file: int
    blank_rows: int
    filtered_out: int
    joins: list[tuple[str, int, int]]
    columns: dict[str, tuple[str, list[str]]]
    unmapped: list[tuple[str, str | None]]
    report: IngestReport


@dataclass
class SpecReport:
    """Every table's plan and report, and the warnings about the whole load."""

    tables: list[TablePlan] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    planned: bool = False
    elapsed_s: float = 0.0


class _Rollback(Exception):
    """Ends a plan: the transaction rolls back."""


def ingest_spec(
    workspace: Workspace,
    spec: ImportSpec | str | os.PathLike[str],
    *,
    plan: bool = False,
    existing: str = "error",
    progress: Progress | None = None,
) -> SpecReport:
    """Load the store a spec describes, all tables in one transaction; with ``plan`` write nothing.
    ``existing``: what the orders table does with orders already stored (:func:`shopseg.io.ingest`).

    Raises
    ------
    SchemaError
        A spec problem, a file that cannot be read, a column or row that cannot be
        loaded; the message names the spec entry or the file, row and column.
    """
    if workspace.read_only and not plan:
        raise InvalidParameterError(f"{workspace.path}: the workspace is open read-only; ingest needs write access.")
    check_existing(existing, "ingest_spec")
    if not isinstance(spec, ImportSpec):
        spec = load_spec(Path(spec))
    notify = progress or (lambda _msg: None)
    out = SpecReport(planned=plan)
    start = time.perf_counter()
    with quiet_progress(workspace.con):
        try:
            with workspace.transaction() as con:
                try:
                    _load_all(workspace, con, spec, out, notify, existing)
                finally:
                    drop_temp(con)
                if plan:
                    raise _Rollback
            if any(t.kind == "orders" for t in out.tables):  # once the orders have landed (refresh_derived)
                out.warnings += refresh_derived(workspace, notify)
        except _Rollback:
            pass
    out.elapsed_s = time.perf_counter() - start
    notify("done")
    return out


def _load_all(
    ws: Workspace, con: duckdb.DuckDBPyConnection, spec: ImportSpec, out: SpecReport, notify: Progress, existing: str
) -> None:
    files = SpecFiles(con, spec)
    for kind, table in spec.ordered_tables():
        notify(f"assembling {kind} from {table.from_}")
        assembled = assemble_table(con, files, kind, table)
        shown = _samples(con, assembled)
        report = IngestReport(
            kind=kind,
            source=assembled.source.name,
            fmt=files.get(table.from_).path.suffix[1:] or "csv",
            preset="spec",
            rows_read=assembled.rows_in_file,
        )
        if kind == "orders":  # the customers known before the orders add their own buyers
            con.execute("CREATE OR REPLACE TEMP TABLE _shopseg_known AS SELECT customer_id FROM customers")
        report = load_resolved(
            con,
            kind,
            assembled.source,
            assembled.resolved,
            None,
            report,
            notify,
            marks=assembled.marks,
            existing=existing,
        )
        _count_skipped(report, assembled)
        if kind == "customers":
            refresh_attributes(con)
        if kind == "orders":
            for column, measure in (("unit_price", "prices"), ("quantity", "quantities")):
                ws.set_meta(f"{measure}_available", "false" if column in assembled.constants else "true")
            if _count(con, "_shopseg_known"):
                out.warnings += _order_key_warning(con)
        log_report(con, report, INGEST_LOG)
        out.tables.append(
            TablePlan(
                kind,
                table.from_,
                assembled.rows_in_file,
                assembled.blank_rows,
                assembled.filtered_out,
                assembled.joins,
                shown,
                assembled.unmapped,
                report,
            )
        )
        out.warnings += _join_warnings(kind, assembled)
        if kind == "orders" and "unit_price" in assembled.constants:
            out.warnings.append(
                f"orders: every unit_price is the constant {assembled.constants['unit_price']} (the "
                "store has no prices): revenue, M of RFM, order values and CLV are unavailable; "
                "recency, frequency, P(alive) and expected purchases still work."
            )
    out.warnings += store_health(con)


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    row = con.execute(f'SELECT count(*) FROM "{table}"').fetchone()
    return int(row[0]) if row else 0


def _count_skipped(report: IngestReport, assembled: Assembled) -> None:
    if assembled.blank_rows:  # flagged, as a one-file ingest counts them
        report.reasons[f"blank rows in {assembled.source.name} (skipped)"] = assembled.blank_rows
        report.rows_flagged += assembled.blank_rows
    if assembled.merged:
        report.reasons["rows of a key already seen, merged into one (kept, per the spec's duplicates)"] = (
            assembled.merged
        )
    if assembled.filtered_out:
        report.reasons["rows left out by the spec's filter or inner join (skipped)"] = assembled.filtered_out


def _samples(con: duckdb.DuckDBPyConnection, assembled: Assembled) -> dict[str, tuple[str, list[str]]]:
    """Canonical column -> (where it comes from, up to 3 distinct sample values as read)."""
    exprs = assembled.resolved.exprs
    if not exprs:
        return {}
    values = ", ".join(f"{e} AS _c{i}" for i, e in enumerate(exprs.values()))  # window functions allowed
    cols = ", ".join(f"list(DISTINCT CAST(_c{i} AS VARCHAR))[1:3]" for i in range(len(exprs)))
    row = con.execute(f"SELECT {cols} FROM (SELECT {values} FROM (SELECT * FROM _shopseg_src LIMIT 1000))").fetchone()
    assert row is not None
    return {name: (assembled.origins.get(name, "?"), [str(v) for v in (row[i] or [])]) for i, name in enumerate(exprs)}


def _join_warnings(kind: str, assembled: Assembled) -> list[str]:
    out = []
    for file, matched, total in assembled.joins:
        text = key_match_warning(
            f"{kind} rows found their row in '{file}'",
            matched,
            total,
            f"check the join keys of tables.{kind}.join (file '{file}'); unmatched rows get empty values from it",
        )
        if text:
            out.append(text)
    return out


def _order_key_warning(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Orders whose customer id the customers table did not hold before the orders loaded."""
    row = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE customer_id IN (SELECT customer_id FROM _shopseg_known)) FROM orders"
    ).fetchone()
    assert row is not None
    text = key_match_warning(
        "orders have a customer known from the customers table",
        int(row[1]),
        int(row[0]),
        "map orders' customer_id to the key the customers file uses (join the customers file "
        "on the per-order key and map customer_id to its person key)",
    )
    return [text] if text else []
