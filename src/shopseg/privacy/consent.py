"""Consent per purpose and channel, with history: the ``consent_events`` table.

Every grant or withdrawal is one row ``customer_id, purpose, granted, source,
recorded_at``; nothing is overwritten, so the history answers "who allowed what,
when, through which source". The **effective** consent of a customer for a
purpose is, in order:

1. the latest ``consent_events`` row for that purpose;
2. for ``email_marketing``, an ``unsubscribe`` event in the events table newer
   than that row withdraws it;
3. otherwise the flag on the ``customers`` table (``email_marketing``,
   ``sms_marketing``, ``profiling``; ``ad_audiences`` falls back to ``profiling``);
4. otherwise no consent (opt-in by default).

>>> import tempfile, os
>>> from shopseg.workspace import Workspace
>>> ws = Workspace.init(os.path.join(tempfile.mkdtemp(), "ws.duckdb"))
>>> _ = ws.con.execute("INSERT INTO customers (customer_id, email_marketing) VALUES ('a', true), ('b', false)")
>>> record_consent(ws, "b", "email_marketing", True, source="preference centre")
>>> effective_consent(ws, "email_marketing")[["customer_id", "granted", "basis"]].values.tolist()
[['a', True, 'profile'], ['b', True, 'consent event']]
>>> ws.close()
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from shopseg.errors import InvalidParameterError, NotFound, did_you_mean
from shopseg.workspace import Workspace

__all__ = [
    "CONSENT_TABLE",
    "PURPOSES",
    "CHANNELS",
    "record_consent",
    "consent_history",
    "effective_consent",
    "ensure_consent_table",
]

CONSENT_TABLE = "consent_events"
#: purpose -> the customers column it falls back to
PURPOSES: dict[str, str] = {
    "email_marketing": "email_marketing",
    "sms_marketing": "sms_marketing",
    "profiling": "profiling",
    "ad_audiences": "profiling",
}
#: export channel -> purpose it needs
CHANNELS: dict[str, str] = {"email": "email_marketing", "sms": "sms_marketing", "ads": "ad_audiences"}

_DDL = f"""CREATE TABLE IF NOT EXISTS "{CONSENT_TABLE}" (
    customer_id VARCHAR, purpose VARCHAR, granted BOOLEAN, source VARCHAR, recorded_at TIMESTAMP)"""


def ensure_consent_table(ws: Workspace) -> None:
    """Create ``consent_events`` if the workspace has none yet (read-only workspaces: a temporary empty one)."""
    if ws.read_only:
        if not ws.has_table(CONSENT_TABLE):
            ws.con.execute(_DDL.replace("CREATE TABLE", "CREATE TEMP TABLE"))
        return
    ws.con.execute(_DDL)


def check_purpose(purpose: str) -> str:
    """Return ``purpose`` or raise :class:`InvalidParameterError` naming the known ones."""
    if purpose not in PURPOSES:
        raise InvalidParameterError(
            f"consent: unknown purpose '{purpose}'. Expected one of {sorted(PURPOSES)}.{did_you_mean(purpose, PURPOSES)}"
        )
    return purpose


def _known_customer(ws: Workspace, customer_id: str) -> None:
    row = ws.con.execute("SELECT count(*) FROM customers WHERE customer_id = ?", [customer_id]).fetchone()
    if not row or not row[0]:
        raise NotFound(f"customer '{customer_id}': not in the customers table. Expected an existing customer_id.")


def record_consent(
    ws: Workspace,
    customer_id: str,
    purpose: str,
    granted: bool,
    *,
    source: str = "shopseg",
    at: dt.datetime | None = None,
) -> None:
    """Append a grant (``granted=True``) or withdrawal of ``purpose`` for one customer."""
    check_purpose(purpose)
    _known_customer(ws, customer_id)
    ensure_consent_table(ws)
    at = at or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    ws.con.execute(
        f'INSERT INTO "{CONSENT_TABLE}" VALUES (?, ?, ?, ?, ?)', [customer_id, purpose, bool(granted), source, at]
    )


def consent_history(ws: Workspace, customer_id: str) -> pd.DataFrame:
    """Every consent event of one customer, oldest first."""
    ensure_consent_table(ws)
    return ws.con.execute(
        f'SELECT purpose, granted, source, recorded_at FROM "{CONSENT_TABLE}" WHERE customer_id = ? '
        "ORDER BY recorded_at, purpose",
        [customer_id],
    ).df()


def effective_consent(ws: Workspace, purpose: str) -> pd.DataFrame:
    """Effective consent of every customer for ``purpose``.

    Returns
    -------
    pandas.DataFrame
        ``customer_id, granted, basis`` with ``basis`` one of ``consent event``,
        ``unsubscribe event``, ``profile`` or ``default``; sorted by customer_id.
    """
    column = PURPOSES[check_purpose(purpose)]
    ensure_consent_table(ws)
    unsubscribe = (
        "(SELECT customer_id, max(occurred_at) AS at FROM events WHERE type = 'unsubscribe' "
        "AND customer_id IS NOT NULL GROUP BY 1)"
        if purpose == "email_marketing"
        else "(SELECT NULL::VARCHAR AS customer_id, NULL::TIMESTAMP AS at WHERE false)"
    )
    return ws.con.execute(
        f"""
        WITH ev AS (
            SELECT customer_id, arg_max(granted, recorded_at) AS granted, max(recorded_at) AS at
            FROM "{CONSENT_TABLE}" WHERE purpose = ? GROUP BY 1),
        un AS {unsubscribe}
        SELECT c.customer_id,
            CASE WHEN un.at IS NOT NULL AND (ev.at IS NULL OR un.at > ev.at) THEN false
                 WHEN ev.granted IS NOT NULL THEN ev.granted
                 ELSE coalesce(c."{column}", false) END AS granted,
            CASE WHEN un.at IS NOT NULL AND (ev.at IS NULL OR un.at > ev.at) THEN 'unsubscribe event'
                 WHEN ev.granted IS NOT NULL THEN 'consent event'
                 WHEN c."{column}" IS NOT NULL THEN 'profile' ELSE 'default' END AS basis
        FROM customers c LEFT JOIN ev USING (customer_id) LEFT JOIN un USING (customer_id)
        ORDER BY c.customer_id
        """,
        [purpose],
    ).df()
