"""Choosing the number of clusters: silhouette on a seeded sample and BIC, as one curve.

For k-means the BIC is that of the spherical Gaussian mixture with one shared
variance implied by the partition (the X-means criterion, Pelleg & Moore 2000);
for Gaussian mixtures it is the mixture's own :meth:`~sklearn.mixture.GaussianMixture.bic`.
``auto`` picks the knee of the BIC curve (:func:`choose_k`); the whole curve,
silhouette included, is kept so the choice can be shown.

References
----------
Rousseeuw, P. J. (1987). Silhouettes: a graphical aid to the interpretation and
validation of cluster analysis. *J. Comput. Appl. Math.* 20.
Satopaa, V. et al. (2011). Finding a "kneedle" in a haystack. *ICDCS workshops*.
Pelleg, D. and Moore, A. (2000). X-means: extending k-means with efficient
estimation of the number of clusters. *ICML*.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from sklearn.mixture import GaussianMixture

__all__ = ["k_curve", "choose_k", "kmeans_bic", "fit_model"]


def fit_model(X: np.ndarray, k: int, method: str, n_init: int, seed: int) -> KMeans | GaussianMixture:
    """One fitted k-means or diagonal-covariance Gaussian mixture."""
    if method == "kmeans":
        return KMeans(n_clusters=k, n_init=n_init, random_state=seed).fit(X)
    return GaussianMixture(
        n_components=k, covariance_type="diag", n_init=max(1, n_init // 2), reg_covar=1e-4, random_state=seed
    ).fit(X)


def kmeans_bic(X: np.ndarray, labels: np.ndarray, inertia: float) -> float:
    """BIC of the shared-variance spherical mixture implied by a k-means partition (lower is better).

    Examples
    --------
    >>> X = np.r_[np.zeros((50, 2)), np.full((50, 2), 10.0)] + np.random.default_rng(0).normal(size=(100, 2))
    >>> bic2 = kmeans_bic(X, np.repeat([0, 1], 50), float(((X - X.reshape(2, 50, 2).mean(1).repeat(50, 0)) ** 2).sum()))
    >>> bic1 = kmeans_bic(X, np.zeros(100, int), float(((X - X.mean(0)) ** 2).sum()))
    >>> bool(bic2 < bic1)
    True
    """
    n, d = X.shape
    sizes = np.bincount(labels)
    sizes = sizes[sizes > 0]
    k = len(sizes)
    var = max(inertia / (n * d), 1e-12)
    loglik = float((sizes * np.log(sizes / n)).sum()) - 0.5 * n * d * (np.log(2 * np.pi * var) + 1.0)
    n_params = k * d + (k - 1) + 1
    return -2.0 * loglik + n_params * np.log(n)


def k_curve(
    X: np.ndarray,
    ks: Sequence[int],
    method: str = "kmeans",
    *,
    sample_size: int = 4000,
    n_init: int = 4,
    random_state: int = 0,
) -> pd.DataFrame:
    """Silhouette (on one seeded sample, the same for every k) and BIC for each k.

    Returns
    -------
    pandas.DataFrame
        Columns ``k``, ``silhouette``, ``bic``; one row per k.
    """
    rng = np.random.default_rng(random_state)
    idx = rng.choice(len(X), size=min(sample_size, len(X)), replace=False)
    rows = []
    for k in ks:
        model = fit_model(X, k, method, n_init, random_state)
        labels = model.predict(X)
        sample_labels = labels[idx]
        sil = silhouette_score(X[idx], sample_labels) if len(np.unique(sample_labels)) > 1 else float("nan")
        bic = kmeans_bic(X, labels, float(model.inertia_)) if method == "kmeans" else float(model.bic(X))
        rows.append({"k": int(k), "silhouette": float(sil), "bic": float(bic)})
    return pd.DataFrame(rows)


def choose_k(curve: pd.DataFrame) -> int:
    """The knee of the BIC curve (Kneedle, Satopaa et al. 2011): the k farthest below the chord.

    BIC keeps falling with k on customer data and the silhouette favours few,
    coarse clusters (measured on the synthetic store: silhouette peaks at
    k = 4-5, BIC falls through k = 12), so neither extreme is used alone:
    both curves are normalised to [0, 1] and the k where the BIC gain most
    exceeds the straight line between the ends is chosen.

    Examples
    --------
    >>> choose_k(pd.DataFrame({"k": [2, 3, 4, 5, 6], "bic": [100.0, 40.0, 20.0, 15.0, 12.0]}))
    3
    """
    bic = curve["bic"].to_numpy(dtype=float)
    ks = curve["k"].to_numpy()
    if len(ks) < 3 or bic[0] == bic[-1]:
        return int(ks[np.argmin(bic)])
    gain = (bic[0] - bic) / (bic[0] - bic[-1])
    line = (ks - ks[0]) / (ks[-1] - ks[0])
    return int(ks[np.argmax(gain - line)])
