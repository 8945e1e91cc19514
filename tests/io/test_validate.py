"""Row checks: one aggregate pass, drops vs marks, one error naming every failing check."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from shopseg.errors import SchemaError
from shopseg.io._read import Source
from shopseg.io.validate import STAGE_TABLE, Check, Staged, drop_predicate, run_checks


@pytest.fixture
def staged():
    con = duckdb.connect()
    con.execute(
        f"CREATE TEMP VIEW {STAGE_TABLE} AS SELECT * FROM (VALUES (2, NULL, 5.0), (3, 'c1', -1.0), (4, 'c2', 0.0), "
        "(5, 'c3', 9.0)) AS t(_row, customer_id, price)"
    )
    src = Source(path=Path("x.csv"), fmt="csv")
    yield con, Staged(source=src, present={"customer_id", "price"}, raw_select="", marks=[])
    con.close()


def test_drops_and_marks_are_counted_marks_only_on_kept_rows(staged):
    con, st = staged
    checks = [
        Check("missing customer_id (flagged, not kept)", "customer_id IS NULL", "drop"),
        Check("non-positive price (kept, marked)", "price <= 0", "mark"),
        Check("big price (kept, marked)", "price > 4", "mark"),
    ]
    counts = run_checks(con, st, checks)
    assert counts == {
        "missing customer_id (flagged, not kept)": 1,
        "non-positive price (kept, marked)": 2,
        "big price (kept, marked)": 1,  # row 2 has price 5 but is dropped
        "__flagged__": 4,
        "__kept__": 3,
    }


def test_every_failing_check_is_in_one_message(staged):
    con, st = staged
    checks = [
        Check("price: negative", "price < 0", "error", None, "a price >= 0"),
        Check("customer_id: value is missing", "customer_id IS NULL", "error", None, "a value in every row"),
        Check("never", "false", "error", None, "nothing"),
    ]
    with pytest.raises(SchemaError) as err:
        run_checks(con, st, checks)
    assert str(err.value) == (
        "x.csv: price: negative in 1 row (row 3). Expected a price >= 0. "
        "customer_id: value is missing in 1 row (row 2). Expected a value in every row."
    )
    assert err.value.rows == [2, 3] and err.value.table == "x.csv"


def test_drop_predicate_without_drops_keeps_everything():
    assert drop_predicate([Check("m", "true", "mark")]) == "false"
    assert drop_predicate([Check("a", "x", "drop"), Check("b", "y", "drop")]) == "coalesce(x, false) OR coalesce(y, false)"
