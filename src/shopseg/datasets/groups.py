"""The planted customer groups of the synthetic store: the ground truth.

Each customer belongs to exactly one group; the group fixes every parameter
of the customer's generating process. Clustering, RFM, lifecycle stages and
predictions are checked against these labels.

**Purchase process** (Pareto/NBD-like, as in Schmittlein, Morrison & Colombo
1987): a customer signs up inside the group's signup window, places a first
order shortly after (exponential delay, mean 2 days) with probability
``first_order_p``, then places repeat orders as a Poisson process whose rate
(orders per year) is gamma-distributed across customers (mean
``repeat_rate``, shape ``rate_shape``) until an exponential lifetime (mean
``lifetime_days``) ends. ``lapsed`` customers instead stop for good at a
random point at least ``quiet_days`` before the end of the period.

Examples
--------
>>> PLANTED_GROUPS["vip_loyal"].repeat_rate
14.0
>>> round(sum(g.share for g in PLANTED_GROUPS.values()), 6)
1.0
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["PlantedGroup", "PLANTED_GROUPS", "STYLES", "PRIORITIES", "HOBBIES", "planted_groups_markdown"]

STYLES = ("classic", "trendy", "minimalist", "sporty", "bohemian")
PRIORITIES = ("price", "quality", "sustainability", "convenience")
HOBBIES = ("outdoors", "cooking", "gaming", "fitness", "reading", "travel", "fashion")

# Home, Outdoor, Fashion, Beauty, Electronics, Toys & Games (catalogue order)
_CATEGORIES = (0.22, 0.12, 0.25, 0.15, 0.13, 0.13)


@dataclass(frozen=True)
class PlantedGroup:
    """Generating parameters of one planted group.

    Parameters
    ----------
    name, share, description
        Group key, fraction of customers (exact up to rounding), one-line summary.
    signup_days : (float or None, float)
        Signup window in days before the end of the period: (earliest, latest);
        ``None`` means the start of the period.
    first_order_p : float
        Probability of placing a first order.
    repeat_rate, rate_shape : float
        Mean and gamma shape of the repeat-order rate, orders per year.
    lifetime_days : float or None
        Mean exponential lifetime after the first order; ``None`` is no dropout.
    quiet_days : float or None
        ``lapsed`` only: the last order is at least this many days before the end.
    lines_mean, extra_units : float
        Mean lines per order (at least 1) and mean extra units per line.
    tiers, categories : tuple of float
        Weights of the price tiers (budget, mid, premium) and of the top-level
        categories (Home, Outdoor, Fashion, Beauty, Electronics, Toys & Games).
    discount_p, discount_range : float, (float, float)
        Probability that an order is discounted and the range of its discount rate.
    return_p : float
        Probability that a line of a kept order is returned.
    channels : tuple of float
        Weights of the order channels (web, app, store).
    browse_per_month, cart_p, checkout_p : float
        Browsing sessions without a purchase per month, probability of an
        add-to-cart in a session, and of a checkout after it (abandoned).
    open_p, click_p, unsubscribe_p : float
        Per-campaign email open probability, click probability per open, and
        probability of unsubscribing during the event period.
    engagement : float
        Logit shift of the consent flags (email, SMS, profiling).
    age_mean : float
        Mean age in years (normal, sd 12, clipped to 18..85).
    survey_p : float
        Probability of answering the survey.
    style, priority, hobby : tuple of float
        Answer weights over :data:`STYLES`, :data:`PRIORITIES`, :data:`HOBBIES`.
    """

    name: str
    share: float
    description: str
    signup_days: tuple[float | None, float] = (None, 60.0)
    first_order_p: float = 1.0
    repeat_rate: float = 0.0
    rate_shape: float = 2.0
    lifetime_days: float | None = None
    quiet_days: float | None = None
    lines_mean: float = 1.8
    extra_units: float = 0.25
    tiers: tuple[float, float, float] = (0.35, 0.45, 0.20)
    categories: tuple[float, ...] = _CATEGORIES
    discount_p: float = 0.3
    discount_range: tuple[float, float] = (0.10, 0.25)
    return_p: float = 0.04
    channels: tuple[float, float, float] = (0.6, 0.25, 0.15)
    browse_per_month: float = 0.1
    cart_p: float = 0.25
    checkout_p: float = 0.2
    open_p: float = 0.1
    click_p: float = 0.2
    unsubscribe_p: float = 0.02
    engagement: float = 0.0
    age_mean: float = 40.0
    survey_p: float = 0.2
    style: tuple[float, ...] = (0.25, 0.2, 0.2, 0.2, 0.15)
    priority: tuple[float, ...] = (0.35, 0.3, 0.15, 0.2)
    hobby: tuple[float, ...] = field(default=(1 / 7,) * 7)


_GROUPS = [
    PlantedGroup(
        "vip_loyal",
        0.08,
        "Frequent, high-spending, recent buyers who never churn.",
        signup_days=(None, 180.0),
        repeat_rate=14.0,
        rate_shape=6.0,
        lines_mean=2.6,
        tiers=(0.2, 0.5, 0.3),
        discount_p=0.12,
        return_p=0.03,
        channels=(0.3, 0.55, 0.15),
        browse_per_month=0.2,
        open_p=0.45,
        click_p=0.35,
        unsubscribe_p=0.003,
        engagement=1.5,
        age_mean=45.0,
        survey_p=0.5,
        style=(0.4, 0.15, 0.2, 0.15, 0.1),
        priority=(0.1, 0.4, 0.15, 0.35),
    ),
    PlantedGroup(
        "bargain_hunter",
        0.15,
        "Frequent small baskets of cheap items, almost always discounted.",
        repeat_rate=7.0,
        rate_shape=3.0,
        lifetime_days=1500.0,
        lines_mean=1.3,
        extra_units=0.5,
        tiers=(0.7, 0.25, 0.05),
        categories=(0.2, 0.08, 0.27, 0.2, 0.12, 0.13),
        discount_p=0.8,
        discount_range=(0.2, 0.5),
        return_p=0.03,
        channels=(0.7, 0.25, 0.05),
        browse_per_month=0.15,
        open_p=0.35,
        click_p=0.3,
        engagement=0.8,
        age_mean=35.0,
        survey_p=0.3,
        priority=(0.7, 0.1, 0.05, 0.15),
    ),
    PlantedGroup(
        "premium_occasional",
        0.08,
        "Rare, large baskets of premium brands; rarely discounted.",
        repeat_rate=1.2,
        rate_shape=4.0,
        lifetime_days=2000.0,
        lines_mean=4.0,
        tiers=(0.03, 0.22, 0.75),
        categories=(0.25, 0.05, 0.35, 0.15, 0.15, 0.05),
        discount_p=0.05,
        return_p=0.08,
        channels=(0.35, 0.15, 0.5),
        open_p=0.12,
        engagement=0.0,
        age_mean=50.0,
        survey_p=0.35,
        style=(0.45, 0.1, 0.35, 0.05, 0.05),
        priority=(0.05, 0.6, 0.25, 0.1),
        hobby=(0.1, 0.15, 0.05, 0.1, 0.15, 0.4, 0.05),
    ),
    PlantedGroup(
        "lapsed",
        0.16,
        "Bought actively early on, then stopped: long silence since the last order.",
        signup_days=(None, 300.0),
        repeat_rate=6.0,
        rate_shape=3.0,
        quiet_days=200.0,
        lines_mean=2.0,
        return_p=0.06,
        browse_per_month=0.02,
        open_p=0.02,
        click_p=0.1,
        unsubscribe_p=0.08,
        engagement=-0.8,
        survey_p=0.1,
    ),
    PlantedGroup(
        "new_customer",
        0.09,
        "Signed up in the last 60 days and placed exactly one order.",
        signup_days=(60.0, 0.0),
        lines_mean=1.8,
        discount_p=0.5,
        return_p=0.04,
        channels=(0.7, 0.2, 0.1),
        browse_per_month=0.4,
        open_p=0.3,
        engagement=0.3,
        age_mean=33.0,
        survey_p=0.25,
    ),
    PlantedGroup(
        "one_time",
        0.22,
        "A single order long ago (at least 200 days before the end), nothing since.",
        signup_days=(None, 200.0),
        lines_mean=1.6,
        discount_p=0.35,
        return_p=0.05,
        channels=(0.6, 0.1, 0.3),
        browse_per_month=0.02,
        open_p=0.03,
        unsubscribe_p=0.04,
        engagement=-1.0,
        survey_p=0.08,
    ),
    PlantedGroup(
        "window_shopper",
        0.12,
        "Browses, fills carts and starts checkouts but rarely buys (cart abandoners).",
        signup_days=(None, 0.0),
        first_order_p=0.3,
        lines_mean=1.2,
        discount_p=0.5,
        return_p=0.1,
        channels=(0.75, 0.2, 0.05),
        browse_per_month=1.5,
        cart_p=0.6,
        checkout_p=0.5,
        open_p=0.25,
        click_p=0.3,
        engagement=0.5,
        age_mean=28.0,
        survey_p=0.2,
        style=(0.1, 0.45, 0.15, 0.1, 0.2),
        hobby=(0.05, 0.1, 0.2, 0.1, 0.1, 0.15, 0.3),
    ),
    PlantedGroup(
        "category_enthusiast",
        0.10,
        "Regular buyers concentrated in Outdoor (camping, hiking, cycling).",
        repeat_rate=4.0,
        rate_shape=3.0,
        lifetime_days=1500.0,
        lines_mean=2.2,
        categories=(0.03, 0.85, 0.03, 0.03, 0.03, 0.03),
        discount_p=0.2,
        return_p=0.03,
        channels=(0.5, 0.3, 0.2),
        browse_per_month=0.4,
        open_p=0.3,
        click_p=0.35,
        engagement=0.7,
        age_mean=38.0,
        survey_p=0.45,
        style=(0.1, 0.05, 0.15, 0.6, 0.1),
        priority=(0.15, 0.4, 0.35, 0.1),
        hobby=(0.7, 0.03, 0.03, 0.15, 0.03, 0.03, 0.03),
    ),
]

PLANTED_GROUPS: dict[str, PlantedGroup] = {g.name: g for g in _GROUPS}


def planted_groups_markdown() -> str:
    """The table of groups and their main parameters, as shown in docs/generator.md.

    Examples
    --------
    >>> planted_groups_markdown().splitlines()[0].startswith("| group |")
    True
    """
    lines = [
        "| group | share | signup (days before end) | first order p | repeat orders/yr (gamma shape) "
        "| lifetime days | lines/order | tiers b/m/p | discount p | return p | browse/month | description |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for g in _GROUPS:
        earliest = "start" if g.signup_days[0] is None else f"{g.signup_days[0]:g}"
        life = (
            f"stops ≥ {g.quiet_days:g} d before end"
            if g.quiet_days
            else ("∞" if g.lifetime_days is None else f"{g.lifetime_days:g}")
        )
        lines.append(
            f"| `{g.name}` | {g.share:.0%} | {earliest} .. {g.signup_days[1]:g} | {g.first_order_p:g} "
            f"| {f'{g.repeat_rate:g} ({g.rate_shape:g})' if g.repeat_rate else '0'} | {life} | {g.lines_mean:g} "
            f"| {'/'.join(f'{t:g}' for t in g.tiers)} | {g.discount_p:g} | {g.return_p:g} "
            f"| {g.browse_per_month:g} | {g.description} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(planted_groups_markdown(), end="")
