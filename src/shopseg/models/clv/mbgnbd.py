"""The MBG/NBD purchase model (Batislam, Denizel & Filiztekin 2007).

The BG/NBD with one change: a customer may also drop out right after her
*first* purchase, not only after repeat purchases. While alive she buys as a
Poisson process with rate lambda ~ Gamma(r, alpha); after every purchase,
the first included, she drops out with probability p ~ Beta(a, b). The
likelihood of x repeat purchases, the last at t_x, observed for T is::

    L = G(r+x) alpha^r / G(r) * [ B(a, b+x+1)/B(a, b) (alpha+T)^-(r+x)
                                  + B(a+1, b+x)/B(a, b) (alpha+t_x)^-(r+x) ]

so that, unlike the BG/NBD, a one-time buyer is not certainly alive::

    P(alive | x, t_x, T) = 1 / (1 + a/(b+x) * ((alpha+T)/(alpha+t_x))^(r+x))

which falls with T for x = 0: a one-time buyer of long ago is likely gone.
Given alive, the dropout probability is Beta(a, b+x+1) (Beta(a, b+x) in the
BG/NBD), so every prediction of :class:`~shopseg.models.BetaGeoModel` carries
over with ``b + x`` replaced by ``b + x + 1``; the two share one implementation.
"""

from __future__ import annotations

from shopseg.models.clv.bgnbd import BetaGeoModel

__all__ = ["ModifiedBetaGeoModel"]


class ModifiedBetaGeoModel(BetaGeoModel):
    """MBG/NBD model of repeat purchasing, fitted by maximum likelihood.

    Parameters, attributes and methods are those of :class:`BetaGeoModel`;
    ``params_`` holds ``r``, ``alpha``, ``a``, ``b``.

    Examples
    --------
    >>> m = ModifiedBetaGeoModel()
    >>> m.params_ = {"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614}  # CDNOW fit (BTYDplus)
    >>> round(float(m.conditional_probability_alive([0], [0.0], [38.86])[0]), 2)  # a one-off buyer of week 1
    0.39
    >>> round(float(m.conditional_probability_alive([0], [0.0], [5.0])[0]), 2)  # ... of week 34
    0.57

    References
    ----------
    .. [1] Batislam, E. P., Denizel, M. and Filiztekin, A. (2007). Empirical
       validation and comparison of models for customer base analysis.
       International Journal of Research in Marketing 24(3), 201-209.
    .. [2] Platzer, M. (2016). BTYDplus: customer base analysis with extensions of
       the BTYD models (R package; ``mbgnbd.EstimateParameters``, the CDNOW fit).
    """

    _shift = 1
