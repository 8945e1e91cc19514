"""`shopseg cluster` through the CLI runner on a small generated store."""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from shopseg.cli import _common
from shopseg.cli._common import ShopsegGroup
from shopseg.cli.cluster import register
from shopseg.datasets import generate_store, write_store
from shopseg.workspace import Workspace

runner = CliRunner()


def _app() -> typer.Typer:
    """A Typer app with only the cluster noun (the lead wires it into cli/main.py)."""
    from shopseg.config import config_context

    app = typer.Typer(cls=ShopsegGroup, pretty_exceptions_enable=False)

    @app.callback()
    def _global(ctx: typer.Context, workspace: str = typer.Option(None, "--workspace", "-w")) -> None:
        ctx.with_resource(config_context(workspace=workspace))

    register(app)
    return app


@pytest.fixture(autouse=True)
def wide_console(monkeypatch):
    monkeypatch.setattr(_common.console, "width", 200)


@pytest.fixture(scope="module")
def shop_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("cluster_cli") / "shop.duckdb"
    with Workspace.init(path) as ws:
        write_store(ws, generate_store(2_000, seed=5))
    return str(path)


def test_cluster_auto_prints_curve_names_stability_and_ari(shop_path):
    result = runner.invoke(_app(), ["-w", shop_path, "cluster", "--stability-rounds", "1"])
    assert result.exit_code == 0, result.output
    assert "<- chosen" in result.output and "silhouette" in result.output
    assert "stability (bootstrap ARI, 1 refits): mean" in result.output
    assert "planted groups: adjusted Rand index" in result.output
    with Workspace.open(shop_path, read_only=True) as ws:
        n, k, named = ws.con.execute(
            "SELECT count(*), count(DISTINCT cluster), count(cluster_name) FROM customer_clusters"
        ).fetchone()
        profiles = ws.con.execute("SELECT count(*) FROM cluster_profiles").fetchone()[0]
    assert n == named > 1500 and profiles == k >= 2


def test_cluster_promote_saves_a_segment(shop_path):
    args = [
        "-w",
        shop_path,
        "cluster",
        "--k",
        "6",
        "--seed",
        "1",
        "--stability-rounds",
        "0",
        "--promote",
        "0",
        "--save-as",
        "cluster0",
    ]
    result = runner.invoke(_app(), args)
    assert result.exit_code == 0, result.output
    assert "as a rule" in result.output and "accuracy" in result.output
    with Workspace.open(shop_path, read_only=True) as ws:
        definition = ws.con.execute("SELECT definition FROM segment_definitions WHERE name = 'cluster0'").fetchone()[0]
    from shopseg.rules.parse import parse_segment

    assert parse_segment(definition).rule is not None and " AND " in definition or "<" in definition


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--k", "1"], "The 'n_clusters' parameter of ClusterSegmenter must be an int in the range [2, inf)"),
        (["--k", "many"], "The '--k' option must be an int >= 2 or 'auto'. Got 'many' instead."),
        (["--features", "orderz"], "Did you mean 'orders'?"),
        (["--method", "dbscan"], "The 'method' parameter of ClusterSegmenter must be a str among"),
    ],
)
def test_bad_options_are_usage_errors(shop_path, args, message):
    result = runner.invoke(_app(), ["-w", shop_path, "cluster", "--stability-rounds", "0", *args])
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())
    assert "Traceback" not in result.output


def test_a_tiny_store_is_told_its_clusters_are_anecdotes(tmp_path):
    """Eight buyers: the clusters come with the notes a reader needs, and no raw Python warning."""
    import json

    path = tmp_path / "tiny.duckdb"
    with Workspace.init(path) as ws:
        write_store(ws, generate_store(12, seed=3))
    result = runner.invoke(_app(), ["-w", str(path), "cluster", "--k", "3", "--stability-rounds", "3"])
    assert result.exit_code == 0, result.output
    assert "note: only " in result.output and "not segments" in result.output
    assert "ConvergenceWarning" not in result.output and "site-packages" not in result.output
    result = runner.invoke(_app(), ["-w", str(path), "cluster", "--k", "3", "--stability-rounds", "0", "--json"])
    notes = json.loads(result.output)["notes"]
    assert any("clusters this small describe a few people" in n for n in notes)
