"""Live segmentation under load, on loopback: a real `shopseg serve`, paced events, SSE entry notifications.

    python bench/bench_live.py                       # 1,000 events/s for 60 s (issue 7's run, --case issue7)
    python bench/bench_live.py --case sdk5k          # 5,000 events/s as SDK batches on /v1/batch (issue 18)
    python bench/bench_live.py --seconds 20          # shorter
    python bench/bench_live.py --rate 500 --batch 1  # one event per request
    python bench/bench_live.py --segment             # the same load as Segment-spec batches on /v1/batch
    python bench/bench_live.py --case sdk5k --batch 100   # the case with analytics-python's batches

A case sets the rate, batch size, duration, connections and route; an option given beside it wins.

- ``issue7`` (the default): 1,000 events/s for 60 s, 10 events per request on ``POST /api/v1/events``,
  8 connections; the figures of issue 7 are reproduced with no option.
- ``sdk5k``: 5,000 events/s for 60 s as a store's tracking SDKs send them: Segment ``/v1/batch`` requests
  of 15 ``track`` calls from 32 connections. Why 15: it is the default batch of Segment's current server
  SDK for Node, ``@segment/analytics-node`` (``maxEventsInBatch``/``flushAt`` default 15; the older
  ``analytics-node`` flushed at 20), and the smallest batch of the server SDKs, hence the most requests
  (333/s) per event: the harder case. ``analytics-python`` flushes up to 100 messages per request
  (``Consumer(flush_at=100)``; analytics-ruby's ``BATCH_SIZE`` is 100 too): ``--batch 100`` runs that.
  32 connections because 333 requests/s come from many SDK processes, each with a request in flight
  while it waits for the answer (the answer waits for the journal's fsync, 5-30 ms here).

The server runs in its own process (as in production); the load generator and
the SSE reader run in this one. Every event is from a new customer and enters
the segment ``pinged`` (``events(type='ping').count >= 1``), so each one should
produce exactly one entry notification; three more live segments are evaluated
on every event as realistic extra work. Figures:

- sustained events/s: acknowledged events / load duration;
- latency: from sending the request carrying an event to receiving its entry
  notification on the SSE stream (p50, p99, max; same machine, one monotonic clock);
- lost events: acknowledged but not stored (read from the workspace after the
  server stops), and entries never notified;
- server CPU: user + system CPU seconds of the server process during the load, as a share of one core and per
  event (microseconds; what the machine's other load changes least); the machine's load average at start and
  end (2 cores, shared with other benchmarks: say so beside the figures);
- in-process evaluation: :class:`~shopseg.live.evaluator.LiveEvaluator` alone
  (profile update, incremental aggregates, dependent segments), events/s, with
  one event per customer (as in the load) and with ten; in wall-clock time and
  per CPU-second of the measuring thread (the machine is shared: the two differ
  by what other processes take). The start-up state is frozen out of the
  garbage collector first, as ``shopseg serve`` does; so is this process's
  own (the load generator's pauses are not the server's latency).

With ``--segment`` each request is a Segment HTTP Tracking API batch (``POST /v1/batch``, ``track`` calls
named ``Ping``, a collection-only write key as HTTP Basic user), the path a store's tracking SDKs take
(:mod:`shopseg.api.routers.collect`); the figures are read the same way.

Bounded: the load stops after ``--seconds``; the server is stopped (SIGTERM,
then SIGKILL) whatever happens.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import gc
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from shopseg.api.keys import KeyStore  # noqa: E402
from shopseg.segments.definitions import SegmentStore  # noqa: E402
from shopseg.workspace import Workspace  # noqa: E402

#: name -> (rate events/s, seconds, events per request, connections, Segment batches on /v1/batch)
CASES = {
    "issue7": (1000, 60.0, 10, 8, False),
    "sdk5k": (5000, 60.0, 15, 32, True),
}

SEGMENTS = {
    "pinged": "events(type='ping').count >= 1",
    "carts": "events(type='add_to_cart', within=-7d).count >= 1 AND events(type='purchase', within=-7d).count = 0",
    "pinged_twice": "events(type='ping', within=-1d).count >= 2",
    "shoe_fans": "events(type='ping', category='shoes').count >= 1 AND NOT segment('carts')",
}


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _prepare(path: Path) -> tuple[str, str]:
    """The admin key (posts /api/v1/events, reads the stream) and a write key (Segment batches)."""
    with Workspace.init(path) as ws:
        store = SegmentStore(ws)
        for name, rule in SEGMENTS.items():
            store.create(name, rule, force=True)
        keys = KeyStore(ws)
        return keys.create("bench", "admin").key, keys.create("bench-collect", "write").key


def _serve(path: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    cmd = [
        sys.executable,
        "-c",
        "from shopseg.cli.main import main; main()",
        "-w",
        str(path),
        "serve",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("shopseg serve did not start")


class _Run:
    def __init__(
        self, url: str, key: str, rate: int, seconds: float, batch: int, workers: int, write_key: str | None = None
    ) -> None:
        self.url, self.key, self.rate, self.seconds, self.batch, self.workers = url, key, rate, seconds, batch, workers
        self.write_key = write_key  # set: the load goes to /v1/batch as Segment calls
        self.sent: dict[str, float] = {}
        self.received: dict[str, float] = {}
        self.acked: list[str] = []
        self.errors = 0
        self.lock = threading.Lock()
        self.ready = threading.Event()
        self.done = threading.Event()

    def sse(self) -> None:
        try:
            self._sse()
        except httpx.HTTPError:  # the server stopped while the stream was open: all there was has been read
            return

    def _sse(self) -> None:
        with httpx.stream(
            "GET", f"{self.url}/api/v1/stream?segment=pinged", headers={"X-API-Key": self.key}, timeout=None
        ) as r:
            for line in r.iter_lines():
                if line == ": connected":
                    self.ready.set()
                elif line.startswith("data: "):
                    n = json.loads(line[6:])
                    if n["kind"] == "entry":
                        self.received.setdefault(n["customer_id"], time.monotonic())
                if self.done.is_set() and len(self.received) >= len(self.acked):
                    return

    def load(self, worker: int, t0: float) -> None:
        """Paced requests on one keep-alive connection (``http.client``: a fraction of httpx's CPU per request,
        which the server would otherwise lose on these shared cores). The body is encoded before the clock starts."""
        per_s = self.rate / self.batch
        total = int(per_s * self.seconds)
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat()
        headers = {"Content-Type": "application/json", "X-API-Key": self.key}
        if self.write_key:
            headers["Authorization"] = "Basic " + base64.b64encode(f"{self.write_key}:".encode()).decode()
        path = "/v1/batch" if self.write_key else "/api/v1/events"
        host, port = self.url.removeprefix("http://").split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        try:
            for k in range(worker, total, self.workers):
                due = t0 + k / per_s
                pause = due - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                ids = [f"b{k}-{i}" for i in range(self.batch)]
                docs: list[dict[str, object]] = [
                    {
                        "event_id": e,
                        "customer_id": e,
                        "type": "ping",
                        "occurred_at": now,
                        "properties": {"category": "shoes" if k % 3 else "hats"},
                    }
                    for e in ids
                ]
                body = json.dumps(_segment_batch(docs) if self.write_key else {"events": docs}).encode()
                sent = time.monotonic()
                with self.lock:
                    for e in ids:
                        self.sent[e] = sent
                try:
                    conn.request("POST", path, body, headers)
                    r = conn.getresponse()
                    r.read()
                    ok = r.status == 200
                except (OSError, http.client.HTTPException):
                    ok = False
                    conn.close()  # reconnects on the next request
                with self.lock:
                    if ok:
                        self.acked.extend(ids)
                    else:
                        self.errors += 1
        finally:
            conn.close()


def _segment_batch(docs: list[dict[str, object]]) -> dict[str, object]:
    """The same events as a Segment batch: track calls named ``Ping`` (type ``ping``), ``messageId`` = event id."""
    now = dt.datetime.now(dt.UTC).isoformat()
    calls = [
        {
            "type": "track",
            "event": "Ping",
            "messageId": d["event_id"],
            "userId": d["customer_id"],
            "timestamp": now,
            "properties": d["properties"],
        }
        for d in docs
    ]
    return {"batch": calls, "sentAt": now}


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _slow_seconds(run: _Run, t0: float, limit_ms: float = 20.0) -> str:
    """Where the slow events are: in a few seconds (stalls of the process) or spread over the run (a steady queue)."""
    per_second: dict[int, int] = {}
    for e in run.acked:
        if e in run.received and 1000 * (run.received[e] - run.sent[e]) > limit_ms:
            second = int(run.sent[e] - t0)
            per_second[second] = per_second.get(second, 0) + 1
    if not per_second:
        return "none"
    tens: dict[int, int] = {}
    for second, n in per_second.items():
        tens[second // 10] = tens.get(second // 10, 0) + n
    return f"{sum(per_second.values()):,} in {len(per_second)} seconds; by 10 s: " + ", ".join(
        f"{10 * t}-{10 * t + 9} s {n:,}" for t, n in sorted(tens.items())
    )


def _pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def in_process_throughput(n_events: int = 200_000, n_customers: int = 20_000) -> tuple[float, float]:
    """Events/s of LiveEvaluator.apply (profile update + dependent segments), no I/O: wall clock, and per CPU-second."""
    from shopseg.live.evaluator import LiveEvaluator
    from shopseg.rules.parse import parse_segment

    defs = {n: parse_segment(r) for n, r in SEGMENTS.items()}
    ev = LiveEvaluator(defs)
    day = dt.date(2024, 6, 1)
    at = dt.datetime(2024, 6, 1, 12)
    types = ["ping", "page_view", "add_to_cart", "ping", "purchase"]
    events = [
        {
            "event_id": f"e{i}",
            "customer_id": f"c{i % n_customers}",
            "type": types[i % 5],
            "occurred_at": at,
            "properties": {"category": "shoes"},
        }
        for i in range(n_events)
    ]
    gc.collect()
    gc.freeze()  # as `shopseg serve` does after start-up
    start, cpu = time.perf_counter(), time.thread_time()
    for e in events:
        ev.apply(e, day, at)
    wall, cpu = time.perf_counter() - start, time.thread_time() - cpu
    gc.unfreeze()
    return n_events / wall, n_events / cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--case", choices=sorted(CASES), default="issue7", help="preset load (default issue7)")
    parser.add_argument("--rate", type=int, help="events per second (issue7: 1000, sdk5k: 5000)")
    parser.add_argument("--seconds", type=float, help="load duration (both cases: 60)")
    parser.add_argument("--batch", type=int, help="events per request (issue7: 10, sdk5k: 15)")
    parser.add_argument(
        "--workers", "--connections", type=int, help="concurrent client connections (issue7: 8, sdk5k: 32)"
    )
    parser.add_argument("--segment", action="store_true", default=None, help="send Segment-spec batches to /v1/batch")
    parser.add_argument("--eval-events", type=int, default=200_000, help="events of the in-process measurement")
    args = parser.parse_args()
    for name, value in zip(("rate", "seconds", "batch", "workers", "segment"), CASES[args.case], strict=True):
        if getattr(args, name) is None:
            setattr(args, name, value)
    args.seconds = min(args.seconds, 600.0)  # bounded

    load = os.getloadavg()
    tmp = Path(tempfile.mkdtemp(prefix="shopseg-bench-live-"))
    path, port = tmp / "live.duckdb", _port()
    key, write_key = _prepare(path)
    proc = _serve(path, port)
    # This process's imports (shopseg, DuckDB, pandas, for the set-up above) out of its garbage collector's reach,
    # as `shopseg serve` does: otherwise a full collection here stalls the SSE reader and the load threads for
    # 100+ ms, which would be counted as server latency.
    gc.collect()
    gc.freeze()
    run = _Run(
        f"http://127.0.0.1:{port}",
        key,
        args.rate,
        args.seconds,
        args.batch,
        args.workers,
        write_key if args.segment else None,
    )
    try:
        reader = threading.Thread(target=run.sse, daemon=True)
        reader.start()
        run.ready.wait(30)
        t0 = time.monotonic() + 0.5
        cpu0, me0 = _cpu_s(proc.pid), time.process_time()
        workers = [threading.Thread(target=run.load, args=(w, t0)) for w in range(args.workers)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        elapsed = time.monotonic() - t0
        server_cpu, client_cpu = (_cpu_s(proc.pid) - cpu0) / elapsed, (time.process_time() - me0) / elapsed
        run.done.set()
        deadline = time.monotonic() + 15
        while len(run.received) < len(run.acked) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    with Workspace.open(path, read_only=True) as ws:
        stored = {r[0] for r in ws.con.execute("SELECT event_id FROM events").fetchall()}
    lost = sum(1 for e in run.acked if e not in stored)
    unnotified = sum(1 for e in run.acked if e not in run.received)
    lat = [1000 * (run.received[e] - run.sent[e]) for e in run.acked if e in run.received]
    evals = in_process_throughput(args.eval_events)
    evals_fresh = in_process_throughput(args.eval_events, args.eval_events)
    rows = [
        (
            "target rate",
            f"{args.rate:,} events/s for {args.seconds:.0f} s (case {args.case}: {args.batch} per request, "
            f"{args.workers} connections"
            f"{', Segment batches on /v1/batch' if args.segment else ''})",
        ),
        ("sustained", f"{len(run.acked) / elapsed:,.0f} events/s ({len(run.acked):,} acknowledged in {elapsed:.1f} s)"),
        ("event -> entry notification p50", f"{_pct(lat, 50):.1f} ms"),
        ("event -> entry notification p99", f"{_pct(lat, 99):.1f} ms"),
        ("event -> entry notification max", f"{max(lat) if lat else float('nan'):.1f} ms"),
        ("mean", f"{statistics.fmean(lat) if lat else float('nan'):.1f} ms"),
        ("events over 20 ms, by second of the load", _slow_seconds(run, t0)),
        ("lost events (acknowledged, not stored)", f"{lost}"),
        ("entries not notified", f"{unnotified}"),
        ("failed requests", f"{run.errors}"),
        ("CPU during the load (2 cores shared)", f"server {server_cpu:.0%} of a core, load generator {client_cpu:.0%}"),
        (
            "server CPU per event",
            f"{1e6 * server_cpu * elapsed / max(len(run.acked), 1):.0f} us",
        ),
        ("machine load average (1 min) at start, end", f"{load[0]:.2f}, {os.getloadavg()[0]:.2f} (2 cores)"),
        (
            "in-process evaluation, 1 event per customer",
            f"{evals_fresh[0]:,.0f} events/s; {evals_fresh[1]:,.0f} per CPU-second ({len(SEGMENTS)} segments)",
        ),
        (
            "in-process evaluation, 10 events per customer",
            f"{evals[0]:,.0f} events/s; {evals[1]:,.0f} per CPU-second (incremental aggregates)",
        ),
    ]
    print(
        f"load average at start {load[0]:.2f}, {load[1]:.2f}, {load[2]:.2f}; at end "
        f"{os.getloadavg()[0]:.2f}, {os.getloadavg()[1]:.2f}, {os.getloadavg()[2]:.2f} (2 cores)\n"
    )
    if max(load[0], os.getloadavg()[0]) > 1.0:
        print(
            "NOTE: the machine was busy (1-min load average above 1 on 2 cores): the figures are not the server's alone.\n"
        )
    print("| measure | value |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
