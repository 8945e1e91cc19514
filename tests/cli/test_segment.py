"""`shopseg segment ...` through the CLI runner: the whole flow on a small shop, and errors with carets."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from shopseg.cli import _common
from shopseg.cli.main import app
from tests.rules.test_compile import make_shop

runner = CliRunner()


@pytest.fixture(autouse=True)
def wide_console(monkeypatch):
    monkeypatch.setattr(_common.console, "width", 200)
    monkeypatch.setattr(_common.err_console, "width", 200)


@pytest.fixture
def shop_path(tmp_path):
    make_shop(tmp_path / "shop.duckdb").close()
    return str(tmp_path / "shop.duckdb")


def run(path, *args):
    return runner.invoke(app, ["--workspace", path, "segment", *args])


def test_create_list_show_preview_diff_explain_delete(shop_path):
    r = run(shop_path, "create", "vip", "orders >= 3 and last_order < -90d", "-d", "lapsed regulars")
    assert r.exit_code == 0, r.output
    assert "vip version 1: orders >= 3 AND last_order < -90d" in r.output
    assert "estimated size: 2 of 5 customers (40.0%)" in r.output
    r = run(shop_path, "list")
    assert r.exit_code == 0 and "lapsed regulars" in r.output
    r = run(shop_path, "show", "vip")
    assert r.exit_code == 0 and '"field": "last_order"' in r.output
    r = run(shop_path, "preview", "vip")
    assert r.exit_code == 0, r.output
    assert "size: 2 of 5 customers (40.0%) · revenue share: 70.0%" in r.output and "ann" in r.output
    r = run(shop_path, "diff", "vip", "orders >= 3")
    assert r.exit_code == 0 and "vip: 2 -> 2 customers · +0 enter · -0 exit · 2 stay" in r.output
    r = run(shop_path, "create", "buyers", "orders(within=-30d).count >= 1 AND segment('vip') OR spent > 5")
    assert r.exit_code == 0, r.output
    r = run(shop_path, "explain", "buyers", "bob")
    assert r.exit_code == 0 and "✔ orders(within=-30d).count >= 1  (value: 1.0)" in r.output, r.output
    r = run(shop_path, "delete", "buyers")
    r = run(shop_path, "explain", "vip", "bob")
    assert r.exit_code == 0, r.output
    assert "✘ orders >= 3  (value: 1)" in r.output and "bob is not in vip" in r.output
    r = run(shop_path, "refresh")
    assert r.exit_code == 0 and "Snapshot 2024-06-30" in r.output
    r = run(shop_path, "history", "vip", "--from", "2024-06-30", "--to", "2024-06-30")
    assert r.exit_code == 0 and "entered (0)" in r.output
    r = run(shop_path, "migration", "2024-06-30", "2024-06-30")
    assert r.exit_code == 0 and "No purchase" in r.output
    r = run(shop_path, "delete", "vip")
    assert r.exit_code == 0 and "deleted segment vip" in r.output


def test_check_prints_the_canonical_form_and_warnings(shop_path):
    r = run(shop_path, "check", "spent>500 and spent<100")
    assert r.exit_code == 0, r.output
    assert "spent > 500 AND spent < 100" in r.output and "never matches" in r.output
    r = run(shop_path, "fields")
    assert r.exit_code == 0 and "rfm_segment" in r.output and "shopseg predict" in r.output


def test_bad_rule_exits_1_with_line_col_and_caret(shop_path):
    r = run(shop_path, "create", "x", "orders >= 3 AND recnecy < 30")
    assert r.exit_code == 1
    assert "line 1, col 17: unknown field 'recnecy'. Did you mean 'recency'?" in r.output
    assert "  orders >= 3 AND recnecy < 30\n                  ^^^^^^^" in r.output
    assert "Traceback" not in r.output


def test_unknown_segment_exits_1(shop_path):
    r = run(shop_path, "show", "nope")
    assert r.exit_code == 1 and "segment 'nope' does not exist" in r.output


def test_history_before_any_refresh_is_a_clean_error(tmp_path):
    from shopseg.workspace import Workspace

    Workspace.init(tmp_path / "empty.duckdb").close()
    path = str(tmp_path / "empty.duckdb")
    for args in (["history", "vip"], ["migration", "2024-01-01", "2024-02-01"], ["list"]):
        r = run(path, *args)
        assert r.exit_code == (0 if args == ["list"] else 1), r.output
        assert "internal error" not in r.output
    assert "shopseg segment refresh" in run(path, "history", "vip").output


def test_preview_stops_at_the_time_budget_and_create_still_saves(shop_path, monkeypatch):
    monkeypatch.setenv("SHOPSEG_PREVIEW_TIMEOUT_MS", "1")
    r = run(shop_path, "create", "two_plus", "orders >= 2")
    assert r.exit_code == 0, r.output
    assert "two_plus version 1" in r.output
    assert (
        "warning: no size estimate: preview: stopped after 1 ms. Expected to finish within 1 ms (setting "
        "preview_timeout_ms)" in r.output
    )
    r = run(shop_path, "preview", "two_plus")
    assert r.exit_code == 1 and "error: preview: stopped after 1 ms" in r.output and "Traceback" not in r.output
    monkeypatch.setenv("SHOPSEG_PREVIEW_TIMEOUT_MS", "0")  # no budget
    r = run(shop_path, "preview", "two_plus")
    assert r.exit_code == 0 and "size: 3 of 5 customers" in r.output, r.output


def test_list_shows_members_at_the_last_refresh_and_json(shop_path):
    """Issue 20: `segment list` showed no member counts although the README's demo output did."""
    import json

    assert run(shop_path, "create", "vip", "orders >= 3 and last_order < -90d").exit_code == 0
    before = json.loads(run(shop_path, "list", "--json").output)
    assert before == [
        {
            "name": "vip",
            "version": 1,
            "rule": "orders >= 3 AND last_order < -90d",
            "members": None,
            "as_of": None,
            "description": "",
            "error": None,
        }
    ]
    assert run(shop_path, "refresh").exit_code == 0
    after = json.loads(run(shop_path, "list", "--json").output)[0]
    assert after["members"] == 2 and after["as_of"] is not None
    r = run(shop_path, "list")
    assert r.exit_code == 0 and after["as_of"] in r.output


def test_preview_of_a_name_that_is_not_saved_says_so(shop_path):
    """A lone word is a segment name unless it parses as a rule: a typo gets "does not exist", not a parse error."""
    assert run(shop_path, "create", "vip", "orders >= 3").exit_code == 0
    r = run(shop_path, "preview", "vip_customers")
    assert r.exit_code != 0
    assert "segment 'vip_customers' does not exist" in r.output and "vip" in r.output, r.output
    assert "unexpected end of rule" not in r.output
    r = run(shop_path, "preview", "orders >")  # a rule that is not a lone word keeps its parse error
    assert r.exit_code != 0 and "does not exist" not in r.output, r.output


def test_a_segment_refreshed_with_no_member_lists_0_and_its_date(shop_path):
    """`segment refresh` printed "nobody 0" but `segment list` showed members "-" and as-of "-" (JSON null)."""
    import json

    assert run(shop_path, "create", "nobody", "country IN ('ZZ')").exit_code == 0
    r = run(shop_path, "refresh")
    assert r.exit_code == 0 and "nobody" in r.output, r.output
    day = json.loads(run(shop_path, "refresh", "--json").output)["as_of"]
    listed = json.loads(run(shop_path, "list", "--json").output)
    assert [(s["name"], s["members"], s["as_of"]) for s in listed] == [("nobody", 0, day)]
    r = run(shop_path, "list")
    row = next(line for line in r.output.splitlines() if "nobody" in line)
    assert [c.strip() for c in row.split("│")[4:6]] == ["0", day]


def test_preview_of_a_rule_nobody_matches_shows_zero_revenue(shop_path):
    r = run(shop_path, "preview", "orders >= 1000")
    assert r.exit_code == 0, r.output
    assert "size: 0 of 5 customers (0.0%) · revenue share: 0.0%" in r.output and "nan" not in r.output
