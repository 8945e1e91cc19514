"""Export files of stores shopseg has never seen, shaped like the platforms' own exports and saved the way
people save them (Excel: a BOM, CRLF line ends, thousands of blank ``,,,,`` rows, m/d/yyyy dates,
semicolons and decimal commas). Each builder writes the files and returns the counts a person would
count by hand from them, so tests compare the loaded workspace with those.
"""

from __future__ import annotations

from pathlib import Path


def _write(path: Path, header: str, rows: list[str], *, excel: bool = False, blank: int = 0, sep: str = ",") -> Path:
    lines = [header, *rows] + [sep * header.count(sep)] * blank
    text = ("\r\n" if excel else "\n").join(lines) + ("\r\n" if excel else "\n")
    path.write_text(("\ufeff" if excel else "") + text, encoding="utf-8", newline="")
    return path


def marketplace_store(folder: Path) -> dict[str, int]:
    """Olist-shaped dump: order headers, items, customers keyed per order with a person key, products,
    a category translation. Excel-saved, m/d/yyyy H:MM dates (day 14 in the second place)."""
    folder.mkdir(parents=True, exist_ok=True)
    # five people (u1..u5); every order has its own customer_id (k1..k8), as in Olist
    customers = [
        ("k1", "u1", "sao paulo", "SP"),
        ("k2", "u1", "sao paulo", "SP"),
        ("k3", "u2", "rio de janeiro", "RJ"),
        ("k4", "u3", "curitiba", "PR"),
        ("k5", "u3", "curitiba", "PR"),
        ("k6", "u3", "curitiba", "PR"),
        ("k7", "u4", "salvador", "BA"),
        ("k8", "u5", "recife", "PE"),
    ]
    _write(
        folder / "olist_customers_dataset.csv",
        "customer_id,customer_unique_id,customer_zip_code_prefix,customer_city,customer_state",
        [f"{k},{u},0{i}100,{c},{s}" for i, (k, u, c, s) in enumerate(customers)],
        excel=True,
        blank=40,
    )
    orders = [
        ("o1", "k1", "delivered", "1/14/2018 9:05"),
        ("o2", "k2", "delivered", "3/2/2018 18:40"),
        ("o3", "k3", "delivered", "2/20/2018 10:00"),
        ("o4", "k4", "delivered", "1/3/2018 12:00"),
        ("o5", "k5", "delivered", "4/15/2018 8:30"),
        ("o6", "k6", "canceled", "5/16/2018 9:00"),
        ("o7", "k7", "delivered", "6/30/2018 23:59"),
        ("o8", "k8", "shipped", "7/1/2018 0:01"),
    ]
    _write(
        folder / "olist_orders_dataset.csv",
        "order_id,customer_id,order_status,order_purchase_timestamp,order_approved_at,order_delivered_customer_date",
        [f"{o},{k},{st},{t},{t},{t}" for o, k, st, t in orders],
        excel=True,
        blank=25,
    )
    items = [
        ("o1", 1, "p1", "s1", "59.90"),
        ("o1", 2, "p2", "s1", "10.00"),
        ("o2", 1, "p1", "s2", "59.90"),
        ("o3", 1, "p3", "s3", "120.50"),
        ("o4", 1, "p2", "s1", "10.00"),
        ("o5", 1, "p3", "s3", "120.50"),
        ("o5", 2, "p3", "s3", "120.50"),
        ("o6", 1, "p1", "s2", "59.90"),
        ("o7", 1, "p4", "s4", "5.25"),
        ("o8", 1, "p4", "s4", "5.25"),
    ]
    _write(
        folder / "olist_order_items_dataset.csv",
        "order_id,order_item_id,product_id,seller_id,shipping_limit_date,price,freight_value",
        [f"{o},{n},{p},{s},1/20/2018 0:00,{v},7.39" for o, n, p, s, v in items],
        excel=True,
        blank=60,
    )
    _write(
        folder / "olist_products_dataset.csv",
        "product_id,product_category_name,product_weight_g",
        ["p1,cama_mesa_banho,500", "p2,beleza_saude,120", "p3,esporte_lazer,2000", "p4,beleza_saude,80"],
        excel=True,
    )
    _write(
        folder / "product_category_name_translation.csv",
        "product_category_name,product_category_name_english",
        ["cama_mesa_banho,bed_bath_table", "beleza_saude,health_beauty", "esporte_lazer,sports_leisure"],
    )
    delivered = [o for o, _, st, _ in orders if st == "delivered"]
    lines = [i for i in items if i[0] in delivered]
    return {
        "customers": 5,
        "orders": len(delivered),
        "order_lines": len(lines),
        "products": 4,
        "revenue": round(sum(float(i[4]) for i in lines), 2),
        "u3_orders": 2,
        "u1_orders": 2,
        "blank_item_rows": 60,
        "filtered_item_rows": len(items) - len(lines),
    }


SHOPIFY_ORDERS_HEADER = (
    "Name,Email,Financial Status,Paid at,Fulfillment Status,Fulfilled at,Accepts Marketing,Currency,Subtotal,"
    "Shipping,Taxes,Total,Discount Code,Discount Amount,Shipping Method,Created at,Lineitem quantity,Lineitem name,"
    "Lineitem price,Lineitem compare at price,Lineitem sku,Lineitem requires shipping,Lineitem taxable,"
    "Lineitem fulfillment status,Billing Name,Billing City,Billing Zip,Billing Province,Billing Country,"
    "Cancelled at,Refunded Amount,Vendor,Id,Source,Lineitem discount"
)


def shopify_store(folder: Path) -> dict[str, int]:
    """Shopify's orders export (continuation rows carry only Name and line fields), customers and products."""
    folder.mkdir(parents=True, exist_ok=True)

    def order(name, email, status, created, lines, cancelled="", country="DE", province="BE", refunded=""):  # type: ignore[no-untyped-def]
        rows = []
        for i, (qty, title, price, sku) in enumerate(lines):
            head = (
                f"{name},{email},{status},{created},fulfilled,{created},yes,EUR,10,0,0,10,,0,Standard,{created}"
                if i == 0
                else f"{name},,,,,,,,,,,,,,,"
            )
            bill = f"Ann Lee,Berlin,10115,{province},{country},{cancelled},{refunded}" if i == 0 else ",,,,,,"
            rows.append(
                f"{head},{qty},{title},{price},,{sku},true,true,fulfilled,{bill},Acme,{900 + len(name)},web,0.00"
            )
        return rows

    rows = (
        order(
            "#1001",
            "Ann@Example.com",
            "paid",
            "2024-03-01 10:15:00 +0100",
            [(2, "Mug", "12.50", "MUG-1"), (1, "Tea", "4.00", "TEA-1")],
        )
        + order(
            "#1002",
            "bob@example.com",
            "refunded",
            "2024-03-05 09:00:00 +0100",
            [(1, "Mug", "12.50", "MUG-1")],
            refunded="12.50",
        )
        + order("#1003", "ann@example.com", "paid", "2024-04-02 16:20:00 +0200", [(3, "Tea", "4.00", "TEA-1")])
        + order(
            "#1004",
            "cy@example.com",
            "voided",
            "2024-04-03 08:00:00 +0200",
            [(1, "Pot", "30.00", "POT-1")],
            cancelled="2024-04-03 09:00:00 +0200",
        )
    )
    _write(folder / "orders_export_1.csv", SHOPIFY_ORDERS_HEADER, rows)
    _write(
        folder / "customers_export.csv",
        "Customer ID,First Name,Last Name,Email,Accepts Email Marketing,Default Address Company,Default Address City,"
        "Default Address Province Code,Default Address Country Code,Default Address Zip,Phone,Accepts SMS Marketing,"
        "Total Spent,Total Orders,Note,Tax Exempt,Tags",
        [
            "7001,Ann,Lee,ann@example.com,yes,,Berlin,BE,DE,10115,,no,41.00,2,,no,vip",
            "7002,Bob,Ray,BOB@example.com,no,,Hamburg,HH,DE,20095,,yes,12.50,1,,no,",
            "7003,Cy,Ng,cy@example.com,yes,,Munich,BY,DE,80331,,no,0.00,1,,no,",
            "7004,Di,Oz,,no,,Köln,NW,DE,50667,,no,0.00,0,,no,",
        ],
    )
    _write(
        folder / "products_export_1.csv",
        "Handle,Title,Body (HTML),Vendor,Product Category,Type,Tags,Published,Option1 Name,Option1 Value,Variant SKU,"
        "Variant Grams,Variant Price,Variant Compare At Price,Status",
        [
            "mug,Mug,<p>A mug</p>,Acme,Kitchen,Drinkware,,true,Colour,Red,MUG-1,300,12.50,,active",
            "mug,,,,,,,,,Blue,MUG-2,300,12.50,,",
            "tea,Tea,<p>Tea</p>,Leaf Co,Food,Tea,,true,Title,Default Title,TEA-1,100,4.00,,active",
            "pot,Pot,<p>Pot</p>,Acme,Kitchen,Drinkware,,true,Title,Default Title,POT-1,900,30.00,,active",
        ],
    )
    # order_lines: the file's 5 and the return line of #1002's refunded line
    return {"customers": 3, "orders": 4, "order_lines": 6, "products": 4, "ann_orders": 2, "cancelled": 1}


def woocommerce_store(folder: Path) -> dict[str, int]:
    """WooCommerce (Customer / Order / Coupon Export, one row per item) orders and customers; a guest order."""
    folder.mkdir(parents=True, exist_ok=True)
    header = (
        "order_id,order_number,order_date,status,shipping_total,order_total,customer_id,billing_email,"
        "billing_country,billing_state,billing_city,currency,item_id,item_name,item_sku,item_quantity,"
        "item_subtotal,item_total"
    )
    rows = [
        "101,101,2024-05-01 10:00:00,completed,5.00,45.00,11,ann@example.com,GB,LDN,London,GBP,1,Scarf,SC-1,2,40.00,40.00",
        "102,102,2024-05-02 11:00:00,processing,0.00,15.00,12,bo@example.com,GB,MAN,Manchester,GBP,2,Hat,HT-1,1,15.00,15.00",
        "103,103,2024-05-03 12:00:00,completed,0.00,30.00,11,ann@example.com,GB,LDN,London,GBP,3,Hat,HT-1,2,30.00,30.00",
        "103,103,2024-05-03 12:00:00,completed,0.00,30.00,11,ann@example.com,GB,LDN,London,GBP,4,Scarf,SC-1,1,20.00,18.00",
        "104,104,2024-05-04 13:00:00,completed,0.00,20.00,0,guest@example.com,GB,,Leeds,GBP,5,Scarf,SC-1,1,20.00,20.00",
        "105,105,2024-05-05 14:00:00,cancelled,0.00,15.00,12,bo@example.com,GB,MAN,Manchester,GBP,6,Hat,HT-1,1,15.00,15.00",
    ]
    _write(folder / "orders.csv", header, rows)
    _write(
        folder / "customers.csv",
        "customer_id,first_name,last_name,email,date_registered,billing_city,billing_state,billing_country,orders_count",
        [
            "11,Ann,Lee,ann@example.com,2023-01-10 09:00:00,London,LDN,GB,2",
            "12,Bo,Yu,bo@example.com,2023-06-01 10:00:00,Manchester,MAN,GB,2",
        ],
    )
    return {"customers": 2, "orders": 3, "order_lines": 4, "revenue": 40.0 + 15.0 + 30.0 + 20.0, "filtered": 2}


def german_excel_orders(folder: Path) -> Path:
    """One flat order-lines file saved by a German Excel: semicolons, decimal commas, d.m.yyyy dates."""
    folder.mkdir(parents=True, exist_ok=True)
    return _write(
        folder / "bestellungen.csv",
        "Bestellnr;Kunde;Datum;Artikel;Menge;Preis",
        ["B1;K1;03.02.2024;A1;2;1.234,50", "B2;K2;15.02.2024;A2;1;9,99", "B3;K1;28.02.2024;A1;1;1.234,50"],
        excel=True,
        blank=3,
        sep=";",
    )


def grocery_store(folder: Path) -> dict[str, int]:
    """A grocery order log shaped like the Instacart dataset: no prices, no calendar dates (only
    order_number and days_since_prior_order per user), order lines in a second file with a reordered flag."""
    folder.mkdir(parents=True, exist_ok=True)
    orders = [(1, 7, 1, ""), (2, 7, 2, "8.0"), (3, 7, 3, "30.0"), (4, 8, 1, ""), (5, 9, 1, ""), (6, 9, 2, "3.0")]
    _write(
        folder / "orders.csv",
        "order_id,user_id,eval_set,order_number,order_dow,order_hour_of_day,days_since_prior_order",
        [f"{o},{u},prior,{n},{o % 7},{8 + o},{d}" for o, u, n, d in orders],
    )
    lines = [
        (1, 196, 1, 0),
        (1, 14084, 2, 0),
        (2, 196, 1, 1),
        (3, 196, 1, 1),
        (3, 12427, 2, 0),
        (4, 196, 1, 0),
        (5, 26088, 1, 0),
        (6, 26088, 1, 1),
        (6, 196, 2, 0),
    ]
    _write(
        folder / "order_products__prior.csv",
        "order_id,product_id,add_to_cart_order,reordered",
        [f"{o},{p},{a},{r}" for o, p, a, r in lines],
    )
    _write(
        folder / "products.csv",
        "product_id,product_name,aisle_id,department_id",
        [
            "196,Soda,77,7",
            "14084,Organic Baby Spinach,123,4",
            "12427,Original Beef Jerky,23,19",
            "26088,Aged White Cheddar,21,16",
        ],
    )
    # user 7: first order 2017-01-01, then +8 and +30 days: 2017-01-09 and 2017-02-08
    return {"customers": 3, "orders": 6, "order_lines": 9, "user7_dates": ["2017-01-01", "2017-01-09", "2017-02-08"]}
