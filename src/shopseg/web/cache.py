"""Dashboard aggregates that cost a scan of every order line or a model fit, kept per data version.

Three pages need work that grows with the store (at 1M customers, ten or more
seconds each): the overview's KPIs and monthly revenue, the predictions page's
purchase backtest (a BG/NBD fit) and the regions page's three regional
aggregates. Each is an :class:`Aggregate`: a compute function and the tables it
reads. :func:`aggregate` returns its value for the data as it is now:

1. in memory, when the **stamp** of its tables has not changed since it was
   computed. The stamp is cheap (catalog and row counts): each table's catalog
   id (a rebuild with ``CREATE OR REPLACE`` changes it) and row count, the
   ingest log and the workspace metadata, so an ingest, an erasure or a rebuilt
   feature, RFM or prediction table makes it differ;
2. otherwise from the table :data:`CACHE_TABLE` in the workspace, when its
   **fingerprint** matches: the count and a sum of row hashes of every table it
   reads, the workspace metadata and the shopseg version (about a second at 1M
   customers, against a minute of recomputation under load). A result computed
   before a server restart is reused; one computed over other data is not;
3. otherwise it is computed, stored in :data:`CACHE_TABLE` and kept in memory.

The work runs on its own DuckDB connection (:meth:`Workspace.cursor`), inside
one transaction (a consistent snapshot), without the app's lock, so the API,
the live engine and the other pages keep answering; one computation per
aggregate runs at a time and requests arriving meanwhile wait for it rather
than start another. :func:`start_warmup` (``shopseg serve`` calls it) runs them
all in a background thread at start-up, so a user's first page load finds them
ready, then rechecks their stamps every :data:`RECHECK_S` seconds and
recomputes what a change (an erasure, a saved segment) made out of date.

Stale results are not served: a change shopseg makes (ingest, erasure, a
rebuild) changes the stamp, and any change made by another process is caught
by the fingerprint when the server starts. What the stamp cannot see is a raw
SQL ``UPDATE`` run inside the serving process that keeps every row count; the
server holds the workspace file, so only code running in it could do that.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa

from shopseg._logging import get_logger
from shopseg.errors import WorkspaceError

if TYPE_CHECKING:
    from shopseg.api.deps import AppState
    from shopseg.workspace import Workspace

__all__ = [
    "Aggregate",
    "AGGREGATES",
    "CACHE_TABLE",
    "RECHECK_S",
    "aggregate",
    "start_warmup",
    "stop_warmup",
    "warm_aggregates",
    "stamp",
    "fingerprint",
]

CACHE_TABLE = "_shopseg_dashboard_cache"
_MEMORY = "dashboard_aggregates"
_FLIGHTS = "dashboard_aggregate_locks"
_HASHES = "dashboard_table_hashes"
_STOP = "dashboard_warmup_stop"
_ACTIVE = "dashboard_active_cursors"
RECHECK_S = 30.0
_ORDERS = ("orders", "order_lines")
_log = get_logger(__name__)


@dataclass(frozen=True)
class Aggregate:
    """A cached dashboard result: ``compute(workspace)`` and the tables it reads."""

    key: str
    tables: tuple[str, ...]
    compute: Callable[[Workspace], Any]
    revision: int = 1  # bump when compute changes what it returns (stored results of older revisions are ignored)


def _order_totals(ws: Workspace) -> Any:
    from shopseg.web.queries import order_totals

    return order_totals(ws)


def _regions(ws: Workspace) -> Any:
    from shopseg.web.queries import region_tables

    return list(region_tables(ws))


def _segment_sizes(ws: Workspace) -> Any:
    from shopseg.reports.aggregates import saved_segment_sizes

    return saved_segment_sizes(ws)


def _predictions(ws: Workspace) -> Any:
    from shopseg.reports.aggregates import prediction_summary

    return prediction_summary(ws)


def _backtest(ws: Workspace) -> Any:
    from shopseg.engine import get_engine
    from shopseg.web.queries import backtest_groups

    return backtest_groups(get_engine(ws, "duckdb"))


AGGREGATES: dict[str, Aggregate] = {
    a.key: a
    for a in (
        Aggregate("order_totals", (*_ORDERS, "customers"), _order_totals, revision=3),  # 3: net revenue, partial months
        Aggregate("segment_sizes", ("segment_definitions", "segment_snapshots", "customer_features"), _segment_sizes),
        Aggregate("predictions", ("customer_predictions", "customer_rfm"), _predictions),
        Aggregate("backtest", (*_ORDERS, "customers"), _backtest),
        Aggregate("regions", (*_ORDERS, "products", "customers", "customer_rfm", "customer_predictions"), _regions),
    )
}


# -- versions ------------------------------------------------------------------------
def _existing(ws: Workspace, tables: Sequence[str]) -> dict[str, int]:
    rows = ws.con.execute(
        "SELECT table_name, table_oid FROM duckdb_tables() WHERE list_contains(?, table_name)", [list(tables)]
    ).fetchall()
    return {str(name): int(oid) for name, oid in rows}


def _bookkeeping(ws: Workspace) -> list[Any]:
    from shopseg.workspace import INGEST_LOG, META_TABLE

    meta = ws.con.execute(
        f'SELECT count(*), coalesce(sum(hash(key, value)), 0)::VARCHAR FROM "{META_TABLE}"'
    ).fetchone()
    log = ws.con.execute(f'SELECT count(*), max(ingest_id) FROM "{INGEST_LOG}"').fetchone()
    return [list(meta or ()), list(log or ())]


def stamp(ws: Workspace, tables: Sequence[str]) -> str:
    """A cheap version of ``tables``: catalog ids, row counts, the ingest log and the metadata (milliseconds)."""
    present = _existing(ws, tables)
    parts: list[Any] = _bookkeeping(ws)
    for name in sorted(tables):
        if name in present:
            row = ws.con.execute(f'SELECT count(*) FROM "{name}"').fetchone()
            parts.append([name, present[name], int(row[0]) if row else 0])
    return json.dumps(parts)


def fingerprint(ws: Workspace, tables: Sequence[str], revision: int = 1, memo: dict[str, Any] | None = None) -> str:
    """A content version of ``tables``: row counts and sums of row hashes, the metadata, the shopseg version.

    ``memo`` keeps each table's hash under its catalog id, row count, ingest log
    and metadata, so aggregates reading the same tables hash them once.
    """
    from shopseg import __version__

    present = _existing(ws, tables)
    books = _bookkeeping(ws)
    parts: list[Any] = [__version__, revision, books[0]]
    for name in sorted(tables):
        if name not in present:
            continue
        count = ws.con.execute(f'SELECT count(*) FROM "{name}"').fetchone()
        seen = json.dumps([name, present[name], count[0] if count else 0, books])
        if memo is None or seen not in memo:
            row = ws.con.execute(f'SELECT count(*), coalesce(sum(hash(t)), 0)::VARCHAR FROM "{name}" AS t').fetchone()
            hashed = [name, *(row or ())]
            if memo is None:
                parts.append(hashed)
                continue
            memo[seen] = hashed
        parts.append(memo[seen])
    return json.dumps(parts)


# -- payloads (frames as Arrow IPC, the rest as JSON) --------------------------------------
def _encode(value: Any) -> Any:
    if isinstance(value, pd.DataFrame):
        sink = io.BytesIO()
        table = pa.Table.from_pandas(value, preserve_index=False)
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        return {"__frame__": base64.b64encode(sink.getvalue()).decode("ascii")}
    if isinstance(value, dict):
        return {"__dict__": [[_encode(k), _encode(v)] for k, v in value.items()]}
    if isinstance(value, list | tuple):
        return {"__tuple__" if isinstance(value, tuple) else "__list__": [_encode(v) for v in value]}
    if isinstance(value, pd.Timestamp | dt.datetime):
        return {"__datetime__": pd.Timestamp(value).isoformat()}
    if isinstance(value, dt.date):
        return {"__date__": value.isoformat()}
    if isinstance(value, np.generic):
        return {"__numpy__": value.dtype.str, "value": value.item()}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise TypeError(f"dashboard cache: cannot store a {type(value).__name__}.")


def _decode(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    if "__frame__" in value:
        with pa.ipc.open_stream(base64.b64decode(value["__frame__"])) as reader:
            return reader.read_all().to_pandas()
    if "__dict__" in value:
        return {_decode(k): _decode(v) for k, v in value["__dict__"]}
    if "__list__" in value:
        return [_decode(v) for v in value["__list__"]]
    if "__tuple__" in value:
        return tuple(_decode(v) for v in value["__tuple__"])
    if "__datetime__" in value:
        return pd.Timestamp(value["__datetime__"])
    if "__date__" in value:
        return dt.date.fromisoformat(value["__date__"])
    return np.dtype(value["__numpy__"]).type(value["value"])


def _load(ws: Workspace, key: str, version: str) -> tuple[bool, Any]:
    if not ws.has_table(CACHE_TABLE):
        return False, None
    row = ws.con.execute(
        f'SELECT payload FROM "{CACHE_TABLE}" WHERE key = ? AND version = ?', [key, version]
    ).fetchone()
    return (False, None) if row is None else (True, _decode(json.loads(row[0])))


def _store(state: AppState, key: str, version: str, value: Any, seconds: float) -> None:
    if state.workspace.read_only:
        return
    payload = json.dumps(_encode(value))
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with state.lock, state.workspace.transaction() as con:
        con.execute(f"""CREATE TABLE IF NOT EXISTS "{CACHE_TABLE}" (key VARCHAR PRIMARY KEY, version VARCHAR,
                        computed_at TIMESTAMP, seconds DOUBLE, payload VARCHAR)""")
        con.execute(f'DELETE FROM "{CACHE_TABLE}" WHERE key = ?', [key])
        con.execute(f'INSERT INTO "{CACHE_TABLE}" VALUES (?, ?, ?, ?, ?)', [key, version, now, seconds, payload])


# -- the cache -------------------------------------------------------------------------
@dataclass
class _Entry:
    stamp: str
    fingerprint: str
    value: Any


@contextmanager
def _handle(state: AppState) -> Iterator[Workspace]:
    """A cursor on the app's workspace, in one read transaction (a consistent snapshot)."""
    with state.lock:
        if not state.workspace.is_open:
            raise WorkspaceError(f"{state.workspace.path}: the workspace was closed (the server is stopping).")
        ws = state.workspace.cursor()
        active: dict[int, Workspace] = state.extra.setdefault(_ACTIVE, {})
        active[id(ws)] = ws
    try:
        ws.con.execute("BEGIN TRANSACTION")
        try:
            yield ws
        finally:
            ws.con.execute("COMMIT")
    finally:
        with state.lock:  # so stop_warmup never interrupts a connection being closed
            active.pop(id(ws), None)
            ws.close()


def _flight(state: AppState, key: str) -> threading.Lock:
    with state.lock:
        locks: dict[str, threading.Lock] = state.extra.setdefault(_FLIGHTS, {})
        return locks.setdefault(key, threading.Lock())


def aggregate(state: AppState, key: str) -> Any:
    """The value of :data:`AGGREGATES` ``[key]`` for the workspace's data now (memory, stored, or computed).

    Call it without holding ``state.lock``: the work runs on its own connection.
    """
    import time

    agg = AGGREGATES[key]
    with _flight(state, key):
        with _handle(state) as ws:
            now = stamp(ws, agg.tables)
            entry = state.extra.get(_MEMORY, {}).get(key)
            if entry is not None and entry.stamp == now:
                return entry.value
            with state.lock:
                memo = state.extra.setdefault(_HASHES, {})
            version = fingerprint(ws, agg.tables, agg.revision, memo)
            if entry is not None and entry.fingerprint == version:
                found, value = True, entry.value
            else:
                found, value = _load(ws, key, version)
            if not found:
                start = time.perf_counter()
                value = agg.compute(ws)
                seconds = time.perf_counter() - start
        if not found:
            _store(state, key, version, value, seconds)
            _log.info("dashboard aggregate %s computed in %.1f s", key, seconds)
        with state.lock:
            state.extra.setdefault(_MEMORY, {})[key] = _Entry(now, version, value)
        return value


def warm_aggregates(state: AppState, keys: Sequence[str] | None = None) -> list[str]:
    """Bring every aggregate (or ``keys``) up to date; returns the keys that failed (their error is logged)."""
    failed = []
    stop = state.extra.get(_STOP)
    for key in keys or list(AGGREGATES):
        if not state.workspace.is_open or (stop is not None and stop.is_set()):  # the app is closing
            break
        try:
            aggregate(state, key)
        except Exception:  # noqa: BLE001 - logged; the page that needs it raises the same error to its user
            if not state.workspace.is_open or (stop is not None and stop.is_set()):
                break
            _log.exception("dashboard aggregate %s could not be computed in the background", key)
            failed.append(key)
    return failed


def preload() -> None:
    """Import here what the warm-up and request threads import lazily: two threads importing one package
    for the first time can deadlock on CPython's module locks (``_DeadlockError``, seen with plotly's narwhals)."""
    import plotly.graph_objects as go

    import shopseg.engine
    import shopseg.predict
    import shopseg.reports.aggregates
    import shopseg.web.queries  # noqa: F401 - imported for its side effect: loaded once, here

    go.Figure(go.Bar(x=[0], y=[0])).to_json()  # plotly imports its dataframe layer on the first figure


def start_warmup(
    state: AppState, *, recheck_s: float | None = None, after_first_pass: Callable[[], None] | None = None
) -> threading.Thread:
    """Run :func:`warm_aggregates` in a daemon thread; ``shopseg serve`` calls it at start-up.

    With ``recheck_s``, the thread then checks every ``recheck_s`` seconds (a
    stamp: milliseconds) and recomputes what a change made out of date, before a
    page asks. It stops at :func:`stop_warmup`, which closing the app calls.
    ``after_first_pass`` is called on the thread once the first pass is done
    (``shopseg serve`` moves what it imported out of the garbage collector's reach).
    """
    preload()
    stop = threading.Event()
    with state.lock:
        state.extra[_STOP] = stop
    state.closers.append(lambda: stop_warmup(state))

    def run() -> None:
        first = True
        while True:
            warm_aggregates(state)
            if first and after_first_pass is not None:
                after_first_pass()
            first = False
            if recheck_s is None or stop.wait(recheck_s) or not state.workspace.is_open:
                return

    thread = threading.Thread(target=run, name="shopseg-dashboard-warmup", daemon=True)
    thread.start()
    return thread


def stop_warmup(state: AppState) -> None:
    """Stop the thread of :func:`start_warmup`: no further pass, and its running query is interrupted.

    Called when the app closes (``AppState.closers``), so a server stops without
    waiting for a computation; a request computing an aggregate meanwhile is
    interrupted too and answers an error.
    """
    stop = state.extra.get(_STOP)
    if stop is not None:
        stop.set()
    with state.lock:
        for ws in state.extra.get(_ACTIVE, {}).values():
            ws.con.interrupt()
