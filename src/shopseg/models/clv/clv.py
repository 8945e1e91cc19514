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

__all__ = ["customer_lifetime_value", "predict_customer_value"]


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
        cum = purchase_model._cond_expected_at(p, times, s)
    increments = np.diff(np.vstack([np.zeros((1, len(s.x))), cum]), axis=0)
    factors = (1.0 + discount_rate) ** -np.arange(1, n_steps + 1)
    per_row = purchase_model._finite(np.sum(factors[:, None] * increments, axis=0), "discounted expected purchases")
    return pd.Series(margin * spend * per_row[s.inverse], index=frame.index, name="clv")


_UNIT_DAYS = {"days": 1.0, "weeks": 7.0}


def predict_customer_value(
    purchase_model: PurchaseModel,
    spend_model: GammaGammaModel,
    data: pd.DataFrame,
    *,
    horizon: float = 52.0,
    step: float = 52.0 / 12,
    discount_rate: float = 0.01,
    margin: float = 1.0,
    interval: tuple[float, float] = (0.1, 0.9),
    as_of: str | None = None,
) -> pd.DataFrame:
    """One table of per-customer predictions, ready to store in a workspace.

    Columns: ``customer_id`` (when ``data`` has it), ``p_alive``,
    ``expected_purchases`` (over ``horizon``), ``expected_spend`` (per order),
    ``clv``, ``p_next_order``, ``next_order_expected``, ``next_order_lower``,
    ``next_order_upper`` (model time units from T) and, when the as-of date and
    the time unit are known (``as_of`` or ``data.attrs["calibration_end"]``, and
    ``data.attrs["time_unit"]`` in {"days", "weeks"}), ``next_order_date``,
    ``next_order_date_lower``, ``next_order_date_upper``. ``attrs`` record the
    models, horizon, discounting, time unit and any fallback.
    """
    out = purchase_model.predict(data, horizon=horizon, interval=interval)
    spend = spend_model.conditional_expected_average_profit(*read_monetary(data)[:2])
    at = out.columns.get_loc("expected_purchases") + 1
    out.insert(at, "expected_spend", spend)
    clv = customer_lifetime_value(
        purchase_model, spend_model, data, horizon=horizon, step=step, discount_rate=discount_rate, margin=margin
    )
    out.insert(at + 1, "clv", clv.to_numpy())
    unit = data.attrs.get("time_unit") or purchase_model.time_unit_
    start = as_of or data.attrs.get("calibration_end") or data.attrs.get("as_of")
    if start is not None and unit in _UNIT_DAYS:
        base = pd.Timestamp(start)
        for col, name in [
            ("next_order_expected", "next_order_date"),
            ("next_order_lower", "next_order_date_lower"),
            ("next_order_upper", "next_order_date_upper"),
        ]:
            out[name] = (base + pd.to_timedelta(np.round(out[col].to_numpy() * _UNIT_DAYS[unit]), unit="D")).normalize()
    out.attrs.update(
        {
            "spend_model": type(spend_model).__name__,
            "discount_rate": discount_rate,
            "step": step,
            "margin": margin,
            "time_unit": unit,
            "spend_fallback": spend_model.fallback_,
        }
    )
    return out
