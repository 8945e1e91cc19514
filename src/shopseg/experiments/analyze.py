"""Analysis of an experiment: per variant and per customer segment, against the control.

For every treatment variant (and the holdout, when there is one) against the
control: conversion with the two-proportion z-test, revenue per customer with
Welch's t-test and a bootstrap interval, and the Bayesian probability to beat
control; plus one sample-ratio-mismatch check over all groups. Rows are computed
for all customers (``segment = "(all)"``) and, when the workspace had an RFM map
at assignment, for each RFM segment the customers were in **when assigned** (grouping by a
segment measured after the treatment would compare groups the treatment itself shaped).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from shopseg.config import get_setting
from shopseg.experiments.records import experiment_outcomes, get_experiment
from shopseg.experiments.stats import (
    SRMResult,
    bootstrap_lift,
    prob_beat_control,
    proportion_lift,
    srm_check,
    welch_lift,
)
from shopseg.workspace import Workspace

__all__ = ["ExperimentReport", "analyze_experiment", "compare_groups"]

ALL = "(all)"


@dataclass
class ExperimentReport:
    """What :func:`analyze_experiment` returns: the per-variant table and the SRM check."""

    name: str
    control: str
    table: pd.DataFrame
    srm: SRMResult


def compare_groups(
    df: pd.DataFrame, control: str, *, alpha: float = 0.05, n_boot: int = 1000, seed: int = 0
) -> pd.DataFrame:
    """One row per variant of ``df`` (``variant, converted, revenue``) with lifts against ``control``."""
    rows = []
    c = df[df["variant"] == control]
    for variant, g in df.groupby("variant", sort=True):
        row: dict[str, object] = {
            "variant": variant,
            "customers": len(g),
            "conversion": g["converted"].mean(),
            "revenue_per_customer": g["revenue"].mean(),
        }
        if variant != control and len(c) >= 2 and len(g) >= 2:
            conv = proportion_lift(int(c["converted"].sum()), len(c), int(g["converted"].sum()), len(g), alpha=alpha)
            rev = welch_lift(c["revenue"].to_numpy(), g["revenue"].to_numpy(), alpha=alpha)
            boot = bootstrap_lift(
                c["revenue"].to_numpy(), g["revenue"].to_numpy(), n_boot=n_boot, alpha=alpha, seed=seed
            )
            row.update(
                {
                    "conversion_lift": conv.absolute,
                    "conversion_lift_ci": conv.absolute_ci,
                    "conversion_rel_lift": conv.relative,
                    "conversion_rel_lift_ci": conv.relative_ci,
                    "conversion_p": conv.p_value,
                    "prob_beat_control": prob_beat_control(
                        int(c["converted"].sum()), len(c), int(g["converted"].sum()), len(g)
                    ),
                    "revenue_lift": rev.absolute,
                    "revenue_lift_ci": rev.absolute_ci,
                    "revenue_rel_lift": rev.relative,
                    "revenue_rel_lift_ci": rev.relative_ci,
                    "revenue_p": rev.p_value,
                    "revenue_bootstrap_ci": boot.absolute_ci,
                }
            )
        rows.append(row)
    return pd.DataFrame(rows)


def analyze_experiment(
    ws: Workspace, name: str, *, alpha: float = 0.05, n_boot: int = 1000, by_segment: bool = True, seed: int = 0
) -> ExperimentReport:
    """Per-variant (and per-RFM-segment) results of experiment ``name`` and its SRM check."""
    exp = get_experiment(ws, name)
    out = experiment_outcomes(ws, name)
    shares = exp.split.expected_shares()
    counts = out["variant"].value_counts().to_dict()
    srm = srm_check({k: int(counts.get(k, 0)) for k in shares}, shares, alpha=float(get_setting("srm_alpha")))
    parts = [compare_groups(out, exp.split.control, alpha=alpha, n_boot=n_boot, seed=seed).assign(segment=ALL)]
    if by_segment and out["rfm_segment"].notna().any():
        out = out.fillna({"rfm_segment": "(unscored)"})
        for label, g in out.groupby("rfm_segment", sort=True):
            parts.append(
                compare_groups(g, exp.split.control, alpha=alpha, n_boot=n_boot, seed=seed).assign(segment=label)
            )
    table = pd.concat(parts, ignore_index=True)
    first = ["segment", "variant"]
    table = table[first + [c for c in table.columns if c not in first]]
    return ExperimentReport(name, exp.split.control, table, srm)
