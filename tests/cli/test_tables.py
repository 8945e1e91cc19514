"""Tables a person reads at 80 columns: no word cut ("Champio…") or split over rows, no date cut."""

from __future__ import annotations

import re

import pytest
from rich.console import Console
from typer.testing import CliRunner

from shopseg.cli._output import fit_table
from shopseg.cli.main import app
from shopseg.workspace import Workspace

runner = CliRunner()
RFM_NAMES = ["Champions", "Potential loyalist", "Need attention", "About to sleep", "Cannot lose them", "Hibernating"]


def _run80(store, *args: str) -> str:
    result = runner.invoke(app, ["-w", str(store.path), *args], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    return result.stdout


def _assert_fits(text: str) -> None:
    for line in text.splitlines():
        assert Console().measure(line).maximum <= 80, line
    assert "…" not in text


def test_rfm_table_keeps_segment_names_whole_at_80_columns(cli_store):
    out = _run80(cli_store, "rfm")
    _assert_fits(out)
    for name in RFM_NAMES:  # each name whole, on one line (not "Cannot / lose / them" on three rows)
        assert re.search(rf"^{name}\s", out, re.M), (name, out)


@pytest.mark.parametrize(
    "args",
    [
        ["status"],
        ["segment", "list"],
        ["lifecycle"],
        ["features", "build"],
        ["segment", "breakdown", "loyal"],
        ["report", "regions", "--top", "8"],
        ["segment", "fields"],
    ],
)
def test_tables_fit_80_columns_without_cutting_words(cli_store, args):
    out = _run80(cli_store, *args)
    _assert_fits(out)


def test_dates_are_never_cut(cli_store):
    out = _run80(cli_store, "segment", "list")
    with Workspace.open(cli_store.path, read_only=True) as ws:
        day = ws.con.execute("SELECT max(as_of)::DATE FROM segment_snapshots").fetchone()[0]
    assert str(day) in out
    status = _run80(cli_store, "status")
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", status), status  # the ingest times, whole


def test_rows_are_stacked_when_even_whole_words_do_not_fit():
    """A row whose words cannot fit the width is shown field by field, still without a cut word."""
    console = Console(width=40, record=True)
    words = "supercalifragilistic expialidocious antidisestablishment"
    console.print(fit_table("T", ["a", "b", "c"], [[words, words, words]], width=40))
    text = console.export_text()
    assert "a: supercalifragilistic" in text and "…" not in text
    assert all(len(line) <= 40 for line in text.splitlines())


def test_long_text_wraps_between_words_and_numbers_right_align():
    console = Console(width=50, record=True)
    rows = [["loyal", 1234, "customers with four orders or more in the last two years"]]
    console.print(fit_table("T", ["name", "members", "description"], rows, width=50))
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= 50
    body = re.sub(r"[│┃━─┡┩╇└┘┴┏┓┳]", " ", text.split("━┩", 1)[1])  # the rows, without the frame
    assert set(body.split()) == set(rows[0][2].split()) | {"loyal", "1,234"}  # every word whole
    assert re.search(r"loyal\s+1,234 ", body)  # the number right-aligned against its column's edge
