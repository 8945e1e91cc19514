"""HTML pages of the dashboard: Jinja2 templates filled with aggregates and Plotly figures.

Each page is one route that takes the workspace lock, asks
:mod:`shopseg.web.queries` for a few small frames, turns them into figures
(:mod:`shopseg.web.charts`) and renders a template. Interactive parts (the
builder's preview and save, member paging, explain, export, the event feed)
call the JSON endpoints of :mod:`shopseg.web.endpoints` from ``dashboard.js``.

Without a valid key or session a page redirects to ``/login?next=PATH``; the
builder needs the ``marketer`` role (viewers get a 403 page, and the edit and
export controls are not rendered for them). ``/login`` takes an API key and opens
a session (:func:`shopseg.web.auth.start_session`), then returns to ``next``,
only ever a path of this server (:func:`shopseg.web.security.safe_next`);
``POST /logout`` ends it. Every page carries the content security policy
:data:`shopseg.web.security.PAGE_CSP` and ``Cache-Control: no-store``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from shopseg.api.deps import get_state
from shopseg.errors import AuthenticationError, NotFound
from shopseg.reports._format import REGION_LABELS
from shopseg.reports.sections import cluster_labels, partial_month_note, region_gap, region_table, rfm_table
from shopseg.web import charts, queries
from shopseg.web.auth import COOKIE, end_session, has_role, principal_of, start_session
from shopseg.web.cache import aggregate
from shopseg.web.catalogue import SYNTAX, field_groups, promotions_clusters, promotions_rfm
from shopseg.web.context import cached, session
from shopseg.web.customer import customer_view, unknown_customer
from shopseg.web.security import PAGE_CSP, check_same_origin, safe_next
from shopseg.web.templating import churn_bands, describe_clusters, page_currency
from shopseg.web.templating import env as _env

__all__ = ["router", "NAV"]

router = APIRouter(include_in_schema=False)

NAV = [
    ("/", "Overview"),
    ("/segments", "Segments"),
    ("/rfm", "RFM"),
    ("/segments/new", "Segment builder"),
    ("/clusters", "Clusters"),
    ("/predictions", "Predictions"),
    ("/regions", "Regions"),
    ("/experiments", "A/B tests"),
    ("/events", "Live events"),
]

_EXPERIMENT_TABLES = ("experiments", "experiment_assignments", "orders", "order_lines", "customers")

_CURRENCY_TABLES = ("orders",)


def _html(html: str, status: int = 200) -> HTMLResponse:
    """A page: its content security policy, and kept out of caches (pages show customer data)."""
    return HTMLResponse(
        html, status_code=status, headers={"Content-Security-Policy": PAGE_CSP, "Cache-Control": "no-store"}
    )


def _render(request: Request, template: str, status: int = 200, **context: Any) -> Response:
    who = principal_of(request)
    if who is None:
        resp = RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)
        if COOKIE in request.cookies:  # an ended, expired or revoked session: drop the stale cookie
            resp.delete_cookie(COOKIE, path="/")
        return resp
    currency = _currency(request)  # money on every page is in the store's currency
    html = _env.get_template(template).render(
        request=request,
        currency=currency,
        nav=NAV,
        path=request.url.path,
        role=who.role,
        can_edit=has_role(who.role, "marketer"),
        **context,
    )
    return _html(html, status)


def _currency(request: Request) -> str | None:
    with session(request) as s:
        return cached(s, "currency", lambda: page_currency(s.workspace), tables=_CURRENCY_TABLES)


def _logged_in(request: Request) -> bool:
    return principal_of(request) is not None


def _login_form(target: str, error: str | None = None, status: int = 200) -> HTMLResponse:
    return _html(
        _env.get_template("login.html.j2").render(next=safe_next(target), error=error, nav=[], role=None), status
    )


@router.get("/login")
def login_page(next: str = "/") -> HTMLResponse:
    """The login form (an API key); ``next`` is where it leads, only ever a path of this server."""
    return _login_form(next)


@router.post("/login")
async def login_form(request: Request) -> Response:
    """The login form posted without script: a session cookie and a redirect to ``next`` (a path of this server)."""
    try:
        form = parse_qs((await request.body()).decode("utf-8", "replace"), max_num_fields=8)
    except ValueError:  # more fields than a login form has: treated as no key (401)
        form = {}
    return await run_in_threadpool(_log_in, request, form.get("api_key", [""])[0], form.get("next", ["/"])[0])


def _log_in(request: Request, api_key: str, next_path: str) -> Response:
    target = safe_next(next_path)
    resp = RedirectResponse(target, status_code=303)
    try:
        start_session(request, api_key, resp)
    except AuthenticationError as exc:
        return _login_form(target, str(exc), status=exc.status)
    return resp


@router.post("/logout")
def logout(request: Request) -> RedirectResponse:
    """End the session (a copy of the cookie cannot be used again) and go to the login page."""
    resp = RedirectResponse("/login", status_code=303)
    if COOKIE in request.cookies:
        check_same_origin(request)  # another site cannot log the user out
        end_session(request, resp)
    return resp


@router.get("/")
def overview_page(request: Request) -> Response:
    if not _logged_in(request):
        return _render(request, "overview.html.j2")
    totals = aggregate(get_state(request), "order_totals")  # KPIs and monthly revenue: per data version
    saved = aggregate(get_state(request), "segment_sizes")
    with session(request) as s:
        data = queries.overview(s.workspace, totals, saved)
    figs = {"monthly": charts.monthly_chart(data["monthly"], _currency(request))}  # gross sales, partial months marked
    if data["rfm"] is not None:
        figs["rfm"] = charts.share_chart(data["rfm"])
    saved = data["saved"]
    if not saved.empty and saved["size"].notna().any():
        figs["saved"] = charts.share_chart(
            saved.assign(share=saved["size"].fillna(0) / max(data["kpis"]["customers"], 1)), "name"
        )
    note = partial_month_note(data["monthly"])
    return _render(request, "overview.html.j2", data=data, figs=figs, monthly_note=note)


@router.get("/rfm")
def rfm_page(request: Request) -> Response:
    if not _logged_in(request):
        return _render(request, "rfm.html.j2")
    with session(request) as s:
        grid, table = queries.rfm_grid(s.workspace), queries.rfm_segments(s.workspace)
        notes = [n for n in (s.workspace.meta("rfm_notes") or "").split("\n") if n.strip()]  # as `shopseg rfm` prints
    fig = charts.rfm_heatmap(grid, _currency(request)) if grid is not None and not grid.empty else None
    names = list(table["segment"]) if table is not None else []
    shown = rfm_table(table) if table is not None else None  # per-customer means named as such
    return _render(request, "rfm.html.j2", fig=fig, segments=shown, notes=notes, promotions=promotions_rfm(names))


@router.get("/segments")
def segments_page(request: Request) -> Response:
    """Saved segments: rule, version, members and revenue share on the latest snapshot."""
    if not _logged_in(request):
        return _render(request, "segments.html.j2")
    saved = aggregate(get_state(request), "segment_sizes")
    return _render(request, "segments.html.j2", saved=saved)


@router.get("/segments/new")
def builder_page(
    request: Request, rule: str = "", name: str = "", description: str = "", edit: bool = False
) -> Response:
    """The builder; ``rule``/``name``/``description`` prefill it (duplicate, promote), ``edit`` saves a new version."""
    who = principal_of(request)
    if who is not None and not has_role(who.role, "marketer"):
        return _render(request, "forbidden.html.j2", status=403, needed="marketer")
    groups: list[Any] = []
    if who is not None:
        with session(request) as s:
            groups = field_groups(s.store.fields)
    return _render(
        request,
        "builder.html.j2",
        rule=rule,
        name=name[:64],
        description=description[:2000],
        edit=edit,
        groups=groups,
        syntax=SYNTAX,
    )


@router.get("/segments/{name}")
def segment_page(request: Request, name: str) -> Response:
    if not _logged_in(request):
        return _render(request, "segment.html.j2")
    with session(request) as s:
        try:
            saved = s.store.get(name)
        except NotFound as exc:
            return _render(request, "missing.html.j2", status=404, message=str(exc))
        try:
            history = s.store.history(name)
        except NotFound:
            history = None
    fig = charts.history_chart(history) if history is not None and not history.empty else None
    trend = None
    if history is not None and len(history) >= 2:
        last, before = history.iloc[-1], history.iloc[-2]
        trend = {"change": int(last["size"] - before["size"]), "since": before["as_of"], "as_of": last["as_of"]}
    return _render(request, "segment.html.j2", saved=saved, history=history, fig=fig, trend=trend)


@router.get("/customers/{customer_id}")
def customer_page(request: Request, customer_id: str) -> Response:
    """One customer: profile, orders and events, segments with entries and exits, predictions, next action."""
    if not _logged_in(request):
        return _render(request, "customer.html.j2")
    with session(request) as s:
        missing = unknown_customer(s.workspace, customer_id)
        if missing:
            return _render(request, "missing.html.j2", status=404, message=missing)
        view = customer_view(s.workspace, s.store, customer_id)
    return _render(request, "customer.html.j2", c=view)


@router.get("/clusters")
def clusters_page(request: Request) -> Response:
    if not _logged_in(request):
        return _render(request, "clusters.html.j2")
    with session(request) as s:
        profiles = queries.cluster_profiles(s.workspace)
    fig = charts.cluster_bars(profiles) if profiles is not None else None
    plain = [c for c in (profiles.columns if profiles is not None else []) if not c.endswith("_z")]
    return _render(
        request,
        "clusters.html.j2",
        profiles=profiles,
        columns=plain,
        labels=cluster_labels(profiles[plain]) if profiles is not None else {},
        fig=fig,
        words=describe_clusters(profiles),
        promotions=promotions_clusters(profiles),
    )


@router.get("/predictions")
def predictions_page(request: Request) -> Response:
    if not _logged_in(request):
        return _render(request, "predictions.html.j2")
    summary = aggregate(get_state(request), "predictions")
    backtest = aggregate(get_state(request), "backtest") if summary else None  # a BG/NBD fit: per data version
    figs = {}
    if summary is not None:
        currency = _currency(request)
        figs = {
            "clv": charts.clv_histogram(summary["clv_hist"], currency),
            "risk": charts.risk_bands(summary["risk"], currency),
        }
        if backtest is not None and backtest.get("groups") is not None:
            figs["calibration"] = charts.calibration_chart(backtest["groups"])
    return _render(request, "predictions.html.j2", summary=summary, figs=figs, backtest=backtest, bands=churn_bands())


@router.get("/regions")
def regions_page(request: Request, value: str = "revenue_index") -> Response:
    if not _logged_in(request):
        return _render(request, "regions.html.j2")
    from shopseg.reports.regions import METRICS

    value = value if value in METRICS else "revenue_index"
    cells, top, trend = aggregate(get_state(request), "regions")  # three scans of every order line: per data version
    currency = _currency(request)
    gap = region_gap(cells) if not cells.empty else ""  # every region or category 'unknown': no map to draw
    fig = charts.region_category_heatmap(cells, value, currency) if not cells.empty and not gap else None
    trend_fig = charts.region_trend(trend, currency=currency) if not trend.empty else None
    return _render(
        request,
        "regions.html.j2",
        fig=fig,
        gap=gap,
        trend=trend_fig,
        top=region_table(top) if not top.empty else None,
        value=value,
        metrics=METRICS,
        labels=REGION_LABELS,
    )


@router.get("/experiments")
def experiments_page(request: Request) -> Response:
    if not _logged_in(request):
        return _render(request, "experiments.html.j2")
    with session(request) as s:
        results = cached(s, "experiments", lambda: queries.experiment_results(s.workspace), tables=_EXPERIMENT_TABLES)
    figs = {}
    for exp in results or []:
        rows = exp["rows"]
        if rows["lift"].notna().any():
            figs[exp["name"]] = {
                "conversion": charts.lift_chart(rows),
                "revenue": charts.revenue_lift_chart(rows, _currency(request)),
            }
    with session(request) as s:
        saved = [x.name for x in s.store.list()]
        defined = [{"name": e.name, "segment": e.segment, "split": e.split.render()} for e in _experiments(s.workspace)]
    return _render(
        request,
        "experiments.html.j2",
        results=results,
        figs=figs,
        segments=saved,
        defined=defined,
        result_formats=queries.LIFT_FORMATS,
    )


def _experiments(ws: Any) -> list[Any]:
    try:
        from shopseg.experiments.records import EXPERIMENTS_TABLE, list_experiments
    except ImportError:  # the experiments module is not part of this install
        return []
    return list_experiments(ws) if ws.has_table(EXPERIMENTS_TABLE) else []


@router.get("/events")
def events_page(request: Request) -> Response:
    if not _logged_in(request):
        return _render(request, "events.html.j2")
    # the feed's live part: the API's server-sent events (the login cookie authenticates them), in live mode only
    stream = "/api/v1/stream" if getattr(get_state(request), "live", None) is not None else None
    with session(request) as s:
        rows = queries.latest_events(s.workspace, limit=50)
    return _render(request, "events.html.j2", rows=rows, stream=stream)
