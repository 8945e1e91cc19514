"""JSON endpoints of the dashboard's actions, under ``/api/v1/dashboard``: the builder's field list and value
pickers, a customer's next best action, and creating, starting and analysing A/B tests.

Saved segments are read, deleted and versioned through the public ``/api/v1/segments``
routes (the dashboard's session cookie is accepted there, see :mod:`shopseg.web.app`);
these routes cover what the public API has no route for. Reads need ``viewer``;
creating and starting an experiment need ``marketer``. Errors are
:class:`~shopseg.errors.ShopsegError` subclasses, answered in the API's error shape.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from shopseg.api.keys import ApiKey
from shopseg.errors import NotFound
from shopseg.segments.query import to_records
from shopseg.web import catalogue
from shopseg.web.auth import require_dashboard_role as require_role
from shopseg.web.context import invalidate, session

__all__ = ["router", "ExperimentIn"]

router = APIRouter(prefix="/api/v1/dashboard", tags=["dashboard"])


class ExperimentIn(BaseModel):
    """An A/B test to create (``shopseg experiment create``)."""

    name: str = Field(max_length=64)
    segment: str = Field(max_length=64)
    split: str = Field(default="control=50,treatment=50", max_length=200)
    holdout: float = Field(default=0.0, ge=0.0, lt=1.0)
    start: dt.date | None = None
    end: dt.date | None = None
    description: str = Field(default="", max_length=2_000)


@router.get("/fields")
def fields(request: Request, _: ApiKey = Depends(require_role("viewer"))) -> dict[str, Any]:
    """Every field the rule language accepts in this workspace, grouped, with type and meaning; and the syntax."""
    with session(request) as s:
        groups = catalogue.field_groups(s.store.fields)
    syntax = [{"insert": text, "help": meaning} for text, meaning in catalogue.SYNTAX]
    return {"groups": groups, "syntax": syntax}


@router.get("/fields/{name}/values")
def field_values(request: Request, name: str, _: ApiKey = Depends(require_role("viewer"))) -> dict[str, Any]:
    """The values of a text field, most common first (``shopseg segment values FIELD``)."""
    with session(request) as s:
        return catalogue.picker_values(s.workspace, name, s.store.fields)


@router.get("/customers/{customer_id}/next-action")
def next_action(request: Request, customer_id: str, _: ApiKey = Depends(require_role("viewer"))) -> dict[str, Any]:
    """The customer's next best action under the built-in playbook (``shopseg nba``)."""
    from shopseg.personalize.nba import NBA_TABLE, next_best_actions
    from shopseg.web.customer import unknown_customer

    with session(request) as s:
        missing = unknown_customer(s.workspace, customer_id)
        if missing:
            raise NotFound(missing)
        if s.workspace.has_table(NBA_TABLE):  # stored by `shopseg nba --store`: one row read
            df = s.workspace.con.execute(f'SELECT * FROM "{NBA_TABLE}" WHERE customer_id = ?', [customer_id]).df()
            source = "stored"
        else:
            df, source = next_best_actions(s.workspace, [customer_id]), "computed now"
    rows = to_records(df)
    if not rows:
        raise NotFound(f"customer '{customer_id}': no next best action (the customer has no features yet).")
    return {"ok": True, "source": source, **rows[0]}


@router.post("/experiments", status_code=201)
def create_experiment(
    body: ExperimentIn, request: Request, _: ApiKey = Depends(require_role("marketer"))
) -> JSONResponse:
    """Define an A/B test on a saved segment; it starts when assigned (:func:`start_experiment`)."""
    from shopseg.experiments.records import create_experiment as create

    with session(request) as s:
        exp = create(
            s.workspace,
            body.name.strip(),
            body.segment,
            split=body.split,
            holdout=body.holdout,
            start=body.start.isoformat() if body.start else None,
            end=body.end.isoformat() if body.end else None,
            description=body.description,
        )
        invalidate(s)
    return JSONResponse({"ok": True, "name": exp.name, "split": exp.split.render()}, status_code=201)


@router.post("/experiments/{name}/start")
def start_experiment(request: Request, name: str, _: ApiKey = Depends(require_role("marketer"))) -> dict[str, Any]:
    """Assign every current member of the test's segment to a group (``shopseg experiment assign``)."""
    from shopseg.experiments.records import assign_experiment

    with session(request) as s:
        groups = assign_experiment(s.workspace, name)
        invalidate(s)
    return {"ok": True, "name": name, "groups": groups, "assigned": sum(groups.values())}


@router.get("/experiments/{name}/analysis")
def analyse_experiment(request: Request, name: str, _: ApiKey = Depends(require_role("viewer"))) -> dict[str, Any]:
    """Per-group results with lifts, intervals and the sample ratio check (``shopseg experiment analyze``)."""
    from shopseg.experiments import analyze_experiment
    from shopseg.experiments.records import get_experiment
    from shopseg.web.queries import assigned, lift_rows

    with session(request) as s:
        get_experiment(s.workspace, name)
        if not assigned(s.workspace, name):
            raise NotFound(f"experiment '{name}': nobody is assigned yet. Hint: press Start to assign its segment.")
        rep = analyze_experiment(s.workspace, name, n_boot=200, by_segment=False)
    srm = rep.srm
    return {
        "ok": True,
        "name": name,
        "control": rep.control,
        "rows": to_records(lift_rows(rep.table)),
        "srm": {"p_value": float(srm.p_value), "mismatch": bool(srm.mismatch)},
    }
