"""Write a segment's consented audience as CSV, Parquet, JSON lines, or a Klaviyo / Mailchimp import CSV.

Column layouts of the CRM formats follow the vendors' import guides:

- **Klaviyo** ("Create and add contacts to a new list", "How to upload and segment
  with consent", Klaviyo help centre): the first column is ``Email``; Klaviyo
  properties by name (``City``, ``Country``); consent as ``Email Marketing Consent``
  = ``Subscribed``; any other column becomes a custom property.
- **Mailchimp** ("Format guidelines for your import file", Mailchimp help):
  ``Email Address`` is the only required column; ``Tags`` (comma-separated, quoted)
  adds tags; other columns map to audience fields.

Hashed audiences (``--hash-emails`` or channel ``ads``) carry ``email_sha256`` and
no address, so the CRM formats, which need the address, refuse them. Each channel
carries only its own contact (:data:`shopseg.export.audience.CHANNEL_COLUMNS`): an
``sms`` audience has ``customer_id`` and the store's ``phone`` column if it has one,
never an address, so the CRM formats (e-mail lists) refuse it too.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from shopseg.config import get_setting
from shopseg.errors import InvalidParameterError, ShopsegError, did_you_mean
from shopseg.export.audience import Audience, build_audience
from shopseg.export.spreadsheet import write_csv
from shopseg.privacy.erasure import record_audit
from shopseg.segments.audience import segment_customer_ids
from shopseg.workspace import Workspace

__all__ = ["FORMATS", "format_audience", "write_audience", "export_segment", "AudienceTooSmallError"]

FORMATS = ("csv", "parquet", "json", "klaviyo", "mailchimp")
_SUFFIX = {"csv": ".csv", "parquet": ".parquet", "json": ".jsonl", "klaviyo": ".csv", "mailchimp": ".csv"}


class AudienceTooSmallError(ShopsegError):
    """The consented audience is below the ``export_min_segment_size`` setting."""


def _check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise InvalidParameterError(
            f"export: unknown format '{fmt}'. Expected one of {list(FORMATS)}.{did_you_mean(fmt, FORMATS)}"
        )
    return fmt


def format_audience(audience: Audience, fmt: str) -> pd.DataFrame:
    """The table as written for ``fmt`` (vendor column names for klaviyo and mailchimp)."""
    df = audience.included.copy()
    df.insert(1, "segment", audience.segment)
    if fmt in ("csv", "parquet", "json"):
        return df
    if "email" not in df.columns and audience.channel == "sms":
        raise InvalidParameterError(
            f"export: the {fmt} format is an e-mail list; an sms audience carries no e-mail addresses. Expected "
            f"--format csv, parquet or json for sms. Hint: --channel email for a {fmt} list."
        )
    if "email" not in df.columns:
        raise InvalidParameterError(
            f"export: the {fmt} format needs plain email addresses; hashed audiences go to csv, parquet or json. "
            "Hint: drop --hash-emails or choose --format csv."
        )
    if fmt == "klaviyo":
        return pd.DataFrame(
            {
                "Email": df["email"].str.strip(),
                "Email Marketing Consent": "Subscribed",
                "City": df["city"],
                "Country": df["country"],
                "shopseg_customer_id": df["customer_id"],
                "shopseg_segment": df["segment"],
            }
        )
    return pd.DataFrame(
        {"Email Address": df["email"].str.strip(), "Tags": df["segment"], "Customer ID": df["customer_id"]}
    )


def write_audience(audience: Audience, path: str | Path, fmt: str, *, raw: bool = False) -> Path:
    """Write ``audience`` to ``path`` in ``fmt``; return the path.

    CSV-based formats (csv, klaviyo, mailchimp) neutralise cells a spreadsheet
    would run as formulas (:mod:`shopseg.export.spreadsheet`) unless ``raw``.
    """
    _check_format(fmt)
    table = format_audience(audience, fmt)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        table.to_parquet(path, index=False)
    elif fmt == "json":
        table.to_json(path, orient="records", lines=True, force_ascii=False)
    else:
        write_csv(table, path, raw=raw)
    return path


def export_segment(
    ws: Workspace,
    segment: str,
    *,
    fmt: str = "csv",
    out: str | Path | None = None,
    channel: str | None = None,
    hash_emails: bool = False,
    min_size: int | None = None,
    raw: bool = False,
) -> tuple[Audience, Path]:
    """Export the consented members of ``segment``.

    Parameters
    ----------
    segment : str
        A saved segment, RFM segment or lifecycle stage (see :mod:`shopseg.segments.audience`).
    fmt : {"csv", "parquet", "json", "klaviyo", "mailchimp"}, default="csv"
    out : path, optional
        Default ``<segment>-<channel><suffix>`` in the current folder.
    channel : {"email", "sms", "ads"}, optional
        Default ``email`` (``ads`` when ``hash_emails``).
    min_size : int, optional
        Default the ``export_min_segment_size`` setting.
    raw : bool, default=False
        Write CSV cells verbatim; by default cells starting with ``= + - @``, tab or
        CR get a leading ``'`` so a spreadsheet shows them instead of running them.

    Each export adds a row to ``privacy_audit`` (segment, channel, format, counts; no ids).

    Raises
    ------
    AudienceTooSmallError
        When fewer than ``min_size`` consented customers remain; nothing is written.
    """
    _check_format(fmt)
    channel = channel or ("ads" if hash_emails else "email")
    minimum = int(get_setting("export_min_segment_size") if min_size is None else min_size)
    members, kind = segment_customer_ids(ws, segment)
    audience = build_audience(ws, members, channel=channel, segment=segment, hash_email=hash_emails)
    if len(audience.included) < minimum:
        raise AudienceTooSmallError(
            f"export of {kind} '{segment}': {len(audience.included):,} consented customers on {channel} "
            f"(of {audience.members:,} members) is below the minimum of {minimum:,}. Expected at least "
            f"{minimum:,} (setting export_min_segment_size, env SHOPSEG_EXPORT_MIN_SEGMENT_SIZE). Nothing was written."
        )
    path = write_audience(audience, Path(out) if out else Path(f"{segment}-{channel}{_SUFFIX[fmt]}"), fmt, raw=raw)
    if not ws.read_only:  # who sent which audience where: counts only, no ids
        record_audit(
            ws,
            "export",
            None,
            {
                "segment": segment,
                "kind": kind,
                "channel": channel,
                "format": fmt,
                "hashed": "email_sha256" in audience.included.columns,
                "exported": len(audience.included),
                "excluded": audience.excluded,
            },
        )
    return audience, path
