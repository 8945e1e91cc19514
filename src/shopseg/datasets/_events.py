"""Events and survey answers of the synthetic store.

Events cover only the last ``event_days`` of the period (event logs are kept
for a limited time, and it bounds their volume). Three sources:

- **orders**: every order in the window is preceded by a ``product_view`` and
  an ``add_to_cart`` of its first product and a ``checkout_started``, and
  marked by a ``purchase`` event carrying the ``order_id``;
- **browsing sessions without a purchase**: ``browse_per_month`` sessions of a
  ``page_view``, maybe a ``search``, ``1 + Poisson(0.7)`` ``product_view``\\s,
  an ``add_to_cart`` with probability ``cart_p`` and, after it, an abandoned
  ``checkout_started`` with probability ``checkout_p``; plus anonymous
  sessions (``anonymous_id`` set, ``customer_id`` NULL);
- **email**: a campaign every 14 days to customers who opted in, opened with
  probability ``open_p`` and clicked with ``click_p``; an ``unsubscribe``
  ends the mails (and the customer's ``email_marketing`` consent is false).

Events are numbered in time order.
"""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shopseg.datasets._arrow import id_column, lookup, prefix_join, timestamps
from shopseg.datasets._catalog import TOP_CATEGORIES, Catalog
from shopseg.datasets._customers import GROUPS, Period, Population, group_param
from shopseg.datasets._orders import OrderBook
from shopseg.datasets.groups import HOBBIES, PRIORITIES, STYLES

__all__ = ["EVENT_TYPES", "CAMPAIGN_EVERY_DAYS", "build_events", "build_survey"]

EVENT_TYPES = (
    "page_view",
    "product_view",
    "search",
    "add_to_cart",
    "checkout_started",
    "purchase",
    "email_open",
    "email_click",
    "unsubscribe",
)
_T = {name: k for k, name in enumerate(EVENT_TYPES)}
CAMPAIGN_EVERY_DAYS = 14.0
ANONYMOUS_SESSIONS_PER_CUSTOMER = 0.05
_MINUTE = 1.0 / 1440.0
_PAGES = ("/", "/new-in", "/sale", "/account", "/stores")
_QUERIES = {
    "Home": ("cushion", "lamp", "bedding"),
    "Outdoor": ("tent", "hiking boots", "bike light"),
    "Fashion": ("sneakers", "dress", "jacket"),
    "Beauty": ("serum", "lipstick", "perfume"),
    "Electronics": ("headphones", "charger", "smart plug"),
    "Toys & Games": ("board game", "lego", "plush"),
}


class _Parts:
    """Collects event columns (numpy) from several sources before one sort; times are capped at ``last``."""

    def __init__(self, last: float) -> None:
        self.last = last
        self.cols: dict[str, list[np.ndarray]] = {k: [] for k in ("cust", "anon", "type", "time", "product", "prop")}

    def add(
        self,
        cust: np.ndarray,
        kind: int,
        time: np.ndarray,
        product: np.ndarray | None = None,
        prop: np.ndarray | None = None,
        anon: np.ndarray | None = None,
    ) -> None:
        n = time.size
        minus = np.full(n, -1, dtype=np.int64)
        self.cols["cust"].append(cust.astype(np.int64))
        self.cols["anon"].append(minus if anon is None else anon)
        self.cols["type"].append(np.full(n, kind, dtype=np.int8))
        self.cols["time"].append(np.minimum(time, self.last))
        self.cols["product"].append(minus if product is None else product.astype(np.int64))
        self.cols["prop"].append(minus if prop is None else prop.astype(np.int64))

    def concat(self) -> dict[str, np.ndarray]:
        return {k: np.concatenate(v) for k, v in self.cols.items()}


def _session_products(rng: np.random.Generator, group: np.ndarray, catalog: Catalog) -> np.ndarray:
    out = np.empty(group.size, dtype=np.int64)
    for k, spec in enumerate(GROUPS):
        mask = group == k
        out[mask] = catalog.sample(rng, int(mask.sum()), np.array(spec.categories), np.array(spec.tiers))
    return out


def _order_events(
    rng: np.random.Generator, parts: _Parts, pop: Population, book: OrderBook, since: float, base: dict[str, int]
) -> None:
    sel = np.flatnonzero(book.time >= since)
    cust, t, product = book.customer[sel], book.time[sel], book.first_product[sel]
    floor = np.maximum(pop.signup[cust], since)
    view = np.maximum(t - rng.uniform(10, 40, sel.size) * _MINUTE, floor)
    cart = np.maximum(t - rng.uniform(3, 10, sel.size) * _MINUTE, view)
    checkout = np.maximum(t - rng.uniform(0.5, 3, sel.size) * _MINUTE, cart)
    items = base["items"] + np.minimum(book.n_lines[sel], 20)
    parts.add(cust, _T["product_view"], view, product, product)
    parts.add(cust, _T["add_to_cart"], cart, product, product)
    parts.add(cust, _T["checkout_started"], checkout, prop=items)
    parts.add(cust, _T["purchase"], t, prop=-2 - sel)  # -2 - k: properties name order k


def _sessions(
    rng: np.random.Generator,
    parts: _Parts,
    cust: np.ndarray,
    group: np.ndarray,
    start: np.ndarray,
    span: np.ndarray,
    catalog: Catalog,
    base: dict[str, int],
    anon: np.ndarray | None = None,
) -> None:
    """Browsing sessions: page view, maybe a search, product views, maybe cart and checkout."""
    n = cust.size
    t0 = start + rng.random(n) * np.maximum(span - 30 * _MINUTE, 0.0)
    parts.add(cust, _T["page_view"], t0, prop=base["pages"] + rng.integers(0, len(_PAGES), n), anon=anon)
    views = 1 + rng.poisson(0.7, n)
    vs = np.repeat(np.arange(n), views)
    products = _session_products(rng, group[vs], catalog)
    vt = t0[vs] + rng.uniform(1, 15, vs.size) * _MINUTE
    parts.add(cust[vs], _T["product_view"], vt, products, products, None if anon is None else anon[vs])
    searched = np.flatnonzero(rng.random(n) < 0.4)
    first = products[np.cumsum(views) - views]
    query = base["queries"] + catalog.top[first[searched]] * 3 + rng.integers(0, 3, searched.size)
    parts.add(
        cust[searched],
        _T["search"],
        t0[searched] + 0.5 * _MINUTE,
        prop=query,
        anon=None if anon is None else anon[searched],
    )
    if anon is not None:
        return
    carts = np.flatnonzero(rng.random(n) < group_param("cart_p")[group])
    parts.add(cust[carts], _T["add_to_cart"], t0[carts] + 16 * _MINUTE, first[carts], first[carts])
    chk = carts[rng.random(carts.size) < group_param("checkout_p")[group[carts]]]
    parts.add(cust[chk], _T["checkout_started"], t0[chk] + 18 * _MINUTE, prop=base["items"] + np.ones(chk.size, int))


def _emails(
    rng: np.random.Generator, parts: _Parts, pop: Population, period: Period, since: float, base: dict[str, int]
) -> int:
    n_campaigns = int(np.ceil((period.days - since) / CAMPAIGN_EVERY_DAYS))
    sends = since + 0.4 + CAMPAIGN_EVERY_DAYS * np.arange(n_campaigns)
    stop = np.where(np.isnan(pop.unsubscribed_at), period.last, pop.unsubscribed_at)
    k_lo = np.searchsorted(sends, pop.signup)
    k_hi = np.where(pop.email_optin, np.searchsorted(sends, stop), k_lo)
    eligible = np.maximum(k_hi - k_lo, 0)
    opens = rng.binomial(eligible, group_param("open_p")[pop.group])
    who = np.repeat(np.arange(pop.n), opens)
    campaign = k_lo[who] + (rng.random(who.size) * eligible[who]).astype(np.int64)
    t = np.minimum(sends[campaign] + rng.exponential(0.5, who.size), stop[who])
    parts.add(who, _T["email_open"], t, prop=base["campaigns"] + campaign)
    clicked = rng.random(who.size) < group_param("click_p")[pop.group[who]]
    ct = np.minimum(t[clicked] + rng.uniform(0.2, 10, int(clicked.sum())) * _MINUTE, stop[who[clicked]])
    parts.add(who[clicked], _T["email_click"], ct, prop=base["campaigns"] + campaign[clicked])
    unsub = np.flatnonzero(~np.isnan(pop.unsubscribed_at))
    parts.add(unsub, _T["unsubscribe"], pop.unsubscribed_at[unsub], prop=np.full(unsub.size, base["unsub"]))
    return n_campaigns


def _properties(catalog: Catalog, period: Period, since: float) -> tuple[list[str], dict[str, int]]:
    """The dictionary of every non-purchase ``properties`` value and the offset of each kind."""
    values = list(catalog.properties)
    base = {"pages": len(values)}
    values += [json.dumps({"page": p}) for p in _PAGES]
    base["queries"] = len(values)
    values += [json.dumps({"query": q}) for top in TOP_CATEGORIES for q in _QUERIES[top]]
    base["items"] = len(values) - 1  # items k -> base + k, k >= 1
    values += [json.dumps({"items": k}) for k in range(1, 21)]
    base["campaigns"] = len(values)
    n_campaigns = int(np.ceil((period.days - since) / CAMPAIGN_EVERY_DAYS))
    first = np.datetime64(period.start_us, "us") + np.timedelta64(int(since * 86_400), "s")
    for k in range(n_campaigns):
        day = (first + np.timedelta64(int(k * CAMPAIGN_EVERY_DAYS), "D")).astype("datetime64[D]")
        values.append(json.dumps({"campaign": f"newsletter-{day}"}))
    base["unsub"] = len(values)
    values.append(json.dumps({"list": "newsletter"}))
    return values, base


def build_events(
    rng: np.random.Generator,
    pop: Population,
    book: OrderBook,
    catalog: Catalog,
    period: Period,
    *,
    first_id: int = 1,
    id_width: int | None = None,
    first_customer: int = 0,
) -> pa.Table:
    """Draw the events of the last ``period.event_days`` days, numbered in time order (from ``first_id``).

    ``first_customer`` is the number of customers before this chunk of the store: anonymous visitor ids
    are drawn from the chunk's own range, so chunks of one store do not share visitors.
    """
    since = max(0.0, period.days - period.event_days)
    values, base = _properties(catalog, period, since)
    parts = _Parts(period.last)
    _order_events(rng, parts, pop, book, since, base)
    start = np.maximum(pop.signup, since)
    span = period.last - start
    n_sess = rng.poisson(group_param("browse_per_month")[pop.group] * span / 30.44)
    who = np.repeat(np.arange(pop.n), n_sess)
    _sessions(rng, parts, who, pop.group[who], start[who], span[who], catalog, base)
    n_anon = int(rng.poisson(ANONYMOUS_SESSIONS_PER_CUSTOMER * pop.n))
    anon_group = rng.integers(0, len(GROUPS), n_anon).astype(np.int8)
    visitor = 10 * first_customer + rng.integers(1, 10 * pop.n + 1, n_anon)
    _sessions(
        rng,
        parts,
        np.full(n_anon, -1),
        anon_group,
        np.full(n_anon, since),
        np.full(n_anon, period.last - since),
        catalog,
        base,
        anon=visitor,
    )
    _emails(rng, parts, pop, period, since, base)
    ev = parts.concat()
    order = np.argsort(ev["time"], kind="stable")
    ev = {k: v[order] for k, v in ev.items()}
    props = lookup(values, np.where(ev["prop"] >= 0, ev["prop"], 0))
    purchase = ev["prop"] <= -2
    order_ids = book.ids.take(pa.array(-2 - ev["prop"][purchase]))
    props = pc.replace_with_mask(props, pa.array(purchase), prefix_join('{"order_id": "', order_ids, '"}'))
    n = order.size
    return pa.table(
        {
            "event_id": id_column("e", np.arange(first_id, first_id + n), id_width or max(9, len(str(n)))),
            "customer_id": lookup(pop.ids, ev["cust"]),
            "anonymous_id": pc.if_else(
                pa.array(ev["anon"] >= 0), id_column("a", np.maximum(ev["anon"], 0), 8), pa.scalar(None, pa.string())
            ),
            "type": lookup(EVENT_TYPES, ev["type"].astype(np.int64)),
            "occurred_at": timestamps(period.start_us, ev["time"]),
            "product_id": lookup(catalog.ids, ev["product"]),
            "properties": props,
        }
    )


def build_survey(rng: np.random.Generator, pop: Population, period: Period) -> pa.Table:
    """Survey answers: respondents answer each of style, priority, hobby with probability 0.9."""
    questions = (("style", STYLES), ("priority", PRIORITIES), ("hobby", HOBBIES))
    respondent = rng.random(pop.n) < group_param("survey_p")[pop.group]
    answers = rng.random((pop.n, len(questions))) < 0.9
    picked = np.zeros((pop.n, len(questions)), dtype=np.int64)
    for q, (name, options) in enumerate(questions):
        for k, spec in enumerate(GROUPS):
            mask = pop.group == k
            w = np.array(getattr(spec, name))
            picked[mask, q] = rng.choice(len(options), size=int(mask.sum()), p=w / w.sum())
    offsets = np.cumsum([0] + [len(o) for _, o in questions])[:-1]
    cust, question = np.nonzero(answers & respondent[:, None])
    at = pop.signup[cust] + rng.random(cust.size) * np.minimum(30.0, period.last - pop.signup[cust])
    return pa.table(
        {
            "customer_id": pop.ids.take(pa.array(cust)),
            "question": lookup([name for name, _ in questions], question),
            "answer": lookup([a for _, opts in questions for a in opts], offsets[question] + picked[cust, question]),
            "answered_at": timestamps(period.start_us, at),
        }
    )
