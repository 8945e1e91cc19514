"""`shopseg demo`: a synthetic store, end to end, with a summary and a report.

The demo needs no data of yours and no network: it generates a deterministic
store, loads it into a fresh workspace, builds the feature table, the RFM map,
the lifecycle stages and the interest scores, predicts CLV and churn, clusters
the buyers, saves a few example rule segments with a dated snapshot, prints a
summary and writes the HTML report.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from shopseg.cli._common import console, print_table, progress
from shopseg.cli.generate import default_end_date
from shopseg.config import get_setting

if TYPE_CHECKING:
    from shopseg.workspace import Workspace


def demo(
    customers: Annotated[int, typer.Option("--customers", "-n", help="Customers in the synthetic store.")] = 5_000,
    seed: Annotated[int, typer.Option(help="Random seed of the generator.")] = 42,
    directory: Annotated[Path, typer.Option("--dir", help="Folder for the demo workspace and report.")] = Path(
        "shopseg-demo"
    ),
    end_date: Annotated[
        str | None,
        typer.Option("--end-date", "--end", help="Last day of the store (YYYY-MM-DD); default today."),
    ] = None,
) -> None:
    """Generate a store; build features, RFM, lifecycle, interests, predictions, clusters and example segments; write a report."""
    from shopseg.datasets import generate_store, write_store
    from shopseg.features import build_features
    from shopseg.interests import build_interests
    from shopseg.models.cluster.workspace import cluster_workspace
    from shopseg.predict import predict_workspace
    from shopseg.reports import summarize_store, write_report
    from shopseg.segments.lifecycle import build_lifecycle
    from shopseg.segments.rfm_map import build_rfm
    from shopseg.workspace import Workspace

    if customers < 100:
        from shopseg.errors import InvalidParameterError

        raise InvalidParameterError(f"The '--customers' option must be at least 100. Got {customers} instead.")
    engine = get_setting("engine")
    ws = Workspace.init(directory / "shopseg.duckdb", overwrite=True)
    state: dict[str, Any] = {}
    steps: list[tuple[str, Callable[[], Any]]] = [
        (
            f"Generating a store of {customers:,} customers",
            lambda: state.update(tables=generate_store(customers, seed=seed, end_date=end_date or default_end_date())),
        ),
        ("Loading it into the workspace", lambda: write_store(ws, state["tables"])),
        (f"Building customer features ({engine})", lambda: build_features(ws, engine=engine, return_frame=False)),
        ("Scoring RFM segments", lambda: build_rfm(ws, engine=engine, return_frame=False)),
        ("Assigning lifecycle stages", lambda: build_lifecycle(ws, engine=engine)),
        ("Scoring interests", lambda: build_interests(ws)),
        ("Predicting CLV, churn risk and next orders", lambda: predict_workspace(ws, engine, n_bootstrap=10)),
        ("Clustering the buyers", lambda: cluster_workspace(ws, 6, random_state=seed, engine=engine)),
        ("Saving example segments and a snapshot", lambda: state.update(segments=_example_segments(ws, engine))),
        ("Writing the HTML report", lambda: state.update(report=write_report(ws, directory / "report.html"))),
    ]
    timings = []
    with progress() as bar:
        task = bar.add_task("demo", total=len(steps))
        for label, step in steps:
            bar.update(task, description=label)
            start = time.perf_counter()
            step()
            timings.append((label, round(time.perf_counter() - start, 2)))
            bar.advance(task)
        bar.update(task, description="Done")
    clusters = ws.con.execute(
        "SELECT cluster, cluster_name, customers, revenue_share FROM cluster_profiles ORDER BY cluster"
    ).df()
    state["predictions"] = ws.con.execute(
        """SELECT count(*), sum(clv), sum(clv_param_p10), sum(clv_param_p90), avg(p_alive), count(*) FILTER (churn_risk = 'high'),
                  count(*) FILTER (churn_risk = 'medium'), count(*) FILTER (churn_risk = 'low') FROM customer_predictions"""
    ).fetchone()
    summary = summarize_store(ws, extended=False)
    _print_summary(summary, timings, state["segments"], clusters, state["predictions"])
    ws.close()
    console.print(f"\nWorkspace: [bold]{ws.path.resolve()}[/]")
    console.print(f"Report:    [bold]{Path(state['report']).resolve()}[/]  (open it in a browser)")


#: Example rule segments the demo saves (name, rule, description): the segment language at work.
EXAMPLE_SEGMENTS = [
    ("lapsed_regulars", "last_order < -90d AND orders >= 3 AND email_marketing = true", "win-back e-mail list"),
    ("cart_abandoners", "abandoned_checkouts_90d >= 1 AND orders_90d = 0", "cart recovery"),
    ("valuable_at_risk", "clv > 300 AND churn_risk = 'high'", "high predicted value, high churn risk"),
    ("outdoor_fans", "outdoor_enthusiast = true AND NOT rfm_segment = 'Lost'", "interest segment"),
]


def _example_segments(ws: Workspace, engine: str) -> list[tuple[str, str, int]]:
    from shopseg.engine import get_engine
    from shopseg.segments.definitions import SegmentStore

    store = SegmentStore(ws)
    for name, rule, description in EXAMPLE_SEGMENTS:
        store.create(name, rule, description=description, replace=True, force=True)
    sizes = store.refresh(get_engine(ws, engine))
    return [(name, rule, sizes[name]) for name, rule, _ in EXAMPLE_SEGMENTS]


def _print_summary(
    summary: Any,
    timings: list[tuple[str, float]],
    segments: list[tuple[str, str, int]],
    clusters: Any,
    predictions: tuple[Any, ...],
) -> None:
    k = summary.kpis
    print_table(
        "Store",
        ["customers", "buyers", "orders", "net revenue", "gross sales", "AOV (gross)", "period"],
        [
            [
                k["customers"],
                k["buyers"],
                k["orders"],
                k["net_revenue"],
                k["gross_revenue"],
                k["avg_order_value"],
                f"{k['first_order']} .. {k['last_order']}",
            ]
        ],
    )
    rfm = summary.sections.get("rfm_segments")
    if rfm is not None:
        from shopseg.cli.rfm import render_segment_table

        console.print(render_segment_table(rfm, "RFM segments"))
    life = summary.sections.get("lifecycle")
    if life is not None:
        print_table("Lifecycle stages", list(life.columns), life.values.tolist())
    buyers, clv, lo, hi, alive, high, medium, low = predictions
    print_table(
        "Predictions (MBG/NBD + Gamma-Gamma CLV over 365 days, churn model)",
        ["buyers", "CLV total", "CLV parameter band p10 .. p90", "mean P(alive)", "churn risk high / medium / low"],
        [[int(buyers), float(clv), f"{lo:,.0f} .. {hi:,.0f}", float(alive), f"{high:,} / {medium:,} / {low:,}"]],
    )
    rows = [(int(c), name, int(n), f"{100 * s:.1f}%") for c, name, n, s in clusters.itertuples(index=False)]
    print_table("Clusters (k-means, named)", ["#", "name", "customers", "% revenue"], rows)
    print_table("Saved segments (shopseg segment list)", ["segment", "rule", "members"], segments)
    print_table("Steps", ["step", "seconds"], timings)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
