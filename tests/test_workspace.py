from __future__ import annotations

import pytest

from shopseg.engine import get_engine
from shopseg.errors import NotFound, WorkspaceError
from shopseg.schema import TABLES
from shopseg.workspace import Workspace


def test_init_creates_every_canonical_table(tmp_path):
    ws = Workspace.init(tmp_path / "a.duckdb")
    assert set(TABLES) <= set(ws.tables())
    assert all(n == 0 for n in ws.row_counts().values())
    ws.close()


def test_init_refuses_to_overwrite_without_force(tmp_path):
    Workspace.init(tmp_path / "a.duckdb").close()
    with pytest.raises(WorkspaceError, match="already exists"):
        Workspace.init(tmp_path / "a.duckdb")


def test_open_missing_workspace_names_the_fix(tmp_path):
    with pytest.raises(WorkspaceError, match="shopseg init"):
        Workspace.open(tmp_path / "nope.duckdb")


def test_open_rejects_other_schema_version(tmp_path):
    ws = Workspace.init(tmp_path / "a.duckdb")
    ws.set_meta("schema_version", "999")
    ws.close()
    with pytest.raises(WorkspaceError, match="schema version 999"):
        Workspace.open(tmp_path / "a.duckdb")


def test_transaction_rolls_back_on_error(workspace):
    with pytest.raises(RuntimeError):
        with workspace.transaction() as con:
            con.execute("INSERT INTO products (product_id) VALUES ('p1')")
            raise RuntimeError("boom")
    assert workspace.row_counts()["products"] == 0


def test_a_transaction_inside_a_transaction_joins_it(workspace):
    """DuckDB has no nested transactions: an inner block lands with the outer one, and its error undoes both."""
    with workspace.transaction() as con:
        with workspace.transaction():
            con.execute("INSERT INTO products (product_id) VALUES ('p1')")
        con.execute("INSERT INTO products (product_id) VALUES ('p2')")
    assert workspace.row_counts()["products"] == 2
    with pytest.raises(RuntimeError):
        with workspace.transaction() as con:
            con.execute("INSERT INTO products (product_id) VALUES ('p3')")
            with workspace.transaction():
                con.execute("INSERT INTO products (product_id) VALUES ('p4')")
                raise RuntimeError("boom")
    assert workspace.row_counts()["products"] == 2
    with workspace.transaction() as con:  # the handle is usable again afterwards
        con.execute("INSERT INTO products (product_id) VALUES ('p5')")
    assert workspace.row_counts()["products"] == 3


def test_unknown_table_suggests_the_closest(workspace):
    with pytest.raises(NotFound, match="Did you mean 'orders'"):
        get_engine(workspace, "duckdb").table("ordres")


def test_compact_waits_for_reader_cursors_then_reopens(workspace):
    """The server's case: readers on cursors are interrupted and waited for; no new one opens meanwhile."""
    import threading
    import time

    lock = threading.RLock()
    workspace.con.execute("CREATE TABLE notes AS SELECT range AS n FROM range(1000)")
    reader = workspace.cursor()
    with pytest.raises(WorkspaceError, match="1 reader\\(s\\) still open after 0.2 s"):
        workspace.compact(lock=lock, wait_s=0.2)  # the reader never closes: the file is left as it is
    assert workspace.con.execute("SELECT count(*) FROM notes").fetchone()[0] == 1000
    errors: list[BaseException] = []

    def compact() -> None:
        try:
            workspace.compact(lock=lock, wait_s=30)
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    rewrite = threading.Thread(target=compact)
    rewrite.start()
    deadline = time.monotonic() + 10
    while True:  # as the dashboard asks for a cursor: refused while the rewrite waits
        with lock:
            try:
                workspace.cursor().close()
            except WorkspaceError as exc:
                assert "being rewritten after an erasure" in str(exc)
                break
        assert time.monotonic() < deadline, "cursor() was never refused"
        time.sleep(0.01)
    with lock:
        reader.close()
    rewrite.join(timeout=30)
    assert not rewrite.is_alive() and errors == []
    assert workspace.con.execute("SELECT count(*) FROM notes").fetchone()[0] == 1000  # reopened on the new file
    workspace.cursor().close()  # handed out again afterwards


def test_init_force_removes_the_old_journal_segments(tmp_path):
    """A rotated journal segment left by a killed server must not be replayed into the new workspace."""
    path = tmp_path / "ws.duckdb"
    Workspace.init(path).close()
    for name in ("ws.duckdb.journal", "ws.duckdb.journal.3"):
        (tmp_path / name).write_text('{"events":[]}\n')
    Workspace.init(path, overwrite=True).close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ws.duckdb"]


def test_notebook_api_repr_table_and_segment_members(action_ws_path):
    """Issue 17 (6): a path string, a useful repr, ws.table(), and a rule's members indexed by customer_id."""
    import shopseg

    ws = shopseg.Workspace.open(str(action_ws_path))
    try:
        counts = ws.row_counts()
        assert repr(ws) == (
            f"<Workspace {str(action_ws_path)!r}: {counts['customers']:,} customers, "
            f"{counts['orders']:,} orders, {counts['events']:,} events; features as of "
            f"{ws.meta('features_as_of')}>"
        )
        rfm = ws.table("customer_rfm")
        assert len(rfm) == counts["customers"] and "rfm_segment" in rfm.columns
        assert len(ws.table("orders", limit=3)) == 3
        with pytest.raises(shopseg.ShopsegError, match=r"no table 'ordrs'.*Did you mean 'orders'\?"):
            ws.table("ordrs")
        members = shopseg.segment_members(ws, "orders >= 3 AND revenue > 100")
        truth = [
            r[0]
            for r in ws.con.execute(
                "SELECT customer_id FROM customer_features WHERE orders >= 3 AND revenue > 100 ORDER BY 1"
            ).fetchall()
        ]
        assert members.index.name == "customer_id" and members.index.tolist() == truth
        assert (members["orders"] >= 3).all() and members.attrs["as_of"] == ws.meta("features_as_of")
        champions = shopseg.segment_members(ws, "Champions")
        assert set(champions.index) == set(rfm.loc[rfm["rfm_segment"] == "Champions", "customer_id"])
        with pytest.raises(shopseg.SegmentError, match="unknown field 'ordrs'"):
            shopseg.segment_members(ws, "ordrs >= 3")
    finally:
        ws.close()
