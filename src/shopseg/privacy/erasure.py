"""Right to erasure: remove one customer from every store of the workspace (tables, live journal, file bytes).

``forget_customer`` discovers the tables from DuckDB's catalog, so tables added
later are covered without changes here:

1. rows of every table with a ``customer_id`` column are deleted (canonical
   tables, features, RFM, lifecycle, predictions, segment snapshots, experiment
   assignments, consent events, ...);
2. rows of tables with an ``order_id`` column (``order_lines``) whose order was
   the customer's, and rows with an ``anonymous_id`` (device) the customer used,
   in the tables or in the live journal;
3. rows of tables with an ``email`` column but no ``customer_id`` (mailing lists,
   sign-ups) holding the customer's address (compared trimmed and lower-cased);
4. in the remaining text columns (JSON properties, ingest reports) every
   occurrence of the id or the address as a whole word is replaced by ``[erased]``.

The same transaction records tombstones (:mod:`shopseg.privacy.tombstones`) and an
audit row (:mod:`shopseg.privacy.audit`, the reason redacted). Then the live event
journal beside the workspace (events acknowledged but not applied yet, e.g. when the
server was killed) is rewritten without the customer's and their devices' events and
with the mentions redacted; the tombstones make a replay skip those events if a crash
comes first. Then the workspace file is rewritten into a fresh one
(:meth:`~shopseg.workspace.Workspace.compact`): DuckDB keeps deleted rows and old
versions in the file until then (setting ``erasure_compact``).

When another customer account has the same address, the address is left where it
is (it is that account's data too) and the report counts the shared accounts;
erase the other account by its own id if it is the same person.

Every function registered with :func:`register_eraser` is called with the id too.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from shopseg._logging import get_logger
from shopseg._sql import scalar_sql
from shopseg.config import get_setting
from shopseg.errors import InvalidParameterError, NotFound, ShopsegError, WorkspaceError
from shopseg.privacy.audit import (
    AUDIT_TABLE,
    REDACTED,
    record_audit,
    redact_text,
    subject_hash,
    subject_hasher,
    word_pattern,
)
from shopseg.privacy.tombstones import (
    TOMBSTONES_TABLE,
    add_tombstones,
    is_pending,
    mark_journal_clean,
    pending_subjects,
)
from shopseg.workspace import COMPACT_PENDING, META_TABLE, Workspace

if TYPE_CHECKING:
    from shopseg.live.journal import Journal

__all__ = [
    "AUDIT_TABLE",
    "ERASERS",
    "ErasureReport",
    "register_eraser",
    "unregister_eraser",
    "forget_customer",
    "subject_hash",
    "record_audit",
    "customer_tables",
    "compact_workspace",
]

log = get_logger("shopseg.privacy")
#: name -> eraser(customer_id) returning the number of records it removed
ERASERS: dict[str, Callable[[str], int]] = {}
_KEEP = {AUDIT_TABLE, META_TABLE, TOMBSTONES_TABLE}
_REDACT_ROUNDS = 8  # "id id": the border one match consumes hides the next one from the same pass


def register_eraser(name: str, eraser: Callable[[str], int]) -> None:
    """Register a store outside the workspace (e.g. a CRM mirror) that must forget customers too."""
    if not callable(eraser):
        raise InvalidParameterError(f"register_eraser: eraser '{name}' must be callable. Got {eraser!r}.")
    ERASERS[name] = eraser


def unregister_eraser(name: str) -> None:
    """Remove a registered eraser (no error when absent)."""
    ERASERS.pop(name, None)


@dataclass
class ErasureReport:
    """Rows removed per table (``journal``: live events not applied yet), text cells redacted, records removed by
    each registered eraser, and whether the workspace file was rewritten (``compacted``)."""

    subject_hash: str
    deleted: dict[str, int] = field(default_factory=dict)
    redacted: dict[str, int] = field(default_factory=dict)
    external: dict[str, int] = field(default_factory=dict)
    shared_email_accounts: int = 0
    compacted: bool = False

    @property
    def total(self) -> int:
        return sum(self.deleted.values()) + sum(self.redacted.values()) + sum(self.external.values())


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


def _emails(ws: Workspace, customer_id: str, report: ErasureReport) -> list[str]:
    """The customer's addresses, unless another account has one of them (then none is erased by value)."""
    con = ws.con
    emails = [
        r[0]
        for r in con.execute(
            "SELECT DISTINCT lower(trim(email)) FROM customers WHERE customer_id = ? AND email IS NOT NULL",
            [customer_id],
        ).fetchall()
    ]
    shared = (
        con.execute(
            "SELECT DISTINCT customer_id FROM customers WHERE customer_id <> ? AND lower(trim(email)) "
            "IN (SELECT unnest(?))",
            [customer_id, emails],
        ).fetchall()
        if emails
        else []
    )
    if shared:  # another account with the same address: its rows stay (erase it by its own id)
        report.shared_email_accounts = len(shared)
        return []
    return emails


def _devices(ws: Workspace, customer_id: str) -> set[str]:
    return {
        r[0]
        for t, c in _columns(ws).items()
        if "customer_id" in c and "anonymous_id" in c
        for r in ws.con.execute(
            f'SELECT DISTINCT anonymous_id FROM "{t}" WHERE customer_id = ? AND anonymous_id IS NOT NULL', [customer_id]
        ).fetchall()
    }


def _erase_rows(ws: Workspace, customer_id: str, emails: list[str], devices: list[str], report: ErasureReport) -> None:
    con, cols = ws.con, _columns(ws)
    orders = con.execute("SELECT DISTINCT order_id FROM orders WHERE customer_id = ?", [customer_id]).df()
    con.register("_shopseg_forget_orders", orders)
    try:
        for table, c in sorted(cols.items()):
            n = 0
            if "customer_id" not in c and "order_id" in c and len(orders):
                n += scalar_sql(
                    con, f'DELETE FROM "{table}" WHERE order_id IN (SELECT order_id FROM _shopseg_forget_orders)'
                )
            if "anonymous_id" in c and devices:  # the same device's anonymous browsing is theirs too (not another
                mine = " AND customer_id IS NULL" if "customer_id" in c else ""  # customer's signed-in activity on it)
                n += scalar_sql(con, f'DELETE FROM "{table}" WHERE anonymous_id IN (SELECT unnest(?)){mine}', [devices])
            if "customer_id" in c:
                n += scalar_sql(con, f'DELETE FROM "{table}" WHERE customer_id = ?', [customer_id])
            if "email" in c and emails and c["email"] == "VARCHAR" and "customer_id" not in c:
                n += scalar_sql(con, f'DELETE FROM "{table}" WHERE lower(trim(email)) IN (SELECT unnest(?))', [emails])
            if n:
                report.deleted[table] = int(n)
    finally:
        con.unregister("_shopseg_forget_orders")
    for table, c in sorted(_columns(ws).items()):
        for column, dtype in c.items():
            if dtype != "VARCHAR":
                continue
            for value in [customer_id, *emails]:
                pattern = word_pattern(value)
                for _ in range(_REDACT_ROUNDS):
                    n = scalar_sql(
                        con,
                        f'UPDATE "{table}" SET "{column}" = regexp_replace("{column}", ?, \'\\1{REDACTED}\\2\', \'gi\') '
                        f"WHERE regexp_matches(\"{column}\", ?, 'i')",
                        [pattern, pattern],
                    )
                    if not n:
                        break
                    report.redacted[f"{table}.{column}"] = report.redacted.get(f"{table}.{column}", 0) + int(n)


def _redact_json(value: Any, patterns: list[re.Pattern[str]]) -> Any:
    """``value`` (decoded JSON) with each mention of a pattern replaced, keys included; a matching number too."""
    if isinstance(value, dict):
        return {_redact_json(k, patterns): _redact_json(v, patterns) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_json(v, patterns) for v in value]
    if isinstance(value, str):
        for p in patterns:
            value = p.sub(rf"\g<1>{REDACTED}\g<2>", p.sub(rf"\g<1>{REDACTED}\g<2>", value))
        return value
    if (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and any(p.fullmatch(str(value)) for p in patterns)
    ):
        return REDACTED
    return value


def _journal_edit(
    ws: Workspace, customer_id: str, devices: set[str], emails: list[str]
) -> Callable[[dict[str, Any]], Any]:
    """The edit of journaled events: drop the customer's, their devices' and earlier pending erasures' events;
    redact mentions of the id or the address in the others."""
    pending, hasher = pending_subjects(ws), subject_hasher(ws)
    patterns = [re.compile(word_pattern(v), re.IGNORECASE) for v in [customer_id, *emails]]

    def edit(e: dict[str, Any]) -> dict[str, Any] | None:
        if e.get("customer_id") == customer_id or (e.get("customer_id") is None and e.get("anonymous_id") in devices):
            return None
        if pending and is_pending(hasher, e, pending):
            return None
        return _redact_json(e, patterns)

    return edit


def _count_journal(events: list[dict[str, Any]], edit: Callable[[dict[str, Any]], Any], report: ErasureReport) -> None:
    dropped = changed = 0
    for e in events:
        new = edit(e)
        dropped += new is None
        changed += new is not None and new != e
    if dropped:
        report.deleted["journal"] = dropped
    if changed:
        report.redacted["journal"] = changed


def forget_customer(
    ws: Workspace,
    customer_id: str,
    *,
    reason: str = "erasure request",
    compact: bool | None = None,
    journal: Journal | None = None,
) -> ErasureReport:
    """Erase ``customer_id`` everywhere; returns what was removed. See the module docstring.

    Parameters
    ----------
    reason : str, default="erasure request"
        Kept in the audit log with e-mail addresses, phone numbers and the id redacted.
    compact : bool, default=None
        Rewrite the workspace file afterwards (default: the ``erasure_compact`` setting is ``now``). Without it the
        file is marked and still holds the erased bytes until :func:`compact_workspace`.
    journal : Journal, default=None
        The live engine's open journal (the server erasing); default the journal files beside the workspace.

    Raises
    ------
    NotFound
        When no table, journaled event or registered store holds that customer (nothing is logged).
    ShopsegError
        When a registered eraser or the file rewrite fails (the erasure itself is committed and logged).
    """
    from shopseg.live.journal import open_journal, read_raw, rewrite_journal

    if not customer_id:
        raise InvalidParameterError("forget: the customer id must be a non-empty string.")
    if journal is None and open_journal(f"{ws.path}.journal") is not None:
        raise WorkspaceError(
            f"{ws.path}: a live engine in this process is writing its journal. Erase through it: "
            "LiveEngine.erase(customer_id) or DELETE /api/v1/customers/{id}."
        )
    if compact is None:
        compact = get_setting("erasure_compact") == "now"
    report = ErasureReport(subject_hash(ws, customer_id))
    journal_path = journal.path if journal is not None else Path(f"{ws.path}.journal")
    journaled = [e for e in read_raw(journal_path) if e.get("customer_id") == customer_id]
    if _exists(ws, customer_id) or journaled:
        emails = _emails(ws, customer_id, report)
        devices = _devices(ws, customer_id) | {e["anonymous_id"] for e in journaled if e.get("anonymous_id")}
        edit = _journal_edit(ws, customer_id, devices, emails)
        _count_journal(read_raw(journal_path), edit, report)  # what the rewrite below will do, for the audit
        with ws.transaction():  # the commit point: from here a replay skips the customer's journaled events
            _erase_rows(ws, customer_id, emails, sorted(devices), report)
            add_tombstones(ws, customer_id, devices)
            ws.set_meta(COMPACT_PENDING, "erasure")
            record_audit(
                ws,
                "forget",
                report.subject_hash,
                {
                    "reason": redact_text(reason, [customer_id, *emails]),
                    "deleted": report.deleted,
                    "redacted": report.redacted,
                    "shared_email_accounts": report.shared_email_accounts,
                },
            )
        try:
            if journal is not None:
                journal.rewrite(edit)
            else:
                rewrite_journal(journal_path, edit)
        except OSError as exc:
            raise ShopsegError(
                f"{journal_path}: customer erased from the workspace tables, but rewriting the live "
                f"journal failed ({type(exc).__name__}: {exc}); a replay skips their journaled events "
                "meanwhile. Fix the cause and rerun `shopseg forget` with the same id."
            ) from exc
        mark_journal_clean(ws)  # every pending subject: the edit dropped earlier unfinished erasures' events too
    failed = _call_erasers(ws, customer_id, report)
    if not report.deleted and not report.redacted and not failed and not any(report.external.values()):
        raise NotFound(
            f"customer '{customer_id}': not found in any table with a customer_id column "
            f"({', '.join(customer_tables(ws))}), in the live journal nor in a registered store. "
            "Nothing was erased."
        )
    if compact:
        try:
            ws.compact()
            report.compacted = True
        except ShopsegError as exc:
            failed.append(f"workspace file rewrite: {exc}")
    else:
        _checkpoint(ws)
    if failed:
        steps = "; ".join(f.rstrip(".") for f in failed)
        raise ShopsegError(
            f"customer erased from the workspace and its journal, but {len(failed)} step(s) failed: "
            f"{steps}. Fix them and rerun `shopseg forget` (or `shopseg privacy compact` for the file "
            "rewrite)."
        )
    return report


def _checkpoint(ws: Workspace) -> None:
    """Move the WAL into the file, unless another connection's transaction is open (the server's readers): DuckDB
    then refuses, and its next automatic checkpoint does it (the file is rewritten later anyway: it stays marked)."""
    try:
        ws.con.execute("CHECKPOINT")
    except duckdb.TransactionException as exc:
        log.info("erasure: checkpoint deferred: %s", exc)


def _call_erasers(ws: Workspace, customer_id: str, report: ErasureReport) -> list[str]:
    failed = []
    for name, eraser in sorted(ERASERS.items()):
        try:
            report.external[name] = int(eraser(customer_id))
        except Exception as exc:  # noqa: BLE001 - every store must be tried; failures are reported, not hidden
            failed.append(f"{name}: {type(exc).__name__}: {exc}")
    if report.external or failed:
        record_audit(ws, "forget-external", report.subject_hash, {"erased": report.external, "failed": failed})
    return failed


def compact_workspace(ws: Workspace) -> bool:
    """Rewrite the workspace file if an erasure left it marked (``erasure_compact=later``); was there one to do?"""
    if not ws.compact_pending:
        return False
    ws.compact()
    record_audit(ws, "compact", None, {})
    _checkpoint(ws)
    return True
