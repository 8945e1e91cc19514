"""Resolve a segment name to its members: a saved rule segment, an RFM segment or a lifecycle stage.

Actions (recommendations, exports, experiments) name their audience by one
word. The lookup order is: saved segments (``shopseg segment create``), the
RFM map (``customer_rfm.rfm_segment``, e.g. ``Champions``, case-insensitive)
and lifecycle stages (``customer_lifecycle.stage``, e.g. ``new``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shopseg.errors import NotFound, did_you_mean
from shopseg.workspace import Workspace

if TYPE_CHECKING:
    import datetime as dt

    import pandas as pd

__all__ = ["segment_customer_ids", "known_segment_names", "segment_members"]

_RFM = ("customer_rfm", "rfm_segment")
_LIFECYCLE = ("customer_lifecycle", "stage")


def _labels(ws: Workspace, table: str, column: str) -> list[str]:
    if not ws.has_table(table):
        return []
    return [
        r[0]
        for r in ws.con.execute(f'SELECT DISTINCT "{column}" FROM "{table}" WHERE "{column}" IS NOT NULL').fetchall()
    ]


def _saved(ws: Workspace) -> list[str]:
    if not ws.has_table("segment_definitions"):
        return []
    from shopseg.segments.definitions import SegmentStore

    return [s.name for s in SegmentStore(ws).list()]


def known_segment_names(ws: Workspace) -> list[str]:
    """Every name :func:`segment_customer_ids` accepts in this workspace."""
    return sorted(set(_saved(ws)) | set(_labels(ws, *_RFM)) | set(_labels(ws, *_LIFECYCLE)))


def segment_customer_ids(ws: Workspace, name: str, *, engine: str | None = None) -> tuple[list[str], str]:
    """Members of the segment ``name`` (sorted) and where the name was found.

    Returns
    -------
    (list of str, str)
        Customer ids and the kind: ``"saved segment"``, ``"RFM segment"`` or ``"lifecycle stage"``.

    Raises
    ------
    NotFound
        When no saved segment, RFM segment or lifecycle stage has that name.
    """
    if name in _saved(ws):
        from shopseg.config import get_setting
        from shopseg.engine import get_engine
        from shopseg.segments.definitions import SegmentStore
        from shopseg.segments.query import SegmentQuery

        query = SegmentQuery(SegmentStore(ws), get_engine(ws, engine or get_setting("engine")))
        return query.member_ids(query.saved(name)), "saved segment"
    for (table, column), kind in ((_RFM, "RFM segment"), (_LIFECYCLE, "lifecycle stage")):
        for label in _labels(ws, table, column):
            if label.lower() == name.lower():
                rows = ws.con.execute(
                    f'SELECT customer_id FROM "{table}" WHERE "{column}" = ? ORDER BY customer_id', [label]
                ).fetchall()
                return [str(r[0]) for r in rows], kind
    names = known_segment_names(ws)
    hint = did_you_mean(name, names) or (
        f" Known: {', '.join(names)}."
        if names
        else " Hint: run `shopseg rfm`, `shopseg lifecycle` or `shopseg segment create`."
    )
    raise NotFound(f"segment '{name}': no saved segment, RFM segment or lifecycle stage has this name.{hint}")


_MEMBER_COLUMNS = ("orders", "revenue", "last_order_at", "country", "region")


def segment_members(
    ws: Workspace, rule: str, *, as_of: dt.date | str | None = None, engine: str | None = None
) -> pd.DataFrame:
    """The customers a rule (or a saved segment's name) selects, as a DataFrame indexed by ``customer_id``.

    Parameters
    ----------
    ws : Workspace
        A workspace with a feature table (``shopseg features build``).
    rule : str
        A rule in the segment language (``"orders >= 3 AND last_order < -90d"``) or the
        name of a saved segment, an RFM segment or a lifecycle stage.
    as_of : date or str, optional
        The day relative windows count from; default the feature table's as-of date.
    engine : {"duckdb", "spark"}, optional
        Default the ``engine`` setting.

    Returns
    -------
    pandas.DataFrame
        One row per member, sorted, with ``orders``, ``revenue``, ``last_order_at``,
        ``country`` and ``region`` from the feature table; ``attrs["as_of"]`` is the date used.

    Raises
    ------
    SegmentError
        The rule does not parse or validate (every problem, with its position).

    Examples
    --------
    In a notebook (see the README's Python section)::

        shopseg.segment_members(ws, "orders >= 3 AND country = 'Germany'").head()
    """
    import pandas as pd

    from shopseg.config import get_setting
    from shopseg.engine import get_engine
    from shopseg.features import FEATURES_TABLE
    from shopseg.segments.definitions import SegmentStore

    if rule in known_segment_names(ws):
        ids, _ = segment_customer_ids(ws, rule, engine=engine)
        day = None
    else:
        from shopseg.segments.query import SegmentQuery

        query = SegmentQuery(SegmentStore(ws), get_engine(ws, engine or get_setting("engine")))
        day = query.as_of(as_of)
        ids = query.member_ids(query.rule(rule), day)
    if ws.has_table(FEATURES_TABLE):
        found = {r[0] for r in ws.con.execute(f"DESCRIBE {FEATURES_TABLE}").fetchall()}
        columns = [c for c in _MEMBER_COLUMNS if c in found]
        selected = ", ".join(["customer_id", *columns])
        df = ws.con.execute(
            f"SELECT {selected} FROM {FEATURES_TABLE} WHERE list_contains(?, customer_id) ORDER BY customer_id", [ids]
        ).df()
    else:
        df = pd.DataFrame({"customer_id": ids})
    df = df.set_index("customer_id")
    df.attrs["as_of"] = str(day) if day else None
    return df
