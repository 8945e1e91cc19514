"""Compare one result computed on two engines: same rows, same values.

Rules (ARCHITECTURE.md): rows are matched on a key (sorted), columns must be
the same and in the same order, integers/booleans/strings/timestamps must be
equal (NULLs in the same places), floats equal to 1e-9 relative (plus 1e-9
absolute, for values near 0). Money built from integer cents is bit-identical
on both engines, so the tolerance only absorbs floating sums such as standard
deviations.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["assert_engines_agree", "canonical"]

RTOL = 1e-9
ATOL = 1e-9


def canonical(df: pd.DataFrame, key: str | list[str]) -> pd.DataFrame:
    """Sort by ``key``, reset the index and give both engines' dtypes one form."""
    keys = [key] if isinstance(key, str) else list(key)
    out = df.sort_values(keys, kind="stable").reset_index(drop=True)
    for col in out.columns:
        s = out[col]
        if pd.api.types.is_datetime64_any_dtype(s):
            out[col] = s.astype("datetime64[us]")
        elif pd.api.types.is_bool_dtype(s):
            out[col] = s.astype("boolean")
        elif pd.api.types.is_integer_dtype(s):
            out[col] = s.astype("Int64")
        elif pd.api.types.is_float_dtype(s):
            out[col] = s.astype("float64")
        else:
            out[col] = s.astype(object).where(s.notna(), None)
    return out


def _column_problem(name: str, left: pd.Series, right: pd.Series) -> str | None:
    lnull, rnull = left.isna().to_numpy(), right.isna().to_numpy()
    if (lnull != rnull).any():
        rows = np.flatnonzero(lnull != rnull)[:5]
        return f"{name}: NULL in different rows {list(rows)}"
    mask = ~lnull
    lv, rv = left[mask], right[mask]
    if pd.api.types.is_float_dtype(left) and pd.api.types.is_float_dtype(right):
        close = np.isclose(lv.to_numpy(float), rv.to_numpy(float), rtol=RTOL, atol=ATOL)
    else:
        close = (lv.to_numpy(object) == rv.to_numpy(object)).astype(bool)
    if not close.all():
        bad = np.flatnonzero(~close)[:5]
        pairs = [(lv.iloc[i], rv.iloc[i]) for i in bad]
        return f"{name}: {int((~close).sum())} values differ, first {pairs}"
    return None


def assert_engines_agree(left: pd.DataFrame, right: pd.DataFrame, key: str | list[str] = "customer_id") -> None:
    """Assert two engines' results are identical under the rules above; list every differing column."""
    assert list(left.columns) == list(right.columns), f"columns differ: {list(left.columns)} vs {list(right.columns)}"
    a, b = canonical(left, key), canonical(right, key)
    keys = [key] if isinstance(key, str) else list(key)
    assert len(a) == len(b), f"row counts differ: {len(a)} vs {len(b)}"
    assert a[keys].equals(b[keys]), "the two engines return different keys"
    problems = [p for col in a.columns if (p := _column_problem(col, a[col], b[col])) is not None]
    assert not problems, "engines disagree:\n" + "\n".join(problems)


def as_frame(result: Any) -> pd.DataFrame:
    """A pandas DataFrame from a DataFrame or an executed Ibis table."""
    return result if isinstance(result, pd.DataFrame) else result.to_pandas()
