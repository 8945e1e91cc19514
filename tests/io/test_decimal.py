"""European spreadsheets: numbers with a decimal comma (``--decimal ','``), as Excel saves them in Germany,
France or the Netherlands: ``;`` between fields, a BOM, CRLF line ends, ``1.234,50`` for 1234.5."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from shopseg.cli.main import app
from shopseg.errors import SchemaError
from shopseg.io import ingest

EXPORT = (
    "\ufeffBestellnummer;Kunde;Datum;Artikel;Menge;Einzelpreis\r\n"
    "B-1001;K-7;2024-03-01 10:15:00;TASSE-1;2;25,00\r\n"
    "B-1001;K-7;2024-03-01 10:15:00;KANNE-2;1;1.234,50\r\n"
    "B-1002;K-9;2024-03-04 09:00:00;TASSE-1;3;12,5\r\n"
)
MAP = {
    "order_id": "Bestellnummer",
    "customer_id": "Kunde",
    "ordered_at": "Datum",
    "product_id": "Artikel",
    "quantity": "Menge",
    "unit_price": "Einzelpreis",
}


@pytest.fixture
def export(tmp_path: Path) -> Path:
    path = tmp_path / "bestellungen.csv"
    path.write_bytes(EXPORT.encode("utf-8"))
    return path


def test_decimal_commas_are_refused_with_the_option_named(workspace, export):
    with pytest.raises(SchemaError, match=r"got '25,00', '1\.234,50', '12,5'.*pass --decimal ','") as err:
        ingest(workspace, "orders", export, mapping=MAP)
    assert err.value.column == "unit_price"
    assert "unit_price (column 'Einzelpreis'): cannot be parsed as double" in str(err.value)  # the user's column
    assert workspace.row_counts()["order_lines"] == 0


def test_decimal_comma_reads_thousands_and_decimals(workspace, export):
    report = ingest(workspace, "orders", export, mapping=MAP, decimal=",")
    assert report.rows_kept == 3
    got = workspace.con.execute("SELECT order_id, product_id, quantity, unit_price FROM order_lines ORDER BY ALL")
    assert got.fetchall() == [
        ("B-1001", "KANNE-2", 1, 1234.5),
        ("B-1001", "TASSE-1", 2, 25.0),
        ("B-1002", "TASSE-1", 3, 12.5),
    ]


def test_cli_decimal_option(tmp_path, export):
    ws = str(tmp_path / "ws.duckdb")
    runner = CliRunner()
    assert runner.invoke(app, ["-w", ws, "init"]).exit_code == 0
    maps = [arg for k, v in MAP.items() for arg in ("--map", f"{k}={v}")]
    result = runner.invoke(app, ["-w", ws, "ingest", "orders", str(export), *maps, "--decimal", ",", "--json"])
    assert result.exit_code == 0, result.output
    assert '"rows_kept": 3' in result.output
    bad = runner.invoke(app, ["-w", ws, "ingest", "orders", str(export), *maps, "--decimal", ";"])
    assert bad.exit_code != 0 and "must be '.' or ','" in bad.output and "Traceback" not in bad.output


def test_write_spec_of_a_file_it_cannot_read_says_why(tmp_path, export):
    """German column names: the draft recognises none, and says so instead of failing its own validation."""
    result = CliRunner().invoke(app, ["ingest", "--write-spec", str(tmp_path / "de.yaml"), str(export)])
    assert result.exit_code != 0
    assert "no file looked like a table shopseg loads" in result.output
    assert "Bestellnummer" in result.output and "--map order_id=<column>" in result.output
    assert "Dictionary should have" not in result.output and not (tmp_path / "de.yaml").exists()
