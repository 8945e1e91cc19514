"""Process settings: one registry feeding CLI flags, env vars, the API and the docs.

Every setting is declared once in :data:`SETTINGS`. Its value comes, in order of
precedence, from an active :func:`config_context`, the environment variable
``SHOPSEG_<NAME>``, and finally the declared default.

Examples
--------
>>> from shopseg.config import get_setting, config_context
>>> get_setting("engine")
'duckdb'
>>> with config_context(engine="spark"):
...     get_setting("engine")
'spark'
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from shopseg.errors import InvalidParameterError, did_you_mean

__all__ = ["Setting", "SETTINGS", "get_setting", "config_context", "env_var", "settings_markdown"]


@dataclass(frozen=True)
class Setting:
    """One process setting: its name, default, type and help text."""

    name: str
    default: Any
    type: type
    help: str
    choices: tuple[str, ...] = ()


SETTINGS: dict[str, Setting] = {
    s.name: s
    for s in [
        Setting("workspace", "shopseg.duckdb", str, "Path of the DuckDB workspace file."),
        Setting("engine", "duckdb", str, "Execution engine for features and segments.", ("duckdb", "spark")),
        Setting("spark_driver_memory", "2g", str, "Driver memory for the local Spark session."),
        Setting("spark_master", "local[2]", str, "Spark master URL (local[N] or a cluster)."),
        Setting("time_unit", "days", str, "Unit of recency, T and tenure in feature tables.", ("days", "weeks")),
        Setting("rfm_bins", 5, int, "Number of quantile bins for R, F and M scores."),
        Setting(
            "report_currency",
            "",
            str,
            "ISO currency code the report shows money in (empty: the most common orders.currency).",
        ),
        Setting(
            "duckdb_memory_limit",
            "1500MB",
            str,
            "Memory cap of the DuckDB workspace connection (a DuckDB size such as 1500MB or 4GB; "
            "empty: DuckDB's default, 80% of RAM). Larger queries spill to disk instead. The process "
            "peaks a few hundred MB above it (1M customers: about 1.8 GB).",
        ),
        Setting(
            "ingest_memory_limit",
            "700MB",
            str,
            "Memory cap of the DuckDB connection while `shopseg ingest` loads a file (a DuckDB size; empty: "
            "duckdb_memory_limit). Ingest streams and spills to the workspace's .tmp folder beyond it. "
            "DuckDB needs about 600MB to group the 44M orders of a 10M-customer store, so less fails there.",
        ),
        Setting("max_error_rows", 5, int, "How many offending row numbers an error message lists."),
        Setting(
            "segment_max_rule_chars",
            20_000,
            int,
            "Longest segment rule, in characters of its text form (a rule in JSON form: of the text form it "
            "is saved as; the JSON text itself may be 4 times as long). Checked before the rule is parsed; "
            "larger: 413 / exit 1.",
        ),
        Setting(
            "segment_max_depth",
            32,
            int,
            "Deepest nesting of a segment rule: a condition is 1 level, each AND/OR/NOT around it and each "
            "segment('name') it goes through adds 1 (at most 64).",
        ),
        Setting(
            "segment_max_nodes",
            1000,
            int,
            "Most conditions and AND/OR/NOT operators in a segment rule, counting the rules its "
            "segment('name') references bring in (an IN list is one condition).",
        ),
        Setting(
            "preview_timeout_ms",
            30_000,
            int,
            "Time budget of one segment preview or members page (API, dashboard, CLI), ms: its queries are "
            "interrupted when it runs out (HTTP 503). 0: no budget.",
        ),
        Setting(
            "export_min_segment_size",
            100,
            int,
            "Smallest audience `shopseg export` writes (after the consent filter); smaller ones are refused "
            "(ad platforms need 100-1000 matched people, and tiny lists re-identify people).",
        ),
        Setting(
            "event_retention_days",
            730,
            int,
            "Raw events older than this many days (counted back from now, or from --as-of) are deleted by "
            "`shopseg privacy retain`; 0 keeps them forever.",
        ),
        Setting(
            "erasure_compact",
            "now",
            str,
            "After an erasure (`shopseg forget`, DELETE /api/v1/customers/{id}), rewrite the workspace file so no "
            "byte of the customer is left in it: now, or later (bulk erasures: run `shopseg privacy compact` after "
            "the last one; `shopseg serve` also does it at start-up).",
            ("now", "later"),
        ),
        Setting("srm_alpha", 0.001, float, "p-value below which an experiment's sample ratio mismatch check fails."),
        Setting("api_host", "127.0.0.1", str, "Address `shopseg serve` listens on (loopback by default)."),
        Setting("api_port", 8000, int, "TCP port of `shopseg serve`."),
        Setting("api_max_body_bytes", 1_000_000, int, "Largest accepted HTTP request body, bytes (larger: 413)."),
        Setting("api_max_batch", 1000, int, "Most events one POST /api/v1/events may carry."),
        Setting(
            "shopify_webhook_secret",
            "",
            str,
            "The Shopify app's client secret: POST /api/v1/shopify/webhooks accepts only deliveries whose "
            "X-Shopify-Hmac-Sha256 it verifies (empty: every delivery answers 401). Never shown by /api/v1/settings.",
        ),
        Setting(
            "api_event_max_future_s",
            86_400,
            int,
            "Latest accepted event time, seconds after the server's "
            "clock: events dated later (a sender with a wrong clock) are refused with 422.",
        ),
        Setting(
            "api_forwarded_allow_ips",
            "",
            str,
            "Comma-separated addresses of reverse proxies whose X-Forwarded-Proto and X-Forwarded-For headers "
            "`shopseg serve` trusts (uvicorn's forwarded_allow_ips; '*' trusts any). Empty: those headers are "
            "ignored. Set it to the proxy's address when an HTTPS proxy sits in front (see docs/dashboard.md).",
        ),
        Setting(
            "dashboard_session_hours",
            12.0,
            float,
            "Lifetime of a dashboard login session, hours (then the browser is sent back to /login).",
        ),
        Setting(
            "dashboard_secure_cookies",
            "auto",
            str,
            "Secure flag of the dashboard's session cookie: auto (when the request came over HTTPS, directly or "
            "as X-Forwarded-Proto from a proxy in api_forwarded_allow_ips), always, never.",
            ("auto", "always", "never"),
        ),
        Setting(
            "live_reentry",
            "always",
            str,
            "Re-entry rule of live segments: always (every exit then entry is notified), once (a customer's "
            "first entry only), cooldown (a new entry only live_reentry_cooldown_s after the last exit).",
            ("always", "once", "cooldown"),
        ),
        Setting(
            "live_reentry_cooldown_s",
            86400,
            int,
            "With live_reentry=cooldown: seconds after an exit before a new entry is notified.",
        ),
        Setting("live_tick_ms", 1000, int, "How often the live scheduler checks whether time windows moved, ms."),
        Setting("live_commit_batch", 1000, int, "Most events the live writer journals (one fsync) in one group."),
        Setting("live_apply_ms", 500, int, "How often journaled live events are applied to the workspace tables, ms."),
        Setting("live_apply_batch", 5000, int, "Apply journaled live events as soon as this many are pending."),
        Setting(
            "webhook_max_attempts", 5, int, "Delivery attempts of one webhook notification before it is dead-lettered."
        ),
        Setting("webhook_backoff_ms", 500, int, "First retry delay of a webhook, ms; doubled after each failure."),
        Setting("webhook_timeout_ms", 5000, int, "Timeout of one webhook delivery attempt, ms."),
    ]
}

_overrides: ContextVar[dict[str, Any]] = ContextVar("shopseg_overrides", default={})  # noqa: B039 (never mutated: set() replaces it)


def env_var(name: str) -> str:
    """Return the environment variable that sets ``name`` (``SHOPSEG_<NAME>``)."""
    return f"SHOPSEG_{name.upper()}"


def _check(name: str) -> Setting:
    if name not in SETTINGS:
        raise InvalidParameterError(
            f"Unknown setting '{name}'. Expected one of {sorted(SETTINGS)}.{did_you_mean(name, SETTINGS)}"
        )
    return SETTINGS[name]


def _coerce(setting: Setting, value: Any) -> Any:
    try:
        out = setting.type(value)
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(
            f"The '{setting.name}' setting must be of type {setting.type.__name__}. Got {value!r} instead."
        ) from exc
    if setting.choices and out not in setting.choices:
        raise InvalidParameterError(
            f"The '{setting.name}' setting must be one of {list(setting.choices)}. Got {value!r} instead."
            f"{did_you_mean(str(value), setting.choices)}"
        )
    return out


def get_setting(name: str) -> Any:
    """Return the effective value of a setting (context > environment > default)."""
    setting = _check(name)
    overrides = _overrides.get()
    if name in overrides:
        return overrides[name]
    raw = os.environ.get(env_var(name))
    if raw is not None:
        return _coerce(setting, raw)
    return setting.default


@contextlib.contextmanager
def config_context(**settings: Any) -> Iterator[None]:
    """Temporarily override settings within a ``with`` block (thread and task local)."""
    new = dict(_overrides.get())
    for name, value in settings.items():
        if value is None:
            continue
        new[name] = _coerce(_check(name), value)
    token = _overrides.set(new)
    try:
        yield
    finally:
        _overrides.reset(token)


def settings_markdown() -> str:
    """The settings reference page (docs/settings.md), generated from :data:`SETTINGS`."""
    lines = [
        "# Settings",
        "",
        "Generated from `shopseg.config.SETTINGS` (`python -m shopseg.config > docs/settings.md`).",
        "Each setting is read from a `config_context()` override, then the environment variable, then its default.",
        "",
        "| setting | env var | default | type | choices | help |",
        "|---|---|---|---|---|---|",
    ]
    for s in SETTINGS.values():
        choices = ", ".join(s.choices) or "-"
        lines.append(f"| `{s.name}` | `{env_var(s.name)}` | `{s.default}` | {s.type.__name__} | {choices} | {s.help} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(settings_markdown(), end="")
