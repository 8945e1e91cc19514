"""Run every benchmark in one go and rewrite bench/RESULTS.md.

    python bench/run_all.py                    # 1M customers (~10M order lines)
    python bench/run_all.py --customers 100000 # a quicker pass

Each case runs in its own process (see harness.py); figures are wall-clock
seconds on this machine and the child's peak resident memory.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import ROOT, Result, machine, markdown_table, run_case  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"

# Other benchmark scripts, each printing its own side-by-side figures; their output goes into RESULTS.md.
# "{store}" stands for the generated store's workspace (features and RFM built by the cases above).
SCRIPTS = [
    ("CLV models vs lifetimes (issue 5)", ["bench/bench_clv.py"]),
    ("Prediction backtests on real data (issue 5)", ["bench/bench_predict_backtest.py"]),
    ("Segment language (issue 4)", ["bench/bench_segments.py"]),
    ("Clustering vs a plain scikit-learn pipeline (issue 6)", ["bench/bench_cluster.py"]),
    ("Recommendations vs global popularity, last-order holdout (issue 8)", ["bench/bench_recommend.py"]),
    ("Live segmentation over HTTP on loopback (issue 7)", ["bench/bench_live.py"]),
    ("Dashboard pages at the store's size (issue 9)", ["bench/bench_dashboard.py", "{store}"]),
]


def run_script(argv: list[str]) -> str:
    """Run one benchmark script to completion and return what it printed (or why it did not run)."""
    import subprocess

    if not (ROOT / argv[0]).exists():
        return f"(not run: {argv[0]} does not exist yet)"
    proc = subprocess.run([sys.executable, *argv], cwd=ROOT, capture_output=True, text=True, timeout=3600)
    out = proc.stdout.strip()
    if proc.returncode != 0:
        out += f"\n(exit {proc.returncode}: {proc.stderr.strip().splitlines()[-1:]})"
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--out", default=str(ROOT / "bench" / "out"))
    parser.add_argument("--skip-lifetimes", action="store_true", help="lifetimes takes minutes at 10M lines")
    parser.add_argument("--only-core", action="store_true", help="skip the other benchmark scripts")
    parser.add_argument("--reuse", action="store_true", help="reuse the generated store in --out if it is there")
    args = parser.parse_args()
    out = str(Path(args.out) / f"store-{args.customers}")

    if args.reuse and (Path(out) / "prepared.json").exists():
        import json

        prep = Result(
            "generate + write Parquet + load workspace (reused)",
            float("nan"),
            float("nan"),
            json.loads((Path(out) / "prepared.json").read_text()),
        )
    else:
        prep = run_case(
            "generate + write Parquet + load workspace", "bench.cases:prepare", out_dir=out, customers=args.customers
        )
    if "error" in prep.extra:
        raise SystemExit(f"prepare failed: {prep.extra['error']}")
    as_of = str(prep.extra["as_of"])
    print(f"prepared in {prep.seconds:.1f}s: {prep.extra}")

    ingest: list[Result] = [
        run_case("shopseg ingest (flat order lines, Parquet)", "bench.cases:shopseg_ingest", out_dir=out)
    ]
    if (SHARED / "online_retail.parquet").exists():
        ingest.append(
            run_case(
                "shopseg ingest Online Retail (541,909 lines)",
                "bench.cases:shopseg_ingest_online_retail",
                path=str(SHARED / "online_retail.parquet"),
                out_dir=out,
            )
        )
    for r in ingest:
        print(r)

    features = [
        run_case("shopseg features + RFM (DuckDB)", "bench.cases:shopseg_features_rfm", out_dir=out, as_of=as_of),
        run_case("shopseg purchase core + RFM (DuckDB)", "bench.cases:shopseg_core_rfm", out_dir=out, as_of=as_of),
        run_case(
            "shopseg purchase core + RFM, summing the lines (DuckDB)",
            "bench.cases:shopseg_core_rfm_from_lines",
            out_dir=out,
            as_of=as_of,
        ),
        run_case(
            "shopseg refresh order_totals (part of ingest)", "bench.cases:shopseg_refresh_order_totals", out_dir=out
        ),
        run_case("pandas hand-written features + RFM", "bench.cases:pandas_features_rfm", out_dir=out, as_of=as_of),
        run_case("bare DuckDB GROUP BY, Parquet file (floor)", "bench.cases:duckdb_floor_file", out_dir=out),
        run_case("bare DuckDB GROUP BY, workspace tables (floor)", "bench.cases:duckdb_floor_workspace", out_dir=out),
    ]
    if not args.skip_lifetimes:
        features.append(
            run_case(
                "lifetimes summary_data_from_transaction_data",
                "bench.cases:lifetimes_summary",
                out_dir=out,
                as_of=as_of,
            )
        )
    for r in features:
        print(r)

    store = str(Path(out) / "store.duckdb")
    others = (
        ""
        if args.only_core
        else "\n".join(
            f"\n## {title}\n`python {' '.join(argv)}`\n\n```text\n{run_script([a.format(store=store) for a in argv])}\n```\n"
            for title, argv in SCRIPTS
        )
    )
    prepared = (
        "Generated by an earlier run (`--reuse`); generating 1M customers takes about a minute (docs/generator.md)."
        if args.reuse and prep.seconds != prep.seconds
        else f"Generating it, writing Parquet and loading the workspace took {prep.seconds:.1f} s (peak {prep.peak_mb:.0f} MB)."
    )
    text = f"""# Benchmark results

Latest run: {date.today()} on {machine()}; `python bench/run_all.py --customers {args.customers}`.
Each case runs in a fresh process; seconds are wall time inside the case, peak MB the process's peak RSS.

## Data
Synthetic store from `shopseg generate`: {prep.extra.get("customers"):,} customers,
{prep.extra.get("order_lines"):,} order lines. {prepared}

## Ingest (issue 2)
{markdown_table(ingest)}

## Features + RFM (issue 3)
{markdown_table(features, baseline="shopseg purchase core + RFM (DuckDB)")}

Targets: at least 3x faster than pandas, within 1.5x of the bare DuckDB GROUP BY floor, peak under 2 GB.
"purchase core" reads the `purchase_days` table ingest keeps beside `order_totals` (docs/features.md;
re-summing both is the "refresh" row, paid once per ingest); "summing the lines" is the same core without
them. It computes what the pandas pipeline computes (lifetimes frequency/recency/T/monetary_value,
orders, revenue, days since last order, R/F/M quintiles with customer_id tie-break); the full feature table
has about {features[0].extra.get("columns", "?")} columns (browsing, carts, email, categories, channels, demographics)
and reads the events table too.
{others}"""
    (ROOT / "bench" / "RESULTS.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
