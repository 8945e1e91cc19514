"""The dashboard's and the API's audience CSV carries only what its channel needs (data minimisation).

Probe: after `shopseg privacy consent c000001 email_marketing --withdraw`,
``GET /api/v1/segments/big/export.csv?consent=sms_marketing`` answered ``customer_id,segment,email,country,city``
with c000001's address."""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from shopseg.api import create_app
from shopseg.privacy import record_consent
from shopseg.web import dashboard_routers
from shopseg.workspace import Workspace
from tests.web.conftest import DemoStore


@pytest.fixture(scope="module")
def store(demo_store: DemoStore, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, str]]:
    """A copy of the demo store where every customer takes SMS, and the first loyal one withdrew e-mail consent."""
    assert demo_store.copy is not None
    path = Path(tmp_path_factory.mktemp("export_channels")) / "ws.duckdb"
    shutil.copyfile(demo_store.copy, path)
    with Workspace.open(path) as ws:
        ws.con.execute("UPDATE customers SET sms_marketing = true, email_marketing = true")
        first = ws.con.execute("SELECT min(customer_id) FROM customer_features WHERE orders >= 4").fetchone()[0]
        record_consent(ws, first, "email_marketing", False, source="unsubscribe link")
    app = create_app(path, live=False, routers=dashboard_routers())
    try:
        with TestClient(app, headers={"X-API-Key": demo_store.keys["marketer"]}) as client:
            yield client, str(first)
    finally:
        app.state.shopseg.close()


def _rows(client: TestClient, consent: str) -> list[dict[str, str]]:
    res = client.get(f"/api/v1/segments/loyal/export.csv?consent={consent}")
    assert res.status_code == 200, res.text
    return list(csv.DictReader(io.StringIO(res.text)))


def test_the_sms_audience_has_no_email_address(store: tuple[TestClient, str]) -> None:
    client, withdrew = store
    rows = _rows(client, "sms_marketing")
    assert rows and list(rows[0]) == ["customer_id", "segment"]
    assert withdrew in {r["customer_id"] for r in rows}  # SMS consent stands: exported, without the address
    assert not any("@" in value for r in rows for value in r.values())


def test_the_email_audience_keeps_its_columns_and_leaves_out_the_withdrawal(store: tuple[TestClient, str]) -> None:
    client, withdrew = store
    rows = _rows(client, "email_marketing")
    assert rows and list(rows[0]) == ["customer_id", "segment", "email", "country", "city"]
    assert withdrew not in {r["customer_id"] for r in rows}
