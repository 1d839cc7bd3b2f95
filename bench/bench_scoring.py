"""Time scoring (run by hand: python bench/bench_scoring.py).

* normalise + aggregate: 20,000 units x 20 indicators in two pillars (goal: < 0.2 s);
* grade uncertainty: 1,000 draws for 5,000 agents x 20 indicators (goal: < 2 s on two cores);
* the whole ``score()`` on a synthetic long panel of 5,000 agents x 20 indicators, 1,000 draws.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from kpilab.scoring import aggregate, normalise
from kpilab.scoring.aggregate import _structure, parse_methods
from kpilab.scoring.normalise import apply_normalisation, fit_normalisation, linear_form, resolve_specs
from kpilab.scoring.uncertainty import cell_distributions, draw_scores

N_IND = 20


def wide(m: int, seed: int = 0) -> tuple[pd.DataFrame, dict[str, str], dict[str, str], pd.Series]:
    rng = np.random.default_rng(seed)
    codes = [f"k{j:02d}" for j in range(N_IND)]
    X = pd.DataFrame(rng.normal(size=(m, N_IND)), columns=codes)
    X.iloc[rng.random((m, N_IND)) < 0.02] = np.nan
    directions = {c: ("lower" if j % 4 == 0 else "higher") for j, c in enumerate(codes)}
    pillars = {c: ("p1" if j < 12 else "p2") for j, c in enumerate(codes)}
    w = pd.Series(rng.uniform(0.5, 1.5, N_IND), index=codes)
    return X, directions, pillars, w / w.sum()


def counts(m: int, seed: int = 1) -> dict[str, np.ndarray]:
    """Half proportions (numerator/denominator), half means with a t interval, like a real panel."""
    rng = np.random.default_rng(seed)
    n = rng.integers(5, 800, size=(m, N_IND)).astype(float)
    p = rng.beta(8, 3, size=(m, N_IND))
    k = rng.binomial(n.astype(int), p).astype(float)
    prop = np.arange(N_IND) % 2 == 0
    mean = 300 + 60 * rng.normal(size=(m, N_IND))
    half = 1.96 * 120 / np.sqrt(n)
    value = np.where(prop, k / n, mean)
    return {"value": value, "numerator": np.where(prop, k, mean * n), "denominator": np.where(prop, n, n), "n": n,
            "ci_low": np.where(prop, np.nan, mean - half), "ci_high": np.where(prop, np.nan, mean + half)}


def timed(label: str, fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    print(f"{label:<64s} {best * 1000:9.1f} ms")
    return best


def main() -> None:
    X, directions, pillars, w = wide(20_000)
    print(f"--- normalise + aggregate: {len(X):,} units x {N_IND} indicators, 2 pillars")
    for method in ("minmax", "zscore", "percentile"):
        timed(f"normalise {method} + aggregate arithmetic",
              lambda m=method: aggregate(normalise(X, m, directions=directions), w, pillars))
    timed("normalise minmax + aggregate geometric ([1, 100])",
          lambda: aggregate(normalise(X, "minmax", directions=directions, lower=1), w, pillars, method="geometric"))
    timed("normalise minmax + aggregate median",
          lambda: aggregate(normalise(X, "minmax", directions=directions), w, pillars, method="median"))

    m = 5_000
    c = counts(m)
    print(f"--- uncertainty: 1,000 draws, {m:,} agents x {N_IND} indicators (half proportions, half means)")
    codes = [f"k{j:02d}" for j in range(N_IND)]
    dirs = {k: ("lower" if j % 4 == 0 else "higher") for j, k in enumerate(codes)}
    specs = resolve_specs(codes, "minmax", directions=dirs)
    fitted = {k: fit_normalisation(c["value"][:, j], specs[k]) for j, k in enumerate(codes)}
    pil = {k: pillars[k] for k in codes}
    plist = ["p1", "p2"]
    st = _structure(~np.isnan(c["value"]), np.tile(w.to_numpy(), (m, 1)),
                    np.array([plist.index(pil[k]) for k in codes]), plist, 2 / 3)
    methods = parse_methods("arithmetic")

    def normalise_column(j: int, v: np.ndarray) -> np.ndarray:
        return apply_normalisation(v, specs[codes[j]], fitted[codes[j]])

    dist = cell_distributions(c["value"], c["numerator"], c["denominator"], c["n"], c["ci_low"], c["ci_high"])
    linear = [linear_form(specs[k], fitted[k]) for k in codes]
    print(f"cells by kind: {dist.counts()}")
    timed("cell distributions (beta / normal)", lambda: cell_distributions(
        c["value"], c["numerator"], c["denominator"], c["n"], c["ci_low"], c["ci_high"]))
    timed("1,000 draws: sample, normalise (fixed bounds), aggregate",
          lambda: draw_scores(dist, normalise_column, st, methods, linear=linear, draws=1000, seed=0, progress=False), repeat=2)

    from kpilab.scoring import score

    long = []
    for j, k in enumerate(codes):
        long.append(pd.DataFrame({"unit_id": [f"A{u:05d}" for u in range(m)], "unit_level": "agent",
                                  "period": "2025-01-01", "indicator": k, "value": c["value"][:, j],
                                  "numerator": c["numerator"][:, j], "denominator": c["denominator"][:, j],
                                  "n": c["n"][:, j], "ci_low": c["ci_low"][:, j], "ci_high": c["ci_high"][:, j],
                                  "flag": ""}))
    panel = pd.concat(long, ignore_index=True)
    timed("score(): long panel -> scores, scorecard, 1,000 draws", lambda: score(
        panel, indicators=codes, weights=w, overrides={k: {"method": "minmax"} for k in codes},
        roles=None, draws=1000, progress=False, framework={
            "name": "bench", "pillars": [{"code": "p1", "name": "p1"}, {"code": "p2", "name": "p2"}],
            "indicators": [{"code": k, "name": k, "pillar": pillars[k], "direction": dirs[k]} for k in codes],
            "grades": [{"grade": "A", "min": 80}, {"grade": "B", "min": 50}, {"grade": "C", "min": 0}]}), repeat=1)


if __name__ == "__main__":
    main()
