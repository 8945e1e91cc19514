"""`shopseg nba ...`: next best action per customer from an editable playbook."""

from __future__ import annotations

from typing import Annotated

import typer

from shopseg.cli._common import console, open_workspace, print_table
from shopseg.cli._output import JsonOpt, emit_json

__all__ = ["register", "nba_app"]

nba_app = typer.Typer(
    help="Next best action: playbook rules -> action, reason and products per customer.", no_args_is_help=True
)
PlaybookOpt = Annotated[str | None, typer.Option("--playbook", "-p", help="A YAML or JSON playbook file.")]


def _playbook(path: str | None):
    from shopseg.personalize.playbook import default_playbook, load_playbook

    return load_playbook(path) if path else default_playbook()


@nba_app.command("playbook")
def playbook(fmt: Annotated[str, typer.Option("--format", help="yaml or json.")] = "yaml") -> None:
    """Print the default playbook, to copy, edit and pass back with --playbook."""
    from shopseg.cli._common import exit_usage
    from shopseg.personalize.playbook import playbook_text

    if fmt not in ("yaml", "json"):
        exit_usage(f"--format must be yaml or json; got {fmt!r}.")
    typer.echo(playbook_text(fmt=fmt), nl=False)


@nba_app.command("customer")
def customer(
    customer_id: Annotated[str, typer.Argument(help="A customer_id.")],
    playbook_file: PlaybookOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The next best action of one customer: action, reason and recommended products."""
    from shopseg.personalize.nba import next_best_actions

    pb = _playbook(playbook_file)
    with open_workspace() as ws:
        row = next_best_actions(ws, [customer_id], playbook=pb).iloc[0]
    if as_json:
        emit_json({"customer_id": customer_id, "playbook": pb.name, **row.to_dict()})
        return
    console.print(f"[bold]{customer_id}[/]: {row['action_name']}", highlight=False)
    for label in ("action", "reason", "channel", "products"):
        console.print(f"  {label}: {row[label] or '-'}", highlight=False, markup=False)


@nba_app.command("run")
def run(
    playbook_file: PlaybookOpt = None,
    out: Annotated[str | None, typer.Option("--out", "-o", help="Also write the table as CSV.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Every customer's action, stored as customer_next_actions; prints the count per action."""
    from shopseg.personalize.nba import NBA_TABLE, next_best_actions

    pb = _playbook(playbook_file)
    with open_workspace() as ws, console.status("Matching playbook rules..."):
        table = next_best_actions(ws, playbook=pb, store=True)
    if out:
        from shopseg.export.spreadsheet import write_csv

        write_csv(table, out)
    counts = table["action_name"].value_counts()
    order = [r.name for r in pb.rules] + ["none"]
    if as_json:
        emit_json(
            {
                "table": NBA_TABLE,
                "playbook": pb.name,
                "customers": len(table),
                "actions": [
                    {"action": a, "customers": int(counts.get(a, 0)), "share": counts.get(a, 0) / max(len(table), 1)}
                    for a in order
                ],
            }
        )
        return
    print_table(
        f"{NBA_TABLE}: playbook '{pb.name}', {len(table):,} customers",
        ["action", "customers", "share"],
        [(a, int(counts.get(a, 0)), f"{counts.get(a, 0) / max(len(table), 1):.1%}") for a in order],
    )


@nba_app.command("segment")
def segment(
    name: Annotated[str, typer.Argument(help="Saved segment, RFM segment or lifecycle stage.")],
    playbook_file: PlaybookOpt = None,
    out: Annotated[str | None, typer.Option("--out", "-o", help="Write the members' actions as CSV.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """The actions the playbook gives a segment's members: counts per action, and the table with --out."""
    from shopseg.personalize.nba import next_best_actions
    from shopseg.segments.audience import segment_customer_ids

    pb = _playbook(playbook_file)
    with open_workspace() as ws:
        members, kind = segment_customer_ids(ws, name)
        table = next_best_actions(ws, members, playbook=pb)
    if out:
        from shopseg.export.spreadsheet import write_csv

        write_csv(table, out)
    counts = table["action_name"].value_counts()
    rows = [
        (
            a,
            int(n),
            f"{n / max(len(table), 1):.1%}",
            next(r.reason for r in pb.rules if r.name == a) if a != "none" else "",
        )
        for a, n in counts.items()
    ]
    if as_json:
        keys = ("action", "customers", "share", "reason")
        emit_json(
            {
                "segment": name,
                "kind": kind,
                "playbook": pb.name,
                "members": len(table),
                "actions": [
                    dict(zip(keys, (a, n, int(n) / max(len(table), 1), why), strict=True)) for a, n, _, why in rows
                ],
            }
        )
        return
    print_table(
        f"Next best actions in {kind} '{name}' ({len(table):,} members)", ["action", "customers", "share", "why"], rows
    )


def register(app: typer.Typer) -> None:
    app.add_typer(nba_app, name="nba")
