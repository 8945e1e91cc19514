"""Recommendations on the last-order holdout: the chosen blend, global popularity and buy-again, as Markdown.

    python bench/bench_recommend.py

For UCI Online Retail (../shared/data/online_retail.parquet, ingested with its
preset, RFM map built) and a synthetic store (``shopseg generate``, 20,000
customers, seed 7, with product views), each customer's last order is held out
(customers with at least two orders); the blend is chosen on a validation split
of the rest; hit rate@10 and NDCG@10 carry 95% bootstrap intervals over
customers (1,000 resamples, seed 0) and the verdicts read the paired interval of
the difference; see ``shopseg.personalize.offline``.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def _online_retail(tmp: Path):  # type: ignore[no-untyped-def]
    from shopseg.io import ingest
    from shopseg.workspace import Workspace

    ws = Workspace.init(tmp / "online_retail.duckdb")
    ingest(ws, "orders", SHARED / "online_retail.parquet", preset="online_retail")
    return ws


def _synthetic(tmp: Path):  # type: ignore[no-untyped-def]
    from shopseg.datasets import generate_store
    from shopseg.datasets.write import write_store
    from shopseg.workspace import Workspace

    ws = Workspace.init(tmp / "synthetic.duckdb")
    write_store(ws, generate_store(20_000, seed=7))
    return ws


def _row(title: str, r, seconds: float) -> str:  # type: ignore[no-untyped-def]
    lo, hi = r.hit_rate_ci
    nlo, nhi = r.ndcg_ci
    return (
        f"| {title} | {r.model} | {r.customers:,} | {r.hit_rate:.1%} [{lo:.1%}, {hi:.1%}] "
        f"| {r.ndcg:.3f} [{nlo:.3f}, {nhi:.3f}] | {r.coverage:.1%} | {seconds:.1f} |"
    )


def main() -> None:
    from shopseg.features import build_features
    from shopseg.personalize import evaluate_workspace
    from shopseg.segments.rfm_map import build_rfm

    lines = [
        "| data | model | customers evaluated | hit rate@10 [95% CI] | NDCG@10 [95% CI] | coverage | seconds |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    notes = []
    with tempfile.TemporaryDirectory() as tmp:
        for title, make in (("Online Retail (UCI)", _online_retail), ("synthetic store, 20,000 customers", _synthetic)):
            ws = make(Path(tmp))
            build_features(ws)
            build_rfm(ws)
            t0 = time.perf_counter()
            ev = evaluate_workspace(ws, k=10)
            seconds = time.perf_counter() - t0
            ws.close()
            lines += [_row(title, r, seconds) for r in ev.results]
            b = ev.blend
            notes.append(
                f"{title}: blend {b.weights()}, chosen on {b.validation_customers:,} validation customers "
                f"(validation hit rate@10 {b.validation_hit_rate or 0:.1%})."
            )
            notes += [f"  {line}" for line in ev.verdict_lines()]
    print("\n".join(lines))
    print()
    print("\n".join(notes))
    print()
    print(
        "Hit rate@10: share of customers with at least one of their 10 recommendations in the held-out order; "
        "NDCG@10 with binary relevance; coverage: share of the products bought in training that are recommended "
        "to anyone. Global popularity includes or excludes past purchases as the chosen blend does; buy again "
        "(personal popularity) recommends the customer's own most-ordered products first. Seconds: choosing the "
        "blend on the validation split, fitting the three models, scoring every customer and the bootstrap."
    )


if __name__ == "__main__":
    main()
