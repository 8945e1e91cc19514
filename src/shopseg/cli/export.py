"""`shopseg export SEGMENT`: a consent-filtered campaign file (CSV, Parquet, JSON, Klaviyo, Mailchimp)."""

from __future__ import annotations

from typing import Annotated

import typer

from shopseg.cli._common import console, open_workspace

__all__ = ["register", "export"]


def export(
    segment: Annotated[str, typer.Argument(help="Saved segment, RFM segment or lifecycle stage.")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="csv, parquet, json, klaviyo or mailchimp.")] = "csv",
    out: Annotated[
        str | None, typer.Option("--out", "-o", help="Output file (default <segment>-<channel>.<ext>).")
    ] = None,
    channel: Annotated[str | None, typer.Option("--channel", "-c", help="email (default), sms or ads.")] = None,
    hash_emails: Annotated[
        bool, typer.Option("--hash-emails", help="SHA-256 of trimmed lower-case emails (ads).")
    ] = False,
    min_size: Annotated[int | None, typer.Option("--min-size", help="Override export_min_segment_size.")] = None,
    raw: Annotated[
        bool,
        typer.Option(
            "--raw",
            help="Write CSV cells verbatim (for pipelines); by default cells "
            "starting with = + - @ get a leading ' so spreadsheets do not run them.",
        ),
    ] = False,
) -> None:
    """Export the members of SEGMENT who consented to the channel; report who was left out and why."""
    from shopseg.export import export_segment

    with open_workspace() as ws:
        audience, path = export_segment(
            ws, segment, fmt=fmt, out=out, channel=channel, hash_emails=hash_emails, min_size=min_size, raw=raw
        )
    console.print(audience.summary(), highlight=False, markup=False)
    console.print(f"wrote {len(audience.included):,} rows to {path} ({fmt})", highlight=False, markup=False)


def register(app: typer.Typer) -> None:
    app.command("export")(export)
