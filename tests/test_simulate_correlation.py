"""The simulator's planted correlation structure (truth.json ``correlation_structure``) holds in its data.

Each seed: ``simulate(60 agents, 12 months)`` -> ``compute_panel(period="month")`` ->
``pool_periods`` -> Pearson r across the 60 agents. Related measures of one construct
(different methods) must agree at the stated 0.5-0.85, only the planted near-copies
exceed 0.9, noise stays away from the outcome and the drivers stay close to it.
With 60 agents the sampling SD of one r near 0.7 is about 0.07, so ranges are checked
on the mean over three seeds (with a small tolerance) and the hard 0.9 line per seed.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd
import pytest

from kpilab.framework import default_framework
from kpilab.indicators import compute_panel
from kpilab.panel import pool_periods
from kpilab.simulate import simulate

SEEDS = (1, 2, 3)
TOL_LOW, TOL_HIGH = 0.07, 0.05  # tolerance on the three-seed mean of a pair's |r|


@pytest.fixture(scope="module")
def structure():
    return simulate(agents=12, months=1, seed=0).truth["correlation_structure"]


@pytest.fixture(scope="module")
def pooled_r():
    """{seed: Pearson correlation matrix of the pooled agent values} at 60 agents x 12 months."""
    out = {}
    for seed in SEEDS:
        sim = simulate(agents=60, months=12, seed=seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            panel = compute_panel(sim.tables, period="month", unit="agent").panel
        out[seed] = pool_periods(panel).values.corr()
    return out


def _copy_pairs(structure) -> set[frozenset]:
    return {frozenset((c["indicator"], c["copy_of"])) for c in structure["near_copies"]}


def test_structure_is_documented_and_consistent(structure):
    sim = simulate(agents=12, months=1, seed=0)
    ind = sim.truth["indicators"]
    codes = set(default_framework().codes)
    grouped = [c for g in structure["groups"] for c in g["indicators"]]
    assert len(grouped) == len(set(grouped)) and set(grouped) <= codes
    for g in structure["groups"]:
        lo, hi = g["r_range"]
        assert 0 < lo < hi < structure["near_copies"][0]["r_min"]
        assert {ind[c]["trait"] for c in g["indicators"]} == {g["construct"]}
    copies = {c["indicator"]: c["copy_of"] for c in structure["near_copies"]}
    assert copies == {c: v["copy_of"] for c, v in ind.items() if v["role"] == "near_copy"}
    assert copies == {"csat_top2": "csat", "resolved_within_24h": "time_to_resolution", "cost_per_contact": "aht"}
    assert set(structure["noise"]["indicators"]) == {c for c, v in ind.items() if v["role"] == "noise"}
    # every method effect moves one framework indicator, which names it, and each agent has a value
    for name, spec in structure["method_effects"].items():
        assert ind[spec["indicator"]]["method_effect"] == name
        assert all(name in a for a in sim.truth["agents"].values())


@pytest.mark.slow
def test_related_measures_agree_within_the_stated_range(structure, pooled_r):
    copies = _copy_pairs(structure)
    for g in structure["groups"]:
        lo, hi = g["r_range"]
        pairs = [p for p in itertools.combinations(g["indicators"], 2) if frozenset(p) not in copies]
        means = pd.Series({p: np.mean([abs(pooled_r[s].loc[p]) for s in SEEDS]) for p in pairs})
        bad = means[(means < lo - TOL_LOW) | (means > hi + TOL_HIGH)]
        assert bad.empty, (g["name"], bad.round(3).to_dict())
        assert lo <= means.median() <= hi, (g["name"], means.round(3).to_dict())


@pytest.mark.slow
def test_only_near_copies_exceed_090(structure, pooled_r):
    copies = _copy_pairs(structure)
    outcome = "retention_rate"
    for seed, r in pooled_r.items():
        cols = [c for c in r.columns if c != outcome]
        high = {frozenset(p) for p in itertools.combinations(cols, 2) if abs(r.loc[p]) > 0.9}
        assert high == copies, (seed, sorted(map(sorted, high ^ copies)))


@pytest.mark.slow
def test_groups_are_distinct(structure, pooled_r):
    limit = structure["between_groups_max_r"]
    groups = [g["indicators"] for g in structure["groups"]]
    for seed, r in pooled_r.items():
        for ga, gb in itertools.combinations(groups, 2):
            block = r.loc[ga, gb].abs()
            assert block.to_numpy().max() < limit + TOL_HIGH, (seed, block.stack().idxmax())


@pytest.mark.slow
def test_noise_is_unrelated_and_drivers_related_to_the_outcome(structure, pooled_r):
    noise, drivers = structure["noise"], structure["drivers"]
    out = pd.DataFrame({s: r["retention_rate"] for s, r in pooled_r.items()})
    assert (out.loc[noise["indicators"]].abs().mean(axis=1) < noise["max_abs_r_outcome"]).all(), out.round(2)
    assert (out.loc[noise["indicators"]].abs() < noise["max_abs_r_outcome"] + 0.1).all().all(), out.round(2)
    assert (out.loc[drivers["indicators"]] > drivers["min_r_outcome"]).all().all(), out.round(2)
