"""One customer for the dashboard's customer page: profile, orders, events, segments, predictions.

Every read is keyed by ``customer_id`` (one customer's rows), so the page costs
the same at 10 000 or 10 million customers; the timeline shows the newest
:data:`TIMELINE_ROWS` orders and events. Segment membership comes from three
places: the rule evaluated now on the profile (the same evaluator as explain),
the dated snapshots of ``shopseg segment refresh`` (entries and exits between
snapshots) and, in live mode, the entry/exit log of the live engine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from shopseg.errors import NotFound, SegmentError
from shopseg.rules.fields import PREDICTIONS_TABLE
from shopseg.segments.customer_view import customer_profile

if TYPE_CHECKING:
    from shopseg.segments.definitions import SegmentStore
    from shopseg.workspace import Workspace

__all__ = ["customer_view", "unknown_customer", "TIMELINE_ROWS"]

TIMELINE_ROWS = 100
_PREDICTED = ["p_alive", "clv", "clv_p10", "clv_p90", "churn_probability", "churn_risk", "expected_purchases"]
_PREDICTED += ["p_next_order", "next_order_date", "next_order_p10_date", "next_order_p90_date"]


def unknown_customer(ws: Workspace, customer_id: str) -> str | None:
    """The page's message when ``customer_id`` is not a customer of this store, else None."""
    for table in ("customers", "customer_features"):
        if (
            ws.has_table(table)
            and ws.con.execute(f'SELECT 1 FROM "{table}" WHERE customer_id = ? LIMIT 1', [customer_id]).fetchall()
        ):
            return None
    return f"No customer with id '{customer_id}'. Check the id, or open one from a segment's members."


def _one(ws: Workspace, sql: str, customer_id: str) -> pd.DataFrame:
    return ws.con.execute(sql, [customer_id]).df()


def _orders(ws: Workspace, customer_id: str) -> pd.DataFrame:
    if not ws.has_table("orders"):
        return pd.DataFrame()
    lines = "order_lines" if ws.has_table("order_lines") else None
    value = (
        "(SELECT sum(l.quantity * l.unit_price - coalesce(l.discount, 0)) FROM order_lines l "
        "WHERE l.order_id = o.order_id AND NOT coalesce(l.is_return, false))"
        if lines
        else "NULL"
    )
    return _one(
        ws,
        f"SELECT o.order_id, o.ordered_at, o.channel, o.currency, round({value}, 2) AS value, o.is_cancelled "
        f"FROM orders o WHERE o.customer_id = ? ORDER BY o.ordered_at DESC LIMIT {TIMELINE_ROWS}",
        customer_id,
    )


def _events(ws: Workspace, customer_id: str) -> pd.DataFrame:
    if not ws.has_table("events"):
        return pd.DataFrame()
    return _one(
        ws,
        "SELECT occurred_at, type, product_id, CAST(properties AS VARCHAR) AS properties FROM events "
        f"WHERE customer_id = ? ORDER BY occurred_at DESC LIMIT {TIMELINE_ROWS}",
        customer_id,
    )


def _snapshot_history(ws: Workspace, customer_id: str) -> dict[str, list[dict[str, Any]]]:
    """``segment -> [{at, kind}]``: entries and exits between the dated snapshots."""
    from shopseg.segments.definitions import SNAPSHOTS_TABLE

    if not ws.has_table(SNAPSHOTS_TABLE):
        return {}
    rows = ws.con.execute(
        f"""SELECT d.name, d.as_of, s.customer_id IS NOT NULL AS member
            FROM (SELECT DISTINCT name, as_of FROM "{SNAPSHOTS_TABLE}") d
            LEFT JOIN "{SNAPSHOTS_TABLE}" s ON s.name = d.name AND s.as_of = d.as_of AND s.customer_id = ?
            ORDER BY d.name, d.as_of""",
        [customer_id],
    ).fetchall()
    out: dict[str, list[dict[str, Any]]] = {}
    before: dict[str, bool] = {}
    for name, as_of, member in rows:
        if member != before.get(name, False):
            out.setdefault(name, []).append({"at": as_of, "kind": "entry" if member else "exit", "source": "snapshot"})
        before[name] = member
    return out


def _live_history(ws: Workspace, customer_id: str) -> dict[str, list[dict[str, Any]]]:
    from shopseg.live.storage import TRANSITIONS_TABLE

    if not ws.has_table(TRANSITIONS_TABLE):
        return {}
    out: dict[str, list[dict[str, Any]]] = {}
    for seg, kind, at in ws.con.execute(
        f'SELECT segment, kind, "at" FROM "{TRANSITIONS_TABLE}" WHERE customer_id = ? ORDER BY seq',
        [customer_id],
    ).fetchall():
        out.setdefault(seg, []).append({"at": at, "kind": kind, "source": "live"})
    return out


def _segments(store: SegmentStore, profile: dict[str, Any], events: list[Any], orders: list[Any]) -> list[Any]:
    from shopseg.rules.evaluate import evaluate_segment

    rows: list[dict[str, Any]] = []
    definitions = store.definitions()
    for name, seg in sorted(definitions.items()):
        try:
            member = bool(
                evaluate_segment(
                    seg, profile, events, as_of=store.as_of(), fields=store.fields, segments=definitions, orders=orders
                )
            )
        except SegmentError as exc:  # a rule this workspace cannot evaluate (e.g. a field not built yet)
            rows.append({"name": name, "member": None, "why": str(exc)})
            continue
        rows.append({"name": name, "member": member, "why": ""})
    return rows


def customer_view(ws: Workspace, store: SegmentStore, customer_id: str) -> dict[str, Any]:
    """Everything the customer page shows (call :func:`unknown_customer` first).

    Returns
    -------
    dict
        ``profile`` (field -> value, without the e-mail address), ``orders`` and ``events``
        (newest first, at most :data:`TIMELINE_ROWS`), ``segments`` (``name, member, why,
        history``), ``predictions`` (field -> value, empty before ``shopseg predict``) and
        ``features_error`` (why the profile is missing, e.g. features built before the customer came).
    """
    try:
        profile, events, orders = customer_profile(store, customer_id)
        features_error = None
    except NotFound as exc:  # a customer without features yet: the rest of the page still shows
        profile, events, orders, features_error = {}, [], [], str(exc)
    history = _snapshot_history(ws, customer_id)
    for seg, items in _live_history(ws, customer_id).items():
        history.setdefault(seg, []).extend(items)
    segments = _segments(store, profile, events, orders) if features_error is None else []
    for row in segments:
        row["history"] = history.get(row["name"], [])
    predictions: dict[str, Any] = {}
    if ws.has_table(PREDICTIONS_TABLE):
        df = _one(ws, f'SELECT * FROM "{PREDICTIONS_TABLE}" WHERE customer_id = ?', customer_id)
        if not df.empty:
            predictions = {c: df.iloc[0][c] for c in _PREDICTED if c in df.columns}
    shown = {k: v for k, v in profile.items() if k != "email" and k not in predictions}
    return {
        "customer_id": customer_id,
        "profile": dict(sorted(shown.items())),
        "orders": _orders(ws, customer_id),
        "events": _events(ws, customer_id),
        "segments": segments,
        "predictions": predictions,
        "features_error": features_error,
    }
