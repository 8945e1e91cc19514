"""Feature choice and preprocessing for clustering: signed log1p + standardize, weighted one-hot.

Counts, money and day counts are right-skewed, so numeric features go through
``sign(x) * log1p(|x|)`` (``log1p`` on the usual non-negative features) and are
then standardized; ratios in [0, 1] (:data:`LINEAR_FEATURES`) are only
standardized. Missing numbers take the column median. Categorical features
are one-hot encoded and multiplied by ``categorical_weight``: the
k-prototypes idea (Huang 1998) of one weight trading categorical mismatches
against numeric distance, expressed so that plain k-means and Gaussian
mixtures can use it.

References
----------
Huang, Z. (1998). Extensions to the k-means algorithm for clustering large data
sets with categorical values. *Data Mining and Knowledge Discovery* 2(3).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from shopseg.errors import InvalidParameterError, did_you_mean

__all__ = ["DEFAULT_FEATURES", "LINEAR_FEATURES", "resolve_features", "build_preprocessor", "signed_log1p"]

#: The default behavioural features (12 numeric + top category, one-hot).
DEFAULT_FEATURES: list[str] = [
    "orders",
    "revenue",
    "avg_order_value",
    "days_since_last_order",
    "basket_size",
    "distinct_categories",
    "discount_share",
    "product_views_90d",
    "add_to_carts_90d",
    "abandoned_checkouts_90d",
    "email_opens_90d",
    "tenure_days",
    "top_category",
]

#: Bounded ratios: standardized without the log.
LINEAR_FEATURES = frozenset(
    {"discount_share", "return_rate", "share_web", "share_app", "share_store", "browse_to_buy_ratio"}
)


def signed_log1p(x: np.ndarray) -> np.ndarray:
    """``sign(x) * log1p(|x|)``: ``log1p`` for non-negative values, defined for all reals.

    Examples
    --------
    >>> signed_log1p(np.array([0.0, np.e - 1, -(np.e - 1)])).round(6).tolist()
    [0.0, 1.0, -1.0]
    """
    x = np.asarray(x, dtype=float)
    return np.sign(x) * np.log1p(np.abs(x))


def _is_linear(name: str, data: pd.Series) -> bool:
    return name in LINEAR_FEATURES or (name.startswith("share_") and bool(data.dropna().between(0, 1).all()))


def resolve_features(
    X: pd.DataFrame, features: Sequence[str] | None, *, where: str = "ClusterSegmenter"
) -> tuple[list[str], list[str]]:
    """Split the requested features into ``(numeric, categorical)`` columns of ``X``.

    ``features=None`` takes the :data:`DEFAULT_FEATURES` present in ``X``, or
    every column when none of them is.

    Raises
    ------
    InvalidParameterError
        A requested feature is not a column of ``X`` (with "Did you mean").
    """
    columns = [str(c) for c in X.columns]
    if features is None:
        chosen = [f for f in DEFAULT_FEATURES if f in columns] or columns
    else:
        chosen = list(features)
        for name in chosen:
            if name not in columns:
                raise InvalidParameterError(
                    f"{where}: unknown feature {name!r}. Expected a column of the feature table; "
                    f"got {name!r}.{did_you_mean(name, columns)}"
                )
    if not chosen:
        raise InvalidParameterError(f"{where}: no features to cluster on. Expected at least one; got 0.")
    numeric = [f for f in chosen if pd.api.types.is_numeric_dtype(X[f]) or pd.api.types.is_bool_dtype(X[f])]
    categorical = [f for f in chosen if f not in numeric]
    return numeric, categorical


def build_preprocessor(
    X: pd.DataFrame, numeric: Sequence[str], categorical: Sequence[str], categorical_weight: float = 0.5
) -> Pipeline:
    """An unfitted sklearn pipeline: median impute, (signed) log1p, standardize; weighted one-hot.

    Parameters
    ----------
    X : pandas.DataFrame
        Used only to decide which numeric columns are bounded ratios (no log).
    numeric, categorical : sequence of str
        From :func:`resolve_features`.
    categorical_weight : float, default=0.5
        Multiplier of the one-hot columns (two customers in different
        categories are ``categorical_weight * sqrt(2)`` apart on that feature).
    """
    linear = [f for f in numeric if _is_linear(f, X[f])]
    logged = [f for f in numeric if f not in linear]
    parts = []
    if logged:
        parts.append(
            (
                "log",
                make_pipeline(
                    SimpleImputer(strategy="median", keep_empty_features=True),
                    FunctionTransformer(signed_log1p),
                    StandardScaler(),
                ),
                logged,
            )
        )
    if linear:
        parts.append(
            (
                "linear",
                make_pipeline(SimpleImputer(strategy="median", keep_empty_features=True), StandardScaler()),
                linear,
            )
        )
    if categorical:
        onehot = make_pipeline(
            FunctionTransformer(_as_text, feature_names_out="one-to-one"),
            OneHotEncoder(handle_unknown="ignore", sparse_output=False),
            FunctionTransformer(_scale, kw_args={"weight": categorical_weight}, feature_names_out="one-to-one"),
        )
        parts.append(("categorical", onehot, list(categorical)))
    return Pipeline([("columns", ColumnTransformer(parts, verbose_feature_names_out=False))])


def _scale(values: np.ndarray, weight: float) -> np.ndarray:
    return np.asarray(values, dtype=float) * weight


def _as_text(frame: pd.DataFrame) -> np.ndarray:
    """Categorical columns as object strings, missing as ``"(none)"``."""
    return pd.DataFrame(frame).astype(object).where(pd.DataFrame(frame).notna(), "(none)").astype(str).to_numpy()
