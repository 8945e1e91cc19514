"""Right to erasure: remove one customer from every table of the workspace, and from registered stores.

``forget_customer`` discovers the tables from DuckDB's catalog, so tables added
later are covered without changes here:

1. rows of every table with a ``customer_id`` column are deleted (canonical
   tables, features, RFM, lifecycle, predictions, segment snapshots, experiment
   assignments, consent events, ...);
2. rows of tables with an ``order_id`` column (``order_lines``) whose order was
   the customer's, and rows with an ``anonymous_id`` (device) the customer used;
3. rows of tables with an ``email`` column but no ``customer_id`` (mailing lists,
   sign-ups) holding the customer's address (compared trimmed and lower-cased);
4. in the remaining text columns (JSON properties, ingest reports) every
   occurrence of the id or the address as a whole word is replaced by ``[erased]``.

When another customer account has the same address, the address is left where it
is (it is that account's data too) and the report counts the shared accounts;
erase the other account by its own id if it is the same person.

Then every function registered with :func:`register_eraser` (the live profile
store registers its own) is called with the id. An audit row in
``privacy_audit`` records what was done with a salted SHA-256 of the id, never
the id or the address. The salt is random per workspace; keeping it lets an
auditor check "was customer X erased?" given X, but not list who was.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from shopseg.errors import InvalidParameterError, NotFound, ShopsegError
from shopseg.workspace import META_TABLE, Workspace

__all__ = ["AUDIT_TABLE", "ERASERS", "ErasureReport", "register_eraser", "unregister_eraser", "forget_customer",
           "subject_hash", "record_audit", "customer_tables"]  # fmt: skip

AUDIT_TABLE = "privacy_audit"
REDACTED = "[erased]"
#: name -> eraser(customer_id) returning the number of records it removed
ERASERS: dict[str, Callable[[str], int]] = {}
_KEEP = {AUDIT_TABLE, META_TABLE}
_DDL = f"""CREATE TABLE IF NOT EXISTS "{AUDIT_TABLE}" (recorded_at TIMESTAMP, action VARCHAR, subject_hash VARCHAR,
    detail VARCHAR)"""


def register_eraser(name: str, eraser: Callable[[str], int]) -> None:
    """Register a store outside the workspace (e.g. live profiles) that must forget customers too."""
    if not callable(eraser):
        raise InvalidParameterError(f"register_eraser: eraser '{name}' must be callable. Got {eraser!r}.")
    ERASERS[name] = eraser


def unregister_eraser(name: str) -> None:
    """Remove a registered eraser (no error when absent)."""
    ERASERS.pop(name, None)


@dataclass
class ErasureReport:
    """Rows removed per table, text cells redacted, records removed by each registered eraser."""

    subject_hash: str
    deleted: dict[str, int] = field(default_factory=dict)
    redacted: dict[str, int] = field(default_factory=dict)
    external: dict[str, int] = field(default_factory=dict)
    shared_email_accounts: int = 0

    @property
    def total(self) -> int:
        return sum(self.deleted.values()) + sum(self.redacted.values()) + sum(self.external.values())


def _salt(ws: Workspace) -> str:
    salt = ws.meta("privacy_salt")
    if salt is None:
        salt = secrets.token_hex(16)
        ws.set_meta("privacy_salt", salt)
    return salt


def subject_hash(ws: Workspace, customer_id: str) -> str:
    """Salted SHA-256 of a customer id (the workspace's salt), as stored in the audit log."""
    return hashlib.sha256(f"{_salt(ws)}:{customer_id}".encode()).hexdigest()


def record_audit(ws: Workspace, action: str, subject: str | None, detail: dict[str, object]) -> None:
    """Append one row to ``privacy_audit`` (``subject`` is already a hash, or ``None``)."""
    ws.con.execute(_DDL)
    at = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    ws.con.execute(f'INSERT INTO "{AUDIT_TABLE}" VALUES (?, ?, ?, ?)', [at, action, subject, json.dumps(detail, sort_keys=True)])


def _columns(ws: Workspace) -> dict[str, dict[str, str]]:
    rows = ws.con.execute(
        "SELECT c.table_name, c.column_name, c.data_type FROM duckdb_columns() c JOIN duckdb_tables() t "
        "USING (database_name, schema_name, table_name) WHERE NOT c.internal AND c.schema_name = 'main' "
        "AND c.database_name = current_database()"
    ).fetchall()  # base tables of this workspace only: views follow their tables
    out: dict[str, dict[str, str]] = {}
    for table, column, dtype in rows:
        if table not in _KEEP:
            out.setdefault(table, {})[column] = dtype
    return out


def customer_tables(ws: Workspace) -> list[str]:
    """Every table with a ``customer_id`` column (the catalog decides, not a list)."""
    return sorted(t for t, cols in _columns(ws).items() if "customer_id" in cols)


def _exists(ws: Workspace, customer_id: str) -> bool:
    for table in customer_tables(ws):
        row = ws.con.execute(f'SELECT 1 FROM "{table}" WHERE customer_id = ? LIMIT 1', [customer_id]).fetchone()
        if row:
            return True
    return False


def _word(value: str) -> str:
    return rf"(^|[^A-Za-z0-9_.@-]){re.escape(value)}($|[^A-Za-z0-9_.@-])"


def _erase_rows(ws: Workspace, customer_id: str, report: ErasureReport) -> None:
    con, cols = ws.con, _columns(ws)
    emails = [r[0] for r in con.execute(
        "SELECT DISTINCT lower(trim(email)) FROM customers WHERE customer_id = ? AND email IS NOT NULL",
        [customer_id]).fetchall()]  # fmt: skip
    shared = con.execute("SELECT DISTINCT customer_id FROM customers WHERE customer_id <> ? AND lower(trim(email)) "
                         "IN (SELECT unnest(?))", [customer_id, emails]).fetchall() if emails else []  # fmt: skip
    if shared:  # another account with the same address: its rows stay (erase it by its own id)
        report.shared_email_accounts = len(shared)
        emails = []
    orders = con.execute("SELECT DISTINCT order_id FROM orders WHERE customer_id = ?", [customer_id]).df()
    devices = sorted({r[0] for t, c in cols.items() if "customer_id" in c and "anonymous_id" in c
                      for r in con.execute(f'SELECT DISTINCT anonymous_id FROM "{t}" WHERE customer_id = ? '
                                           "AND anonymous_id IS NOT NULL", [customer_id]).fetchall()})  # fmt: skip
    con.register("_shopseg_forget_orders", orders)
    try:
        for table, c in sorted(cols.items()):
            n = 0
            if "customer_id" not in c and "order_id" in c and len(orders):
                n += con.execute(f'DELETE FROM "{table}" WHERE order_id IN (SELECT order_id FROM _shopseg_forget_orders)').fetchone()[0]
            if "anonymous_id" in c and devices:  # the same device's anonymous browsing is theirs too
                n += con.execute(f'DELETE FROM "{table}" WHERE anonymous_id IN (SELECT unnest(?))', [devices]).fetchone()[0]
            if "customer_id" in c:
                n += con.execute(f'DELETE FROM "{table}" WHERE customer_id = ?', [customer_id]).fetchone()[0]
            if "email" in c and emails and c["email"] == "VARCHAR" and "customer_id" not in c:
                n += con.execute(f'DELETE FROM "{table}" WHERE lower(trim(email)) IN (SELECT unnest(?))', [emails]).fetchone()[0]
            if n:
                report.deleted[table] = int(n)
    finally:
        con.unregister("_shopseg_forget_orders")
    for table, c in sorted(_columns(ws).items()):
        for column, dtype in c.items():
            if dtype != "VARCHAR":
                continue
            for value in [customer_id, *emails]:
                pattern = _word(value)
                n = con.execute(
                    f'UPDATE "{table}" SET "{column}" = regexp_replace("{column}", ?, \'\\1{REDACTED}\\2\', \'gi\') '
                    f'WHERE regexp_matches("{column}", ?, \'i\')', [pattern, pattern]).fetchone()[0]  # fmt: skip
                if n:
                    report.redacted[f"{table}.{column}"] = report.redacted.get(f"{table}.{column}", 0) + int(n)


def forget_customer(ws: Workspace, customer_id: str, *, reason: str = "erasure request") -> ErasureReport:
    """Erase ``customer_id`` everywhere; returns what was removed. See the module docstring.

    Raises
    ------
    NotFound
        When no table and no registered store holds that customer (nothing is logged).
    ShopsegError
        When a registered eraser fails (the workspace part is already erased and logged).
    """
    if not customer_id:
        raise InvalidParameterError("forget: the customer id must be a non-empty string.")
    report = ErasureReport(subject_hash(ws, customer_id))
    in_workspace = _exists(ws, customer_id)
    if in_workspace:
        with ws.transaction():
            _erase_rows(ws, customer_id, report)
            record_audit(ws, "forget", report.subject_hash, {"reason": reason, "deleted": report.deleted,
                                                             "redacted": report.redacted,
                                                             "shared_email_accounts": report.shared_email_accounts})  # fmt: skip
    failed = []
    for name, eraser in sorted(ERASERS.items()):
        try:
            report.external[name] = int(eraser(customer_id))
        except Exception as exc:  # noqa: BLE001 - every store must be tried; failures are reported, not hidden
            failed.append(f"{name}: {type(exc).__name__}: {exc}")
    if not in_workspace and not failed and not any(report.external.values()):
        raise NotFound(f"customer '{customer_id}': not found in any table with a customer_id column "
                       f"({', '.join(customer_tables(ws))}) nor in a registered store. Nothing was erased.")  # fmt: skip
    if report.external or failed:
        record_audit(ws, "forget-external", report.subject_hash, {"erased": report.external, "failed": failed})
    ws.con.execute("CHECKPOINT")
    if failed:
        raise ShopsegError(f"customer erased from the workspace, but {len(failed)} registered store(s) failed: "
                           f"{'; '.join(failed)}. Fix them and rerun `shopseg forget` for those stores.")  # fmt: skip
    return report
