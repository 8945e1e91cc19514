"""Erasure leaves no byte of the customer in the workspace file, and no personal data in the audit log.

DuckDB keeps deleted rows and old versions in the file; the checks here read the raw bytes of the
``.duckdb`` file and every file beside it (``grep -a``), not the tables.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from shopseg.api.keys import KeyStore
from shopseg.privacy import compact_workspace, forget_customer
from shopseg.privacy.audit import AUDIT_TABLE, redact_text, subject_hash
from shopseg.workspace import Workspace

VICTIM = "c000010"  # 3+ orders and 37 events in the seed-5 store
REASON = "request by x.person@example.com on +44 7700 900123 (ticket 17, 2025-01-31) for c000010"


def _files(ws: Workspace) -> list[Path]:
    return sorted(p for p in ws.path.parent.iterdir() if p.name.startswith(ws.path.name))


def _leaks(ws: Workspace, needles: list[str]) -> list[tuple[str, str]]:
    """(file, needle) for each needle found in the raw bytes of the workspace file or a file beside it."""
    return [(p.name, n) for p in _files(ws) for n in needles if n.encode() in p.read_bytes()]


def _email(ws: Workspace) -> str:
    return str(ws.con.execute("SELECT email FROM customers WHERE customer_id = ?", [VICTIM]).fetchone()[0])


def _plant(ws: Workspace, email: str) -> None:
    """An identify event carrying the address, checkpointed uncompressed (DuckDB's string compression may
    otherwise hide a value from a byte search, whatever the erasure did)."""
    ws.con.execute("SET force_compression = 'uncompressed'")
    ws.con.execute(
        "INSERT INTO events (event_id, customer_id, type, occurred_at, properties) VALUES "
        "('id1', ?, 'identify', '2025-01-01', ?)",
        [VICTIM, json.dumps({"email": email})],
    )
    ws.con.execute("CHECKPOINT")
    ws.con.execute("RESET force_compression")


def test_forget_leaves_no_byte_of_the_customer_in_the_file(action_ws: Workspace) -> None:
    ws = action_ws
    email = _email(ws)
    _plant(ws, email)
    assert {n for _, n in _leaks(ws, [VICTIM, email])} == {VICTIM, email}  # in the file before
    report = forget_customer(ws, VICTIM, reason=REASON, compact=False)
    assert not report.compacted and ws.compact_pending
    assert {n for _, n in _leaks(ws, [VICTIM, email])} == {VICTIM, email}  # deleted rows stay in DuckDB's file
    assert compact_workspace(ws) and not ws.compact_pending
    assert _leaks(ws, [VICTIM, email, "x.person@example.com", "7700 900123"]) == []
    assert compact_workspace(ws) is False  # nothing left to do


def test_the_rewritten_file_keeps_everything_else(action_ws: Workspace) -> None:
    ws = action_ws
    os.chmod(ws.path, 0o600)
    key = KeyStore(ws).create("ops", "admin").key
    ws.con.execute("CREATE SEQUENCE ticket_seq START 100")
    ws.con.execute("SELECT nextval('ticket_seq')").fetchall()
    ws.con.execute("CREATE VIEW big_spenders AS SELECT customer_id FROM customer_features WHERE monetary_value > 100")
    salt = ws.meta("privacy_salt") if subject_hash(ws, "anyone") else None  # (creates the workspace's salt)
    before = {t: ws.con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in ws.tables()}
    defs = ws.table_definitions()
    report = forget_customer(ws, VICTIM)
    assert report.compacted and not ws.compact_pending
    assert ws.table_definitions().keys() == defs.keys() | {AUDIT_TABLE, "privacy_tombstones"}
    assert all(ws.table_definitions()[t] == sql for t, sql in defs.items())  # columns, types, keys, defaults
    for table, n in before.items():
        if table != "_shopseg_meta":
            assert ws.con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0] == n - report.deleted.get(table, 0)
    assert ws.meta("schema_version") is not None and ws.meta("privacy_salt") == salt
    assert KeyStore(ws).authenticate(key).role == "admin"  # API keys survive
    assert ws.con.execute("SELECT nextval('ticket_seq')").fetchone()[0] == 101  # sequences keep their position
    assert ws.con.execute("SELECT count(*) FROM big_spenders").fetchone()[0] > 0  # views too
    assert stat.S_IMODE(os.stat(ws.path).st_mode) == 0o600  # and the file's permissions
    ws.close()
    Workspace.open(ws.path).close()  # the schema-version check passes on the new file


def test_audit_reason_is_redacted(action_ws: Workspace) -> None:
    email = _email(action_ws)
    forget_customer(action_ws, VICTIM, reason=f"{REASON}, {email}")
    (detail,) = action_ws.con.execute(f"SELECT detail FROM \"{AUDIT_TABLE}\" WHERE action = 'forget'").fetchone()
    assert json.loads(detail)["reason"] == "request by [email] on [phone] (ticket 17, 2025-01-31) for [erased], [email]"


def test_redaction_of_free_text() -> None:
    assert redact_text("call 0044 (20) 7946-0958 or 555 0100, room 12 34", []) == "call [phone] or [phone], room 12 34"
    assert redact_text("id ABC-1, abc-1; abc-12", ["abc-1"]) == "id [erased], [erased]; abc-12"  # whole words
    assert len(redact_text("x" * 2000)) == 500


def test_adjacent_mentions_are_all_redacted(action_ws: Workspace) -> None:
    action_ws.con.execute(
        "INSERT INTO events (event_id, customer_id, type, occurred_at, properties) VALUES "
        f"('m1', 'c000001', 'note', '2025-01-01', '{VICTIM} {VICTIM},{VICTIM}')"
    )
    forget_customer(action_ws, VICTIM)
    assert action_ws.con.execute("SELECT properties FROM events WHERE event_id = 'm1'").fetchone()[0] == (
        "[erased] [erased],[erased]"
    )


def test_a_rewrite_interrupted_by_a_crash_is_finished(action_ws: Workspace) -> None:
    """Leftovers of a crash: a partial copy and the old file's link are zeroed; a link that is the live file stays."""
    ws = action_ws
    forget_customer(ws, VICTIM, compact=False)
    ws.close()
    partial, old = Path(f"{ws.path}.compact"), Path(f"{ws.path}.old")
    partial.write_bytes(b"partial copy with " + VICTIM.encode())
    old.write_bytes(b"old file with " + VICTIM.encode())  # crash after the rename, before the zeroing
    ws = Workspace.open(ws.path)
    assert compact_workspace(ws)
    assert not partial.exists() and not old.exists()
    assert _leaks(ws, [VICTIM]) == []
    os.link(ws.path, old)  # crash after linking, before the rename: the "old" file is the workspace itself
    ws.close()
    ws = Workspace.open(ws.path)
    ws.compact()
    assert not old.exists() and ws.con.execute("SELECT count(*) FROM customers").fetchone()[0] == 1499
    ws.close()
