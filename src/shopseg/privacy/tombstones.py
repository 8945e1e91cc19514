"""Tombstones: salted hashes of erased customers and devices, so a journal replay cannot bring them back.

An erasure records, in its own transaction, the salted hash (the audit's
:func:`~shopseg.privacy.audit.subject_hash`) of the customer id and of every device
(``anonymous_id``) stitched to it, with ``journal_clean = false``; once the live
event journal has been rewritten without their events, ``journal_clean`` is set.
Until then (a crash between the erasure's commit and the journal rewrite) the live
engine's start-up replay skips every journaled event of a pending subject, then
marks the tombstones clean once the journal is empty.

A clean tombstone no longer filters anything: the same id sending new events after
its erasure is a new relationship, not a resurrection. The rows stay, as hashes: given
an id an auditor can check it was erased; the table alone lists nobody.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from shopseg.privacy.audit import subject_hasher
from shopseg.workspace import Workspace

__all__ = ["TOMBSTONES_TABLE", "add_tombstones", "pending_subjects", "is_pending", "drop_pending", "mark_journal_clean"]

TOMBSTONES_TABLE = "privacy_tombstones"
_DDL = f"""CREATE TABLE IF NOT EXISTS "{TOMBSTONES_TABLE}" (subject_hash VARCHAR, kind VARCHAR,
    erased_at TIMESTAMP, journal_clean BOOLEAN)"""


def add_tombstones(ws: Workspace, customer_id: str, devices: Iterable[str]) -> None:
    """Record the customer and their devices as erased, their journal purge pending (inside the erasure's transaction)."""
    ws.con.execute(_DDL)
    at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    hasher = subject_hasher(ws)
    rows = [(hasher(customer_id), "customer_id")] + [(hasher(d), "anonymous_id") for d in sorted(set(devices))]
    for h, kind in rows:
        ws.con.execute(f'INSERT INTO "{TOMBSTONES_TABLE}" VALUES (?, ?, ?, false)', [h, kind, at])


def pending_subjects(ws: Workspace) -> set[str]:
    """Hashes of the erased subjects whose events the journal may still hold."""
    if not ws.has_table(TOMBSTONES_TABLE):
        return set()
    rows = ws.con.execute(f'SELECT DISTINCT subject_hash FROM "{TOMBSTONES_TABLE}" WHERE NOT journal_clean').fetchall()
    return {r[0] for r in rows}


def is_pending(hasher: Callable[[str], str], event: Mapping[str, Any], pending: set[str]) -> bool:
    """Is ``event`` of a subject (its customer_id or anonymous_id) in ``pending`` (``hasher``: the workspace's)?"""
    return any(event.get(k) is not None and hasher(str(event[k])) in pending for k in ("customer_id", "anonymous_id"))


def drop_pending(ws: Workspace, events: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """``events`` without those of subjects erased before the journal could be rewritten (replay at start-up)."""
    pending = pending_subjects(ws)
    if not pending:
        return list(events)
    hasher = subject_hasher(ws)
    return [e for e in events if not is_pending(hasher, e, pending)]


def mark_journal_clean(ws: Workspace, hashes: Iterable[str] | None = None) -> None:
    """The journal holds no event of these subjects (of every pending one when ``hashes`` is None) any more."""
    if not ws.has_table(TOMBSTONES_TABLE):
        return
    if hashes is None:
        ws.con.execute(f'UPDATE "{TOMBSTONES_TABLE}" SET journal_clean = true WHERE NOT journal_clean')
    else:
        ws.con.execute(
            f'UPDATE "{TOMBSTONES_TABLE}" SET journal_clean = true WHERE subject_hash IN (SELECT unnest(?))',
            [sorted(hashes)],
        )
