"""The segment query service (issue 17 item 4): one answer per question for every surface, a rule validated once,
rule issues that carry their place as data, and one save path with one field name.

The five-customer shop of :func:`tests.rules.test_compile.make_shop` (features as of 2024-06-30): ann, cat
have 3+ orders, dan 2, bob 1, eve none; revenues 30, 10, 40, 20, 0 (10 per order).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import shopseg.rules.validate as validate_module
from shopseg.api import create_app
from shopseg.api.keys import KeyStore
from shopseg.engine import get_engine
from shopseg.errors import SegmentError
from shopseg.rules.parse import parse_segment
from shopseg.segments.definitions import SNAPSHOTS_TABLE, SegmentStore
from shopseg.segments.query import SegmentQuery, plain
from shopseg.workspace import Workspace
from tests.rules.test_compile import AS_OF, make_shop


@pytest.fixture
def shop_path(tmp_path: Path) -> Path:
    path = tmp_path / "shop.duckdb"
    make_shop(path).close()
    return path


@pytest.fixture
def client(shop_path: Path):  # type: ignore[no-untyped-def]
    with Workspace.open(shop_path) as ws:
        keys = {role: KeyStore(ws).create(f"t-{role}", role).key for role in ("viewer", "marketer")}
    app = create_app(shop_path, live=False)
    with TestClient(app) as c:
        c.keys = keys  # type: ignore[attr-defined]
        yield c


def _h(c: TestClient, role: str) -> dict[str, str]:
    return {"X-API-Key": c.keys[role]}  # type: ignore[attr-defined]


def test_a_syntax_issue_carries_its_span_as_data():
    """The place is data: line, column and the number of characters, not only text inside the message."""
    with pytest.raises(SegmentError) as caught:
        parse_segment("orders >= 3\nAND spent >> 5")
    [issue] = caught.value.issues
    assert (issue.line, issue.col, issue.length) == (2, 12, 1)
    assert issue.message.startswith("line 2, col 12: ") and issue.what == issue.message.split(": ", 1)[1].split("\n")[0]


def test_an_unknown_field_is_underlined_over_its_whole_name(shop_path):
    with Workspace.open(shop_path) as ws, pytest.raises(SegmentError) as caught:
        SegmentStore(ws).check("orders >= 3 AND recnecy < 5")
    [issue] = caught.value.issues
    assert (issue.line, issue.col, issue.length) == (1, 17, len("recnecy"))
    assert issue.what.startswith("unknown field 'recnecy'") and "Did you mean 'recency'?" in issue.what


def test_preview_members_overlap_diff_and_explain_agree(shop_path):
    with Workspace.open(shop_path) as ws:
        store = SegmentStore(ws)
        store.create("vip", "orders >= 3")
        q = SegmentQuery(store, get_engine(ws, "duckdb"))
        rule = q.rule("orders >= 2")
        info = q.preview(rule, sample=10)
        assert (info["size"], info["customers"], info["as_of"], info["rule"]) == (3, 5, AS_OF, "orders >= 2")
        assert info["revenue_share"] == pytest.approx(90 / 100)
        assert info["overlap"] == {"vip": 2} and q.size(rule) == 3
        assert q.member_ids(rule) == ["ann", "cat", "dan"] == [r["customer_id"] for r in info["sample"]]
        page = q.members_page("vip", page=2, size=1)
        assert (page["total"], page["pages"], [r["customer_id"] for r in page["rows"]]) == (2, 2, ["cat"])
        assert q.diff("vip", q.rule("orders >= 2", "vip"))["enter"] == ["dan"]
        why = q.explain("vip", "dan")
        assert why["member"] is False and why["steps"][0] == {
            "path": "/",
            "depth": 0,
            "condition": "orders >= 3",
            "value": 2,
            "held": False,
        }


def test_a_rule_is_validated_once_per_preview_request(client, monkeypatch):
    """Before: the boundary checked the rule, then the compiler checked it again (twice per request)."""
    checked: list[str] = []
    real = validate_module._Checker.__init__

    def counting(self, seg, *args, **kwargs):  # type: ignore[no-untyped-def]
        checked.append(seg.source)
        real(self, seg, *args, **kwargs)

    monkeypatch.setattr(validate_module._Checker, "__init__", counting)
    r = client.post("/api/v1/segments/preview", headers=_h(client, "viewer"), json={"rule": "orders >= 2"})
    assert r.status_code == 200, r.text
    assert checked == ["orders >= 2"]


def test_rule_errors_answer_the_one_error_body_with_their_span(client):
    r = client.post(
        "/api/v1/segments/preview", headers=_h(client, "viewer"), json={"rule": "orders >= 3 AND revnue > 1"}
    )
    body = r.json()
    assert r.status_code == 422 and set(body) == {"ok", "error", "errors", "status"}
    [item] = body["errors"]
    assert (item["line"], item["col"], item["length"], item["path"]) == (1, 17, 6, "/and/1/field")
    assert item["what"].startswith("unknown field 'revnue'") and item["message"].startswith("line 1, col 17: ")


def test_rule_is_the_field_name_and_definition_a_deprecated_alias(client):
    m = _h(client, "marketer")
    new = client.post("/api/v1/segments", headers=m, json={"name": "two", "rule": "orders >= 2"})
    old = client.post("/api/v1/segments", headers=m, json={"name": "three", "definition": "orders >= 3"})
    assert (new.status_code, old.status_code) == (201, 201), old.text
    assert new.json()["rule"] == "orders >= 2" and old.json()["rule"] == old.json()["definition"] == "orders >= 3"
    both = client.post("/api/v1/segments", headers=m, json={"name": "x", "rule": "orders >= 1", "definition": "a"})
    assert both.status_code == 422 and "deprecated alias 'definition'" in both.json()["error"]
    none = client.post("/api/v1/segments", headers=m, json={"name": "x"})
    assert none.status_code == 422 and none.json()["errors"][0]["path"] == "/body/rule"
    schema = client.get("/openapi.json").json()["components"]["schemas"]["SegmentIn"]["properties"]
    assert schema["definition"].get("deprecated") is True and "deprecated" not in schema["rule"]


def test_saving_through_the_api_snapshots_the_segment(client, shop_path):
    """One save path: what the dashboard did on save (a snapshot, so the size shows at once) every surface does."""
    r = client.put("/api/v1/segments/vip", headers=_h(client, "marketer"), json={"rule": "orders >= 3"})
    assert r.status_code == 200, r.text
    state = client.app.state.shopseg  # type: ignore[attr-defined]
    with state.lock:
        rows = state.workspace.con.execute(f'SELECT customer_id FROM "{SNAPSHOTS_TABLE}" ORDER BY 1').fetchall()
    assert [c for (c,) in rows] == ["ann", "cat"]


def test_plain_values_are_json():
    import numpy as np

    assert [plain(np.int64(3)), plain(np.float64("nan")), plain(None)] == [3, None, None]
