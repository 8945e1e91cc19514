"""Consent-aware exports: who is included, who is left out and why, hashing, vendor formats, minimum size."""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest

from shopseg.config import config_context
from shopseg.errors import InvalidParameterError, NotFound
from shopseg.export import AudienceTooSmallError, build_audience, export_segment, hash_email, normalize_email
from shopseg.privacy import effective_consent, record_consent
from shopseg.segments.audience import segment_customer_ids


def test_only_consented_customers_are_exported_and_the_rest_counted(action_ws, tmp_path):
    members, _ = segment_customer_ids(action_ws, "Champions")
    audience, path = export_segment(action_ws, "Champions", out=tmp_path / "c.csv", min_size=1)
    consent = effective_consent(action_ws, "email_marketing").set_index("customer_id")["granted"]
    expected = sorted(c for c in members if consent[c])
    written = pd.read_csv(path, dtype=str)
    assert sorted(written["customer_id"]) == expected
    assert audience.members == len(members)
    assert sum(audience.excluded.values()) == len(members) - len(expected) > 0
    assert f"{len(members) - len(expected):,} left out" in audience.summary()


def test_a_withdrawal_removes_the_customer(action_ws):
    members, _ = segment_customer_ids(action_ws, "Champions")
    before = build_audience(action_ws, members, segment="Champions")
    victim = before.included["customer_id"].iloc[0]
    record_consent(action_ws, victim, "email_marketing", False, source="unsubscribe link")
    after = build_audience(action_ws, members, segment="Champions")
    assert victim not in set(after.included["customer_id"])
    assert after.excluded["withdrew email_marketing consent"] >= 1


def test_missing_email_and_unknown_customers_are_reasons(workspace):
    workspace.con.execute(
        "INSERT INTO customers (customer_id, email, email_marketing) VALUES "
        "('a', ' A@X.org ', true), ('b', NULL, true), ('c', 'c@x.org', NULL)"
    )
    aud = build_audience(workspace, ["a", "b", "c", "ghost"])
    assert aud.included["customer_id"].tolist() == ["a"]
    assert aud.excluded == {
        "no email address": 1,
        "no email_marketing consent": 1,
        "not in the customers table (no consent on record)": 1,
    }


def test_email_hash_follows_the_ad_platform_normalisation():
    """Google Customer Match / Meta: trim, lower-case, SHA-256 hex of the UTF-8 bytes."""
    assert normalize_email("  Jane.Doe@Example.COM\t") == "jane.doe@example.com"
    assert hash_email(" Jane.Doe@Example.COM") == hashlib.sha256(b"jane.doe@example.com").hexdigest()


def test_hashed_export_has_no_plain_address(action_ws, tmp_path):
    audience, path = export_segment(action_ws, "Champions", out=tmp_path / "ads.csv", hash_emails=True, min_size=1)
    df = pd.read_csv(path, dtype=str)
    assert "email" not in df.columns and df["email_sha256"].str.fullmatch("[0-9a-f]{64}").all()
    assert audience.channel == "ads" and audience.purpose == "ad_audiences"
    assert not df.apply(lambda col: col.str.contains("@", na=False)).any().any()


def test_vendor_formats_use_their_import_columns(action_ws, tmp_path):
    _, k = export_segment(action_ws, "Champions", fmt="klaviyo", out=tmp_path / "k.csv", min_size=1)
    _, m = export_segment(action_ws, "Champions", fmt="mailchimp", out=tmp_path / "m.csv", min_size=1)
    kl, mc = pd.read_csv(k), pd.read_csv(m)
    assert kl.columns[0] == "Email" and (kl["Email Marketing Consent"] == "Subscribed").all()
    assert mc.columns[0] == "Email Address" and (mc["Tags"] == "Champions").all()
    _, j = export_segment(action_ws, "Champions", fmt="json", out=tmp_path / "a.jsonl", min_size=1)
    _, p = export_segment(action_ws, "Champions", fmt="parquet", out=tmp_path / "a.parquet", min_size=1)
    assert len(pd.read_json(j, lines=True)) == len(pd.read_parquet(p)) == len(kl) == len(mc)
    with pytest.raises(InvalidParameterError, match="the klaviyo format needs plain email addresses"):
        export_segment(action_ws, "Champions", fmt="klaviyo", hash_emails=True, out=tmp_path / "x.csv", min_size=1)


def test_small_audiences_are_refused_by_the_setting(action_ws, tmp_path):
    target = tmp_path / "never.csv"
    with (
        config_context(export_min_segment_size=100_000),
        pytest.raises(AudienceTooSmallError, match="below the minimum of 100,000.*export_min_segment_size"),
    ):
        export_segment(action_ws, "Champions", out=target)
    assert not target.exists()


def test_bad_names_are_clear_errors(action_ws, tmp_path):
    with pytest.raises(InvalidParameterError, match="unknown format 'xlsx'"):
        export_segment(action_ws, "Champions", fmt="xlsx")
    with pytest.raises(InvalidParameterError, match="unknown channel 'fax'"):
        export_segment(action_ws, "Champions", channel="fax", out=tmp_path / "f.csv")
    with pytest.raises(NotFound, match="segment 'vips'"):
        export_segment(action_ws, "vips", out=tmp_path / "v.csv")


def test_each_export_is_audited_without_ids(action_ws, tmp_path):
    import json

    audience, _ = export_segment(action_ws, "Champions", out=tmp_path / "c.csv", min_size=1)
    rows = action_ws.con.execute("SELECT action, subject_hash, detail FROM privacy_audit").fetchall()
    assert [(r[0], r[1]) for r in rows] == [("export", None)]
    detail = json.loads(rows[0][2])
    assert detail["exported"] == len(audience.included) and detail["channel"] == "email"
    assert "c0" not in rows[0][2]


def _consent_all(ws, purpose: str) -> None:  # type: ignore[no-untyped-def]
    ws.con.execute(f"UPDATE customers SET {purpose} = true")


def test_an_sms_audience_carries_no_email_even_of_a_customer_who_withdrew_it(action_ws, tmp_path):
    """Data minimisation (probe: `export --channel sms` wrote customer_id, segment, email, country, city)."""
    _consent_all(action_ws, "sms_marketing")
    members, _ = segment_customer_ids(action_ws, "Champions")
    record_consent(action_ws, members[0], "email_marketing", False, source="unsubscribe link")
    audience = build_audience(action_ws, members, channel="sms", segment="Champions")
    assert list(audience.included.columns) == ["customer_id"]  # the schema keeps no phone number
    assert members[0] in set(audience.included["customer_id"])
    for fmt, name in (("csv", "s.csv"), ("json", "s.jsonl"), ("parquet", "s.parquet")):
        _, path = export_segment(action_ws, "Champions", channel="sms", fmt=fmt, out=tmp_path / name, min_size=1)
        assert b"@example.com" not in path.read_bytes(), fmt
    written = pd.read_csv(tmp_path / "s.csv", dtype=str)
    assert list(written.columns) == ["customer_id", "segment"] and len(written) == len(audience.included)


def test_an_sms_audience_carries_the_stores_phone_and_leaves_out_members_without_one(workspace):
    workspace.con.execute("ALTER TABLE customers ADD COLUMN phone VARCHAR")  # a store that keeps phone numbers
    workspace.con.execute(
        "INSERT INTO customers (customer_id, email, phone, country, city, email_marketing, sms_marketing) VALUES "
        "('a', 'a@x.org', '+33 6 12 34 56 78', 'FR', 'Lyon', true, true), ('b', 'b@x.org', ' ', 'FR', 'Paris', true, true)"
    )
    sms = build_audience(workspace, ["a", "b"], channel="sms")
    assert sms.included.to_dict("records") == [{"customer_id": "a", "phone": "+33 6 12 34 56 78"}]
    assert sms.excluded == {"no phone number": 1}
    email = build_audience(workspace, ["a", "b"], channel="email")
    assert list(email.included.columns) == ["customer_id", "email", "country", "city"]  # never a phone number
    workspace.con.execute("UPDATE customers SET profiling = true")
    ads = build_audience(workspace, ["a", "b"], channel="ads")
    assert list(ads.included.columns) == ["customer_id", "email_sha256", "country", "city"]


def test_every_channel_carries_only_its_columns(action_ws):
    for purpose in ("email_marketing", "sms_marketing", "profiling"):
        _consent_all(action_ws, purpose)
    members, _ = segment_customer_ids(action_ws, "Champions")
    expected = {
        "email": ["customer_id", "email", "country", "city"],
        "ads": ["customer_id", "email_sha256", "country", "city"],
        "sms": ["customer_id"],
    }
    for channel, columns in expected.items():
        audience = build_audience(action_ws, members, channel=channel)
        assert list(audience.included.columns) == columns, channel
        assert 0 < len(audience.included) <= len(members), channel


def test_sms_refuses_email_only_options(action_ws, tmp_path):
    _consent_all(action_ws, "sms_marketing")
    with pytest.raises(InvalidParameterError, match="an sms audience carries none. Expected channel email or ads"):
        export_segment(action_ws, "Champions", channel="sms", hash_emails=True, out=tmp_path / "x.csv", min_size=1)
    with pytest.raises(InvalidParameterError, match="the klaviyo format is an e-mail list; an sms audience carries"):
        export_segment(action_ws, "Champions", channel="sms", fmt="klaviyo", out=tmp_path / "k.csv", min_size=1)
