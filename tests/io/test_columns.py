"""Finding input columns: mapping, presets, same-name matches, and the missing-column message."""

from __future__ import annotations

import re

import pytest

from shopseg.errors import InvalidParameterError, SchemaError
from shopseg.io import ingest
from shopseg.io.columns import INPUTS, KINDS
from shopseg.schema import TABLES


def test_every_kind_lists_its_table_columns():
    assert KINDS == ("customers", "orders", "products", "events", "survey_answers")
    for kind in ("customers", "products", "events", "survey_answers"):
        assert [f.name for f in INPUTS[kind]] == TABLES[kind].names
    assert {f.name for f in INPUTS["orders"] if f.required} == {
        "order_id",
        "customer_id",
        "ordered_at",
        "product_id",
        "quantity",
        "unit_price",
    }


def test_missing_column_message_suggests_the_map(workspace, tmp_path):
    path = tmp_path / "transactions.csv"
    path.write_text("order_id,cust_id,ordered_at,product_id,quantity,unit_price\no1,c1,2024-01-01,p1,1,2\n")
    with pytest.raises(
        SchemaError,
        match=r"^transactions.csv: required column 'customer_id' is missing; found \['order_id', 'cust_id', "
        r"'ordered_at', 'product_id', 'quantity', 'unit_price'\]\. Did you mean 'cust_id'\? "
        r"Map it with --map customer_id=cust_id\.$",
    ) as err:
        ingest(workspace, "orders", path)
    assert err.value.column == "customer_id" and err.value.table == "transactions.csv"
    assert ingest(workspace, "orders", path, mapping={"customer_id": "cust_id"}).rows_kept == 1


def test_all_missing_columns_are_reported_together(workspace, tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("id,amount\n1,2\n")
    with pytest.raises(SchemaError) as err:
        ingest(workspace, "orders", path)
    msg = str(err.value)
    for col in ("order_id", "customer_id", "ordered_at", "product_id", "quantity", "unit_price"):
        assert f"required column '{col}' is missing" in msg


def test_mapping_to_an_absent_column(workspace, tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("cust_id,mail\n1,a@x.com\n")
    with pytest.raises(
        SchemaError,
        match=r"--map customer_id=cust: column 'cust' is not in the file; found "
        r"\['cust_id', 'mail'\]\. Did you mean 'cust_id'\?",
    ):
        ingest(workspace, "customers", path, mapping={"customer_id": "cust"})


def test_mapping_to_an_unknown_canonical_column(workspace, tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("customer_id\n1\n")
    with pytest.raises(
        InvalidParameterError,
        match=r"--map: \['emial'\] is not a canonical column of customers.*"
        r"Did you mean 'email'\?",
    ):
        ingest(workspace, "customers", path, mapping={"emial": "customer_id"})


def test_same_name_match_ignores_case_and_spaces(workspace, tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("Customer ID,E-Mail,Birth Year\n1,a@x.com,1980\n")
    ingest(workspace, "customers", path, mapping={"email": "E-Mail"})
    assert workspace.con.execute("SELECT customer_id, email, birth_year FROM customers").fetchall() == [
        ("1", "a@x.com", 1980)
    ]


def test_preset_needs_its_columns(workspace, tmp_path):
    path = tmp_path / "retail.csv"
    path.write_text(
        "InvoiceNo,StockCode,Quantity,InvoiceDate,UnitPrice,Country\n536365,85123A,6,2010-12-01 08:26,2.55,UK\n"
    )
    with pytest.raises(SchemaError, match=r"preset 'online_retail' needs column \['CustomerID'\] for 'customer_id'"):
        ingest(workspace, "orders", path, preset="online_retail")


def test_the_suggested_map_can_be_pasted_into_a_shell(workspace, tmp_path):
    """BigCommerce's 'Order Date' and 'Order #': the hint quotes the argument so a shell keeps it whole."""
    import shlex

    path = tmp_path / "bc.csv"
    path.write_text("Order #,customer_id,Order Date,product_id,quantity,unit_price\n100,c1,2024-01-01,p1,1,2\n")
    with pytest.raises(SchemaError) as err:
        ingest(workspace, "orders", path)
    msg = str(err.value)
    assert "--map 'order_id=Order #'" in msg and "--map 'ordered_at=Order Date'" in msg
    mapping = dict(
        shlex.split(arg)[1].split("=", 1) for arg in ("--map 'order_id=Order #'", "--map 'ordered_at=Order Date'")
    )
    assert ingest(workspace, "orders", path, mapping=mapping).rows_kept == 1


@pytest.mark.parametrize(
    ("values", "fmt"),
    [
        (["03/04/2024 5:07 PM", "13/04/2024 9:00 AM"], "%d/%m/%Y %I:%M %p"),
        (["Mar 4, 2024 5:07:12 PM", "Sep 15, 2024 9:00:00 AM"], "%b %d, %Y %I:%M:%S %p"),
        (["Mar-04-24", "Dec-31-23"], "%b-%d-%y"),
    ],
    ids=["am-pm", "magento", "ebay"],
)
def test_the_date_hint_names_a_format_that_reads_the_values(workspace, tmp_path, values, fmt):
    """US spreadsheets' 12-hour clocks and Magento's 'Mar 4, 2024 5:07:12 PM': the hint's format parses them
    (it suggested '%d/%m/%Y %H:%M', which cannot read PM)."""
    path = tmp_path / "orders.csv"
    rows = "".join(f'o{i},c1,"{v}",p1,1,2\n' for i, v in enumerate(values))
    path.write_text("order_id,customer_id,ordered_at,product_id,quantity,unit_price\n" + rows)
    with pytest.raises(SchemaError, match=f"--date-format '{re.escape(fmt)}'"):
        ingest(workspace, "orders", path)
    assert ingest(workspace, "orders", path, date_format=fmt).rows_kept == 2


def test_a_repeated_header_row_is_named(workspace, tmp_path):
    """Two exports joined into one file (the second one's header in the middle): the error says so."""
    path = tmp_path / "orders.csv"
    header = "order_id,customer_id,ordered_at,product_id,quantity,unit_price\n"
    path.write_text(header + "o1,c1,2024-03-04,P,1,2\n" + header + "o2,c2,2024-03-05,P,1,3\n")
    with pytest.raises(SchemaError) as err:
        ingest(workspace, "orders", path)
    assert (
        "ordered_at: cannot be parsed as timestamp in 1 row (row 3); got 'ordered_at'. Expected an ISO 8601 date"
        in str(err.value)
    )
    assert "Hint: the row repeats the file's header (exports joined?): delete it" in str(err.value)
    assert "--date-format" not in str(err.value)
