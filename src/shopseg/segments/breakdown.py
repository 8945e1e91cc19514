"""Demographic and geographic views of a segment: its members by age band, gender, country, region or city.

For each value of the dimension: members, their share of the segment, the
revenue they bring, and an **index** against the whole customer base
(the value's share among members over its share among all customers; 1.0 is
"as everywhere", 2.0 "twice as common in this segment"). Computed as one
aggregate query on the engine (no customer-level rows leave it).

>>> from shopseg.segments.breakdown import BREAKDOWN_DIMENSIONS
>>> "age_band" in BREAKDOWN_DIMENSIONS and "city" in BREAKDOWN_DIMENSIONS
True
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pandas as pd

from shopseg.errors import InvalidParameterError, did_you_mean
from shopseg.features import FEATURES_TABLE

if TYPE_CHECKING:
    from shopseg.engine import Engine
    from shopseg.rules.nodes import Segment
    from shopseg.segments.definitions import SegmentStore

__all__ = ["BREAKDOWN_DIMENSIONS", "segment_breakdown"]

#: Profile columns of ``customer_features`` a segment can be broken down by.
BREAKDOWN_DIMENSIONS = ("age_band", "gender", "country", "region", "city", "top_category")
UNKNOWN = "(unknown)"


def segment_breakdown(
    engine: Engine, store: SegmentStore, segment: Segment, by: str, *, as_of: dt.date | str | None = None
) -> pd.DataFrame:
    """Members of ``segment`` per value of ``by``, with revenue and the index against all customers.

    Parameters
    ----------
    engine : Engine
    store : SegmentStore
        Supplies the fields, saved segments (for ``segment('name')``) and the as-of date.
    segment : Segment
    by : {"age_band", "gender", "country", "region", "city", "top_category"}
    as_of : date or str, optional
        Default: the features' as-of date.

    Returns
    -------
    pandas.DataFrame
        ``<by>, members, share, revenue, revenue_share, customers, index``; most members first.
        Missing values are grouped as ``(unknown)``.

    Raises
    ------
    InvalidParameterError
        ``by`` is not a breakdown dimension.
    """
    if by not in BREAKDOWN_DIMENSIONS:
        raise InvalidParameterError(
            f"The 'by' parameter must be one of {list(BREAKDOWN_DIMENSIONS)}. Got {by!r} instead."
            f"{did_you_mean(by, BREAKDOWN_DIMENSIONS)}"
        )
    from shopseg.segments.query import SegmentQuery

    flags = SegmentQuery(store, engine).flags(segment, as_of)
    feats = engine.table(FEATURES_TABLE)
    t = feats.join(flags, feats.customer_id == flags.customer_id)
    key = t[by].cast("string").fill_null(UNKNOWN)
    member = t.member.fill_null(False)
    revenue = t.revenue.fill_null(0.0)
    agg = t.group_by(key.name(by)).aggregate(
        customers=t.count(),
        members=member.ifelse(1, 0).sum(),
        revenue=member.ifelse(revenue, 0.0).sum(),
    )
    df = engine.execute(agg)
    total_customers = int(df["customers"].sum())
    df = df[df["members"] > 0].copy()
    total_members, total_revenue = int(df["members"].sum()), float(df["revenue"].sum())
    df["share"] = df["members"] / total_members if total_members else 0.0
    df["revenue_share"] = df["revenue"] / total_revenue if total_revenue else 0.0
    base_share = df["customers"] / total_customers if total_customers else 0.0
    df["index"] = (df["share"] / base_share).where(base_share > 0)
    df["revenue"] = df["revenue"].round(2)
    cols = [by, "members", "share", "revenue", "revenue_share", "customers", "index"]
    return df.sort_values(["members", by], ascending=[False, True])[cols].reset_index(drop=True)
