"""Import specs: whole foreign-shaped stores load with no code (issue 15).

The fixtures (tests/io/foreign_stores.py) follow the platforms' documented export columns and the way
Excel saves files; expected counts are counted by hand from the fixture rows.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from shopseg.cli import _common
from shopseg.cli.main import app
from shopseg.errors import SchemaError
from shopseg.io import ingest
from shopseg.io.draft import draft_from_preset, draft_spec, preset_text
from shopseg.io.spec import load_spec, spec_json_schema
from shopseg.io.spec_ingest import ingest_spec
from shopseg.segments.query import SegmentQuery
from shopseg.workspace import Workspace
from tests.io.foreign_stores import german_excel_orders, marketplace_store, shopify_store, woocommerce_store

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def wide_console(monkeypatch):
    monkeypatch.setattr(_common.console, "width", 200)


def _q(ws: Workspace, sql: str) -> list[tuple]:
    return ws.con.execute(sql).fetchall()


def _counts(ws: Workspace) -> dict[str, int]:
    return {t: _q(ws, f"SELECT count(*) FROM {t}")[0][0] for t in ("customers", "orders", "order_lines", "products")}


def _preset(folder: Path, name: str, files: list[Path]) -> Path:
    text, _ = draft_from_preset(name, files, folder / "store.yaml")
    (folder / "store.yaml").write_text(text, encoding="utf-8")
    return folder / "store.yaml"


def test_marketplace_preset_loads_the_person_not_the_order(workspace, tmp_path):
    want = marketplace_store(tmp_path)
    spec = _preset(tmp_path, "marketplace", sorted(tmp_path.glob("*.csv")))
    report = ingest_spec(workspace, spec)
    assert _counts(workspace) == {k: want[k] for k in ("customers", "orders", "order_lines", "products")}
    per_person = dict(_q(workspace, "SELECT customer_id, count(*) FROM orders GROUP BY 1"))
    assert per_person["u1"] == want["u1_orders"] and per_person["u3"] == want["u3_orders"]
    revenue = _q(workspace, "SELECT round(sum(quantity * unit_price), 2) FROM order_lines")[0][0]
    assert revenue == pytest.approx(want["revenue"])
    assert (
        _q(workspace, "SELECT ordered_at FROM orders WHERE order_id = 'o1'")[0][0].isoformat() == "2018-01-14T09:05:00"
    )
    assert _q(workspace, "SELECT category FROM products WHERE product_id = 'p3'")[0][0] == "sports_leisure"
    orders = next(t for t in report.tables if t.kind == "orders")
    assert orders.report.reasons["blank rows in olist_order_items_dataset.csv (skipped)"] == want["blank_item_rows"]
    assert (
        orders.report.reasons["rows left out by the spec's filter or inner join (skipped)"]
        == want["filtered_item_rows"]
    )
    assert [(f, m, n) for f, m, n in orders.joins] == [("orders", 8, 8), ("customers", 8, 8)]


def test_per_order_customer_keys_warn_and_name_the_fix(workspace, tmp_path):
    """The Olist trap: mapping the orders' own customer_id makes every buyer a one-time buyer."""
    marketplace_store(tmp_path)
    rows = [f"o{i},k{i},delivered,1/{1 + i % 28}/2018 10:00,,\r" for i in range(60)]
    (tmp_path / "olist_orders_dataset.csv").write_text(
        "order_id,customer_id,order_status,order_purchase_timestamp,order_approved_at,order_delivered_customer_date\n"
        + "\n".join(rows)
        + "\n",
        encoding="utf-8",
    )
    (tmp_path / "items.csv").write_text("order_id,product_id,price\n" + "".join(f"o{i},p1,10\n" for i in range(60)))
    spec = tmp_path / "naive.yaml"
    spec.write_text(
        textwrap.dedent("""
        files: {orders: {path: olist_orders_dataset.csv}, items: {path: items.csv}}
        defaults: {date_format: "%m/%d/%Y %H:%M"}
        tables:
          orders:
            from: items
            join: [{file: orders, on: order_id}]
            map: {customer_id: orders.customer_id, ordered_at: order_purchase_timestamp, quantity: {const: 1},
                  unit_price: price}
        """)
    )
    report = ingest_spec(workspace, spec)
    assert any(
        w.startswith("100.0% of 60 buyers have exactly one order (at most 1): the customer key may be per order")
        and "customer_unique_id" in w
        for w in report.warnings
    ), report.warnings
    path = workspace.path
    workspace.close()
    res = runner.invoke(app, ["-w", str(path), "status"])
    assert res.exit_code == 0 and "warning: 100.0% of 60 buyers have exactly one order" in res.output, res.output


def test_plan_writes_nothing_and_shows_columns_samples_and_joins(workspace, tmp_path):
    marketplace_store(tmp_path)
    spec = _preset(tmp_path, "marketplace", sorted(tmp_path.glob("*.csv")))
    before = _counts(workspace), _q(workspace, "SELECT count(*) FROM _shopseg_ingests")
    path = workspace.path
    workspace.close()
    res = runner.invoke(app, ["-w", str(path), "ingest", "--spec", str(spec), "--plan"])
    assert res.exit_code == 0, res.output
    for text in (
        "customer_id │ customers.customer_unique_id",
        "join 'customers': 8 of 8 rows matched (100.0%)",
        "ordered_at  │ orders.order_purchase_timestamp",
        "quantity    │ constant '1'",
        "plan only: nothing was written",
    ):
        assert text in res.output, text
    ws = Workspace.open(path)
    try:
        assert (_counts(ws), _q(ws, "SELECT count(*) FROM _shopseg_ingests")) == before
    finally:
        ws.close()


def test_shopify_preset_fills_continuation_rows_and_keys_by_email(workspace, tmp_path):
    want = shopify_store(tmp_path)
    spec = _preset(tmp_path, "shopify", sorted(tmp_path.glob("*.csv")))
    ingest_spec(workspace, spec)
    assert _counts(workspace) == {k: want[k] for k in ("customers", "orders", "order_lines", "products")}
    ann, bob = (_shopify_id(e) for e in ("ann@example.com", "bob@example.com"))
    assert dict(_q(workspace, "SELECT customer_id, count(*) FROM orders GROUP BY 1"))[ann] == want["ann_orders"]
    assert _q(workspace, "SELECT count(*) FROM orders WHERE is_cancelled")[0][0] == want["cancelled"]
    # refunded: the sale and its return line
    assert _q(workspace, "SELECT quantity, is_return FROM order_lines WHERE order_id = '#1002' ORDER BY 2") == [
        (1, False),
        (1, True),
    ]
    assert _q(workspace, "SELECT ordered_at, currency, country FROM orders WHERE order_id = '#1001'")[0] == (
        __import__("datetime").datetime(2024, 3, 1, 9, 15),
        "EUR",
        "DE",
    )
    assert _q(workspace, "SELECT name, brand FROM products WHERE product_id = 'MUG-2'")[0] == ("Mug", "Acme")
    assert _q(workspace, f"SELECT email_marketing, sms_marketing FROM customers WHERE customer_id = '{bob}'")[0] == (
        False,
        True,
    )


def _shopify_id(email: str) -> str:
    """The Shopify presets' customer id: 'shopify:' + 16 hex digits of the lower-cased e-mail's sha256."""
    import hashlib

    return "shopify:" + hashlib.sha256(email.encode()).hexdigest()[:16]


def test_shopify_exports_file_by_file_match_the_spec(workspace, tmp_path):
    """The orders export and the customers export loaded one at a time (one-file presets, detected from the
    header) key customers as the three-file spec does: one customer per e-mail, consent from the export."""
    want = shopify_store(tmp_path)
    ingest(workspace, "orders", tmp_path / "orders_export_1.csv")
    report = ingest(workspace, "customers", tmp_path / "customers_export.csv")
    assert report.preset == "shopify_customers"
    assert report.reasons == {"missing customer_id (flagged, not kept)": 1}  # Di has no e-mail
    emails = _q(workspace, "SELECT email, count(*) FROM customers GROUP BY 1 ORDER BY 1")
    assert emails == [("ann@example.com", 1), ("bob@example.com", 1), ("cy@example.com", 1)]
    bob = _shopify_id("bob@example.com")
    assert _q(workspace, f"SELECT email_marketing, sms_marketing, tags FROM customers WHERE customer_id = '{bob}'") == [
        (False, True, None)
    ]
    assert _q(workspace, "SELECT count(*) FROM orders")[0][0] == want["orders"]


def test_shopify_line_items_keep_their_own_sku(workspace, tmp_path):
    """fill_down copies only order-level fields: a custom line item without a SKU is not the order's first SKU."""
    shopify_store(tmp_path)
    orders = tmp_path / "orders_export_1.csv"
    lines = orders.read_text(encoding="utf-8").splitlines()
    second = next(i for i, line in enumerate(lines) if line.startswith("#1001,,"))
    fields = lines[second].split(",")
    header = lines[0].split(",")
    fields[header.index("Lineitem name")], fields[header.index("Lineitem sku")] = "Gift wrap", ""
    lines.insert(second + 1, ",".join(fields))
    orders.write_text("\n".join(lines) + "\n", encoding="utf-8")
    ingest_spec(workspace, _preset(tmp_path, "shopify", sorted(tmp_path.glob("*.csv"))))
    assert _q(workspace, "SELECT product_id FROM order_lines WHERE order_id = '#1001' ORDER BY product_id") == [
        ("MUG-1",),
        ("TEA-1",),
        ("name:Gift wrap",),
    ]


def test_woocommerce_items_without_a_sku_are_keyed_by_name(workspace, tmp_path):
    """SKUs are optional in WooCommerce: an item without one still loads, keyed by its name."""
    woocommerce_store(tmp_path)
    orders = tmp_path / "orders.csv"
    orders.write_text(orders.read_text(encoding="utf-8").replace(",Hat,HT-1,", ",Hat,,"), encoding="utf-8")
    ingest_spec(workspace, _preset(tmp_path, "woocommerce", [orders, tmp_path / "customers.csv"]))
    assert _q(workspace, "SELECT DISTINCT product_id FROM order_lines ORDER BY 1") == [("SC-1",), ("name:Hat",)]


def test_woocommerce_preset_leaves_out_guests_and_cancelled_orders(workspace, tmp_path):
    want = woocommerce_store(tmp_path)
    spec = _preset(tmp_path, "woocommerce", [tmp_path / "orders.csv", tmp_path / "customers.csv"])
    report = ingest_spec(workspace, spec)
    counts = _counts(workspace)
    assert (counts["customers"], counts["orders"], counts["order_lines"]) == (
        want["customers"],
        want["orders"],
        want["order_lines"],
    )
    assert _q(workspace, "SELECT round(sum(quantity * unit_price), 2) FROM order_lines")[0][0] == want["revenue"]
    # a coupon: item 4 is 20.00 before its discount and 18.00 after (item_subtotal less item_total)
    assert _q(workspace, "SELECT order_id, discount FROM order_lines WHERE discount > 0") == [("103", 2.0)]
    orders = next(t for t in report.tables if t.kind == "orders")
    assert orders.report.reasons["rows left out by the spec's filter or inner join (skipped)"] == want["filtered"]
    customers = next(t for t in report.tables if t.kind == "customers")
    assert ("orders_count", None) in customers.unmapped and ("first_name", None) in customers.unmapped
    attrs = json.loads(_q(workspace, "SELECT attributes FROM customers WHERE customer_id = '11'")[0][0])
    assert attrs == {"first_name": "Ann", "last_name": "Lee", "orders_count": 2.0}  # typed: a number stays a number


def test_semicolons_decimal_commas_and_day_first_dates(workspace, tmp_path):
    path = german_excel_orders(tmp_path)
    spec = tmp_path / "de.yaml"
    spec.write_text(
        textwrap.dedent(f"""
        files: {{lines: {{path: {path.name}, delimiter: ";", decimal: ",", date_format: "%d.%m.%Y"}}}}
        tables:
          orders:
            from: lines
            map: {{order_id: Bestellnr, customer_id: Kunde, ordered_at: Datum, product_id: Artikel,
                   quantity: Menge, unit_price: Preis, currency: {{const: EUR}}}}
        """)
    )
    report = ingest_spec(workspace, spec)
    assert _q(workspace, "SELECT order_id, unit_price FROM order_lines ORDER BY 1") == [
        ("B1", 1234.5),
        ("B2", 9.99),
        ("B3", 1234.5),
    ]
    assert _q(workspace, "SELECT max(ordered_at)::DATE::VARCHAR FROM orders")[0][0] == "2024-02-28"
    assert report.tables[0].report.reasons["blank rows in bestellungen.csv (skipped)"] == 3
    assert report.tables[0].report.rows_flagged == 3  # as a one-file ingest of the same file counts them


def test_a_bad_table_rolls_back_every_table(workspace, tmp_path):
    marketplace_store(tmp_path)
    spec = _preset(tmp_path, "marketplace", sorted(tmp_path.glob("*.csv")))
    items = tmp_path / "olist_order_items_dataset.csv"
    items.write_text(items.read_text(encoding="utf-8-sig").replace("120.50", "12O.50", 1), encoding="utf-8")
    with pytest.raises(
        SchemaError,
        match=r"^olist_order_items_dataset.csv: unit_price \(column 'items.price'\): cannot be parsed as double in 1 row "
        r"\(row 5\); got '12O.50'",
    ):
        ingest_spec(workspace, spec)
    assert _counts(workspace) == {"customers": 0, "orders": 0, "order_lines": 0, "products": 0}


def test_spec_problems_are_listed_at_once_with_their_place(tmp_path):
    (tmp_path / "a.csv").write_text("x\n1\n")
    spec = tmp_path / "bad.yaml"
    spec.write_text(
        textwrap.dedent("""
        files: {a: {path: a.csv, delimter: ";"}}
        tables:
          order: {from: a}
          customers: {from: b, map: {customer_idd: x}}
        """)
    )
    with pytest.raises(SchemaError) as err:
        load_spec(spec)
    text = str(err.value)
    assert text.startswith(
        "bad.yaml: 2 problems in the import spec: "
    )  # the references are checked once the shape is right
    assert "files.a.delimter: Extra inputs are not permitted" in text
    assert (
        "unknown table ['order']; expected some of ['customers', 'orders'" in text and "Did you mean 'orders'?" in text
    )
    (tmp_path / "bad2.yaml").write_text(
        "files: {a: {path: a.csv}}\ntables:\n  customers: {from: b, map: {customer_idd: x}}\n"
    )
    with pytest.raises(
        SchemaError,
        match=r"tables.customers.from: unknown file 'b'; the spec's files are \['a'\]\. .*"
        r"tables.customers.map: 'customer_idd' is not a column of customers.*"
        r"Did you mean 'customer_id'\?",
    ):
        load_spec(tmp_path / "bad2.yaml")
    (tmp_path / "bad3.yaml").write_text("files: {a: {path: a.csv}\n")
    with pytest.raises(SchemaError, match=r"^bad3.yaml: not valid YAML at line 2, col 1: "):
        load_spec(tmp_path / "bad3.yaml")


def test_missing_columns_and_joins_name_the_fix(workspace, tmp_path):
    marketplace_store(tmp_path)
    spec = tmp_path / "s.yaml"
    spec.write_text(
        textwrap.dedent("""
        files: {items: {path: olist_order_items_dataset.csv}, orders: {path: olist_orders_dataset.csv}}
        tables:
          orders:
            from: items
            join: [{file: orders, on: order_id}]
            map: {unit_price: pricee}
        """)
    )
    with pytest.raises(SchemaError) as err:
        ingest_spec(workspace, spec)
    text = str(err.value)
    assert (
        "tables.orders.map.unit_price: no column 'pricee' in olist_order_items_dataset.csv, olist_orders_dataset.csv"
        in text
    )
    assert "Did you mean 'price'?" in text
    spec.write_text(spec.read_text().replace("pricee", "price"))
    with pytest.raises(SchemaError) as err:
        ingest_spec(workspace, spec)
    text = str(err.value)
    # content decides: the purchase time, never order_approved_at first; never order_id for the customer
    assert (
        "required column 'ordered_at' is not mapped and no column of that name exists. Candidates whose values "
        "fit: ['orders.order_purchase_timestamp'"
    ) in text
    assert (
        "required column 'customer_id' is not mapped" in text
        and "'order_id'" not in text.split("'customer_id'")[1].split("required")[0]
    )
    assert (
        "required column 'quantity' is not mapped and no column of that name exists. Candidates whose values fit: ['order_item_id']"
        not in text
    )
    spec.write_text(
        textwrap.dedent("""
        files: {items: {path: olist_order_items_dataset.csv}, customers: {path: olist_customers_dataset.csv}}
        tables:
          orders:
            from: items
            join: [{file: customers, on: {order_id: customer_city}}]
            map: {customer_id: customer_unique_id, ordered_at: shipping_limit_date, quantity: {const: 1}, unit_price: price}
        """)
    )
    with pytest.raises(
        SchemaError,
        match=r"^olist_customers_dataset.csv: join on 'customer_city' needs one row per key, "
        r"but 2 keys repeat \(e.g. '(sao paulo|curitiba)'\)",
    ):
        ingest_spec(workspace, spec)
    assert _counts(workspace)["orders"] == 0


def test_draft_spec_guesses_from_values_and_loads(workspace, tmp_path):
    want = marketplace_store(tmp_path)
    files = [
        tmp_path / n
        for n in ("olist_orders_dataset.csv", "olist_order_items_dataset.csv", "olist_customers_dataset.csv")
    ]
    text, notes = draft_spec(files, tmp_path / "draft.yaml")
    doc = yaml.safe_load(text)
    assert doc["defaults"]["date_format"] == "%m/%d/%Y %H:%M"
    orders = doc["tables"]["orders"]
    assert orders["from"] == "order_items" and orders["map"]["ordered_at"] == "orders.order_purchase_timestamp"
    assert orders["map"]["customer_id"] == "customers.customer_unique_id" and orders["map"]["quantity"] == {"const": 1}
    assert doc["tables"]["customers"]["map"]["customer_id"] == "customer_unique_id"
    assert any("order_status" in n for n in notes)
    (tmp_path / "draft.yaml").write_text(text)
    ingest_spec(workspace, tmp_path / "draft.yaml")
    # the draft has no status filter: every order of the file loads, canceled and shipped too
    assert _counts(workspace)["orders"] == 8 and _counts(workspace)["customers"] == want["customers"]


def test_ambiguous_dates_are_offered_both_readings(tmp_path):
    (tmp_path / "orders.csv").write_text(
        "order_id,customer_id,placed,sku,qty,price\no1,c1,1/2/2018,p1,1,3\no2,c2,3/4/2018,p1,1,3\n"
    )
    _, notes = draft_spec([tmp_path / "orders.csv"], tmp_path / "d.yaml")
    assert any(
        "['placed']: day and month cannot be told apart (no value above 12): set defaults.date_format to "
        "'%d/%m/%Y %H:%M' (day first) or '%m/%d/%Y %H:%M' (month first)" in n
        for n in notes
    ), notes


def test_cli_write_spec_then_load(tmp_path, monkeypatch):
    shopify_store(tmp_path)
    monkeypatch.chdir(tmp_path)
    res = runner.invoke(
        app,
        [
            "ingest",
            "--write-spec",
            "store.yaml",
            "--preset",
            "shopify",
            "orders_export_1.csv",
            "customers_export.csv",
            "products_export_1.csv",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "orders_export_1.csv -> files.orders" in res.output
    res = runner.invoke(app, ["ingest", "--write-spec", "store.yaml", "x.csv"])
    assert res.exit_code == 2 and "store.yaml exists" in res.output
    ws = Workspace.init(tmp_path / "ws.duckdb")
    ws.close()
    res = runner.invoke(app, ["-w", "ws.duckdb", "ingest", "--spec", "store.yaml"])
    assert res.exit_code == 0, res.output
    assert "orders loaded from 'orders'" in res.output and "added to order_lines" in res.output


def test_const_in_single_file_mode(tmp_path):
    (tmp_path / "log.csv").write_text("order_id,user_id,product_id,placed_at\n1,7,p1,2024-01-02\n2,8,p2,2024-01-03\n")
    ws = Workspace.init(tmp_path / "ws.duckdb")
    ws.close()
    res = runner.invoke(
        app,
        [
            "-w",
            str(tmp_path / "ws.duckdb"),
            "ingest",
            "orders",
            str(tmp_path / "log.csv"),
            "--map",
            "customer_id=user_id",
            "--map",
            "ordered_at=placed_at",
            "--const",
            "quantity=1",
            "--const",
            "unit_price=0",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "every unit_price is the constant 0" in res.output
    ws = Workspace.open(tmp_path / "ws.duckdb")
    try:
        assert _q(ws, "SELECT customer_id, quantity FROM orders JOIN order_lines USING (order_id) ORDER BY 1") == [
            ("7", 1),
            ("8", 1),
        ]
    finally:
        ws.close()


def test_shipped_json_schema_is_current():
    shipped = json.loads((ROOT / "src" / "shopseg" / "io" / "spec.schema.json").read_text(encoding="utf-8"))
    assert shipped == spec_json_schema(), (
        "regenerate with `shopseg ingest --spec-schema > src/shopseg/io/spec.schema.json`"
    )
    for name in ("shopify", "woocommerce", "marketplace"):
        assert preset_text(name).startswith("# shopseg import spec preset")


def test_grocery_log_without_prices_or_dates_loads_and_says_what_is_unavailable(workspace, tmp_path):
    """Issue 15 (6): a store without prices loads; money is unavailable (NULL), not zero, and RFM says so."""
    from shopseg.features import build_features
    from shopseg.segments.rfm_map import build_rfm
    from tests.io.foreign_stores import grocery_store

    want = grocery_store(tmp_path)
    spec = tmp_path / "grocery.yaml"
    spec.write_text(
        textwrap.dedent("""
        files: {orders: {path: orders.csv}, lines: {path: order_products__prior.csv}, products: {path: products.csv}}
        tables:
          products:
            from: products
            map: {product_id: product_id, name: product_name, category: department_id}
          orders:
            from: lines
            join: [{file: orders, on: order_id}]
            map:
              customer_id: orders.user_id
              ordered_at: {days_since_previous: orders.days_since_prior_order, by: user_id, order_by: order_number,
                           start: "2017-01-01"}
              line_number: add_to_cart_order
              quantity: {const: 1}
              unit_price: {const: 0}
        """)
    )
    report = ingest_spec(workspace, spec)
    assert _counts(workspace) == {k: want[k] for k in ("customers", "orders", "order_lines")} | {"products": 4}
    days = [str(r[0]) for r in _q(workspace, "SELECT ordered_at::DATE FROM orders WHERE customer_id = '7' ORDER BY 1")]
    assert days == want["user7_dates"]
    assert any(
        w.startswith(
            "orders: every unit_price is the constant 0 (the store has no prices): revenue, M of RFM, "
            "order values and CLV are unavailable"
        )
        for w in report.warnings
    ), report.warnings
    features = build_features(workspace)
    assert features["revenue"].isna().all() and features["monetary_value"].isna().all()
    assert features.set_index("customer_id").loc["7", "orders"] == 3
    rfm = build_rfm(workspace)
    assert set(rfm["m_score"].dropna()) == {1}
    assert rfm.attrs["notes"][-1] == (
        "M: the store has no prices (unit_price was one constant at ingest), so revenue "
        "is unavailable and every buyer scores M = 1; read the segments on R and F."
    )
    from shopseg.predict import predict_workspace

    predictions = predict_workspace(workspace, "duckdb", n_bootstrap=0)
    assert predictions["clv"].isna().all() and predictions["expected_spend"].isna().all()
    assert predictions["expected_purchases"].notna().all() and predictions["p_alive"].between(0, 1).all()
    assert predictions.attrs["unavailable"] == "spend and CLV: the store has no prices"


def test_custom_attributes_become_typed_rule_fields(workspace, tmp_path):
    """Issue 15 (4): customer columns the schema lacks are kept and segment rules can use them, typed."""
    from shopseg.engine import get_engine
    from shopseg.segments.definitions import SegmentStore

    woocommerce_store(tmp_path)
    spec = _preset(tmp_path, "woocommerce", [tmp_path / "orders.csv", tmp_path / "customers.csv"])
    ingest_spec(workspace, spec)
    types = dict(
        _q(workspace, "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = 'customer_attributes'")
    )
    assert types == {
        "customer_id": "VARCHAR",
        "attr_first_name": "VARCHAR",
        "attr_last_name": "VARCHAR",
        "attr_orders_count": "DOUBLE",
    }
    from shopseg.features import build_features

    build_features(workspace)
    store = SegmentStore(workspace)
    assert store.fields.resolve("attr_orders_count").type == "number"
    q = SegmentQuery(store, get_engine(workspace, "duckdb"))
    assert q.member_ids(q.rule("attr_orders_count >= 2 AND attr_first_name = 'Ann'")) == ["11"]
    # a single customers file works the same way
    (tmp_path / "crm.csv").write_text(
        "customer_id,email,loyalty_tier,vip\n11,a@x.org,gold,true\n12,b@x.org,silver,false\n"
    )
    from shopseg.io import ingest

    report = ingest(workspace, "customers", tmp_path / "crm.csv")
    assert [c for c, _ in report.unmapped] == ["loyalty_tier", "vip"]
    store = SegmentStore(workspace)
    q = SegmentQuery(store, get_engine(workspace, "duckdb"))
    assert q.member_ids(q.rule("attr_vip = true AND attr_loyalty_tier = 'gold'")) == ["11"]


def test_plan_shows_a_subtraction_as_one(workspace, tmp_path):
    woocommerce_store(tmp_path)
    spec = _preset(tmp_path, "woocommerce", [tmp_path / "orders.csv", tmp_path / "customers.csv"])
    path = workspace.path
    workspace.close()
    res = CliRunner().invoke(app, ["-w", str(path), "ingest", "--spec", str(spec), "--plan"], terminal_width=200)
    assert res.exit_code == 0, res.output
    assert "orders.item_subtotal - orders.item_total" in res.output


def test_a_filter_that_keeps_nothing_names_the_values_the_column_holds(workspace, tmp_path):
    """Amazon's order report says 'Shipped'; a filter on 'delivered' (the draft's old example) kept no row and
    the error said the file had only a header, listing internal column names."""
    (tmp_path / "All_Orders.txt").write_text(
        "amazon-order-id\tbuyer-email\tpurchase-date\torder-status\tsku\tquantity\titem-price\n"
        "111-1\ta@x.com\t2024-03-01T10:00:00+00:00\tShipped\tS1\t1\t10.00\n"
        "111-2\tb@x.com\t2024-03-02T10:00:00+00:00\tCancelled\tS1\t1\t10.00\n"
    )
    (tmp_path / "amz.yaml").write_text(
        textwrap.dedent("""\
            version: 1
            files:
              all_orders: {path: All_Orders.txt}
            tables:
              orders:
                from: all_orders
                filter:
                  - {column: order-status, in: [delivered]}
                map: {order_id: amazon-order-id, customer_id: buyer-email, ordered_at: purchase-date,
                      product_id: sku, quantity: quantity, unit_price: item-price}
        """)
    )
    with pytest.raises(SchemaError) as err:
        ingest_spec(workspace, tmp_path / "amz.yaml")
    assert str(err.value) == (
        "All_Orders.txt: the spec's filter or inner join left none of its 2 rows (tables.orders.filter: "
        "'order-status' holds 'Cancelled', 'Shipped'). Expected at least one row kept. Hint: filter on values "
        "the file has (`--plan` shows samples)."
    )
