from __future__ import annotations

from typer.testing import CliRunner

from shopseg.cli.main import app

runner = CliRunner()


def test_init_then_status(tmp_path):
    ws = str(tmp_path / "w.duckdb")
    result = runner.invoke(app, ["init", ws])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["--workspace", ws, "status"])
    assert result.exit_code == 0, result.output
    assert "order_lines" in result.output


def test_data_error_exits_1_without_traceback(tmp_path):
    result = runner.invoke(app, ["--workspace", str(tmp_path / "missing.duckdb"), "status"])
    assert result.exit_code == 1
    assert "no workspace here" in result.output
    assert "Traceback" not in result.output


def test_usage_error_exits_2():
    result = runner.invoke(app, ["--engine", "sprak", "status"])
    assert result.exit_code == 2
    assert "Did you mean 'spark'" in result.output


def test_help_and_dataless_commands_import_no_heavy_module():
    """Issue 18 (6): `shopseg --help` took 2 s importing Ibis, pandas, scikit-learn and Plotly it never used.
    Checked by module, not by time (timings belong in bench/)."""
    import subprocess
    import sys

    heavy = ("pandas", "ibis", "sklearn", "scipy", "pyarrow", "plotly", "fastapi", "lark", "numpy", "duckdb")
    code = (
        "import sys\nfrom shopseg.cli.main import app\nfrom typer.testing import CliRunner\n"
        "for args in (['--help'], ['segment', '--help'], ['ingest', '--help'], ['keys', '--help']):\n"
        "    assert CliRunner().invoke(app, args).exit_code == 0, args\n"
        f"print(sorted(m for m in {heavy!r} if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
