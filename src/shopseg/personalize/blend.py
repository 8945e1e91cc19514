"""The blend of buy-again, item similarity and segment popularity, chosen per store on a validation split.

:func:`choose_blend` never sees the test holdout. From the training purchases
(everything but each repeat buyer's last order) it holds out, in turn, the last
*training* order of every customer with at least three orders (the validation
split), learns from the rest, scores every point of :data:`GRID` on at most
``max_customers`` validation customers (a seeded sample) and keeps the point with
the highest hit rate@k, ties going to the higher NDCG@k and then to the earlier
point (today's default comes first). ``shopseg recommend evaluate`` stores the
chosen blend in the workspace (metadata key ``recommend_blend``) with how it was
chosen; :func:`load_blend` gives it back to every later recommendation.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from shopseg.errors import InvalidParameterError
from shopseg.personalize.baselines import block_size, top_n
from shopseg.personalize.interactions import build_interactions
from shopseg.personalize.ranking import block_metrics, holdout_last_order, truth_matrix, views_before
from shopseg.personalize.recommend import ItemRecommender
from shopseg.personalize.repurchase import buy_again_matrix
from shopseg.workspace import Workspace

__all__ = ["BLEND_META_KEY", "GRID", "Blend", "choose_blend", "load_blend", "save_blend"]

BLEND_META_KEY = "recommend_blend"


@dataclass(frozen=True)
class Blend:
    """Weights of the score terms, whether past purchases may be recommended, and how this was decided.

    ``chosen_by`` is ``"default"`` (no evaluation has run; today's behaviour:
    past purchases excluded) or ``"validation"``; the ``validation_*`` figures
    are those of the chosen point on the validation split.
    """

    similarity_weight: float = 1.0
    segment_weight: float = 0.2
    repeat_weight: float = 2.0
    half_life_days: float = 90.0
    include_bought: bool = False
    chosen_by: str = "default"
    validation_customers: int = 0
    validation_hit_rate: float | None = None
    validation_ndcg: float | None = None
    purchases: int | None = None
    created_at: str | None = None

    def model(self, *, include_bought: bool | None = None) -> ItemRecommender:
        """An unfitted :class:`ItemRecommender` with these weights (``include_bought`` overrides the blend's)."""
        return ItemRecommender(
            similarity_weight=self.similarity_weight,
            segment_weight=self.segment_weight,
            repeat_weight=self.repeat_weight,
            half_life_days=self.half_life_days,
            include_bought=self.include_bought if include_bought is None else include_bought,
        )

    def weights(self) -> str:
        """The blend in one line, e.g. ``buy-again 2 (half-life 90 days) + similarity 1 + segment 0.2, past purchases included``."""
        parts = [f"similarity {self.similarity_weight:g}", f"segment {self.segment_weight:g}"]
        if self.include_bought:
            parts.insert(0, f"buy-again {self.repeat_weight:g} (half-life {self.half_life_days:g} days)")
        return " + ".join(parts) + (", past purchases included" if self.include_bought else ", past purchases excluded")

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Blend:
        data: dict[str, Any] = json.loads(text)
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


def _grid() -> list[Blend]:
    points = [Blend()]  # today's default first: ties go to it
    for sim in (1.0, 0.0):
        for seg in (0.0, 0.2, 0.5, 1.0):
            points.append(Blend(similarity_weight=sim, segment_weight=seg))
    for half_life in (30.0, 90.0, 365.0):
        for sim in (0.0, 0.1, 0.3, 1.0):
            for seg in (0.0, 0.1, 0.3):
                points.append(Blend(sim, seg, 1.0, half_life, include_bought=True))
    return list(dict.fromkeys(points))


GRID: list[Blend] = _grid()
"""44 points. Past purchases excluded: similarity {1, 0} x segment {0, 0.2, 0.5, 1}. Included: buy-again 1 x
half-life {30, 90, 365} days x similarity {0, 0.1, 0.3, 1} x segment {0, 0.1, 0.3} (every term is scaled to
[0, 1] per customer, so only the ratios of the weights matter)."""


def _validation(
    train: pd.DataFrame, views: pd.DataFrame | None, segments: pd.Series | None, k: int, max_customers: int, seed: int
) -> tuple[ItemRecommender, np.ndarray, Any] | None:
    fit_part, valid = holdout_last_order(train)
    if valid.empty:
        return None
    data = build_interactions(fit_part, views_before(views, valid))
    rows, truth = truth_matrix(valid, data)
    if len(rows) == 0:
        return None
    if len(rows) > max_customers:
        rows = np.sort(np.random.default_rng(seed).choice(rows, max_customers, replace=False))
    return ItemRecommender().fit(data, segments), rows, truth


def score_grid(rec: ItemRecommender, rows: np.ndarray, truth: Any, grid: list[Blend], k: int) -> np.ndarray:
    """Mean hit@k and NDCG@k of every grid point for customer ``rows``: shape ``(len(grid), 2)``."""
    half_lives = sorted({b.half_life_days for b in grid if b.include_bought})
    again = {h: buy_again_matrix(rec.data_, h).astype(np.float32) for h in half_lives}
    sums = np.zeros((len(grid), 2))
    step = block_size(rec.data_.bought.shape[1])
    for start in range(0, len(rows), step):
        block = rows[start : start + step]
        c = rec.components(block)
        got, bought = truth[block], rec.data_.bought[block]
        repeat = {h: np.asarray(m[block].todense()) for h, m in again.items()}
        for g, b in enumerate(grid):
            s = b.similarity_weight * c["similarity"] + b.segment_weight * c["segment"] + 1e-3 * rec.popularity_
            if b.include_bought:
                s = s + b.repeat_weight * repeat[b.half_life_days]
            idx, _ = top_n(s, None if b.include_bought else bought, k)
            hit, ndcg = block_metrics(idx, got)
            sums[g] += hit.sum(), ndcg.sum()
    return sums / max(len(rows), 1)


def choose_blend(
    train: pd.DataFrame,
    views: pd.DataFrame | None = None,
    segments: pd.Series | None = None,
    *,
    k: int = 10,
    max_customers: int = 5000,
    seed: int = 0,
    grid: list[Blend] | None = None,
) -> Blend:
    """The grid point with the best hit rate@k (then NDCG@k) on the validation split of ``train``.

    Parameters
    ----------
    train : pandas.DataFrame
        Purchase lines that exclude the test holdout.
    views, segments
        As in :func:`shopseg.personalize.offline.evaluate_recommenders`.
    k : int, default=10
    max_customers : int, default=5000
        Validation customers scored (a seeded sample when there are more).
    seed : int, default=0
    grid : list of Blend, optional
        Default :data:`GRID`.

    Returns
    -------
    Blend
        ``chosen_by="validation"`` with its validation figures, or today's
        default when no customer has the three orders a validation split needs.
    """
    if not isinstance(max_customers, int) or max_customers < 1:
        raise InvalidParameterError(
            f"The 'max_customers' parameter must be an int in the range [1, inf). Got {max_customers!r} instead."
        )
    grid = grid or GRID
    split = _validation(train, views, segments, k, max_customers, seed)
    if split is None:
        return Blend()
    rec, rows, truth = split
    figures = score_grid(rec, rows, truth, grid, k)
    best = int(np.lexsort((np.arange(len(grid)), -figures[:, 1], -figures[:, 0]))[0])
    return replace(
        grid[best],
        chosen_by="validation",
        validation_customers=len(rows),
        validation_hit_rate=float(figures[best, 0]),
        validation_ndcg=float(figures[best, 1]),
    )


def save_blend(ws: Workspace, blend: Blend, *, purchases: int) -> Blend:
    """Store ``blend`` as the workspace's recommendation blend, stamped with the data size and the time."""
    now = datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="seconds")
    stored = replace(blend, purchases=purchases, created_at=now)
    ws.set_meta(BLEND_META_KEY, stored.to_json())
    return stored


def load_blend(ws: Workspace) -> Blend:
    """The stored blend, or today's default (``chosen_by="default"``) when no evaluation has stored one."""
    text = ws.meta(BLEND_META_KEY)
    return Blend() if text is None else Blend.from_json(text)
