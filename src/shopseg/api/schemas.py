"""Pydantic models of the HTTP API's requests and answers (what /openapi.json publishes)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "ErrorItem", "ErrorOut", "EventIn", "EventBatchIn", "EventsOut", "KeyIn", "KeyOut", "KeyCreatedOut",
    "SegmentIn", "SegmentUpdateIn", "SegmentOut", "PreviewIn", "PreviewOut", "MembersOut", "CustomerOut",
    "MembershipOut", "WebhookIn", "WebhookOut", "DeadLetterOut", "ErasureOut", "HealthOut", "SettingOut",
]  # fmt: skip

_ID = r"^[A-Za-z0-9][A-Za-z0-9._:@+-]{0,127}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorItem(BaseModel):
    message: str
    path: str | None = None
    code: str | None = None


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

    @field_validator("occurred_at")
    @classmethod
    def _utc(cls, value: dt.datetime) -> dt.datetime:
        if value.tzinfo is not None:
            value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
        if not dt.datetime(1970, 1, 1) <= value <= dt.datetime(2999, 12, 31):
            raise ValueError("expected a time between 1970 and 2999")
        return value

    @model_validator(mode="after")
    def _someone(self) -> EventIn:
        if self.customer_id is None and self.anonymous_id is None:
            raise ValueError("expected customer_id or anonymous_id; got neither")
        return self


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
    role: Literal["viewer", "marketer", "admin"]


class KeyOut(BaseModel):
    key_id: str
    name: str
    role: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None = None


class KeyCreatedOut(KeyOut):
    key: str = Field(description="The secret; shown once, stored only hashed.")


class SegmentIn(_Strict):
    name: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
    definition: str | dict[str, Any] = Field(description="Text form or JSON form of the rule.")
    description: str = Field(default="", max_length=2000)
    force: bool = Field(default=False, description="Save a rule that never or always matches.")


class SegmentUpdateIn(_Strict):
    definition: str | dict[str, Any]
    description: str = Field(default="", max_length=2000)
    force: bool = False


class SegmentOut(BaseModel):
    name: str
    version: int
    definition: str
    description: str
    created_at: dt.datetime
    json_form: dict[str, Any] | None = Field(description="The rule in JSON form (None when the rule cannot be used).")
    live_members: int | None = Field(default=None, description="Current live members (None without live mode).")
    error: str | None = Field(default=None, description="Why the saved rule cannot be used (over a limit, a field "
                                                        "gone, ...); it is left out of refresh, overlaps and live mode.")


class PreviewIn(_Strict):
    definition: str | dict[str, Any]
    as_of: dt.date | None = None
    sample: int = Field(default=10, ge=0, le=100)


class PreviewOut(BaseModel):
    size: int
    customers: int
    share: float
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
    rows_deleted: dict[str, int]


class WebhookIn(_Strict):
    url: str = Field(pattern=r"^https?://[^\s]{1,2000}$")
    segments: list[str] = Field(default_factory=list, description="Only these segments (empty: all).")
    secret: str | None = Field(default=None, min_length=16, max_length=200,
                               description="HMAC-SHA256 key; generated when omitted (shown once).")  # fmt: skip


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


class SettingOut(BaseModel):
    name: str
    value: Any
    default: Any
    help: str
