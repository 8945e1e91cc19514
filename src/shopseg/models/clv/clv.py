"""Discounted customer lifetime value: a purchase model times a spend model.

For a customer with history ``(x, t_x, T, m)``, the horizon is cut into steps
of length ``step`` (in the purchase model's time unit) and::

    CLV = margin * E[spend | x, m] * sum_i (E[Y(t_i)] - E[Y(t_{i-1})]) / (1 + discount_rate)^i

with ``t_i = min(i * step, horizon)`` and ``E[Y(t)]`` the conditional expected
purchases in ``(T, T + t]``. It is the discrete form of Fader, Hardie & Lee
(2005, "RFM and CLV", eq. 2) and what lifetimes' ``customer_lifetime_value``
computes (monthly steps); the spend comes from the Gamma-Gamma model, which
assumes spend independent of the purchase process.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from shopseg.errors import SchemaError
from shopseg.models.clv._purchase import PurchaseModel
from shopseg.models.clv._summary import as_frame, read_monetary, read_summary
from shopseg.models.clv.gamma_gamma import GammaGammaModel

__all__ = ["customer_lifetime_value"]


def _check(horizon: float, step: float, discount_rate: float, margin: float) -> None:
    problems = []
    if not horizon > 0:
        problems.append(f"horizon must be > 0; got {horizon!r}")
    if not 0 < step <= horizon:
        problems.append(f"step must be in (0, horizon]; got {step!r}")
    if not discount_rate >= 0:
        problems.append(f"discount_rate must be >= 0; got {discount_rate!r}")
    if not margin > 0:
        problems.append(f"margin must be > 0; got {margin!r}")
    if problems:
        raise SchemaError("customer_lifetime_value: " + "; ".join(problems) + ".")


def customer_lifetime_value(
    purchase_model: PurchaseModel,
    spend_model: GammaGammaModel,
    data: Any,
    *,
    horizon: float = 52.0,
    step: float = 52.0 / 12,
    discount_rate: float = 0.01,
    margin: float = 1.0,
) -> pd.Series:
    """Discounted CLV per customer over ``horizon`` (see the module docstring).

    Parameters
    ----------
    purchase_model : BetaGeoModel or ParetoNBDModel
        Fitted purchase model.
    spend_model : GammaGammaModel
        Fitted spend model.
    data : pandas.DataFrame
        ``frequency``, ``recency``, ``T``, ``monetary_value`` (or the ``_cal`` names).
    horizon : float, default=52.0
        In the purchase model's time unit (weeks on CDNOW: one year).
    step : float, default=52/12
        Length of one discounting period (a month in weeks).
    discount_rate : float, default=0.01
        Per step (1% a month is ~12.7% a year).
    margin : float, default=1.0
        Profit margin applied to spend.

    Returns
    -------
    pandas.Series
        ``clv``, indexed like ``data``.

    References
    ----------
    .. [1] Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005). RFM and CLV:
       using iso-value curves for customer base analysis. Journal of Marketing
       Research 42(4), 415-430.
    """
    _check(horizon, step, discount_rate, margin)
    frame = as_frame(data)
    s = read_summary(frame)
    purchase_model._check_fitted()
    spend = spend_model.conditional_expected_average_profit(*read_monetary(frame)[:2])
    n_steps = int(np.ceil(horizon / step - 1e-9))
    times = np.minimum(np.arange(1, n_steps + 1) * step, horizon)
    p = purchase_model._p()
    with np.errstate(all="ignore"):
        cum = np.stack([purchase_model._cond_expected(p, np.asarray(t), s.x, s.t_x, s.T) for t in times])
    increments = np.diff(np.vstack([np.zeros((1, len(s.x))), cum]), axis=0)
    factors = (1.0 + discount_rate) ** -np.arange(1, n_steps + 1)
    per_row = purchase_model._finite(np.sum(factors[:, None] * increments, axis=0), "discounted expected purchases")
    return pd.Series(margin * spend * per_row[s.inverse], index=frame.index, name="clv")
