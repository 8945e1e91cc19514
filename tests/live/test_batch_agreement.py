"""Batch and live agree: a day of events replayed live gives the memberships a batch refresh computes.

Purchases (orders) and earlier events are loaded the batch way, features are
built as of the day, then the day's 600 events are posted to the live engine
one small batch at a time, the clock following them. The live memberships at
the end of the day must equal :meth:`SegmentStore.refresh` (compiled SQL on
DuckDB) of the same workspace, segment by segment.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path

from shopseg.engine import get_engine
from shopseg.features import build_features
from shopseg.live.clock import ManualClock
from shopseg.live.runtime import LiveEngine
from shopseg.segments.definitions import SNAPSHOTS_TABLE, SegmentStore
from shopseg.workspace import Workspace
from tests.segments.segment_store import write_store

DAY = dt.date(2024, 6, 1)
SEGMENTS = {
    "loyal": "orders >= 3",
    "recent_buyer": "last_order >= -30d",
    "shoe_browser": "events(type='product_view', category='shoes', within=-7d).count >= 2",
    "cart_today": "events(type='add_to_cart', within=-1d).count >= 1 AND NOT events(type='purchase', within=-1d).count >= 1",
    "big_spender": "events(type='purchase', within=-30d).sum(value) > 100",
    "careful": "events(type='purchase').avg(value) < 40 OR events(type='page_view').count = 0",
    "vip_browsing": "segment('loyal') AND segment('shoe_browser')",
    "repeat_orders": "orders(within=-90d).count >= 2 AND NOT segment('cart_today')",
}
TYPES = ["page_view", "product_view", "product_view", "add_to_cart", "purchase"]


def _event(rng: random.Random, i: int, cid: str, at: dt.datetime) -> dict:  # type: ignore[type-arg]
    typ = rng.choice(TYPES)
    props: dict = {"category": rng.choice(["shoes", "hats"])} if typ in ("product_view", "add_to_cart") else {}  # type: ignore[type-arg]
    if typ == "purchase":
        props["value"] = rng.choice([15, 35.5, 60, "80"])
    return {
        "event_id": f"ev{i}",
        "customer_id": cid,
        "anonymous_id": None,
        "type": typ,
        "occurred_at": at,
        "product_id": f"p{rng.randint(1, 9)}",
        "properties": props or None,
    }


def _prepare(path: Path, rng: random.Random) -> tuple[list[str], list[dict]]:  # type: ignore[type-arg]
    customers = [f"c{i:02d}" for i in range(40)]
    start = dt.datetime(2024, 1, 1, 12)
    purchases = {
        c: [str(start + dt.timedelta(days=rng.randint(0, 150))) for _ in range(rng.randint(0, 5))]
        for c in customers[:32]
    }
    history = [
        _event(rng, 10_000 + i, rng.choice(customers), dt.datetime(2024, 5, 20) + dt.timedelta(hours=7 * i))
        for i in range(40)
    ]
    with Workspace.init(path) as ws:
        write_store(ws, purchases, prospects=customers[32:])
        ws.con.executemany(
            "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                [
                    e["event_id"],
                    e["customer_id"],
                    None,
                    e["type"],
                    e["occurred_at"],
                    e["product_id"],
                    json.dumps(e["properties"]) if e["properties"] else None,
                ]
                for e in history
            ],
        )
        build_features(ws, "duckdb", as_of=DAY)
        store = SegmentStore(ws)
        for name, rule in SEGMENTS.items():
            store.create(name, rule, force=True)
    day = sorted(dt.datetime.combine(DAY, dt.time()) + dt.timedelta(seconds=rng.randint(0, 86_399)) for _ in range(600))
    return customers, [_event(rng, i, rng.choice(customers), at) for i, at in enumerate(day)]


def test_live_replay_of_a_day_matches_batch_refresh(tmp_path: Path) -> None:
    rng = random.Random(7)
    path = tmp_path / "ws.duckdb"
    customers, day_events = _prepare(path, rng)
    clock = ManualClock(dt.datetime.combine(DAY, dt.time()))
    eng = LiveEngine(Workspace.open(path), clock=clock, tick_ms=60_000)
    eng.start()
    try:
        for i in range(0, len(day_events), 3):
            chunk = day_events[i : i + 3]
            clock.set(chunk[-1]["occurred_at"])
            eng.ingest(chunk)
        live = {name: set(ids) for name, ids in eng.evaluator.members.items()}
    finally:
        eng.stop()
        eng.workspace.close()
    with Workspace.open(path) as ws:
        assert ws.row_counts()["events"] == 640
        SegmentStore(ws).refresh(get_engine(ws, "duckdb"), DAY)
        rows = ws.con.execute(f'SELECT name, customer_id FROM "{SNAPSHOTS_TABLE}"').fetchall()
        persisted = ws.con.execute("SELECT segment, customer_id FROM live_memberships").fetchall()
    batch = {name: {c for n, c in rows if n == name} for name in SEGMENTS}
    for name in SEGMENTS:
        assert live[name] == batch[name], (name, sorted(live[name] ^ batch[name]))
    assert {name: {c for n, c in persisted if n == name} for name in SEGMENTS} == batch
    assert all(0 < len(batch[n]) < len(customers) for n in ("loyal", "shoe_browser", "cart_today", "big_spender"))
