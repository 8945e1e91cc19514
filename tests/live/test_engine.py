"""The live engine in process: time windows expire by the scheduler, re-entry rules, dead letters, restarts."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from shopseg.errors import InvalidParameterError
from shopseg.live.engine import LiveEngine
from shopseg.live.notify import Notification, ReentryPolicy
from shopseg.live.evaluator import Transition
from shopseg.workspace import Workspace
from tests.api.helpers import Receiver, wait_until

LAPSING = "events(type='purchase', within=-90d).count >= 1 AND events(type='purchase', within=-30d).count = 0"


def _ev(eid: str, cid: str, typ: str, at: dt.datetime, **kw) -> dict:  # type: ignore[no-untyped-def]
    return {"event_id": eid, "customer_id": cid, "anonymous_id": None, "type": typ, "occurred_at": at,
            "product_id": kw.get("product_id"), "properties": kw.get("properties")}  # fmt: skip


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
        assert (got[0].kind, got[0].segment, got[0].event_id, got[0].at) == ("entry", "lapsing", None,
                                                                               "2024-07-01T09:00:00")  # fmt: skip
    finally:
        _close(eng)


def test_only_affected_segments_are_re_evaluated(make_ws, clock) -> None:  # type: ignore[no-untyped-def]
    path = make_ws(carts="events(type='add_to_cart').count >= 1", shoes="events(type='product_view', category='shoes'"
                   ").count >= 2", loyal="orders >= 3", either="segment('carts') OR segment('shoes')")  # fmt: skip
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


@pytest.mark.parametrize(("mode", "expected"), [
    ("always", [0, 10, 20, 30, 4000, 4010]),
    ("once", [0, 10]),            # the first entry (and its exit) only
    ("cooldown", [0, 10, 4000, 4010]),  # the entry 10 s after an exit is silent, and so is its exit
])  # fmt: skip
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
    eng = _engine(make_ws(carts="events(type='add_to_cart').count >= 1"), clock, got,
                  webhook_options={"max_attempts": 3, "backoff_ms": 20})  # fmt: skip
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
            rows = eng.workspace.con.execute("SELECT segment, customer_id, kind, notified FROM live_transitions").fetchall()
        assert rows == [("lapsing", "c1", "entry", True)]
    finally:
        _close(eng)
    eng = _engine(path, clock, got)  # nothing changed: no repeat
    _close(eng)
    assert len(got) == 1


def test_erasure_removes_the_customer_everywhere(make_ws, clock) -> None:  # type: ignore[no-untyped-def]
    eng = _engine(make_ws(carts="events(type='add_to_cart').count >= 1"), clock, [])
    try:
        eng.ingest([_ev("a1", "c1", "add_to_cart", clock.now(), properties={"email": "ann@example.com"}),
                    _ev("a2", "c2", "add_to_cart", clock.now())])  # fmt: skip
        rows = eng.erase("c1")
        assert rows["events"] == 1 and rows["live_transitions"] == 1
        assert eng.evaluator.segments_of("c1") == [] and "c1" not in eng.evaluator.profiles
        with eng.lock:
            dump = json.dumps(eng.workspace.con.execute("SELECT * FROM events").fetchall(), default=str)
        assert "c1" not in dump and "ann@example.com" not in dump and "c2" in dump
    finally:
        _close(eng)
