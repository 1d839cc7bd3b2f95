"""Benchmark the training-effect estimators (run by hand: ``.venv/bin/python bench/bench_causal.py``).

A synthetic weekly panel of ``--agents`` x ``--weeks`` (three staggered cohorts, a quarter never
trained, an effect growing after training) is built directly as a long kpilab panel; the script
prints the time of each step of :func:`kpilab.causal.training_effect` (group-time ATTs, imputation,
naive TWFE) and of the whole call. The TWFE and imputation steps use dense agent and period dummies,
so their cost grows with agents x (agents + weeks).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from kpilab.causal import group_time_att, imputation_att, training_effect, twfe
from kpilab.panel import PANEL_COLUMNS


def make_panel(n_agents: int, n_weeks: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    weeks = pd.date_range("2025-01-06", periods=n_weeks, freq="7D")
    cohort = np.full(n_agents, -1)
    trained = rng.permutation(n_agents)[n_agents // 4:]
    cohort[trained] = np.array([n_weeks // 4, n_weeks // 2, 3 * n_weeks // 4])[np.arange(len(trained)) % 3]
    t = np.arange(n_weeks)
    since = t[None, :] - cohort[:, None]
    effect = np.where((cohort[:, None] >= 0) & (since >= 0), 3 * (1 - np.exp(-(since + 1) / 4)), 0.0)
    y = 80 + rng.normal(0, 5, (n_agents, 1)) + rng.normal(0, 1, (1, n_weeks)) + effect
    y += rng.normal(0, 2, y.shape)
    ids = np.array([f"A{i:05d}" for i in range(n_agents)])
    panel = pd.DataFrame({"unit_id": np.repeat(ids, n_weeks), "unit_level": "agent",
                          "period": np.tile(weeks.strftime("%Y-%m-%d"), n_agents), "indicator": "qa_score",
                          "value": y.ravel(), "numerator": np.nan, "denominator": np.nan, "n": 20.0,
                          "ci_low": np.nan, "ci_high": np.nan, "flag": ""})[PANEL_COLUMNS]
    training = pd.DataFrame({"agent_id": ids[cohort >= 0], "trained_at": weeks[cohort[cohort >= 0]]})
    return panel, training, y


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--agents", type=int, nargs="+", default=[60, 200, 500])
    ap.add_argument("--weeks", type=int, default=52)
    args = ap.parse_args()
    for n in args.agents:
        panel, training, y = make_panel(n, args.weeks)
        cohort = np.full(n, -1)
        idx = {a: i for i, a in enumerate(sorted(panel["unit_id"].unique()))}
        for a, d in zip(training["agent_id"], training["trained_at"], strict=True):
            cohort[idx[a]] = (d - pd.Timestamp("2025-01-06")).days // 7
        timings = {}
        steps = (("group_time", group_time_att, (y, cohort)), ("imputation", imputation_att, (y, cohort)),
                 ("twfe", twfe, (y, cohort)), ("training_effect", training_effect, (panel, training, "qa_score")))
        for name, fn, fargs in steps:
            t0 = time.perf_counter()
            fn(*fargs)
            timings[name] = time.perf_counter() - t0
        print(f"{n:>5} agents x {args.weeks} weeks: " + ", ".join(f"{k} {v:.2f} s" for k, v in timings.items()))


if __name__ == "__main__":
    main()
