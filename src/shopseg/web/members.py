"""Segment builder and segment detail: check, preview, members (paged), explain, consent-aware export.

Sizes and shares are counted in the database (one aggregate over the compiled
rule); members come back one page at a time, ordered by ``customer_id``, so a
segment of a million customers costs one page of rows per request. Errors of
the rule language keep their position: :func:`issue_positions` turns each
:class:`~shopseg.errors.Issue` message (``line L, col C: ...``) into a
``{line, col, length, message}`` dict the builder underlines in place.
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
from shopseg.errors import InvalidParameterError, Issue, SegmentError
from shopseg.export import AudienceTooSmallError, build_audience, format_audience
from shopseg.export.spreadsheet import write_csv
from shopseg.features import FEATURES_TABLE

if TYPE_CHECKING:
    from shopseg.engine import Engine
    from shopseg.rules.nodes import Segment
    from shopseg.segments.definitions import SegmentStore

__all__ = [
    "issue_positions",
    "preview_rule",
    "members_page",
    "explain_member",
    "export_rows",
    "PAGE_SIZE_MAX",
    "to_records",
    "rule_error",
]

PAGE_SIZE_MAX = 200
_MEMBER_COLUMNS = ["customer_id", "orders", "revenue", "last_order_at", "country", "region"]
_CHANNELS = {"email_marketing": "email", "sms_marketing": "sms"}
_POSITION = re.compile(r"^line (\d+), col (\d+): (.*?)(?:\n  (.*)\n  ( *)(\^+))?$", re.S)


def issue_positions(issues: list[Issue]) -> list[dict[str, Any]]:
    """Each issue as the API's error item ``{path, code, message}`` plus ``what, line, col, length``.

    ``what`` is the message without its position and caret; ``line``/``col``
    (1-based) and ``length`` are None/0 when the issue has no position.

    >>> issue_positions([Issue("/", "syntax", "line 1, col 8: unexpected 'x'.\\n  orders x 3\\n         ^")])[0]["col"]
    8
    """
    out = []
    for issue in issues:
        item: dict[str, Any] = {
            "path": issue.path,
            "code": issue.code,
            "message": issue.message,
            "what": issue.message,
            "line": None,
            "col": None,
            "length": 0,
        }
        m = _POSITION.match(issue.message)
        if m:
            item.update(
                what=m.group(3), line=int(m.group(1)), col=int(m.group(2)), length=len(m.group(6)) if m.group(6) else 1
            )
        out.append(item)
    return out


def _members(store: SegmentStore, engine: Engine, segment: Segment, as_of: dt.date | str | None) -> Any:
    from shopseg.rules.compile import segment_frame

    flags = segment_frame(
        engine, segment, as_of=store.as_of(as_of), fields=store.fields, segments=store.usable(segment)
    )
    feats = engine.table(FEATURES_TABLE)
    return feats.join(flags.filter(flags.member).select("customer_id"), "customer_id")


def preview_rule(
    store: SegmentStore, engine: Engine, definition: str, *, as_of: dt.date | str | None = None, sample: int = 10
) -> dict[str, Any]:
    """Size, share of customers, revenue share and a sample of a rule, counted in the database.

    Raises :class:`~shopseg.errors.SegmentError` (with positioned issues) for a bad rule.
    """
    from shopseg.rules.render import render
    from shopseg.rules.validate import static_issues

    seg = store.check(definition)
    with time_budget(engine, "preview"):
        members = _members(store, engine, seg, as_of)
        feats = engine.table(FEATURES_TABLE)
        size = (
            members.aggregate(n=ibis._.customer_id.count(), revenue=ibis._.revenue.fill_null(0).sum())
            .to_pandas()
            .iloc[0]
        )
        total = (
            feats.aggregate(n=ibis._.customer_id.count(), revenue=ibis._.revenue.fill_null(0).sum()).to_pandas().iloc[0]
        )
        rows = members.select(*_MEMBER_COLUMNS).order_by("customer_id").limit(sample).to_pandas()
    n, customers = int(size["n"]), int(total["n"])
    revenue, total_rev = float(size["revenue"] or 0.0), float(total["revenue"] or 0.0)
    return {
        "rule": render(seg),
        "size": n,
        "customers": customers,
        "share": n / customers if customers else 0.0,
        "revenue_share": revenue / total_rev if total_rev else 0.0,
        "sample": to_records(rows),
        "warnings": [i.message for i in static_issues(seg, store.fields)] + store.value_warnings(seg),
    }


def members_page(
    store: SegmentStore,
    engine: Engine,
    name: str,
    *,
    page: int = 1,
    size: int = 50,
    as_of: dt.date | str | None = None,
    sort: str = "customer_id",
    desc: bool = False,
    search: str = "",
) -> dict[str, Any]:
    """One page of a saved segment's members (``page`` from 1).

    ``sort`` is one of the member columns (ties broken by customer id); ``search`` keeps the
    members whose customer id contains it, or whose country, region or city starts with it
    (case-insensitive). ``total`` counts the members that match the search.
    """
    if sort not in _MEMBER_COLUMNS:
        raise InvalidParameterError(
            f"members: cannot sort by '{sort}'. Expected one of {_MEMBER_COLUMNS}; got {sort!r}."
        )
    size = max(1, min(int(size), PAGE_SIZE_MAX))
    page = max(1, int(page))
    with time_budget(engine, f"segment '{name}' members"):
        members = _members(store, engine, store.get(name).segment, as_of)
        all_members = int(members.count().to_pandas())
        text = search.strip().lower()[:100]
        if text:
            members = members.filter(
                members.customer_id.lower().contains(text)
                | members.country.lower().startswith(text)
                | members.region.lower().startswith(text)
                | members.city.lower().startswith(text)
            )
        total = int(members.count().to_pandas()) if text else all_members
        key = ibis.desc(sort) if desc else ibis.asc(sort)
        order = [key, "customer_id"] if sort != "customer_id" else [key]
        rows = members.select(*_MEMBER_COLUMNS).order_by(order).limit(size, offset=(page - 1) * size).to_pandas()
    return {
        "name": name,
        "page": page,
        "size": size,
        "total": total,
        "members": all_members,
        "pages": max(1, -(-total // size)),
        "sort": sort,
        "desc": desc,
        "search": text,
        "rows": to_records(rows),
    }


def explain_member(
    store: SegmentStore, name: str, customer_id: str, as_of: dt.date | str | None = None
) -> dict[str, Any]:
    """Each condition of ``name`` with the customer's value and whether it held."""
    from shopseg.rules.evaluate import explain_segment

    profile, events, orders = store.profile(customer_id)
    steps = explain_segment(
        store.get(name).segment,
        profile,
        events,
        as_of=store.as_of(as_of),
        fields=store.fields,
        segments=store.definitions(),
        orders=orders,
    )
    return {
        "name": name,
        "customer_id": customer_id,
        "member": bool(steps[0].held) if steps else False,
        "steps": [
            {"depth": s.depth, "condition": s.condition, "value": _plain(s.value), "held": bool(s.held)} for s in steps
        ],
    }


def export_rows(
    store: SegmentStore,
    engine: Engine,
    name: str,
    *,
    consent: str = "email_marketing",
    as_of: dt.date | str | None = None,
) -> tuple[Iterator[str], dict[str, int]]:
    """A consent-filtered CSV of a saved segment's members, and how many were left out.

    The campaign export decides who may be exported (:func:`~shopseg.export.build_audience`:
    consent history, email present) and its minimum segment size applies; cells a
    spreadsheet would run as formulas are neutralised (:mod:`shopseg.export.spreadsheet`).
    """
    if consent not in _CHANNELS:
        raise InvalidParameterError(
            f"export: unknown consent '{consent}'. Expected one of {sorted(_CHANNELS)}; got {consent!r}."
        )
    members = _members(store, engine, store.get(name).segment, as_of).select("customer_id")
    ids = members.order_by("customer_id").to_pandas()["customer_id"].tolist()
    audience = build_audience(store.workspace, ids, channel=_CHANNELS[consent], segment=name)
    minimum = int(get_setting("export_min_segment_size"))
    if len(audience.included) < minimum:
        raise AudienceTooSmallError(
            f"export: segment '{name}' has {len(audience.included):,} consented members; "
            f"expected at least {minimum:,} (setting export_min_segment_size)."
        )
    table = format_audience(audience, "csv").sort_values("customer_id")
    stats = {"members": audience.members, "exported": len(table), "left_out": audience.members - len(table)}
    return iter([write_csv(table) or ""]), stats


def rule_error(exc: SegmentError) -> dict[str, Any]:
    """A :class:`SegmentError` in the API's error shape, each item with its line/col for the builder."""
    items = issue_positions(exc.issues) or [{"code": "SegmentError", "message": str(exc), "what": str(exc)}]
    error = "; ".join(i["message"] for i in items) + (f" Hint: {exc.hint}" if exc.hint else "")
    return {"ok": False, "error": error, "errors": items, "status": exc.status, "hint": exc.hint}


def to_records(df: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: _plain(v) for k, v in row.items()} for row in df.to_dict("records")]


def _plain(value: Any) -> Any:
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, pd.Timestamp | dt.datetime | dt.date):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    if value is pd.NaT:
        return None
    return value
