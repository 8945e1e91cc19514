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


def test_money_as_shops_export_it(workspace, tmp_path):
    """Square / BigCommerce money ('$4.50', '-$1.00', '$1,236.00') and French Excel ('1 234,50 €' with a
    narrow no-break space, '12,00 €' with a no-break space, under --decimal ',') read as plain numbers."""
    dollars = tmp_path / "items.csv"
    dollars.write_text(
        "order_id,customer_id,ordered_at,product_id,quantity,unit_price,discount\n"
        'tx1,c1,2024-03-04,LAT,1,$4.50,$0.00\ntx2,c1,2024-03-05,BNS,1,"$1,236.00",$1.00\n',
        encoding="utf-8",
    )
    ingest(workspace, "orders", dollars)
    euros = tmp_path / "commandes.csv"
    euros.write_text(
        "order_id;customer_id;ordered_at;product_id;quantity;unit_price\n"
        "f1;c2;2024-03-06;VASE;1;1\u202f234,50 €\nf2;c2;2024-03-07;BOL;2;12,00\u00a0€\n",
        encoding="utf-8",
    )
    ingest(workspace, "orders", euros, decimal=",")
    got = workspace.con.execute("SELECT order_id, unit_price, discount FROM order_lines ORDER BY 1").fetchall()
    assert got == [("f1", 1234.5, None), ("f2", 12.0, None), ("tx1", 4.5, 0.0), ("tx2", 1236.0, 1.0)]


def test_a_comma_that_may_be_decimal_is_still_refused(workspace, tmp_path):
    """'1,234' is 1234 in the US and 1.234 in Germany: never guessed."""
    path = tmp_path / "orders.csv"
    path.write_text(
        'order_id,customer_id,ordered_at,product_id,quantity,unit_price\no1,c1,2024-03-04,P,1,"1,234"\n',
        encoding="utf-8",
    )
    with pytest.raises(
        SchemaError, match=r"got '1,234'\. Expected a number like 12\.50, \$12\.50 or 1,234\.50\. Hint: .*--decimal ','"
    ):
        ingest(workspace, "orders", path)


def test_a_point_that_groups_no_thousands_stays_a_decimal_point(workspace, tmp_path):
    """With --decimal ',', a dot groups thousands only in whole groups of three: '12.50' was stored as 1250 and
    '3.5' as 35 (the probe's wrong revenue); they read 12.5 and 3.5 now, '1.234' is 1234 and '1.234,5' 1234.5."""
    path = tmp_path / "orders.csv"
    path.write_text(
        "order_id;customer_id;ordered_at;product_id;quantity;unit_price\n"
        "o1;c1;2024-03-01;P;1;12.50\no2;c1;2024-03-02;P;1;3.5\no3;c1;2024-03-03;P;1;-$1.00\n"
        "o4;c1;2024-03-04;P;1;1.234\no5;c1;2024-03-05;P;1;1.234,5\no6;c1;2024-03-06;P;1;12,5\n",
        encoding="utf-8",
    )
    ingest(workspace, "orders", path, decimal=",")
    got = workspace.con.execute("SELECT unit_price FROM order_lines ORDER BY order_id").fetchall()
    assert [p for (p,) in got] == [12.5, 3.5, -1.0, 1234.0, 1234.5, 12.5]


def test_write_spec_takes_the_file_options(tmp_path, workspace):
    """`--write-spec --decimal ','` (and --encoding): the draft reads the file with them and writes them into
    the spec, which then loads (the options were ignored when drafting)."""
    from shopseg.io.spec_ingest import ingest_spec

    export = tmp_path / "orders.csv"
    export.write_bytes(
        "order_id;customer_id;ordered_at;sku;qty;price\r\nB-1;K-7;2024-03-01;T;2;25,00\r\nB-2;K-9;2024-03-04;K;1;1.234,50\r\n".encode(
            "utf-16"
        )
    )
    spec = tmp_path / "orders.yaml"
    args = ["ingest", "--write-spec", str(spec), "--decimal", ",", "--encoding", "utf-16", str(export)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    text = spec.read_text(encoding="utf-8")
    assert "decimal: ','" in text and "encoding: utf-16" in text
    ingest_spec(workspace, spec)
    got = workspace.con.execute("SELECT unit_price FROM order_lines ORDER BY order_id").fetchall()
    assert [p for (p,) in got] == [25.0, 1234.5]


def test_money_in_two_currencies_is_refused_without_a_currency_column(workspace, tmp_path):
    """Signs are dropped to read '$100.00'; '€100.00' beside it would then add euros to dollars as one."""
    path = tmp_path / "orders.csv"
    head = "order_id,customer_id,ordered_at,product_id,quantity,unit_price"
    rows = "\nK1,c1,2024-03-01,p1,1,$100.00\nK2,c2,2024-03-02,p1,1,$20.00\nK3,c3,2024-03-02,p1,1,€100.00\n"
    path.write_text(head + rows, encoding="utf-8")
    with pytest.raises(SchemaError) as err:
        ingest(workspace, "orders", path)
    assert str(err.value) == (
        "orders.csv: unit_price: amounts in 2 currencies ($, €) in 1 row (row 4); got '€100.00'. Expected amounts "
        "in one currency: revenue would add the € amounts to the $ ones as if they were $. Hint: load each "
        "currency into its own workspace, or map a currency column."
    )
    assert workspace.row_counts()["order_lines"] == 0
    path.write_text(head + ",currency\n" + rows.strip().replace("\n", ",USD\n") + ",EUR\n", encoding="utf-8")
    assert ingest(workspace, "orders", path).rows_kept == 3  # with a currency column the store health speaks
