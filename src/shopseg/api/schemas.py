"""Pydantic models of the HTTP API's requests and answers (what /openapi.json publishes)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shopseg.collect.segment_spec import COLLECT_KEY
from shopseg.config import get_setting
from shopseg.features.asof import parse_date
from shopseg.live.clock import utcnow

__all__ = [
    "ErrorItem",
    "ErrorOut",
    "EventIn",
    "EventBatchIn",
    "EventsOut",
    "KeyIn",
    "KeyOut",
    "KeyCreatedOut",
    "SegmentIn",
    "SegmentUpdateIn",
    "SegmentOut",
    "PreviewIn",
    "PreviewOut",
    "MembersOut",
    "CustomerOut",
    "MembershipOut",
    "WebhookIn",
    "WebhookOut",
    "DeadLetterOut",
    "ErasureOut",
    "HealthOut",
    "SettingOut",
]

_ID = r"^[A-Za-z0-9][A-Za-z0-9._:@+-]{0,127}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorItem(BaseModel):
    message: str
    path: str | None = None
    code: str | None = None
    what: str | None = Field(default=None, description="A rule issue's message without its position and caret.")
    line: int | None = Field(default=None, description="A rule issue's line in the text form (1-based).")
    col: int | None = Field(default=None, description="A rule issue's column (1-based).")
    length: int | None = Field(default=None, description="How many characters of the rule the issue is about.")


class ErrorOut(BaseModel):
    """Every error answer."""

    ok: Literal[False] = False
    error: str
    errors: list[ErrorItem]
    status: int


class EventIn(_Strict):
    """One event (``events`` table). ``customer_id`` or ``anonymous_id`` is required."""

    event_id: str = Field(pattern=_ID, description="Unique id; a re-sent event is acknowledged, not stored twice.")
    customer_id: str | None = Field(default=None, pattern=_ID)
    anonymous_id: str | None = Field(default=None, pattern=_ID)
    type: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$", description="page_view, product_view, add_to_cart, ...")
    occurred_at: dt.datetime = Field(description="ISO 8601; a time zone is converted to UTC, none means UTC.")
    product_id: str | None = Field(default=None, max_length=128)
    properties: dict[str, Any] | None = Field(default=None, description="Other properties (a JSON object).")

    @field_validator("occurred_at", mode="wrap")
    @classmethod
    def _utc(cls, value: Any, handler: Any) -> dt.datetime:
        return event_time(value, handler)

    @model_validator(mode="after")
    def _someone(self) -> EventIn:
        if self.customer_id is None and self.anonymous_id is None:
            raise ValueError("expected customer_id or anonymous_id; got neither")
        if self.properties and COLLECT_KEY in self.properties:
            raise ValueError(f"properties: {COLLECT_KEY!r} is reserved for shopseg's collection; rename the property")
        return self


def event_time(value: Any, handler: Any) -> dt.datetime:
    """Parse an event time to naive UTC and keep it within what the store can hold.

    An offset that pushes the time past year 9999 (``9999-12-31T23:59:59-05:00``) is a
    validation error, not an overflow; times before 1970 or later than now plus the
    ``api_event_max_future_s`` setting (clients with a wrong clock, test data) are refused.
    """
    try:
        parsed: dt.datetime = handler(value)
        if parsed.tzinfo is not None:
            parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
    except OverflowError:
        raise ValueError(
            f"expected a time between 1970-01-01 and now; got {value!r}, which is out of range once converted to UTC"
        ) from None
    tolerance = int(get_setting("api_event_max_future_s"))
    latest = utcnow() + dt.timedelta(seconds=tolerance)
    if parsed < dt.datetime(1970, 1, 1):
        raise ValueError(f"expected a time from 1970-01-01 on; got {parsed.isoformat()}Z")
    if parsed > latest:
        raise ValueError(
            f"expected a time no later than {latest.isoformat(timespec='seconds')}Z (now plus "
            f"api_event_max_future_s = {tolerance:,} s); got {parsed.isoformat()}Z. Check the sender's clock."
        )
    return parsed


class EventBatchIn(_Strict):
    """A batch of events, stored in one transaction."""

    events: list[EventIn] = Field(min_length=1)


class EventsOut(BaseModel):
    ok: Literal[True] = True
    accepted: int = Field(description="Events stored by this request.")
    duplicates: int = Field(description="Events whose event_id was already stored (acknowledged, not stored again).")
    event_ids: list[str]


class KeyIn(_Strict):
    name: str = Field(min_length=1, max_length=64)
    role: Literal["viewer", "marketer", "admin", "write"] = Field(
        description="write: a collection-only write key for tracking SDKs (Segment-compatible /v1/... routes)."
    )


class KeyOut(BaseModel):
    key_id: str
    name: str
    role: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None = None


class KeyCreatedOut(KeyOut):
    key: str = Field(description="The secret; shown once, stored only hashed.")


_RULE = "The rule, in text form (`orders >= 3 AND last_order < -90d`) or JSON form."


class _RuleIn(_Strict):
    """A request carrying a rule as ``rule``; ``definition``, its former name, is accepted (deprecated)."""

    rule: str | dict[str, Any] = Field(description=_RULE)
    definition: str | dict[str, Any] | None = Field(
        default=None, deprecated=True, description="Deprecated: the former name of `rule` (still accepted)."
    )

    @model_validator(mode="before")
    @classmethod
    def _alias(cls, data: Any) -> Any:
        if isinstance(data, dict) and "definition" in data:
            if "rule" in data:
                raise ValueError(
                    "expected the rule in 'rule' only; got both 'rule' and its deprecated alias 'definition'"
                )
            data = {k: v for k, v in data.items() if k != "definition"} | {"rule": data["definition"]}
        return data


class SegmentIn(_RuleIn):
    name: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
    description: str = Field(default="", max_length=2000)
    force: bool = Field(default=False, description="Save a rule that never or always matches.")


class SegmentUpdateIn(_RuleIn):
    description: str = Field(default="", max_length=2000)
    force: bool = False


class SegmentOut(BaseModel):
    name: str
    version: int
    rule: str = Field(description="The saved rule in canonical text form.")
    definition: str = Field(deprecated=True, description="Deprecated: the same as `rule`.")
    description: str
    created_at: dt.datetime
    json_form: dict[str, Any] | None = Field(description="The rule in JSON form (None when the rule cannot be used).")
    live_members: int | None = Field(default=None, description="Current live members (None without live mode).")
    live_as_of: dt.date | None = Field(default=None, description="The day live membership is evaluated as of (today).")
    batch_members: int | None = Field(
        default=None, description="Members at the latest snapshot (`shopseg segment refresh`); None before one."
    )
    batch_as_of: dt.date | None = Field(default=None, description="The day of that snapshot.")
    error: str | None = Field(
        default=None,
        description="Why the saved rule cannot be used (over a limit, a field "
        "gone, ...); it is left out of refresh, overlaps and live mode.",
    )
    warnings: list[str] = Field(
        default_factory=list,
        description="On save: values the rule compares a field to "
        "that no customer has, with the closest existing ones (the rule is saved all the same).",
    )


class PreviewIn(_RuleIn):
    as_of: dt.date | None = None
    sample: int = Field(default=10, ge=0, le=100)
    overlap: bool = Field(default=True, description="Count the members shared with each saved segment.")

    @field_validator("as_of")
    @classmethod
    def _in_range(cls, value: dt.date | None) -> dt.date | None:
        return None if value is None else parse_date(value)


class PreviewOut(BaseModel):
    rule: str = Field(description="The rule in canonical text form.")
    as_of: dt.date = Field(description="The date the preview was counted on (the features' as-of date by default).")
    size: int
    customers: int
    share: float
    revenue: float = Field(description="The members' revenue (customer_features.revenue), rounded to cents.")
    revenue_share: float
    sample: list[dict[str, Any]]
    warnings: list[str]
    overlap: dict[str, int]


class MembersOut(BaseModel):
    segment: str
    size: int
    customer_ids: list[str]


class MembershipOut(BaseModel):
    segment: str
    since: dt.datetime


class CustomerOut(BaseModel):
    customer_id: str
    profile: dict[str, Any] = Field(description="Batch profile fields (features, RFM, lifecycle).")
    live: dict[str, Any] = Field(description="Live counters: events seen, by type, last event time.")
    segments: list[MembershipOut]


class ErasureOut(BaseModel):
    ok: Literal[True] = True
    customer_id: str
    rows_deleted: dict[str, int] = Field(description="Rows removed per table; 'journal': live events not applied yet.")
    compacted: bool = Field(
        description="The workspace file was rewritten: no byte of the customer is left in it. "
        "False: it is rewritten by the next erasure or the next server start."
    )


class WebhookIn(_Strict):
    url: str = Field(pattern=r"^https?://[^\s]{1,2000}$")
    segments: list[str] = Field(default_factory=list, description="Only these segments (empty: all).")
    secret: str | None = Field(
        default=None, min_length=16, max_length=200, description="HMAC-SHA256 key; generated when omitted (shown once)."
    )


class WebhookOut(BaseModel):
    webhook_id: str
    url: str
    segments: list[str]
    created_at: dt.datetime
    secret: str | None = Field(default=None, description="Only in the answer that created the webhook.")


class DeadLetterOut(BaseModel):
    webhook_id: str
    url: str
    attempts: int
    last_error: str
    failed_at: dt.datetime
    notification: dict[str, Any]


class HealthOut(BaseModel):
    ok: bool
    live: bool
    events: int
    segments: int
    quarantined: int = Field(
        0, description="Collected events set apart since the store began (GET /quarantined-events)."
    )


class SettingOut(BaseModel):
    name: str
    value: Any
    default: Any
    help: str
