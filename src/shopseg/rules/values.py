"""The values a categorical field holds, and warnings for rules that compare it to a value nobody has.

``country IN ('DE', 'AT')`` saves fine and matches nobody when the store writes
countries as ``Germany`` and ``Austria``. :func:`value_warnings` looks each
compared text value up in the field's column and, when no customer has it,
names the closest existing values: the same text in another case, the country
an ISO 3166 code or name stands for (``DE`` -> ``Germany``, via pycountry), or
the nearest spellings. A warning never refuses a rule: the rule may be meant for
customers still to come.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from typing import TYPE_CHECKING

from shopseg.errors import Issue, NotFound, did_you_mean
from shopseg.rules.nodes import Compare, In, Node, walk

if TYPE_CHECKING:
    import pandas as pd

    from shopseg.rules.fields import FieldRegistry
    from shopseg.rules.nodes import Segment
    from shopseg.workspace import Workspace

__all__ = ["field_values", "value_warnings"]

_SAMPLE = 5_000  # distinct values read to find the closest spellings


def field_values(ws: Workspace, name: str, fields: FieldRegistry, *, limit: int | None = None) -> pd.DataFrame:
    """``value, customers`` of a field, most common first (``shopseg segment values FIELD``).

    Raises
    ------
    NotFound
        Unknown field, or its table is not built yet (the message names the command that builds it).
    """
    field = _field(fields, name)
    if not ws.has_table(field.table):
        raise NotFound(
            f"segment values: field '{name}' lives in {field.table}, which this workspace does not have "
            "yet. Hint: build it first (shopseg features build, rfm, lifecycle, interests or predict)."
        )
    column = f'"{field.column}"'
    suffix = f" LIMIT {int(limit)}" if limit else ""
    return ws.con.execute(
        f'SELECT CAST({column} AS VARCHAR) AS value, count(*) AS customers FROM "{field.table}" '
        f"GROUP BY 1 ORDER BY 2 DESC, 1 NULLS LAST{suffix}"
    ).df()


def value_warnings(ws: Workspace, seg: Segment, fields: FieldRegistry) -> list[Issue]:
    """One warning per compared text value no customer has, with the closest existing values."""
    out: list[Issue] = []
    for path, field_name, value in _text_comparisons(seg.rule):
        field = fields.resolve(field_name) if field_name in fields else None
        if field is None or field.type != "string" or not ws.has_table(field.table):
            continue
        column = f'"{field.column}"'
        row = ws.con.execute(f'SELECT count(*) FROM "{field.table}" WHERE {column} = ?', [value]).fetchone()
        if row and row[0]:
            continue
        known = [
            r[0]
            for r in ws.con.execute(
                f'SELECT CAST({column} AS VARCHAR), count(*) FROM "{field.table}" WHERE {column} IS NOT NULL '
                f"GROUP BY 1 ORDER BY 2 DESC LIMIT {_SAMPLE}"
            ).fetchall()
        ]
        close = _closest(value, known, field_name)
        hint = (
            f" Did you mean {' or '.join(repr(c) for c in close)}?"
            if close
            else (f" It holds values such as {known[:5]}." if known else " It holds no values yet.")
        )
        out.append(
            Issue(
                path,
                "unknown_value",
                f"{path}: no customer has {field_name} = {value!r}.{hint} The rule is "
                "kept as written (`shopseg segment values "
                f"{field_name}` lists the values).",
            )
        )
    return out


def _text_comparisons(rule: Node) -> Iterator[tuple[str, str, str]]:
    for path, node in walk(rule):
        if isinstance(node, Compare) and node.op in ("=", "!=") and isinstance(node.value, str):
            yield f"{path or ''}/value", node.field, node.value
        elif isinstance(node, In):
            for i, v in enumerate(node.values):
                if isinstance(v, str):
                    yield f"{path or ''}/values/{i}", node.field, v


def _closest(value: str, known: list[str], field_name: str) -> list[str]:
    by_case = {k.casefold(): k for k in known}
    if value.casefold() in by_case:
        return [by_case[value.casefold()]]
    if field_name == "country":
        hits = [k for k in _country_forms(value) if k in set(known)]
        if hits:
            return hits[:2]
    return difflib.get_close_matches(value, known, n=2, cutoff=0.6)


def _country_forms(value: str) -> list[str]:
    """Other ways of writing the country ``value`` names: its name, common name, ISO alpha-2 and alpha-3 codes."""
    import pycountry

    try:
        country = pycountry.countries.lookup(value)
    except LookupError:
        return []
    forms = [getattr(country, a, None) for a in ("name", "common_name", "official_name", "alpha_2", "alpha_3")]
    return [f for f in dict.fromkeys(forms) if f]


def _field(fields: FieldRegistry, name: str):
    if name not in fields:
        raise NotFound(f"segment values: unknown field '{name}'.{did_you_mean(name, fields.names())}")
    return fields.resolve(name)
