"""Time the robustness analysis (run by hand: python bench/bench_robustness.py [--draws N] [--units U]).

* Monte Carlo: 10,000 draws on 5,000 agents x 20 indicators (weights +-25 %, minmax/zscore,
  arithmetic/geometric, measurement noise); goal < 10 s on two cores, peak memory < 2 GB.
  (The R peer, COINr, takes 482 s for 1,000 draws of a comparable build.)
* Sobol': Saltelli N = 1,024 on 500 units (same inputs); goal < 5 s.

Prints draws per second and the peak resident memory of the process.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time

import numpy as np
import pandas as pd

from kpilab.robustness import Uncertainty, robustness

N_IND = 20


def panel(m: int, seed: int = 1) -> tuple[pd.DataFrame, dict]:
    """Long panel: half proportions (numerator/denominator), half means with a t interval."""
    rng = np.random.default_rng(seed)
    codes = [f"k{j:02d}" for j in range(N_IND)]
    n = rng.integers(5, 800, size=(m, N_IND)).astype(float)
    p = rng.beta(8, 3, size=(m, N_IND))
    k = rng.binomial(n.astype(int), p).astype(float)
    mean = 300 + 60 * rng.normal(size=(m, N_IND))
    half = 1.96 * 120 / np.sqrt(n)
    parts = []
    for j, c in enumerate(codes):
        prop = j % 2 == 0
        parts.append(pd.DataFrame({
            "unit_id": [f"A{u:05d}" for u in range(m)], "unit_level": "agent", "period": "2025-01-01",
            "indicator": c, "value": k[:, j] / n[:, j] if prop else mean[:, j],
            "numerator": k[:, j] if prop else mean[:, j] * n[:, j], "denominator": n[:, j], "n": n[:, j],
            "ci_low": np.nan if prop else mean[:, j] - half[:, j], "ci_high": np.nan if prop else mean[:, j] + half[:, j],
            "flag": ""}))
    fw = {"name": "bench", "pillars": [{"code": "p1", "name": "p1"}, {"code": "p2", "name": "p2"}],
          "indicators": [{"code": c, "name": c, "pillar": "p1" if j < 12 else "p2",
                          "direction": "lower" if j % 4 == 0 else "higher"} for j, c in enumerate(codes)],
          "normalise": {"method": "minmax"},
          "grades": [{"grade": "A", "min": 80}, {"grade": "B", "min": 50}, {"grade": "C", "min": 0}]}
    return pd.concat(parts, ignore_index=True), fw


def peak_rss_mb() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return r / 1024 if sys.platform != "darwin" else r / 1024**2


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--draws", type=int, default=10_000)
    ap.add_argument("--units", type=int, default=5_000)
    ap.add_argument("--sobol-units", type=int, default=500)
    ap.add_argument("--sobol", type=int, default=1024)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    w = pd.Series(np.random.default_rng(0).uniform(0.5, 1.5, N_IND), index=[f"k{j:02d}" for j in range(N_IND)])
    unc = Uncertainty(weights="uniform", weight_range=0.25, normalisations=["minmax", "zscore"],
                      aggregations=["arithmetic", "geometric"], exclude=0.0, noise=True)

    long, fw = panel(a.units)
    print(f"--- Monte Carlo: {a.draws:,} draws, {a.units:,} agents x {N_IND} indicators "
          f"(weights +-25 %, minmax/zscore, arithmetic/geometric, measurement noise), {a.threads} threads")
    t = time.perf_counter()
    res = robustness(long, fw, weights=w, uncertainty=unc, draws=a.draws, sobol=0, threads=a.threads,
                     progress=False)
    total = time.perf_counter() - t
    mc = res.params["seconds"]["monte_carlo"]
    print(f"total {total:.2f} s (draws {mc:.2f} s, setup and summaries {total - mc:.2f} s): "
          f"{a.draws / mc:,.0f} draws/s, {a.draws * a.units * N_IND / mc / 1e6:,.0f} M cells/s; "
          f"peak RSS {peak_rss_mb():,.0f} MB")
    print(f"cells: {res.params['cell_distributions']}")
    print(res.summary().split("\n")[1])

    long, fw = panel(a.sobol_units, seed=2)
    print(f"--- Sobol': Saltelli N = {a.sobol:,} on {a.sobol_units:,} agents x {N_IND} indicators")
    t = time.perf_counter()
    res = robustness(long, fw, weights=w, uncertainty=unc, draws=100, sobol=a.sobol, threads=a.threads,
                     progress=False)
    total = time.perf_counter() - t
    s = res.sensitivity
    print(f"Sobol' {res.params['seconds']['sobol']:.2f} s for {int(s['n_runs'].iloc[0]):,} runs of "
          f"{len(s)} inputs (whole call {total:.2f} s); peak RSS {peak_rss_mb():,.0f} MB")
    print(res.group_shares().round(3).to_string(index=False))


if __name__ == "__main__":
    main()
