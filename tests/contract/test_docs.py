"""Every setting and CLI command is documented (datasette's test_docs habit)."""

from __future__ import annotations

from pathlib import Path

import typer.main

from shopseg.cli.main import app
from shopseg.config import settings_markdown

ROOT = Path(__file__).resolve().parents[2]


def _commands(group, prefix=""):
    for name, cmd in group.commands.items():
        full = f"{prefix}{name}"
        if hasattr(cmd, "commands"):
            yield from _commands(cmd, full + " ")
        else:
            yield full


def test_settings_page_is_current():
    assert (ROOT / "docs" / "settings.md").read_text(encoding="utf-8") == settings_markdown(), (
        "docs/settings.md is stale: regenerate with `python -m shopseg.config > docs/settings.md`"
    )


def test_every_cli_command_is_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [c for c in _commands(typer.main.get_group(app)) if f"shopseg {c}" not in readme]
    assert not missing, f"README.md does not show: {missing}"
