"""customer_attributes: the key types found by grouping objects by their structure equal the per-object ones."""

from __future__ import annotations

import json

import duckdb
from hypothesis import given, settings
from hypothesis import strategies as st

from shopseg.io.attributes import KEY_TYPES_SQL

#: The definition, object by object: every key of every object with the JSON type of its value.
PER_OBJECT_SQL = """SELECT k, json_type(json_extract(attributes, '$."' || replace(k, '"', '\\"') || '"')) AS t, count(*)
FROM (SELECT attributes, unnest(json_keys(attributes)) AS k FROM customers
      WHERE attributes IS NOT NULL AND json_valid(attributes) AND json_type(attributes) = 'OBJECT')
WHERE k <> '' AND t <> 'NULL' GROUP BY 1, 2 ORDER BY 1, 2"""

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=5),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=3), inner, max_size=2),
    max_leaves=4,
)
_keys = st.sampled_from(["tier", "points", 'say "hi"', "naïve", "a.b", "", "x'y"])
_objects = st.dictionaries(_keys, _values, max_size=4)
_cells = st.one_of(_objects.map(json.dumps), st.just("[1, 2]"), st.just("7"), st.just("not json"), st.none())


@settings(max_examples=150, deadline=None)
@given(st.lists(_cells, min_size=1, max_size=12))
def test_key_types_by_structure_equal_the_types_object_by_object(cells):
    con = duckdb.connect()
    con.execute("CREATE TABLE customers (customer_id VARCHAR, attributes VARCHAR)")
    con.executemany("INSERT INTO customers VALUES (?, ?)", [[str(i), c] for i, c in enumerate(cells)])
    assert con.execute(KEY_TYPES_SQL).fetchall() == con.execute(PER_OBJECT_SQL).fetchall()


def test_codes_keep_their_leading_zero_and_lose_excels_apostrophe(workspace, tmp_path):
    """A postcode column (02134) stays text, zero and all; Shopify's "'7291651342522" (Excel's keep-as-text
    mark on every value) is stored without the apostrophe; a count stays a number."""
    from shopseg.io import ingest

    path = tmp_path / "customers.csv"
    path.write_text(
        "customer_id,email,zip,shopify_id,points\n"
        "c1,a@example.com,02134,'7291651342522,10\n"
        "c2,b@example.com,94103,'7291651342523,20\n",
        encoding="utf-8",
    )
    ingest(workspace, "customers", path)
    got = [json.loads(a) for (a,) in workspace.con.execute("SELECT attributes FROM customers ORDER BY 1").fetchall()]
    assert got == [
        {"zip": "02134", "shopify_id": "7291651342522", "points": 10.0},
        {"zip": "94103", "shopify_id": "7291651342523", "points": 20.0},
    ]
