"""Readable clusters: size, revenue share, what sets each apart (z-scores and plain numbers), a name.

A feature's z-score for a cluster is the difference between the cluster mean
and the population mean in population standard deviations, on the scale the
clustering used (``log1p`` for counts, money and days; raw for ratios), so a
handful of very large customers does not dominate. Plain numbers are cluster
medians on the original scale.

Names come from a small vocabulary of feature -> phrase rules
(:data:`PHRASES`): the two strongest adjectives and the strongest noun with ``|z| >= 0.5``
make the name ("Frequent high spenders"; the noun is the strongest, with spend weighted 1.5x), and a dominant top category is
added after a comma ("Frequent high spenders, home").

A name only claims a contrast the data has. A feature is named only when it has
real spread in the population (its most common value covers less than 95% of
customers, so it is not degenerate) and the cluster really differs: ``|z| >= 0.5``
*and* the cluster's median lies on the same side of the population median, not
on it. On a store where every buyer has one order, no cluster is "Frequent".
``named_by`` in the profile lists the features that carried the name, with
their z-scores; ``degenerate`` lists the features that could not.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from shopseg.models.cluster.preprocess import LINEAR_FEATURES, signed_log1p

__all__ = ["PHRASES", "profile_clusters", "name_clusters", "distinguishing_features", "degenerate_features"]

#: feature -> (phrase when high, phrase when low); phrases ending in "!" are nouns.
PHRASES: dict[str, tuple[str | None, str | None]] = {
    "orders": ("frequent", "one-time"),
    "revenue": ("high spenders!", "low spenders!"),
    "avg_order_value": ("big-basket", "small-basket"),
    "days_since_last_order": ("lapsed", "recent"),
    "discount_share": ("discount-driven", "full-price"),
    "abandoned_checkouts_90d": ("cart abandoners!", None),
    "product_views_90d": ("browsers!", None),
    "add_to_carts_90d": ("cart fillers!", None),
    "tenure_days": ("long-standing", "new"),
    "email_opens_90d": ("email-engaged", None),
    "return_rate": ("frequent returners!", None),
    "distinct_categories": ("multi-category", None),
}
_THRESHOLD = 0.5
_MODE_SHARE_MAX = 0.95  # a feature whose most common value covers more customers than this has no real spread


def _scaled(values: pd.Series, name: str) -> np.ndarray:
    x = pd.to_numeric(values, errors="coerce").astype(float).to_numpy()
    return x if name in LINEAR_FEATURES or name.startswith("share_") else signed_log1p(x)


def profile_clusters(
    frame: pd.DataFrame,
    labels: Sequence[int] | np.ndarray,
    features: Sequence[str],
    *,
    revenue: str = "revenue",
) -> pd.DataFrame:
    """One row per cluster: ``cluster, customers, share, revenue_share``, then for each numeric
    feature ``<f>`` (median) and ``<f>_z``; for each text feature ``<f>`` (most common value)
    and ``<f>_mode_share`` (its share in the cluster).

    Examples
    --------
    >>> df = pd.DataFrame({"orders": [1, 1, 9, 11], "revenue": [10.0, 20.0, 500.0, 700.0]})
    >>> p = profile_clusters(df, [0, 0, 1, 1], ["orders"])
    >>> p[["cluster", "customers", "revenue_share", "orders"]].to_dict("records")
    [{'cluster': 0, 'customers': 2, 'revenue_share': 0.0244, 'orders': 1.0}, {'cluster': 1, 'customers': 2, 'revenue_share': 0.9756, 'orders': 10.0}]
    """
    labels = np.asarray(labels)
    df = frame.reset_index(drop=True)
    total_rev = float(pd.to_numeric(df[revenue], errors="coerce").fillna(0).sum()) if revenue in df else 0.0
    rows = []
    numeric = [f for f in features if pd.api.types.is_numeric_dtype(df[f]) or pd.api.types.is_bool_dtype(df[f])]
    scaled = {f: _scaled(df[f], f) for f in numeric}  # once per feature, not once per cluster
    spread = {f: (float(np.nanmean(x)), float(np.nanstd(x))) for f, x in scaled.items()}
    for c in np.unique(labels):
        mask = labels == c
        part = df[mask]
        row: dict[str, object] = {
            "cluster": int(c),
            "customers": int(mask.sum()),
            "share": round(float(mask.mean()), 4),
        }
        rev = float(pd.to_numeric(part[revenue], errors="coerce").fillna(0).sum()) if revenue in df else 0.0
        row["revenue_share"] = round(rev / total_rev, 4) if total_rev else float("nan")
        for f in features:
            if f in scaled:
                mean, sd = spread[f]
                row[f] = float(pd.to_numeric(part[f], errors="coerce").astype(float).median())
                row[f"{f}_z"] = round(float((np.nanmean(scaled[f][mask]) - mean) / sd), 3) if sd > 0 else 0.0
            else:
                counts = part[f].fillna("(none)").value_counts()
                row[f] = str(counts.index[0])
                row[f"{f}_mode_share"] = round(float(counts.iloc[0] / counts.sum()), 3)
        rows.append(row)
    profile = pd.DataFrame(rows)
    names, named_by = _names_and_reasons(profile, df, features)
    profile.insert(1, "cluster_name", names)
    profile["named_by"] = named_by
    profile["degenerate"] = ", ".join(sorted(degenerate_features(df, features)))
    return profile


def degenerate_features(frame: pd.DataFrame, features: Sequence[str]) -> set[str]:
    """Numeric features without real spread: one value covers 95%+ of the customers (or none is known)."""
    out = set()
    for f in features:
        if f not in frame or not (pd.api.types.is_numeric_dtype(frame[f]) or pd.api.types.is_bool_dtype(frame[f])):
            continue
        values = pd.to_numeric(frame[f], errors="coerce").dropna()
        if values.empty or float(values.value_counts(normalize=True).iloc[0]) > _MODE_SHARE_MAX:
            out.add(f)
    return out


def distinguishing_features(profile_row: pd.Series, limit: int = 3) -> list[tuple[str, float]]:
    """The ``limit`` features with the largest ``|z|`` in one profile row, as ``(feature, z)``."""
    zs = {k[:-2]: float(v) for k, v in profile_row.items() if str(k).endswith("_z") and pd.notna(v)}
    return sorted(zs.items(), key=lambda kv: -abs(kv[1]))[:limit]


def _real_contrast(row: pd.Series, feature: str, z: float, medians: dict[str, float], flat: set[str]) -> bool:
    """Whether the cluster differs on ``feature`` enough to be named for it (see the module docstring)."""
    if feature in flat or abs(z) < _THRESHOLD:
        return False
    own, overall = row.get(feature), medians.get(feature)
    if own is None or overall is None or pd.isna(own) or pd.isna(overall):
        return True
    return (float(own) > overall) if z > 0 else (float(own) < overall)


def _name(
    row: pd.Series, frame: pd.DataFrame, features: Sequence[str], medians: dict[str, float], flat: set[str]
) -> tuple[str, str]:
    adjectives: list[str] = []
    noun = "prospects" if "orders" in row and row["orders"] == 0 else None
    nouns: list[tuple[float, str, str]] = []
    used: list[str] = []
    for feature, z in distinguishing_features(row, limit=len(row)):
        if feature not in PHRASES or not _real_contrast(row, feature, z, medians, flat):
            continue
        phrase = PHRASES[feature][0 if z > 0 else 1]
        if phrase is None or (feature == "orders" and noun == "prospects"):
            continue
        if phrase.endswith("!"):
            nouns.append((-abs(z) * (1.5 if feature == "revenue" else 1.0), phrase[:-1], f"{feature} ({z:+.1f})"))
        elif len(adjectives) < 2:
            adjectives.append(phrase)
            used.append(f"{feature} ({z:+.1f})")
    if noun is None and nouns:
        best = min(nouns)
        noun = best[1]
        used.append(best[2])  # strongest |z|, spend weighted x1.5
    name = " ".join([*adjectives, noun or "customers"])
    name = name[0].upper() + name[1:]
    for f in features:
        share = row.get(f"{f}_mode_share")
        if share is not None and pd.notna(share) and share >= 0.5 and row[f] != "(none)":
            overall = float((frame[f] == row[f]).mean())
            if share >= 1.5 * overall:
                name += f", {str(row[f]).lower()}"
                used.append(f"{f} = {row[f]} ({share:.0%} vs {overall:.0%})")
    return name, ", ".join(used)


def _names_and_reasons(
    profile: pd.DataFrame, frame: pd.DataFrame, features: Sequence[str]
) -> tuple[list[str], list[str]]:
    flat = degenerate_features(frame, features)
    medians = {
        f: float(pd.to_numeric(frame[f], errors="coerce").median())
        for f in features
        if f in frame and (pd.api.types.is_numeric_dtype(frame[f]) or pd.api.types.is_bool_dtype(frame[f]))
    }
    names: list[str] = []
    reasons: list[str] = []
    for _, row in profile.iterrows():
        base, why = _name(row, frame, features, medians, flat)
        name, i = base, 2
        while name in names:
            name, i = f"{base} {i}", i + 1
        names.append(name)
        reasons.append(why)
    return names, reasons


def name_clusters(profile: pd.DataFrame, frame: pd.DataFrame, features: Sequence[str]) -> list[str]:
    """A readable, unique name for each profile row (duplicates get " 2", " 3")."""
    return _names_and_reasons(profile, frame, features)[0]
