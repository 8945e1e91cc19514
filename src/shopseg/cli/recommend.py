"""`shopseg recommend ...`: products for a customer, a segment's top products, the offline evaluation."""

from __future__ import annotations

from typing import Annotated

import typer

from shopseg.cli._common import console, open_workspace, print_table

__all__ = ["register", "recommend_app"]

recommend_app = typer.Typer(help="Recommendations: co-purchase/co-view similarity plus segment popularity.",
                            no_args_is_help=True)  # fmt: skip
N = Annotated[int, typer.Option("--n", "-n", help="How many products.")]


@recommend_app.command("customer")
def customer(customer_id: Annotated[str, typer.Argument(help="A customer_id.")], n: N = 10) -> None:
    """Top products for one customer, never one they already bought, with the reason for each."""
    from shopseg.personalize import recommend_customers

    with open_workspace(read_only=True) as ws:
        recs = recommend_customers(ws, [customer_id], n=n)
    rows = [(int(r.rank), r.product_id, r.name or "", r.category or "", float(r.score), r.reason)
            for r in recs.itertuples()]  # fmt: skip
    print_table(f"Recommendations for {customer_id}", ["rank", "product", "name", "category", "score", "why"], rows)


@recommend_app.command("segment")
def segment(name: Annotated[str, typer.Argument(help="Saved segment, RFM segment or lifecycle stage.")], n: N = 10) -> None:
    """A segment's most bought products, with their lift over the whole store."""
    from shopseg.personalize import segment_top_products
    from shopseg.segments.audience import segment_customer_ids

    with open_workspace(read_only=True) as ws:
        members, kind = segment_customer_ids(ws, name)
        top = segment_top_products(ws, members, n=n)
    rows = [(int(r.rank), r.product_id, r.name or "", int(r.buyers), f"{r.share:.1%}", f"{r.store_share:.1%}", float(r.lift))
            for r in top.itertuples()]  # fmt: skip
    print_table(f"Top products of {kind} '{name}' ({len(members):,} members)",
                ["rank", "product", "name", "buyers", "share of members", "share of store", "lift"], rows)  # fmt: skip


@recommend_app.command("evaluate")
def evaluate(k: Annotated[int, typer.Option("--k", help="Recommendations per customer.")] = 10) -> None:
    """Hold out each customer's last order: hit rate@k and coverage against global popularity."""
    from shopseg.personalize import evaluate_workspace

    with open_workspace(read_only=True) as ws, console.status("Evaluating on the last-order holdout..."):
        results = evaluate_workspace(ws, k=k)
    print_table(f"Last-order holdout, k = {k}", ["model", "customers", f"hit rate@{k}", "coverage"],
                [(r.model, r.customers, f"{r.hit_rate:.1%}", f"{r.coverage:.1%}") for r in results])  # fmt: skip


def register(app: typer.Typer) -> None:
    app.add_typer(recommend_app, name="recommend")
