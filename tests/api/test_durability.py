"""Durable before acknowledged: a real `shopseg serve` is SIGKILLed under concurrent load; after a restart
every acknowledged event is stored exactly once (from the events table or replayed from the journal), and so is
every event whose segment entry was notified (notifications follow the journal write, acknowledgements its fsync)."""

from __future__ import annotations

import json
import signal
import subprocess
import threading
from pathlib import Path

import httpx

from shopseg.api.keys import KeyStore
from shopseg.segments.definitions import SegmentStore
from shopseg.workspace import Workspace
from tests.api.helpers import free_port, start_serve, wait_until


def _serve(ws_path: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    # apply to the workspace every 100 events (and never by time): at the kill some acknowledged events are in
    # the events table, the latest only in the fsynced journal, so both paths are checked
    return start_serve(ws_path, port, log, live_tick_ms="200", live_apply_batch="100", live_apply_ms="600000")  # type: ignore[no-any-return]


def _load(url: str, key: str, worker: int, acked: list[str], stop: threading.Event) -> None:
    with httpx.Client(base_url=url, headers={"X-API-Key": key}, timeout=10) as client:
        for batch in range(10_000):
            if stop.is_set():
                return
            ids = [f"w{worker}-b{batch}-{i}" for i in range(5)]
            docs = [
                {
                    "event_id": e,
                    "customer_id": f"c{worker}-{batch % 50}",
                    "type": "page_view",
                    "occurred_at": "2024-06-01T09:00:00",
                }
                for e in ids
            ]
            try:
                r = client.post("/api/v1/events", json={"events": docs})
            except httpx.HTTPError:
                return  # the server is gone: this batch was never acknowledged
            if r.status_code == 200:
                acked.extend(ids)


def _entries(url: str, key: str, notified: list[str], ready: threading.Event) -> None:
    """Read the SSE stream until the server dies; collect the event ids of the entries notified."""
    try:
        with httpx.stream("GET", f"{url}/api/v1/stream", headers={"X-API-Key": key}, timeout=None) as r:
            for line in r.iter_lines():
                if line == ": connected":
                    ready.set()
                elif line.startswith("data: "):
                    notified.append(json.loads(line[6:])["event_id"])
    except httpx.HTTPError:
        return  # killed


def test_sigkill_loses_no_acknowledged_or_notified_event(tmp_path: Path) -> None:
    ws_path = tmp_path / "ws.duckdb"
    with Workspace.init(ws_path) as ws:
        key = KeyStore(ws).create("load", "marketer").key
        SegmentStore(ws).create("viewed", "events(type='page_view').count >= 1")  # each customer's first event enters
    port, log = free_port(), tmp_path / "serve.log"
    url = f"http://127.0.0.1:{port}"
    proc = _serve(ws_path, port, log)
    acked: list[str] = []
    notified: list[str] = []
    ready, stop = threading.Event(), threading.Event()
    reader = threading.Thread(target=_entries, args=(url, key, notified, ready), daemon=True)
    reader.start()
    assert ready.wait(30)
    workers = [threading.Thread(target=_load, args=(url, key, w, acked, stop)) for w in range(4)]
    for w in workers:
        w.start()
    wait_until(lambda: len(acked) >= 400 and len(notified) >= 100, timeout=60, what="400 acknowledged events")
    proc.send_signal(signal.SIGKILL)  # mid-load: the workers are still posting
    proc.wait(timeout=10)
    stop.set()
    for w in workers:
        w.join(timeout=30)
    reader.join(timeout=30)
    assert acked and notified

    proc = _serve(ws_path, port, log)  # restart on the same file (DuckDB replays its WAL)
    try:
        again = httpx.post(
            f"{url}/api/v1/events",
            headers={"X-API-Key": key},
            timeout=10,
            json={
                "events": [
                    {
                        "event_id": acked[0],
                        "customer_id": "c0-0",
                        "type": "page_view",
                        "occurred_at": "2024-06-01T09:00:00",
                    }
                ]
            },
        )
        assert again.json()["duplicates"] == 1  # still idempotent after the crash
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    with Workspace.open(ws_path, read_only=True) as ws:
        counts = dict(ws.con.execute("SELECT event_id, count(*) FROM events GROUP BY event_id").fetchall())
    missing = [e for e in acked if e not in counts]
    assert not missing, f"{len(missing)} acknowledged events lost (first: {missing[:5]})"
    phantom = [e for e in notified if e not in counts]
    assert not phantom, f"{len(phantom)} notified entries of events not stored (first: {phantom[:5]})"
    assert all(n == 1 for n in counts.values()), "an event was stored twice"
    assert len(acked) == len(set(acked))
