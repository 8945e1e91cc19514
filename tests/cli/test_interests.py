"""`shopseg interests` on a workspace without signals says so instead of printing shares of nobody."""

from __future__ import annotations

from typer.testing import CliRunner

from shopseg.cli.main import app
from shopseg.workspace import Workspace


def test_no_signal_is_said_not_printed_as_nan(tmp_path):
    ws = str(tmp_path / "ws.duckdb")
    Workspace.init(ws).close()
    result = CliRunner().invoke(app, ["--workspace", ws, "interests"])
    assert result.exit_code == 0, result.output
    assert "0 customers with a signal" in result.output
    assert (
        "No customer has a signal yet. No purchase line, product view or add-to-cart is loaded. "
        "Hint: ingest orders or events first (`shopseg ingest orders lines.csv`)."
    ) in " ".join(result.output.split())
    assert "nan" not in result.output


def test_orders_without_a_catalogue_get_the_products_hint_and_it_works(tmp_path):
    """CDNOW: 6,919 order lines of one product without category, brand or price. The hint is the catalogue, not
    "ingest orders"; following it (a products file with a category) gives every buyer an interest."""
    from shopseg.io import ingest
    from tests.conftest import shared_file

    ws = str(tmp_path / "cdnow.duckdb")
    with Workspace.init(ws) as w:
        ingest(w, "orders", shared_file("CDNOW_sample.txt"), preset="cdnow_sample")
        product = w.con.execute("SELECT product_id FROM products").fetchone()[0]
    result = CliRunner().invoke(app, ["--workspace", ws, "interests"])
    assert result.exit_code == 0, result.output
    assert (
        "No customer has a signal yet. 6,919 order lines are loaded, but interests are scored on products' category, "
        "brand and price band, and the store's 1 product has no category or brand; price bands need 3 products with "
        "a price (products.price, else their order lines' unit prices). Hint: ingest a products file with product_id "
        "and category (brand and price too): `shopseg ingest products products.csv` adds them to the catalogue."
    ) in " ".join(result.output.split())
    (tmp_path / "products.csv").write_text(f"product_id,category\n{product},Music\n")
    assert (
        CliRunner().invoke(app, ["--workspace", ws, "ingest", "products", str(tmp_path / "products.csv")]).exit_code
        == 0
    )
    result = CliRunner().invoke(app, ["--workspace", ws, "interests"])
    assert result.exit_code == 0, result.output
    assert "2,357 customers with a signal" in result.output and "music_enthusiast" in result.output
