"""The privacy audit log: salted hashes of subjects, never their id, and free text with personal data redacted.

``privacy_audit`` rows: ``recorded_at, action, subject_hash, detail`` (JSON). The
subject is the salted SHA-256 of the customer id; the salt is random per workspace
(``_shopseg_meta``), so given an id an auditor can check "was X erased?", but the
log alone lists nobody. Free text (an erasure's ``reason``) goes through
:func:`redact_text` first: e-mail addresses, phone-like digit runs and the
subject's own id and address are replaced.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import secrets
from collections.abc import Callable, Iterable

from shopseg.workspace import Workspace

__all__ = ["AUDIT_TABLE", "REDACTED", "subject_hash", "subject_hasher", "record_audit", "redact_text", "word_pattern"]

AUDIT_TABLE = "privacy_audit"
REDACTED = "[erased]"
_DDL = f"""CREATE TABLE IF NOT EXISTS "{AUDIT_TABLE}" (recorded_at TIMESTAMP, action VARCHAR, subject_hash VARCHAR,
    detail VARCHAR)"""
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_PHONE = re.compile(r"(?<![\w+])\+?\(?\d[\d ()./-]{5,}\d(?!\w)")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_MAX_TEXT = 500


def _salt(ws: Workspace) -> str:
    salt = ws.meta("privacy_salt")
    if salt is None:
        salt = secrets.token_hex(16)
        ws.set_meta("privacy_salt", salt)
    return salt


def subject_hash(ws: Workspace, customer_id: str) -> str:
    """Salted SHA-256 of a customer id (the workspace's salt), as stored in the audit log."""
    return subject_hasher(ws)(customer_id)


def subject_hasher(ws: Workspace) -> Callable[[str], str]:
    """:func:`subject_hash` of this workspace as a function of the id (reads the salt once)."""
    salt = _salt(ws)
    return lambda customer_id: hashlib.sha256(f"{salt}:{customer_id}".encode()).hexdigest()


def word_pattern(value: str) -> str:
    """A regular expression (Python and DuckDB's RE2) for ``value`` as a whole word; groups 1 and 2 are its borders."""
    return rf"(^|[^A-Za-z0-9_.@-]){re.escape(value)}($|[^A-Za-z0-9_.@-])"


def _phone(match: re.Match[str]) -> str:
    text = match.group()
    digits = sum(c.isdigit() for c in text)
    return "[phone]" if digits >= 7 and not _DATE.fullmatch(text) else text


def redact_text(text: str, known: Iterable[str] = ()) -> str:
    """``text`` without personal data: e-mail addresses become ``[email]``, runs of 7+ digits (phone numbers, long
    ids; ISO dates stay) ``[phone]``, each of ``known`` (the subject's id) as a whole word ``[erased]``; cut at 500
    characters.

    Examples
    --------
    >>> redact_text("request by Ann.Lee@example.com, call +44 7700 900123, ticket 17 of 2025-01-31", ["c42"])
    'request by [email], call [phone], ticket 17 of 2025-01-31'
    >>> redact_text("customer c42 asked", ["c42"])
    'customer [erased] asked'
    """
    text = _EMAIL.sub("[email]", str(text))
    for value in sorted({k for k in known if k}, key=len, reverse=True):
        text = re.sub(word_pattern(value), rf"\g<1>{REDACTED}\g<2>", text, flags=re.IGNORECASE)
    return _PHONE.sub(_phone, text)[:_MAX_TEXT]


def record_audit(ws: Workspace, action: str, subject: str | None, detail: dict[str, object]) -> None:
    """Append one row to ``privacy_audit`` (``subject`` is already a hash, or ``None``)."""
    ws.con.execute(_DDL)
    at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    ws.con.execute(
        f'INSERT INTO "{AUDIT_TABLE}" VALUES (?, ?, ?, ?)', [at, action, subject, json.dumps(detail, sort_keys=True)]
    )
