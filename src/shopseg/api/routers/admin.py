"""``POST /api/v1/admin/cli``: run a `shopseg` command inside the server for the CLI (:mod:`shopseg.cli._remote`).

Not part of the public API (left out of the OpenAPI document). It answers only

- requests from a loopback address (the CLI on the server's machine), and
- carrying the token of this server run in ``X-Shopseg-Admin-Token``; the token is
  written by ``shopseg serve`` to ``<workspace>.server`` with mode 0600, so only the
  server's own OS user (and root) can read it. API keys do not open this route.

Without ``shopseg serve`` (``create_app`` in a test or a custom host) no token is
set and the route answers 404. The answer streams the command's output as
newline-delimited JSON: ``{"stream": "stdout" | "stderr", "data": text}`` objects,
then ``{"exit": code}``.
"""

from __future__ import annotations

import ipaddress
import json
import os
import queue
import secrets
import threading
from collections.abc import Iterator

from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shopseg._logging import get_logger
from shopseg.api.deps import AppState, get_state
from shopseg.errors import AuthenticationError, InvalidParameterError, NotFound, PermissionDeniedError

__all__ = ["router", "TOKEN_KEY", "new_token"]

router = APIRouter(tags=["admin"], include_in_schema=False)
log = get_logger("shopseg.api")

#: ``AppState.extra`` key of this run's hand-over token (set by ``shopseg serve``).
TOKEN_KEY = "cli_admin_token"
TOKEN_HEADER = "X-Shopseg-Admin-Token"


def new_token(state: AppState) -> str:
    """Make this run's hand-over token and keep it in ``state`` (the route answers from then on)."""
    token = secrets.token_urlsafe(32)
    state.extra[TOKEN_KEY] = token
    return token


class CliIn(BaseModel):
    """A command line to run as if typed in ``cwd``."""

    model_config = ConfigDict(extra="forbid")
    argv: list[str] = Field(max_length=1000)
    cwd: str
    settings: dict[str, str] = Field(default_factory=dict)
    columns: int = Field(default=100, ge=20, le=1000)


def _admit(request: Request, state: AppState) -> None:
    token = state.extra.get(TOKEN_KEY)
    if not token:
        raise NotFound("request: no such route. Expected a path of the shopseg API (see /docs).")
    host = request.client.host if request.client else ""
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise PermissionDeniedError(
            f"request: the CLI hand-over answers only on this machine. Expected a loopback client; got {host!r}."
        )
    given = request.headers.get(TOKEN_HEADER, "")
    if not secrets.compare_digest(given.encode(), str(token).encode()):
        raise AuthenticationError(
            f"request: missing or wrong {TOKEN_HEADER}. Expected the token of this server run "
            "(in the workspace's .server file, readable by the server's user)."
        )


def _command(raw: bytes) -> CliIn:
    """The request body, read only once the caller is admitted: a stranger learns nothing of its fields."""
    try:
        return CliIn.model_validate_json(raw)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)], body=raw
        ) from None


@router.post("/admin/cli")
async def run_cli(request: Request, state: AppState = Depends(get_state)) -> StreamingResponse:
    """Run ``shopseg <argv>`` against this server's workspace; stream its output and exit code.

    The caller is admitted (404, 403, 401) before the body is read and validated (422).
    """
    _admit(request, state)
    body = _command(await request.body())
    if not os.path.isabs(body.cwd) or not os.path.isdir(body.cwd):
        raise InvalidParameterError(f"cwd: expected an existing absolute directory; got {body.cwd!r}.")
    lines: queue.Queue[str | None] = queue.Queue()

    def emit(stream: str, text: str) -> None:
        lines.put(json.dumps({"stream": stream, "data": text}) + "\n")

    def work() -> None:
        from shopseg.cli._hosted import run_command

        code = 1
        try:
            code = run_command(state, body.argv, cwd=body.cwd, settings=body.settings, columns=body.columns, emit=emit)
        except Exception as exc:  # reported to the client and logged; the server goes on
            log.exception("CLI hand-over: a command failed")
            emit("stderr", f"internal error: {type(exc).__name__}: {exc}. This is a bug in shopseg.\n")
        finally:
            lines.put(json.dumps({"exit": code}) + "\n")
            lines.put(None)

    log.info("CLI hand-over: running a command for the CLI")  # its arguments may name a customer: not logged
    threading.Thread(target=work, name="shopseg-cli-handover", daemon=True).start()

    def stream() -> Iterator[str]:
        while (line := lines.get()) is not None:
            yield line

    return StreamingResponse(stream(), media_type="application/x-ndjson")
