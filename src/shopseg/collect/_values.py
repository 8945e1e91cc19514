"""The values a collected call may carry: the rules a file ingest applies (:mod:`shopseg.io.orders`), at the HTTP boundary.

A collected call is refused (400, nothing of its request stored) rather than stored with a value the
workspace cannot hold or compute with:

- money (a price, a total, a revenue, a discount) must be a number (or a numeric string, as Shopify
  sends), finite and under :data:`~shopseg.io.orders.MONEY_LIMIT` in absolute value; a discount is not
  negative; a line's value (quantity x price) stays under the same limit;
- a quantity is a whole number from 0 to 2,147,483,647 (``order_lines.quantity`` is a 32-bit integer; a
  return is an ``Order Refunded``, not a negative quantity);
- no number anywhere in a call is NaN or infinite (JSON has neither: ``NaN``, ``Infinity`` and ``1e999``
  are Python's extensions), and a call nests at most :data:`MAX_DEPTH` objects and lists deep.

Every problem is an :class:`~shopseg.errors.Issue` whose ``path`` points at the value (JSON-pointer-like:
``/batch/0/properties/products/1/quantity``); :class:`InvalidCallsError` carries them all.

>>> issues: list[Issue] = []
>>> quantity(1e30, "/properties/products/0/quantity", issues), money("abc", "/properties/products/0/price", issues)
(1, None)
>>> [i.path for i in issues]
['/properties/products/0/quantity', '/properties/products/0/price']
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from shopseg.errors import BadRequestError, Issue
from shopseg.io.orders import MONEY_LIMIT

__all__ = ["MAX_DEPTH", "QUANTITY_MAX", "InvalidCallsError", "issue", "money", "quantity", "check_line", "check_tree"]

#: Objects and lists nested deeper than this in one call are refused (the call's own object is level 1).
MAX_DEPTH = 32
QUANTITY_MAX = 2_147_483_647
_SHOWN = 20  # issues listed in an answer; the rest are counted


class InvalidCallsError(BadRequestError):
    """Collected calls refused: every problem as an :class:`~shopseg.errors.Issue` (``path``, ``code``, ``message``)."""

    def __init__(self, issues: Sequence[Issue]) -> None:
        self.issues = list(issues[:_SHOWN])
        if len(issues) > _SHOWN:
            more = len(issues) - _SHOWN
            self.issues.append(Issue("/", "more", f"and {more} more invalid value{'s' * (more > 1)}."))
        super().__init__("; ".join(i.message for i in self.issues))


def issue(issues: list[Issue], path: str, code: str, text: str) -> None:
    """Record one problem at ``path``; the message starts with the path, as every collection message does."""
    issues.append(Issue(path or "/", code, f"{path or '/'}: {text}"))


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _number(value: Any) -> float | None:
    """A JSON number, or a numeric string, as a float; None when it is neither."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        try:
            return float(value)
        except OverflowError:  # an integer beyond a double: out of every range
            return math.inf
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def money(value: Any, path: str, issues: list[Issue], *, negative: bool = True) -> float | None:
    """A money value rounded to cents; None when absent (``None``) or refused (an issue is recorded)."""
    if value is None:
        return None
    x = _number(value)
    if x is None:
        issue(issues, path, "not_a_number", f"not a number. Expected an amount such as 12.5; got {_shown(value)}.")
        return None
    if not math.isfinite(x):
        issue(issues, path, "not_finite", f"not a finite number. Expected an amount; got {_shown(value)}.")
        return None
    if abs(x) >= MONEY_LIMIT or (x < 0 and not negative):
        low = "0" if not negative else f"-{MONEY_LIMIT:,}"
        issue(
            issues,
            path,
            "out_of_range",
            f"out of range. Expected an amount from {low} to under {MONEY_LIMIT:,}; got {_shown(value)}.",
        )
        return None
    return round(x, 2)


def quantity(value: Any, path: str, issues: list[Issue]) -> int:
    """A line's quantity: a whole number from 0 to :data:`QUANTITY_MAX`; 1 when absent (or refused)."""
    if value is None:
        return 1
    x = _number(value)
    if x is None or not math.isfinite(x) or not x.is_integer() or not 0 <= x <= QUANTITY_MAX:
        code = "not_a_number" if x is None else "out_of_range"
        issue(
            issues,
            path,
            code,
            f"invalid quantity. Expected a whole number from 0 to {QUANTITY_MAX:,} (a return is an Order Refunded); "
            f"got {_shown(value)}.",
        )
        return 1
    return int(x)


def check_line(count: int, price: float, path: str, issues: list[Issue]) -> None:
    """Refuse a line whose value (``count`` x ``price``) reaches :data:`~shopseg.io.orders.MONEY_LIMIT`."""
    if abs(count * price) >= MONEY_LIMIT:
        issue(
            issues,
            path,
            "out_of_range",
            f"line value out of range. Expected quantity x price under {MONEY_LIMIT:,}; got {count:,} x {price:,}.",
        )


def _key(key: Any) -> str:
    return str(key).replace("~", "~0").replace("/", "~1")


def check_tree(value: Any, path: str, issues: list[Issue], limit: int = 10) -> None:
    """Refuse NaN and infinite numbers anywhere in ``value``, and nesting deeper than :data:`MAX_DEPTH` (no recursion).

    At most ``limit`` issues are recorded for one tree.
    """
    found = 0
    stack: list[tuple[Any, str, int]] = [(value, path, 1)]
    while stack and found < limit:
        node, where, depth = stack.pop()
        if isinstance(node, float) and not math.isfinite(node):
            issue(issues, where, "not_finite", f"not a finite number. Expected a JSON number; got {node!r}.")
            found += 1
            continue
        if not isinstance(node, dict | list):
            continue
        if depth > MAX_DEPTH:
            issue(
                issues,
                where,
                "too_deep",
                f"nested too deeply. Expected at most {MAX_DEPTH} levels of objects and lists; got more.",
            )
            found += 1
            continue
        items = node.items() if isinstance(node, dict) else enumerate(node)
        stack.extend((v, f"{where}/{_key(k)}", depth + 1) for k, v in reversed(list(items)))
