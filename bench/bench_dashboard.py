"""Dashboard speed: every page and the builder's JSON calls, timed in-process over one workspace.

    python bench/bench_dashboard.py WORKSPACE.duckdb          # e.g. a 1M-customer store with features, RFM, predictions

The app is the one ``shopseg serve`` runs (``create_app(..., routers=dashboard_routers())``,
live mode off) driven through httpx's ASGI client, so the figures are server time
(query, figures, template) without a network or a browser. Each request runs twice:
the first is cold (DuckDB's caches empty, the backtest not yet computed), the second
warm. Response sizes show that pages ship aggregates, not customer rows.
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
    ("POST", "/api/v1/dashboard/segments/preview", {"rule": "orders >= 3 AND revenue > 500 AND days_since_last_order < 90"}),
    ("GET", "/api/v1/dashboard/segments/loyal/members?page=1&size=50", None),
    ("GET", "/api/v1/dashboard/segments/loyal/members?page=2000&size=50", None),
    ("GET", "/api/v1/dashboard/segments/loyal/explain/{member}", None),
    ("GET", "/api/v1/dashboard/events?limit=50", None),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("workspace", type=Path)
    args = parser.parse_args()
    from fastapi.testclient import TestClient

    from shopseg.api import create_app
    from shopseg.web import dashboard_routers

    app = create_app(args.workspace, live=False, routers=dashboard_routers())
    state = app.state.shopseg
    customers = state.workspace.con.execute("SELECT count(*) FROM customers").fetchone()[0]
    member = state.workspace.con.execute("SELECT min(customer_id) FROM customer_features WHERE orders >= 4").fetchone()[0]
    key = state.keys.create("bench", "marketer").key
    client = TestClient(app, headers={"X-API-Key": key})
    print(f"{customers:,} customers\n")
    print("| request | status | cold s | warm s | response KB |")
    print("|---|---:|---:|---:|---:|")
    for method, url, body in REQUESTS:
        times, size, status = [], 0, 0
        for _ in range(2):
            start = time.perf_counter()
            r = client.request(method, url.format(member=member), json=body)
            times.append(time.perf_counter() - start)
            size, status = len(r.content), r.status_code
        print(f"| {method} {url} | {status} | {times[0]:.2f} | {times[1]:.2f} | {size / 1024:.0f} |", flush=True)
    state.close()


if __name__ == "__main__":
    main()
