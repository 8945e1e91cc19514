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

__all__ = ["Audience", "CHANNEL_COLUMNS", "build_audience"]


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


#: The customers columns an audience carries besides ``customer_id``, per channel (data minimisation): an e-mail
#: audience never carries a phone number, an SMS audience never an address, an ads audience only the address's hash.
CHANNEL_COLUMNS: dict[str, tuple[str, ...]] = {
    "email": ("email", "country", "city"),
    "ads": ("email", "country", "city"),
    "sms": ("phone",),
}
#: The channel's contact: a member without it is left out (``phone`` only when the customers table has the column).
_CONTACT = {
    "email": ("email", "no email address"),
    "ads": ("email", "no email address"),
    "sms": ("phone", "no phone number"),
}


def _check_channel(channel: str) -> str:
    if channel not in CHANNELS:
        raise InvalidParameterError(
            f"export: unknown channel '{channel}'. Expected one of {sorted(CHANNELS)}.{did_you_mean(channel, CHANNELS)}"
        )
    return CHANNELS[channel]


def _profile(ws: Workspace, channel: str) -> pd.DataFrame:
    """``customer_id`` and the channel's columns the customers table has (the schema has no phone column: a store
    may add one)."""
    have = {d[0] for d in ws.con.execute("SELECT * FROM customers LIMIT 0").description}
    columns = ["customer_id", *(c for c in CHANNEL_COLUMNS[channel] if c in have)]
    return ws.con.execute(f"SELECT {', '.join(columns)} FROM customers").df()


def build_audience(
    ws: Workspace, customer_ids: Sequence[str], *, channel: str = "email", segment: str = "", hash_email: bool = False
) -> Audience:
    """Filter a segment's members down to those who consented to ``channel``, with only what the channel needs.

    Parameters
    ----------
    ws : Workspace
    customer_ids : sequence of str
        Segment members.
    channel : {"email", "sms", "ads"}, default="email"
        Needs consent to ``email_marketing``, ``sms_marketing`` or ``ad_audiences``
        respectively; ``email`` and ``ads`` also need an email address, ``sms`` a phone
        number when the customers table has a ``phone`` column.
    segment : str
        Name, for the summary.
    hash_email : bool, default=False
        Replace ``email`` by ``email_sha256`` (always done for ``ads``).

    Returns
    -------
    Audience
        ``included`` has ``customer_id`` and the channel's columns (:data:`CHANNEL_COLUMNS`):
        ``email`` (or ``email_sha256``), ``country, city`` for email and ads; ``phone`` (when
        the store keeps one) for sms, never an e-mail address.

    Raises
    ------
    InvalidParameterError
        Unknown channel, or ``hash_email`` on sms (an SMS audience has no address to hash).
    """
    purpose = _check_channel(channel)
    if hash_email and channel == "sms":
        raise InvalidParameterError(
            "export: --hash-emails hashes the e-mail addresses of an email or ads audience; an sms audience carries "
            "none. Expected channel email or ads; got 'sms'. Hint: drop --hash-emails."
        )
    consent = effective_consent(ws, purpose)
    profile = _profile(ws, channel)
    members = pd.DataFrame({"customer_id": pd.unique(pd.Series(list(customer_ids), dtype=object))})
    df = members.merge(profile, on="customer_id", how="left").merge(consent, on="customer_id", how="left")
    reasons = pd.Series("", index=df.index, dtype=object)
    unknown = df["granted"].isna()
    reasons[unknown] = "not in the customers table (no consent on record)"
    withdrawn = ~unknown & ~df["granted"].astype(bool) & df["basis"].isin(["consent event", "unsubscribe event"])
    reasons[withdrawn & (reasons == "")] = f"withdrew {purpose} consent"
    refused = ~unknown & ~df["granted"].fillna(False).astype(bool)
    reasons[refused & (reasons == "")] = f"no {purpose} consent"
    contact, missing = _CONTACT[channel]
    if contact in df.columns:
        absent = df[contact].isna() | (df[contact].fillna("").astype(str).str.strip() == "")
        reasons[absent & (reasons == "")] = missing
    keep = reasons == ""
    excluded = {str(k): int(v) for k, v in reasons[~keep].value_counts(sort=False).items()}
    out = df.loc[keep, list(profile.columns)].reset_index(drop=True)
    if "email" in out.columns and (hash_email or channel == "ads"):
        out.insert(1, "email_sha256", hash_emails(out["email"]))
        out = out.drop(columns="email")
    return Audience(segment, channel, purpose, len(members), out, excluded)
