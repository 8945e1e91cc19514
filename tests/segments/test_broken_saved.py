"""One bad saved segment never stops the others (issue 14, defect 2c).

The bad rules are written straight into ``segment_definitions``, as an older
shopseg (without the rule limits) could have saved them: refresh, overlaps,
previews, members pages, creating new segments and the live engine go on with
the good segments and report each bad one by name.
"""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from typer.testing import CliRunner

from shopseg.cli import _common
from shopseg.cli.main import app
from shopseg.engine import get_engine
from shopseg.errors import SegmentError
from shopseg.live.clock import ManualClock
from shopseg.live.runtime import LiveEngine
from shopseg.segments.definitions import DEFINITIONS_TABLE, SNAPSHOTS_TABLE, SegmentStore
from shopseg.segments.query import SegmentQuery
from shopseg.workspace import Workspace
from tests.rules.test_compile import make_shop

#: Saved as an older version could have: over the node limit, over the depth limit, unreadable, and one good
#: rule that refers to a broken one.
BAD = {
    "thousand_ors": " OR ".join(f"orders = {i}" for i in range(1000)),
    "deep_nots": "NOT " * 150 + "orders >= 1",
    "garbled": "orders >>= 3",
    "uses_deep": "segment('deep_nots') OR orders >= 4",
}
GOOD = {"vip": "orders >= 3", "recent": "last_order > -30d"}  # ann, cat / bob, dan
BAD_CODES = {
    "thousand_ors": "too_many_nodes",
    "deep_nots": "too_deep",
    "garbled": "syntax",
    "uses_deep": "broken_segment",
}


def insert_bad(ws: Workspace) -> None:
    now = dt.datetime(2024, 1, 1)
    ws.con.executemany(
        f"INSERT INTO \"{DEFINITIONS_TABLE}\" VALUES (?, 1, ?, '', ?, false)",
        [(name, rule, now) for name, rule in BAD.items()],
    )


@pytest.fixture
def shop_path(tmp_path):
    path = tmp_path / "shop.duckdb"
    with make_shop(path) as ws:
        store = SegmentStore(ws)
        for name, rule in GOOD.items():
            store.create(name, rule)
        insert_bad(ws)
    return path


@pytest.fixture
def shop(shop_path):
    with Workspace.open(shop_path) as ws:
        yield ws


def test_the_bad_segments_are_set_apart_with_their_reasons(shop):
    store = SegmentStore(shop)
    assert sorted(store.definitions()) == ["recent", "vip"]
    assert {name: [i.code for i in exc.issues] for name, exc in store.broken.items()} == {
        name: [code] for name, code in BAD_CODES.items()
    }
    assert "segment 'deep_nots': 1 problem\n/: the rule is nested 151 levels deep" in str(store.broken["deep_nots"])
    assert "segment('deep_nots') refers to a saved segment that cannot be used" in str(store.broken["uses_deep"])


def test_refresh_snapshots_the_others_and_reports_the_bad_ones(shop):
    store = SegmentStore(shop)
    assert store.refresh(get_engine(shop, "duckdb")) == {"recent": 2, "vip": 2}
    assert sorted(store.broken) == sorted(BAD)
    rows = shop.con.execute(f'SELECT name, customer_id FROM "{SNAPSHOTS_TABLE}" ORDER BY ALL').fetchall()
    assert rows == [("recent", "bob"), ("recent", "dan"), ("vip", "ann"), ("vip", "cat")]


def test_preview_overlaps_create_and_members_go_on(shop):
    store, engine = SegmentStore(shop), get_engine(shop, "duckdb")
    q = SegmentQuery(store, engine)
    info = q.preview(q.rule("orders >= 1"))
    assert info["size"] == 4 and info["overlap"] == {"recent": 2, "vip": 2}
    left_out = [w for w in info["warnings"] if w.startswith("overlap: segment '")]
    assert [w.split("'")[1] for w in left_out] == sorted(BAD)
    assert "overlap: segment 'thousand_ors' cannot be used: the rule has 1,001 conditions" in left_out[2]
    assert store.create("two_plus", "orders >= 2").version == 1
    with pytest.raises(
        SegmentError,
        match=r"segment\('garbled'\) refers to a saved segment that cannot be used: "
        r"line 1, col 9: unexpected '>='",
    ):
        store.create("nope", "segment('garbled') AND orders >= 1")
    assert q.members_page("vip")["total"] == 2
    with pytest.raises(SegmentError, match="segment 'deep_nots': 1 problem"):
        q.members_page("deep_nots")
    with pytest.raises(SegmentError, match="segment 'uses_deep': 1 problem"):
        q.members_page("uses_deep")


def test_the_live_engine_loads_the_others_and_logs_the_bad_ones(shop_path, caplog):
    caplog.set_level(logging.WARNING, logger="shopseg.live")
    eng = LiveEngine(Workspace.open(shop_path), clock=ManualClock(dt.datetime(2024, 6, 30, 12)), tick_ms=60_000)
    try:
        assert {n: sorted(m) for n, m in eng.evaluator.members.items()} == {
            "recent": ["bob", "dan"],
            "vip": ["ann", "cat"],
        }
        assert sorted(eng.broken) == sorted(BAD)
        logged = [r.getMessage().removeprefix("live engine: ") for r in caplog.records if "left out" in r.getMessage()]
        assert sorted(m.split("'")[1] for m in logged) == sorted(BAD)
        assert "segment 'deep_nots' cannot be used and is left out (too_deep)" in logged
    finally:
        eng.stop()
        eng.workspace.close()


@pytest.fixture
def cli(monkeypatch, shop_path):
    monkeypatch.setattr(_common.console, "width", 250)
    monkeypatch.setattr(_common.err_console, "width", 250)
    return lambda *args: CliRunner().invoke(app, ["--workspace", str(shop_path), "segment", *args])


def test_cli_refresh_stores_the_others_names_the_bad_ones_and_exits_1(cli, shop_path):
    r = cli("refresh")
    assert r.exit_code == 1, r.output
    assert "Traceback" not in r.output and "internal error" not in r.output
    for name, _code in BAD_CODES.items():
        assert f"error: not refreshed: segment '{name}' cannot be used" in r.output, r.output
    assert "vip" in r.output and "recent" in r.output
    with Workspace.open(shop_path, read_only=True) as ws:
        assert ws.con.execute(f'SELECT count(*) FROM "{SNAPSHOTS_TABLE}"').fetchone()[0] == 4


def test_cli_create_and_preview_warn_and_go_on(cli):
    r = cli("create", "two_plus", "orders >= 2")
    assert r.exit_code == 0, r.output
    assert "estimated size: 3 of 5 customers" in r.output
    assert "warning: overlap: segment 'deep_nots' cannot be used: the rule is nested 151 levels deep" in r.output
    r = cli("preview", "vip")
    assert r.exit_code == 0 and "size: 2 of 5 customers" in r.output, r.output


def test_cli_check_refuses_an_over_limit_rule_without_a_traceback(cli):
    r = cli("check", BAD["thousand_ors"])
    assert r.exit_code == 1
    assert "Expected at most 1,000 (setting segment_max_nodes)" in r.output
    assert "Traceback" not in r.output and "internal error" not in r.output
    r = cli("check", "orders >= 1 OR " * 2000 + "orders >= 1")
    assert r.exit_code == 1 and "(setting segment_max_rule_chars)" in r.output
