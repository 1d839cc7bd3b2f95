"""Benchmark the indicator health review (run by hand: ``.venv/bin/python bench/bench_health.py``).

Target (issue 4): 5,000 units x 60 indicators with 2,000 bootstrap resamples for the
intervals in under 10 s. Prints the time of the vectorised bootstrap correlations alone
and of the whole ``health_review`` (quality, redundancy, VIF, coherence, remove-one...).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from kpilab.health import health_review, outcome_correlations


def make_data(n_units: int, n_ind: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=n_units)
    cols = {}
    for j in range(n_ind):
        load = (j % 6) / 6
        x = load * latent + rng.normal(size=n_units)
        if j % 10 == 3:
            x = np.exp(x)  # skewed
        x[rng.random(n_units) < 0.05] = np.nan  # some missing
        cols[f"ind{j:02d}"] = x
    df = pd.DataFrame(cols)
    df.insert(0, "unit_id", [f"u{i:05d}" for i in range(n_units)])
    df["outcome"] = 0.5 * latent + rng.normal(size=n_units)
    return df


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--units", type=int, default=5000)
    ap.add_argument("--indicators", type=int, default=60)
    ap.add_argument("--n-boot", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    df = make_data(args.units, args.indicators)
    X, y = df.filter(like="ind"), df["outcome"]
    dirs = {c: "higher" for c in df.columns if c != "unit_id"}
    print(f"{args.units} units x {args.indicators} indicators, {args.n_boot} bootstrap resamples")
    for label, fn in (
        ("outcome_correlations (spearman, bootstrap)",
         lambda: outcome_correlations(X, y, method="spearman", ci="bootstrap", n_boot=args.n_boot)),
        ("outcome_correlations (pearson, bootstrap)",
         lambda: outcome_correlations(X, y, method="pearson", ci="bootstrap", n_boot=args.n_boot)),
        ("health_review (spearman, bootstrap, all checks)",
         lambda: health_review(df, "outcome", directions=dirs, ci="bootstrap", n_boot=args.n_boot)),
        ("health_review (spearman, fisher, all checks)",
         lambda: health_review(df, "outcome", directions=dirs)),
    ):
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        print(f"{label:52s} best {min(times):6.2f} s   median {float(np.median(times)):6.2f} s")


if __name__ == "__main__":
    main()
