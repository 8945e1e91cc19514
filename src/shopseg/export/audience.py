"""Consent-aware audiences: who of a segment may be contacted on a channel, and who is left out and why.

>>> import tempfile, os
>>> from shopseg.workspace import Workspace
>>> ws = Workspace.init(os.path.join(tempfile.mkdtemp(), "ws.duckdb"))
>>> _ = ws.con.execute("INSERT INTO customers (customer_id, email, email_marketing) VALUES "
...                    "('a', 'A@x.org', true), ('b', 'b@x.org', false), ('c', NULL, true)")
>>> aud = build_audience(ws, ["a", "b", "c"], channel="email")
>>> aud.included["customer_id"].tolist(), aud.excluded
(['a'], {'no email_marketing consent': 1, 'no email address': 1})
>>> ws.close()
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

from shopseg.errors import InvalidParameterError, did_you_mean
from shopseg.export.hashing import hash_emails
from shopseg.privacy.consent import CHANNELS, effective_consent
from shopseg.workspace import Workspace

__all__ = ["Audience", "build_audience"]


@dataclass
class Audience:
    """The customers an export may contain, and the count left out per reason."""

    segment: str
    channel: str
    purpose: str
    members: int
    included: pd.DataFrame
    excluded: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        why = "; ".join(f"{n:,} {reason}" for reason, n in self.excluded.items()) or "none"
        return (
            f"segment '{self.segment}': {self.members:,} members, {len(self.included):,} exported on {self.channel}, "
            f"{self.members - len(self.included):,} left out ({why})"
        )


def _check_channel(channel: str) -> str:
    if channel not in CHANNELS:
        raise InvalidParameterError(
            f"export: unknown channel '{channel}'. Expected one of {sorted(CHANNELS)}.{did_you_mean(channel, CHANNELS)}"
        )
    return CHANNELS[channel]


def build_audience(
    ws: Workspace, customer_ids: Sequence[str], *, channel: str = "email", segment: str = "", hash_email: bool = False
) -> Audience:
    """Filter a segment's members down to those who consented to ``channel``.

    Parameters
    ----------
    ws : Workspace
    customer_ids : sequence of str
        Segment members.
    channel : {"email", "sms", "ads"}, default="email"
        Needs consent to ``email_marketing``, ``sms_marketing`` or ``ad_audiences``
        respectively; ``email`` and ``ads`` also need an email address.
    segment : str
        Name, for the summary.
    hash_email : bool, default=False
        Replace ``email`` by ``email_sha256`` (always done for ``ads``).

    Returns
    -------
    Audience
        ``included`` has ``customer_id, email`` (or ``email_sha256``), ``country, city``.
    """
    purpose = _check_channel(channel)
    consent = effective_consent(ws, purpose)
    profile = ws.con.execute("SELECT customer_id, email, country, city FROM customers").df()
    members = pd.DataFrame({"customer_id": pd.unique(pd.Series(list(customer_ids), dtype=object))})
    df = members.merge(profile, on="customer_id", how="left").merge(consent, on="customer_id", how="left")
    reasons = pd.Series("", index=df.index, dtype=object)
    unknown = df["granted"].isna()
    reasons[unknown] = "not in the customers table (no consent on record)"
    withdrawn = ~unknown & ~df["granted"].astype(bool) & df["basis"].isin(["consent event", "unsubscribe event"])
    reasons[withdrawn & (reasons == "")] = f"withdrew {purpose} consent"
    refused = ~unknown & ~df["granted"].fillna(False).astype(bool)
    reasons[refused & (reasons == "")] = f"no {purpose} consent"
    if channel in ("email", "ads"):
        no_email = df["email"].isna() | (df["email"].fillna("").str.strip() == "")
        reasons[no_email & (reasons == "")] = "no email address"
    keep = reasons == ""
    excluded = {str(k): int(v) for k, v in reasons[~keep].value_counts(sort=False).items()}
    out = df.loc[keep, ["customer_id", "email", "country", "city"]].reset_index(drop=True)
    if hash_email or channel == "ads":
        out.insert(1, "email_sha256", hash_emails(out["email"]))
        out = out.drop(columns="email")
    return Audience(segment, channel, purpose, len(members), out, excluded)
