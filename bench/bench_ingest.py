"""Ingest of the flat order-lines file: this checkout against a baseline commit, in one run.

    python bench/bench_ingest.py --customers 1000000 --baseline d8d467a [--rounds 2]

The store is generated once (``bench.cases.prepare``); each round runs the baseline's
ingest and this checkout's ingest, each in a fresh process (the baseline's sources
come first on its ``PYTHONPATH``, from a temporary ``git worktree``), alternating so
that the machine's load falls on both alike. Prints wall, CPU and peak memory per run
and the median ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import ROOT, machine, run_case  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--baseline", default=None, help="git commit to compare with (default: none)")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--out", default=str(Path(tempfile.gettempdir()) / "shopseg-bench-ingest"))
    args = ap.parse_args()
    out = Path(args.out) / str(args.customers)
    if not (out / "prepared.json").exists():
        print(f"preparing a store of {args.customers:,} customers in {out} ...", flush=True)
        print(
            run_case("prepare", "bench.cases:prepare", timeout_s=7200, out_dir=str(out), customers=args.customers).extra
        )
    info = json.loads((out / "prepared.json").read_text())
    print(f"{machine()}; {info['order_lines']:,} order lines")
    base_src = _worktree(args.baseline) if args.baseline else None
    rows: dict[str, list] = {"this checkout": [], f"baseline {args.baseline}": []}
    for _ in range(args.rounds):
        for label, src in ((f"baseline {args.baseline}", base_src), ("this checkout", None)):
            if label.startswith("baseline") and src is None:
                continue
            env = os.environ.get("PYTHONPATH")
            os.environ["PYTHONPATH"] = str(src) if src else (env or "")
            try:
                r = run_case(label, "bench.cases:shopseg_ingest", out_dir=str(out))
            finally:
                os.environ["PYTHONPATH"] = env or ""
            rows[label].append(r)
            print(
                f"{label:<24} wall {r.seconds:7.2f} s  cpu {r.cpu_s:7.2f} s  peak {r.peak_mb:7.0f} MB  {r.extra}",
                flush=True,
            )
    if base_src is not None:
        new = statistics.median(r.seconds for r in rows["this checkout"])
        old = statistics.median(r.seconds for r in rows[f"baseline {args.baseline}"])
        print(f"median wall: this checkout {new:.2f} s, baseline {old:.2f} s ({new / old:.2f}x)")


def _worktree(ref: str) -> Path:
    path = Path(tempfile.gettempdir()) / f"shopseg-baseline-{ref}"
    if not path.exists():
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(path), ref], check=True, capture_output=True
        )
    return path / "src"


if __name__ == "__main__":
    main()
