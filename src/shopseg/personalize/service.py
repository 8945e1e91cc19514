"""Recommendations over a workspace: fit once, recommend to customers, list a segment's top products.

>>> import tempfile, os
>>> from shopseg.datasets import generate_store
>>> from shopseg.datasets.write import write_store
>>> ws = Workspace.init(os.path.join(tempfile.mkdtemp(), "ws.duckdb"))
>>> write_store(ws, generate_store(300, seed=2))
>>> recs = recommend_customers(ws, ["c000001"], n=3)
>>> list(recs.columns), len(recs)
(['customer_id', 'rank', 'product_id', 'name', 'category', 'score', 'reason'], 3)
>>> ws.close()
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from shopseg.errors import InvalidParameterError, NotFound
from shopseg.personalize.blend import load_blend
from shopseg.personalize.interactions import build_interactions, load_purchases, load_views
from shopseg.personalize.recommend import ItemRecommender
from shopseg.workspace import Workspace

__all__ = ["workspace_segments", "fit_workspace", "recommend_customers", "segment_top_products"]


def workspace_segments(ws: Workspace) -> pd.Series | None:
    """RFM segment per customer (``customer_rfm``), else lifecycle stage, else ``None``."""
    for table, column in (("customer_rfm", "rfm_segment"), ("customer_lifecycle", "stage")):
        if ws.has_table(table):
            df = ws.con.execute(f'SELECT customer_id, "{column}" AS s FROM "{table}"').df()
            return pd.Series(df["s"].to_numpy(), index=df["customer_id"].astype(str))
    return None


def fit_workspace(
    ws: Workspace, model: ItemRecommender | None = None, *, include_bought: bool | None = None
) -> ItemRecommender:
    """Fit ``model`` on every purchase and product view.

    Parameters
    ----------
    ws : Workspace
    model : ItemRecommender, optional
        Default: the workspace's stored blend (:func:`shopseg.personalize.blend.load_blend`:
        the one ``shopseg recommend evaluate`` chose, else today's default, past purchases excluded).
    include_bought : bool, optional
        Overrides whether past purchases may be recommended (default: the model's or blend's own).
    """
    data = build_interactions(load_purchases(ws), load_views(ws))
    rec = model if model is not None else load_blend(ws).model()
    if include_bought is not None:
        rec.include_bought = include_bought
    return rec.fit(data, workspace_segments(ws))


def _products(ws: Workspace) -> pd.DataFrame:
    return ws.con.execute("SELECT product_id, name, category FROM products").df().drop_duplicates("product_id")


def _check_n(n: int) -> None:
    if not isinstance(n, int) or n < 1:
        raise InvalidParameterError(f"The 'n' parameter must be an int in the range [1, inf). Got {n!r} instead.")


def _known(ws: Workspace, customer_ids: Sequence[str]) -> None:
    ids = pd.DataFrame({"customer_id": list(customer_ids)})
    ws.con.register("_shopseg_ids", ids)
    try:
        found = {
            r[0]
            for r in ws.con.execute(
                "SELECT customer_id FROM _shopseg_ids WHERE customer_id IN (SELECT customer_id FROM customers "
                "UNION SELECT customer_id FROM orders UNION SELECT customer_id FROM events)"
            ).fetchall()
        }
    finally:
        ws.con.unregister("_shopseg_ids")
    missing = [c for c in customer_ids if c not in found]
    if missing:
        raise NotFound(
            f"customer '{missing[0]}': not in the customers, orders or events tables "
            f"({len(missing)} unknown id(s)). Expected an existing customer_id."
        )


def recommend_customers(
    ws: Workspace,
    customer_ids: Sequence[str],
    *,
    n: int = 10,
    model: ItemRecommender | None = None,
    include_bought: bool | None = None,
) -> pd.DataFrame:
    """Top ``n`` products for each customer, with the workspace's blend (see :func:`fit_workspace`).

    Past purchases are recommended only when ``include_bought`` (default: the
    blend's choice; without a stored blend, never). Customers without history get
    their segment's (or the store's) popular products.

    Returns
    -------
    pandas.DataFrame
        ``customer_id, rank, product_id, name, category, score, reason``.

    Raises
    ------
    NotFound
        For a customer id the workspace does not know.
    """
    _check_n(n)
    _known(ws, customer_ids)
    if model is not None and hasattr(model, "data_"):
        rec = model
        if include_bought is not None:
            rec.include_bought = include_bought
    else:
        rec = fit_workspace(ws, model, include_bought=include_bought)
    data = rec.data_
    rows = data.rows(np.asarray(customer_ids, dtype=object))
    idx, val = rec.recommend(rows, n=n)
    # index -1: a customer who bought everything else gets fewer than n products
    out = pd.DataFrame(
        {
            "customer_id": np.repeat(data.customers[rows], idx.shape[1]),
            "rank": np.tile(np.arange(1, idx.shape[1] + 1), len(rows)),
            "product_id": data.products[np.maximum(idx.ravel(), 0)] if idx.size else np.array([], dtype=object),
            "score": val.ravel().round(4),
        }
    )[idx.ravel() >= 0]
    cold = [c for c in customer_ids if c not in set(data.customers[rows])]
    if cold:  # never bought nor viewed: the store's most popular products
        top = np.argsort(-rec.popularity_, kind="stable")[:n]
        out = pd.concat(
            [
                out,
                pd.DataFrame(
                    {
                        "customer_id": np.repeat(cold, len(top)),
                        "rank": np.tile(np.arange(1, len(top) + 1), len(cold)),
                        "product_id": np.tile(data.products[top], len(cold)),
                        "score": np.tile(rec.popularity_[top].round(4), len(cold)),
                    }
                ),
            ]
        )
    out["reason"] = _reasons(rec, out)
    out = out.merge(_products(ws), on="product_id", how="left")
    return out[["customer_id", "rank", "product_id", "name", "category", "score", "reason"]].reset_index(drop=True)


def _reasons(rec: ItemRecommender, recs: pd.DataFrame) -> list[str]:
    if len(recs) > 200:  # explanations are for the few customers a person reads about
        return ["similar to past purchases or popular in segment"] * len(recs)
    data, out = rec.data_, []
    pos = {p: i for i, p in enumerate(data.products)}
    for cid, pid in zip(recs["customer_id"], recs["product_id"], strict=True):
        if cid not in set(data.customers):
            out.append("popular in the store")
            continue
        row = data.row(cid)
        before = rec.bought_before(row, pos[pid])
        if before is not None:
            orders, last = before
            out.append(
                f"buy again: in {orders} of their orders, last on {last:%Y-%m-%d}"
                if last is not None
                else f"buy again: in {orders} of their orders"
            )
            continue
        src = rec.because_of(row, pos[pid])
        seg = rec.segment_names_[rec.segment_codes_[row]]
        out.append(f"bought together with {src}" if src else f"popular in segment {seg}")
    return out


def segment_top_products(ws: Workspace, customer_ids: Sequence[str], *, n: int = 10) -> pd.DataFrame:
    """The products most bought by a segment's members, with the lift over the whole store.

    Returns
    -------
    pandas.DataFrame
        ``rank, product_id, name, category, buyers, share, store_share, lift`` where
        ``share`` is the share of members who bought it and ``lift = share / store_share``.
    """
    _check_n(n)
    data = build_interactions(load_purchases(ws))
    rows = data.rows(np.asarray(list(customer_ids), dtype=object))
    if len(rows) == 0:
        raise NotFound(f"the segment has no buyers among its {len(customer_ids)} members: no products to rank.")
    buyers = np.asarray(data.bought[rows].sum(axis=0)).ravel()
    store = np.asarray(data.bought.sum(axis=0)).ravel() / data.bought.shape[0]
    share = buyers / len(customer_ids)
    top = np.lexsort((data.products, -buyers))[:n]
    out = pd.DataFrame(
        {
            "rank": np.arange(1, len(top) + 1),
            "product_id": data.products[top],
            "buyers": buyers[top].astype(int),
            "share": share[top].round(4),
            "store_share": store[top].round(4),
        }
    )
    out["lift"] = (out["share"] / out["store_share"]).round(2)
    out = out.merge(_products(ws), on="product_id", how="left")
    return out[["rank", "product_id", "name", "category", "buyers", "share", "store_share", "lift"]]
