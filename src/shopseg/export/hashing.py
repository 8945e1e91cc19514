"""Email normalisation and SHA-256 hashing for ad audiences (Google Customer Match, Meta custom audiences).

Both platforms ask for the address trimmed and lower-cased, then hashed with
SHA-256 and written as 64 lowercase hex characters (Google Ads API "Customer
Match" data-formatting guidelines; Meta Marketing API "Custom Audiences:
hashing and normalization").

>>> normalize_email("  Jane.Doe@Example.COM ")
'jane.doe@example.com'
>>> hash_email(" Jane.Doe@Example.COM")[:16]
'86e0b9e56c17cc4d'
"""

from __future__ import annotations

import hashlib

import pandas as pd

__all__ = ["normalize_email", "hash_email", "hash_emails"]


def normalize_email(email: str) -> str:
    """Trim surrounding whitespace and lower-case."""
    return email.strip().lower()


def hash_email(email: str) -> str:
    """SHA-256 hex digest of the normalised address."""
    return hashlib.sha256(normalize_email(email).encode("utf-8")).hexdigest()


def hash_emails(emails: pd.Series) -> pd.Series:
    """:func:`hash_email` over a column; missing addresses stay missing."""
    return emails.map(lambda e: hash_email(e) if isinstance(e, str) else None)
