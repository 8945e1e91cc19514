"""The built-in presets are spec files (issue 15): they validate against the shipped JSON Schema, and each
loads a small file shaped like the real export the same way as `--preset NAME` and as a copied spec.

Expected values are read off the fixture rows by hand (and, for CDNOW, from the file's own dollar values).
"""

from __future__ import annotations

import hashlib
import json
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml

from shopseg.errors import SchemaError
from shopseg.io import PRESETS, ingest
from shopseg.io.draft import draft_from_preset, preset_names
from shopseg.io.spec import _Yaml12Loader, load_spec, parse_spec
from shopseg.io.spec_ingest import ingest_spec
from shopseg.workspace import Workspace

ROOT = Path(__file__).resolve().parents[2]
SHOPIFY = Path(__file__).resolve().parent / "data" / "shopify_orders.csv"


def _check(value: Any, schema: dict, defs: dict, at: str) -> list[str]:
    """Problems of ``value`` against the JSON Schema keywords the shipped schema uses (an independent reader)."""
    if "$ref" in schema:
        return _check(value, defs[schema["$ref"].rsplit("/", 1)[1]], defs, at)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            fits = sum(not _check(value, s, defs, at) for s in schema[key])
            ok = fits >= 1 if key == "anyOf" else fits == 1
            return [] if ok else [f"{at}: {fits} of the {key} alternatives fit {value!r}"]
    types = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}
    typ = schema.get("type")
    if typ == "integer" and not (isinstance(value, int) and not isinstance(value, bool)):
        return [f"{at}: not an integer"]
    if typ == "number" and not (isinstance(value, int | float) and not isinstance(value, bool)):
        return [f"{at}: not a number"]
    if typ in types and not isinstance(value, types[typ]):
        return [f"{at}: not {typ}"]
    out = []
    if "const" in schema and value != schema["const"]:
        out.append(f"{at}: not {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        out.append(f"{at}: not one of {schema['enum']}")
    if isinstance(value, str) and len(value) < schema.get("minLength", 0):
        out.append(f"{at}: too short")
    if isinstance(value, int | float) and not isinstance(value, bool):
        if value < schema.get("minimum", value) or value > schema.get("maximum", value):
            out.append(f"{at}: out of range")
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            out.append(f"{at}: too few items")
        for i, item in enumerate(value):
            out += _check(item, schema.get("items", {}), defs, f"{at}[{i}]")
    if isinstance(value, dict):
        props = schema.get("properties", {})
        if len(value) < schema.get("minProperties", 0):
            out.append(f"{at}: too few keys")
        out += [f"{at}: missing {k}" for k in schema.get("required", []) if k not in value]
        for k, v in value.items():
            if k in props:
                out += _check(v, props[k], defs, f"{at}.{k}")
            elif schema.get("additionalProperties") is False:
                out.append(f"{at}: unexpected key {k!r}")
            elif isinstance(schema.get("additionalProperties"), dict):
                out += _check(v, schema["additionalProperties"], defs, f"{at}.{k}")
    return out


def test_every_shipped_spec_validates_against_the_shipped_json_schema():
    schema = json.loads((ROOT / "src" / "shopseg" / "io" / "spec.schema.json").read_text(encoding="utf-8"))
    names = preset_names()
    assert {"online_retail", "cdnow", "cdnow_sample", "shopify_orders", "shopify"} <= set(names)
    for name in names:
        text = resources.files("shopseg.io").joinpath("specs", f"{name}.yaml").read_text(encoding="utf-8")
        data = yaml.load(text, Loader=_Yaml12Loader)  # noqa: S506 (a safe loader)
        assert _check(data, schema, schema["$defs"], name) == []
        assert text.startswith("# shopseg import spec preset")
    assert _check({"files": {}, "tables": {"orders": {"from": 1}}}, schema, schema["$defs"], "bad")  # can fail


def test_the_five_presets_are_the_spec_files():
    assert sorted(PRESETS) == ["cdnow", "cdnow_sample", "online_retail", "shopify", "shopify_customers"]
    assert PRESETS["shopify"].spec.preset.name == "shopify"  # shopify_orders.yaml
    assert PRESETS["shopify_customers"].kind == "customers"
    assert PRESETS["cdnow"].fields == 4 and PRESETS["cdnow_sample"].fields == 5


def _fixture(tmp_path: Path, name: str) -> Path:
    if name == "online_retail":
        path = tmp_path / "Online Retail.csv"
        path.write_text(
            "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
            "536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,12/1/2010 8:26,2.55,17850.0,United Kingdom\n"
            "536365,22960,Gift Voucher Â£20.00,1,12/1/2010 8:26,20,17850.0,United Kingdom\n"
            "C536379,D,Discount,-1,12/1/2010 9:41,27.5,14527.0,United Kingdom\n"
            "536380,22961,JAM MAKING SET,-3,12/1/2010 9:50,1.45,14527.0,United Kingdom\n"
            "536414,22139,,56,12/1/2010 11:52,0,,United Kingdom\n",
            encoding="utf-8",
        )
    elif name == "cdnow":
        path = tmp_path / "CDNOW_master.txt"
        path.write_bytes(
            b"customer_id date number_of_cds dollar_value\r\n"
            b" 00001 19970101  1   11.77\r\n 00001 19970101  2   29.33\r\n 00002 19970112  5   77.00\r\n"
        )
    elif name == "cdnow_sample":
        path = tmp_path / "CDNOW_sample.txt"
        path.write_bytes(
            b" 00004 0001 19970101  2   29.33\r\n 00004 0001 19970118  1   29.73\r\n 00018 0002 19970102  3   39.47\r\n"
        )
    else:
        path = tmp_path / "orders_export_1.csv"
        path.write_bytes(SHOPIFY.read_bytes())
    return path


def _tables(ws: Workspace) -> dict[str, list[tuple]]:
    return {
        t: ws.con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in ("orders", "order_lines", "customers")
    }


@pytest.mark.parametrize("name", ["online_retail", "cdnow", "cdnow_sample", "shopify"])
def test_preset_and_its_copied_spec_load_the_same_rows(tmp_path, name):
    """`--preset NAME FILE` and `--write-spec x.yaml --preset <its spec> FILE` then `--spec x.yaml` agree."""
    path = _fixture(tmp_path, name)
    one = Workspace.init(tmp_path / "one.duckdb")
    report = ingest(one, "orders", path, preset=name)
    stem = "shopify_orders" if name == "shopify" else name
    text, notes = draft_from_preset(stem, [path], tmp_path / "copy.yaml")
    assert notes == [f"{path.name} -> files.{next(iter(PRESETS[name].spec.files))}"]
    (tmp_path / "copy.yaml").write_text(text, encoding="utf-8")
    many = Workspace.init(tmp_path / "spec.duckdb")
    spec_report = ingest_spec(many, tmp_path / "copy.yaml").tables[0].report
    try:
        assert report.preset == name and report.rows_read == spec_report.rows_read
        assert _tables(one) == _tables(many)
        marks = {k: v for k, v in report.reasons.items() if "repaired" in k or "partially" in k}
        assert marks == {k: v for k, v in spec_report.reasons.items() if k in marks}
        _published(name, one, report)
    finally:
        one.close()
        many.close()


def _published(name: str, ws: Workspace, report: Any) -> None:
    """What each fixture's rows say, by hand."""
    q = ws.con.execute
    if name == "online_retail":
        assert report.reasons["mojibake in description (repaired)"] == 1
        assert report.reasons["missing customer_id (flagged, not kept)"] == 1
        assert q("SELECT order_id, customer_id, is_cancelled FROM orders ORDER BY 1").fetchall() == [
            ("536365", "17850", False),
            ("536380", "14527", False),
            ("C536379", "14527", True),
        ]
        assert q("SELECT count(*) FROM order_lines WHERE is_return").fetchone() == (2,)  # C536379, and -3 of 536380
        assert q("SELECT name FROM products WHERE product_id = '22960'").fetchone() == ("Gift Voucher £20.00",)
        assert q("SELECT max(ordered_at)::VARCHAR FROM orders").fetchone() == ("2010-12-01 09:50:00",)
    elif name.startswith("cdnow"):
        want = {
            "cdnow": ["cdnow:1:19970101:1", "cdnow:1:19970101:2", "cdnow:2:19970112:1"],
            "cdnow_sample": ["cdnow:18:19970102:1", "cdnow:4:19970101:1", "cdnow:4:19970118:1"],
        }[name]
        assert [r[0] for r in q("SELECT order_id FROM orders ORDER BY 1").fetchall()] == want
        dollars = {"cdnow": [11.77, 29.33, 77.0], "cdnow_sample": [29.33, 29.73, 39.47]}[name]
        got = q("SELECT round(quantity * unit_price, 2) FROM order_lines ORDER BY 1").fetchall()
        assert [g for (g,) in got] == dollars
    else:
        ana = "shopify:" + hashlib.sha256(b"ana.silva@example.com").hexdigest()[:16]
        assert q(f"SELECT count(*) FROM orders WHERE customer_id = '{ana}'").fetchone() == (2,)
        assert report.reasons["partial refund: a return line is added (kept, marked)"] == 1
        got = q("SELECT product_id, brand FROM order_lines JOIN products USING (product_id) WHERE order_id = '#1005'")
        assert sorted(got.fetchall()) == [
            ("CND-BW", "Hive Works"),
            ("MUG-SPK", "Kiln & Co"),
            ("MUG-SPK", "Kiln & Co"),  # the partial refund's return line
            ("name:Tea Towel Set (unbranded)", None),
        ]


def test_a_bad_cdnow_row_is_named_by_file_row_and_column_on_both_paths(tmp_path):
    path = tmp_path / "cd.txt"
    path.write_bytes(b" 00001 0001 19970101  1   11.77\r\n 00002 0002 19970102  2   1l.50\r\n")
    want = r"cd.txt: unit_price: cannot be parsed as double in 1 row \(row 2\); got '1l.50'"
    with pytest.raises(SchemaError, match=want):
        ingest(Workspace.init(tmp_path / "a.duckdb"), "orders", path, preset="cdnow_sample")
    text, _ = draft_from_preset("cdnow_sample", [path], tmp_path / "cd.yaml")
    (tmp_path / "cd.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(SchemaError, match=want):
        ingest_spec(Workspace.init(tmp_path / "b.duckdb"), tmp_path / "cd.yaml")
    path.write_bytes(b" 00001 0001 19970101  1   11.77\r\n 00002 0002 19970102  2\r\n\r\n")
    with pytest.raises(SchemaError, match=r"^cd.txt: wrong number of fields in 1 row \(row 2\)\. Expected 5 whitesp"):
        ingest_spec(Workspace.init(tmp_path / "c.duckdb"), tmp_path / "cd.yaml")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"customer_id": {"column": "c", "replace": [{"pattern": "(", "with": ""}]}}, "not a valid regular expression"),
        ({"is_return": {"column": "s", "equals": "x", "prefix": "p"}}, "cannot be combined with prefix"),
        ({"is_return": {"column": "s", "matches": "a", "equals": "b"}}, "at most one test"),
        ({"is_return": {"any": [{"column": "s"}]}}, r"any: each part needs a test .*\['s'\] have none"),
        ({"customer_id": {"column": "c", "hash_length": 8}}, "hash_length needs hash"),
        ({"customer_id": {"column": "c", "hash": "sha1"}}, "customer_id.hash: Input should be 'sha256' or 'md5'"),
        ({"customer_id": 3}, r"customer_id: expected a column name, \{const: v\}"),
    ],
)
def test_derivations_are_checked_with_their_place(change, message):
    doc = {"files": {"a": {"path": "a.csv"}}, "tables": {"orders": {"from": "a", "map": change}}}
    with pytest.raises(SchemaError, match=message):
        parse_spec(doc)


def test_reader_and_preset_options_are_checked():
    base = {"tables": {"orders": {"from": "a"}}}
    with pytest.raises(SchemaError, match=r"files.a: delimiter 'whitespace' needs columns"):
        parse_spec({**base, "files": {"a": {"path": "a.txt", "delimiter": "whitespace"}}})
    with pytest.raises(SchemaError, match=r"files.a: fill_down needs fill_down_by"):
        parse_spec({**base, "files": {"a": {"path": "a.csv", "fill_down": ["x"]}}})
    two = {"a": {"path": "a.csv"}, "b": {"path": "b.csv"}}
    with pytest.raises(SchemaError, match=r"preset: a one-file preset has exactly one file and one table"):
        parse_spec({**base, "files": two, "preset": {"detect": ["x"]}})
    with pytest.raises(SchemaError, match=r"tables.orders.marks.0.when: each part needs a test"):
        parse_spec(
            {**base, "files": {"a": {"path": "a.csv"}}}
            | {"tables": {"orders": {"from": "a", "marks": [{"label": "x", "when": {"column": "c"}}]}}}
        )


def test_fill_down_fills_only_the_listed_columns(workspace, tmp_path):
    (tmp_path / "o.csv").write_text(
        "Name,Email,Created at,sku,qty,price\n#1,a@x.com,2024-01-02,S1,1,5\n#1,,,,2,3\n#2,b@x.com,2024-01-03,S2,1,4\n"
    )
    spec = tmp_path / "s.yaml"
    spec.write_text(
        "files: {o: {path: o.csv, fill_down_by: Name, fill_down: [Email, Created at]}}\n"
        "tables:\n  orders:\n    from: o\n    map: {order_id: Name, customer_id: Email, ordered_at: Created at,\n"
        "          product_id: {first_of: [sku, {const: none}]}, quantity: qty, unit_price: price}\n"
    )
    ingest_spec(workspace, load_spec(spec))
    got = workspace.con.execute("SELECT order_id, product_id FROM order_lines ORDER BY 1, line_number").fetchall()
    assert got == [("#1", "S1"), ("#1", "none"), ("#2", "S2")]  # the sku is not filled down, the e-mail is
    assert workspace.row_counts()["customers"] == 2
