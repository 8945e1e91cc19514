"""``ingest()``: load one file into the workspace, validated and atomic.

The file is read by DuckDB into a staging table, parsed and checked with SQL,
and written to the canonical tables inside one workspace transaction together
with its :class:`~shopseg.io.report.IngestReport` in the ingest log. Any error
rolls everything back: the workspace is exactly as before.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

import duckdb

from shopseg._connection import set_memory_limit
from shopseg._sql import quote
from shopseg.config import get_setting
from shopseg.errors import InvalidParameterError, SchemaError, did_you_mean
from shopseg.io import orders, tables
from shopseg.io._read import Reader, Source, check_path, infer_format, read_source
from shopseg.io.attributes import refresh_attributes
from shopseg.io.columns import INPUTS, KINDS, Field, Resolved, decimal_comma, resolve_columns
from shopseg.io.health import store_health
from shopseg.io.mapping import describe_unmapped
from shopseg.io.presets import Preset, detect_preset, get_preset, suggest_preset
from shopseg.io.profile import ColumnProfile, profile_columns, rank_candidates
from shopseg.io.report import BLANK, IngestReport, log_report
from shopseg.io.validate import Staged, parse_checks, run_checks, stage_rows
from shopseg.workspace import INGEST_LOG, Workspace

__all__ = ["ingest", "load_resolved", "refresh_derived", "quiet_progress", "drop_temp"]

Progress = Callable[[str], None]


def ingest(
    workspace: Workspace,
    kind: str,
    path: str | os.PathLike[str],
    *,
    preset: str | None = None,
    fmt: str | None = None,
    mapping: Mapping[str, str] | None = None,
    encoding: str = "utf-8",
    date_format: str | None = None,
    decimal: str = ".",
    existing: str = "error",
    progress: Progress | None = None,
) -> IngestReport:
    """Validate a file and load it into the workspace's canonical tables, all or nothing.

    Parameters
    ----------
    workspace : Workspace
        An open, writable workspace.
    kind : {"customers", "orders", "products", "events", "survey_answers"}
        What the file holds. ``orders`` files have one row per order line.
    path : str or PathLike
        The source file.
    preset : str, default=None
        A built-in one-file spec (see :data:`~shopseg.io.PRESETS`): ``online_retail``,
        ``cdnow``, ``cdnow_sample``, ``shopify`` (orders), ``shopify_customers``, with ``path`` as its file. When None,
        a preset is chosen from the header if one fits.
    fmt : {"csv", "parquet", "jsonl"}, default=None
        Inferred from the extension when None.
    mapping : dict of str to str, default=None
        Canonical column -> source column, overriding preset and same-name matches.
    encoding : str, default="utf-8"
        Text encoding of CSV files (``"utf-8"``, ``"latin-1"`` or ``"utf-16"``).
    date_format : str, default=None
        A ``strptime`` format for the file's timestamps when they are not ISO 8601.
    decimal : {".", ","}, default="."
        The decimal mark of the file's numbers. With ``","`` (European spreadsheets) a number reads
        ``1.234,50`` or ``1 234,50``: dots and spaces group thousands, the comma marks the decimals.
    existing : {"error", "skip", "replace"}, default="error"
        Orders only: an order already stored refuses the file, is skipped, or is replaced by the file's
        (a newer export: its refunds and cancellations since). See :mod:`shopseg.io.orders`.
    progress : callable, default=None
        Called with a short description at each stage (the CLI shows them).

    Returns
    -------
    IngestReport
        Rows read, kept and flagged, reasons, rows added per table, seconds.

    Raises
    ------
    SchemaError
        The file is empty, undecodable, lacks required columns, or has rows that
        cannot be loaded; the message names the rows, the column, and the fix.
    InvalidParameterError
        ``kind``, ``fmt``, ``preset``, ``encoding`` or ``mapping`` is invalid.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from shopseg.workspace import Workspace
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "c.csv").write_text("customer_id,email\\n1,a@x.com\\n2,b@x.com\\n")
    >>> ws = Workspace.init(d / "ws.duckdb")
    >>> ingest(ws, "customers", d / "c.csv").rows_kept
    2
    >>> ws.close()
    """
    if kind not in KINDS:
        raise InvalidParameterError(
            f"The 'kind' parameter of ingest must be one of {list(KINDS)}. Got {kind!r} instead.{did_you_mean(kind, KINDS)}"
        )
    if workspace.read_only:
        raise InvalidParameterError(f"{workspace.path}: the workspace is open read-only; ingest needs write access.")
    if decimal not in (".", ","):
        raise InvalidParameterError(f"The 'decimal' parameter of ingest must be '.' or ','. Got {decimal!r} instead.")
    orders.check_existing(existing, "ingest")
    path = Path(path)
    check_path(path)
    fmt = infer_format(path, fmt)
    chosen = get_preset(preset, kind) if preset else None
    if chosen is None and fmt == "csv":
        name = detect_preset(path, fmt, kind)
        chosen = get_preset(name, kind) if name else None
    notify = progress or (lambda _msg: None)
    start = time.perf_counter()
    with quiet_progress(workspace.con):
        with workspace.transaction() as con:
            base = _totals_base(workspace, existing) if kind == "orders" else None
            try:
                report = _ingest(
                    con, kind, path, fmt, chosen, dict(mapping or {}), encoding, date_format, notify, decimal, existing
                )
                if kind == "customers":
                    refresh_attributes(con)
                if kind == "orders":
                    for measure in ("prices", "quantities"):  # a file's own columns: real values
                        workspace.set_meta(f"{measure}_available", "true")
                report.elapsed_s = time.perf_counter() - start
                log_report(con, report, INGEST_LOG)
            finally:
                drop_temp(con, keep=orders.ORDERS if base else None)
        if kind == "orders":
            report.warnings += refresh_derived(workspace, notify, base=base)
    notify("done")
    return report


def _totals_base(workspace: Workspace, existing: str = "error") -> str | None:
    """What ``order_totals`` can be built on after an orders ingest, judged before it writes: ``"empty"``
    (no orders yet: the file's orders are all of them), ``"fresh"`` (the stored totals match the orders:
    the file's orders are added to them; an order already loaded is refused or skipped, so none is summed
    twice) or None (stale, or stored orders may be replaced: everything is summed again)."""
    from shopseg.features.order_totals import is_fresh

    if tables.is_empty(workspace.con, "orders"):
        return "empty"
    return "fresh" if existing != "replace" and is_fresh(workspace) else None


def refresh_derived(workspace: Workspace, notify: Progress, *, base: str | None = None) -> list[str]:
    """Re-sum ``order_totals`` and ``purchase_days`` in a transaction of their own, once the orders have landed.

    Not in the ingest's transaction: DuckDB holds what a transaction has written (and its staging
    tables) in memory until it ends, and the sums beside them could run out of ``ingest_memory_limit``
    at a million customers on a busy machine. Their stamp (:mod:`shopseg.features.order_totals`)
    is what makes this safe: tables that were not re-summed no longer match the orders, so every
    reader sums the lines itself until a writable ``features build`` re-sums them. Running out of
    memory here is therefore a warning (returned), not a failed ingest: the orders are in.

    ``base``: :func:`_totals_base`, judged before the ingest wrote. With one, the ingest's temporary table
    of its orders with their purchase sums (``_shopseg_orders``, :mod:`shopseg.io.orders`) becomes
    ``order_totals`` (``"empty"``) or is added to it (``"fresh"``) instead of summing every line again,
    and is dropped here. Without (an import spec, or stale totals) everything is summed again.

    The tables are the features' definitions, imported here rather than at the top: io sits below
    features (as does ``datasets.write_store``, which reaches up the same way).
    """
    from shopseg.features.order_totals import refresh_order_totals

    notify("summing order totals")
    added = orders.ORDERS if base else None
    try:
        with workspace.transaction():
            refresh_order_totals(workspace, added=added, replace=base == "empty")
    except duckdb.OutOfMemoryException:
        return [
            "order totals were not re-summed within ingest_memory_limit: the orders are loaded, and features "
            "sum the order lines (same values, slower) until 'shopseg features build' re-sums them"
        ]
    finally:
        if added:
            workspace.con.execute(f"DROP TABLE IF EXISTS temp.main.{added}")
    return []


def _ingest(
    con: duckdb.DuckDBPyConnection,
    kind: str,
    path: Path,
    fmt: str,
    preset: Preset | None,
    mapping: dict[str, str],
    encoding: str,
    date_format: str | None,
    notify: Progress,
    decimal: str = ".",
    existing: str = "error",
) -> IngestReport:
    notify(f"reading {path.name}")
    reader = preset.reader if preset else Reader()
    materialize = bool(preset and preset.needs_file_order)
    encoding = (preset.encoding if preset else None) or encoding
    source = read_source(con, path, fmt, reader, encoding=encoding, materialize=materialize)
    if preset is None:
        name = detect_preset(path, fmt, kind, list(source.columns))
        preset = get_preset(name, kind) if name else None
    try:
        resolved = resolve_columns(
            kind,
            source,
            mapping,
            preset.columns if preset else {},
            preset.name if preset else None,
            _candidates(con, kind, source),
        )
    except SchemaError as exc:
        hint = suggest_preset(kind, list(source.columns)) if preset is None else None
        if hint is None:
            raise
        raise SchemaError(
            f"{exc} Hint: the header looks like the '{hint}' preset's; try --preset {hint}.",
            table=exc.table,
            column=exc.column,
            rows=exc.rows,
        ) from exc
    if decimal == ",":
        decimal_comma(kind, source, resolved)
    if preset and preset.needs_file_order and not source.materialized:  # detected from the header
        source.materialize(con)
    if preset and preset.fill_down:
        source.fill_down(con, *preset.fill_down)
    report = IngestReport(kind=kind, source=path.name, fmt=fmt, preset=preset.name if preset else None)
    _note_unmapped(con, kind, source, resolved, report)
    marks = [
        (label, sql) for label, sql, needs in (preset.marks if preset else ()) if set(needs) <= set(source.columns)
    ]
    fields = preset.fields if preset else None
    report = load_resolved(
        con, kind, source, resolved, date_format, report, notify, marks=marks, fields=fields, existing=existing
    )
    report.warnings = store_health(con)
    return report


def _probe(con: duckdb.DuckDBPyConnection, source: Source) -> duckdb.DuckDBPyConnection:
    """Where to profile a source: a file not yet read goes through a cursor of its own, so a row that does not
    read cannot abort the ingest's transaction (the load then reports it); a materialised source is already read."""
    return con if source.materialized else con.cursor()


def _candidates(con: duckdb.DuckDBPyConnection, kind: str, source: Source) -> Callable[[Field], list[str]]:
    """Columns whose values fit a field, profiled once on first use (only on the error path)."""
    cache: dict[str, ColumnProfile] = {}

    def ranked(fld: Field) -> list[str]:
        if not cache:
            probe = _probe(con, source)
            try:
                cache.update(profile_columns(probe, source.from_sql, [c for c in source.columns if c != "_n_fields"]))
            except duckdb.Error:  # rows that do not read: suggest by name only
                return [c for c in source.columns if c != "_n_fields" and did_you_mean(fld.name, [c])]
            finally:
                if probe is not con:
                    probe.close()
        return rank_candidates(fld, cache, others=tuple(f.name for f in INPUTS[kind]))

    return ranked


def _note_unmapped(
    con: duckdb.DuckDBPyConnection, kind: str, source: Source, resolved: Resolved, report: IngestReport
) -> None:
    """List the columns nothing reads (with the field each looks like); customers keep them as attributes."""
    read = " ".join(resolved.exprs.values())
    rest = {c: c for c in source.columns if c != "_n_fields" and quote(c) not in read}
    probe = _probe(con, source)
    try:
        report.unmapped, attrs = describe_unmapped(
            probe, kind, source.from_sql, rest, set(resolved.exprs), keep=kind == "customers"
        )
    except duckdb.Error:  # the file does not read cleanly: the load that follows names the row and the cause
        report.unmapped, attrs = [(c, None) for c in rest], None
    finally:
        if probe is not con:
            probe.close()
    if attrs:
        resolved.exprs["attributes"] = attrs[0]


def load_resolved(
    con: duckdb.DuckDBPyConnection,
    kind: str,
    source: Source,
    resolved: Resolved,
    date_format: str | None,
    report: IngestReport,
    notify: Progress,
    *,
    marks: Sequence[tuple[str, str]] = (),
    fields: int | None = None,
    existing: str = "error",
) -> IngestReport:
    """Parse, check and write a source whose columns are resolved (a file, or a spec's assembled rows);
    ``marks`` are extra (label, SQL predicate) reasons counted on kept rows; ``existing``: see :func:`ingest`."""
    notify("parsing" + (f" {source.n_rows:,} rows" if source.materialized else ""))
    staged = stage_rows(con, kind, source, resolved, marks, date_format, fields)
    notify(f"validating {source.n_rows:,} rows")
    report.rows_read = report.rows_read or source.n_rows
    if kind == "orders":
        not_null, checks = orders.order_checks(staged, existing)
        counts = run_checks(con, staged, parse_checks(kind, staged, not_null) + checks)
        orders.check_orders_across_rows(con, staged, checks, existing)
        notify(f"writing {counts['__kept__']:,} order lines")
        report.added, report.updated = orders.write_orders(con, staged, checks, existing)
        report.rows_kept = counts["__kept__"]  # the file's rows: order_lines also gets refunds' return lines
    else:
        report = _ingest_table(con, kind, staged, report, notify)
        counts = report.reasons
    report.rows_flagged = counts.pop("__flagged__", report.rows_flagged) + staged.blank
    counts.pop("__kept__", None)
    if staged.blank:
        counts[BLANK] = staged.blank
    report.reasons = counts
    return report


def _ingest_table(
    con: duckdb.DuckDBPyConnection, kind: str, staged: Staged, report: IngestReport, notify: Progress
) -> IngestReport:
    not_null, checks = tables.table_checks(con, kind, staged)
    counts = run_checks(con, staged, parse_checks(kind, staged, not_null) + checks)
    tables.check_table_across_rows(con, kind, staged, checks)
    notify(f"writing {counts['__kept__']:,} {kind} rows")
    added, updated, extra = tables.write_table(con, kind, staged, checks)
    report.added, report.updated = added, updated
    report.rows_kept = added.get(kind, 0) + updated.get(kind, 0)
    counts.update(extra)
    if extra:
        skipped = sum(extra.values())
        counts["__flagged__"] = counts.get("__flagged__", 0) + skipped
    report.reasons = counts
    return report


@contextlib.contextmanager
def quiet_progress(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Hide DuckDB's own progress bar (the CLI draws one) and cap its memory at ``ingest_memory_limit``
    for the load; restore both settings after."""
    row = con.execute("SELECT current_setting('enable_progress_bar')").fetchone()
    progress = bool(row[0]) if row else False
    limit = str(get_setting("ingest_memory_limit")).strip()
    con.execute("SET enable_progress_bar = false")
    if limit:
        try:
            set_memory_limit(con, limit)
        except duckdb.Error as exc:
            raise InvalidParameterError(
                f"The 'ingest_memory_limit' setting must be a DuckDB memory size such as '400MB' or '2GB'. "
                f"Got {limit!r} instead."
            ) from exc
    try:
        yield
    except duckdb.OutOfMemoryException as exc:
        if limit:  # the CLI's message names the cap in force (else the workspace's, its default)
            exc.memory_setting = "ingest_memory_limit"  # type: ignore[attr-defined]
        raise
    finally:
        con.execute(f"SET enable_progress_bar = {str(progress).lower()}")
        if limit:  # back to the connection's cap as configured (DuckDB shows it rounded: 1500MB reads "1.3 GiB")
            workspace_cap = str(get_setting("duckdb_memory_limit")).strip()
            if workspace_cap:
                set_memory_limit(con, workspace_cap)
            else:
                con.execute("RESET memory_limit")


def drop_temp(con: duckdb.DuckDBPyConnection, keep: str | None = None) -> None:
    """Drop the staging views and tables (all named ``_shopseg_*``) but ``keep``."""
    try:
        for kind, catalog in (("VIEW", "duckdb_views()"), ("TABLE", "duckdb_tables()")):
            names = con.execute(
                f"SELECT {kind.lower()}_name FROM {catalog} WHERE temporary AND starts_with({kind.lower()}_name, '_shopseg_')"
            ).fetchall()
            for (name,) in names:
                if name != keep:
                    con.execute(f"DROP {kind} IF EXISTS temp.main.{name}")
    except duckdb.Error:  # the transaction is already aborted; its ROLLBACK discards them
        return
