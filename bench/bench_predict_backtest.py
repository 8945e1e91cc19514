"""Prediction backtests on real stores: purchases per frequency group and churn, as Markdown.

    python bench/bench_predict_backtest.py

For Online Retail (UCI, ../shared/data/online_retail.parquet) and CDNOW master
(../shared/data/CDNOW_master.txt, 23,570 customers), each ingested with its
preset into a temporary workspace:

- purchase backtest (:func:`shopseg.predict.purchase_backtest`): the default
  purchase model (MBG/NBD) fitted on the calibration period, holdout purchases per
  calibration-frequency group against the truth, MAE per customer against the
  naive "same repeat rate" baseline (with a bootstrap interval), coverage of the
  per-customer 80% intervals and the randomized PIT histogram. CDNOW: calibration to 1997-09-30, holdout to 1998-06-30 (the papers'
  39 + 39 weeks); Online Retail: the default split (half the history).
- churn backtest (:func:`shopseg.models.churn.churn_backtest`): churn = no
  purchase in 90 days; gradient boosting trained on the previous cutoff, AUC and
  Brier against 1 - P(alive), P(no purchase) and recency only; 1 - P(alive) AUC of
  BG/NBD, MBG/NBD and Pareto/NBD.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
CASES = [
    ("Online Retail (UCI)", "online_retail.parquet", "online_retail", None, None),
    ("CDNOW master", "CDNOW_master.txt", "cdnow", "1997-09-30", "1998-06-30"),
]


def report(title: str, file: str, preset: str, cal: str | None, obs: str | None, tmp: Path) -> list[str]:
    from shopseg.engine import get_engine
    from shopseg.io import ingest
    from shopseg.models.churn import churn_backtest
    from shopseg.predict import purchase_backtest
    from shopseg.workspace import Workspace

    ws = Workspace.init(tmp / f"{preset}.duckdb")
    ingest(ws, "orders", SHARED / file, preset=preset)
    engine = get_engine(ws, "duckdb")
    t0 = time.perf_counter()
    pb = purchase_backtest(engine, cal, obs)
    t1 = time.perf_counter()
    cb = churn_backtest(engine, None, 90)
    t2 = time.perf_counter()
    ws.close()
    i, c = pb.info, cb.info
    lines = [
        f"### {title}",
        "",
        f"Purchase backtest: calibration to {i['calibration_end']}, holdout to {i['observation_end']} "
        f"({i['holdout_days']} days), {i['customers']:,} customers; {t1 - t0:.1f} s.",
        "",
        "| repeat purchases in calibration | customers | actual mean | model mean | naive mean | actual total | model total |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in pb.groups.itertuples():
        lines.append(
            f"| {r.group} | {r.customers:,} | {r.actual_mean:.3f} | {r.predicted_mean:.3f} | {r.naive_mean:.3f} | "
            f"{int(r.actual_total):,} | {r.predicted_total:,.1f} |"
        )
    lines += ["", f"**{pb.verdict()}.**", ""] + [f"- {line}" for line in pb.coverage_lines()] + [""]
    lines += [f"- note: {w}" for w in i["warnings"]] + ([""] if i["warnings"] else [])
    lines += [
        f"Churn backtest (no purchase in {c['horizon_days']} days): trained on cutoff {c['train_cutoff']} "
        f"({c['train_customers']:,} buyers), tested on {c['test_cutoff']} ({c['test_customers']:,} buyers, "
        f"{100 * c['test_churn_rate']:.1f}% churned); {t2 - t1:.1f} s.",
        "",
        "| score | AUC | Brier |",
        "|---|---|---|",
    ]
    names = {
        "churn_model": "churn model (HistGradientBoosting)",
        "p_alive": "MBG/NBD 1 - P(alive)",
        "no_purchase": "MBG/NBD P(no purchase in 90 days)",
        "recency": "recency only",
    }
    for key, r in cb.metrics.iterrows():
        lines.append(f"| {names[key]} | {r.auc:.3f} | {r.brier:.3f} |")
    by_model = ", ".join(f"{k} {v:.3f}" for k, v in c["p_alive_auc"].items())  # type: ignore[union-attr]
    lines += ["", f"1 - P(alive) AUC by purchase model: {by_model}", ""] + [f"- **{v}**" for v in cb.verdicts()] + [""]
    return lines


def main() -> None:
    out = ["## Prediction backtests (shopseg predict backtest)", ""]
    with tempfile.TemporaryDirectory() as tmp:
        for case in CASES:
            out += report(*case, Path(tmp))
    print("\n".join(out))


if __name__ == "__main__":
    main()
