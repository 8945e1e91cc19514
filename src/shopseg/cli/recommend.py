"""`shopseg recommend ...`: products for a customer, a segment's top products, the offline evaluation."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Annotated

import typer

from shopseg.cli._common import console, open_workspace, print_table
from shopseg.cli._output import JsonOpt, emit_json, records

if TYPE_CHECKING:
    from shopseg.personalize.blend import Blend

__all__ = ["register", "recommend_app"]

recommend_app = typer.Typer(
    help="Recommendations: buy-again, co-purchase/co-view similarity and segment popularity.", no_args_is_help=True
)
N = Annotated[int, typer.Option("--n", "-n", help="How many products.")]
IncludeBought = Annotated[
    bool | None,
    typer.Option(
        "--include-bought/--exclude-bought",
        help="Whether products the customer already bought may be recommended. "
        "Default: the choice `shopseg recommend evaluate` stored for this store, else excluded.",
    ),
]


def blend_line(blend: Blend, include_bought: bool | None = None) -> str:
    """How the recommendations were made: the blend, and whether an evaluation chose it."""
    shown = blend if include_bought is None else replace(blend, include_bought=include_bought)
    if blend.chosen_by == "validation":
        how = (
            f"chosen by `shopseg recommend evaluate` on {blend.created_at or 'an earlier run'} "
            f"(validation hit rate@10 {blend.validation_hit_rate or 0:.1%})"
        )
    else:
        how = "today's default: no evaluation stored; `shopseg recommend evaluate` chooses one for this store"
    flag = "" if include_bought is None else " (past purchases set by the command-line flag)"
    return f"Blend: {shown.weights()}{flag}; {how}."


@recommend_app.command("customer")
def customer(
    customer_id: Annotated[str, typer.Argument(help="A customer_id.")],
    n: N = 10,
    include_bought: IncludeBought = None,
    as_json: JsonOpt = False,
) -> None:
    """Top products for one customer, with the reason for each (past purchases as the stored blend says)."""
    from shopseg.personalize import load_blend, recommend_customers

    with open_workspace(read_only=True) as ws:
        recs = recommend_customers(ws, [customer_id], n=n, include_bought=include_bought)
        blend = load_blend(ws)
    if as_json:
        emit_json(
            {
                "customer_id": customer_id,
                "recommendations": records(recs),
                "blend": blend,
                "explanation": blend_line(blend, include_bought),
            }
        )
        return
    rows = [
        (int(r.rank), r.product_id, r.name or "", r.category or "", float(r.score), r.reason) for r in recs.itertuples()
    ]
    print_table(f"Recommendations for {customer_id}", ["rank", "product", "name", "category", "score", "why"], rows)
    console.print(blend_line(blend, include_bought), soft_wrap=True, highlight=False, markup=False)


@recommend_app.command("segment")
def segment(
    name: Annotated[str, typer.Argument(help="Saved segment, RFM segment or lifecycle stage.")],
    n: N = 10,
    as_json: JsonOpt = False,
) -> None:
    """A segment's most bought products, with their lift over the whole store."""
    from shopseg.personalize import segment_top_products
    from shopseg.segments.audience import segment_customer_ids

    with open_workspace(read_only=True) as ws:
        members, kind = segment_customer_ids(ws, name)
        top = segment_top_products(ws, members, n=n)
    if as_json:
        emit_json({"segment": name, "kind": kind, "members": len(members), "products": records(top)})
        return
    rows = [
        (
            int(r.rank),
            r.product_id,
            r.name or "",
            int(r.buyers),
            f"{r.share:.1%}",
            f"{r.store_share:.1%}",
            float(r.lift),
        )
        for r in top.itertuples()
    ]
    print_table(
        f"Top products of {kind} '{name}' ({len(members):,} members)",
        ["rank", "product", "name", "buyers", "share of members", "share of store", "lift"],
        rows,
    )


def _ci(value: float, ci: tuple[float, float], pct: bool) -> str:
    if pct:
        return f"{value:.1%} ({ci[0]:.1%} to {ci[1]:.1%})"
    return f"{value:.3f} ({ci[0]:.3f} to {ci[1]:.3f})"


@recommend_app.command("evaluate")
def evaluate(
    k: Annotated[int, typer.Option("--k", help="Recommendations per customer.")] = 10,
    store: Annotated[
        bool, typer.Option("--store/--no-store", help="Save the chosen blend for later recommendations.")
    ] = True,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the bootstrap and validation sample.")] = 0,
    as_json: JsonOpt = False,
) -> None:
    """Hold out each customer's last order: the blend against global popularity and buy-again, with verdicts."""
    from shopseg.personalize import evaluate_workspace

    with open_workspace(read_only=not store) as ws, console.status("Choosing the blend and evaluating..."):
        ev = evaluate_workspace(ws, k=k, store=store, seed=seed)
    n = ev.results[0].customers
    stored = store and not ev.cannot_compare
    if as_json:
        emit_json(
            {
                "k": k,
                "customers": n,
                "results": ev.results,
                "comparisons": ev.comparisons,
                "blend": ev.blend,
                "verdicts": list(ev.verdict_lines()),
                "cannot_compare": ev.cannot_compare or None,
                "stored": stored,
                "n_boot": ev.n_boot,
                "seed": ev.seed,
            }
        )
        return
    print_table(
        f"Last-order holdout, k = {k}, {n:,} customers (95% bootstrap intervals over customers)",
        ["model", f"hit rate@{k}", f"NDCG@{k}", "coverage"],
        [
            (r.model, _ci(r.hit_rate, r.hit_rate_ci, True), _ci(r.ndcg, r.ndcg_ci, False), f"{r.coverage:.1%}")
            for r in ev.results
        ],
    )
    b = ev.blend
    where = (
        f"chosen on the validation split ({b.validation_customers:,} customers, never the test holdout)"
        if b.chosen_by == "validation"
        else "today's default (no customer has the 3 orders a validation split needs)"
    )
    out = [f"Blend: {b.weights()}; {where}."]
    if ev.cannot_compare:
        out += [f"Warning: {line}." for line in ev.verdict_lines()]
    else:
        out.append(
            f"Verdicts (paired bootstrap of the difference, {ev.n_boot:,} resamples of the customers, seed {ev.seed}):"
        )
        out += [f"  {line}" for line in ev.verdict_lines()]
    if stored:
        out.append("Stored as this workspace's blend: `shopseg recommend customer` uses it.")
    elif store:
        out.append(
            "Not stored: a blend chosen on this data means nothing; `shopseg recommend customer` keeps the one it had."
        )
    else:
        out.append("Not stored (--no-store).")
    for line in out:
        console.print(line, soft_wrap=True, highlight=False, markup=False)


def register(app: typer.Typer) -> None:
    app.add_typer(recommend_app, name="recommend")
