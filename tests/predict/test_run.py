"""predict_workspace: one finite row per buyer, ordered intervals, planted truth, small stores flagged not refused."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from shopseg.engine import get_engine
from shopseg.errors import InvalidParameterError, SchemaError
from shopseg.features import feature_expr
from shopseg.predict import CHURN_THRESHOLDS, PREDICTION_COLUMNS, PREDICTIONS_TABLE, predict_workspace
from shopseg.rules.fields import FIELDS


def test_one_finite_row_per_buyer(predicted_ws):
    ws, out = predicted_ws
    buyers = ws.con.execute("SELECT customer_id FROM customer_features WHERE orders > 0 ORDER BY customer_id").df()
    assert out["customer_id"].tolist() == buyers["customer_id"].tolist()
    assert list(out.columns) == PREDICTION_COLUMNS
    assert not out.isna().any().any()
    assert np.isfinite(out.select_dtypes("number").to_numpy()).all()
    assert out.attrs["uncertainty"] == "ok" and (out["uncertainty"] == "ok").all()
    assert out.attrs["churn_source"] == "churn_model" and out.attrs["bootstrap_replicates"] == 5


def test_intervals_are_ordered(predicted_ws):
    _, out = predicted_ws
    for col in ("clv", "expected_purchases"):
        assert (out[f"{col}_param_p10"] <= out[col]).all() and (out[col] <= out[f"{col}_param_p90"]).all()
    for col in ("clv", "purchases"):
        assert (out[f"{col}_p10"] >= 0).all() and (out[f"{col}_p10"] <= out[f"{col}_p90"]).all()
    assert (out["purchases_p10"] == out["purchases_p10"].round()).all()  # counts
    assert ((out["purchases_p90"] == 0) == (out["clv_p90"] == 0)).all()
    assert (out["next_order_p10_date"] <= out["next_order_date"]).all()
    assert (out["next_order_date"] <= out["next_order_p90_date"]).all()
    as_of = pd.Timestamp(out.attrs["as_of"])
    assert (out["next_order_p10_date"] >= as_of).all() and (
        out["next_order_p90_date"] <= as_of + pd.Timedelta(days=365)
    ).all()
    assert out["p_alive"].between(0, 1).all() and out["churn_probability"].between(0, 1).all()


def test_churn_risk_follows_the_documented_thresholds(predicted_ws):
    _, out = predicted_ws
    low, high = CHURN_THRESHOLDS
    p = out["churn_probability"]
    expected = np.where(p >= high, "high", np.where(p >= low, "medium", "low"))
    assert (out["churn_risk"] == expected).all() and set(out["churn_risk"]) == {"low", "medium", "high"}


def test_predictions_agree_with_the_planted_groups(predicted_ws):
    """Ground truth of the generator: vip_loyal buy ~14 times a year and never churn; lapsed stopped >= 200 days ago."""
    ws, out = predicted_ws
    truth = ws.con.execute('SELECT customer_id, "group" FROM _truth_planted_groups').df()
    by = out.merge(truth, on="customer_id").groupby("group")
    assert by["clv"].mean()["vip_loyal"] > 5 * by["clv"].mean()["one_time"]
    assert by["churn_probability"].mean()["lapsed"] > 0.8 > 0.3 > by["churn_probability"].mean()["vip_loyal"]
    assert by["expected_purchases"].mean()["vip_loyal"] > 5


def test_table_and_meta_are_stored(predicted_ws):
    ws, out = predicted_ws
    stored = ws.con.execute(f'SELECT * FROM "{PREDICTIONS_TABLE}" ORDER BY customer_id').df()
    assert len(stored) == len(out) and stored["clv"].to_numpy() == pytest.approx(out["clv"].to_numpy())
    assert ws.meta("predictions_as_of") == out.attrs["as_of"] == ws.meta("features_as_of")
    assert ws.meta("predictions_churn_source") == "churn_model" and ws.meta("predictions_horizon_days") == "365"


def test_segment_rules_read_the_predictions(predicted_ws):
    """The built-in registry exposes the stored predictions: clv_p10 a number, churn_risk a band with choices."""
    from shopseg.rules.compile import segment_members
    from shopseg.rules.parse import parse_segment

    ws, out = predicted_ws
    fields = FIELDS.with_predictions(out.columns)
    assert fields.get("churn_risk").choices == ("low", "medium", "high")
    rule = parse_segment("clv_param_p10 > 200 AND churn_risk = 'high' OR clv_p10 > 1000 AND purchases_p90 >= 5")
    members = segment_members(get_engine(ws, "duckdb"), rule, as_of=out.attrs["as_of"], fields=fields).to_pandas()
    chosen = (out.clv_param_p10 > 200) & (out.churn_risk == "high") | (out.clv_p10 > 1000) & (out.purchases_p90 >= 5)
    expected = out[chosen]["customer_id"]
    assert sorted(members["customer_id"]) == sorted(expected) and len(expected) > 0
    later = parse_segment(
        "next_order_date_upper IS NOT NULL AND next_order_date_lower IS NOT NULL AND churn_probability BETWEEN 0 AND 1"
    )
    everyone = segment_members(get_engine(ws, "duckdb"), later, as_of=out.attrs["as_of"], fields=fields).to_pandas()
    assert len(everyone) == len(out)


def test_a_small_store_gets_flagged_predictions(workspace):
    """25 generated customers: fewer than 30 buyers, so BG/NBD is shrunken and spend is the population mean."""
    from shopseg.datasets import generate_store, write_store

    write_store(workspace, generate_store(25, seed=2))
    out = predict_workspace(workspace, n_bootstrap=3)
    engine = get_engine(workspace, "duckdb")
    feats = engine.execute(feature_expr(engine))
    assert out["customer_id"].tolist() == sorted(feats.loc[feats.orders > 0, "customer_id"]) and 0 < len(out) < 30
    assert not out.isna().any().any() and (out["uncertainty"] == "fallback").all()
    assert "only" in out.attrs["fallback"] and out.attrs["churn_source"] == "mbgnbd"
    assert (out["clv_param_p10"] <= out["clv"]).all() and (out["clv"] <= out["clv_param_p90"]).all()
    assert (out["clv_p10"] <= out["clv_p90"]).all()


def test_three_one_order_customers_still_get_a_row(workspace):
    """No repeat buyer at all: no Gamma-Gamma fit is possible; spend falls back to the mean order value (10, 20, 10)."""
    orders = [("o1", "a", "2024-01-01"), ("o2", "b", "2024-02-01"), ("o3", "c", "2024-03-01")]
    workspace.con.executemany("INSERT INTO orders (order_id, customer_id, ordered_at) VALUES (?, ?, ?)", orders)
    workspace.con.executemany(
        "INSERT INTO order_lines (order_id, line_number, product_id, quantity, unit_price) VALUES (?, 1, 'p', 1, ?)",
        [("o1", 10.0), ("o2", 20.0), ("o3", 10.0)],
    )
    out = predict_workspace(workspace, n_bootstrap=2)
    assert out["customer_id"].tolist() == ["a", "b", "c"] and not out.isna().any().any()
    assert (out["uncertainty"] == "fallback").all() and "mean order value" in out.attrs["fallback"]
    assert out["expected_spend"].tolist() == pytest.approx([40 / 3] * 3)


def test_empty_workspace_and_bad_arguments_are_refused(workspace):
    with pytest.raises(SchemaError, match="orders table is empty"):
        predict_workspace(workspace)
    with pytest.raises(InvalidParameterError, match="horizon_days"):
        predict_workspace(workspace, horizon_days=0)


def test_purchase_intervals_match_the_pmf_summed_by_hand(predicted_ws):
    """purchases_p10 is the smallest k with P(X <= k) >= 0.1; purchases_p90 the smallest k with
    P(p10 <= X <= k) >= 0.8, from probability_of_purchases(k) summed one k at a time (an independent path)."""
    from shopseg.models.clv.mbgnbd import ModifiedBetaGeoModel

    ws, out = predicted_ws
    engine = get_engine(ws, "duckdb")
    feats = engine.execute(feature_expr(engine, as_of=out.attrs["as_of"], time_unit="days"))
    from shopseg.models.churn.labels import buyer_summary

    summary = buyer_summary(feats[feats.orders > 0].sort_values("customer_id").reset_index(drop=True))
    model = ModifiedBetaGeoModel()
    model.params_ = out.attrs["params"]
    rows = summary.iloc[::97].reset_index(drop=True)
    pmf = np.stack([model.probability_of_purchases(k, 365.0, rows) for k in range(80)], axis=1)
    cdf = np.cumsum(pmf, axis=1)
    lo = (cdf < 0.1).sum(axis=1)
    below = np.where(lo > 0, cdf[np.arange(len(rows)), np.maximum(lo - 1, 0)], 0.0)
    hi = (cdf < (below + 0.8)[:, None] - 1e-12).sum(axis=1)
    got = out.set_index("customer_id").loc[rows["customer_id"]]
    assert got["purchases_p10"].tolist() == lo.tolist() and got["purchases_p90"].tolist() == hi.tolist()
    assert out.attrs["model"] == "mbgnbd" and ws.meta("predictions_model") == "mbgnbd"


def test_unknown_model_is_refused(workspace):
    with pytest.raises(
        InvalidParameterError,
        match="The 'model' parameter must be one of \\['bgnbd', 'mbgnbd', 'pareto'\\]. "
        "Got 'mbg' instead. Did you mean 'mbgnbd'\\?",
    ):
        predict_workspace(workspace, model="mbg")


def test_stored_features_are_read_only_while_their_sources_are_unchanged(workspace):
    """features build stamps its sources; predict reads the stored columns while the stamp holds and
    queries again after any change (here an order after the as-of date, which leaves the values equal)."""
    import datetime as dt

    from shopseg.datasets import generate_store, write_store
    from shopseg.features import build_features
    from shopseg.features.stamp import has_fresh_features

    write_store(workspace, generate_store(300, seed=4))
    build_features(workspace, return_frame=False)
    day = dt.date.fromisoformat(workspace.meta("features_as_of"))
    assert has_fresh_features(workspace, day, "days")
    assert not has_fresh_features(workspace, day - dt.timedelta(days=1), "days")
    stored = predict_workspace(workspace, n_bootstrap=2, store=False)
    customer = stored["customer_id"].iloc[0]
    workspace.con.execute(
        "INSERT INTO orders (order_id, customer_id, ordered_at) VALUES ('late', ?, ?)",
        [customer, dt.datetime.combine(day + dt.timedelta(days=3), dt.time(12))],
    )
    workspace.con.execute(
        "INSERT INTO order_lines (order_id, line_number, product_id, quantity, unit_price) VALUES ('late', 1, 'p', 1, 5.0)"
    )
    assert not has_fresh_features(workspace, day, "days")
    queried = predict_workspace(workspace, n_bootstrap=2, store=False, as_of=day)
    pd.testing.assert_frame_equal(stored, queried, check_dtype=False)


def test_churn_labels_on_a_hash_sample_are_the_sampled_buyers_rows(predicted_ws, monkeypatch):
    """A sample of the previous window's buyers, drawn in the query: the same buyers on every run, a
    binomial share of them (0.3 of n within 4 standard deviations), their rows equal to the full labels'
    rows; another seed draws other buyers; a fraction outside (0, 1] is refused. predict_workspace samples
    once the buyers exceed MAX_CHURN_TRAIN (lowered here to 600) and still scores every buyer."""
    import datetime as dt

    import shopseg.predict.run as run
    from shopseg.models.churn.labels import churn_labels, latest_order_date, sample_filter

    ws, out = predicted_ws
    engine = get_engine(ws, "duckdb")
    cutoff = latest_order_date(engine) - dt.timedelta(days=90)
    full = churn_labels(engine, cutoff, 90)
    a, b = (churn_labels(engine, cutoff, 90, sample=0.3, seed=5) for _ in range(2))
    pd.testing.assert_frame_equal(a, b)
    n = len(full)
    assert abs(len(a) - 0.3 * n) < 4 * (0.21 * n) ** 0.5 and 0 < len(a) < n
    same = full[full["customer_id"].isin(a["customer_id"])].reset_index(drop=True)
    pd.testing.assert_frame_equal(a.reset_index(drop=True), same, check_like=True)
    other = churn_labels(engine, cutoff, 90, sample=0.3, seed=6)
    assert set(other["customer_id"]) != set(a["customer_id"])
    with pytest.raises(InvalidParameterError, match="'sample' parameter must be in"):
        sample_filter(engine.table("orders").customer_id, 1.5, 0)
    calls = []
    labels = run.churn_labels
    monkeypatch.setattr(run, "churn_labels", lambda *a, **k: calls.append(k["sample"]) or labels(*a, **k))
    monkeypatch.setattr(run, "MAX_CHURN_TRAIN", 600)
    sampled = predict_workspace(ws, n_bootstrap=0, seed=1, store=False)
    assert calls == [pytest.approx(600 / len(out))] and len(sampled) == len(out)
    assert sampled.attrs["churn_source"] == "churn_model"


def test_one_pass_freshness_equals_each_stamp_alone(predicted_ws):
    """predict run checks the stored totals and features from one scan per table: the same answers as each alone."""
    from shopseg.features.order_totals import is_fresh
    from shopseg.features.stamp import STAMP_KEY, features_stamp
    from shopseg.predict.run import _freshness

    ws, _ = predicted_ws
    fresh, stamp = _freshness(ws)
    assert fresh is True and fresh == is_fresh(ws)
    assert stamp == features_stamp(ws) and stamp == ws.meta(STAMP_KEY)


def test_predict_run_imports_no_backtest_statistics_and_scikit_learn_on_first_use():
    """``predict run`` needs neither scikit-learn's metrics nor scipy.stats (0.3 s) before its churn thread
    imports the booster (0.8 s, beside the purchase model's work): importing the command's module loads
    none of them, and the booster's first use loads scikit-learn."""
    import subprocess
    import sys

    code = (
        "import sys\nimport shopseg.predict.run\n"
        "print(sorted(m for m in ('sklearn', 'scipy.stats', 'shopseg.models.churn.backtest') if m in sys.modules))\n"
        "from shopseg.models.churn.model import import_booster\nimport_booster()\n"
        "print('sklearn.ensemble' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[:2] == ["[]", "True"]


def test_spend_is_what_buyers_keep(online_retail_workspace):
    """UCI Online Retail's customer 16446 bought 80,995 x 23843 (invoice 581483, 168,469.60 GBP) on
    2011-12-09 09:15 and cancelled it 12 minutes later (C581484): the spend model is fed her value net of
    that return, so her CLV is not the 178,133 it was when the purchase counted as kept."""
    import pandas as pd

    from shopseg.predict.clv_fit import kept_share

    share = kept_share(pd.DataFrame({"revenue": [2.9, 50.0, 0.0, None], "gross_revenue": [168472.5, 50.0, 0.0, 10.0]}))
    assert share.tolist() == pytest.approx([2.9 / 168472.5, 1.0, 1.0, 1.0])
    from shopseg.features import build_features

    she = build_features(online_retail_workspace).set_index("customer_id").loc["16446"]
    assert she.revenue < 10 < 100_000 < she.gross_revenue  # she kept a few pounds of it
    out = predict_workspace(online_retail_workspace, n_bootstrap=0, store=False).set_index("customer_id")
    assert out.loc["16446", "clv"] < 1_000
    # the fitted dropout runs to ~0 on this store (docs/predictions.md): P(alive) is flat, and the run says so
    assert "P(alive) is above 0.99 for " in out.attrs["warnings"] and "churn_risk can" in out.attrs["warnings"]


def test_a_store_with_dropout_gets_no_flat_p_alive_note(predicted_ws):
    """The synthetic store has churners: P(alive) spreads out, and no note says it is flat."""
    _, out = predicted_ws
    assert (out["p_alive"] < 0.9).mean() > 0.1
    assert "P(alive) is above 0.99" not in out.attrs["warnings"]
