"""Store health warnings that follow an ingest (``shopseg.io.health``)."""

from __future__ import annotations

from shopseg.io import ingest


def test_ids_that_are_one_email_in_two_cases_are_named(workspace, tmp_path):
    """A Klaviyo profiles export keyed by its raw Email column, after orders keyed by lower-cased e-mails."""
    orders = tmp_path / "orders.csv"
    orders.write_text(
        "order_id,customer_id,ordered_at,product_id,quantity,unit_price\n"
        "100,ann.lee@example.com,2024-03-04,BNS,1,12.00\n101,dee@x.com,2024-03-05,MUG,1,9.00\n"
    )
    assert ingest(workspace, "orders", orders).warnings == []
    profiles = tmp_path / "klaviyo_profiles.csv"
    profiles.write_text(
        "\ufeffEmail,First Name,Email Marketing Consent\n"
        "Ann.Lee@Example.com,Ann,SUBSCRIBED\nDee@X.com,Dee,SUBSCRIBED\nbob@guest.org,Bob,UNSUBSCRIBED\n",
        encoding="utf-8",
    )
    report = ingest(workspace, "customers", profiles, mapping={"customer_id": "Email"})
    assert report.warnings == [
        "2 e-mail addresses are the id of more than one customer, differing only by case (4 customers; e.g. "
        "'ann.lee@example.com'): each person is counted as several customers. Fix: lower-case the key where it "
        "is loaded (an import spec's `customer_id: {column: Email, lower: true}`)."
    ]


def test_accepts_marketing_looks_like_email_consent(workspace, tmp_path):
    """Klaviyo's and Shopify's 'Accepts Marketing' is e-mail consent, not SMS."""
    path = tmp_path / "profiles.csv"
    path.write_text("customer_id,Accepts Marketing,Accepts SMS Marketing\nc1,True,False\n")
    report = ingest(workspace, "customers", path)
    assert dict(report.unmapped) == {"Accepts Marketing": "email_marketing", "Accepts SMS Marketing": "sms_marketing"}


def test_guest_checkouts_under_one_id_are_named(workspace, tmp_path):
    """BigCommerce's and WooCommerce's 'Customer ID' is 0 for every guest."""
    path = tmp_path / "bc_orders.csv"
    path.write_text(
        "order_id,customer_id,ordered_at,product_id,quantity,unit_price\n"
        "101,12,2024-03-04,P,1,10\n102,0,2024-03-05,P,1,20\n103,0,2024-03-06,P,1,30\n104,0,2024-03-07,P,1,5\n"
    )
    warnings = ingest(workspace, "orders", path).warnings
    assert any(
        w.startswith("customer '0' has 3 orders: stores (WooCommerce, BigCommerce) give every guest") for w in warnings
    )
