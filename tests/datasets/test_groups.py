"""The planted groups are declared once and documented from that declaration."""

from __future__ import annotations

from pathlib import Path

from shopseg.datasets import PLANTED_GROUPS
from shopseg.datasets.groups import HOBBIES, PRIORITIES, STYLES, planted_groups_markdown

ROOT = Path(__file__).resolve().parents[2]


def test_shares_sum_to_one_and_weights_have_the_right_length():
    assert abs(sum(g.share for g in PLANTED_GROUPS.values()) - 1.0) < 1e-9
    for g in PLANTED_GROUPS.values():
        assert len(g.style) == len(STYLES) and len(g.priority) == len(PRIORITIES) and len(g.hobby) == len(HOBBIES)
        assert len(g.categories) == 6 and len(g.tiers) == 3 and len(g.channels) == 3
        assert g.description.endswith(".")


def test_docs_show_the_current_group_table():
    page = (ROOT / "docs" / "generator.md").read_text(encoding="utf-8")
    assert planted_groups_markdown() in page, (
        "docs/generator.md is stale: paste `python -m shopseg.datasets.groups` output into it"
    )
