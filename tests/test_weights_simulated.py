"""Regression weights recover the simulator's planted drivers (slow: 20 simulated centres)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from kpilab.weights import calibrate_weights

simulate_mod = pytest.importorskip("kpilab.simulate")
indicators_mod = pytest.importorskip("kpilab.indicators")

NEEDED = ["csat", "fcr", "qa_score", "first_response_time", "acw_time", "hold_rate", "contacts_per_day",
          "retention_rate"]


@pytest.mark.slow
def test_regression_weights_rank_planted_drivers_over_20_seeds():
    rows = []
    per_seed_rho = []
    for seed in range(20):
        sim = simulate_mod.simulate(agents=50, months=5, seed=seed)
        truth = sim.truth["indicators"]
        panel = indicators_mod.compute_panel(sim.tables, period="month", indicators=NEEDED).panel
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = calibrate_weights(panel, "regression", outcome="retention_rate", n_boot=0)
        drivers = [c for c, v in truth.items() if v["role"] == "driver"]
        noise = [c for c, v in truth.items() if v["role"] == "noise" and c in res.weights.index]
        assert set(drivers) <= set(res.weights.index) and len(noise) >= 3
        w = res.weights
        # every driver outweighs every planted noise indicator, and noise gets near-zero weight
        assert w[drivers].min() > w[noise].max(), (seed, w.round(3).to_dict())
        assert w[noise].max() < 0.1 and w[noise].sum() < 0.2, (seed, w[noise].round(3).to_dict())
        assert res.diagnostics["r_squared"] > 0.5
        imp = pd.Series({c: truth[c]["importance"] for c in drivers})
        per_seed_rho.append(stats.spearmanr(imp, w[imp.index]).statistic)
        rows.append(w[imp.index].rename(seed))
    mean_w = pd.concat(rows, axis=1).mean(axis=1)
    # the drivers' weights, averaged over the 20 seeds, rank them exactly by their true importance
    assert stats.spearmanr(imp[mean_w.index], mean_w).statistic >= 0.9, mean_w.round(3).to_dict()
    # and per seed: the mean Spearman correlation over the 20 centres is at least 0.9
    assert np.mean(per_seed_rho) >= 0.9, per_seed_rho
