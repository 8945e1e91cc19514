"""`shopseg cluster`: cluster customers, name and profile the clusters, promote one to a rule segment."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import RenderableType
from rich.markup import escape

from shopseg.cli._common import console, open_workspace
from shopseg.cli._output import JsonOpt, emit_json, fit_table, records
from shopseg.config import get_setting
from shopseg.errors import InvalidParameterError

if TYPE_CHECKING:
    import pandas as pd

CLUSTERS_TABLE, PROFILES_TABLE = "customer_clusters", "cluster_profiles"  # as in shopseg.models.cluster.workspace

__all__ = ["cluster", "register", "CLUSTERS_TABLE", "PROFILES_TABLE"]


def _parse_k(k: str) -> int | str:
    if k == "auto":
        return k
    try:
        return int(k)
    except ValueError:
        raise InvalidParameterError(f"The '--k' option must be an int >= 2 or 'auto'. Got {k!r} instead.") from None


def _curve_table(curve: pd.DataFrame, chosen: int) -> RenderableType:
    rows = [
        (str(row.k), f"{row.silhouette:.3f}", f"{row.bic:,.0f}", "<- chosen" if row.k == chosen else "")
        for row in curve.itertuples(index=False)
    ]
    return fit_table(
        "Choice of k (silhouette on a sample; BIC, knee chosen)",
        ("k", "silhouette", "BIC", ""),
        rows,
        width=console.width,
        right=[True, True, True, False],
    )


def _profile_table(profile: pd.DataFrame, features: list[str]) -> RenderableType:
    from shopseg.models.cluster.profile import distinguishing_features

    rows = []
    flat = set(str(profile["degenerate"].iloc[0]).split(", ")) if "degenerate" in profile and len(profile) else set()
    for _, row in profile.iterrows():
        apart = ", ".join(f"{f} {row[f]:,.4g} ({z:+.1f})" for f, z in distinguishing_features(row, 6) if f not in flat)
        apart = ", ".join(apart.split(", ")[:3])
        rows.append(
            (
                str(row["cluster"]),
                row["cluster_name"],
                f"{row['customers']:,}",
                f"{100 * row['revenue_share']:.1f}%",
                apart,
            )
        )
    caption = None
    if flat - {""}:
        caption = f"not used in names (no real spread: one value covers 95%+ of customers): {', '.join(sorted(flat))}"
    return fit_table(
        "Clusters",
        ("#", "name", "customers", "% revenue", "sets it apart (median, z)"),
        rows,
        width=console.width,
        caption=caption,
        right=[True, False, True, True, False],
    )


def cluster(
    k: Annotated[str, typer.Option("--k", help="Number of clusters, or 'auto' (knee of the BIC curve).")] = "auto",
    method: Annotated[str, typer.Option("--method", help="kmeans or gmm (diagonal Gaussian mixture).")] = "kmeans",
    features: Annotated[
        str | None,
        typer.Option("--features", help="Comma-separated feature columns (default: 12 behavioural + top_category)."),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same clusters).")] = 0,
    include_prospects: Annotated[
        bool, typer.Option("--include-prospects", help="Also cluster customers without a purchase.")
    ] = False,
    stability_rounds: Annotated[int, typer.Option("--stability-rounds", help="Bootstrap refits (0: skip).")] = 3,
    promote: Annotated[
        int | None, typer.Option("--promote", help="Turn this cluster into a rule (shallow decision tree).")
    ] = None,
    save_as: Annotated[
        str | None, typer.Option("--save-as", help="With --promote: save the rule as a segment of this name.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Cluster customers; print the k curve, named cluster profiles and stability; store customer_clusters."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.metrics import adjusted_rand_score

    from shopseg.datasets import TRUTH_TABLE
    from shopseg.models.cluster import bootstrap_stability, promote_cluster
    from shopseg.models.cluster.workspace import cluster_workspace

    chosen_features = [f.strip() for f in features.split(",") if f.strip()] if features else None
    with open_workspace() as ws:
        with console.status(f"Clustering customers ({method})..."), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            done = cluster_workspace(
                ws,
                _parse_k(k),
                method=method,
                features=chosen_features,
                random_state=seed,
                include_prospects=include_prospects,
                engine=get_setting("engine"),
            )
        seg, frame, out, profile = done.segmenter, done.frame, done.assignments, done.profile
        names = dict(zip(profile["cluster"], profile["cluster_name"]))
        result: dict[str, object] = {
            "table": CLUSTERS_TABLE,
            "customers": len(out),
            "k": seg.n_clusters_,
            "method": method,
            "seed": seed,
            "features": list(seg.features_),
            "k_curve": None if seg.k_curve_ is None else records(seg.k_curve_),
            "clusters": records(profile),
        }
        if not as_json:
            if seg.k_curve_ is not None:
                console.print(_curve_table(seg.k_curve_, seg.n_clusters_))
            console.print(
                f"[bold]{CLUSTERS_TABLE}[/]: {len(out):,} customers in {seg.n_clusters_} clusters · method {method} · "
                f"seed {seed} · features: {', '.join(seg.features_)}"
            )
            console.print(_profile_table(profile, seg.features_))
        notes = _notes(len(out), [str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)])
        result["notes"] = notes
        if not as_json:
            for note in notes:
                console.print(f"[yellow]note:[/] {escape(note)}", soft_wrap=True)
        if stability_rounds > 0:
            with console.status("Bootstrap stability..."), warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)  # the fit's own were said once above
                stab = bootstrap_stability(seg, frame, n_rounds=stability_rounds, random_state=seed)
            result["stability"] = {"rounds": stability_rounds, "mean_ari": stab["mean"], "min_ari": stab["min"]}
            shaky = stab["mean"] < STABLE_ARI
            if shaky:
                result["notes"] = [*notes, _UNSTABLE]
            if not as_json:
                console.print(
                    f"stability (bootstrap ARI, {stability_rounds} refits): mean {stab['mean']:.3f}, "
                    f"min {stab['min']:.3f}"
                )
                if shaky:
                    console.print(f"[yellow]note:[/] {_UNSTABLE}", soft_wrap=True)
        if ws.has_table(TRUTH_TABLE):
            truth = ws.con.execute(f'SELECT customer_id, "group" FROM "{TRUTH_TABLE}"').df()
            both = out.merge(truth, on="customer_id")
            ari = adjusted_rand_score(both["group"], both["cluster"])
            result["planted_groups_ari"] = float(ari)
            if not as_json:
                console.print(f"planted groups: adjusted Rand index {ari:.3f} ({len(both):,} customers)")
        if promote is not None:
            rule = promote_cluster(frame, seg.labels_, promote, seg.features_, random_state=seed)
            promoted: dict[str, object] = {
                "cluster": promote,
                "name": names.get(promote),
                "rule": rule.text,
                "accuracy": rule.accuracy,
                "precision": rule.precision,
                "recall": rule.recall,
                "matched": rule.matched,
                "members": rule.members,
            }
            if not as_json:
                console.print(f"\n[bold]cluster {promote} ({names.get(promote)}) as a rule[/]:\n{rule.text}")
                console.print(
                    f"accuracy {rule.accuracy:.1%} · precision {rule.precision:.1%} · recall {rule.recall:.1%} "
                    f"({rule.matched:,} matched, {rule.members:,} in the cluster)"
                )
            if save_as:
                from shopseg.segments.definitions import SegmentStore

                saved = SegmentStore(ws).create(
                    save_as,
                    rule.text,
                    description=f"promoted from cluster {promote}: {names.get(promote)}",
                    replace=True,
                )
                promoted["saved_as"] = {"name": saved.name, "version": saved.version}
                if not as_json:
                    console.print(f"saved as segment '{saved.name}' version {saved.version}")
            result["promoted"] = promoted
    if as_json:
        emit_json(result)


def register(app: typer.Typer) -> None:
    app.command("cluster")(cluster)


#: Below this mean bootstrap ARI the partition is not reproducible: a resample of the same customers
#: groups them differently (Hennig 2007 calls clusters under about 0.6 of agreement "patterns", not
#: structure; the stability module cites it).
STABLE_ARI = 0.6
_UNSTABLE = (
    f"the clusters are unstable (mean ARI under {STABLE_ARI}): resampling the customers groups them differently, "
    "so read the names as tentative; try fewer clusters (-k) or other --features"
)
#: Fewer customers than this make clusters of one or two people, which are anecdotes, not segments.
SMALL_STORE = 100


def _notes(customers: int, fit_warnings: list[str]) -> list[str]:
    """What the user must know before reading the clusters: a small store, and the fit's own warnings
    (scikit-learn's ConvergenceWarning, e.g. fewer distinct customers than clusters), said once each."""
    notes = []
    if customers < SMALL_STORE:
        notes.append(
            f"only {customers:,} customers: clusters this small describe a few people, not segments; "
            "RFM (shopseg rfm) or rules (shopseg segment create) suit a store this size"
        )
    return notes + list(dict.fromkeys(w.split("\n")[0] for w in fit_warnings))
