"""`shopseg keys create/list/revoke`: API keys of the HTTP API (the admin bootstrap key comes from here)."""

from __future__ import annotations

from typing import Annotated

import typer

from shopseg.cli._common import console, open_workspace, print_table

__all__ = ["register", "keys_app"]

keys_app = typer.Typer(
    help="API keys with roles (viewer, marketer, admin; write: collection only), stored hashed.", no_args_is_help=True
)


@keys_app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="What the key is for, e.g. 'storefront' or 'ops'.")],
    role: Annotated[
        str,
        typer.Option(
            "--role", "-r", help="viewer, marketer, admin, or write (a collection-only write key for tracking SDKs)."
        ),
    ] = "viewer",
) -> None:
    """Create a key and print it once (only its hash is stored)."""
    from shopseg.api.keys import KeyStore

    with open_workspace() as ws:
        created = KeyStore(ws).create(name, role)
    console.print(
        f"created {created.info.role} key {created.info.key_id} ({name}); store it now, it is not shown again:"
    )
    console.print(created.key, highlight=False, markup=False, soft_wrap=True)


@keys_app.command("list")
def list_() -> None:
    """List keys (ids, names, roles; never secrets)."""
    from shopseg.api.keys import KeyStore

    with open_workspace() as ws:
        keys = KeyStore(ws).list()
    rows = [
        (k.key_id, k.name, k.role, f"{k.created_at:%Y-%m-%d %H:%M}", "revoked" if k.revoked_at else "active")
        for k in keys
    ]
    print_table("API keys", ["key id", "name", "role", "created (UTC)", "state"], rows)


@keys_app.command("revoke")
def revoke(key_id: Annotated[str, typer.Argument(help="The key id (the 8 hex digits after 'ss_').")]) -> None:
    """Revoke a key; requests with it answer 401 (a running server: use DELETE /api/v1/keys/ID)."""
    from shopseg.api.keys import KeyStore

    with open_workspace() as ws:
        info = KeyStore(ws).revoke(key_id)
    console.print(f"revoked key {info.key_id} ({info.name})")


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")
