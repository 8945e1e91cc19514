"""The workspace: one DuckDB file holding the canonical tables and everything derived.

A workspace is created with :meth:`Workspace.init` (``shopseg init``) and opened
with :meth:`Workspace.open`. It records its schema version and refuses to open a
file written by another version. Loaders write through :meth:`Workspace.transaction`
so an ingest either lands whole or not at all. Connection settings and the
words for a file another process holds are in :mod:`shopseg._connection`.

Examples
--------
>>> import tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "store.duckdb")
>>> ws = Workspace.init(path)
>>> ws.row_counts()["orders"]
0
>>> ws.close()
"""

from __future__ import annotations

import contextlib
import glob
import os
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from shopseg._connection import configure, open_failure, server_message
from shopseg._sql import value_sql
from shopseg.config import get_setting
from shopseg.errors import WorkspaceBusyError, WorkspaceError
from shopseg.schema import SCHEMA_VERSION, TABLES, ddl

if TYPE_CHECKING:
    import pandas as pd
    from ibis.backends.duckdb import Backend

__all__ = ["Workspace", "META_TABLE", "INGEST_LOG", "COMPACT_PENDING", "private_files"]

META_TABLE = "_shopseg_meta"
INGEST_LOG = "_shopseg_ingests"
#: meta key set (in the erasing transaction) while erased bytes may remain in the file; :meth:`Workspace.compact` clears it
COMPACT_PENDING = "compact_pending"

_BOOKKEEPING = [
    f'CREATE TABLE IF NOT EXISTS "{META_TABLE}" (key VARCHAR PRIMARY KEY, value VARCHAR)',
    f"""CREATE TABLE IF NOT EXISTS "{INGEST_LOG}" (
        ingest_id INTEGER, kind VARCHAR, source VARCHAR, format VARCHAR,
        rows_read BIGINT, rows_kept BIGINT, rows_flagged BIGINT, report VARCHAR,
        ingested_at TIMESTAMP)""",
]


def private_files() -> None:
    """Create this process's files from now on readable by its user only (umask 077; a stricter one is kept).

    Called when a workspace is opened for writing: the ``.duckdb`` file, and what DuckDB creates beside it later
    and lazily (the ``.wal``, the ``.tmp/`` spill folder, a rewrite's copy), hold the store's personal data, and
    so do the exports and reports the same process writes next. A file that already exists keeps its mode.
    """
    current = os.umask(0o077)
    os.umask(current | 0o077)


def _check_derived(name: str) -> None:
    if name in TABLES:
        raise WorkspaceError(f"'{name}' is a canonical table; load it with `shopseg ingest`.")


class Workspace:
    """A shopseg workspace backed by a single DuckDB file.

    Parameters
    ----------
    path : str or Path
        The ``.duckdb`` file. Use :meth:`init` to create one and :meth:`open`
        to open an existing one.
    read_only : bool, default=False
        Open without write access (several readers may share a file).
    """

    def __init__(self, path: str | os.PathLike[str], *, read_only: bool = False) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self._con: duckdb.DuckDBPyConnection | None = None
        self._ibis: Backend | None = None
        self._cursors: dict[int, Workspace] = {}  # open handles of cursor(): they keep the file open
        self._parent: Workspace | None = None
        self._compacting = False
        self._in_transaction = False  # transaction() is open on this handle's connection

    # -- lifecycle -----------------------------------------------------------------
    @classmethod
    def init(cls, path: str | os.PathLike[str] | None = None, *, overwrite: bool = False) -> Workspace:
        """Create a workspace file with the canonical tables and return it open."""
        path = Path(path or get_setting("workspace"))
        if path.exists():
            if not overwrite:
                raise WorkspaceError(
                    f"{path}: a workspace already exists here. Hint: pass --force to replace it, "
                    "or open it with another command."
                )
            cls._check_free(path)
            path.unlink()
            Path(f"{path}.wal").unlink(missing_ok=True)
            # the live engine's event journal and its segments (shopseg serve), or a new server would replay them
            for stale in path.parent.glob(f"{glob.escape(path.name)}.journal*"):
                stale.unlink(missing_ok=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        ws = cls(path)
        con = ws.con
        with ws.transaction():
            for stmt in _BOOKKEEPING:
                con.execute(stmt)
            for name in TABLES:
                con.execute(ddl(name))
            now = datetime.now(UTC).replace(tzinfo=None).isoformat()
            ws.set_meta("schema_version", str(SCHEMA_VERSION))
            ws.set_meta("created_at", now)
        return ws

    @staticmethod
    def _check_free(path: Path) -> None:
        """Refuse to replace a file another process holds (a running server would lose its store)."""
        try:
            duckdb.connect(str(path)).close()
        except duckdb.IOException as exc:
            error = open_failure(path, exc)
            if isinstance(error, WorkspaceBusyError) and error.server:
                raise WorkspaceBusyError(
                    server_message(path, error.server, "It cannot be replaced while the server holds it."),
                    server=None,
                ) from None
            if isinstance(error, WorkspaceBusyError):
                raise error from None
        except duckdb.Error:
            return  # not a DuckDB file: nobody holds it as a workspace; --force replaces it

    @classmethod
    def open(cls, path: str | os.PathLike[str] | None = None, *, read_only: bool = False) -> Workspace:
        """Open an existing workspace, checking its schema version."""
        path = Path(path or get_setting("workspace"))
        if not path.exists():
            raise WorkspaceError(
                f"{path}: no workspace here. Hint: create one with `shopseg init {path}` "
                "or point to another with --workspace."
            )
        ws = cls(path, read_only=read_only)
        try:
            row = ws.con.execute(f"SELECT value FROM \"{META_TABLE}\" WHERE key = 'schema_version'").fetchone()
        except duckdb.CatalogException as exc:
            ws.close()
            raise WorkspaceError(f"{path}: not a shopseg workspace (no {META_TABLE} table).") from exc
        if row is None or int(row[0]) != SCHEMA_VERSION:
            ws.close()
            raise WorkspaceError(
                f"{path}: workspace schema version {row[0] if row else 'unknown'} does not match this "
                f"shopseg (version {SCHEMA_VERSION}). Re-create it with `shopseg init --force`."
            )
        return ws

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        """The raw DuckDB connection (opened on first use)."""
        if self._con is None:
            if not self.read_only:
                private_files()
            try:
                con = duckdb.connect(str(self.path), read_only=self.read_only)
            except duckdb.IOException as exc:
                raise open_failure(self.path, exc) from None
            configure(con)
            self._con = con
        return self._con

    @property
    def ibis(self) -> Backend:
        """An Ibis backend sharing the workspace connection."""
        if self._ibis is None:
            import ibis  # imported on first use: commands that touch no data start without it

            self._ibis = ibis.duckdb.from_connection(self.con)
        return self._ibis

    @property
    def is_open(self) -> bool:
        """Has the connection been opened and not closed since? (``con`` opens it on first use.)"""
        return self._con is not None

    def cursor(self) -> Workspace:
        """Another handle on this open workspace with its own DuckDB connection (``con.cursor()``).

        It reads and writes the same database and may run a query in another
        thread while this handle's connection is busy (DuckDB isolates the two
        connections' transactions). Closing it leaves this handle open.
        """
        if self._compacting:
            raise WorkspaceError(
                f"{self.path}: the workspace file is being rewritten after an erasure. Hint: retry in a moment."
            )
        other = Workspace(self.path, read_only=self.read_only)
        con = self.con.cursor()
        con.execute("SET enable_progress_bar = false")
        other._con, other._parent = con, self
        self._cursors[id(other)] = other
        return other

    def close(self) -> None:
        """Checkpoint and close the connection."""
        if self._con is not None:
            self._con.close()
        self._con = None
        self._ibis = None
        if self._parent is not None:
            self._parent._cursors.pop(id(self), None)

    # -- compaction ----------------------------------------------------------------
    @property
    def compact_pending(self) -> bool:
        """Does the file still hold bytes of erased data (an erasure ran without :meth:`compact`)?"""
        return self.meta(COMPACT_PENDING) is not None

    def compact(self, *, lock: threading.RLock | None = None, wait_s: float = 30.0) -> None:
        """Rewrite the file into a fresh one (see :mod:`shopseg._compaction`); the connection is reopened on next use.

        Parameters
        ----------
        lock : threading.RLock, default=None
            The lock serialising this workspace's connection between threads (the server's). With it, the
            call must not hold it: open :meth:`cursor` handles are interrupted, no new one is handed out,
            and the rewrite waits for them to close, up to ``wait_s`` seconds. Without it, open cursors are
            an error.

        Raises
        ------
        WorkspaceError
            Read-only or a cursor handle; cursors still open; the copy failed (the file is then unchanged).
        """
        if self.read_only or self._parent is not None:
            raise WorkspaceError(f"{self.path}: only the workspace's own read-write handle can rewrite the file.")
        if lock is None:
            self._compact()
            return
        deadline = time.monotonic() + wait_s
        try:
            while True:
                with lock:
                    self._compacting = True
                    if not self._cursors:
                        self._compact()
                        return
                    for other in list(self._cursors.values()):
                        if other._con is not None:
                            other._con.interrupt()  # e.g. a dashboard aggregate: it fails, and is retried later
                if time.monotonic() > deadline:
                    raise WorkspaceError(
                        f"{self.path}: {len(self._cursors)} reader(s) still open after {wait_s:g} s; "
                        "the file was not rewritten. Hint: rerun `shopseg privacy compact` later."
                    )
                time.sleep(0.02)
        finally:
            with lock:
                self._compacting = False

    def _compact(self) -> None:
        from shopseg._compaction import compact_file

        if self._cursors:
            raise WorkspaceError(
                f"{self.path}: {len(self._cursors)} cursor(s) of this workspace are open; close "
                "them before rewriting the file."
            )
        self.close()
        compact_file(self.path, meta_table=META_TABLE, drop_meta=[COMPACT_PENDING])

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing -------------------------------------------------------------------
    @contextlib.contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Run a block in one transaction: everything lands, or nothing does.

        Inside another ``transaction()`` of this handle the block joins it (DuckDB has no nested
        transactions): it lands when the outer block does, and an error in it undoes the outer one too.
        """
        con = self.con
        if self._in_transaction:
            yield con
            return
        con.execute("BEGIN TRANSACTION")
        self._in_transaction = True
        try:
            yield con
        except BaseException:
            con.execute("ROLLBACK")
            raise
        else:
            con.execute("COMMIT")
        finally:
            self._in_transaction = False

    def write_table(
        self, name: str, data: Any, *, replace: bool = True, select: str = "*", params: list[Any] | None = None
    ) -> None:
        """Store a pandas DataFrame or Arrow table as ``name`` (derived tables only).

        ``select`` is the SELECT list over ``data`` (with ``params`` for its ``?``
        placeholders), to derive columns inside DuckDB instead of in Python.
        """
        _check_derived(name)
        con = self.con
        con.register("_shopseg_write", data)
        try:
            verb = "CREATE OR REPLACE TABLE" if replace else "CREATE TABLE"
            con.execute(f'{verb} "{name}" AS SELECT {select} FROM _shopseg_write', params or [])
        finally:
            con.unregister("_shopseg_write")

    def create_table_as(self, name: str, query: str) -> None:
        """Store the result of a SELECT ``query`` as the derived table ``name`` (replaced if present).

        ``query`` is SQL compiled from an Ibis expression (see
        :meth:`shopseg.engine.duckdb.DuckDBEngine.store`); the rows stay inside
        DuckDB.
        """
        _check_derived(name)
        self.con.execute(f'CREATE OR REPLACE TABLE "{name}" AS {query}')

    # -- reading -------------------------------------------------------------------
    def tables(self) -> list[str]:
        """Names of all tables in the workspace."""
        return sorted(self.table_definitions())

    def table_definitions(self) -> dict[str, str]:
        """Every table's name and its ``CREATE TABLE`` statement (columns and types), from one catalog query."""
        return dict(self.con.execute("SELECT table_name, sql FROM duckdb_tables()").fetchall())

    def table(self, name: str, *, limit: int | None = None) -> pd.DataFrame:
        """The table ``name`` as a pandas DataFrame (``limit`` rows at most); for notebooks.

        Raises
        ------
        WorkspaceError
            No such table; the message lists the workspace's tables.
        """
        from shopseg.errors import did_you_mean

        names = self.tables()
        if name not in names:
            raise WorkspaceError(
                f"{self.path}: no table '{name}'; the workspace has {names}.{did_you_mean(name, names)}"
            )
        suffix = f" LIMIT {int(limit)}" if limit is not None else ""
        return self.con.execute(f'SELECT * FROM "{name}"{suffix}').df()

    def __repr__(self) -> str:
        if self._con is None:
            return f"<Workspace {str(self.path)!r} (not connected)>"
        counts = self.row_counts()
        shown = ", ".join(f"{counts.get(t, 0):,} {t}" for t in ("customers", "orders", "events"))
        as_of = self.meta("features_as_of")
        mode = " read-only" if self.read_only else ""
        return f"<Workspace {str(self.path)!r}{mode}: {shown}" + (f"; features as of {as_of}" if as_of else "") + ">"

    def has_table(self, name: str) -> bool:
        return name in self.tables()

    def row_counts(self) -> dict[str, int]:
        """Row count of every canonical table."""
        out = {}
        for name in TABLES:
            row = self.con.execute(f'SELECT count(*) FROM "{name}"').fetchone()
            out[name] = int(row[0]) if row else 0
        return out

    def meta(self, key: str) -> str | None:
        # literals, not parameters: see shopseg._sql.value_sql
        row = self.con.execute(f'SELECT value FROM "{META_TABLE}" WHERE key = {value_sql(key)}').fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        self.con.execute(f'INSERT OR REPLACE INTO "{META_TABLE}" VALUES ({value_sql(key)}, {value_sql(value)})')
