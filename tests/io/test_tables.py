"""Customers, products, events and survey answers: upserts, idempotency, unknown customers."""

from __future__ import annotations

from pathlib import Path

import pytest

from shopseg.errors import SchemaError
from shopseg.io import ingest


def _csv(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text.strip() + "\n", encoding="utf-8")
    return path


def _rows(ws, sql):
    return ws.con.execute(sql).fetchall()


def test_customers_are_upserted_and_consent_defaults_false(workspace, tmp_path):
    first = _csv(tmp_path, "c1.csv", "customer_id,email,gender,email_marketing\n1,a@x.com,Female,yes\n2,b@x.com,,")
    report = ingest(workspace, "customers", first)
    assert report.added == {"customers": 2} and report.rows_kept == 2
    second = _csv(tmp_path, "c2.csv", "customer_id,country\n2,FR\n3,DE")
    report = ingest(workspace, "customers", second)
    assert (report.added, report.updated) == ({"customers": 1}, {"customers": 1})
    assert _rows(
        workspace, "SELECT customer_id, email, gender, country, email_marketing, profiling FROM customers ORDER BY 1"
    ) == [
        ("1", "a@x.com", "female", None, True, False),
        ("2", "b@x.com", None, "FR", False, False),
        ("3", None, None, "DE", False, False),
    ]


def test_customers_reingest_is_idempotent(workspace, tmp_path):
    path = _csv(tmp_path, "c.csv", "customer_id,email\n1,a@x.com\n2,b@x.com")
    ingest(workspace, "customers", path)
    ingest(workspace, "customers", path)
    assert workspace.row_counts()["customers"] == 2


def test_customer_repeated_in_a_file_is_refused(workspace, tmp_path):
    path = _csv(tmp_path, "c.csv", "customer_id,email\n1,a@x.com\n2,b@x.com\n1,c@x.com")
    with pytest.raises(
        SchemaError,
        match=r"c.csv: customer_id repeated in 2 rows \(rows 2, 4\); got '1', '1'\. "
        r"Expected each customer_id once per file\.",
    ):
        ingest(workspace, "customers", path)


def test_customer_without_id_is_flagged_not_kept(workspace, tmp_path):
    path = _csv(tmp_path, "c.csv", "customer_id,email\n1,a@x.com\n,b@x.com")
    report = ingest(workspace, "customers", path)
    assert report.rows_kept == 1 and report.reasons == {"missing customer_id (flagged, not kept)": 1}


def test_products_upsert_and_price_flag(workspace, tmp_path):
    path = _csv(tmp_path, "p.csv", "product_id,name,category,price\nA,Mug,Home > Kitchen,9.5\nB,Free sample,,0")
    report = ingest(workspace, "products", path)
    assert report.reasons == {"non-positive price (kept, marked)": 1}
    ingest(workspace, "products", _csv(tmp_path, "p2.csv", "product_id,brand\nA,Kiln"))
    assert _rows(workspace, "SELECT * FROM products ORDER BY 1") == [
        ("A", "Mug", "Home > Kitchen", "Kiln", 9.5),
        ("B", "Free sample", None, None, 0.0),
    ]


def test_events_are_idempotent_by_event_id(workspace, tmp_path):
    path = _csv(
        tmp_path,
        "e.csv",
        "event_id,customer_id,type,occurred_at\ne1,1,page_view,2024-01-01 10:00\n"
        "e2,1,add_to_cart,2024-01-01 10:01\ne2,1,add_to_cart,2024-01-01 10:01",
    )
    report = ingest(workspace, "events", path)
    assert report.rows_kept == 2 and report.reasons == {"event_id repeated in the file (flagged, not kept)": 1}
    again = ingest(workspace, "events", path)
    assert again.rows_kept == 0
    assert again.reasons["event_id in the workspace (already ingested, skipped)"] == 3
    assert workspace.row_counts()["events"] == 2


def test_events_of_unknown_customers_are_kept_and_flagged(workspace, tmp_path):
    ingest(workspace, "customers", _csv(tmp_path, "c.csv", "customer_id\n1"))
    path = _csv(
        tmp_path,
        "e.csv",
        "event_id,customer_id,anonymous_id,type,occurred_at\n"
        "e1,1,,page_view,2024-01-01\ne2,99,,page_view,2024-01-01\ne3,,,page_view,2024-01-01\n"
        "e4,98,,page_view,2999-01-01\ne5,97,,page_view,2024-01-02",
    )
    report = ingest(workspace, "events", path)
    # the unknown-customer lookup is counted apart from the other checks: a dropped row is not also marked,
    # and every flagged row is counted once
    assert (report.rows_read, report.rows_kept, report.rows_flagged) == (5, 3, 4)
    assert report.reasons == {
        "unknown customer_id (kept, marked)": 2,
        "no customer_id or anonymous_id (flagged, not kept)": 1,
        "dated in the future (flagged, not kept)": 1,
    }


def test_events_need_a_who_column(workspace, tmp_path):
    path = _csv(tmp_path, "e.csv", "event_id,user,type,occurred_at\ne1,1,page_view,2024-01-01")
    with pytest.raises(SchemaError, match="events need a 'customer_id' or an 'anonymous_id' column"):
        ingest(workspace, "events", path)


def test_events_missing_required_values_are_refused(workspace, tmp_path):
    path = _csv(tmp_path, "e.csv", "event_id,customer_id,type,occurred_at\ne1,1,,2024-01-01\ne2,1,search,")
    with pytest.raises(
        SchemaError,
        match=r"type: value is missing in 1 row \(row 2\)\. Expected a value in every row\. "
        r"occurred_at: value is missing in 1 row \(row 3\)",
    ):
        ingest(workspace, "events", path)


def test_survey_answers_of_unknown_customers_are_refused(workspace, tmp_path):
    ingest(workspace, "customers", _csv(tmp_path, "c.csv", "customer_id\n1\n2"))
    path = _csv(tmp_path, "s.csv", "customer_id,question,answer\n1,values,thrift\n7,values,status\n8,values,fun")
    with pytest.raises(
        SchemaError,
        match=r"s.csv: customer_id: not in customers in 2 rows \(rows 3, 4\); got '7', '8'\. "
        r"Expected a customer_id already loaded\. Hint: ingest the customers file first",
    ):
        ingest(workspace, "survey_answers", path)


def test_survey_answers_replace_earlier_answers(workspace, tmp_path):
    ingest(
        workspace,
        "survey_answers",
        _csv(tmp_path, "s1.csv", "customer_id,question,answer\n1,values,thrift\n1,hobby,golf"),
    )
    report = ingest(
        workspace, "survey_answers", _csv(tmp_path, "s2.csv", "customer_id,question,answer\n1,values,status")
    )
    assert report.updated == {"survey_answers": 1}
    assert report.reasons == {"answer already stored (kept, replaced the earlier value)": 1}
    assert _rows(workspace, "SELECT question, answer FROM survey_answers ORDER BY 1") == [
        ("hobby", "golf"),
        ("values", "status"),
    ]


def test_survey_question_repeated_for_a_customer_is_refused(workspace, tmp_path):
    path = _csv(tmp_path, "s.csv", "customer_id,question,answer\n1,values,thrift\n1,values,status")
    with pytest.raises(SchemaError, match="customer_id and question repeated in 2 rows"):
        ingest(workspace, "survey_answers", path)


def test_future_dated_events_are_flagged_not_kept(workspace, tmp_path):
    path = tmp_path / "events.csv"
    path.write_text("event_id,anonymous_id,type,occurred_at\ne1,a1,page_view,2024-01-01\ne2,a1,page_view,9999-12-31\n")
    report = ingest(workspace, "events", path)
    assert (report.rows_kept, report.reasons) == (1, {"dated in the future (flagged, not kept)": 1})


def test_out_of_range_product_price_is_refused(workspace, tmp_path):
    path = tmp_path / "products.csv"
    path.write_text("product_id,price\np1,9.5\np2,1e15\n")
    with pytest.raises(SchemaError) as err:
        ingest(workspace, "products", path)
    assert str(err.value) == (
        "products.csv: price: out of range in 1 row (row 3); got '1e15'. "
        "Expected a price under 1,000,000,000,000 in absolute value."
    )


def test_events_keep_the_first_row_of_each_id_and_skip_stored_ones(workspace, tmp_path):
    """The narrow dedupe (min(_row) per event_id, semi-joins) keeps the semantics of the windowed one."""
    from shopseg.io import ingest

    head = "event_id,customer_id,type,occurred_at,properties\n"
    (tmp_path / "a.csv").write_text(
        head + 'e1,c1,page_view,2024-01-01,{"n": 1}\ne2,c1,page_view,2024-01-02,\ne1,c1,page_view,2024-01-03,{"n": 2}\n'
    )
    r = ingest(workspace, "events", tmp_path / "a.csv")
    assert r.added == {"events": 2} and r.reasons == {"event_id repeated in the file (flagged, not kept)": 1}
    assert workspace.con.execute("SELECT properties FROM events WHERE event_id = 'e1'").fetchone()[0] == '{"n": 1}'
    (tmp_path / "b.csv").write_text(
        head + "e2,c1,page_view,2024-01-02,\ne3,c2,page_view,2024-01-04,\n"
        "e3,c2,page_view,2024-01-05,\ne4,c2,add_to_cart,2024-01-05,\n"
    )
    r = ingest(workspace, "events", tmp_path / "b.csv")
    assert r.added == {"events": 2}
    assert r.reasons == {
        "event_id in the workspace (already ingested, skipped)": 1,
        "event_id repeated in the file (flagged, not kept)": 1,
    }
    assert (
        workspace.con.execute("SELECT min(occurred_at)::DATE::VARCHAR FROM events WHERE event_id = 'e3'").fetchone()[0]
        == "2024-01-04"
    )


@pytest.mark.parametrize("pass_rows", [4, 1_000_000])
def test_event_ids_grouped_in_passes_keep_each_ids_first_row(workspace, tmp_path, monkeypatch, pass_rows):
    """A large file groups its ids in hash passes (bounded memory, tables.GROUP_PASS_ROWS): the counts and the
    kept row of each repeated id are those of one pass."""
    from shopseg.io import tables

    monkeypatch.setattr(tables, "GROUP_PASS_ROWS", pass_rows)
    assert len(tables.id_passes(20, "event_id")) == (5 if pass_rows == 4 else 1)
    body = "".join(f"e{i % 12},{i},page_view,2024-01-01 10:{i:02d}\n" for i in range(20))
    path = _csv(tmp_path, "e.csv", "event_id,customer_id,type,occurred_at\n" + body)
    report = ingest(workspace, "events", path)
    assert report.rows_kept == 12 and report.reasons == {"event_id repeated in the file (flagged, not kept)": 8}
    kept = _rows(workspace, "SELECT event_id, customer_id FROM events ORDER BY customer_id::INT")
    assert kept == [(f"e{i}", str(i)) for i in range(12)]  # the first row of each id, in file order
    # into a table that has events: ids repeated in the file and ids already stored, same passes
    body = "".join(f"{'e' if i < 4 else 'f'}{i % 9},{100 + i},page_view,2024-01-02 10:{i:02d}\n" for i in range(20))
    more = ingest(workspace, "events", _csv(tmp_path, "f.csv", "event_id,customer_id,type,occurred_at\n" + body))
    # e0-e3 are stored (4 rows skipped); f4-f8 and f0-f3 are new: 9 ids, their first rows kept, 7 repeats dropped
    assert more.rows_kept == 9 and more.reasons == {
        "event_id in the workspace (already ingested, skipped)": 4,
        "event_id repeated in the file (flagged, not kept)": 7,
    }
    new = _rows(workspace, "SELECT event_id, customer_id FROM events WHERE event_id LIKE 'f%' ORDER BY event_id")
    assert new == [(f"f{i}", str(100 + i + (9 if i < 4 else 0))) for i in range(9)]
