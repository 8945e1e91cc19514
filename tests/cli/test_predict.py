"""`shopseg predict` through the CLI runner: run, no verb, backtest, clean errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shopseg.cli import _common
from shopseg.cli.main import app
from shopseg.workspace import Workspace

runner = CliRunner()


@pytest.fixture(autouse=True)
def wide_console(monkeypatch):
    monkeypatch.setattr(_common.console, "width", 200)


@pytest.fixture(scope="module")
def store_path(tmp_path_factory):
    from shopseg.datasets import generate_store, write_store

    path = tmp_path_factory.mktemp("cli_predict") / "shop.duckdb"
    ws = Workspace.init(path)
    write_store(ws, generate_store(600, seed=4))
    ws.close()
    return str(path)


def test_run_stores_predictions(store_path):
    result = runner.invoke(app, ["-w", store_path, "predict", "run", "--horizon-days", "180", "--bootstrap", "2"])
    assert result.exit_code == 0, result.output
    assert "customer_predictions:" in result.output and "horizon 180 days" in result.output
    assert "Top 10 customers by CLV" in result.output and "churn risk high" in result.output
    with Workspace.open(store_path, read_only=True) as ws:
        assert ws.meta("predictions_horizon_days") == "180"
        n, bad = ws.con.execute(
            "SELECT count(*), count(*) FILTER (WHERE clv_p10 > clv) FROM customer_predictions"
        ).fetchone()
    assert n > 300 and bad == 0


def test_predict_without_a_verb_runs(store_path):
    result = runner.invoke(app, ["-w", store_path, "predict"])
    assert result.exit_code == 0, result.output
    assert "horizon 365 days" in result.output


def test_backtest_prints_groups_and_plain_verdicts(store_path):
    result = runner.invoke(
        app, ["-w", store_path, "predict", "backtest", "--holdout-days", "180", "--churn-days", "60"]
    )
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Purchase backtest" in out and "(180 days)" in out and "7+" in out
    assert re.search(
        r"MBG/NBD (beats|loses to|ties with) the naive baseline \(same repeat rate as in calibration\): "
        r"MAE \d\.\d{3} vs \d\.\d{3} \(difference [+-]\d\.\d{3}, 95% CI [+-]\d\.\d{3} to [+-]\d\.\d{3}",
        out,
    )
    assert re.search(
        r"MBG/NBD (under-predicts holdout purchases by \d+\.\d%|over-predicts holdout purchases by \d+\.\d%|"
        r"total holdout purchases are within noise of the actual): [\d,]+ predicted vs [\d,]+ actual",
        out,
    )
    assert "80% per-customer intervals hold the realised holdout purchases of " in out
    assert "randomized PIT of holdout purchases, 10 bins (flat at 0.10 when calibrated): " in out
    assert "Churn backtest" in out and "churn = no purchase in 60 days" in out
    assert len(re.findall(r"churn model (beats|loses to|ties with) the", out)) == 2
    assert re.search(r"MBG/NBD 1 - P\(alive\) (beats|loses to|ties with) the recency-only baseline", out)
    assert re.search(
        r"1 - P\(alive\) AUC by purchase model \(--model\): BG/NBD 0\.\d{3} · MBG/NBD 0\.\d{3} · "
        r"Pareto/NBD 0\.\d{3}",
        out,
    )


def test_model_and_penalizer_flags(store_path):
    result = runner.invoke(
        app, ["-w", store_path, "predict", "run", "--bootstrap", "0", "--model", "pareto", "--penalizer", "0.001"]
    )
    assert result.exit_code == 0, result.output
    assert "purchase model Pareto/NBD" in result.output
    with Workspace.open(store_path, read_only=True) as ws:
        assert ws.meta("predictions_model") == "pareto"
    bad = runner.invoke(app, ["-w", store_path, "predict", "run", "--model", "mbg"])
    assert bad.exit_code == 2, bad.output
    assert (
        "The 'model' parameter must be one of ['bgnbd', 'mbgnbd', 'pareto']. Got 'mbg' instead. Did you mean 'mbgnbd'?"
        in bad.output
    )
    backtest = runner.invoke(
        app, ["-w", store_path, "predict", "backtest", "--holdout-days", "180", "--model", "bgnbd"]
    )
    assert backtest.exit_code == 0, backtest.output
    assert re.search(r"BG/NBD (beats|loses to|ties with) the naive baseline", backtest.output)


def test_every_hint_names_a_flag_the_cli_has():
    """Every "penalizer > 0" hint of the model fits (they reach `shopseg predict` as notes) names `--penalizer`,
    and `predict run --help` offers it; the runtime note printed on a real fit says so too."""
    import warnings

    import numpy as np

    from shopseg.errors import ConvergenceWarning
    from shopseg.models.clv._base import fit_mle

    help_text = runner.invoke(app, ["predict", "run", "--help"]).output
    assert "--penalizer" in help_text and "--model" in help_text
    src = Path(__file__).resolve().parents[2] / "src" / "shopseg" / "models"
    for path in src.rglob("*.py"):
        text = re.sub(r'"\s*\n\s*"', "", path.read_text(encoding="utf-8"))  # join implicitly concatenated strings
        for hint in re.findall(r"penalizer > 0[^\n]*", text):
            assert hint.startswith("penalizer > 0 (shopseg predict run --penalizer 0.01)"), (path.name, hint)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit_mle(lambda p: np.full(3, np.log(p[0])), np.ones(3), np.array([1.0]), ["a"], "Toy")  # runs to e^18
    notes = [str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)]
    assert notes and notes[0].endswith(
        "Hint: check for very few repeat buyers, or pass penalizer > 0 (shopseg predict run --penalizer 0.01)."
    )


def test_a_note_with_brackets_is_printed_whole(store_path, monkeypatch):
    """The fit's notes name ranges such as ``[e^-18, e^18]``: printed as text, not read as Rich markup."""
    import shopseg.predict as predict

    real = predict.predict_workspace

    def noted(*args, **kwargs):
        df = real(*args, **kwargs)
        df.attrs["warnings"] = "parameters ['a'] ran to the edge of [e^-18, e^18]; optimiser: L-BFGS-B"
        return df

    monkeypatch.setattr(predict, "predict_workspace", noted)
    result = runner.invoke(app, ["-w", store_path, "predict", "run", "--bootstrap", "2"])
    assert result.exit_code == 0, result.output
    assert "ran to the edge of [e^-18, e^18]; optimiser" in result.output


def test_backtest_json_carries_the_aggregate_bias(store_path):
    import json

    result = runner.invoke(app, ["-w", store_path, "predict", "backtest", "--holdout-days", "180", "--json"])
    assert result.exit_code == 0, result.output
    purchases = json.loads(result.output)["purchases"]
    bias = purchases["info"]["bias"]
    assert bias["actual_total"] == sum(g["actual_total"] for g in purchases["groups"])
    assert bias["relative_error"] == pytest.approx(bias["predicted_total"] / bias["actual_total"] - 1)
    assert purchases["bias"].startswith("MBG/NBD ") and f"{bias['actual_total']:,.0f} actual" in purchases["bias"]
