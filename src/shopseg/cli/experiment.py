"""`shopseg experiment ...`: A/B tests per segment: create, assign, analyze, power."""

from __future__ import annotations

import math
from typing import Annotated, Any

import typer

from shopseg.cli._common import console, open_workspace, print_table
from shopseg.cli._output import JsonOpt, emit_json, records

__all__ = ["register", "experiment_app"]

experiment_app = typer.Typer(
    help="A/B tests per segment: deterministic assignment, lifts, SRM check, power.", no_args_is_help=True
)


@experiment_app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="Experiment name (also the hashing salt).")],
    segment: Annotated[str, typer.Argument(help="Saved segment, RFM segment or lifecycle stage.")],
    split: Annotated[
        str, typer.Option("--split", help="Variants and weights; the first is the control.")
    ] = "control=50,treatment=50",
    holdout: Annotated[float, typer.Option("--holdout", help="Share kept out of every message, 0-1.")] = 0.0,
    start: Annotated[str | None, typer.Option("--start", help="Outcomes count from this date (default now).")] = None,
    end: Annotated[str | None, typer.Option("--end", help="Outcomes count until this date (default open).")] = None,
    description: Annotated[str, typer.Option("--description", "-d")] = "",
) -> None:
    """Define an experiment on a segment with a split and an optional holdout."""
    from shopseg.experiments import create_experiment

    with open_workspace() as ws:
        exp = create_experiment(
            ws, name, segment, split=split, holdout=holdout, start=start, end=end, description=description
        )
    shares = ", ".join(f"{k} {v:.0%}" for k, v in exp.split.expected_shares().items())
    console.print(f"[bold]{exp.name}[/] on '{exp.segment}': {shares}; outcomes from {exp.start_at}", highlight=False)


@experiment_app.command("assign")
def assign(
    name: Annotated[str, typer.Argument(help="Experiment name.")],
    out: Annotated[str | None, typer.Option("--out", "-o", help="Also write the assignments as CSV.")] = None,
) -> None:
    """Assign the segment's current members (deterministic; nobody already assigned moves)."""
    from shopseg.experiments import assign_experiment
    from shopseg.experiments.records import ASSIGNMENTS_TABLE

    with open_workspace() as ws:
        counts = assign_experiment(ws, name)
        if out:
            from shopseg.export.spreadsheet import write_csv

            query = f'SELECT customer_id, variant FROM "{ASSIGNMENTS_TABLE}" WHERE experiment = ? ORDER BY 1'
            write_csv(ws.con.execute(query, [name]).df(), out)
    total = sum(counts.values())
    print_table(
        f"{name}: {total:,} customers assigned",
        ["group", "customers", "share"],
        [(g, n, f"{n / total:.1%}") for g, n in counts.items()],
    )


def _ci(value: Any, pct: bool = True) -> str:
    if not isinstance(value, tuple) or any(math.isnan(v) for v in value):
        return "-"
    return f"[{value[0]:+.1%}, {value[1]:+.1%}]" if pct else f"[{value[0]:+,.2f}, {value[1]:+,.2f}]"


def _num(value: Any, spec: str) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else format(value, spec)


@experiment_app.command("analyze")
def analyze(
    name: Annotated[str, typer.Argument(help="Experiment name.")],
    alpha: Annotated[float, typer.Option("--alpha", help="Two-sided significance level.")] = 0.05,
    by_segment: Annotated[bool, typer.Option("--by-segment/--overall", help="Also per RFM segment.")] = True,
    as_json: JsonOpt = False,
) -> None:
    """Conversion and revenue per customer per variant (and RFM segment): lifts, CIs, P(beat control), SRM."""
    from shopseg.experiments import analyze_experiment

    with open_workspace(read_only=True) as ws:
        rep = analyze_experiment(ws, name, alpha=alpha, by_segment=by_segment)
    srm = rep.srm
    if as_json:
        emit_json({"experiment": name, "control": rep.control, "alpha": alpha, "srm": srm, "rows": records(rep.table)})
        return
    verdict = "[bold red]MISMATCH: do not trust the results[/]" if srm.mismatch else "ok"
    console.print(f"sample ratio check: chi2 {srm.chi2:.2f}, p {srm.p_value:.4f}: {verdict}")
    rows = []
    for r in rep.table.to_dict("records"):
        rows.append(
            (
                r["segment"],
                r["variant"],
                int(r["customers"]),
                f"{r['conversion']:.1%}",
                _num(r.get("conversion_lift"), "+.1%"),
                _ci(r.get("conversion_lift_ci")),
                _num(r.get("conversion_p"), ".3f"),
                _num(r.get("prob_beat_control"), ".1%"),
                f"{r['revenue_per_customer']:,.2f}",
                _num(r.get("revenue_lift"), "+,.2f"),
                _ci(r.get("revenue_lift_ci"), pct=False),
                _num(r.get("revenue_p"), ".3f"),
            )
        )
    print_table(
        f"{name}: against '{rep.control}' ({1 - alpha:.0%} intervals)",
        [
            "segment",
            "variant",
            "customers",
            "conversion",
            "lift",
            "CI",
            "p",
            "P(beat control)",
            "revenue/customer",
            "lift",
            "CI (Welch)",
            "p",
        ],
        rows,
    )


@experiment_app.command("power")
def power(
    baseline: Annotated[float | None, typer.Option("--baseline", help="Control conversion rate, e.g. 0.2.")] = None,
    mde: Annotated[float, typer.Option("--mde", help="Minimum detectable effect (absolute, or --relative).")] = 0.05,
    relative: Annotated[bool, typer.Option("--relative", help="--mde is a share of the baseline.")] = False,
    sd: Annotated[float | None, typer.Option("--sd", help="Standard deviation of a mean metric (revenue).")] = None,
    alpha: Annotated[float, typer.Option("--alpha")] = 0.05,
    power_: Annotated[float, typer.Option("--power")] = 0.8,
) -> None:
    """Customers needed per variant: a conversion test (--baseline) or a mean test (--sd)."""
    from shopseg.cli._common import exit_usage
    from shopseg.experiments import sample_size_means, sample_size_proportions

    if (baseline is None) == (sd is None):
        exit_usage("give either --baseline (conversion test) or --sd (mean test).")
    if baseline is not None:
        n = sample_size_proportions(baseline, mde, alpha=alpha, power=power_, relative=relative)
        what = f"conversion {baseline:.1%} -> {baseline + (mde * baseline if relative else mde):.1%}"
    else:
        n = sample_size_means(sd=float(sd or 0), mde=mde, alpha=alpha, power=power_)
        what = f"mean difference {mde:g} with sd {sd:g}"
    console.print(f"{n:,} customers per variant to detect {what} (alpha {alpha}, power {power_:.0%}, two-sided)")


def register(app: typer.Typer) -> None:
    app.add_typer(experiment_app, name="experiment")
