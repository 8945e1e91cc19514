"""The next-best-action playbook: ordered rules, each a segment-language condition and an action.

A playbook is data validated by pydantic, so users edit a copy (``shopseg nba
playbook > my.yaml``) and pass it back with ``--playbook my.yaml`` (YAML or
JSON). Rules are tried in order; a customer gets the **first** rule whose
``when`` matches. ``when`` is any rule of the segment language
(docs/segment-language.md), e.g. ``rfm_segment = 'Champions'``.

>>> pb = default_playbook()
>>> [r.name for r in pb.rules]
['cart_recovery', 'vip_reward', 'win_back', 'onboarding', 'cross_sell']
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from shopseg.errors import InvalidParameterError, SegmentError
from shopseg.rules.parse import parse_segment

__all__ = ["PlaybookRule", "Playbook", "default_playbook", "load_playbook", "playbook_text"]


class PlaybookRule(BaseModel):
    """One play: who (``when``), what (``action``, ``channel``), why (``reason``), how many products."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
    when: str = Field(min_length=1, description="A segment-language rule.")
    action: str = Field(min_length=1)
    reason: str = Field(min_length=1)
    channel: str = "email"
    products: int = Field(default=3, ge=0, le=50, description="How many recommended products to attach.")

    @field_validator("when")
    @classmethod
    def _parses(cls, value: str) -> str:
        try:
            parse_segment(value)
        except SegmentError as exc:
            raise ValueError(f"not a valid segment rule: {exc}") from None
        return value


class Playbook(BaseModel):
    """An ordered list of rules with unique names."""

    model_config = ConfigDict(extra="forbid")

    name: str = "default"
    rules: list[PlaybookRule] = Field(min_length=1)

    @field_validator("rules")
    @classmethod
    def _unique(cls, rules: list[PlaybookRule]) -> list[PlaybookRule]:
        names = [r.name for r in rules]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"rule names must be unique; repeated: {dupes}")
        return rules


_DEFAULT: dict[str, Any] = {
    "name": "default",
    "rules": [
        {
            "name": "cart_recovery",
            "when": "abandoned_checkouts_90d >= 1",
            "action": "Cart recovery: remind them of the checkout they left, with the products they viewed",
            "reason": "abandoned a checkout in the last 90 days without buying",
            "products": 3,
        },
        {
            "name": "vip_reward",
            "when": "rfm_segment = 'Champions'",
            "action": "VIP reward: early access and a thank-you gift, no discount",
            "reason": "Champions: bought recently, often and for the most",
            "products": 3,
        },
        {
            "name": "win_back",
            "when": "rfm_segment IN ('At risk', 'Cannot lose them', 'About to sleep', 'Hibernating')",
            "action": "Win-back offer: 15% off the next order, valid 14 days",
            "reason": "used to buy but has not bought for a long while",
            "products": 3,
        },
        {
            "name": "onboarding",
            "when": "lifecycle = 'new'",
            "action": "Onboarding series: welcome, how the shop works, best sellers",
            "reason": "new customer: first purchase within the store's usual gap",
            "products": 3,
        },
        {
            "name": "cross_sell",
            "when": "orders = 1",
            "action": "Cross-sell: products often bought with their first purchase",
            "reason": "one-time buyer: a second purchase is the biggest step",
            "products": 5,
        },
    ],
}


def default_playbook() -> Playbook:
    """The built-in playbook (a fresh copy)."""
    return Playbook.model_validate(_DEFAULT)


def playbook_text(playbook: Playbook | None = None, fmt: str = "yaml") -> str:
    """A playbook as YAML or JSON text, ready to edit."""
    data = (playbook or default_playbook()).model_dump()
    if fmt == "json":
        return json.dumps(data, indent=2) + "\n"
    import yaml

    return str(yaml.safe_dump(data, sort_keys=False, width=120))


def _issues(path: str, exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = "/" + "/".join(str(p) for p in err["loc"])
        parts.append(f"{path} {loc}: {err['msg']}")
    return "; ".join(parts)


def load_playbook(path: str | Path) -> Playbook:
    """Read and validate a YAML (``.yaml``/``.yml``) or JSON playbook file.

    Raises
    ------
    InvalidParameterError
        Naming the file and the path inside it of every problem.
    """
    path = Path(path)
    if not path.exists():
        raise InvalidParameterError(
            f"{path}: no playbook file here. Hint: `shopseg nba playbook > {path.name}` writes one."
        )
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix.lower() in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text)
        else:
            data = json.loads(text)
    except Exception as exc:  # noqa: BLE001 - yaml and json raise their own error types; both are reported
        raise InvalidParameterError(
            f"{path}: not valid {'YAML' if path.suffix in ('.yaml', '.yml') else 'JSON'}: {exc}"
        ) from None
    try:
        return Playbook.model_validate(data)
    except ValidationError as exc:
        raise InvalidParameterError(f"playbook {_issues(str(path), exc)}") from None
