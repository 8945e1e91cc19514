"""Erasure against a real `shopseg serve`: an erased customer never comes back, and leaves no byte behind.

1. Events are posted and acknowledged (fsynced to the journal) but not applied (``live_apply_ms`` of 10 minutes),
   the server is SIGKILLed, ``shopseg forget`` runs from the CLI, the server restarts: the customer, their email
   and their stitched device are in no table, no journal file, no live profile, and no byte of the DuckDB file.
2. ``DELETE /api/v1/customers/{id}`` on the running server (dashboard warm-up on) does the same, rewriting the
   file under the server's own connection.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from shopseg.api.keys import KeyStore
from shopseg.segments.definitions import SegmentStore
from shopseg.workspace import Workspace
from tests.api.helpers import free_port, start_serve

SRC = Path(__file__).resolve().parents[2] / "src"
# ids and addresses with letters outside [0-9a-f]: no salted hex hash in the audit can contain them by chance
VICTIM, EMAIL, DEVICE, PHONE = "vic-kim", "kim.vic@example.org", "dev-kimphone", "+44 7700 900123"
OTHER = "keep-joy"
ENV = {
    **os.environ,
    "PYTHONPATH": str(SRC),
    "SHOPSEG_LIVE_TICK_MS": "200",
    "SHOPSEG_LIVE_APPLY_MS": "600000",
    "SHOPSEG_LIVE_APPLY_BATCH": "100000",
}
CLI = [sys.executable, "-c", "from shopseg.cli.main import main; main()"]


def _serve(ws_path: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    return start_serve(ws_path, port, log, live_tick_ms="200", live_apply_ms="600000", live_apply_batch="100000")  # type: ignore[no-any-return]


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) in (0, -signal.SIGTERM)  # uvicorn re-raises the signal after its clean shutdown


def _events(cid: str, email: str, device: str, prefix: str) -> list[dict[str, object]]:
    at = "2024-06-01T09:00:00"
    return [
        {
            "event_id": f"{prefix}-1",
            "customer_id": cid,
            "type": "identify",
            "occurred_at": at,
            "properties": {"email": email, "phone": PHONE},
        },
        {
            "event_id": f"{prefix}-2",
            "customer_id": cid,
            "anonymous_id": device,
            "type": "product_view",
            "occurred_at": at,
        },
        {"event_id": f"{prefix}-3", "anonymous_id": device, "type": "page_view", "occurred_at": at},  # pre-login
        {
            "event_id": f"{prefix}-4",
            "customer_id": OTHER,
            "type": "page_view",
            "occurred_at": at,
            "properties": {"referred_by": cid},
        },
    ]


def _files(ws_path: Path) -> list[Path]:
    """The workspace file and every file beside it (its WAL, the live journal and its segments)."""
    return sorted(p for p in ws_path.parent.iterdir() if p.name.startswith(ws_path.name))


def _leaks(ws_path: Path, needles: list[str]) -> list[tuple[str, str]]:
    return [(p.name, n) for p in _files(ws_path) for n in needles if n.encode() in p.read_bytes()]


def _text_hits(ws: Workspace, needles: list[str]) -> list[tuple[str, str, str]]:
    hits = []
    for table, column in ws.con.execute(
        "SELECT table_name, column_name FROM duckdb_columns() WHERE NOT internal"
    ).fetchall():
        for needle in needles:
            n = ws.con.execute(
                f'SELECT count(*) FROM "{table}" WHERE contains(CAST("{column}" AS VARCHAR), ?)', [needle]
            ).fetchone()[0]
            if n:
                hits.append((table, column, needle))
    return hits


def test_forget_from_the_cli_after_a_crash_reaches_the_journal(tmp_path: Path) -> None:
    ws_path = tmp_path / "ws.duckdb"
    with Workspace.init(ws_path) as ws:
        key = KeyStore(ws).create("admin", "admin").key
        SegmentStore(ws).create("viewers", "events(type='product_view').count >= 1")
    port, log = free_port(), tmp_path / "serve.log"
    url, auth = f"http://127.0.0.1:{port}", {"X-API-Key": key}
    proc = _serve(ws_path, port, log)
    r = httpx.post(f"{url}/api/v1/events", headers=auth, json={"events": _events(VICTIM, EMAIL, DEVICE, "e")})
    assert r.status_code == 200 and r.json()["accepted"] == 4, r.text  # acknowledged: fsynced to the journal
    proc.send_signal(signal.SIGKILL)  # before the applier ran: the events are only in the journal
    proc.wait(timeout=10)
    assert [n for _, n in _leaks(ws_path, [EMAIL])] == [EMAIL]  # the journal holds the address (and the file not)
    with Workspace.open(ws_path, read_only=True) as ws:
        assert ws.con.execute("SELECT count(*) FROM events").fetchone()[0] == 0

    res = subprocess.run(
        [*CLI, "-w", str(ws_path), "forget", VICTIM, "--yes", "--reason", f"request by {EMAIL}"],
        env=ENV,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    needles = [VICTIM, EMAIL, DEVICE, PHONE]
    assert _leaks(ws_path, needles) == []  # journal files, workspace file, WAL: not one byte

    proc = _serve(ws_path, port, log)  # the restart replays the journal: the other customer only
    try:
        assert httpx.get(f"{url}/api/v1/customers/{VICTIM}", headers=auth).status_code == 404
        other = httpx.get(f"{url}/api/v1/customers/{OTHER}", headers=auth).json()
        assert other["live"]["events_by_type"] == {"page_view": 1}  # kept, with the mention redacted
    finally:
        _stop(proc)
    assert _leaks(ws_path, needles) == []
    with Workspace.open(ws_path, read_only=True) as ws:
        assert _text_hits(ws, needles) == []
        rows = ws.con.execute("SELECT event_id, customer_id, properties FROM events").fetchall()
        assert rows == [("e-4", OTHER, '{"referred_by":"[erased]"}')]
        (reason,) = ws.con.execute(
            "SELECT json_extract_string(detail, '$.reason') FROM privacy_audit WHERE action = 'forget'"
        ).fetchone()
        assert reason == "request by [email]"


def test_http_erasure_on_a_running_server_leaves_no_byte(tmp_path: Path) -> None:
    ws_path = tmp_path / "ws.duckdb"
    with Workspace.init(ws_path) as ws:
        key = KeyStore(ws).create("admin", "admin").key
    port, log = free_port(), tmp_path / "serve.log"
    url, auth = f"http://127.0.0.1:{port}", {"X-API-Key": key}
    proc = _serve(ws_path, port, log)  # with the dashboard: its warm-up reads on cursors of the connection
    try:
        r = httpx.post(f"{url}/api/v1/events", headers=auth, json={"events": _events(VICTIM, EMAIL, DEVICE, "e")})
        assert r.status_code == 200, r.text
        erased = httpx.delete(f"{url}/api/v1/customers/{VICTIM}", headers=auth, timeout=120)
        assert erased.status_code == 200, erased.text
        assert erased.json()["rows_deleted"]["events"] == 3 and erased.json()["compacted"] is True
        assert httpx.get(f"{url}/api/v1/customers/{VICTIM}", headers=auth).status_code == 404
        # the server goes on with the rewritten file
        again = {"event_id": "n-1", "customer_id": OTHER, "type": "page_view", "occurred_at": "2024-06-02T09:00:00"}
        assert httpx.post(f"{url}/api/v1/events", headers=auth, json={"events": [again]}).status_code == 200
        assert httpx.get(f"{url}/api/v1/customers/{OTHER}", headers=auth).json()["live"]["events_by_type"] == {
            "page_view": 2
        }
        assert _leaks(ws_path, [VICTIM, EMAIL, DEVICE, PHONE]) == []  # while the server still runs
    finally:
        _stop(proc)
    assert _leaks(ws_path, [VICTIM, EMAIL, DEVICE, PHONE]) == []
    with Workspace.open(ws_path, read_only=True) as ws:
        assert sorted(r[0] for r in ws.con.execute("SELECT event_id FROM events").fetchall()) == ["e-4", "n-1"]
