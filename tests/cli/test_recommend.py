"""`shopseg recommend ...` and `shopseg nba ...` through the CLI runner."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from shopseg.cli import _common
from shopseg.cli.main import app

runner = CliRunner()
_NUMBER = re.compile(r"[+-]\d+\.\d+")


@pytest.fixture(autouse=True)
def wide_console(monkeypatch):
    monkeypatch.setattr(_common.console, "width", 200)


def _run(path, *args):
    return runner.invoke(app, ["--workspace", str(path), *args])


def test_recommend_commands(action_ws_path):
    res = _run(action_ws_path, "recommend", "customer", "c000001", "-n", "3")
    assert res.exit_code == 0, res.output
    assert "Recommendations for c000001" in res.output and "bought together with" in res.output
    assert (
        "Blend: similarity 1 + segment 0.2, past purchases excluded; today's default: no evaluation stored"
        in res.output
    )
    res = _run(action_ws_path, "recommend", "segment", "Champions", "-n", "3")
    assert res.exit_code == 0, res.output
    assert "Top products of RFM segment 'Champions'" in res.output


def test_evaluate_prints_both_baselines_with_intervals_and_exact_verdicts(action_ws_path):
    """The synthetic store of the action tests (1,500 customers, seed 5): bootstrap seed 0, 1,000 resamples."""
    res = _run(action_ws_path, "recommend", "evaluate")
    assert res.exit_code == 0, res.output
    lines = [line.rstrip() for line in res.output.splitlines()]
    assert "Last-order holdout, k = 10, 744 customers (95% bootstrap intervals over customers)" in lines
    assert any(line.startswith("│ global popularity  ") and "28.9% (25.5% to 32.3%)" in line for line in lines)
    assert any(
        line.startswith("│ buy again (personal popularity) ") and "22.6% (19.5% to 25.8%)" in line for line in lines
    )
    start = lines.index("Verdicts (paired bootstrap of the difference, 1,000 resamples of the customers, seed 0):")
    want = [
        "  hit rate@10: beats global popularity (+3.5 points, 95% CI +1.3 to +5.9)",
        "  hit rate@10: beats buy again (personal popularity) (+9.8 points, 95% CI +6.9 to +12.8)",
        "  NDCG@10: beats global popularity (+0.014, 95% CI +0.004 to +0.024)",
        "  NDCG@10: beats buy again (personal popularity) (+0.034, 95% CI +0.024 to +0.044)",
        "Stored as this workspace's blend: `shopseg recommend customer` uses it.",
    ]
    # the verdicts' words exactly; their numbers to the last digit shown, give or take one: an interval's
    # bound at 0.0235 prints as 0.023 on one CPU and 0.024 on another (floating-point sums in another order)
    got = lines[start + 1 : start + 6]
    assert [_NUMBER.sub("#", g) for g in got] == [_NUMBER.sub("#", w) for w in want]
    for g, w in zip(got, want, strict=True):
        for a, b in zip(_NUMBER.findall(g), _NUMBER.findall(w), strict=True):
            step = 10.0 ** -len(b.partition(".")[2]) if "." in b else 1.0
            assert abs(float(a) - float(b)) <= step + 1e-9, (g, w)
    assert lines[start - 1].startswith(
        "Blend: buy-again 1 (half-life 30 days) + similarity 1 + segment 0.3, "
        "past purchases included; chosen on the validation split"
    )


def _listed(output: str) -> set[str]:
    """The product column of a printed recommendation table."""
    cells = [line.split("│") for line in output.splitlines() if line.startswith("│")]
    return {c[2].strip() for c in cells if len(c) > 3 and c[2].strip()}


def test_include_and_exclude_bought_flags(action_ws_path):
    from shopseg.personalize.interactions import load_purchases
    from shopseg.workspace import Workspace

    with Workspace.open(action_ws_path, read_only=True) as ws:
        bought = load_purchases(ws)
    mine = set(bought.loc[bought["customer_id"] == "c000001", "product_id"])
    res = _run(action_ws_path, "recommend", "customer", "c000001", "-n", "10", "--include-bought")
    assert res.exit_code == 0, res.output
    assert "buy again: in 4 of their orders" in res.output and mine & _listed(res.output)
    assert "past purchases included (past purchases set by the command-line flag); today's default" in res.output
    res = _run(action_ws_path, "recommend", "evaluate", "--no-store")
    assert res.exit_code == 0 and "Not stored (--no-store)." in res.output
    res = _run(action_ws_path, "recommend", "customer", "c000001", "-n", "10")
    assert "buy again:" not in res.output and not mine & _listed(res.output)  # default: excluded
    assert len(_listed(res.output)) == 10
    assert _run(action_ws_path, "recommend", "evaluate").exit_code == 0  # stores a blend that includes them
    res = _run(action_ws_path, "recommend", "customer", "c000001", "-n", "10")
    assert (
        "buy again: in 4 of their orders" in res.output and "chosen by `shopseg recommend evaluate` on " in res.output
    )
    assert mine & _listed(res.output)
    res = _run(action_ws_path, "recommend", "customer", "c000001", "-n", "10", "--exclude-bought")
    assert res.exit_code == 0 and "buy again:" not in res.output and not mine & _listed(res.output)
    assert "past purchases excluded (past purchases set by the command-line flag)" in res.output


def test_recommend_errors_are_one_line(action_ws_path):
    res = _run(action_ws_path, "recommend", "customer", "nobody")
    assert res.exit_code == 1 and "customer 'nobody'" in res.output and "Traceback" not in res.output
    res = _run(action_ws_path, "recommend", "segment", "Champion")
    assert res.exit_code == 1 and "Did you mean 'Champions'" in res.output


def test_nba_commands(action_ws_path, tmp_path):
    res = _run(action_ws_path, "nba", "playbook")
    assert res.exit_code == 0 and "win_back" in res.output
    book = tmp_path / "book.yaml"
    book.write_text(res.output, encoding="utf-8")
    res = _run(action_ws_path, "nba", "customer", "c000002", "--playbook", str(book))
    assert res.exit_code == 0, res.output
    assert "reason:" in res.output and "products:" in res.output
    res = _run(action_ws_path, "nba", "segment", "At risk", "-o", str(tmp_path / "risk.csv"))
    assert res.exit_code == 0, res.output
    assert "Next best actions in RFM segment 'At risk'" in res.output and "win_back" in res.output
    res = _run(action_ws_path, "nba", "run", "-o", str(tmp_path / "nba.csv"))
    assert res.exit_code == 0, res.output
    assert "customer_next_actions" in res.output and (tmp_path / "nba.csv").exists()


def test_nba_bad_playbook(action_ws_path, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"rules": [{"name": "x"}]}', encoding="utf-8")
    res = _run(action_ws_path, "nba", "run", "--playbook", str(bad))
    assert res.exit_code == 2 and "/rules/0/when: Field required" in res.output and "Traceback" not in res.output


def test_evaluate_on_a_one_product_store_says_it_cannot_tell_the_models_apart(tmp_path):
    """CDNOW (one product): every model at 100.0%; the CLI warns instead of printing verdicts and stores no blend."""
    import json

    from shopseg.io import ingest
    from shopseg.personalize import Blend, load_blend
    from shopseg.workspace import Workspace
    from tests.conftest import shared_file

    path = tmp_path / "cdnow.duckdb"
    with Workspace.init(path) as ws:
        ingest(ws, "orders", shared_file("CDNOW_sample.txt"), preset="cdnow_sample")
    res = _run(path, "recommend", "evaluate")
    assert res.exit_code == 0, res.output
    assert (
        "Warning: cannot tell the models apart: the store has 1 product, and a top-10 list holds the whole catalogue."
        in res.output
    )
    assert "Verdicts" not in res.output and "no significant difference" not in res.output
    assert "Not stored: a blend chosen on this data means nothing" in res.output
    with Workspace.open(path, read_only=True) as ws:
        assert load_blend(ws) == Blend()
    out = json.loads(_run(path, "recommend", "evaluate", "--json").output)
    assert out["cannot_compare"] == "the store has 1 product, and a top-10 list holds the whole catalogue"
    assert out["verdicts"] == ["cannot tell the models apart: " + out["cannot_compare"]] and out["stored"] is False
