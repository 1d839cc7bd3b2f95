"""The simulator's training programme, and the estimators on it over 20 seeds (coverage, TWFE bias)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from kpilab.causal import training_effect
from kpilab.indicators import compute_panel
from kpilab.simulate import TABLE_NAMES, simulate, write_simulation


@pytest.fixture(scope="module")
def pair():
    return simulate(agents=24, months=3, seed=11), simulate(agents=24, months=3, seed=11, training=True)


def test_training_off_leaves_the_simulation_unchanged_and_on_moves_only_qa_scores(pair, tmp_path):
    off, on = pair
    assert off.training is None and "training" not in off.truth and "training" not in off.params.to_dict()
    for name in TABLE_NAMES:
        if name == "qa_reviews":
            pd.testing.assert_frame_equal(
                off.tables[name].drop(columns="score"), on.tables[name].drop(columns="score")
            )
        elif name == "agents":
            pd.testing.assert_frame_equal(off.tables[name], on.tables[name].drop(columns="trained_at"))
        else:
            pd.testing.assert_frame_equal(off.tables[name], on.tables[name])
    written = write_simulation(on, tmp_path / "sim")
    assert (tmp_path / "sim" / "training.parquet") in written
    man = json.loads((tmp_path / "sim" / "manifest.json").read_text())
    assert man["params"]["training"] is True and man["tables"]["training"] == len(on.training)


def test_training_programme_structure_and_truth(pair):
    off, on = pair
    tr, truth = on.training, on.truth["training"]
    assert list(tr.columns) == ["agent_id", "course", "trained_at", "rating"]
    assert tr["rating"].between(1, 5).all() and (tr["trained_at"].dt.day_of_week == 0).all()  # Mondays
    never = set(on.tables["agents"]["agent_id"]) - set(tr["agent_id"])
    assert never == set(truth["never_trained"]) and len(never) == 6  # a quarter of 24
    assert tr["trained_at"].nunique() == len(truth["cohorts"]) == 3
    # the realised effect: score differences between the two runs, only for trained agents after training
    qa_on = on.tables["qa_reviews"].merge(
        on.tables["contacts"][["contact_id", "arrived_at"]], on="contact_id"
    )
    diff = on.tables["qa_reviews"]["score"].to_numpy() - off.tables["qa_reviews"]["score"].to_numpy()
    trained = qa_on["agent_id"].map(tr.set_index("agent_id")["trained_at"])
    after = (qa_on["arrived_at"].dt.normalize() >= trained).to_numpy()
    assert np.all(diff[~after] == 0) and diff[after].mean() > 0
    # truth by week recomputed from the two runs: mean over trained agent-weeks of the cell's mean difference
    week = qa_on["arrived_at"].dt.normalize() - pd.to_timedelta(qa_on["arrived_at"].dt.day_of_week, unit="D")
    cells = pd.DataFrame(
        {
            "agent": qa_on["agent_id"],
            "week": week,
            "d": diff,
            "after": after,
            "g": trained - pd.to_timedelta(trained.dt.day_of_week, unit="D"),
        }
    )
    cells = cells[cells["g"].notna() & (cells["week"] >= cells["g"])].groupby(["agent", "week"])["d"].mean()
    assert truth["by_period"]["week"]["att"] == pytest.approx(cells.mean(), abs=1e-6)
    by_cohort = truth["by_period"]["week"]["by_cohort"]
    assert by_cohort["1"] > by_cohort["3"]  # earlier cohorts gain more, and the effect grows
    rel = truth["by_period"]["week"]["by_relative_period"]
    assert rel["0"] < rel["4"]


@pytest.mark.slow
def test_interval_covers_the_true_att_in_20_seeds_and_naive_twfe_is_biased():
    rows = []
    for seed in range(20):
        sim = simulate(agents=40, months=4, seed=seed, training=True)
        panel = compute_panel(sim.tables, period="week", indicators=["qa_score"]).panel
        res = training_effect(panel, sim.training, "qa_score")
        truth = sim.truth["training"]["by_period"]["week"]["att"]
        att = res.att.set_index("estimator")
        rows.append(
            {
                "truth": truth,
                **{f"{e}_{c}": att.loc[e, c] for e in att.index for c in ("estimate", "ci_low", "ci_high")},
            }
        )
    r = pd.DataFrame(rows)
    covered = (
        (r["callaway_santanna_ci_low"] <= r["truth"]) & (r["truth"] <= r["callaway_santanna_ci_high"])
    ).sum()
    assert covered >= 18, r
    covered_imp = ((r["imputation_ci_low"] <= r["truth"]) & (r["truth"] <= r["imputation_ci_high"])).sum()
    assert covered_imp >= 18, r
    err_cs = (r["callaway_santanna_estimate"] - r["truth"]).mean()
    err_twfe = (r["twfe_naive_estimate"] - r["truth"]).mean()
    # TWFE compares later cohorts with agents whose effect is still growing: biased towards 0
    assert err_twfe < -0.8 and abs(err_cs) < 0.8 and abs(err_twfe) > 2 * abs(err_cs), (err_cs, err_twfe)
    assert (r["twfe_naive_estimate"] < r["truth"]).sum() >= 16


def test_training_programme_with_messy_exports_keeps_the_training_table():
    clean = simulate(agents=12, months=2, seed=4, training=True)
    messy = simulate(agents=12, months=2, seed=4, training=True, realism="messy")
    pd.testing.assert_frame_equal(clean.training, messy.training)
    assert messy.truth["training"] == clean.truth["training"]
    assert "trained_at" in messy.tables["agents"].columns
