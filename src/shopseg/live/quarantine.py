"""Journaled events the workspace refuses are set aside in ``live_quarantine``, so one entry never wedges the applier.

The HTTP routes validate what they acknowledge (:mod:`shopseg.collect._values`), but an entry that slips
through (a new kind of bad value, a bug in a mapping) must not stop the live engine: its applier would
retry the same failing transaction forever, every later event would stay in the journal, reads and
erasure (which apply the journal first) would fail, and the server would not start again (the start-up
replays the journal).

:func:`commit_isolating` commits a batch of event rows as :func:`~shopseg.live.storage.commit_batch` does.
When that fails because of what an entry holds, the batch is split in halves, committed front to back in
the largest chunks that apply (so the events keep their order), and an entry that fails alone is written
to ``live_quarantine`` with the error, instead of to ``events``. A failure of the store itself (disk, memory,
an interrupted or conflicting transaction: :data:`STORE_ERRORS`) is raised as before, and the applier
retries the batch later. The ``live_quarantine`` row keeps the journaled entry as text, collection work
(``_shopseg``) included, for the operator to read; erasure finds it like any table with a ``customer_id``.
The live profiles keep the event (they were updated when it was acknowledged) until the next restart.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import duckdb

from shopseg._logging import get_logger
from shopseg.live import storage

if TYPE_CHECKING:
    from shopseg.workspace import Workspace

__all__ = ["QUARANTINE_TABLE", "STORE_ERRORS", "commit_isolating", "rows_of", "count_quarantined", "list_quarantined"]

log = get_logger("shopseg.live")

QUARANTINE_TABLE = "live_quarantine"
_COLUMNS = ("event_id", "customer_id", "anonymous_id", "type", "occurred_at", "product_id", "properties")
_DDL = (
    f'CREATE TABLE IF NOT EXISTS "{QUARANTINE_TABLE}" ('
    + ", ".join(f"{c} VARCHAR" for c in _COLUMNS)
    + ", error VARCHAR, quarantined_at TIMESTAMP)"
)
#: Failures of the store, not of an entry: the batch is retried whole, later.
STORE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    MemoryError,
    duckdb.OperationalError,  # I/O, out of memory, transaction conflicts, a closed connection
    duckdb.FatalException,
    duckdb.InterruptException,
    duckdb.InternalException,
)
Row = tuple[Any, ...]
Refused = tuple[Row, BaseException]


def create_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(_DDL)


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return json.dumps(value, default=str) if isinstance(value, dict | list) else str(value)


def _set_aside(con: duckdb.DuckDBPyConnection, refused: Sequence[Refused], now: dt.datetime) -> None:
    """Write the refused entries to ``live_quarantine`` (one statement: committed on return)."""
    create_table(con)
    values = []
    for row, exc in refused:
        cells = [_text(v) for v in (*row, *([None] * len(_COLUMNS)))[: len(_COLUMNS)]]
        values.append([*cells, f"{type(exc).__name__}: {exc}"[:2000], now])
    one = "(" + ", ".join("?" * (len(_COLUMNS) + 2)) + ")"
    con.execute(
        f'INSERT INTO "{QUARANTINE_TABLE}" VALUES ' + ", ".join([one] * len(values)), [v for r in values for v in r]
    )
    types = sorted({str(row[3]) for row, _ in refused})
    errors = sorted({type(exc).__name__ for _, exc in refused})
    log.error(  # no customer data: ids of the events, their types and the error classes
        "live engine: %d journaled event(s) could not be applied and were moved to %s (types %s; %s; event ids %s)",
        len(refused),
        QUARANTINE_TABLE,
        ", ".join(types),
        ", ".join(errors),
        ", ".join(str(row[0]) for row, _ in refused[:10]),
    )


def rows_of(events: Sequence[Mapping[str, Any]], now: dt.datetime, con: duckdb.DuckDBPyConnection) -> list[Row]:
    """:func:`~shopseg.live.storage.event_row` of each event; an event that has none is quarantined at once."""
    rows, refused = [], []
    for e in events:
        try:
            rows.append(storage.event_row(e))
        except (TypeError, ValueError) as exc:
            props = e.get("properties")
            refused.append(((*(e.get(c) for c in _COLUMNS[:6]), json.dumps(props, default=str)), exc))
    if refused:
        _set_aside(con, refused, now)
    return rows


def _transitions(con: duckdb.DuckDBPyConnection, transitions: list[Row]) -> None:
    """Commit the transition rows alone; rows the store refuses are dropped with a log line (they are a log)."""
    try:
        storage.commit_batch(con, [], transitions)
    except STORE_ERRORS:
        raise
    except Exception as exc:  # noqa: BLE001 - whatever the rows hold: dropped, never retried forever
        log.error("live engine: %d transition rows could not be logged: %s", len(transitions), type(exc).__name__)
    transitions.clear()


def commit_isolating(
    con: duckdb.DuckDBPyConnection, events: list[Row], transitions: list[Row], now: dt.datetime
) -> list[Refused]:
    """Commit ``events`` and ``transitions`` (:func:`~shopseg.live.storage.commit_batch`), setting aside what fails.

    Returns the quarantined entries with their errors. Committed rows are removed from the front of
    ``events`` (``transitions`` is emptied once committed), so after a :data:`STORE_ERRORS` error the
    caller retries only what is left.
    """
    try:
        storage.commit_batch(con, events, transitions)
        events.clear()
        transitions.clear()
        return []
    except STORE_ERRORS:
        raise
    except Exception as exc:  # noqa: BLE001 - an entry's doing: find it below
        log.warning(
            "live engine: a batch of %d events failed (%s); isolating the entry", len(events), type(exc).__name__
        )
    if transitions:
        _transitions(con, transitions)
    refused: list[Refused] = []
    size = len(events)
    while events:
        chunk = events[:size]
        try:
            storage.commit_batch(con, chunk)
        except STORE_ERRORS:
            raise
        except Exception as exc:  # noqa: BLE001 - halve the chunk until the failing entry is alone
            if len(chunk) > 1:
                size = (len(chunk) + 1) // 2
                continue
            _set_aside(con, [(chunk[0], exc)], now)
            refused.append((chunk[0], exc))
        del events[: len(chunk)]
        size = len(events)
    return refused


def count_quarantined(workspace: Workspace) -> int:
    """How many entries ``live_quarantine`` holds (0 without the table)."""
    if not workspace.has_table(QUARANTINE_TABLE):
        return 0
    row = workspace.con.execute(f'SELECT count(*) FROM "{QUARANTINE_TABLE}"').fetchone()
    return int(row[0]) if row else 0


def list_quarantined(workspace: Workspace, limit: int = 100) -> list[dict[str, Any]]:
    """The latest quarantined entries: event id, type, time, error and when (no customer data, no properties)."""
    if not workspace.has_table(QUARANTINE_TABLE):
        return []
    cur = workspace.con.execute(
        f'SELECT event_id, type, occurred_at, error, quarantined_at FROM "{QUARANTINE_TABLE}" '
        "ORDER BY quarantined_at DESC, event_id LIMIT ?",
        [limit],
    )
    names = [d[0] for d in cur.description or []]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
