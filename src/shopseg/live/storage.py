"""The live engine's workspace I/O: events in, profiles and memberships out, transitions logged.

Events are acknowledged once fsynced to the journal (:mod:`shopseg.live.journal`);
:func:`commit_batch` applies them here, with the transitions they caused, in one
DuckDB transaction (DuckDB fsyncs its write-ahead log on COMMIT). The canonical
``events`` table stays the one store batch features, segment compilation and
the live engine read.

A commit costs an fsync plus a statement per table, so a batch writes two
tables only, with one statement each:

- ``live_transitions``: ``seq, segment, customer_id, kind, at, event_id,
  notified`` -- every entry and exit (``notified``: whether the re-entry rule
  let it through; silent ones come from segment edits and the re-entry rule).
- ``live_memberships`` is a *view*: the last transition of each (segment,
  customer) when it is an entry, ``since`` its time. At start-up it is compared
  with what the stored events say now, to notify what changed while the
  server was down (e.g. a window that expired overnight).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa

from shopseg.live.evaluator import LiveProfile, Transition

if TYPE_CHECKING:
    import duckdb

    from shopseg.rules.fields import FieldRegistry
    from shopseg.workspace import Workspace

__all__ = [
    "MEMBERSHIPS_TABLE",
    "TRANSITIONS_TABLE",
    "create_tables",
    "insert_events",
    "commit_batch",
    "event_row",
    "transition_row",
    "load_profiles",
    "load_event_ids",
    "load_memberships",
    "load_notified",
    "next_seq",
]

MEMBERSHIPS_TABLE = "live_memberships"
TRANSITIONS_TABLE = "live_transitions"
_DDL = [
    f"""CREATE TABLE IF NOT EXISTS "{TRANSITIONS_TABLE}" (seq BIGINT, segment VARCHAR, customer_id VARCHAR,
        kind VARCHAR, "at" TIMESTAMP, event_id VARCHAR, notified BOOLEAN)""",
    f"""CREATE VIEW IF NOT EXISTS "{MEMBERSHIPS_TABLE}" AS SELECT segment, customer_id, "at" AS since FROM (
        SELECT *, row_number() OVER (PARTITION BY segment, customer_id ORDER BY seq DESC) AS rn
        FROM "{TRANSITIONS_TABLE}") WHERE rn = 1 AND kind = 'entry'""",
]
_VALUES_MAX = 32
_EVENT_COLS = ["event_id", "customer_id", "anonymous_id", "type", "occurred_at", "product_id", "properties"]
_TRANSITION_COLS = ("seq", "segment", "customer_id", "kind", "at", "event_id", "notified")
_BASE = [
    ("customer_features", "*"),
    ("customer_rfm", "customer_id, rfm_segment, rfm_cell, r_score, f_score, m_score"),
    ("customer_lifecycle", "customer_id, stage AS lifecycle_stage"),
    ("customers", "customer_id, lat, lon, tags"),
]


def create_tables(con: duckdb.DuckDBPyConnection) -> None:
    for stmt in _DDL:
        con.execute(stmt)


def _insert(con: duckdb.DuckDBPyConnection, table: str, cols: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """One INSERT: a VALUES list for small batches, a registered Arrow table for large ones (cheapest of each)."""
    names = ", ".join(f'"{c}"' for c in cols)
    if len(rows) <= _VALUES_MAX:
        one = "(" + ", ".join("?" * len(cols)) + ")"
        con.execute(
            f'INSERT INTO "{table}" ({names}) VALUES ' + ", ".join([one] * len(rows)), [v for row in rows for v in row]
        )
        return
    types = {"occurred_at": pa.timestamp("us"), "at": pa.timestamp("us"), "seq": pa.int64(), "notified": pa.bool_()}
    data = pa.table({c: pa.array([r[i] for r in rows], type=types.get(c, pa.string())) for i, c in enumerate(cols)})
    con.register("_shopseg_live_rows", data)
    try:
        con.execute(f'INSERT INTO "{table}" ({names}) SELECT * FROM _shopseg_live_rows')
    finally:
        con.unregister("_shopseg_live_rows")


def event_row(e: Mapping[str, Any]) -> tuple[Any, ...]:
    """One ``events`` row: the columns in order, ``properties`` as JSON text (TypeError, ValueError: not JSON, e.g. NaN).

    A tuple of plain values, which the garbage collector stops tracking: the
    engine keeps the rows waiting for the applier this way, not as the request's dicts.
    """
    get, props = e.get, e.get("properties")
    return (
        get("event_id"),
        get("customer_id"),
        get("anonymous_id"),
        get("type"),
        get("occurred_at"),
        get("product_id"),
        None if props is None else json.dumps(props, separators=(",", ":"), allow_nan=False),
    )


def transition_row(seq: int, t: Transition, notified: bool) -> tuple[Any, ...]:
    """One ``live_transitions`` row (a plain tuple, as :func:`event_row`)."""
    return (seq, t.segment, t.customer_id, t.kind, t.at, t.event_id, notified)


def commit_batch(
    con: duckdb.DuckDBPyConnection, events: Sequence[Sequence[Any]], transitions: Sequence[Sequence[Any]] = ()
) -> None:
    """Append :func:`event_row` and :func:`transition_row` rows in ONE transaction; durable on return.

    Collected events (:mod:`shopseg.collect`) also write the profile, product and order rows they carry
    (:func:`shopseg.collect.materialize.apply_work`) in the same transaction.
    """
    from shopseg.collect.materialize import apply_work, split_rows

    events, work = split_rows(events)
    con.execute("BEGIN TRANSACTION")
    try:
        if events:
            _insert(con, "events", _EVENT_COLS, events)
        apply_work(con, work)
        if transitions:
            _insert(con, TRANSITIONS_TABLE, _TRANSITION_COLS, transitions)
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def next_seq(con: duckdb.DuckDBPyConnection) -> int:
    """The number of the next transition row."""
    row = con.execute(f'SELECT coalesce(max(seq), 0) + 1 FROM "{TRANSITIONS_TABLE}"').fetchone()
    return int(row[0]) if row else 1


def insert_events(con: duckdb.DuckDBPyConnection, events: Sequence[Mapping[str, Any]]) -> None:
    """Append ``events`` to the ``events`` table in one transaction (committed, hence fsynced, on return)."""
    commit_batch(con, [event_row(e) for e in events])


def load_event_ids(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {r[0] for r in con.execute("SELECT event_id FROM events").fetchall()}


def _clean(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        k: (None if v is None or (not isinstance(v, str | list | dict) and pd.isna(v)) else v) for k, v in row.items()
    }


def _field_tables(workspace: Workspace, fields: FieldRegistry | None) -> list[tuple[str, str]]:
    """``(table, select list)`` of every table the registry's fields live in, each column read under its
    field's name (interests, predictions, clusters, custom attributes...), so live rules see every field batch does."""
    out = list(_BASE)
    if fields is None:
        return out
    skipped = {t for t, _ in _BASE} | {"events", "orders"}
    for table, cols in sorted(fields.columns_by_table().items()):
        if table not in skipped and workspace.has_table(table):
            present = {r[0] for r in workspace.con.execute(f'DESCRIBE "{table}"').fetchall()}
            picked = [f'"{col}" AS "{name}"' for name, col in sorted(cols.items()) if col in present]
            if picked:
                out.append((table, ", ".join(["customer_id", *picked])))
    return out


def load_profiles(
    workspace: Workspace, orders_as_of: dt.date | None = None, fields: FieldRegistry | None = None
) -> dict[str, LiveProfile]:
    """Every known customer: batch fields (features, RFM, lifecycle, lat/lon, and every other table of the
    ``fields`` registry), stored events, and (with ``orders_as_of``) purchase orders up to that day."""
    con = workspace.con
    out: dict[str, LiveProfile] = {}
    for table, cols in _field_tables(workspace, fields):
        if not workspace.has_table(table):
            continue
        for row in con.execute(f'SELECT {cols} FROM "{table}"').df().to_dict("records"):
            cid = str(row["customer_id"])
            prof = out.get(cid) or out.setdefault(cid, LiveProfile(cid))
            prof.base.update(_clean(row))
    rows = con.execute(
        "SELECT event_id, customer_id, type, occurred_at, product_id, properties FROM events "
        "WHERE customer_id IS NOT NULL ORDER BY occurred_at, event_id"
    ).fetchall()
    for event_id, cid, typ, at, product_id, props in rows:
        prof = out.get(cid) or out.setdefault(cid, LiveProfile(cid))
        prof.add(
            {
                "event_id": event_id,
                "type": typ,
                "occurred_at": at,
                "product_id": product_id,
                "properties": json.loads(props) if props else None,
            }
        )
    if orders_as_of is not None:
        for cid, orders in _orders(workspace, orders_as_of).items():
            (out.get(cid) or out.setdefault(cid, LiveProfile(cid))).orders = orders
    return out


def _orders(workspace: Workspace, as_of: dt.date) -> dict[str, list[dict[str, Any]]]:
    from shopseg.engine import get_engine
    from shopseg.features.asof import AsOf
    from shopseg.features.purchases import purchase_lines, purchase_orders

    o = purchase_orders(purchase_lines(get_engine(workspace, "duckdb"), AsOf.of(as_of)))
    df = o.select("customer_id", "ordered_at", "units", "channel", value=o.cents.cast("float64") / 100.0).to_pandas()
    out: dict[str, list[dict[str, Any]]] = {}
    for row in df.to_dict("records"):
        out.setdefault(str(row.pop("customer_id")), []).append(row)
    return out


def load_memberships(con: duckdb.DuckDBPyConnection) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for seg, cid in con.execute(f'SELECT segment, customer_id FROM "{MEMBERSHIPS_TABLE}"').fetchall():
        out.setdefault(seg, set()).add(cid)
    return out


def load_notified(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str, dt.datetime]]:
    return con.execute(
        f'SELECT segment, customer_id, kind, "at" FROM "{TRANSITIONS_TABLE}" WHERE notified ORDER BY seq'
    ).fetchall()
