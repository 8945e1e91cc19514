"""Erasure and the live journal: every journal file is rewritten without the customer, their devices and their
mentions; a replay after a crash between the erasure's commit and that rewrite skips them (tombstones)."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

from shopseg.live.journal import Journal, journal_files
from shopseg.live.runtime import LiveEngine
from shopseg.privacy import forget_customer
from shopseg.privacy.tombstones import add_tombstones, pending_subjects
from shopseg.workspace import Workspace

AT = dt.datetime(2024, 6, 1, 9)


def _ev(eid: str, cid: str | None, anon: str | None = None, **props: str) -> dict[str, object]:
    return {
        "event_id": eid,
        "customer_id": cid,
        "anonymous_id": anon,
        "type": "page_view",
        "occurred_at": AT,
        "product_id": None,
        "properties": props or None,
    }


def _journal_crash(path: Path) -> None:
    """Events acknowledged in a rotated segment and in the active file, then the process died (no apply)."""
    j = Journal(f"{path}.journal")
    j.append([_ev("v1", "vic-kim", "dev-kim", email="kim@example.org"), _ev("o1", "joy", referred_by="vic-kim")])
    j.rotate()
    j.append([_ev("v2", None, "dev-kim"), _ev("o2", "joy", note="vic-kim vic-kim"), _ev("o3", None, "dev-joy")])
    j.close()


def _bytes(path: Path) -> bytes:
    return b"".join(f.read_bytes() for f in journal_files(f"{path}.journal"))


def test_forget_rewrites_every_journal_file(make_ws, clock) -> None:  # type: ignore[no-untyped-def]
    path = make_ws()
    _journal_crash(path)
    assert len(journal_files(f"{path}.journal")) == 2 and b"kim@example.org" in _bytes(path)
    with Workspace.open(path) as ws:
        report = forget_customer(ws, "vic-kim")  # only in the journal: still found
        assert report.deleted == {"journal": 2} and report.redacted == {"journal": 2} and report.compacted
    data = _bytes(path)
    assert b"vic-kim" not in data and b"dev-kim" not in data and b"kim@example.org" not in data
    assert [f.name for f in path.parent.iterdir() if ".old" in f.name or ".erasing" in f.name] == []
    eng = LiveEngine(Workspace.open(path), clock=clock)  # the restart replays what is left
    try:
        rows = eng.workspace.con.execute("SELECT event_id, properties FROM events ORDER BY 1").fetchall()
        assert rows == [("o1", '{"referred_by":"[erased]"}'), ("o2", '{"note":"[erased] [erased]"}'), ("o3", None)]
        assert "vic-kim" not in eng.evaluator.profiles
    finally:
        eng.stop()
        eng.workspace.close()


def test_replay_skips_customers_erased_before_the_journal_was_rewritten(make_ws, clock) -> None:  # type: ignore[no-untyped-def]
    """A crash after the erasure committed (tombstones pending) and before the journal rewrite."""
    path = make_ws()
    _journal_crash(path)
    with Workspace.open(path) as ws, ws.transaction():
        add_tombstones(ws, "vic-kim", ["dev-kim"])
    eng = LiveEngine(Workspace.open(path), clock=clock)
    try:
        ids = [r[0] for r in eng.workspace.con.execute("SELECT event_id FROM events ORDER BY 1").fetchall()]
        assert ids == ["o1", "o2", "o3"] and "vic-kim" not in eng.evaluator.profiles
        assert pending_subjects(eng.workspace) == set()  # the journal is empty now: the tombstones are clean
        # a clean tombstone filters nothing: the same id coming back later is a new relationship
        eng.start()
        assert eng.ingest([_ev("n1", "vic-kim")]) == (1, 0, ["n1"])
    finally:
        eng.stop()
        eng.workspace.close()
    with Workspace.open(path, read_only=True) as ws:
        assert ws.con.execute("SELECT count(*) FROM events WHERE customer_id = 'vic-kim'").fetchone()[0] == 1


def test_engine_erase_rewrites_its_open_journal_and_the_file(make_ws, clock) -> None:  # type: ignore[no-untyped-def]
    path = make_ws(viewers="events(type='page_view').count >= 1")
    eng = LiveEngine(Workspace.open(path), clock=clock, apply_ms=600_000, apply_batch=100_000)
    eng.start()
    try:
        eng.ingest([_ev("v1", "vic-kim", "dev-kim", email="kim@example.org"), _ev("o1", "joy", referred_by="vic-kim")])
        assert b"kim@example.org" in Path(f"{path}.journal").read_bytes()  # journaled, not applied yet
        rows = eng.erase("vic-kim")
        assert rows["events"] == 1 and rows["live_transitions"] == 1
        eng.ingest([_ev("o2", "joy")])  # the writer goes on in the rewritten journal
        for f in path.parent.iterdir():
            assert b"vic-kim" not in f.read_bytes() and b"kim@example.org" not in f.read_bytes(), f.name
        with eng.lock:
            got = eng.workspace.con.execute("SELECT event_id, properties FROM events ORDER BY 1").fetchall()
            assert not eng.workspace.compact_pending
        assert got == [("o1", json.dumps({"referred_by": "[erased]"}, separators=(",", ":")))]
    finally:
        eng.stop()
        eng.workspace.close()
    with Workspace.open(path, read_only=True) as ws:
        assert [r[0] for r in ws.con.execute("SELECT event_id FROM events ORDER BY 1").fetchall()] == ["o1", "o2"]


def test_a_webhook_delivery_being_retried_is_dropped_not_dead_lettered(make_ws, clock) -> None:  # type: ignore[no-untyped-def]
    """Dead-lettering a notification of an erased customer would store their id again after the erasure."""
    from tests.api.helpers import Receiver, wait_until

    eng = LiveEngine(
        Workspace.open(make_ws(viewers="events(type='page_view').count >= 1")),
        clock=clock,
        webhook_options={"max_attempts": 3, "backoff_ms": 300},
    )
    eng.start()
    try:
        with Receiver(statuses=[500]) as hook:
            eng.webhooks.add(hook.url, ["viewers"])
            eng.ingest([_ev("v1", "vic-kim")])
            wait_until(lambda: len(hook.requests) == 1, what="the first, failed delivery")
            eng.erase("vic-kim")  # while the worker waits to retry
            eng.ingest([_ev("o1", "joy")])  # queued behind: delivered once the erased one is out of the way
            wait_until(lambda: any(b["customer_id"] == "joy" for b in hook.delivered()), what="joy's delivery")
        assert [json.loads(r["body"])["customer_id"] for r in hook.requests] == ["vic-kim", "joy"]  # no retry
        assert eng.webhooks.dead_letters() == []
    finally:
        eng.stop()
        eng.workspace.close()


def test_forget_refuses_a_journal_a_live_engine_is_writing(make_ws, clock) -> None:  # type: ignore[no-untyped-def]
    """Renaming the journal under a running engine would send its next acknowledged events into a deleted file."""
    import pytest

    from shopseg.errors import WorkspaceError

    eng = LiveEngine(Workspace.open(make_ws()), clock=clock)
    eng.start()
    try:
        eng.ingest([_ev("v1", "vic-kim")])
        with pytest.raises(WorkspaceError, match="a live engine in this process is writing its journal"):
            forget_customer(eng.workspace, "vic-kim")
        assert eng.erase("vic-kim")["events"] == 1
    finally:
        eng.stop()
        eng.workspace.close()


def test_a_journal_rewrite_interrupted_by_a_crash_is_finished(tmp_path: Path) -> None:
    """A partial new file and an old file still linked: both zeroed and gone when the journal is opened again."""
    path = tmp_path / "ws.duckdb.journal"
    Journal(path).close()
    partial, old = tmp_path / "ws.duckdb.journal.2.erasing", tmp_path / "ws.duckdb.journal.2.old"
    partial.write_bytes(b'{"events":[{"event_id":"o1","customer_id":"joy"}]}\n')
    old.write_bytes(b'{"events":[{"event_id":"v1","customer_id":"vic-kim"}]}\n')  # the renamed-over segment
    os.link(path, tmp_path / "ws.duckdb.journal.old")  # a crash before the rename: this is the live file
    Journal(path).close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ws.duckdb.journal"]
