"""CLV models: shopseg vs lifetimes on a synthetic BG/NBD customer base, side by side.

    python bench/bench_clv.py                       # 1M customers (lifetimes takes minutes)
    python bench/bench_clv.py --customers 100000    # a quicker pass
    python bench/bench_clv.py --skip-lifetimes

The summary is simulated from a BG/NBD with the published CDNOW parameters
(r, alpha, a, b = 0.243, 4.414, 0.793, 2.426; Fader, Hardie & Lee 2005):
first purchases spread over the first 12 weeks, calibration ends at week 39,
recency and T are whole days expressed in weeks (as the features module gives
them). Spend: Gamma-Gamma with p, q, gamma = 6.25, 3.74, 15.44.

Figures (wall seconds, in this process): BG/NBD fit, Pareto/NBD fit,
Gamma-Gamma fit, 12-month discounted CLV for every customer; lifetimes 0.11
does the same on the same arrays. Parameters are compared to 3 significant figures.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
GG = {"p": 6.25, "q": 3.74, "gamma": 15.44}


def simulate(n: int, seed: int = 7) -> pd.DataFrame:
    """(frequency, recency, T, monetary_value) of n customers drawn from the BG/NBD + Gamma-Gamma."""
    rng = np.random.default_rng(seed)
    days = rng.integers(0, 84, n)  # first purchase in the first 12 weeks
    big_t = (273 - days) / 7.0
    lam = rng.gamma(BGNBD["r"], 1.0 / BGNBD["alpha"], n)
    p = rng.beta(BGNBD["a"], BGNBD["b"], n)
    arrivals = rng.poisson(lam * big_t)
    death_at = rng.geometric(p)  # dies right after her death_at-th repeat purchase
    x = np.minimum(arrivals, death_at)
    share = np.where(x > 0, rng.beta(np.maximum(x, 1), np.maximum(arrivals - x + 1, 1)), 0.0)
    recency = np.floor(share * big_t * 7.0) / 7.0
    nu = rng.gamma(GG["q"], 1.0 / GG["gamma"], n)
    spend = np.where(x > 0, rng.gamma(GG["p"] * np.maximum(x, 1), 1.0 / (nu * np.maximum(x, 1))), 0.0)
    return pd.DataFrame(
        {"frequency": x.astype(float), "recency": np.where(x > 0, recency, 0.0), "T": big_t, "monetary_value": spend}
    )


def timed(label: str, fn: Callable[[], Any], rows: list[tuple[str, str, float]], who: str) -> Any:
    start = time.perf_counter()
    out = fn()
    rows.append((label, who, time.perf_counter() - start))
    print(f"  {who:9s} {label:38s} {rows[-1][2]:8.2f} s", flush=True)
    return out


def sig3(values: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.3g}" for k, v in values.items())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--skip-lifetimes", action="store_true")
    parser.add_argument(
        "--pymc-python",
        default=os.environ.get("SHOPSEG_BENCH_PYMC_PYTHON", ""),
        help="Python of an environment with pymc-marketing (bench/requirements-pymc.txt); empty: not run.",
    )
    args = parser.parse_args()

    from shopseg.models import BetaGeoModel, GammaGammaModel, ParetoNBDModel, customer_lifetime_value

    data = simulate(args.customers)
    print(f"{args.customers:,} simulated customers, {int((data.frequency > 0).sum()):,} repeat buyers")
    rows: list[tuple[str, str, float]] = []
    bg = timed("BG/NBD fit", lambda: BetaGeoModel().fit(data), rows, "shopseg")
    print(f"            unique (x, t_x, T) rows: {bg.n_unique_rows_:,}; {sig3(bg.params_)}")
    pn = timed("Pareto/NBD fit", lambda: ParetoNBDModel().fit(data), rows, "shopseg")
    gg = timed("Gamma-Gamma fit", lambda: GammaGammaModel().fit(data), rows, "shopseg")
    clv = timed(
        "CLV, 12 monthly steps, every customer",
        lambda: customer_lifetime_value(bg, gg, data, horizon=12 * 4.345, step=4.345, discount_rate=0.01),
        rows,
        "shopseg",
    )
    timed("P(alive) + next order, every customer", lambda: bg.predict(data, horizon=52), rows, "shopseg")
    print(f"            BG/NBD {sig3(bg.params_)} | Pareto/NBD {sig3(pn.params_)} | GG {sig3(gg.params_)}")
    if args.skip_lifetimes:
        return
    import lifetimes

    f, r, t, m = (data[c].to_numpy() for c in ("frequency", "recency", "T", "monetary_value"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lbg = timed("BG/NBD fit", lambda: lifetimes.BetaGeoFitter().fit(f, r, t), rows, "lifetimes")
        repeat = f > 0
        lgg = timed(
            "Gamma-Gamma fit", lambda: lifetimes.GammaGammaFitter().fit(f[repeat], m[repeat]), rows, "lifetimes"
        )
        # CLV with *our* parameters in lifetimes' fitters, so the two CLVs must agree to rounding
        same_bg = lifetimes.BetaGeoFitter()
        same_bg.params_ = pd.Series(bg.params_)
        same_bg.predict = same_bg.conditional_expected_number_of_purchases_up_to_time
        same_gg = lifetimes.GammaGammaFitter()
        same_gg.params_ = pd.Series({"p": gg.params_["p"], "q": gg.params_["q"], "v": gg.params_["gamma"]})
        lclv = timed(
            "CLV, 12 monthly steps, every customer",
            lambda: same_gg.customer_lifetime_value(
                same_bg, pd.Series(f), pd.Series(r), pd.Series(t), pd.Series(m), time=12, discount_rate=0.01, freq="W"
            ),
            rows,
            "lifetimes",
        )
    lparams = {k: float(lbg.params_[k]) for k in BGNBD}
    same = all(f"{lparams[k]:.3g}" == f"{bg.params_[k]:.3g}" for k in BGNBD)
    print(f"            lifetimes BG/NBD {sig3(lparams)} -> identical to 3 s.f.: {same}")
    print(
        f"            lifetimes Gamma-Gamma p {lgg.params_['p']:.3g}, q {lgg.params_['q']:.3g}, gamma {lgg.params_['v']:.3g}"
    )
    print(
        f"            CLV (same parameters) max relative difference: {np.max(np.abs(clv.to_numpy() - lclv.to_numpy()) / np.maximum(lclv.to_numpy(), 1e-9)):.2e}"
    )
    pymc = run_pymc(args.pymc_python, data)
    if pymc:
        rows += [("BG/NBD fit", "pymc", pymc["bgnbd_seconds"]), ("Gamma-Gamma fit", "pymc", pymc["gg_seconds"])]
        print(
            f"            PyMC-Marketing {pymc['version']} MAP BG/NBD {sig3(pymc['bgnbd'])} | GG {sig3(pymc['gg'])}"
            " (MAP with the package's default priors, so not identical to maximum likelihood)"
        )
    ours = {label: s for label, who, s in rows if who == "shopseg"}
    theirs = {(label, who): s for label, who, s in rows if who != "shopseg"}
    print(
        "\n| step | shopseg s | lifetimes s | speed-up | PyMC-Marketing MAP s | speed-up |\n|---|---|---|---|---|---|"
    )
    for label, who, s in rows:
        if who == "lifetimes":
            cells = [f"{s:.2f}", f"{s / ours[label]:.0f}x"]
            pm = theirs.get((label, "pymc"))
            cells += [f"{pm:.2f}", f"{pm / ours[label]:.0f}x"] if pm else ["not run", "-"]
            print(f"| {label} | {ours[label]:.2f} | " + " | ".join(cells) + " |")


def run_pymc(python: str, data: pd.DataFrame) -> dict[str, Any] | None:
    """PyMC-Marketing's MAP fits on the same summary, in its own environment (see _pymc_map.py)."""
    if not python:
        print("            PyMC-Marketing: not run (no --pymc-python; `make bench` builds its environment)")
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "summary.parquet"
        data.to_parquet(path)
        script = Path(__file__).with_name("_pymc_map.py")
        proc = subprocess.run([python, str(script), str(path)], capture_output=True, text=True, timeout=3600)
    if proc.returncode != 0:
        print(f"            PyMC-Marketing: failed ({(proc.stderr.strip().splitlines() or ['?'])[-1]})")
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
