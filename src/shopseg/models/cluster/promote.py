"""``--promote``: turn a cluster into an editable rule segment with a shallow decision tree.

A depth-limited :class:`~sklearn.tree.DecisionTreeClassifier` learns "in the
cluster or not" from the *plain* features (no log, no scaling), so its
thresholds read as business rules. Each root-to-leaf path that predicts the
cluster becomes an AND of comparisons; the paths are joined by OR and
rendered in the segment language's text form::

    orders >= 4 AND days_since_last_order < 60

Thresholds of integer-valued features are rounded to whole numbers (``<= 3.5``
becomes ``< 4``), others to 3 significant figures. The rule is then evaluated
on the same customers (NULL never matches, as in the segment language) and
its accuracy, precision and recall against the cluster are reported.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.tree import DecisionTreeClassifier

from shopseg.errors import InvalidParameterError

__all__ = ["PromotedRule", "promote_cluster"]


@dataclass(frozen=True)
class PromotedRule:
    """A cluster as a rule: ``text`` in the segment language, and how well it matches."""

    cluster: int
    text: str
    accuracy: float
    precision: float
    recall: float
    members: int
    matched: int


@dataclass(frozen=True)
class _Cond:
    column: str
    op: str  # "<", ">=", "=", "!="
    value: float | str

    def text(self) -> str:
        value = f"'{self.value}'" if isinstance(self.value, str) else _num(self.value)
        return f"{self.column} {self.op} {value}"

    def mask(self, frame: pd.DataFrame) -> np.ndarray:
        col = frame[self.column]
        known = col.notna().to_numpy()
        if isinstance(self.value, str):
            hit = (col.astype(object) == self.value).to_numpy()
            return known & (hit if self.op == "=" else ~hit)
        x = pd.to_numeric(col, errors="coerce").astype(float).to_numpy()
        with np.errstate(invalid="ignore"):
            return known & ((x < self.value) if self.op == "<" else (x >= self.value))


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.3g}"


def _design(frame: pd.DataFrame, features: Sequence[str]) -> tuple[np.ndarray, list[tuple[str, str | None]]]:
    """Plain numeric columns plus one indicator per value of each text feature."""
    cols: list[np.ndarray] = []
    spec: list[tuple[str, str | None]] = []
    for f in features:
        if pd.api.types.is_numeric_dtype(frame[f]) or pd.api.types.is_bool_dtype(frame[f]):
            cols.append(pd.to_numeric(frame[f], errors="coerce").astype(float).to_numpy())
            spec.append((f, None))
        else:
            for value in sorted(frame[f].dropna().astype(str).unique()):
                cols.append((frame[f].astype(object) == value).to_numpy(dtype=float))
                spec.append((f, value))
    return np.column_stack(cols), spec


def _threshold(x: np.ndarray, t: float) -> float:
    finite = x[np.isfinite(x)]
    if finite.size and np.all(finite == np.round(finite)):
        return float(np.floor(t) + 1)  # x <= t  <=>  x < floor(t) + 1 for integers
    return float(f"{t:.3g}")


def _paths(tree: DecisionTreeClassifier, X: np.ndarray, spec: list[tuple[str, str | None]]) -> list[list[_Cond]]:
    t = tree.tree_
    out: list[list[_Cond]] = []

    def positive(node: int) -> bool:
        if t.children_left[node] == -1:
            return bool(np.argmax(t.value[node][0]) == 1)
        return positive(t.children_left[node]) and positive(t.children_right[node])

    def walk(node: int, conds: list[_Cond]) -> None:
        if t.children_left[node] == -1 or positive(node):
            if positive(node):
                out.append(conds)
            return
        column, value = spec[t.feature[node]]
        if value is not None:
            left, right = _Cond(column, "!=", value), _Cond(column, "=", value)
        else:
            cut = _threshold(X[:, t.feature[node]], float(t.threshold[node]))
            left, right = _Cond(column, "<", cut), _Cond(column, ">=", cut)
        walk(t.children_left[node], [*conds, left])
        walk(t.children_right[node], [*conds, right])

    walk(0, [])
    return [_simplify(p) for p in out]


def _simplify(conds: list[_Cond]) -> list[_Cond]:
    """Keep the tightest bound per column and direction."""
    best: dict[tuple[str, str], _Cond] = {}
    rest: list[_Cond] = []
    for c in conds:
        if isinstance(c.value, str):
            rest.append(c)
            continue
        key = (c.column, c.op)
        old = best.get(key)
        tighter = old is None or (c.value < old.value if c.op == "<" else c.value > old.value)  # type: ignore[operator]
        if tighter:
            best[key] = c
    return [*best.values(), *rest]


def promote_cluster(
    frame: pd.DataFrame,
    labels: Sequence[int] | np.ndarray,
    cluster: int,
    features: Sequence[str],
    *,
    max_depth: int = 3,
    random_state: int = 0,
) -> PromotedRule:
    """Describe ``cluster`` by a rule a marketer can read and edit.

    Parameters
    ----------
    frame : pandas.DataFrame
        The customers (plain feature columns) the clustering was fitted on.
    labels : array of int
        Their clusters.
    cluster : int
        The cluster to promote.
    features : sequence of str
        Columns the rule may use.
    max_depth : int, default=3
        Depth of the tree (at most ``2 ** max_depth`` paths; 3 stays readable).

    Examples
    --------
    >>> df = pd.DataFrame({"orders": [1, 2, 1, 8, 9, 12], "days_since_last_order": [300, 250, 280, 10, 20, 5]})
    >>> rule = promote_cluster(df, [0, 0, 0, 1, 1, 1], 1, ["orders", "days_since_last_order"])
    >>> rule.text, rule.accuracy
    ('days_since_last_order < 136', 1.0)
    """
    labels = np.asarray(labels)
    if cluster not in set(labels.tolist()):
        raise InvalidParameterError(
            f"promote: unknown cluster {cluster!r}. Expected one of {sorted(set(labels.tolist()))}; got {cluster!r}."
        )
    frame = frame.reset_index(drop=True)
    X, spec = _design(frame, features)
    y = (labels == cluster).astype(int)
    tree = DecisionTreeClassifier(
        max_depth=max_depth, min_samples_leaf=max(1, len(y) // 200), random_state=random_state
    ).fit(X, y)
    paths = _paths(tree, X, spec)
    if not paths:
        text, match = "FALSE", np.zeros(len(y), dtype=bool)
    else:
        groups = [" AND ".join(c.text() for c in p) or "TRUE" for p in paths]
        text = groups[0] if len(groups) == 1 else " OR ".join(f"({g})" if " AND " in g else g for g in groups)
        match = np.zeros(len(y), dtype=bool)
        for p in paths:
            hit = np.ones(len(y), dtype=bool)
            for c in p:
                hit &= c.mask(frame)
            match |= hit
    tp = int((match & (y == 1)).sum())
    return PromotedRule(
        cluster=int(cluster),
        text=text,
        accuracy=round(float((match == (y == 1)).mean()), 4),
        precision=round(tp / max(int(match.sum()), 1), 4),
        recall=round(tp / max(int(y.sum()), 1), 4),
        members=int(y.sum()),
        matched=int(match.sum()),
    )
