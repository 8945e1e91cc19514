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
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from shopseg.models.cluster.preprocess import LINEAR_FEATURES, signed_log1p

__all__ = ["PHRASES", "profile_clusters", "name_clusters", "distinguishing_features"]

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
    for c in np.unique(labels):
        mask = labels == c
        part = df[mask]
        row: dict[str, object] = {"cluster": int(c), "customers": int(mask.sum()), "share": round(float(mask.mean()), 4)}
        rev = float(pd.to_numeric(part[revenue], errors="coerce").fillna(0).sum()) if revenue in df else 0.0
        row["revenue_share"] = round(rev / total_rev, 4) if total_rev else float("nan")
        for f in features:
            if pd.api.types.is_numeric_dtype(df[f]) or pd.api.types.is_bool_dtype(df[f]):
                x = _scaled(df[f], f)
                sd = np.nanstd(x)
                row[f] = float(pd.to_numeric(part[f], errors="coerce").astype(float).median())
                row[f"{f}_z"] = round(float((np.nanmean(x[mask]) - np.nanmean(x)) / sd), 3) if sd > 0 else 0.0
            else:
                counts = part[f].fillna("(none)").value_counts()
                row[f] = str(counts.index[0])
                row[f"{f}_mode_share"] = round(float(counts.iloc[0] / counts.sum()), 3)
        rows.append(row)
    profile = pd.DataFrame(rows)
    profile.insert(1, "cluster_name", name_clusters(profile, df, features))
    return profile


def distinguishing_features(profile_row: pd.Series, limit: int = 3) -> list[tuple[str, float]]:
    """The ``limit`` features with the largest ``|z|`` in one profile row, as ``(feature, z)``."""
    zs = {k[:-2]: float(v) for k, v in profile_row.items() if str(k).endswith("_z") and pd.notna(v)}
    return sorted(zs.items(), key=lambda kv: -abs(kv[1]))[:limit]


def _name(row: pd.Series, frame: pd.DataFrame, features: Sequence[str]) -> str:
    adjectives: list[str] = []
    noun = "prospects" if "orders" in row and row["orders"] == 0 else None
    nouns: list[tuple[int, str]] = []
    for feature, z in distinguishing_features(row, limit=len(row)):
        if feature not in PHRASES or abs(z) < _THRESHOLD:
            continue
        phrase = PHRASES[feature][0 if z > 0 else 1]
        if phrase is None or (feature == "orders" and noun == "prospects"):
            continue
        if phrase.endswith("!"):
            nouns.append((-abs(z) * (1.5 if feature == "revenue" else 1.0), phrase[:-1]))
        elif len(adjectives) < 2:
            adjectives.append(phrase)
    noun = noun or (min(nouns)[1] if nouns else "customers")  # strongest |z|, spend weighted x1.5
    name = " ".join([*adjectives, noun])
    name = name[0].upper() + name[1:]
    for f in features:
        share = row.get(f"{f}_mode_share")
        if share is not None and pd.notna(share) and share >= 0.5 and row[f] != "(none)":
            overall = float((frame[f] == row[f]).mean())
            if share >= 1.5 * overall:
                name += f", {str(row[f]).lower()}"
    return name


def name_clusters(profile: pd.DataFrame, frame: pd.DataFrame, features: Sequence[str]) -> list[str]:
    """A readable, unique name for each profile row (duplicates get " 2", " 3")."""
    names: list[str] = []
    for _, row in profile.iterrows():
        base = _name(row, frame, features)
        name, i = base, 2
        while name in names:
            name, i = f"{base} {i}", i + 1
        names.append(name)
    return names
