"""Identity stitching in the live engine: when a call links an ``anonymousId`` to a customer, the device's
anonymous events join that customer's live profile, so live segments see the stitched history at once.

The workspace's rows follow in the same apply transaction (:mod:`shopseg.collect.materialize`); at a
restart the profiles are read from them. The anonymous history is found in the ``events`` table and in the
events waiting for the applier; the writer holds the connection lock meanwhile (taken before the state
lock, as everywhere), so none is in flight between the two.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from shopseg.collect.segment_spec import COLLECT_KEY

if TYPE_CHECKING:
    from shopseg.live.runtime import LiveEngine

__all__ = ["has_links", "visible", "anonymous_history"]


def _ops(event: Mapping[str, Any]) -> Mapping[str, Any]:
    props = event.get("properties")
    ops = props.get(COLLECT_KEY) if isinstance(props, dict) else None
    return ops if isinstance(ops, dict) else {}


def has_links(events: Sequence[Mapping[str, Any]]) -> bool:
    """Does any event link a device to a customer?"""
    return any("link" in _ops(e) for e in events)


def visible(event: Mapping[str, Any]) -> Mapping[str, Any]:
    """The event as live rules see it: without the collection work it carries (traits stay out of memory)."""
    props = event.get("properties")
    if not isinstance(props, dict) or COLLECT_KEY not in props:
        return event
    rest = {k: v for k, v in props.items() if k != COLLECT_KEY}
    return {**event, "properties": rest or None}


def _props(text: str | None) -> dict[str, Any] | None:
    if not text:
        return None
    data = json.loads(text)
    data.pop(COLLECT_KEY, None)
    return data or None


def anonymous_history(engine: LiveEngine, batch: Sequence[Mapping[str, Any]], index: int) -> list[dict[str, Any]]:
    """The anonymous events of the device ``batch[index]`` links, as events of its customer (oldest first).

    The events of the write batch before ``index`` count too. The caller holds both engine locks.
    """
    event = batch[index]
    anon, cid = _ops(event).get("link"), event.get("customer_id")
    if anon is None or cid is None:
        return []
    rows = engine.workspace.con.execute(
        "SELECT event_id, type, occurred_at, product_id, properties FROM events "
        "WHERE anonymous_id = ? AND customer_id IS NULL ORDER BY occurred_at, event_id",
        [anon],
    ).fetchall()
    out = [
        {
            "event_id": r[0],
            "customer_id": cid,
            "type": r[1],
            "occurred_at": r[2],
            "product_id": r[3],
            "properties": _props(r[4]),
        }
        for r in rows
    ]
    out += [
        {
            "event_id": r[0],
            "customer_id": cid,
            "type": r[3],
            "occurred_at": r[4],
            "product_id": r[5],
            "properties": _props(r[6]),
        }
        for r in engine._events
        if r[2] == anon and r[1] is None
    ]
    out += [
        {**visible(e), "customer_id": cid}
        for e in batch[:index]
        if e.get("anonymous_id") == anon and e.get("customer_id") is None
    ]
    return out
