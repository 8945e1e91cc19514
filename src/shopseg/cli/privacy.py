"""`shopseg forget CUSTOMER` and `shopseg privacy ...`: erasure, subject access, consent, retention."""

from __future__ import annotations

from typing import Annotated

import typer

from shopseg.cli._common import console, open_workspace, print_table
from shopseg.cli._hosted import compact_hosted, forget_hosted, hosted
from shopseg.cli._remote import confirmed_here

__all__ = ["register", "privacy_app", "forget"]

privacy_app = typer.Typer(
    help="Privacy: subject data export, consent with history, retention of raw events.", no_args_is_help=True
)


def forget(
    ctx: typer.Context,
    customer_id: Annotated[str, typer.Argument(help="The customer_id to erase.")],
    reason: Annotated[
        str,
        typer.Option("--reason", help="Kept in the audit log (e-mail addresses, phone numbers and the id redacted)."),
    ] = "erasure request",
    compact: Annotated[
        bool | None,
        typer.Option(
            "--compact/--no-compact",
            help="Rewrite the workspace file so no byte of the customer is left (default: setting erasure_compact). --no-compact for bulk erasures, then `shopseg privacy compact`.",
        ),
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Erase a customer from every table, the live journal, snapshots and registered stores; log it without PII."""
    from shopseg.privacy import forget_customer

    if not yes:
        if hosted() is not None:  # no terminal here: the CLI asks before handing the command over, then adds --yes
            from shopseg.cli._common import exit_usage

            exit_usage("`shopseg forget` inside the server needs --yes (confirm in the CLI first).")
        typer.confirm(f"Erase customer {customer_id} everywhere? This cannot be undone", abort=True)
        confirmed_here(ctx)  # a server holding the workspace runs it with --yes: asked once
    host = hosted()
    if host is not None:  # inside `shopseg serve`: its live engine erases (journal, live state) and rewrites the file
        deleted, compacted = forget_hosted(host, customer_id, reason, compact)
        print_table(f"Erased customer {customer_id}", ["table", "rows"], list(deleted.items()))
        _say_compacted(compacted)
        return
    with open_workspace() as ws:
        rep = forget_customer(ws, customer_id, reason=reason, compact=compact)
    rows = [(t, n) for t, n in rep.deleted.items()] + [(f"{c} (redacted)", n) for c, n in rep.redacted.items()]
    rows += [(f"{s} (registered store)", n) for s, n in rep.external.items()]
    print_table(f"Erased; audit entry {rep.subject_hash[:16]}...", ["table", "rows"], rows)
    _say_compacted(rep.compacted)


def _say_compacted(compacted: bool) -> None:
    if compacted:
        console.print("workspace file rewritten: no byte of the erased data is left in it")
    else:
        console.print(
            "the workspace file still holds erased bytes: run `shopseg privacy compact` after the last erasure"
        )


@privacy_app.command("compact")
def compact() -> None:
    """Rewrite the workspace file after erasures run with --no-compact (no erased byte is left in it)."""
    from shopseg.privacy import compact_workspace

    host = hosted()
    if host is not None:
        done = compact_hosted(host)
    else:
        with open_workspace() as ws:
            done = compact_workspace(ws)
    console.print("workspace file rewritten" if done else "nothing to do: no erasure left bytes in the file")


@privacy_app.command("export")
def export(
    customer_id: Annotated[str, typer.Argument(help="A customer_id.")],
    out: Annotated[str | None, typer.Option("--out", "-o", help="Write the JSON here instead of stdout.")] = None,
) -> None:
    """Everything the workspace holds about one customer, as JSON (subject access request)."""
    from shopseg.privacy import customer_data_json

    with open_workspace() as ws:
        text = customer_data_json(ws, customer_id)
    if out:
        with open(out, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")
        console.print(f"wrote {out}")
    else:
        typer.echo(text)


@privacy_app.command("consent")
def consent(
    customer_id: Annotated[str, typer.Argument(help="A customer_id.")],
    purpose: Annotated[
        str | None, typer.Argument(help="email_marketing, sms_marketing, profiling, ad_audiences.")
    ] = None,
    grant: Annotated[bool | None, typer.Option("--grant/--withdraw", help="Record a grant or a withdrawal.")] = None,
    source: Annotated[str, typer.Option("--source", help="Where the consent came from.")] = "shopseg cli",
) -> None:
    """Show a customer's consent per purpose and its history; with --grant/--withdraw, record a change."""
    from shopseg.cli._common import exit_usage
    from shopseg.privacy import PURPOSES, consent_history, effective_consent, record_consent

    with open_workspace() as ws:
        if grant is not None:
            if purpose is None:
                exit_usage("--grant/--withdraw needs a PURPOSE.")
            record_consent(ws, customer_id, str(purpose), grant, source=source)
        rows = []
        for p in PURPOSES:
            eff = effective_consent(ws, p)
            row = eff[eff["customer_id"] == customer_id]
            if row.empty:
                from shopseg.errors import NotFound

                raise NotFound(
                    f"customer '{customer_id}': not in the customers table. Expected an existing customer_id."
                )
            rows.append((p, "yes" if bool(row["granted"].iloc[0]) else "no", str(row["basis"].iloc[0])))
        history = consent_history(ws, customer_id)
    print_table(f"Consent of {customer_id}", ["purpose", "granted", "basis"], rows)
    if len(history):
        print_table(
            "History",
            ["recorded at", "purpose", "granted", "source"],
            [(str(r.recorded_at), r.purpose, "yes" if r.granted else "no", r.source) for r in history.itertuples()],
        )


@privacy_app.command("retain")
def retain(
    days: Annotated[int | None, typer.Option("--days", help="Override event_retention_days.")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Count back from this date (default now).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only count.")] = False,
) -> None:
    """Delete raw events older than the retention limit (setting event_retention_days)."""
    from shopseg.privacy import apply_retention

    with open_workspace() as ws:
        res = apply_retention(ws, days=days, as_of=as_of, dry_run=dry_run)
    if res["cutoff"] is None:
        console.print("retention is 0 days (keep forever): nothing deleted")
        return
    verb = "would delete" if dry_run else "deleted"
    console.print(f"events before {res['cutoff']}: {verb} {res['deleted']:,}, kept {res['kept']:,}")


def register(app: typer.Typer) -> None:
    app.command("forget")(forget)
    app.add_typer(privacy_app, name="privacy")
