"""The time budget of interactive queries interrupts a real DuckDB query and leaves the connection usable."""

from __future__ import annotations

import time

import pytest

from shopseg.engine import get_engine
from shopseg.engine.budget import time_budget
from shopseg.errors import QueryTimeoutError

#: Counting 10^12 rows takes DuckDB hours on these cores: only an interrupt ends it within the test.
ENDLESS = "SELECT count(*) FROM range(1000000000000) a WHERE a.range % 7 = 3"


def test_a_running_query_is_interrupted_when_the_budget_runs_out(workspace):
    engine = get_engine(workspace, "duckdb")
    started = time.monotonic()
    with pytest.raises(
        QueryTimeoutError,
        match=r"^preview: stopped after 200 ms\. Expected to finish within 200 ms "
        r"\(setting preview_timeout_ms\)",
    ) as exc:
        with time_budget(engine, "preview", ms=200):
            workspace.con.execute(ENDLESS).fetchall()
    assert exc.value.status == 503
    assert time.monotonic() - started < 30
    assert workspace.con.execute("SELECT 42").fetchone() == (42,)  # the next query is not interrupted


def test_a_query_started_after_the_deadline_is_interrupted_too(workspace):
    engine = get_engine(workspace, "duckdb")
    with pytest.raises(QueryTimeoutError), time_budget(engine, "members", ms=50):
        time.sleep(0.3)  # Python work past the deadline: no query to interrupt yet
        workspace.con.execute(ENDLESS).fetchall()


def test_work_within_the_budget_or_without_one_is_untouched(workspace):
    engine = get_engine(workspace, "duckdb")
    with time_budget(engine, "preview", ms=60_000):
        assert workspace.con.execute("SELECT count(*) FROM range(1000)").fetchone() == (1000,)
    with time_budget(engine, "preview", ms=0):
        time.sleep(0.05)
    with pytest.raises(QueryTimeoutError, match="stopped after 10 ms"), time_budget(engine, "preview", ms=10):
        time.sleep(0.1)  # over the budget without a query: still a timeout, the caller gets no late result
