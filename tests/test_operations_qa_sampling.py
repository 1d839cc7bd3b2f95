"""QA sampling plans: reproducible stratified draws whose Horvitz-Thompson weights give unbiased QA means."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kpilab.errors import DataError, ParameterError
from kpilab.operations.qa_sampling import qa_sample
from kpilab.simulate import simulate

DAY = "2025-01-20"


@pytest.fixture(scope="module")
def tables():
    sim = simulate(agents=40, months=1, seed=11)
    return sim.tables


@pytest.fixture(scope="module")
def scores(tables):
    """A simulated QA score for every contact of the day: agent and channel effects, noise, 4 % critical fails."""
    c = tables["contacts"]
    day = c[~c["abandoned"] & (c["answered_at"].dt.normalize() == pd.Timestamp(DAY))]
    rng = np.random.default_rng(123)
    agents = day["agent_id"].unique()
    eff = dict(zip(agents, rng.normal(0, 6, len(agents)), strict=True))
    ch = {"phone": 0.0, "chat": 3.0, "email": -4.0}
    y = 80 + day["agent_id"].map(eff) + day["channel"].map(ch) + rng.normal(0, 8, len(day))
    y = np.where(rng.random(len(day)) < 0.04, y * 0.5, y)
    return pd.Series(np.clip(y, 0, 100), index=day["contact_id"].to_numpy())


def test_weights_add_up_to_the_days_answered_contacts(tables, scores):
    for allocation in ("proportional", "neyman"):
        s = qa_sample(tables, DAY, rate=0.05, allocation=allocation, seed=1)
        assert s.sample["weight"].sum() == pytest.approx(len(scores))
        assert s.sample["contact_id"].is_unique and set(s.sample["contact_id"]) <= set(scores.index)
        assert (s.sample.groupby("agent_id").size() >= 2).all()  # the per-agent minimum
        assert s.params["population"] == len(scores)
        assert np.allclose(s.sample["weight"] * s.sample["inclusion_probability"], 1.0)


def test_same_seed_same_sample_other_seed_other_sample(tables):
    a = qa_sample(tables, DAY, seed=7).sample
    pd.testing.assert_frame_equal(a, qa_sample(tables, DAY, seed=7).sample)
    assert set(a["contact_id"]) != set(qa_sample(tables, DAY, seed=8).sample["contact_id"])


@pytest.mark.slow
@pytest.mark.parametrize("allocation", ["proportional", "neyman"])
def test_horvitz_thompson_mean_covers_the_population_mean_in_95_percent_of_200_seeds(tables, scores, allocation):
    truth = float(scores.mean())
    errors, covered = [], 0
    for seed in range(200):
        est = qa_sample(tables, DAY, rate=0.05, allocation=allocation, seed=seed).estimate(scores)
        errors.append(est["mean"] - truth)
        covered += est["ci_low"] <= truth <= est["ci_high"]
    errors = np.asarray(errors)
    print(f"HT {allocation}: coverage {covered / 200:.3f} over 200 seeds, mean error {errors.mean():+.3f} "
          f"(sd {errors.std():.3f}) points")
    assert 0.92 <= covered / 200 <= 0.98
    assert abs(errors.mean()) < 3 * errors.std() / np.sqrt(200)  # unbiased


def test_margins_tell_the_supervisor_what_the_rate_buys(tables):
    s = qa_sample(tables, DAY, rate=0.05, seed=0)
    m = s.margins()
    assert list(m.columns) == ["agent_id", "contacts_today", "reviews_today", "days_per_month", "reviews_per_month",
                               "score_sd", "margin_points"]
    assert (m["reviews_today"] >= 2).all() and m["margin_points"].between(0.5, 15).all()
    more = qa_sample(tables, DAY, rate=0.2, seed=0).margins()["margin_points"].median()
    assert more < m["margin_points"].median()
    assert "margin" in s.summary()


def test_small_agents_are_reviewed_in_full_and_said_so(tables):
    s = qa_sample(tables, DAY, rate=0.01, min_per_agent=50, seed=0)
    assert s.plan["note"].str.contains("census").any()
    per_agent = s.sample.groupby("agent_id").size()
    c = tables["contacts"]
    day = c[~c["abandoned"] & (c["answered_at"].dt.normalize() == pd.Timestamp(DAY))].groupby("agent_id").size()
    assert (per_agent == np.minimum(day.loc[per_agent.index], 50)).all()


@pytest.mark.parametrize("kwargs,error,match", [
    ({"rate": 0}, ParameterError, "rate"), ({"rate": 1.5}, ParameterError, "rate"),
    ({"strata": ["shoe_size"]}, ParameterError, "strata"), ({"allocation": "magic"}, ParameterError, "allocation"),
    ({"date": "2030-01-01"}, DataError, "No answered contacts on 2030-01-01"), ({"date": "soon"}, ParameterError, "date"),
])
def test_bad_input(tables, kwargs, error, match):
    args = {"date": DAY, **kwargs}
    with pytest.raises(error, match=match):
        qa_sample(tables, **args)
