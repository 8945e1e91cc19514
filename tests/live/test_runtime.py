"""The live engine in process: time windows expire by the scheduler, re-entry rules, dead letters, restarts."""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path

import pytest

from shopseg.errors import InvalidParameterError
from shopseg.live.evaluator import Transition
from shopseg.live.journal import Journal
from shopseg.live.notify import Notification, ReentryPolicy
from shopseg.live.runtime import LiveEngine
from shopseg.workspace import Workspace
from tests.api.helpers import Receiver, wait_until

LAPSING = "events(type='purchase', within=-90d).count >= 1 AND events(type='purchase', within=-30d).count = 0"


def _ev(eid: str, cid: str, typ: str, at: dt.datetime, **kw) -> dict:  # type: ignore[no-untyped-def]
    return {
        "event_id": eid,
        "customer_id": cid,
        "anonymous_id": None,
        "type": typ,
        "occurred_at": at,
        "product_id": kw.get("product_id"),
        "properties": kw.get("properties"),
    }


def _engine(path: Path, clock, got: list[Notification], **kw) -> LiveEngine:  # type: ignore[no-untyped-def]
    eng = LiveEngine(Workspace.open(path), clock=clock, callbacks=[got.append], tick_ms=10_000, **kw)
    eng.start()
    return eng


def _close(eng: LiveEngine) -> None:
    eng.stop()
    eng.workspace.close()


def test_no_purchase_in_30_days_fires_on_day_31(make_ws, clock) -> None:  # type: ignore[no-untyped-def]
    got: list[Notification] = []
    eng = _engine(make_ws(lapsing=LAPSING), clock, got)
    try:
        eng.ingest([_ev("p1", "c1", "purchase", clock.now())])  # day 1: 2024-06-01
        for day in range(2, 31):  # days 2..30: still within 30 days of the purchase
            clock.set(dt.datetime(2024, 6, 1, 9) + dt.timedelta(days=day - 1))
            eng.tick()
        assert clock.now().date() == dt.date(2024, 6, 30) and "c1" not in eng.evaluator.members["lapsing"]
        clock.advance(days=1)  # day 31
        eng.tick()
        assert "c1" in eng.evaluator.members["lapsing"]
        wait_until(lambda: len(got) == 1)
        assert (got[0].kind, got[0].segment, got[0].event_id, got[0].at) == (
            "entry",
            "lapsing",
            None,
            "2024-07-01T09:00:00",
        )
    finally:
        _close(eng)


def test_only_affected_segments_are_re_evaluated(make_ws, clock) -> None:  # type: ignore[no-untyped-def]
    path = make_ws(
        carts="events(type='add_to_cart').count >= 1",
        shoes="events(type='product_view', category='shoes').count >= 2",
        loyal="orders >= 3",
        either="segment('carts') OR segment('shoes')",
    )
    eng = LiveEngine(Workspace.open(path), clock=clock)
    try:
        idx = eng.evaluator.index
        view = _ev("x", "c1", "product_view", clock.now(), properties={"category": "shoes"})
        assert idx.affected(view) == ["either", "shoes"]
        assert idx.affected({**view, "properties": {"category": "hats"}}) == []
        assert idx.affected(_ev("y", "c1", "add_to_cart", clock.now())) == ["carts", "either"]
        assert idx.affected(_ev("z", "c1", "purchase", clock.now())) == []
        assert idx.clock_dependent() == []
    finally:
        eng.workspace.close()


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("always", [0, 10, 20, 30, 4000, 4010]),
        ("once", [0, 10]),  # the first entry (and its exit) only
        ("cooldown", [0, 10, 4000, 4010]),  # the entry 10 s after an exit is silent, and so is its exit
    ],
)
def test_reentry_rules(mode: str, expected: list[int]) -> None:
    policy = ReentryPolicy(mode, cooldown_s=3600)
    t0 = dt.datetime(2024, 6, 1)
    steps = [("entry", 0), ("exit", 10), ("entry", 20), ("exit", 30), ("entry", 4000), ("exit", 4010)]
    notified = [s for k, s in steps if policy.admit(Transition("s", "c", k, t0 + dt.timedelta(seconds=s)))]
    assert notified == expected
    with pytest.raises(InvalidParameterError, match="live_reentry"):
        ReentryPolicy("sometimes")


def test_failing_webhook_is_retried_then_dead_lettered(make_ws, clock) -> None:  # type: ignore[no-untyped-def]
    got: list[Notification] = []
    eng = _engine(
        make_ws(carts="events(type='add_to_cart').count >= 1"),
        clock,
        got,
        webhook_options={"max_attempts": 3, "backoff_ms": 20},
    )
    try:
        with Receiver(statuses=[500, 500, 500]) as hook:
            eng.webhooks.add(hook.url, ["carts"])
            eng.ingest([_ev("a1", "c1", "add_to_cart", clock.now())])
            wait_until(lambda: len(eng.webhooks.dead_letters()) == 1, what="a dead letter")
            (dead,) = eng.webhooks.dead_letters()
            gaps = [b["t"] - a["t"] for a, b in zip(hook.requests, hook.requests[1:])]
        assert len(hook.requests) == 3 and dead["attempts"] == 3 and dead["last_error"] == "HTTP 500"
        assert dead["notification"]["event_id"] == "a1"
        assert eng.webhooks.delays() == [0.02, 0.04]  # exponential backoff
        assert all(gap >= 0.9 * d for gap, d in zip(gaps, eng.webhooks.delays(), strict=True))  # waited at least that
        assert eng.erase("c1")["live_dead_letters"] == 1 and eng.webhooks.dead_letters() == []  # erasure reaches them
    finally:
        _close(eng)


def test_restart_notifies_what_changed_while_down(make_ws, clock) -> None:  # type: ignore[no-untyped-def]
    path = make_ws(lapsing=LAPSING)
    got: list[Notification] = []
    eng = _engine(path, clock, got)
    eng.ingest([_ev("p1", "c1", "purchase", clock.now())])
    _close(eng)
    clock.advance(days=45)  # the server was down while c1 lapsed
    eng = _engine(path, clock, got)
    try:
        wait_until(lambda: len(got) == 1)
        assert (got[0].kind, got[0].segment) == ("entry", "lapsing")
        with eng.lock:
            rows = eng.workspace.con.execute(
                "SELECT segment, customer_id, kind, notified FROM live_transitions"
            ).fetchall()
        assert rows == [("lapsing", "c1", "entry", True)]
    finally:
        _close(eng)
    eng = _engine(path, clock, got)  # nothing changed: no repeat
    _close(eng)
    assert len(got) == 1


def test_erasure_removes_the_customer_everywhere(make_ws, clock) -> None:  # type: ignore[no-untyped-def]
    eng = _engine(make_ws(carts="events(type='add_to_cart').count >= 1"), clock, [])
    try:
        eng.ingest(
            [
                _ev("a1", "c1", "add_to_cart", clock.now(), properties={"email": "ann@example.com"}),
                _ev("a2", "c2", "add_to_cart", clock.now()),
            ]
        )
        rows = eng.erase("c1")
        assert rows["events"] == 1 and rows["live_transitions"] == 1
        assert eng.evaluator.segments_of("c1") == [] and "c1" not in eng.evaluator.profiles
        with eng.lock:
            dump = json.dumps(eng.workspace.con.execute("SELECT * FROM events").fetchall(), default=str)
        assert "c1" not in dump and "ann@example.com" not in dump and "c2" in dump
    finally:
        _close(eng)


def test_notified_before_the_fsync_acknowledged_after_it(make_ws, clock) -> None:  # type: ignore[no-untyped-def]
    """The entry goes out once the event is in the journal file; the request is answered only after its fsync."""
    got: list[Notification] = []
    eng = _engine(make_ws(carts="events(type='add_to_cart').count >= 1"), clock, got)
    gate, syncing = threading.Event(), threading.Event()
    real_sync = eng.journal.sync

    def held_sync() -> None:  # the real fsync, after the test lets it run (a disk that stalls)
        syncing.set()
        gate.wait(20)
        real_sync()

    eng.journal.sync = held_sync  # type: ignore[method-assign]
    try:
        fut = eng.submit([_ev("a1", "c1", "add_to_cart", clock.now())])
        wait_until(lambda: len(got) == 1 and syncing.is_set(), what="the entry while the fsync is held")
        assert (got[0].kind, got[0].event_id) == ("entry", "a1")
        reader = Journal(eng.journal.path)
        assert [e["event_id"] for e in reader.read()] == ["a1"]  # in the file: survives kill -9
        reader.close()
        assert not fut.done()  # not acknowledged before the fsync
        dup = eng.submit([_ev("a1", "c1", "add_to_cart", clock.now())])  # a re-sent event waits for it too
        gate.set()
        assert fut.result(20) == (1, 0, ["a1"]) and dup.result(20) == (0, 1, ["a1"])
    finally:
        gate.set()
        _close(eng)


def test_a_failed_fsync_commits_the_events_to_the_workspace(make_ws, clock) -> None:  # type: ignore[no-untyped-def]
    got: list[Notification] = []
    eng = _engine(make_ws(carts="events(type='add_to_cart').count >= 1"), clock, got, apply_ms=600_000)
    calls: list[int] = []

    def failing() -> None:  # the disk answers EIO: the kernel may have dropped the unwritten journal pages
        calls.append(1)
        raise OSError(5, "Input/output error")

    eng.journal.sync = failing  # type: ignore[method-assign]
    try:
        assert eng.ingest([_ev("a1", "c1", "add_to_cart", clock.now())]) == (1, 0, ["a1"])
        assert calls == [1]
        with eng.lock:  # acknowledged because the workspace holds it (the applier alone would wait 600 s)
            assert eng.workspace.con.execute("SELECT event_id FROM events").fetchall() == [("a1",)]
            assert eng.workspace.con.execute("SELECT customer_id, kind FROM live_transitions").fetchall() == [
                ("c1", "entry")
            ]
        assert eng.ingest([_ev("a1", "c1", "add_to_cart", clock.now())]) == (0, 1, ["a1"])
        assert eng.evaluator.members["carts"] == {"c1"} and [(n.kind, n.event_id) for n in got] == [("entry", "a1")]
    finally:
        _close(eng)
