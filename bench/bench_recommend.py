"""Recommendations on the last-order holdout: hit rate@10 and coverage against global popularity, as Markdown.

    python bench/bench_recommend.py

For UCI Online Retail (../shared/data/online_retail.parquet, ingested with its
preset, RFM map built) and a synthetic store (``shopseg generate``, 20,000
customers, seed 7, with product views), each customer's last order is held out
(customers with at least two orders); see ``shopseg.personalize.evaluate``.
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
    from shopseg.datasets.store import write_store
    from shopseg.workspace import Workspace

    ws = Workspace.init(tmp / "synthetic.duckdb")
    write_store(ws, generate_store(20_000, seed=7))
    return ws


def main() -> None:
    from shopseg.features import build_features
    from shopseg.personalize import evaluate_workspace
    from shopseg.segments.rfm import build_rfm

    lines = [
        "| data | model | customers evaluated | hit rate@10 | coverage | seconds |",
        "|---|---|---:|---:|---:|---:|",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        for title, make in (("Online Retail (UCI)", _online_retail), ("synthetic store, 20,000 customers", _synthetic)):
            ws = make(Path(tmp))
            build_features(ws)
            build_rfm(ws)
            t0 = time.perf_counter()
            results = evaluate_workspace(ws, k=10)
            seconds = time.perf_counter() - t0
            ws.close()
            for r in results:
                lines.append(f"| {title} | {r.model} | {r.customers:,} | {r.hit_rate:.1%} | {r.coverage:.1%} | {seconds:.1f} |")
    print("\n".join(lines))
    print()
    print("Hit rate@10: share of customers with at least one of their 10 recommendations in the held-out order; "
          "coverage: share of the products bought in training that are recommended to anyone. Both models exclude "
          "what the customer already bought. Seconds: fitting both models and scoring every customer.")  # fmt: skip


if __name__ == "__main__":
    main()
