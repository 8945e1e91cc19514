"""Next best action: the first matching playbook rule per customer, its reason, and recommended products.

>>> import tempfile, os
>>> from shopseg.datasets import generate_store
>>> from shopseg.datasets.write import write_store
>>> from shopseg.workspace import Workspace
>>> ws = Workspace.init(os.path.join(tempfile.mkdtemp(), "ws.duckdb"))
>>> write_store(ws, generate_store(300, seed=2))
>>> table = next_best_actions(ws)
>>> list(table.columns)
['customer_id', 'action_name', 'action', 'reason', 'channel', 'products']
>>> ws.close()
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from shopseg.config import get_setting
from shopseg.engine import get_engine
from shopseg.errors import SegmentError
from shopseg.personalize.playbook import Playbook, default_playbook
from shopseg.personalize.service import fit_workspace
from shopseg.rules.compile import segment_flags
from shopseg.rules.nodes import Segment
from shopseg.rules.parse import parse_segment
from shopseg.workspace import Workspace

__all__ = ["NBA_TABLE", "next_best_actions", "ensure_inputs", "action_audiences"]

NBA_TABLE = "customer_next_actions"
NO_ACTION = "none"


def ensure_inputs(ws: Workspace) -> None:
    """Build the customer features, RFM map and lifecycle stages when the workspace lacks them."""
    from shopseg.features import FEATURES_TABLE, build_features
    from shopseg.segments.lifecycle import LIFECYCLE_TABLE, build_lifecycle
    from shopseg.segments.rfm_map import RFM_TABLE, build_rfm

    if not ws.has_table(FEATURES_TABLE):
        build_features(ws)
    if not ws.has_table(RFM_TABLE):
        build_rfm(ws)
    if not ws.has_table(LIFECYCLE_TABLE):
        build_lifecycle(ws)


def _first_match(ws: Workspace, playbook: Playbook) -> pd.DataFrame:
    from shopseg.segments.definitions import SegmentStore

    store = SegmentStore(ws)
    rules = {r.name: Segment(parse_segment(r.when).rule, source=r.when, name=r.name) for r in playbook.rules}
    try:
        flags = segment_flags(
            get_engine(ws, get_setting("engine")),
            rules,
            as_of=store.as_of(),
            fields=store.fields,
            saved=store.definitions(),
        ).to_pandas()
    except SegmentError as exc:
        raise SegmentError(f"playbook '{playbook.name}', rule 'when' of {exc}", exc.issues) from None
    cols = [f"s__{i}" for i in range(len(rules))]
    hit = flags[cols].fillna(False).to_numpy(dtype=bool)
    first = np.where(hit.any(axis=1), hit.argmax(axis=1), -1)
    return pd.DataFrame({"customer_id": flags["customer_id"].astype(str), "rule": first}).sort_values("customer_id")


def next_best_actions(
    ws: Workspace, customer_ids: Sequence[str] | None = None, *, playbook: Playbook | None = None, store: bool = False
) -> pd.DataFrame:
    """The action of each customer (all, or ``customer_ids``) under ``playbook`` (default the built-in one).

    Returns
    -------
    pandas.DataFrame
        ``customer_id, action_name, action, reason, channel, products`` where
        ``products`` is a comma-separated list of recommended product ids and
        ``action_name`` is ``"none"`` when no rule matches. With ``store=True``
        it is also written as the table ``customer_next_actions``.
    """
    playbook = playbook or default_playbook()
    ensure_inputs(ws)
    match = _first_match(ws, playbook)
    if customer_ids is not None:
        from shopseg.personalize.service import _known

        _known(ws, list(customer_ids))
        match = match[match["customer_id"].isin(set(customer_ids))]
    rules = playbook.rules
    pick = match["rule"].to_numpy()
    out = pd.DataFrame(
        {
            "customer_id": match["customer_id"].to_numpy(),
            "action_name": [rules[i].name if i >= 0 else NO_ACTION for i in pick],
            "action": [rules[i].action if i >= 0 else "" for i in pick],
            "reason": [rules[i].reason if i >= 0 else "no playbook rule matches" for i in pick],
            "channel": [rules[i].channel if i >= 0 else "" for i in pick],
        }
    )
    out["products"] = _products(ws, out["customer_id"].to_numpy(dtype=object), pick, [r.products for r in rules])
    if store:
        ws.write_table(NBA_TABLE, out)
    return out.reset_index(drop=True)


def action_audiences(ws: Workspace, playbook: Playbook | None = None) -> pd.DataFrame:
    """How many customers each play of ``playbook`` (default the built-in one) gets, and their predicted CLV.

    A read-only aggregate over the first matching rule of every customer (no products are picked).

    Returns
    -------
    pandas.DataFrame
        ``action_name, action, reason, channel, customers, clv`` in playbook order, then ``none``; ``clv``
        sums the audience's predicted CLV over the prediction horizon (NaN before ``shopseg predict``).
    """
    playbook = playbook or default_playbook()
    match = _first_match(ws, playbook)
    counts = match["rule"].value_counts()
    value = pd.Series(dtype="float64")
    if ws.has_table("customer_predictions"):
        clv = ws.con.execute("SELECT customer_id, clv FROM customer_predictions").df()
        joined = match.merge(clv, on="customer_id", how="left")
        value = joined.groupby("rule")["clv"].sum(min_count=1)
    rules = [*playbook.rules, None]
    return pd.DataFrame(
        {
            "action_name": [r.name if r else NO_ACTION for r in rules],
            "action": [r.action if r else "" for r in rules],
            "reason": [r.reason if r else "no playbook rule matches" for r in rules],
            "channel": [r.channel if r else "" for r in rules],
            "customers": [int(counts.get(i if r else -1, 0)) for i, r in enumerate(rules)],
            "clv": [float(value.get(i if r else -1, float("nan"))) for i, r in enumerate(rules)],
        }
    )


def _products(ws: Workspace, customers: np.ndarray, pick: np.ndarray, counts: list[int]) -> list[str]:
    want = np.array([counts[i] if i >= 0 else 0 for i in pick])
    result = [""] * len(customers)
    if not want.any():
        return result
    rec = fit_workspace(ws, include_bought=False)  # an action attaches products the customer has not bought
    n = int(want.max())
    rows = rec.data_.rows(customers)
    idx, _ = rec.recommend(rows, n=n)
    by_customer = {rec.data_.customers[r]: i for i, r in enumerate(rows)}
    top = np.argsort(-rec.popularity_, kind="stable")[:n]  # customers without any history
    for k, (cid, w) in enumerate(zip(customers, want, strict=True)):
        if w:
            items = idx[by_customer[cid]] if cid in by_customer else top
            items = items[items >= 0]  # -1: nothing left to recommend
            result[k] = ",".join(rec.data_.products[items[:w]])
    return result
