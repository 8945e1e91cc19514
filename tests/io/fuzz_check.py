"""Run the ingest fuzz corpus through the Python API and the CLI and check every outcome (issue 14).

Every file must either load cleanly or be refused with a clear error:

- the API raises a :class:`~shopseg.errors.ShopsegError` with exit code 1 (a data error, never a bare
  Python or DuckDB exception), whose message names the file, is one paragraph (no traceback) and stays
  short (a 2 MB value is never echoed back);
- ``shopseg ingest KIND FILE`` exits 1 with the same message after ``error:``, never ``internal error``;
- a refused file leaves the workspace unchanged: every table's row count and content hash, the ingest
  log included;
- a loaded file adds one ingest log entry, keeps no NaN or infinite number and no order or event dated
  in the future, and both surfaces leave their workspaces identical.

The API and the CLI each get their own workspace, started from the same base and fed the same files, so
after every case the two must hold the same tables. At the end a feature build must run on the result.

Run a bigger corpus with ``make fuzz`` (``python -m tests.io.fuzz_check --count 2000``).
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from unittest import mock

from typer.main import get_command
from typer.testing import CliRunner

from shopseg.cli.main import app
from shopseg.errors import ShopsegError
from shopseg.io import ingest
from shopseg.io.report import BLANK
from shopseg.workspace import Workspace
from tests.io.fuzz_corpus import Case, generate

__all__ = ["Summary", "run_corpus", "snapshot", "BASE", "REPORTED"]

#: Summary lines of the corpus runs of this process (pytest prints them at the end).
REPORTED: list[str] = []

MAX_MESSAGE = 3000  # characters: an error is a paragraph, not a dump of the file
BASE = {
    "customers": "customer_id,email,country\n" + "".join(f"c{i},c{i}@example.com,FR\n" for i in range(1, 6)),
    "products": "product_id,name,price\nsku0,Mug,9.5\nsku1,Cup,4\n",
    "orders": "order_id,customer_id,ordered_at,product_id,quantity,unit_price\nb1,c1,2024-01-02,sku0,2,9.5\n"
    "b2,c2,2024-02-03,sku1,1,4\n",
    "events": "event_id,customer_id,type,occurred_at\nbe1,c1,page_view,2024-01-01 10:00:00\n",
}


# A message naming one of these causes must come from a file made with one of the listed mutations: the
# fuzzer knows what it broke, so a misattributed cause (a BOM blamed on the encoding) is a failure too.
CAUSES = {
    # a byte-level mutation may land inside a multi-byte character
    "is not valid utf-8": {"latin1_bytes", "truncate", "random_bytes", "bom", "bad_gzip", "stray_quote"},
    "UTF-16 byte-order mark": {"bom"},
    "but the header has": {
        "truncated_row",
        "ragged_long",
        "stray_quote",
        "truncate",
        "trailing_blank_lines",
        "random_bytes",
        "lone_cr",
        "excel_blank_rows",
    },
    "blank but has": {"excel_blank_rows", "only_blank_rows", "trailing_blank_lines", "truncated_row", "truncate"},
    "the field is too large": {"huge_field"},
    'has a quote (") that is never closed': {"stray_quote", "truncate", "random_bytes"},
    "text after its closing quote": {"stray_quote", "truncate", "random_bytes", "trailing_blank_lines"},
    # (a byte inserted between \r and \n splits a line ending)
    "while line 1 ends with": {
        "lone_cr",
        "trailing_blank_lines",
        "quoted_newline",
        "random_bytes",
        "truncate",
        "stray_quote",
        "latin1_bytes",
    },
    "is missing; found": {
        "drop_column",
        "truncated_row",
        "duplicate_header",
        "json_garbage",
        "random_bytes",
        "whitespace_only",
        "header_case",
        "empty_column",
        "truncate",
    },
    "all data rows are blank": {"only_blank_rows", "excel_blank_rows"},
}


@dataclass
class Summary:
    """What a corpus run tried and found."""

    tried: int = 0
    loaded: int = 0
    refused: int = 0
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def line(self) -> str:
        return (
            f"ingest fuzz: {self.tried} files tried ({self.loaded} loaded, {self.refused} refused with a clear error), "
            f"{len(self.failures)} failures, {self.seconds:.1f} s"
        )


# Columns that differ between two workspaces fed the same files (times), left out when comparing them.
_TIMED = {
    "_shopseg_ingests": "SELECT ingest_id, kind, source, format, rows_read, rows_kept, rows_flagged FROM _shopseg_ingests",
    "_shopseg_meta": "SELECT * FROM _shopseg_meta WHERE key <> 'created_at'",
}


def snapshot(ws: Workspace, *, untimed: bool = False) -> dict[str, tuple[int, int]]:
    """Row count and an order-independent content hash of every table (canonical, derived, meta, ingest log).

    ``untimed`` leaves out the ingest times and the creation time, to compare two workspaces.
    """
    names = [r[0] for r in ws.con.execute("SELECT table_name FROM duckdb_tables() WHERE NOT temporary").fetchall()]
    out = {}
    for name in sorted(names):
        rows = f"({_TIMED[name]})" if untimed and name in _TIMED else f'"{name}"'
        row = ws.con.execute(f"SELECT count(*), coalesce(sum(hash(t)), 0) FROM {rows} AS t").fetchone()
        out[name] = (int(row[0]), int(row[1])) if row else (0, 0)
    return out


def _base(root: Path, name: str) -> Workspace:
    ws = Workspace.init(root / name)
    for kind, text in BASE.items():
        src = root / f"base_{kind}.csv"
        src.write_text(text)
        ingest(ws, kind, src)
    return ws


def _short(text: str, n: int = 300) -> str:
    return text if len(text) <= n else text[:n] + f"... ({len(text):,} chars)"


def _flat(text: str) -> str:
    return " ".join(text.split())


def _sane(ws: Workspace) -> list[str]:
    """Values a clean load must never store."""
    checks = {
        "non-finite number": "SELECT count(*) FROM order_lines "
        "WHERE NOT isfinite(unit_price) OR NOT isfinite(coalesce(discount, 0))",
        "non-finite price": "SELECT count(*) FROM products WHERE NOT isfinite(coalesce(price, 0))",
        "non-finite lat/lon": "SELECT count(*) FROM customers WHERE NOT isfinite(coalesce(lat, 0) + coalesce(lon, 0))",
        "order dated in the future": "SELECT count(*) FROM orders WHERE ordered_at > now()::TIMESTAMP + INTERVAL 1 DAY",
        "event dated in the future": "SELECT count(*) FROM events WHERE occurred_at > now()::TIMESTAMP + INTERVAL 1 DAY",
    }
    out = []
    for what, sql in checks.items():
        row = ws.con.execute(sql).fetchone()
        if row and row[0]:
            out.append(f"a clean load stored {row[0]} rows with a {what}")
    return out


def check_case(
    case: Case, path: Path, api: Workspace, cli_path: Path, runner: CliRunner
) -> tuple[str | None, list[str]]:
    """Run one case through both surfaces; return (the error message, or None when it loaded; problems)."""
    before = snapshot(api, untimed=True)
    message, problems = _check_api(case, path, api)
    after = snapshot(api, untimed=True)
    log = "_shopseg_ingests"
    if message is not None and after != before:
        problems.append("API: the workspace changed although the ingest was refused")
    if message is None and after[log][0] != before[log][0] + 1:
        problems.append("API: a clean load did not add exactly one ingest log entry")
    problems += _check_cli(case, path, cli_path, runner, message)
    with Workspace.open(cli_path, read_only=True) as cli_ws:
        if snapshot(cli_ws, untimed=True) != after:
            problems.append("CLI: its workspace differs from the API's after the same file")
    return message, problems


def _check_api(case: Case, path: Path, api: Workspace) -> tuple[str | None, list[str]]:
    problems: list[str] = []
    try:
        report = ingest(api, case.kind, path)
    except ShopsegError as exc:
        message = str(exc)
        if exc.exit_code != 1:
            problems.append(f"API: {type(exc).__name__} is a usage error (exit {exc.exit_code}): {_short(message)}")
        if path.name not in message:
            problems.append(f"API: the message does not name the file {path.name!r}: {_short(message)}")
        if len(message) > MAX_MESSAGE or "Traceback" in message or "\n" in message.strip():
            problems.append(f"API: the message is not one short paragraph: {_short(message)}")
        for cause, made_by in CAUSES.items():
            if cause in message and not made_by & set(case.mutations):
                problems.append(f"API: blames {cause!r}, which none of the mutations causes: {_short(message)}")
        return message, problems
    except Exception as exc:  # the fuzzer's whole point: any other exception is a defect to report
        return "", [f"API: internal error {type(exc).__name__}: {_short(str(exc))}"]
    if not 0 <= report.rows_kept <= report.rows_read:
        problems.append(f"API: rows kept {report.rows_kept} not within rows read {report.rows_read}")
    if case.rows is not None and report.rows_read != case.rows:
        problems.append(f"API: read {report.rows_read} rows of the {case.rows} the file holds")
    blank = report.reasons.get(BLANK, 0)
    if case.blank is not None and blank != case.blank:
        problems.append(f"API: counted {blank} blank rows of the {case.blank} the file holds")
    return None, problems + [f"API: {p}" for p in _sane(api)]


def _check_cli(case: Case, path: Path, cli_path: Path, runner: CliRunner, message: str | None) -> list[str]:
    result = runner.invoke(app, ["-w", str(cli_path), "ingest", case.kind, str(path)])
    out = result.output
    if "internal error" in out or "Traceback" in out or result.exit_code not in (0, 1):
        return [f"CLI: exit {result.exit_code}: {_short(out.strip())}"]
    if (result.exit_code == 0) != (message is None):
        return [f"CLI: exit {result.exit_code} but the API {'loaded' if message is None else 'refused'} the file"]
    if message and _flat("error: " + message) not in _flat(out):
        return [f"CLI: the message differs from the API's: {_short(out.strip())}"]
    return []


def run_corpus(
    seed: int, count: int, root: Path, *, cases: Iterable[Case] | None = None, show: bool = False
) -> Summary:
    """Generate ``count`` cases from ``seed`` under ``root`` and check each; a feature build runs at the end.

    ``show`` prints every case and its outcome (the error message, shortened).
    """
    start = time.perf_counter()
    summary = Summary()
    api = _base(root, "api.duckdb")
    cli_ws = _base(root, "cli.duckdb")
    cli_ws.close()
    runner = CliRunner()
    # Typer's runner rebuilds the click command from the app on every invoke (90 ms); build it once.
    command = get_command(app)
    with contextlib.closing(api), mock.patch("typer.testing._get_command", lambda _app: command):
        for case in cases if cases is not None else generate(seed, count):
            path = case.write(root / "files")
            message, problems = check_case(case, path, api, root / "cli.duckdb", runner)
            summary.tried += 1
            summary.loaded += message is None
            summary.refused += message is not None
            if show:
                print(f"{case}\n    -> {'loaded' if message is None else _short(message, 600)}")
            summary.failures += [f"{case}: {p}" for p in problems]
            shutil.rmtree(path.parent)
        summary.failures += _build_features(api)
    summary.seconds = time.perf_counter() - start
    return summary


def _build_features(ws: Workspace) -> list[str]:
    from shopseg.features import build_features

    try:
        build_features(ws)
    except Exception as exc:  # a loaded file must never break the next step
        return [f"features build after the corpus: {type(exc).__name__}: {_short(str(exc))}"]
    return []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Fuzz shopseg ingest with a seeded corpus of malformed files.")
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--show", action="store_true", help="print every case and its outcome")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="shopseg-fuzz-") as tmp:
        summary = run_corpus(args.seed, args.count, Path(tmp), show=args.show)
    for failure in summary.failures:
        print(failure)
    print(summary.line())
    return 1 if summary.failures else 0


if __name__ == "__main__":
    sys.exit(main())
