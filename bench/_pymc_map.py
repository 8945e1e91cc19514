"""PyMC-Marketing's MAP fit of the BG/NBD and Gamma-Gamma on a summary file; run by bench_clv.py in its own venv.

    python bench/_pymc_map.py summary.parquet     # prints one JSON line: seconds and parameters

PyMC-Marketing pulls in PyMC, PyTensor and ArviZ, whose pins clash with the
project's engine pins, so it lives in a separate environment
(``make bench`` builds it from bench/requirements-pymc.txt).
"""

from __future__ import annotations

import json
import sys
import time
import warnings


def main(path: str) -> None:
    import pandas as pd
    from pymc_marketing.clv import BetaGeoModel, GammaGammaModel

    data = pd.read_parquet(path)
    data.insert(0, "customer_id", range(len(data)))
    out: dict[str, object] = {"version": __import__("pymc_marketing").__version__}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        bg = BetaGeoModel(data=data[["customer_id", "frequency", "recency", "T"]])
        bg.fit(method="map", progressbar=False)
        out["bgnbd_seconds"] = time.perf_counter() - start
        post = bg.fit_result
        out["bgnbd"] = {k: float(post[k].mean()) for k in ("r", "alpha", "a", "b")}
        repeat = data[data.frequency > 0]
        start = time.perf_counter()
        gg = GammaGammaModel(data=repeat[["customer_id", "frequency", "monetary_value"]])
        gg.fit(method="map", progressbar=False)
        out["gg_seconds"] = time.perf_counter() - start
        out["gg"] = {k: float(gg.fit_result[k].mean()) for k in ("p", "q", "v")}
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1])
