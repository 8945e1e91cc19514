"""The segment query service: preview, members, size, overlap, diff, explain and export of a rule or a saved segment.

Every surface (the CLI, ``/api/v1/segments`` and the dashboard) asks this one
module; each question is answered in Ibis on the engine, so only counts, one
page of members or one customer's rows come back (never the whole feature
table). A rule is validated once, at the surface's boundary
(:meth:`SegmentQuery.rule`, :meth:`SegmentQuery.saved`); what this module is
handed is trusted and compiled without a second check. Answers are plain JSON
values (:func:`plain`), with the as-of date they were counted on.

>>> import tempfile, os
>>> from shopseg.workspace import Workspace
>>> from shopseg.engine import get_engine
>>> from shopseg.segments.definitions import SegmentStore
>>> ws = Workspace.init(os.path.join(tempfile.mkdtemp(), "ws.duckdb"))
>>> q = SegmentQuery(SegmentStore(ws), get_engine(ws, "duckdb"))
>>> q.rule("orders >= 3 AND country = 'DE'").name is None
True
>>> ws.close()
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import ibis
import pandas as pd

from shopseg.config import get_setting
from shopseg.engine.budget import time_budget
from shopseg.errors import InvalidParameterError, SegmentError
from shopseg.features import FEATURES_TABLE
from shopseg.rules.compile import segment_flags, segment_frame
from shopseg.rules.nodes import Segment
from shopseg.rules.render import render
from shopseg.rules.static_checks import static_issues
from shopseg.segments.saved import named_error

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from shopseg.engine import Engine
    from shopseg.segments.definitions import SegmentStore

__all__ = ["SegmentQuery", "PAGE_SIZE_MAX", "MEMBER_COLUMNS", "plain", "to_records"]

PAGE_SIZE_MAX = 200
#: The columns of a member row (previews, members pages); those the feature table lacks are left out.
MEMBER_COLUMNS = ("customer_id", "orders", "revenue", "last_order_at", "country", "region")
_CHANNELS = {"email_marketing": "email", "sms_marketing": "sms"}


class SegmentQuery:
    """Questions about segments of one workspace, answered on one engine.

    Parameters
    ----------
    store : SegmentStore
        The saved segments (and the field registry) of the workspace.
    engine : Engine
        Where the questions are counted (``get_engine(ws, "duckdb" | "spark")``).
    """

    def __init__(self, store: SegmentStore, engine: Engine) -> None:
        self.store = store
        self.engine = engine

    # -- the boundary: the only places a rule is parsed and validated ---------------------------
    def rule(self, rule: str | dict[str, Any] | Segment, name: str | None = None) -> Segment:
        """Parse and validate a rule (text or JSON form) once; :class:`SegmentError` lists every issue."""
        return rule if isinstance(rule, Segment) and rule.name == name else self.store.check(rule, name)

    def saved(self, name: str) -> Segment:
        """The validated rule of the saved segment ``name`` (:class:`NotFound`, or its error when it is broken)."""
        self.store.get(name)  # NotFound with "Did you mean"
        usable = self.store.definitions()
        if name in usable:
            return usable[name]
        raise named_error(self.store.broken[name], name)

    def rule_or_saved(self, text: str) -> Segment:
        """A saved segment's name, or else a rule. A lone word that is neither a saved segment nor a valid
        rule (a bare true/false field is one) is taken for a segment name: the error says it does not exist
        (with "Did you mean"), not that the rule ends too early."""
        if text in {s.name for s in self.store.list()}:
            return self.saved(text)
        try:
            return self.rule(text)
        except SegmentError:
            if re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]{0,63}", text.strip()):
                self.store.get(text.strip())  # NotFound: "segment '...' does not exist. Saved segments: ..."
            raise

    def as_of(self, as_of: dt.date | str | None = None) -> dt.date:
        """``as_of`` or the date of the stored features."""
        return self.store.as_of(as_of)

    # -- membership ---------------------------------------------------------------------------
    def flags(self, segment: Segment, as_of: dt.date | str | None = None) -> ir.Table:
        """``customer_id, member`` for every customer, as a lazy Ibis table."""
        defs = self.store.definitions()
        return segment_frame(
            self.engine, segment, as_of=self.as_of(as_of), fields=self.store.fields, segments=defs, validated=True
        )

    def members(self, segment: Segment, as_of: dt.date | str | None = None) -> ir.Table:
        """The feature rows of the members, as a lazy Ibis table."""
        flags = self.flags(segment, as_of)
        return self.engine.table(FEATURES_TABLE).join(flags.filter(flags.member).select("customer_id"), "customer_id")

    def member_ids(self, segment: Segment, as_of: dt.date | str | None = None) -> list[str]:
        """Every member's ``customer_id``, sorted."""
        flags = self.flags(segment, as_of)
        ids = flags.filter(flags.member).select("customer_id").order_by("customer_id").to_pandas()
        return [str(c) for c in ids["customer_id"]]

    def size(self, segment: Segment, as_of: dt.date | str | None = None) -> int:
        """How many customers the rule selects (one count on the engine)."""
        with time_budget(self.engine, "size"):
            return int(self.members(segment, as_of).count().to_pandas())

    def _columns(self) -> list[str]:
        present = set(self.engine.table(FEATURES_TABLE).columns)
        return [c for c in MEMBER_COLUMNS if c in present]

    def preview(
        self, segment: Segment, *, as_of: dt.date | str | None = None, sample: int = 10, overlap: bool = True
    ) -> dict[str, Any]:
        """Size, share of customers, revenue and its share, a sample, warnings and (``overlap``) shared members.

        ``rule`` is the canonical text form; ``as_of`` the date it was counted on.
        """
        day = self.as_of(as_of)
        with time_budget(self.engine, "preview"):
            members = self.members(segment, day)
            sums = {"n": ibis._.customer_id.count(), "revenue": ibis._.revenue.fill_null(0).sum()}
            got = members.aggregate(**sums).to_pandas().iloc[0]
            total = self.engine.table(FEATURES_TABLE).aggregate(**sums).to_pandas().iloc[0]
            rows = members.select(*self._columns()).order_by("customer_id").limit(sample).to_pandas()
            shared = self.overlap(segment, day, exclude=segment.name) if overlap else {}
        n, customers = int(got["n"]), int(total["n"])
        # the sum over no member is NULL, which pandas gives as NaN (truthy): 0, not "nan%"
        revenue, total_rev = (float(x) if pd.notna(x) else 0.0 for x in (got["revenue"], total["revenue"]))
        return {
            "rule": render(segment),
            "as_of": day.isoformat(),
            "size": n,
            "customers": customers,
            "share": n / customers if customers else 0.0,
            "revenue": round(revenue, 2),
            "revenue_share": revenue / total_rev if total_rev else 0.0,
            "sample": to_records(rows),
            "warnings": [i.message for i in static_issues(segment, self.store.fields)]
            + self.store.value_warnings(segment)
            + (self.store.broken_warnings("overlap") if overlap else []),
            "overlap": shared,
        }

    def overlap(
        self, segment: Segment, as_of: dt.date | str | None = None, exclude: str | None = None
    ) -> dict[str, int]:
        """Members shared with each usable saved segment (but ``exclude``), all counted in one query.

        Broken saved segments are left out (:attr:`SegmentStore.broken`).
        """
        saved = self.store.definitions()
        others = {name: seg for name, seg in saved.items() if name != exclude}
        if not others:
            return {}
        day = self.as_of(as_of)
        theirs = segment_flags(self.engine, others, as_of=day, fields=self.store.fields, saved=saved, validated=True)
        mine = self.flags(segment, day)
        both = theirs.join(mine.filter(mine.member).select("customer_id"), "customer_id")
        counts = both.aggregate(**{f"s__{i}": both[f"s__{i}"].cast("int64").sum() for i in range(len(others))})
        row = counts.to_pandas().iloc[0]
        return {name: int(row[f"s__{i}"] or 0) for i, name in enumerate(others)}

    def diff(self, name: str, segment: Segment, *, as_of: dt.date | str | None = None) -> dict[str, Any]:
        """How many customers would enter and exit the saved segment ``name`` if ``segment`` were saved."""
        day = self.as_of(as_of)
        old = self.flags(self.saved(name), day).rename(was="member")
        new = self.flags(segment, day)
        j = old.join(new, "customer_id")
        enter, leave = ~j.was & j.member, j.was & ~j.member
        with time_budget(self.engine, f"segment '{name}' diff"):
            counts = j.aggregate(
                before=j.was.cast("int64").sum(), after=j.member.cast("int64").sum(), stay=(j.was & j.member).sum()
            )
            row = counts.to_pandas().iloc[0]
            moved = j.filter(enter | leave).select("customer_id", entered=enter).order_by("customer_id").to_pandas()
        return {
            "as_of": day.isoformat(),
            "before": int(row["before"] or 0),
            "after": int(row["after"] or 0),
            "enter": [str(c) for c in moved.loc[moved["entered"].astype(bool), "customer_id"]],
            "exit": [str(c) for c in moved.loc[~moved["entered"].astype(bool), "customer_id"]],
            "stay": int(row["stay"] or 0),
        }

    def members_page(
        self,
        name: str,
        *,
        page: int = 1,
        size: int = 50,
        as_of: dt.date | str | None = None,
        sort: str = "customer_id",
        desc: bool = False,
        search: str = "",
    ) -> dict[str, Any]:
        """One page of a saved segment's members (``page`` from 1, at most :data:`PAGE_SIZE_MAX`).

        ``sort`` is one of :data:`MEMBER_COLUMNS` (ties broken by customer id, ``desc`` for largest
        first); ``search`` keeps the members whose customer id contains it or whose country or
        region starts with it, ignoring case. ``total`` counts the members that match the search,
        ``members`` all of them.
        """
        columns = self._columns()
        if sort not in columns:
            raise InvalidParameterError(f"members: cannot sort by '{sort}'. Expected one of {columns}; got {sort!r}.")
        size = max(1, min(int(size), PAGE_SIZE_MAX))
        page = max(1, int(page))
        day = self.as_of(as_of)
        text = search.strip().lower()[:100]
        with time_budget(self.engine, f"segment '{name}' members"):
            members = self.members(self.saved(name), day)
            everyone = int(members.count().to_pandas())
            if text:
                found = members.customer_id.lower().contains(text)
                for column in ("country", "region"):
                    if column in columns:
                        found = found | members[column].lower().startswith(text)
                members = members.filter(found)
            total = int(members.count().to_pandas()) if text else everyone
            key = ibis.desc(sort) if desc else ibis.asc(sort)
            order = [key] if sort == "customer_id" else [key, ibis.asc("customer_id")]
            rows = members.select(*columns).order_by(order).limit(size, offset=(page - 1) * size)
            records = to_records(rows.to_pandas())
        pages = max(1, -(-total // size))
        return {
            "name": name,
            "as_of": day.isoformat(),
            "page": page,
            "size": size,
            "total": total,
            "members": everyone,
            "pages": pages,
            "sort": sort,
            "desc": desc,
            "search": text,
            "rows": records,
        }

    # -- one customer -------------------------------------------------------------------------
    def explain(self, name: str, customer_id: str, as_of: dt.date | str | None = None) -> dict[str, Any]:
        """Each condition of the saved segment ``name`` with the customer's value and whether it held."""
        from shopseg.rules.evaluate import explain_segment
        from shopseg.segments.customer_view import customer_profile

        segment = self.saved(name)
        day = self.as_of(as_of)
        profile, events, orders = customer_profile(self.store, customer_id)
        steps = explain_segment(
            segment,
            profile,
            events,
            as_of=day,
            fields=self.store.fields,
            segments=self.store.definitions(),
            orders=orders,
            validated=True,
        )
        return {
            "name": name,
            "customer_id": customer_id,
            "as_of": day.isoformat(),
            "member": bool(steps[0].held) if steps else False,
            "steps": [
                {
                    "path": s.path,
                    "depth": s.depth,
                    "condition": s.condition,
                    "value": plain(s.value),
                    "held": bool(s.held),
                }
                for s in steps
            ],
        }

    # -- export -------------------------------------------------------------------------------
    def export_csv(
        self, name: str, *, consent: str = "email_marketing", as_of: dt.date | str | None = None
    ) -> tuple[Iterator[str], dict[str, int]]:
        """A consent-filtered CSV of a saved segment's members, and how many were left out.

        The campaign export decides who may be exported (:func:`~shopseg.export.build_audience`:
        consent history, email present) and its minimum segment size applies; cells a
        spreadsheet would run as formulas are neutralised (:mod:`shopseg.export.spreadsheet`).
        """
        from shopseg.export import AudienceTooSmallError, build_audience, format_audience
        from shopseg.export.spreadsheet import write_csv

        if consent not in _CHANNELS:
            raise InvalidParameterError(
                f"export: unknown consent '{consent}'. Expected one of {sorted(_CHANNELS)}; got {consent!r}."
            )
        ids = self.member_ids(self.saved(name), as_of)
        audience = build_audience(self.store.workspace, ids, channel=_CHANNELS[consent], segment=name)
        minimum = int(get_setting("export_min_segment_size"))
        if len(audience.included) < minimum:
            raise AudienceTooSmallError(
                f"export: segment '{name}' has {len(audience.included):,} consented members; "
                f"expected at least {minimum:,} (setting export_min_segment_size)."
            )
        table = format_audience(audience, "csv").sort_values("customer_id")
        stats = {"members": audience.members, "exported": len(table), "left_out": audience.members - len(table)}
        return iter([write_csv(table) or ""]), stats


def to_records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of a DataFrame as JSON-ready dicts (:func:`plain` values)."""
    return [{str(k): plain(v) for k, v in row.items()} for row in df.to_dict("records")]


def plain(value: Any) -> Any:
    """A JSON value: NaN and NaT -> None, dates -> ISO text, NumPy scalars -> Python numbers.

    >>> plain(float("nan")), plain(dt.date(2024, 6, 30)), plain(pd.NaT)
    (None, '2024-06-30', None)
    """
    if value is None or value is pd.NaT or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, pd.Timestamp | dt.datetime | dt.date):
        return value.isoformat()
    if hasattr(value, "item"):
        return plain(value.item())
    return value
