"""Stability of a clustering: agreement of refits on bootstrap samples (adjusted Rand index).

Each round refits a clone of the segmenter (same k, seed ``random_state + round``)
on a bootstrap sample of the customers, labels the customers with it (every
customer, or a seeded sample of ``score_size`` of them on a large store: the
ARI of 200,000 customers estimates the whole store's to the third decimal), and
compares those labels with the original ones by ARI. A score near 1 means the
clusters come back whatever the sample; below ~0.6 they are an artefact of
this particular data set (Hennig 2007 uses the Jaccard analogue per cluster).

References
----------
Hennig, C. (2007). Cluster-wise assessment of cluster stability.
*Computational Statistics & Data Analysis* 52(1).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.metrics import adjusted_rand_score

from shopseg.errors import InvalidParameterError, NotFittedError
from shopseg.models.cluster.segmenter import seeded_rows

__all__ = ["bootstrap_stability"]


def bootstrap_stability(
    segmenter: Any,
    X: pd.DataFrame,
    *,
    n_rounds: int = 5,
    sample_size: int | None = 20_000,
    score_size: int | None = 200_000,
    random_state: int = 0,
) -> dict[str, Any]:
    """Mean and spread of bootstrap ARI agreement with the fitted segmenter's labels.

    Parameters
    ----------
    segmenter : ClusterSegmenter
        Fitted on ``X``.
    X : pandas.DataFrame
        The data it was fitted on.
    n_rounds : int, default=5
    sample_size : int or None, default=20000
        Size of each bootstrap sample (None: ``len(X)``); capped for speed.
    score_size : int or None, default=200000
        Customers the refits are compared on: a seeded sample of this size
        (None: all of ``X``).
    random_state : int, default=0

    Returns
    -------
    dict
        ``mean``, ``min``, ``scores`` (one ARI per round).
    """
    if not hasattr(segmenter, "labels_"):
        raise NotFittedError("bootstrap_stability: the segmenter is not fitted yet. Call 'fit' first.")
    if n_rounds < 1:
        raise InvalidParameterError(f"The 'n_rounds' parameter must be an int >= 1. Got {n_rounds!r} instead.")
    rng = np.random.default_rng(random_state)
    n = len(X)
    size = n if sample_size is None else min(sample_size, n)
    labels = np.asarray(segmenter.labels_)
    scored = X
    if score_size is not None and score_size < n:
        keep = seeded_rows(n, score_size, random_state)
        scored, labels = X.iloc[keep], labels[keep]
    scores = []
    for r in range(n_rounds):
        idx = rng.choice(n, size=size, replace=True)
        refit = clone(segmenter).set_params(
            n_clusters=segmenter.n_clusters_, random_state=segmenter.random_state + r + 1
        )
        refit.fit(X.iloc[idx])
        scores.append(float(adjusted_rand_score(labels, refit.predict(scored))))
    return {"mean": float(np.mean(scores)), "min": float(np.min(scores)), "scores": scores}
