"""The feature table and the calibration split are identical on DuckDB and Spark.

Compared (engine_compare.py): the same customers, the same columns in the same
order, equal integers, strings, booleans and timestamps (NULLs in the same
places) and floats to 1e-9 relative.
"""

from __future__ import annotations

import pytest

from shopseg.features import FEATURE_COLUMNS, build_features, calibration_holdout_expr, feature_expr
from tests.engines.engine_compare import assert_engines_agree

pytestmark = pytest.mark.spark


def test_feature_table_is_identical_on_online_retail(online_retail_workspace, duckdb_engine, spark_engine):
    """The full table through build_features (the user path): 4,372 customers of UCI Online Retail."""
    duck = build_features(online_retail_workspace, duckdb_engine)
    spark = build_features(online_retail_workspace, spark_engine)
    assert len(duck) == 4372
    assert list(duck.columns) == FEATURE_COLUMNS  # Online Retail has no categories
    assert_engines_agree(duck, spark)
    assert online_retail_workspace.meta("features_engine") == "spark"


def test_feature_table_is_identical_on_a_synthetic_store(compare_engines, synthetic_workspace):
    """Events, categories, channels, discounts, demographics: what Online Retail lacks."""
    duck, _ = compare_engines(
        lambda engine: feature_expr(engine, as_of="2025-12-20", time_unit="weeks"), workspace=synthetic_workspace
    )
    exercised = [
        "product_views_7d",
        "add_to_carts_30d",
        "abandoned_checkouts_90d",
        "email_clicks_90d",
        "distinct_categories",
        "discount_share",
        "share_web",
        "share_app",
        "age",
    ]
    for col in exercised:
        assert duck[col].fillna(0).astype(float).gt(0).any(), f"{col} is never positive: the comparison is vacuous"
    assert duck["top_category"].notna().any()
    assert any(c.startswith("share_") and c not in FEATURE_COLUMNS for c in duck.columns)


def test_calibration_split_is_identical_on_online_retail(compare_engines):
    duck, _ = compare_engines(lambda engine: calibration_holdout_expr(engine, "2011-06-30", "2011-12-09", "weeks"))
    assert duck["frequency_holdout"].sum() > 0


def test_spark_summing_the_lines_agrees_with_duckdb_reading_order_totals(tmp_path):
    """Both paths of purchase_order_totals across engines: DuckDB reads the stored
    order_totals, Spark (the table dropped) sums the order lines itself."""
    from shopseg.datasets import generate_store, write_store
    from shopseg.features.order_totals import ORDER_TOTALS, stored_totals
    from shopseg.workspace import Workspace
    from tests.engines.conftest import engines_for
    from tests.engines.engine_compare import as_frame

    ws = Workspace.init(tmp_path / "totals.duckdb")
    write_store(ws, generate_store(300, seed=5))
    duck, spark = engines_for(ws)
    assert stored_totals(duck) is not None
    left = as_frame(feature_expr(duck, as_of="2025-12-20", time_unit="weeks"))
    ws.con.execute(f"DROP TABLE {ORDER_TOTALS}")
    assert stored_totals(spark) is None
    right = as_frame(feature_expr(spark, as_of="2025-12-20", time_unit="weeks"))
    assert left["frequency"].sum() > 0
    assert_engines_agree(left, right)
    ws.close()
