"""`--json`: one document on stdout, equal to what the Python API computes; errors as {"error": {...}}."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from shopseg.cli.main import app
from shopseg.workspace import Workspace

runner = CliRunner()


def _json(store, *args: str, code: int = 0) -> Any:
    result = runner.invoke(app, ["-w", str(store.path), *args, "--json"], env={"COLUMNS": "80"})
    assert result.exit_code == code, result.output
    return json.loads(result.stdout)  # nothing but the document on stdout


def _sql(store, query: str) -> list[tuple]:
    with Workspace.open(store.path, read_only=True) as ws:
        return ws.con.execute(query).fetchall()


def test_status_json_lists_the_row_counts(cli_store):
    doc = _json(cli_store, "status")
    with Workspace.open(cli_store.path, read_only=True) as ws:
        assert doc["tables"] == ws.row_counts()
    assert doc["ingests"] and {"kind", "rows_read", "rows_kept", "ingested_at"} <= set(doc["ingests"][0])


def test_rfm_json_counts_each_segment(cli_store):
    doc = _json(cli_store, "rfm")
    counts = dict(_sql(cli_store, "SELECT rfm_segment, count(*) FROM customer_rfm GROUP BY 1"))
    got = {s["segment"]: s["customers"] for s in doc["segments"] if s["customers"]}
    assert got == {k: v for k, v in counts.items() if k is not None} | (
        {"No purchase": counts[None]} if None in counts else {}
    )
    assert doc["customers"] == sum(counts.values())


def test_lifecycle_and_features_json(cli_store):
    doc = _json(cli_store, "lifecycle")
    counts = dict(_sql(cli_store, "SELECT stage, count(*) FROM customer_lifecycle GROUP BY 1"))
    assert {s["stage"]: s["customers"] for s in doc["stages"] if s["customers"]} == counts
    assert [t["threshold"] for t in doc["thresholds"]] == ["new_days", "active_days", "lapsed_days"]
    feats = _json(cli_store, "features", "build")
    ((n, buyers, revenue),) = _sql(
        cli_store, "SELECT count(*), count(*) FILTER (orders > 0), sum(revenue) FROM customer_features"
    )
    assert feats["summary"]["customers"] == n and feats["summary"]["buyers"] == buyers
    assert feats["summary"]["total_revenue"] == pytest.approx(revenue)


def test_segment_list_show_preview_explain_json(cli_store):
    loyal = cli_store.expected["loyal_size"]
    listed = {s["name"]: s for s in _json(cli_store, "segment", "list")}
    assert listed["loyal"]["members"] == loyal and listed["loyal"]["rule"] == "orders >= 4"
    shown = _json(cli_store, "segment", "show", "loyal")
    assert shown["description"] == "four orders or more" and shown["rule_json"]
    preview = _json(cli_store, "segment", "preview", "loyal", "--sample", "3")
    assert preview["size"] == loyal and preview["customers"] == cli_store.expected["customers"]
    assert len(preview["sample"]) == 3 and preview["share"] == pytest.approx(loyal / preview["customers"])
    ((cid, orders),) = _sql(cli_store, "SELECT customer_id, orders FROM customer_features ORDER BY customer_id LIMIT 1")
    explained = _json(cli_store, "segment", "explain", "loyal", cid)
    assert explained["member"] is (orders >= 4) and explained["steps"][0]["held"] is (orders >= 4)


def test_predict_run_json_matches_the_stored_predictions(cli_store):
    doc = _json(cli_store, "predict", "run", "--bootstrap", "2")
    ((buyers, clv, high),) = _sql(
        cli_store, "SELECT count(*), sum(clv), count(*) FILTER (churn_risk = 'high') FROM customer_predictions"
    )
    assert doc["buyers"] == buyers and doc["clv_total"] == pytest.approx(clv) and doc["churn_risk"]["high"] == high
    assert len(doc["top_clv"]) == 10 and doc["top_clv"][0]["clv"] == pytest.approx(
        _sql(cli_store, "SELECT max(clv) FROM customer_predictions")[0][0]
    )


def test_predict_backtest_json(cli_store):
    doc = _json(cli_store, "predict", "backtest")
    groups = doc["purchases"]["groups"]
    assert sum(g["customers"] for g in groups) == doc["purchases"]["info"]["customers"]
    assert doc["churn"] is None or {r["score"] for r in doc["churn"]["metrics"]} >= {"churn_model", "recency"}


def test_recommend_nba_regions_and_cluster_json(cli_store):
    from shopseg.reports.regions import region_performance

    top = _json(cli_store, "recommend", "segment", "loyal", "-n", "5")
    assert top["members"] == cli_store.expected["loyal_size"] and len(top["products"]) <= 5
    nba = _json(cli_store, "nba", "run")
    assert nba["customers"] == cli_store.expected["customers"] == sum(a["customers"] for a in nba["actions"])
    regions = _json(cli_store, "report", "regions", "--by", "region", "--period", "all", "--top", "0")
    with Workspace.open(cli_store.path, read_only=True) as ws:
        expected = region_performance(ws, by=["region"], period="all")
    assert {r["region"]: r["revenue"] for r in regions["rows"]} == pytest.approx(
        dict(zip(expected["region"], expected["revenue"], strict=True))
    )
    clusters = _json(cli_store, "cluster", "--k", "3", "--stability-rounds", "0")
    assert clusters["k"] == 3 and sum(c["customers"] for c in clusters["clusters"]) == clusters["customers"]


def test_experiment_analyze_json(cli_store):
    from tests.web.conftest import has_experiments

    assert has_experiments()
    from shopseg.experiments import analyze_experiment

    doc = _json(cli_store, "experiment", "analyze", "winback_test")
    with Workspace.open(cli_store.path, read_only=True) as ws:
        rep = analyze_experiment(ws, "winback_test")
    assert doc["control"] == rep.control and len(doc["rows"]) == len(rep.table)
    assert doc["srm"]["p_value"] == pytest.approx(rep.srm.p_value)


def test_ingest_json_report_and_nothing_else_on_stdout(tmp_path):
    path = tmp_path / "ws.duckdb"
    Workspace.init(path).close()
    csv = tmp_path / "orders.csv"
    csv.write_text(
        "order_id,customer_id,ordered_at,product_id,quantity,unit_price\n1,a,2024-01-02,p,1,9.5\n2,,2024-01-03,p,1,3\n"
    )
    doc = _json(type("S", (), {"path": path})(), "ingest", "orders", str(csv))
    assert doc["kind"] == "orders" and doc["rows_read"] == 2 and doc["rows_kept"] == 1 and doc["rows_flagged"] == 1


def test_errors_are_a_json_document_with_the_usual_exit_code(cli_store):
    missing = _json(cli_store, "segment", "show", "no_such_segment", code=1)
    assert missing["error"]["type"] == "NotFound" and "no_such_segment" in missing["error"]["message"]
    usage = _json(cli_store, "report", "regions", "--by", "regoin", code=2)
    assert usage["error"]["exit_code"] == 2 and "regoin" in usage["error"]["message"]


def test_messages_go_back_to_stdout_after_a_json_command(cli_store):
    _json(cli_store, "status")
    result = runner.invoke(app, ["-w", str(cli_store.path), "status"])
    assert result.exit_code == 0 and "customers" in result.stdout


def test_a_usage_error_of_the_command_itself_is_a_json_document(tmp_path):
    path = tmp_path / "ws.duckdb"
    Workspace.init(path).close()
    result = runner.invoke(app, ["-w", str(path), "ingest", "--plan", "--json"])
    assert result.exit_code == 2
    assert json.loads(result.stdout)["error"]["message"] == "--plan needs --spec FILE."
    again = runner.invoke(app, ["-w", str(path), "ingest", "--plan"])  # without --json: words on stderr
    assert again.exit_code == 2 and again.stdout == "" and "--plan needs --spec FILE." in again.stderr


def test_segment_refresh_diff_history_breakdown_json(cli_store):
    loyal = cli_store.expected["loyal_size"]
    refreshed = _json(cli_store, "segment", "refresh")
    assert refreshed["sizes"]["loyal"] == loyal and refreshed["not_refreshed"] == {}
    (five,) = _sql(cli_store, "SELECT count(*) FROM customer_features WHERE orders >= 5")[0]
    diff = _json(cli_store, "segment", "diff", "loyal", "orders >= 5")
    assert diff["before"] == loyal and diff["after"] == five and len(diff["exit"]) == loyal - five
    history = _json(cli_store, "segment", "history", "loyal")
    assert history["history"][-1]["size"] == loyal
    by_country = _json(cli_store, "segment", "breakdown", "loyal", "--by", "country", "--top", "0")
    assert by_country["members"] == loyal == sum(r["members"] for r in by_country["rows"])
