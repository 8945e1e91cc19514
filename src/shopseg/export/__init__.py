"""Consent-aware campaign exports: CSV, Parquet, JSON lines, Klaviyo and Mailchimp import files."""

from __future__ import annotations

from shopseg.export.audience import Audience, build_audience
from shopseg.export.hashing import hash_email, normalize_email
from shopseg.export.writers import FORMATS, AudienceTooSmallError, export_segment, format_audience, write_audience

__all__ = [
    "FORMATS",
    "Audience",
    "AudienceTooSmallError",
    "build_audience",
    "export_segment",
    "format_audience",
    "hash_email",
    "normalize_email",
    "write_audience",
]
