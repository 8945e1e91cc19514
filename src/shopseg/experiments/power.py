"""Sample size per variant for a conversion test or a revenue (mean) test.

Conversion (two-sided, equal groups), Evan Miller's A/B sample size
calculator (evanmiller.org/ab-testing/sample-size.html), for baseline *p* and an
absolute minimum detectable effect :math:`\\delta`:

.. math:: n = \\frac{\\left(z_{1-\\alpha/2}\\sqrt{2p(1-p)} + z_{1-\\beta}\\sqrt{p(1-p) + (p+\\delta)(1-p-\\delta)}\\right)^2}{\\delta^2}

Its default case, p = 20%, :math:`\\delta` = 5 points, :math:`\\alpha` = 0.05,
power 0.8, gives 1,030 per variation.

Means (revenue per customer), the normal approximation
:math:`n = 2 (z_{1-\\alpha/2} + z_{1-\\beta})^2 \\sigma^2 / \\delta^2`, which at
:math:`\\alpha` = 0.05 and 80% power is Kohavi, Tang & Xu's rule of thumb
:math:`n \\approx 16 \\sigma^2 / \\delta^2` (*Trustworthy Online Controlled
Experiments*, 2020, ch. 17; van Belle 2008).

>>> sample_size_proportions(0.20, 0.05)
1030
>>> sample_size_means(sd=50.0, mde=5.0)
1570
"""

from __future__ import annotations

import math

from scipy import stats as sps

from shopseg.errors import InvalidParameterError

__all__ = ["sample_size_proportions", "sample_size_means"]


def _z(alpha: float, power: float) -> tuple[float, float]:
    if not 0 < alpha < 1:
        raise InvalidParameterError(
            f"The 'alpha' parameter must be a float in the range (0, 1). Got {alpha!r} instead."
        )
    if not 0 < power < 1:
        raise InvalidParameterError(
            f"The 'power' parameter must be a float in the range (0, 1). Got {power!r} instead."
        )
    return float(sps.norm.ppf(1 - alpha / 2)), float(sps.norm.ppf(power))


def sample_size_proportions(
    baseline: float, mde: float, *, alpha: float = 0.05, power: float = 0.8, relative: bool = False
) -> int:
    """Customers per variant to detect a change of ``mde`` in a conversion rate of ``baseline``.

    Parameters
    ----------
    baseline : float
        Control conversion rate, in (0, 1).
    mde : float
        Minimum detectable effect: absolute (0.05 = 5 points) or, with
        ``relative=True``, a share of the baseline (0.1 = +10%).
    alpha : float, default=0.05
        Two-sided significance level.
    power : float, default=0.8
    relative : bool, default=False

    Returns
    -------
    int
        Rounded to the nearest integer, as the calculator displays it.
    """
    z_a, z_b = _z(alpha, power)
    if not 0 < baseline < 1:
        raise InvalidParameterError(f"The 'baseline' parameter must be a rate in (0, 1). Got {baseline!r} instead.")
    delta = mde * baseline if relative else mde
    if delta == 0 or not 0 < baseline + delta < 1:
        raise InvalidParameterError(
            f"The 'mde' parameter must be non-zero and keep the treated rate in (0, 1); baseline {baseline} + "
            f"effect {delta:g} = {baseline + delta:g}."
        )
    sd1 = math.sqrt(2 * baseline * (1 - baseline))
    sd2 = math.sqrt(baseline * (1 - baseline) + (baseline + delta) * (1 - baseline - delta))
    return round((z_a * sd1 + z_b * sd2) ** 2 / delta**2)


def sample_size_means(*, sd: float, mde: float, alpha: float = 0.05, power: float = 0.8) -> int:
    """Customers per variant to detect a difference ``mde`` in a mean with standard deviation ``sd`` (rounded up)."""
    z_a, z_b = _z(alpha, power)
    if not sd > 0 or mde == 0:
        raise InvalidParameterError(f"sample_size_means needs sd > 0 and mde != 0. Got sd={sd!r}, mde={mde!r}.")
    return math.ceil(2 * (z_a + z_b) ** 2 * sd**2 / mde**2)
