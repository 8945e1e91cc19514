"""Subject access and retention: give a customer their data; delete raw events past the retention limit."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pandas as pd

from shopseg._sql import scalar_sql
from shopseg.config import get_setting
from shopseg.errors import InvalidParameterError, NotFound
from shopseg.privacy.erasure import AUDIT_TABLE, customer_tables, record_audit, subject_hash
from shopseg.workspace import COMPACT_PENDING, Workspace

__all__ = ["export_customer_data", "customer_data_json", "apply_retention"]


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    return json.loads(df.to_json(orient="records", date_format="iso", date_unit="s"))


def export_customer_data(ws: Workspace, customer_id: str) -> dict[str, Any]:
    """Everything the workspace holds about one customer, table by table (GDPR art. 15 / 20).

    Every table with a ``customer_id`` column contributes its rows; ``order_lines``
    come through the customer's orders. The audit log is not included (it holds
    no personal data).

    Raises
    ------
    NotFound
        When no table holds the customer.
    """
    out: dict[str, Any] = {}
    for table in customer_tables(ws):
        df = ws.con.execute(f'SELECT * FROM "{table}" WHERE customer_id = ?', [customer_id]).df()
        if len(df):
            out[table] = _records(df.drop(columns="customer_id"))
    if not out:
        raise NotFound(
            f"customer '{customer_id}': no data in any table with a customer_id column. "
            "Expected an existing customer_id."
        )
    lines = ws.con.execute(
        "SELECT l.* FROM order_lines l JOIN orders o USING (order_id) WHERE o.customer_id = ? ORDER BY 1, 2",
        [customer_id],
    ).df()
    if len(lines):
        out["order_lines"] = _records(lines)
    record_audit(ws, "subject-export", subject_hash(ws, customer_id), {"tables": sorted(out)})
    return {
        "customer_id": customer_id,
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "tables": out,
    }


def customer_data_json(ws: Workspace, customer_id: str) -> str:
    """:func:`export_customer_data` as indented JSON text."""
    return json.dumps(export_customer_data(ws, customer_id), indent=2, ensure_ascii=False, default=str)


def apply_retention(
    ws: Workspace, *, days: int | None = None, as_of: str | dt.datetime | None = None, dry_run: bool = False
) -> dict[str, Any]:
    """Delete raw events older than ``days`` (default the ``event_retention_days`` setting) before ``as_of`` (now).

    Returns
    -------
    dict
        ``cutoff`` (ISO), ``deleted`` (events), ``kept``; an audit row records it unless ``dry_run``.
    """
    days = int(get_setting("event_retention_days") if days is None else days)
    if days < 0:
        raise InvalidParameterError(f"The 'days' parameter of retention must be >= 0 (0 keeps everything). Got {days}.")
    if days == 0:
        total = scalar_sql(ws.con, "SELECT count(*) FROM events")
        return {"cutoff": None, "deleted": 0, "kept": int(total)}
    try:
        end = (
            dt.datetime.fromisoformat(str(as_of)) if as_of is not None else dt.datetime.now(dt.UTC).replace(tzinfo=None)
        )
    except ValueError:
        raise InvalidParameterError(f"retention: --as-of must be an ISO date. Got {as_of!r}.") from None
    cutoff = end - dt.timedelta(days=days)
    old = int(scalar_sql(ws.con, "SELECT count(*) FROM events WHERE occurred_at < ?", [cutoff]))
    total = int(scalar_sql(ws.con, "SELECT count(*) FROM events"))
    if not dry_run and old:
        with ws.transaction():
            ws.con.execute("DELETE FROM events WHERE occurred_at < ?", [cutoff])
            ws.set_meta(COMPACT_PENDING, "retention")  # the deleted rows stay readable until `shopseg privacy compact`
            record_audit(
                ws, "retention", None, {"table": "events", "cutoff": cutoff.isoformat(), "deleted": old, "days": days}
            )
    return {
        "cutoff": cutoff.isoformat(sep=" "),
        "deleted": old,
        "kept": total - (0 if dry_run else old),
        "audit_table": AUDIT_TABLE,
    }
