from __future__ import annotations

from typer.testing import CliRunner

from shopseg.cli.main import app
from tests.reports.test_regions import _seed

runner = CliRunner()


def test_report_regions_prints_and_writes_every_row(workspace, tmp_path):
    _seed(workspace)
    workspace.close()
    out = tmp_path / "regions.csv"
    w = ["-w", str(workspace.path)]
    result = runner.invoke(
        app, [*w, "report", "regions", "--by", "region,category", "--period", "all", "--csv", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "North" in result.output and "revenue_index" in result.output
    assert out.read_text().splitlines()[0].startswith("region,category,revenue,orders,buyers,aov,repeat_rate,clv")
    assert len(out.read_text().splitlines()) == 1 + 3


def test_report_regions_bad_dimension_is_a_usage_error_without_traceback(workspace):
    _seed(workspace)
    workspace.close()
    result = runner.invoke(app, ["-w", str(workspace.path), "report", "regions", "--by", "regoin"])
    assert result.exit_code == 2
    assert "Got ['regoin'] instead" in result.output and "Traceback" not in result.output


def test_report_with_and_without_the_html_verb(workspace, tmp_path):
    _seed(workspace)
    workspace.close()
    for args, name in ((["report", "-o"], "a.html"), (["report", "html", "-o"], "b.html")):
        result = runner.invoke(app, ["-w", str(workspace.path), *args, str(tmp_path / name)])
        assert result.exit_code == 0, result.output
        assert (tmp_path / name).stat().st_size > 1_000_000


def test_report_regions_prints_repeat_rate_as_a_percentage_and_the_csv_keeps_the_share(workspace, tmp_path):
    """As the HTML report shows it (83.0%), while the CSV keeps the 0-1 number for spreadsheets."""
    import csv
    import re

    _seed(workspace)
    workspace.close()
    out = tmp_path / "regions.csv"
    args = ["-w", str(workspace.path), "report", "regions", "--by", "region", "--period", "all", "--csv", str(out)]
    result = runner.invoke(app, args, terminal_width=200)
    assert result.exit_code == 0, result.output
    shares = [float(r["repeat_rate"]) for r in csv.DictReader(out.open())]
    assert all(0.0 <= s <= 1.0 for s in shares)
    printed = re.findall(r"\d+\.\d%", result.output)
    assert sorted(printed) == sorted(f"{s:.1%}" for s in shares)
