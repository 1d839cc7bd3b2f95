"""Time the weighting methods on random matrices (run by hand: python bench/bench_weights.py)."""

from __future__ import annotations

import time
import warnings

import numpy as np
import pandas as pd

from kpilab.weights import (
    CRITICWeights,
    EntropyWeights,
    OptimisedWeights,
    PCAWeights,
    RegressionWeights,
    StdWeights,
    compare_weight_sets,
    constrain_weights,
)


def matrix(m: int, n: int, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    g = rng.normal(size=(m, 3))
    A = g @ rng.normal(size=(3, n)) + rng.normal(size=(m, n))
    X = pd.DataFrame(A, columns=[f"k{j:02d}" for j in range(n)])
    y = pd.Series(A[:, :5].sum(axis=1) + rng.normal(size=m))
    return X, y


def timed(label: str, fn, repeat: int = 3) -> None:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    print(f"{label:<48s} {best * 1000:9.1f} ms")


def main() -> None:
    warnings.simplefilter("ignore")
    for m, n in [(250, 20), (2_000, 20), (20_000, 20)]:
        X, y = matrix(m, n)
        print(f"--- {m} rows x {n} indicators")
        timed("entropy (minmax)", lambda X=X: EntropyWeights().fit(X))
        timed("critic", lambda X=X: CRITICWeights().fit(X))
        timed("std", lambda X=X: StdWeights().fit(X))
        timed("pca (handbook, varimax)", lambda X=X: PCAWeights().fit(X))
        timed("regression ols, no bootstrap", lambda X=X, y=y: RegressionWeights(n_boot=0).fit(X, y=y))
        timed("regression ols, 200 bootstrap", lambda X=X, y=y: RegressionWeights(n_boot=200).fit(X, y=y), 1)
        timed("optimised (equal influence)", lambda X=X: OptimisedWeights().fit(X), 1)
        w = CRITICWeights().fit(X).weights_
        timed("constrain (2 bounds)", lambda w=w: constrain_weights(w, "k00>=0.1, k01<=0.01"))
        sets = {"critic": w, "entropy": EntropyWeights().fit(X).weights_, "equal": w * 0 + 1 / n}
        timed("compare 3 sets", lambda X=X, sets=sets: compare_weight_sets(X, sets))


if __name__ == "__main__":
    main()
