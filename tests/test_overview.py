"""First-numbers overview: counts, intervals against independent computations, small-n flags."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from kpilab.overview import (
    agent_overview,
    channel_overview,
    data_inventory,
    ticket_overview,
    validation_summary,
)

T0 = pd.Timestamp("2025-03-03 09:00")


@pytest.fixture
def tables():
    n = 12
    contacts = pd.DataFrame({
        "contact_id": [f"c{i}" for i in range(n)],
        "channel": ["phone"] * 8 + ["chat"] * 4,
        "agent_id": ["a1"] * 10 + [None, None],
        "arrived_at": [T0 + pd.Timedelta(minutes=i) for i in range(n)],
        "talk_s": [100.0] * n,
        "abandoned": [False] * 10 + [True, True],
        "resolved": [True] * 8 + [False] * 2 + [None, None],
    })
    contacts["answered_at"] = contacts["arrived_at"] + pd.Timedelta(seconds=10)
    contacts.loc[contacts["abandoned"], "answered_at"] = pd.NaT
    contacts["ended_at"] = contacts["arrived_at"] + pd.Timedelta(seconds=200)
    csat = [5, 4, 4, 3, 5, 2]
    surveys = pd.DataFrame({"contact_id": [f"c{i}" for i in range(6)], "csat": np.array(csat, float),
                            "responded_at": [T0] * 6})
    agents = pd.DataFrame({"agent_id": ["a1"], "team": ["t1"]})
    return {"contacts": contacts, "surveys": surveys, "agents": agents}


def test_agent_overview_matches_independent_intervals(tables):
    out = agent_overview(tables, min_n=5).set_index("agent_id")
    row = out.loc["a1"]
    assert row["contacts"] == 10 and row["team"] == "t1"
    # Wilson 8/10 -> [0.490, 0.943] (kpi-standards.md, verified example)
    assert row["resolved_rate"] == pytest.approx(0.8)
    assert row["resolved_ci_low"] == pytest.approx(0.490, abs=5e-4)
    assert row["resolved_ci_high"] == pytest.approx(0.943, abs=5e-4)
    scores = np.array([5, 4, 4, 3, 5, 2], float)
    low, high = stats.t.interval(0.95, len(scores) - 1, loc=scores.mean(), scale=stats.sem(scores))
    assert row["csat_n"] == 6 and row["csat_mean"] == pytest.approx(scores.mean())
    assert row["csat_ci_low"] == pytest.approx(low) and row["csat_ci_high"] == pytest.approx(high)
    assert row["flag"] == ""
    assert agent_overview(tables, min_n=30).loc[0, "flag"] == "small_n"


def test_channel_overview(tables):
    ch = channel_overview(tables["contacts"]).set_index("channel")
    assert ch.loc["phone", "offered"] == 8 and ch.loc["phone", "answered"] == 8
    assert ch.loc["chat", "answered"] == 2 and ch.loc["chat", "answer_rate"] == pytest.approx(0.5)
    assert ch.loc["chat", "mean_wait_s"] == pytest.approx(10.0)


def test_inventory_and_problems(tables):
    inv = data_inventory(tables).set_index("table")
    assert inv.loc["contacts", "rows"] == 12 and inv.loc["contacts", "first"] == T0
    tables["contacts"].loc[0, "talk_s"] = -1.0
    probs = validation_summary(tables)
    bad = probs[probs["table"] == "contacts"]
    assert bad["reason"].tolist() == ["negative talk_s"] and bad["first_ids"].iloc[0] == "c0"


def test_ticket_overview_rates_and_intervals():
    t0 = pd.Timestamp("2025-01-06 09:00")
    tickets = pd.DataFrame({
        "ticket_id": [f"t{i}" for i in range(10)],
        "agent_id": ["a1"] * 10,
        "created_at": [t0] * 10,
        "first_reply_at": [t0 + pd.Timedelta(hours=h) for h in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10)],
        "solved_at": [t0 + pd.Timedelta(days=1)] * 8 + [pd.NaT] * 2,
        "reopens": [1, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    })
    row = ticket_overview(tickets).iloc[0]
    assert row["tickets"] == 10 and row["solved"] == 8 and row["solved_rate"] == pytest.approx(0.8)
    assert row["solved_ci_low"] == pytest.approx(0.490, abs=5e-4)  # Wilson 8/10, kpi-standards.md
    assert row["reopened_rate"] == pytest.approx(1 / 8)
    assert row["median_first_reply_h"] == pytest.approx(5.5)


def test_agent_csat_plot_names_few_agents_and_keeps_many_in_a_fixed_height():
    from kpilab.overview import plot_agent_csat

    rng = np.random.default_rng(0)

    def agents(n):
        mean = rng.uniform(3, 5, n)
        return pd.DataFrame({"agent_id": [f"A{i:04d}" for i in range(n)], "csat_mean": mean, "csat_ci_low": mean - 0.2,
                             "csat_ci_high": mean + 0.2, "flag": np.where(np.arange(n) % 7 == 0, "small_n", "")})

    few = plot_agent_csat(agents(20), target=4.0)
    assert len(few.axes[0].get_yticklabels()) == 20 and few.get_size_inches()[1] < 10
    many = plot_agent_csat(agents(2000), target=4.0)
    assert many.get_size_inches()[1] == 9 and len(many.axes[0].get_yticks()) == 0
    assert "2,000 agents" in many.axes[0].get_ylabel()
    # every agent is drawn: one point per agent across the two series
    assert sum(len(line.get_xdata()) for line in many.axes[0].lines if line.get_marker() == "o") == 2000
