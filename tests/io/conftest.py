"""Print the ingest fuzz summary ("ingest fuzz: N files tried ...") at the end of the pytest run."""

from __future__ import annotations

import sys

import pytest


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    fuzz = sys.modules.get("tests.io.fuzz_check")
    for line in getattr(fuzz, "REPORTED", []):
        terminalreporter.write_line(line)
