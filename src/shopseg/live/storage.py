"""The live engine's workspace I/O: events in, profiles and memberships out, transitions logged.

Durability: an event batch is one DuckDB transaction on the workspace file;
DuckDB writes the transaction to its write-ahead log and fsyncs it on COMMIT,
so a batch that committed survives ``kill -9`` and is replayed when the file
is opened again. The HTTP answer is sent only after that COMMIT returned. One
store (the canonical ``events`` table) means no second journal to reconcile, and
batch features, segment compilation and the live engine all read the same rows.

Tables written here (besides ``events``):

- ``live_memberships``: ``segment, customer_id, since`` -- the live members;
  compared at start-up with what the events say, to notify what changed while
  the server was down (e.g. a window that expired overnight).
- ``live_transitions``: ``segment, customer_id, kind, at, event_id, notified`` --
  every entry and exit, and whether the re-entry rule notified it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from shopseg.live.evaluator import LiveProfile, Transition

if TYPE_CHECKING:
    import duckdb

    from shopseg.workspace import Workspace

__all__ = ["MEMBERSHIPS_TABLE", "TRANSITIONS_TABLE", "create_tables", "insert_events", "load_profiles",
           "load_event_ids", "load_memberships", "load_notified", "log_transitions", "erase_customer"]  # fmt: skip

MEMBERSHIPS_TABLE = "live_memberships"
TRANSITIONS_TABLE = "live_transitions"
_DDL = [
    f'CREATE TABLE IF NOT EXISTS "{MEMBERSHIPS_TABLE}" (segment VARCHAR, customer_id VARCHAR, since TIMESTAMP)',
    f"""CREATE TABLE IF NOT EXISTS "{TRANSITIONS_TABLE}" (segment VARCHAR, customer_id VARCHAR, kind VARCHAR,
        "at" TIMESTAMP, event_id VARCHAR, notified BOOLEAN)""",
]
_EVENT_COLS = ["event_id", "customer_id", "anonymous_id", "type", "occurred_at", "product_id", "properties"]
_BASE = [("customer_features", "*"), ("customer_rfm", "customer_id, rfm_segment, rfm_cell, r_score, f_score, m_score"),
         ("customer_lifecycle", "customer_id, stage AS lifecycle_stage"), ("customers", "customer_id, lat, lon")]  # fmt: skip


def create_tables(con: duckdb.DuckDBPyConnection) -> None:
    for stmt in _DDL:
        con.execute(stmt)


def insert_events(con: duckdb.DuckDBPyConnection, events: Sequence[Mapping[str, Any]]) -> None:
    """Append ``events`` to the ``events`` table in one transaction (committed, hence fsynced, on return)."""
    df = pd.DataFrame([{c: e.get(c) for c in _EVENT_COLS} for e in events], columns=_EVENT_COLS)
    df["properties"] = [None if p is None else json.dumps(p, separators=(",", ":")) for p in df["properties"]]
    df["occurred_at"] = pd.to_datetime(df["occurred_at"])
    con.register("_shopseg_live_events", df)
    try:
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(f'INSERT INTO events ({", ".join(_EVENT_COLS)}) SELECT * FROM _shopseg_live_events')
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")
    finally:
        con.unregister("_shopseg_live_events")


def load_event_ids(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {r[0] for r in con.execute("SELECT event_id FROM events").fetchall()}


def _clean(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (None if v is None or (not isinstance(v, str | list | dict) and pd.isna(v)) else v)
            for k, v in row.items()}  # fmt: skip


def load_profiles(workspace: Workspace, orders_as_of: dt.date | None = None) -> dict[str, LiveProfile]:
    """Every known customer: batch fields (features, RFM, lifecycle, lat/lon), stored events, and
    (with ``orders_as_of``) purchase orders up to that day."""
    con, out = workspace.con, {}
    for table, cols in _BASE:
        if not workspace.has_table(table):
            continue
        for row in con.execute(f'SELECT {cols} FROM "{table}"').df().to_dict("records"):
            cid = str(row["customer_id"])
            prof = out.get(cid) or out.setdefault(cid, LiveProfile(cid))
            prof.base.update(_clean(row))
    rows = con.execute("SELECT event_id, customer_id, type, occurred_at, product_id, properties FROM events "
                       "WHERE customer_id IS NOT NULL ORDER BY occurred_at, event_id").fetchall()  # fmt: skip
    for event_id, cid, typ, at, product_id, props in rows:
        prof = out.get(cid) or out.setdefault(cid, LiveProfile(cid))
        prof.add({"event_id": event_id, "type": typ, "occurred_at": at, "product_id": product_id,
                  "properties": json.loads(props) if props else None})  # fmt: skip
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
    return con.execute(f'SELECT segment, customer_id, kind, "at" FROM "{TRANSITIONS_TABLE}" WHERE notified '
                       'ORDER BY "at", rowid').fetchall()  # fmt: skip


def log_transitions(con: duckdb.DuckDBPyConnection, transitions: Sequence[Transition], notified: Sequence[bool]) -> None:
    """Apply ``transitions`` to ``live_memberships`` and append them to ``live_transitions`` (one transaction)."""
    if not transitions:
        return
    df = pd.DataFrame({"segment": [t.segment for t in transitions], "customer_id": [t.customer_id for t in transitions],
                       "kind": [t.kind for t in transitions], "at": [t.at for t in transitions],
                       "event_id": [t.event_id for t in transitions], "notified": list(notified)})  # fmt: skip
    last: dict[tuple[str, str], Transition] = {}
    for t in transitions:
        last[(t.segment, t.customer_id)] = t
    keys = pd.DataFrame(list(last), columns=["segment", "customer_id"])
    inside = pd.DataFrame([(t.segment, t.customer_id, t.at) for t in last.values() if t.kind == "entry"],
                          columns=["segment", "customer_id", "since"])  # fmt: skip
    for name, frame in (("_shopseg_live_tr", df), ("_shopseg_live_keys", keys), ("_shopseg_live_in", inside)):
        con.register(name, frame)
    try:
        con.execute("BEGIN TRANSACTION")
        con.execute(f'INSERT INTO "{TRANSITIONS_TABLE}" SELECT * FROM _shopseg_live_tr')
        con.execute(f"""DELETE FROM "{MEMBERSHIPS_TABLE}" m USING _shopseg_live_keys k
                        WHERE m.segment = k.segment AND m.customer_id = k.customer_id""")
        con.execute(f'INSERT INTO "{MEMBERSHIPS_TABLE}" SELECT * FROM _shopseg_live_in')
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        for name in ("_shopseg_live_tr", "_shopseg_live_keys", "_shopseg_live_in"):
            con.unregister(name)


def erase_customer(workspace: Workspace, customer_id: str, keep: Iterable[str] = ()) -> dict[str, int]:
    """Delete every row of ``customer_id`` from every table that has a ``customer_id`` column."""
    con, out = workspace.con, {}
    tables = con.execute("SELECT DISTINCT table_name FROM duckdb_columns() WHERE column_name = 'customer_id'").fetchall()
    with workspace.transaction():
        for (table,) in tables:
            if table in set(keep):
                continue
            row = con.execute(f'SELECT count(*) FROM "{table}" WHERE customer_id = ?', [customer_id]).fetchone()
            if row and row[0]:
                con.execute(f'DELETE FROM "{table}" WHERE customer_id = ?', [customer_id])
                out[table] = int(row[0])
    return out

