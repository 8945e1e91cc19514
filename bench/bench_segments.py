"""Segment language speed: one 10-condition rule over a store, and refreshing 50 saved segments.

    python bench/bench_segments.py                      # 1M customers (reuses bench/out/store-1000000 if present)
    python bench/bench_segments.py --customers 100000   # a quicker pass

Side by side on the same feature table, in one process:

- shopseg: ``segment_size`` (the rule parsed, validated, compiled to one Ibis expression and counted on DuckDB),
  with a new threshold each time (nothing reused but the tables' schemas), and the same rule again
  (the engine keeps the compiled query while no table definition changes);
- the floor: the same conditions hand-written as one DuckDB SQL query over the same tables;
- pandas: the same conditions as boolean masks over the feature table already in memory
  (the load of the frame is reported separately);
- shopseg's Python evaluator (``evaluate_segment``, the live path) on 10,000 profiles, per second.

Then 50 saved segments (the rule with varied thresholds) refreshed by ``SegmentStore.refresh``,
which evaluates all of them in one query and writes the dated snapshots.
Target (issue 4): under 200 ms per rule on DuckDB at 1M customers.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ROOT = Path(__file__).resolve().parents[1]

RULE = (
    "orders >= 2 AND revenue > {spend} AND days_since_last_order < 365 AND country IN ('Germany', 'France', 'United Kingdom', 'United States') "
    "AND email_marketing = true AND (age IS NULL OR age BETWEEN 25 AND 60) AND NOT rfm_segment = 'Lost' "
    "AND discount_share < 0.8 AND product_views_90d >= 0 AND lifecycle != 'prospect'"
)
SQL = """
SELECT count(*) FROM customer_features f
LEFT JOIN customer_rfm r USING (customer_id) LEFT JOIN customer_lifecycle l USING (customer_id)
WHERE f.orders >= 2 AND f.revenue > {spend} AND f.days_since_last_order < 365
  AND f.country IN ('Germany', 'France', 'United Kingdom', 'United States') AND f.email_marketing = true
  AND (f.age IS NULL OR f.age BETWEEN 25 AND 60) AND NOT (r.rfm_segment = 'Lost')
  AND f.discount_share < 0.8 AND f.product_views_90d >= 0 AND l.stage != 'prospect'
"""


def _median_ms(fn: Any, repeat: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), out


def _workspace(customers: int) -> Path:
    """A workspace with features, RFM and lifecycle: the run_all store if present, else generated here."""
    from shopseg.datasets import generate_store, write_store
    from shopseg.features import build_features
    from shopseg.segments.lifecycle import build_lifecycle
    from shopseg.segments.rfm_map import build_rfm
    from shopseg.workspace import Workspace

    path = ROOT / "bench" / "out" / f"store-{customers}" / "store.duckdb"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        ws = Workspace.init(path, overwrite=True)
        write_store(ws, generate_store(customers, seed=7))
        ws.close()
    with Workspace.open(path) as ws:
        if not ws.has_table("customer_features"):
            build_features(ws, engine="duckdb", return_frame=False)
        if not ws.has_table("customer_rfm"):
            build_rfm(ws, engine="duckdb", return_frame=False)
        if not ws.has_table("customer_lifecycle"):
            build_lifecycle(ws, engine="duckdb")
    return path


def _pandas_mask(f: Any, spend: float) -> int:
    m = (
        (f.orders >= 2)
        & (f.revenue > spend)
        & (f.days_since_last_order < 365)
        & f.country.isin(["Germany", "France", "United Kingdom", "United States"])
        & (f.email_marketing == True)  # noqa: E712
        & (f.age.isna() | f.age.between(25, 60))
        & ~(f.rfm_segment == "Lost")
        & (f.discount_share < 0.8)
        & (f.product_views_90d >= 0)
        & (f.stage != "prospect")
    )
    return int(m.sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--segments", type=int, default=50)
    args = parser.parse_args()

    from shopseg.engine import get_engine
    from shopseg.rules.compile import segment_size
    from shopseg.rules.evaluate import evaluate_segment
    from shopseg.rules.parse import parse_segment
    from shopseg.segments.definitions import SegmentStore
    from shopseg.workspace import Workspace

    path = _workspace(args.customers)
    rows: list[tuple[str, str, str]] = []
    with Workspace.open(path) as ws:
        store = SegmentStore(ws)
        engine = get_engine(ws, "duckdb")
        as_of = store.as_of()
        n = ws.con.execute("SELECT count(*) FROM customer_features").fetchone()[0]
        seg = parse_segment(RULE.format(spend=100))
        spends = iter(range(101, 101 + args.repeat))  # a new threshold each time: parsed, built and compiled anew
        ms, _ = _median_ms(
            lambda: segment_size(
                engine, parse_segment(RULE.format(spend=next(spends))), as_of=as_of, fields=store.fields
            ),
            args.repeat,
        )
        rows.append(
            (
                "shopseg rule -> Ibis -> DuckDB (10 conditions), new rule each time",
                f"{ms:.0f}",
                "parse + validate + compile + count",
            )
        )
        ms, shop = _median_ms(
            lambda: segment_size(engine, parse_segment(RULE.format(spend=100)), as_of=as_of, fields=store.fields),
            args.repeat,
        )
        rows.append(("shopseg, the same rule counted again (compiled query kept)", f"{ms:.0f}", f"members={shop:,}"))
        ms, floor = _median_ms(lambda: ws.con.execute(SQL.format(spend=100)).fetchone()[0], args.repeat)
        rows.append(("hand-written DuckDB SQL, same tables (floor)", f"{ms:.0f}", f"members={floor:,}"))
        load_start = time.perf_counter()
        frame = ws.con.execute(
            "SELECT * FROM customer_features LEFT JOIN customer_rfm USING (customer_id) "
            "LEFT JOIN customer_lifecycle USING (customer_id)"
        ).df()
        load_ms = (time.perf_counter() - load_start) * 1000
        ms, pd_count = _median_ms(lambda: _pandas_mask(frame, 100), args.repeat)
        rows.append(
            (
                "pandas boolean masks, frame in memory",
                f"{ms:.0f}",
                f"members={pd_count:,}; loading the frame {load_ms:,.0f} ms",
            )
        )
        profiles = frame.head(10_000).to_dict("records")
        for p in profiles:
            p["last_order_at"] = p.get("last_order_at")
        start = time.perf_counter()
        for p in profiles:
            evaluate_segment(seg, p, as_of=as_of, fields=store.fields)
        rate = len(profiles) / (time.perf_counter() - start)
        rows.append(
            (
                "shopseg Python evaluator, one profile at a time",
                f"{1000 / rate:.3f} per profile",
                f"{rate:,.0f} profiles/s",
            )
        )
        if not shop == floor == pd_count:
            raise SystemExit(f"member counts disagree: shopseg {shop}, SQL {floor}, pandas {pd_count}")

        for i in range(args.segments):
            store.create(f"bench_{i:02d}", RULE.format(spend=50 + 10 * i), replace=True, force=True)
        start = time.perf_counter()
        sizes = store.refresh(engine, as_of)
        refresh_s = time.perf_counter() - start
        rows.append(
            (
                f"shopseg refresh of {args.segments} saved segments (+ snapshots)",
                f"{refresh_s * 1000:.0f}",
                f"{refresh_s * 1000 / args.segments:.0f} ms per segment; sizes {min(sizes.values()):,}..{max(sizes.values()):,}",
            )
        )
        for i in range(args.segments):
            store.delete(f"bench_{i:02d}")

    print(f"{n:,} customers; rule: {seg_text(seg)}\n")
    print("| case | ms | notes |\n|---|---:|---|")
    for r in rows:
        print(f"| {r[0]} | {r[1]} | {r[2]} |")
    print("\nTarget: under 200 ms per rule on DuckDB.")


def seg_text(seg: Any) -> str:
    from shopseg.rules.render import render

    return render(seg)


if __name__ == "__main__":
    main()
