"""A small constraint-table validator for estimator hyperparameters.

Estimators declare ``_parameter_constraints = {"name": [constraint, ...]}`` and
call :func:`validate_params` at the start of ``fit``. A parameter is valid when
it satisfies *any* of its constraints. A constraint is ``None`` (the value may be
None), a type (``bool``, ``str``...), an :class:`Interval` or :class:`Options`.
The message follows scikit-learn's::

    The 'penalizer' parameter of BetaGeoModel must be a float in the range [0, inf). Got -1 instead.

This is our own ~100 lines: scikit-learn's ``_param_validation`` is private.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any

from shopseg.errors import InvalidParameterError

__all__ = ["Interval", "Options", "validate_params", "describe_constraint"]


@dataclass(frozen=True)
class Interval:
    """A numeric range; ``type`` is ``numbers.Integral`` or ``numbers.Real``.

    Examples
    --------
    >>> Interval(Real, 0, None, closed="left").is_satisfied_by(0.0)
    True
    >>> str(Interval(Integral, 2, None, closed="left"))
    'an int in the range [2, inf)'
    """

    type: type
    left: float | None
    right: float | None
    closed: str = "both"

    def is_satisfied_by(self, value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, self.type) or not isinstance(value, Real):
            return False
        x = float(value)
        if math.isnan(x):
            return False
        left_ok = self.left is None or (x >= self.left if self.closed in ("left", "both") else x > self.left)
        right_ok = self.right is None or (x <= self.right if self.closed in ("right", "both") else x < self.right)
        return bool(left_ok and right_ok)

    def __str__(self) -> str:
        kind = "an int" if self.type is Integral else "a float"
        lo = "[" if self.closed in ("left", "both") and self.left is not None else "("
        hi = "]" if self.closed in ("right", "both") and self.right is not None else ")"
        left = "-inf" if self.left is None else f"{self.left:g}"
        right = "inf" if self.right is None else f"{self.right:g}"
        return f"{kind} in the range {lo}{left}, {right}{hi}"


@dataclass(frozen=True)
class Options:
    """One of a fixed set of values (usually strings).

    Examples
    --------
    >>> str(Options(("raise", "penalized")))
    "a str among {'penalized', 'raise'}"
    """

    values: Collection[Any]

    def is_satisfied_by(self, value: Any) -> bool:
        return isinstance(value, str) and value in self.values

    def __str__(self) -> str:
        return "a str among {" + ", ".join(repr(v) for v in sorted(self.values)) + "}"


def describe_constraint(constraint: Any) -> str:
    """Human wording of one constraint."""
    if constraint is None:
        return "None"
    if isinstance(constraint, type):
        name = {bool: "a bool", str: "a str", int: "an int", float: "a float"}.get(constraint)
        return name or f"an instance of {constraint.__name__!r}"
    return str(constraint)


def _satisfies(constraint: Any, value: Any) -> bool:
    if constraint is None:
        return value is None
    if isinstance(constraint, type):
        return isinstance(value, constraint)
    return bool(constraint.is_satisfied_by(value))


def validate_params(estimator: Any) -> None:
    """Check every hyperparameter of ``estimator`` against its constraint table.

    Raises
    ------
    InvalidParameterError
        The first parameter that satisfies none of its constraints.

    Examples
    --------
    >>> class Toy:
    ...     _parameter_constraints = {"k": [Interval(Integral, 2, None, closed="left")]}
    ...     def __init__(self, k=5):
    ...         self.k = k
    >>> validate_params(Toy(1))
    Traceback (most recent call last):
    ...
    shopseg.errors.InvalidParameterError: The 'k' parameter of Toy must be an int in the range [2, inf). Got 1 instead.
    """
    name = type(estimator).__name__
    for param, constraints in type(estimator)._parameter_constraints.items():
        value = getattr(estimator, param)
        if any(_satisfies(c, value) for c in constraints):
            continue
        wording = [describe_constraint(c) for c in constraints]
        expected = wording[0] if len(wording) == 1 else ", ".join(wording[:-1]) + " or " + wording[-1]
        raise InvalidParameterError(f"The {param!r} parameter of {name} must be {expected}. Got {value!r} instead.")
