"""Clustering: shopseg's ClusterSegmenter vs a plain scikit-learn pipeline on the same customers.

    python bench/bench_cluster.py                                 # the 1M-customer store in bench/out, if built
    python bench/bench_cluster.py --customers 200000              # otherwise a generated store of this size

Data: ``customer_features`` of the generated store (buyers only, orders > 0):
the 12 default numeric features plus ``top_category``. With
``bench/out/store-1000000/store.duckdb`` present (written by ``bench/run_all.py``)
its 1M-customer feature table is read, read-only; otherwise a store is
generated and featurised in a temporary workspace.

Side by side, k = 8, 4 k-means restarts, seed 0, same rows:

- shopseg: ``ClusterSegmenter(8)`` (median impute, log1p, standardize, one-hot
  top_category x 0.5; one thread);
- sklearn: ``Pipeline(SimpleImputer, StandardScaler, KMeans)`` on the 12
  numeric columns (the imputer only because KMeans refuses NaN; default threads).

Reported: fit seconds (wall), adjusted Rand index against the planted groups,
and shopseg's auto-k (BIC knee over k = 2..12) on a 100k sample.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

STORE = Path(__file__).resolve().parent / "out" / "store-1000000" / "store.duckdb"


def load(customers: int | None) -> tuple[pd.DataFrame, str]:
    from shopseg.models.cluster import DEFAULT_FEATURES

    cols = ", ".join(f'f."{c}"' for c in ["customer_id", *DEFAULT_FEATURES])
    query = (
        f'SELECT {cols}, t."group" FROM customer_features f JOIN _truth_planted_groups t USING (customer_id) '
        "WHERE f.orders > 0 ORDER BY customer_id"
    )
    if customers is None and STORE.exists():
        import duckdb

        with duckdb.connect(str(STORE), read_only=True) as con:
            return con.execute(query).df(), f"{STORE.parent.name}/store.duckdb (1,000,000 generated customers)"
    import tempfile

    from shopseg.datasets import generate_store, write_store
    from shopseg.features import build_features
    from shopseg.workspace import Workspace

    n = customers or 200_000
    with Workspace.init(Path(tempfile.mkdtemp()) / "bench.duckdb") as ws:
        write_store(ws, generate_store(n, seed=7))
        build_features(ws, return_frame=False)
        return ws.con.execute(query).df(), f"generate_store({n:,}, seed=7)"


def main() -> None:
    from sklearn.cluster import KMeans
    from sklearn.impute import SimpleImputer
    from sklearn.metrics import adjusted_rand_score
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    from shopseg.models.cluster import ClusterSegmenter

    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=None)
    args = parser.parse_args()
    t0 = time.perf_counter()
    df, source = load(args.customers)
    load_s = time.perf_counter() - t0
    numeric = [c for c in df.columns if c not in ("customer_id", "group", "top_category")]
    rows = []

    t0 = time.perf_counter()
    seg = ClusterSegmenter(8, n_init=4, random_state=0).fit(df)
    rows.append(
        (
            "shopseg ClusterSegmenter(8) (log1p + scale + one-hot, 1 thread)",
            time.perf_counter() - t0,
            adjusted_rand_score(df["group"], seg.labels_),
        )
    )
    t0 = time.perf_counter()
    plain = Pipeline(
        [
            ("impute", SimpleImputer(strategy="median")),
            ("scale", StandardScaler()),
            ("kmeans", KMeans(8, n_init=4, random_state=0)),
        ]
    ).fit(df[numeric])
    rows.append(
        (
            "sklearn Pipeline(SimpleImputer, StandardScaler, KMeans(8))",
            time.perf_counter() - t0,
            adjusted_rand_score(df["group"], plain["kmeans"].labels_),
        )
    )
    sample = df.sample(n=min(100_000, len(df)), random_state=0)
    t0 = time.perf_counter()
    auto = ClusterSegmenter("auto", random_state=0).fit(sample)
    rows.append(
        (
            f"shopseg auto-k on a {len(sample):,} sample (11 fits, chose k={auto.n_clusters_})",
            time.perf_counter() - t0,
            adjusted_rand_score(sample["group"], auto.labels_),
        )
    )

    print(
        f"Data: {source}; {len(df):,} buyers x {len(numeric)} numeric features + top_category (load {load_s:.1f} s)\n"
    )
    print("| run | fit (s) | ARI vs planted groups |")
    print("|---|---:|---:|")
    for name, secs, ari in rows:
        print(f"| {name} | {secs:.1f} | {ari:.3f} |")


if __name__ == "__main__":
    main()
