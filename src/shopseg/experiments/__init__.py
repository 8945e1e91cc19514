"""A/B tests per segment: deterministic assignment, outcomes from orders, statistics, power."""

from __future__ import annotations

from shopseg.experiments.analyze import ExperimentReport, analyze_experiment
from shopseg.experiments.assign import HOLDOUT, Split, assign_variants, bucket
from shopseg.experiments.power import sample_size_means, sample_size_proportions
from shopseg.experiments.records import assign_experiment, create_experiment, experiment_outcomes, get_experiment
from shopseg.experiments.stats import bootstrap_lift, prob_beat_control, proportion_lift, srm_check, welch_lift

__all__ = [
    "HOLDOUT",
    "ExperimentReport",
    "Split",
    "analyze_experiment",
    "assign_experiment",
    "assign_variants",
    "bucket",
    "bootstrap_lift",
    "create_experiment",
    "experiment_outcomes",
    "get_experiment",
    "prob_beat_control",
    "proportion_lift",
    "sample_size_means",
    "sample_size_proportions",
    "srm_check",
    "welch_lift",
]
