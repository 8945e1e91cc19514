"""A supervised churn classifier: scikit-learn's HistGradientBoostingClassifier on customer features.

The target is "no purchase in the N days after the as-of date" (see
:mod:`shopseg.models.churn.labels`). The inputs are the numeric customer
features (recency and frequency, spend, gaps between orders, engagement
counts, consent flags); missing values (a one-order customer has no gap
spread) are left to the booster, which handles NaN natively.
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from shopseg.errors import NotFittedError, SchemaError
from shopseg.models._validation import Interval, validate_params

if TYPE_CHECKING:
    from sklearn.ensemble import HistGradientBoostingClassifier

__all__ = ["ChurnModel", "CHURN_FEATURES", "SCORE_ROWS", "import_booster"]

#: Rows per block of :meth:`ChurnModel.predict_proba`.
SCORE_ROWS = 250_000

#: Default inputs: numeric columns of ``customer_features`` (none of them looks past the as-of date).
CHURN_FEATURES: list[str] = [
    "orders",
    "frequency",
    "recency",
    "T",
    "monetary_value",
    "revenue",
    "avg_order_value",
    "days_since_last_order",
    "avg_days_between_orders",
    "std_days_between_orders",
    "basket_size",
    "distinct_categories",
    "discount_share",
    "return_rate",
    "tenure_days",
    "orders_90d",
    "product_views_30d",
    "product_views_90d",
    "add_to_carts_90d",
    "checkouts_started_90d",
    "abandoned_checkouts_90d",
    "email_opens_90d",
    "email_clicks_90d",
    "email_marketing",
]


def import_booster() -> type[HistGradientBoostingClassifier]:
    """scikit-learn's booster class, imported on first use (0.8 s: ``predict run`` imports it in its churn
    thread, beside the purchase model's work, and ``import shopseg.models.churn`` stays light)."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier


class ChurnModel:
    """Gradient-boosted churn classifier over per-customer features.

    Parameters
    ----------
    max_iter : int, default=100
        Boosting iterations (early stopping on a 10% validation split when there are > 10,000 rows).
    learning_rate : float, default=0.1
        With ``max_iter``: 100 trees at 0.1 rank as 200 at 0.05 did (held-out AUC 0.9424 both, on the
        previous window of a 1M-customer store) at half the cost of fitting and scoring; the
        probabilities moved less than a change of ``random_state`` moves them (bench/RESULTS.md).
    max_leaf_nodes : int, default=15
    min_samples_leaf : int, default=20
    random_state : int, default=0
        Seed of the booster (results are reproducible).
    features : list of str or None, default=None
        Input columns; None uses :data:`CHURN_FEATURES` that are present in the data.
    n_threads : int or None, default=1
        OpenMP threads of the booster during ``fit`` and ``predict_proba`` (None: all cores).
        One thread by default: on a busy 2-core machine the default thread pool made a
        500-row fit take 20 s instead of 0.3 s (threads spinning on each other).

    Attributes
    ----------
    features_ : list of str
        Columns actually used.
    estimator_ : HistGradientBoostingClassifier
    n_samples_, churn_rate_ : int, float
        Training rows and their share of churners.

    Examples
    --------
    >>> X = pd.DataFrame({"days_since_last_order": np.arange(200.0), "orders": np.ones(200)})
    >>> y = (X.days_since_last_order > 100).astype(int)
    >>> model = ChurnModel(max_iter=20).fit(X, y)
    >>> bool(model.predict_proba(X.iloc[[0]])[0] < 0.5 < model.predict_proba(X.iloc[[199]])[0])
    True
    """

    _parameter_constraints: dict[str, list[Any]] = {
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "max_leaf_nodes": [Interval(Integral, 2, None, closed="left")],
        "min_samples_leaf": [Interval(Integral, 1, None, closed="left")],
        "random_state": [Interval(Integral, 0, None, closed="left")],
        "features": [list, None],
        "n_threads": [Interval(Integral, 1, None, closed="left"), None],
    }

    def __init__(
        self,
        max_iter: int = 100,
        *,
        learning_rate: float = 0.1,
        max_leaf_nodes: int = 15,
        min_samples_leaf: int = 20,
        random_state: int = 0,
        features: list[str] | None = None,
        n_threads: int | None = 1,
    ) -> None:
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.random_state = random_state
        self.features = features
        self.n_threads = n_threads

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self._parameter_constraints}

    def set_params(self, **params: Any) -> ChurnModel:
        for key, value in params.items():
            if key not in self._parameter_constraints:
                raise ValueError(f"Invalid parameter {key!r} for ChurnModel.")
            setattr(self, key, value)
        return self

    def _matrix(self, X: pd.DataFrame, columns: list[str]) -> np.ndarray:
        return np.column_stack([pd.to_numeric(X[c], errors="coerce").astype("float64").to_numpy() for c in columns])

    def fit(self, X: pd.DataFrame, y: Any) -> ChurnModel:
        """Fit on a feature frame ``X`` and 0/1 labels ``y`` (1 = churned).

        Raises
        ------
        InvalidParameterError
            A hyperparameter is out of range.
        SchemaError
            A requested feature is missing, lengths differ, or ``y`` holds a single class.
        """
        validate_params(self)
        columns = list(self.features) if self.features is not None else [c for c in CHURN_FEATURES if c in X.columns]
        missing = [c for c in columns if c not in X.columns]
        if missing or not columns:
            raise SchemaError(
                f"ChurnModel.fit: feature columns {missing or CHURN_FEATURES} are missing; found {sorted(map(str, X.columns))}. "
                "Hint: pass the output of churn_labels or build_features.",
                table="features",
            )
        target = np.asarray(y, dtype="int64")
        if len(target) != len(X) or len(np.unique(target)) < 2:
            raise SchemaError(
                f"ChurnModel.fit: expected {len(X)} labels with both classes (0 = bought again, 1 = churned); "
                f"got {len(target)} labels, classes {sorted(set(target.tolist()))}.",
                table="labels",
            )
        booster = import_booster()(
            max_iter=self.max_iter,
            learning_rate=self.learning_rate,
            max_leaf_nodes=self.max_leaf_nodes,
            min_samples_leaf=self.min_samples_leaf,
            random_state=self.random_state,
            early_stopping="auto",
        )
        with threadpool_limits(limits=self.n_threads, user_api="openmp"):
            self.estimator_ = booster.fit(self._matrix(X, columns), target)
        self.features_ = columns
        self.n_samples_ = len(target)
        self.churn_rate_ = float(target.mean())
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """P(churn) per row of ``X``, in [0, 1].

        Scored :data:`SCORE_ROWS` rows at a time: the booster's float matrix of a block, never of all rows
        (1.7 GB at 9M buyers and 24 features).
        """
        if not hasattr(self, "estimator_"):
            raise NotFittedError(
                "This ChurnModel instance is not fitted yet. Call 'fit' with features and labels first."
            )
        missing = [c for c in self.features_ if c not in X.columns]
        if missing:
            raise SchemaError(f"ChurnModel.predict_proba: feature columns {missing} are missing.", table="features")
        out = np.empty(len(X))
        with threadpool_limits(limits=self.n_threads, user_api="openmp"):
            for start in range(0, len(X), SCORE_ROWS):
                block = self._matrix(X.iloc[start : start + SCORE_ROWS], self.features_)
                out[start : start + SCORE_ROWS] = self.estimator_.predict_proba(block)[:, 1]
        return out

    def __repr__(self) -> str:
        return "ChurnModel(" + ", ".join(f"{k}={v!r}" for k, v in self.get_params().items()) + ")"
