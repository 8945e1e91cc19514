"""Experiment statistics: lifts with confidence intervals, Bayesian probability to beat control, SRM check.

All tests are two-sided at level ``alpha``. Formulas:

- conversion: two-proportion z-test with the pooled standard error for the
  p-value and the unpooled (Wald) one for the interval of the absolute lift;
  the relative lift's interval is the delta-method interval of
  :math:`\\log(p_t / p_c)`, exponentiated (Kohavi, Tang & Xu 2020, *Trustworthy
  Online Controlled Experiments*, ch. 18).
- revenue per customer: Welch's t-test (unequal variances, Welch-Satterthwaite
  degrees of freedom) and a percentile bootstrap of the difference of means.
- probability to beat control: Beta(1 + conversions, 1 + non-conversions)
  posteriors, the closed form of Evan Miller ("Formulas for Bayesian A/B
  testing", 2015) when the treatment's successes are few enough, Monte Carlo otherwise.
- sample ratio mismatch: Pearson's chi-square of the group counts against the
  designed shares (Kohavi et al. 2020, ch. 21; Fabijan et al. 2019, KDD).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy import special
from scipy import stats as sps

from shopseg.errors import InvalidParameterError

__all__ = ["Lift", "proportion_lift", "welch_lift", "bootstrap_lift", "prob_beat_control", "srm_check", "SRMResult"]


@dataclass(frozen=True)
class Lift:
    """Treatment vs control: estimates, absolute lift with CI, relative lift with CI, test statistic and p-value."""

    control: float
    treatment: float
    absolute: float
    absolute_ci: tuple[float, float]
    relative: float
    relative_ci: tuple[float, float]
    statistic: float
    p_value: float
    method: str


def _z(alpha: float) -> float:
    if not 0 < alpha < 1:
        raise InvalidParameterError(
            f"The 'alpha' parameter must be a float in the range (0, 1). Got {alpha!r} instead."
        )
    return float(sps.norm.ppf(1 - alpha / 2))


def _relative(mean_t: float, mean_c: float, var_log: float, z: float) -> tuple[float, tuple[float, float]]:
    if mean_c <= 0 or mean_t <= 0 or not np.isfinite(var_log):
        rel = mean_t / mean_c - 1 if mean_c > 0 else float("nan")
        return rel, (float("nan"), float("nan"))
    log_ratio = np.log(mean_t / mean_c)
    half = z * np.sqrt(var_log)
    return float(mean_t / mean_c - 1), (float(np.exp(log_ratio - half) - 1), float(np.exp(log_ratio + half) - 1))


def proportion_lift(x_c: int, n_c: int, x_t: int, n_t: int, *, alpha: float = 0.05) -> Lift:
    """Two-proportion z-test of conversions ``x`` out of ``n`` (control ``c``, treatment ``t``).

    Examples
    --------
    >>> r = proportion_lift(200, 1000, 250, 1000)
    >>> round(r.absolute, 3), round(r.statistic, 3), round(r.p_value, 4)
    (0.05, 2.677, 0.0074)
    """
    z = _z(alpha)
    for name, x, n in (("control", x_c, n_c), ("treatment", x_t, n_t)):
        if n <= 0 or not 0 <= x <= n:
            raise InvalidParameterError(
                f"proportion_lift: {name} needs 0 <= conversions <= customers and customers > 0. Got {x} of {n}."
            )
    p_c, p_t = x_c / n_c, x_t / n_t
    pooled = (x_c + x_t) / (n_c + n_t)
    se0 = np.sqrt(pooled * (1 - pooled) * (1 / n_c + 1 / n_t))
    stat = (p_t - p_c) / se0 if se0 > 0 else 0.0
    p = float(2 * sps.norm.sf(abs(stat)))
    se = np.sqrt(p_c * (1 - p_c) / n_c + p_t * (1 - p_t) / n_t)
    diff = p_t - p_c
    var_log = (1 - p_t) / x_t + (1 - p_c) / x_c if x_t > 0 and x_c > 0 else float("inf")
    rel, rel_ci = _relative(p_t, p_c, var_log, z)
    return Lift(p_c, p_t, diff, (diff - z * se, diff + z * se), rel, rel_ci, float(stat), p, "two-proportion z-test")


def welch_lift(control: np.ndarray, treatment: np.ndarray, *, alpha: float = 0.05) -> Lift:
    """Welch's t-test of a per-customer metric (revenue); equals ``scipy.stats.ttest_ind(equal_var=False)``."""
    a, b = np.asarray(control, dtype=float), np.asarray(treatment, dtype=float)
    if len(a) < 2 or len(b) < 2:
        raise InvalidParameterError(f"welch_lift: each group needs at least 2 customers. Got {len(a)} and {len(b)}.")
    m_a, m_b = a.mean(), b.mean()
    v_a, v_b = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se = np.sqrt(v_a + v_b)
    df = (v_a + v_b) ** 2 / (v_a**2 / (len(a) - 1) + v_b**2 / (len(b) - 1)) if se > 0 else float(len(a) + len(b) - 2)
    stat = (m_b - m_a) / se if se > 0 else 0.0
    p = float(2 * sps.t.sf(abs(stat), df))
    q = float(sps.t.ppf(1 - alpha / 2, df)) if 0 < alpha < 1 else _z(alpha)
    var_log = v_b / m_b**2 + v_a / m_a**2 if m_a > 0 and m_b > 0 else float("inf")
    rel, rel_ci = _relative(m_b, m_a, var_log, q)
    diff = m_b - m_a
    return Lift(m_a, m_b, diff, (diff - q * se, diff + q * se), rel, rel_ci, float(stat), p, "Welch t-test")


def bootstrap_lift(
    control: np.ndarray, treatment: np.ndarray, *, n_boot: int = 2000, alpha: float = 0.05, seed: int = 0
) -> Lift:
    """Percentile bootstrap of the difference (and ratio) of means; the p-value is the two-sided share crossing 0."""
    _z(alpha)
    a, b = np.asarray(control, dtype=float), np.asarray(treatment, dtype=float)
    if len(a) < 2 or len(b) < 2:
        raise InvalidParameterError(
            f"bootstrap_lift: each group needs at least 2 customers. Got {len(a)} and {len(b)}."
        )
    rng = np.random.default_rng(seed)
    chunk = max(1, 2_000_000 // max(len(a), len(b)))
    ma, mb = [], []
    for start in range(0, n_boot, chunk):  # blocks of resamples, vectorised within
        k = min(chunk, n_boot - start)
        ma.append(a[rng.integers(0, len(a), (k, len(a)))].mean(axis=1))
        mb.append(b[rng.integers(0, len(b), (k, len(b)))].mean(axis=1))
    da, db = np.concatenate(ma), np.concatenate(mb)
    diff = db - da
    lo, hi = np.quantile(diff, [alpha / 2, 1 - alpha / 2])
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = db / da - 1
    ratio = ratio[np.isfinite(ratio)]  # resamples whose control mean is 0 have no ratio
    rlo, rhi = np.quantile(ratio, [alpha / 2, 1 - alpha / 2]) if len(ratio) else (np.nan, np.nan)
    p = float(min(1.0, 2 * min((diff <= 0).mean(), (diff >= 0).mean())))
    rel = b.mean() / a.mean() - 1 if a.mean() > 0 else float("nan")
    return Lift(
        a.mean(),
        b.mean(),
        b.mean() - a.mean(),
        (float(lo), float(hi)),
        float(rel),
        (float(rlo), float(rhi)),
        float("nan"),
        p,
        f"bootstrap ({n_boot} resamples)",
    )


def prob_beat_control(
    x_c: int,
    n_c: int,
    x_t: int,
    n_t: int,
    *,
    prior: tuple[float, float] = (1.0, 1.0),
    draws: int = 200_000,
    seed: int = 0,
) -> float:
    """P(p_t > p_c) under Beta-Binomial posteriors with a Beta(``prior``) prior.

    Exact (Evan Miller's sum over the treatment's successes) when the posterior's
    first parameter is an integer below 50,000; Monte Carlo with ``draws`` otherwise.

    Examples
    --------
    >>> round(prob_beat_control(10, 100, 10, 100), 4)
    0.5
    """
    a_c, b_c = prior[0] + x_c, prior[1] + n_c - x_c
    a_t, b_t = prior[0] + x_t, prior[1] + n_t - x_t
    if min(a_c, b_c, a_t, b_t) <= 0:
        raise InvalidParameterError(
            f"prob_beat_control: posteriors must have positive parameters. Got {prior=} "
            f"and counts {x_c}/{n_c}, {x_t}/{n_t}."
        )
    if float(a_t).is_integer() and a_t < 50_000:
        i = np.arange(int(a_t))
        terms = (
            special.betaln(a_c + i, b_c + b_t) - np.log(b_t + i) - special.betaln(1 + i, b_t) - special.betaln(a_c, b_c)
        )
        return float(np.clip(np.exp(terms).sum(), 0.0, 1.0))
    rng = np.random.default_rng(seed)
    return float((rng.beta(a_t, b_t, draws) > rng.beta(a_c, b_c, draws)).mean())


@dataclass(frozen=True)
class SRMResult:
    """Sample ratio mismatch: observed vs expected counts, chi-square, p-value, and whether it fails."""

    observed: dict[str, int]
    expected: dict[str, float]
    chi2: float
    p_value: float
    mismatch: bool


def srm_check(observed: Mapping[str, int], shares: Mapping[str, float], *, alpha: float = 0.001) -> SRMResult:
    """Pearson chi-square goodness of fit of group counts to the designed shares (equals ``scipy.stats.chisquare``)."""
    missing = set(shares) ^ set(observed)
    if missing:
        raise InvalidParameterError(
            f"srm_check: groups differ between observed and designed shares: {sorted(missing)}."
        )
    names = list(shares)
    obs = np.array([observed[k] for k in names], dtype=float)
    w = np.array([shares[k] for k in names], dtype=float)
    exp = obs.sum() * w / w.sum()
    chi2 = float(((obs - exp) ** 2 / exp).sum()) if obs.sum() > 0 else 0.0
    p = float(sps.chi2.sf(chi2, len(names) - 1))
    return SRMResult(
        {k: int(v) for k, v in zip(names, obs, strict=True)},
        dict(zip(names, exp.tolist(), strict=True)),
        chi2,
        p,
        p < alpha,
    )
