"""Saved segments with versions and dated membership snapshots, in workspace tables (persistence only).

Questions about a segment (preview, members, overlap, diff, explain, export) are
answered by :class:`~shopseg.segments.query.SegmentQuery`.

Tables (created on first use):

- ``segment_definitions``: ``name, version, definition`` (canonical text),
  ``description, created_at, deleted``. Every edit adds a version; ``delete``
  adds a tombstone version, so history is never lost.
- ``segment_snapshots``: ``name, version, as_of, customer_id`` -- who was in
  which segment on which date, written by :meth:`SegmentStore.refresh`.
- ``segment_snapshot_runs``: ``name, version, as_of`` -- which segments each
  refresh snapshotted, so a snapshot with 0 members is still a snapshot.
- ``rfm_snapshots``: ``as_of, customer_id, rfm_segment`` -- the RFM map on each
  refresh date, for :meth:`SegmentStore.migration`.

>>> import tempfile, os
>>> from shopseg.workspace import Workspace
>>> ws = Workspace.init(os.path.join(tempfile.mkdtemp(), "ws.duckdb"))
>>> store = SegmentStore(ws)
>>> store.create("loyal", "orders >= 3", description="three orders or more").version
1
>>> store.create("loyal", "orders >= 4", replace=True).version
2
>>> [s.name for s in store.list()], store.get("loyal", version=1).definition
(['loyal'], 'orders >= 3')
>>> ws.close()
"""

from __future__ import annotations

import builtins
import datetime as dt
import re
from typing import TYPE_CHECKING, Any

import pandas as pd

from shopseg.errors import InvalidParameterError, Issue, NotFound, SegmentError, SegmentExistsError, did_you_mean
from shopseg.features import FEATURES_TABLE
from shopseg.features.asof import parse_date
from shopseg.rules.compile import segment_flags
from shopseg.rules.fields import CLUSTERS_TABLE, FIELDS, INTERESTS_TABLE, PREDICTIONS_TABLE, FieldRegistry
from shopseg.rules.issues import summarize
from shopseg.rules.limits import RuleLimits
from shopseg.rules.nodes import Segment
from shopseg.rules.parse import parse_segment
from shopseg.rules.render import render
from shopseg.rules.static_checks import static_issues
from shopseg.rules.validate import referenced_segments, validate_segment
from shopseg.segments.saved import SavedSegment, broken_ref_issues, describe_broken, usable_segments
from shopseg.segments.snapshots import RFM_SNAPSHOTS_TABLE, SNAPSHOT_RUNS_TABLE, SNAPSHOTS_TABLE, SnapshotQueries

if TYPE_CHECKING:
    from shopseg.engine import Engine
    from shopseg.workspace import Workspace

__all__ = ["SavedSegment", "SegmentStore", "DEFINITIONS_TABLE", "SNAPSHOTS_TABLE", "RFM_SNAPSHOTS_TABLE"]

DEFINITIONS_TABLE = "segment_definitions"
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")
_DDL = [
    f"""CREATE TABLE IF NOT EXISTS "{DEFINITIONS_TABLE}" (name VARCHAR, version INTEGER, definition VARCHAR,
        description VARCHAR, created_at TIMESTAMP, deleted BOOLEAN)""",
    f'CREATE TABLE IF NOT EXISTS "{SNAPSHOTS_TABLE}" (name VARCHAR, version INTEGER, as_of DATE, customer_id VARCHAR)',
    f'CREATE TABLE IF NOT EXISTS "{RFM_SNAPSHOTS_TABLE}" (as_of DATE, customer_id VARCHAR, rfm_segment VARCHAR)',
    f'CREATE TABLE IF NOT EXISTS "{SNAPSHOT_RUNS_TABLE}" (name VARCHAR, version INTEGER, as_of DATE)',
]


class SegmentStore(SnapshotQueries):
    """Saved segments of one workspace.

    Parameters
    ----------
    workspace : Workspace
        An open workspace (writable for create/delete/refresh).
    fields : FieldRegistry, default=None
        Allowed fields; default the built-in registry plus the ``share_<category>``
        columns of the stored feature table.
    """

    def __init__(self, workspace: Workspace, fields: FieldRegistry | None = None) -> None:
        self.workspace = workspace
        self.fields = fields or self._fields()
        #: Saved segments that cannot be used (name -> why), as found by the last :meth:`definitions`.
        self.broken: dict[str, SegmentError] = {}
        self._usable: tuple[Any, dict[str, Segment], dict[str, SegmentError]] | None = None
        if not workspace.read_only:
            for stmt in _DDL:
                workspace.con.execute(stmt)

    def _fields(self) -> FieldRegistry:
        fields = FIELDS
        if self.workspace.has_table(FEATURES_TABLE):
            fields = fields.with_columns(self._columns(FEATURES_TABLE))
        if self.workspace.has_table(PREDICTIONS_TABLE):
            fields = fields.with_predictions(self._columns(PREDICTIONS_TABLE))
        if self.workspace.has_table(INTERESTS_TABLE):
            fields = fields.with_interests(self._columns(INTERESTS_TABLE))
        if self.workspace.has_table(CLUSTERS_TABLE):
            fields = fields.with_clusters(self._columns(CLUSTERS_TABLE))
        if self.workspace.has_table("customer_attributes"):
            described = self.workspace.con.execute('DESCRIBE "customer_attributes"').fetchall()
            fields = fields.with_attributes({str(r[0]): str(r[1]) for r in described})
        return fields

    def _columns(self, table: str) -> list[str]:
        return [r[0] for r in self.workspace.con.execute(f'DESCRIBE "{table}"').fetchall()]

    # -- definitions -------------------------------------------------------------------
    def _rows(self) -> pd.DataFrame:
        if not self.workspace.has_table(DEFINITIONS_TABLE):
            return pd.DataFrame(columns=["name", "version", "definition", "description", "created_at", "deleted"])
        return self.workspace.con.execute(f'SELECT * FROM "{DEFINITIONS_TABLE}" ORDER BY name, version').df()

    def _latest(self) -> dict[str, pd.Series]:
        rows = self._rows()
        return {name: grp.iloc[-1] for name, grp in rows.groupby("name", sort=True) if not grp.iloc[-1]["deleted"]}

    def list(self) -> list[SavedSegment]:
        """The latest version of every saved (not deleted) segment, by name."""
        return [_saved(row) for row in self._latest().values()]

    def definitions(self) -> dict[str, Segment]:
        """Name -> parsed rule of every usable saved segment (what ``segment('name')`` refers to).

        A saved segment that no longer parses or validates (over a limit, a field gone, a reference to a
        broken segment) is left out and listed in :attr:`broken` with its error: one bad segment never
        stops the others (:func:`~shopseg.segments.saved.usable_segments`).
        """
        saved = self.list()
        key = (tuple((s.name, s.version, s.definition) for s in saved), RuleLimits.current())
        if self._usable is None or self._usable[0] != key:
            self._usable = (key, *usable_segments(saved, self.fields))
        self.broken = dict(self._usable[2])
        return dict(self._usable[1])

    def value_warnings(self, seg: Segment) -> builtins.list[str]:
        """Text values the rule compares a field to that no customer has, with the closest existing ones."""
        from shopseg.rules.values import value_warnings

        return [i.message for i in value_warnings(self.workspace, seg, self.fields)]

    def broken_warnings(self, what: str) -> builtins.list[str]:
        """One line per broken saved segment: ``<what>: segment 'x' cannot be used: ...`` (after :meth:`definitions`)."""
        return [f"{what}: {describe_broken(name, exc)}" for name, exc in self.broken.items()]

    def get(self, name: str, version: int | None = None) -> SavedSegment:
        """One saved segment (latest version unless ``version``); :class:`NotFound` when absent."""
        rows = self._rows()
        rows = rows[(rows["name"] == name) & ~rows["deleted"].astype(bool)]
        if version is not None:
            rows = rows[rows["version"] == version]
        if rows.empty or (version is None and name not in self._latest()):
            known = list(self._latest())
            what = f"segment '{name}'" + (f" version {version}" if version is not None else "")
            raise NotFound(f"{what} does not exist. Saved segments: {known or 'none'}.{did_you_mean(name, known)}")
        return _saved(rows.iloc[-1])

    def check(self, definition: str | dict[str, Any] | Segment, name: str | None = None) -> Segment:
        """Parse and validate a definition against the fields and saved segments (references, cycles)."""
        seg = parse_segment(definition)
        seg = Segment(seg.rule, source=seg.source, name=name)
        saved = {k: v for k, v in self.definitions().items() if k != name}
        issues = broken_ref_issues(seg, {k: v for k, v in self.broken.items() if k != name})
        if issues:
            raise SegmentError(summarize(issues, name), issues)
        validate_segment(seg, self.fields, saved)
        return seg

    def create(
        self,
        name: str,
        definition: str | dict[str, Any] | Segment,
        *,
        description: str = "",
        replace: bool = False,
        force: bool = False,
        surface: str = "cli",
    ) -> SavedSegment:
        """Validate and save ``definition`` as ``name`` (a new version when ``replace``).

        A rule that can never match, or always matches (:func:`static_issues`),
        is refused unless ``force``; the refusal's hint names the control of
        ``surface`` ("cli", "api" or "dashboard") that saves it anyway.
        """
        if not _NAME.fullmatch(name):
            raise InvalidParameterError(
                f"segment name {name!r}: expected a letter then up to 63 letters, digits, '_' or '-'."
            )
        latest = self._latest()
        if name in latest and not replace:
            raise SegmentExistsError(name, int(latest[name]["version"]))
        seg = self.check(definition, name)
        static = static_issues(seg, self.fields)
        if static and not force:
            hint = f"fix the rule, or {_FORCE_HINTS[surface]} to save it anyway."
            raise SegmentError(f"{summarize(static, name)}\nHint: {hint}", static, hint=hint)
        text = render(seg)
        self._insert(name, text, description, deleted=False)
        return self.get(name)

    def delete(self, name: str) -> None:
        """Delete a segment (a tombstone version); refused while other segments refer to it."""
        self.get(name)
        users = [s.name for s in self.list() if s.name != name and name in _references(s)]
        if users:
            issue = Issue("/", "in_use", f"segment '{name}' is used by {users}; change or delete them first.")
            raise SegmentError(summarize([issue], name), [issue])
        self._insert(name, "", "", deleted=True)

    def _insert(self, name: str, text: str, description: str, *, deleted: bool) -> None:
        rows = self._rows()
        version = int(rows.loc[rows["name"] == name, "version"].max()) + 1 if (rows["name"] == name).any() else 1
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        self.workspace.con.execute(
            f'INSERT INTO "{DEFINITIONS_TABLE}" VALUES (?, ?, ?, ?, ?, ?)',
            [name, version, text, description, now, deleted],
        )

    # -- evaluation --------------------------------------------------------------------
    def as_of(self, as_of: dt.date | str | None = None) -> dt.date:
        """``as_of`` or the features' as-of date stored in the workspace."""
        if as_of is not None:
            return parse_date(as_of)
        stored = self.workspace.meta("features_as_of")
        if stored is None:
            raise NotFound("the workspace has no customer features yet. Hint: run `shopseg features build` first.")
        return dt.date.fromisoformat(stored)

    # -- snapshots ---------------------------------------------------------------------
    def refresh(self, engine: Engine, as_of: dt.date | str | None = None) -> dict[str, int]:
        """Store the members of every saved segment (and the RFM map) under the features' as-of date.

        ``as_of``, when given, must equal the stored features' as-of date: a
        snapshot of another day needs the features of that day (``shopseg
        features build --as-of DAY``) or it would mix two dates. A saved segment that cannot be used
        (:meth:`definitions`) is left out and listed in :attr:`broken`; the others are stored.
        """
        day, stored = self.as_of(as_of), self.as_of()
        if day != stored:
            raise InvalidParameterError(
                f"refresh: the features are as of {stored}, not {day}. Expected the features' date; got {day}. "
                f"Hint: run `shopseg features build --as-of {day}` (and `shopseg rfm`) first."
            )
        defs = self.definitions()
        saved_list = [s for s in self.list() if s.name in defs]
        with self.workspace.transaction() as con:
            sizes = self._write_snapshots(engine, con, saved_list, defs, day) if saved_list else {}
            if self.workspace.has_table("customer_rfm"):
                con.execute(f'DELETE FROM "{RFM_SNAPSHOTS_TABLE}" WHERE as_of = ?', [day])
                con.execute(
                    f'INSERT INTO "{RFM_SNAPSHOTS_TABLE}" SELECT ?, customer_id, rfm_segment FROM customer_rfm', [day]
                )
        return sizes

    def _write_snapshots(
        self, engine: Engine, con: Any, saved_list: builtins.list[SavedSegment], defs: dict[str, Segment], day: dt.date
    ) -> dict[str, int]:
        """Evaluate every saved segment in one query and append its members under ``day``.

        On DuckDB over this workspace the flags stay in a temporary table: the members
        never travel through pandas (50 segments x 1M customers is tens of millions of rows).
        """
        flags = segment_flags(
            engine, {s.name: defs[s.name] for s in saved_list}, as_of=day, fields=self.fields, saved=defs
        )
        in_place = engine.name == "duckdb" and getattr(engine, "workspace", None) is self.workspace
        if in_place:
            con.execute(f"CREATE OR REPLACE TEMP TABLE _shopseg_flags AS {engine.to_sql(flags)}")
        else:
            con.register("_shopseg_flags", engine.execute(flags))
        names = [s.name for s in saved_list]
        try:
            for table in (SNAPSHOTS_TABLE, SNAPSHOT_RUNS_TABLE):
                con.execute(f'DELETE FROM "{table}" WHERE as_of = ? AND list_contains(?, name)', [day, names])
            con.executemany(
                f'INSERT INTO "{SNAPSHOT_RUNS_TABLE}" VALUES (?, ?, ?)', [[s.name, s.version, day] for s in saved_list]
            )
            for i, saved in enumerate(saved_list):
                con.execute(
                    f'INSERT INTO "{SNAPSHOTS_TABLE}" SELECT ?, ?, ?, CAST(customer_id AS VARCHAR) '
                    f'FROM _shopseg_flags WHERE "s__{i}"',
                    [saved.name, saved.version, day],
                )
            counts = ", ".join(f'count(*) FILTER (WHERE "s__{i}")' for i in range(len(saved_list)))
            sizes = dict(
                zip(
                    names, (int(n) for n in con.execute(f"SELECT {counts} FROM _shopseg_flags").fetchone()), strict=True
                )
            )
        finally:
            if in_place:
                con.execute("DROP TABLE IF EXISTS _shopseg_flags")
            else:
                con.unregister("_shopseg_flags")
        return sizes


_FORCE_HINTS = {"cli": "pass --force", "api": 'send "force": true', "dashboard": "tick 'save anyway'"}


def _references(saved: SavedSegment) -> list[str]:
    """The segments a saved rule refers to; none when it no longer parses."""
    try:
        return referenced_segments(saved.segment)
    except SegmentError:
        return []


def _saved(row: pd.Series) -> SavedSegment:
    return SavedSegment(
        str(row["name"]),
        int(row["version"]),
        str(row["definition"]),
        str(row["description"] or ""),
        pd.Timestamp(row["created_at"]).to_pydatetime(),
    )
