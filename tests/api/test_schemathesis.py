"""schemathesis generates requests from /openapi.json (valid and invalid) and finds no server error (5xx).

Requests carry an admin key so they reach the handlers, not only the 401
check; the live engine runs (events are stored and evaluated). The SSE stream
is left out: it never ends by design (it is tested in tests/live/test_journey.py).
"""

from __future__ import annotations

from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from shopseg.api import create_app
from shopseg.segments.definitions import SegmentStore
from shopseg.workspace import Workspace


def test_no_server_error_anywhere_in_the_spec(tmp_path: Path) -> None:
    path = tmp_path / "ws.duckdb"
    with Workspace.init(path) as ws:
        SegmentStore(ws).create("carts", "events(type='add_to_cart', within=-7d).count >= 1")
    app = create_app(path)
    key = app.state.shopseg.keys.create("fuzz", "admin").key
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: list[str] = []
    statuses: list[int] = []
    try:
        operations = [r.ok() for r in schema.get_all_operations()]
        checked = [op for op in operations if op.path != "/api/v1/stream"]
        assert len(checked) >= 15
        for op in checked:

            @given(case=op.as_strategy())
            @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None)
            def run(case) -> None:  # type: ignore[no-untyped-def]
                response = case.call(headers={"X-API-Key": key})
                statuses.append(response.status_code)
                if response.status_code >= 500:
                    failures.append(f"{op.method.upper()} {op.path}: {response.status_code} {response.text[:200]}")  # noqa: B023 (run is called inside this iteration)
                case.validate_response(response, checks=[not_a_server_error])

            run()
    finally:
        app.state.shopseg.close()
    assert not failures, failures
    assert len(statuses) > 100 and any(s < 300 for s in statuses) and any(s == 422 for s in statuses)
