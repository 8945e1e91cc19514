"""Privacy: consent with history, erasure (with a registry for stores outside the workspace), access, retention."""

from __future__ import annotations

from shopseg.privacy.consent import CHANNELS, PURPOSES, consent_history, effective_consent, record_consent
from shopseg.privacy.erasure import (
    ERASERS,
    ErasureReport,
    compact_workspace,
    forget_customer,
    register_eraser,
    unregister_eraser,
)
from shopseg.privacy.subject import apply_retention, customer_data_json, export_customer_data

__all__ = [
    "CHANNELS",
    "ERASERS",
    "PURPOSES",
    "ErasureReport",
    "apply_retention",
    "compact_workspace",
    "consent_history",
    "customer_data_json",
    "effective_consent",
    "export_customer_data",
    "forget_customer",
    "record_consent",
    "register_eraser",
    "unregister_eraser",
]
