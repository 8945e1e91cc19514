"""Dashboard speed: every page and the builder's JSON calls, timed in-process over one workspace.

    python bench/bench_dashboard.py WORKSPACE.duckdb          # e.g. a 1M-customer store with features, RFM, predictions

The workspace needs features and RFM (``bench/run_all.py`` builds them); it is
copied to a temporary folder first and only read. On the copy, what the pages
also show is added when missing: lifecycle stages, predictions (``shopseg predict
run``, about 5 minutes at 1M customers) and the saved segment ``loyal``
(``orders >= 4``) with a snapshot. The bench then writes an API key and the
dashboard's stored aggregates to copies of that prepared file.

The app is the one ``shopseg serve`` runs (``create_app(..., routers=dashboard_routers())``,
live mode off) driven through httpx's ASGI client, so the figures are server time
(query, figures, template) without a network or a browser. Three passes over the copy:

1. **first start, no warm-up**: nothing is stored yet and the background warm-up
   is not started, so the first request of the overview, predictions and regions
   pages computes their aggregates (what a user would wait for right after the
   data changed, if they beat the warm-up); each request then runs again (warm);
2. **restart**: a new app on the same file, as after a server restart: the first
   request finds the aggregates stored in the workspace (checked by fingerprint);
3. **start with warm-up**: a new app on a fresh copy, with ``start_warmup`` as in
   ``shopseg serve``: how long the warm-up takes, then each request once.

Response sizes show that pages ship aggregates, not customer rows.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

REQUESTS = [
    ("GET", "/", None),
    ("GET", "/rfm", None),
    ("GET", "/segments/new", None),
    ("GET", "/segments/loyal", None),
    ("GET", "/clusters", None),
    ("GET", "/predictions", None),
    ("GET", "/regions", None),
    ("GET", "/experiments", None),
    ("GET", "/events", None),
    (
        "POST",
        "/api/v1/segments/preview",
        {"rule": "orders >= 3 AND revenue > 500 AND days_since_last_order < 90", "overlap": False},
    ),
    ("GET", "/api/v1/segments/loyal/customers?page=1&size=50", None),
    ("GET", "/api/v1/segments/loyal/customers?page=2000&size=50", None),
    ("GET", "/api/v1/segments/loyal/explain/{member}", None),
    ("GET", "/api/v1/dashboard/events?limit=50", None),
]


def _prepare(path: Path) -> None:
    """Add lifecycle, predictions and the segment ``loyal`` (with a snapshot) when the workspace lacks them."""
    from typer.testing import CliRunner

    from shopseg.cli.main import app as cli
    from shopseg.workspace import Workspace

    with Workspace.open(path, read_only=True) as ws:
        tables = set(ws.tables())
        loyal = (
            "segment_definitions" in tables
            and ws.con.execute("SELECT count(*) FROM segment_definitions WHERE name = 'loyal'").fetchone()[0] > 0
        )
    steps = [] if "customer_lifecycle" in tables else [["lifecycle"]]
    steps += [] if "customer_predictions" in tables else [["predict", "run"]]
    steps += [] if loyal else [["segment", "create", "loyal", "orders >= 4", "--force"], ["segment", "refresh"]]
    for step in steps:
        start = time.perf_counter()
        result = CliRunner().invoke(cli, ["-w", str(path), *step])
        if result.exit_code != 0:
            raise SystemExit(f"shopseg {' '.join(step)} failed:\n{result.output}")
        print(f"prepared: shopseg {' '.join(step)} ({time.perf_counter() - start:.0f} s)", flush=True)


def _app(path: Path) -> tuple[object, object, str]:
    from shopseg.api import create_app
    from shopseg.web import dashboard_routers

    app = create_app(path, live=False, routers=dashboard_routers())
    state = app.state.shopseg  # type: ignore[attr-defined]
    member = state.workspace.con.execute("SELECT min(customer_id) FROM customer_features WHERE orders >= 4").fetchone()[
        0
    ]
    return app, state, member


def _time(client: object, member: str, method: str, url: str, body: object) -> tuple[float, int, int]:
    start = time.perf_counter()
    r = client.request(method, url.format(member=member), json=body)  # type: ignore[attr-defined]
    return time.perf_counter() - start, r.status_code, len(r.content)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("workspace", type=Path)
    args = parser.parse_args()
    import os
    import shutil
    import tempfile

    from fastapi.testclient import TestClient

    from shopseg.web.cache import start_warmup

    folder = Path(tempfile.mkdtemp(prefix="bench-dashboard-"))
    path, prepared = folder / "store.duckdb", folder / "prepared.duckdb"
    try:
        shutil.copyfile(args.workspace, prepared)
        _prepare(prepared)
        shutil.copyfile(prepared, path)
        app, state, member = _app(path)
        customers = state.workspace.con.execute("SELECT count(*) FROM customers").fetchone()[0]
        key = state.keys.create("bench", "marketer").key
        print(f"{customers:,} customers; load average {os.getloadavg()[0]:.2f} at the start\n")
        client = TestClient(app, headers={"X-API-Key": key})
        first: dict[str, tuple[float, float, int, int]] = {}
        for method, url, body in REQUESTS:
            cold, status, size = _time(client, member, method, url, body)
            warm, status, size = _time(client, member, method, url, body)
            first[url] = (cold, warm, status, size)
        state.close()

        app, state, member = _app(path)  # a restart: the aggregates are stored in the workspace
        client = TestClient(app, headers={"X-API-Key": key})
        restart = {url: _time(client, member, method, url, body)[0] for method, url, body in REQUESTS}
        state.close()

        shutil.copyfile(prepared, path)  # a fresh copy: nothing stored, the warm-up computes it all
        app, state, member = _app(path)
        key = state.keys.create("bench", "marketer").key
        client = TestClient(app, headers={"X-API-Key": key})
        start = time.perf_counter()
        start_warmup(state).join()
        warmup = time.perf_counter() - start
        after = {url: _time(client, member, method, url, body)[0] for method, url, body in REQUESTS}
        state.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print("| request | status | first start, cold s | warm s | restart, cold s | after warm-up, cold s | response KB |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for method, url, _ in REQUESTS:
        cold, warm, status, size = first[url]
        print(
            f"| {method} {url} | {status} | {cold:.2f} | {warm:.2f} | {restart[url]:.2f} | {after[url]:.2f} | {size / 1024:.0f} |"
        )
    from shopseg.web.cache import AGGREGATES

    print(
        f"\nbackground warm-up at start ({', '.join(AGGREGATES)}): {warmup:.1f} s; "
        f"load average {os.getloadavg()[0]:.2f} at the end"
    )


if __name__ == "__main__":
    main()
