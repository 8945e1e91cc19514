"""The stored ``order_categories`` base: the same breakdowns as from the lines, refreshed when its sources change."""

from __future__ import annotations

import pandas as pd

from shopseg.reports.region_base import REGION_BASE, has_fresh_region_base, refresh_region_base
from shopseg.reports.regions import DIMENSIONS, Breakdown, region_performance_many
from shopseg.workspace import Workspace
from tests.reports.test_regions import _seed

BREAKDOWNS = [Breakdown(("region", "category")), Breakdown(DIMENSIONS, limit=3), Breakdown(("region", "period"))]


def _all(ws, **kw) -> list[pd.DataFrame]:
    return [
        *region_performance_many(ws, BREAKDOWNS, period="month", **kw),
        *region_performance_many(ws, BREAKDOWNS, period="all", level="country", **kw),
    ]


def _same(a: list[pd.DataFrame], b: list[pd.DataFrame]) -> None:
    for x, y in zip(a, b, strict=True):
        pd.testing.assert_frame_equal(x, y)


def test_stored_base_gives_the_breakdowns_of_the_lines(workspace):
    _seed(workspace)
    inline = _all(workspace)
    assert not workspace.has_table(REGION_BASE)
    _same(_all(workspace, store_base=True), inline)
    assert has_fresh_region_base(workspace)
    _same(_all(workspace), inline)  # read from the stored table


def test_an_edit_makes_it_stale_and_the_result_follows_the_lines(workspace):
    _seed(workspace)
    assert refresh_region_base(workspace)
    workspace.con.execute("UPDATE order_lines SET quantity = quantity + 1 WHERE order_id = 'o1'")
    workspace.con.execute("UPDATE customers SET region = 'West' WHERE customer_id = 'b'")
    assert not has_fresh_region_base(workspace)
    stale_free = _all(workspace)
    workspace.con.execute(f'DROP TABLE "{REGION_BASE}"')
    _same(stale_free, _all(workspace))  # the stale table was not read
    assert refresh_region_base(workspace) and has_fresh_region_base(workspace)
    _same(_all(workspace), stale_free)


def test_read_only_workspace_reads_but_never_stores(workspace):
    _seed(workspace)
    path = workspace.path
    workspace.close()
    with Workspace.open(path, read_only=True) as ro:
        assert not refresh_region_base(ro)
        inline = _all(ro, store_base=True)
    with Workspace.open(path) as rw:
        assert not rw.has_table(REGION_BASE) and refresh_region_base(rw)
    with Workspace.open(path, read_only=True) as ro:
        assert refresh_region_base(ro)  # fresh: used, not rebuilt
        _same(_all(ro), inline)
