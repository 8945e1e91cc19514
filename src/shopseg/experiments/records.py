"""Experiments in the workspace: definitions, deterministic assignments and outcomes from orders.

Tables (created on first use):

- ``experiments``: ``name, segment, split, holdout, start_at, end_at, created_at, description``;
- ``experiment_assignments``: ``experiment, customer_id, variant, assigned_at, rfm_segment``
  (the customer's RFM segment when assigned, NULL without an RFM map).

Outcomes are read from the orders placed from ``start_at`` (inclusive) to
``end_at`` (exclusive, open when NULL): a customer **converts** with at least
one purchase, and their **revenue** is the net value of those purchase lines.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import pandas as pd

from shopseg.errors import InvalidParameterError, NotFound, WorkspaceError, did_you_mean
from shopseg.experiments.assign import Split, assign_variants
from shopseg.segments.audience import segment_customer_ids
from shopseg.workspace import Workspace

__all__ = [
    "Experiment",
    "EXPERIMENTS_TABLE",
    "ASSIGNMENTS_TABLE",
    "create_experiment",
    "get_experiment",
    "list_experiments",
    "assign_experiment",
    "experiment_outcomes",
]

EXPERIMENTS_TABLE = "experiments"
ASSIGNMENTS_TABLE = "experiment_assignments"
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")
_DDL = [
    f"""CREATE TABLE IF NOT EXISTS "{EXPERIMENTS_TABLE}" (name VARCHAR, segment VARCHAR, split VARCHAR,
        holdout DOUBLE, start_at TIMESTAMP, end_at TIMESTAMP, created_at TIMESTAMP, description VARCHAR)""",
    f"""CREATE TABLE IF NOT EXISTS "{ASSIGNMENTS_TABLE}" (experiment VARCHAR, customer_id VARCHAR, variant VARCHAR,
        assigned_at TIMESTAMP, rfm_segment VARCHAR)""",
]


@dataclass(frozen=True)
class Experiment:
    """One experiment's definition."""

    name: str
    segment: str
    split: Split
    start_at: dt.datetime
    end_at: dt.datetime | None
    description: str = ""


def _ensure(ws: Workspace) -> None:
    if ws.read_only:
        return
    for stmt in _DDL:
        ws.con.execute(stmt)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


def _timestamp(value: str | dt.datetime | dt.date | None, what: str) -> dt.datetime | None:
    if value is None or isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time())
    try:
        return dt.datetime.fromisoformat(str(value))
    except ValueError:
        raise InvalidParameterError(
            f"experiment: the {what} date must be ISO (YYYY-MM-DD[ HH:MM]). Got {value!r}."
        ) from None


def list_experiments(ws: Workspace) -> list[Experiment]:
    """Every experiment, by name."""
    _ensure(ws)
    if not ws.has_table(EXPERIMENTS_TABLE):
        return []
    rows = ws.con.execute(f'SELECT * FROM "{EXPERIMENTS_TABLE}" ORDER BY name').df()
    return [
        Experiment(
            r["name"],
            r["segment"],
            Split.parse(r["split"], holdout=float(r["holdout"])),
            r["start_at"].to_pydatetime(),
            None if pd.isna(r["end_at"]) else r["end_at"].to_pydatetime(),
            r["description"] or "",
        )
        for _, r in rows.iterrows()
    ]


def get_experiment(ws: Workspace, name: str) -> Experiment:
    """One experiment; :class:`NotFound` with a suggestion otherwise."""
    found = {e.name: e for e in list_experiments(ws)}
    if name not in found:
        hint = did_you_mean(name, found) or (
            f" Known: {', '.join(found)}." if found else " Hint: create one with `shopseg experiment create`."
        )
        raise NotFound(f"experiment '{name}': no such experiment.{hint}")
    return found[name]


def create_experiment(
    ws: Workspace,
    name: str,
    segment: str,
    *,
    split: str | Split = "control=50,treatment=50",
    holdout: float = 0.0,
    start: str | dt.datetime | None = None,
    end: str | dt.datetime | None = None,
    description: str = "",
) -> Experiment:
    """Define an experiment on a segment (checked to exist) with a split and an optional holdout share."""
    if not _NAME.fullmatch(name or ""):
        raise InvalidParameterError(
            f"experiment name {name!r}: expected a letter then letters, digits, '_' or '-' (64 max)."
        )
    _ensure(ws)
    if any(e.name == name for e in list_experiments(ws)):
        raise WorkspaceError(
            f"experiment '{name}' already exists; assignments must not change under it. Pick a new name."
        )
    sp = split if isinstance(split, Split) else Split.parse(split, holdout=holdout)
    segment_customer_ids(ws, segment)  # the audience must exist now
    start_at = _timestamp(start, "start") or _now()
    end_at = _timestamp(end, "end")
    if end_at is not None and end_at <= start_at:
        raise InvalidParameterError(f"experiment '{name}': the end {end_at} must be after the start {start_at}.")
    ws.con.execute(
        f'INSERT INTO "{EXPERIMENTS_TABLE}" VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
        [name, segment, sp.render(), sp.holdout, start_at, end_at, _now(), description],
    )
    return Experiment(name, segment, sp, start_at, end_at, description)


def assign_experiment(ws: Workspace, name: str) -> dict[str, int]:
    """Assign every current member of the experiment's segment (new members are added, nobody moves).

    Returns
    -------
    dict
        Customers per group among all assignments of the experiment.
    """
    exp = get_experiment(ws, name)
    members, _ = segment_customer_ids(ws, exp.segment)
    done = {
        r[0]
        for r in ws.con.execute(
            f'SELECT customer_id FROM "{ASSIGNMENTS_TABLE}" WHERE experiment = ?', [name]
        ).fetchall()
    }
    new = [c for c in members if c not in done]
    if new:
        df = pd.DataFrame(
            {
                "experiment": name,
                "customer_id": new,
                "variant": assign_variants(name, new, exp.split),
                "assigned_at": _now(),
            }
        )
        df["rfm_segment"] = df["customer_id"].map(_rfm_now(ws)).astype(object)
        ws.con.register("_shopseg_assign", df)
        try:
            ws.con.execute(f'INSERT INTO "{ASSIGNMENTS_TABLE}" SELECT * FROM _shopseg_assign')
        finally:
            ws.con.unregister("_shopseg_assign")
    rows = ws.con.execute(
        f'SELECT variant, count(*) FROM "{ASSIGNMENTS_TABLE}" WHERE experiment = ? GROUP BY 1', [name]
    ).fetchall()
    return {str(v): int(n) for v, n in sorted(rows)}


def _rfm_now(ws: Workspace) -> pd.Series:
    """RFM segment per customer today: stored with each assignment, so the per-segment analysis groups
    customers by where they were before the treatment (a segment measured afterwards is itself an outcome)."""
    if not ws.has_table("customer_rfm"):
        return pd.Series(dtype=object)
    df = ws.con.execute("SELECT customer_id, rfm_segment FROM customer_rfm").df()
    return pd.Series(df["rfm_segment"].to_numpy(), index=df["customer_id"])


def experiment_outcomes(ws: Workspace, name: str) -> pd.DataFrame:
    """``customer_id, variant, rfm_segment`` (at assignment), ``converted, orders, revenue`` of every assigned customer."""
    exp = get_experiment(ws, name)
    out = ws.con.execute(
        f"""
        WITH lines AS (
            -- the features' purchase and return lines (shopseg.features.purchases): a sale adds its value, a
            -- return (negative quantity, negative price or is_return) takes |quantity| x |price| back, a
            -- cancelled order's sales are void
            SELECT o.customer_id, o.order_id,
                   CASE WHEN l.quantity > 0 AND l.unit_price >= 0 AND NOT coalesce(l.is_return, false)
                             AND NOT coalesce(o.is_cancelled, false)
                        THEN greatest(l.quantity * l.unit_price - coalesce(l.discount, 0), 0)
                        WHEN l.unit_price <> 0 AND (l.quantity < 0 OR (coalesce(l.is_return, false)
                             AND NOT coalesce(o.is_cancelled, false)))
                        THEN -greatest(abs(l.quantity) * abs(l.unit_price) - coalesce(l.discount, 0), 0)
                        ELSE 0 END AS value
            FROM orders o JOIN order_lines l USING (order_id)
            WHERE o.ordered_at >= ? AND (? IS NULL OR o.ordered_at < ?)),
        per AS (SELECT customer_id, count(DISTINCT CASE WHEN value > 0 THEN order_id END) AS orders,
                       round(sum(value), 2) AS revenue FROM lines GROUP BY 1)
        SELECT a.customer_id, a.variant, a.rfm_segment, coalesce(p.orders, 0) > 0 AS converted, coalesce(p.orders, 0) AS orders,
               greatest(coalesce(p.revenue, 0), 0) AS revenue
        FROM "{ASSIGNMENTS_TABLE}" a LEFT JOIN per p USING (customer_id)
        WHERE a.experiment = ? ORDER BY a.customer_id
        """,
        [exp.start_at, exp.end_at, exp.end_at, name],
    ).df()
    if out.empty:
        raise NotFound(f"experiment '{name}': nobody is assigned yet. Hint: run `shopseg experiment assign {name}`.")
    return out
