"""Triangulation of resolution sources: contact-level sources, kappa, and recovery of planted gaming agents."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score

from kpilab.errors import DataError, ParameterError
from kpilab.operations.triangulation import kappa_table, resolution_sources, triangulate
from kpilab.simulate import simulate


def _tiny():
    t = pd.Timestamp("2025-03-01 09:00")
    contacts = pd.DataFrame({
        "contact_id": ["c1", "c2", "c3", "c4", "c5"],
        "channel": "phone", "queue": "q",
        "customer_id": ["u1", "u1", "u2", "u4", None],
        "agent_id": ["a1", "a1", "a2", "a2", None],
        "arrived_at": [t, t + pd.Timedelta(days=3), t, t + pd.Timedelta(days=20), t + pd.Timedelta(days=21)],
        "talk_s": [60.0, 60.0, 60.0, 60.0, np.nan],
        "abandoned": [False, False, False, False, True],
        "resolved": pd.array([True, True, False, True, pd.NA], dtype="boolean"),
    })
    contacts["answered_at"] = contacts["arrived_at"] + pd.Timedelta(seconds=10)
    contacts.loc[4, "answered_at"] = pd.NaT
    contacts["ended_at"] = contacts["arrived_at"] + pd.Timedelta(seconds=100)
    surveys = pd.DataFrame({"contact_id": ["c1", "c3"], "csat": [2.0, 4.0],
                            "resolved": pd.array([False, False], dtype="boolean"),
                            "responded_at": [t + pd.Timedelta(hours=2)] * 2})
    qa = pd.DataFrame({"contact_id": ["c1", "c1", "c3"], "agent_id": ["a1", "a1", "a2"], "score": [90.0, 50.0, 70.0],
                       "critical_fail": [False, False, False],
                       "reviewed_at": [t + pd.Timedelta(days=1), t + pd.Timedelta(days=2), t + pd.Timedelta(days=1)]})
    return {"contacts": contacts, "surveys": surveys, "qa_reviews": qa}


def test_contact_level_sources_by_hand():
    s = resolution_sources(_tiny(), window_days=7, qa_pass=80).set_index("contact_id")
    assert list(s.index) == ["c1", "c3", "c2", "c4"]  # answered only, by arrival
    assert s.loc["c1", "repeat_contact"] == False  # noqa: E712  - u1 came back after 3 days
    assert s.loc["c2", "repeat_contact"] == True  # noqa: E712  - u1 did not come back within 7 days
    assert s.loc["c3", "repeat_contact"] == True  # noqa: E712  - u2 never came back, window observed
    assert pd.isna(s.loc["c4", "repeat_contact"])  # day 20 + 7 runs past the data (last arrival day 21)
    assert s.loc["c1", "customer"] == False and s.loc["c1", "qa"] == True  # noqa: E712  - earliest review
    assert s.loc["c3", "qa"] == False and pd.isna(s.loc["c2", "customer"])  # noqa: E712


def test_kappa_matches_sklearn_and_interval_covers_it():
    rng = np.random.default_rng(0)
    x = rng.random(500) < 0.7
    y = np.where(rng.random(500) < 0.8, x, rng.random(500) < 0.5)
    df = pd.DataFrame({"agent_id": "a", **{s: pd.array(x, dtype="boolean") for s in ("repeat_contact", "qa")},
                       "agent_flag": pd.array(y, dtype="boolean"), "customer": pd.array(y, dtype="boolean")})
    k = kappa_table(df, by=None).set_index(["source_x", "source_y"])
    row = k.loc[("repeat_contact", "agent_flag")]
    assert row["kappa"] == pytest.approx(cohen_kappa_score(x, y), abs=1e-12)
    assert row["kappa_low"] < row["kappa"] < row["kappa_high"]
    assert row["agreement"] == pytest.approx(np.mean(x == y))
    assert k.loc[("repeat_contact", "qa"), "kappa"] == pytest.approx(1.0)


@pytest.mark.slow
def test_flagged_agents_recover_planted_gaming_agents():
    """Pooled over 8 simulated centres (60 agents, 3 months, 3 gaming agents each)."""
    tp = fp = fn = 0
    fp_leniency = []
    for seed in range(1, 9):
        sim = simulate(agents=60, months=3, seed=seed)
        res = triangulate(sim.tables)
        planted, flagged = set(sim.truth["gaming"]["agents"]), set(res.flagged)
        assert len(planted) == 3
        tp, fp, fn = tp + len(planted & flagged), fp + len(flagged - planted), fn + len(planted - flagged)
        fp_leniency += [sim.truth["agents"][a]["flag_leniency"] for a in flagged - planted]
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    print(f"triangulation: precision {precision:.2f}, recall {recall:.2f} (tp {tp}, fp {fp}, fn {fn}); "
          f"flag_leniency of false positives {np.round(fp_leniency, 2).tolist()}")
    assert precision >= 0.7 and recall >= 0.75
    # the false positives are the simulator's most lenient honest flaggers, not random agents
    assert all(v > 1.0 for v in fp_leniency)


def test_triangulation_result_and_bad_input():
    sim = simulate(agents=12, months=1, seed=5)
    res = triangulate(sim.tables, min_n=10)
    assert list(res.to_frame().columns)[:3] == ["unit_id", "n_contacts", "rate_agent_flag"]
    assert "Flagged" in res.summary() and res.params["claimed"] == "agent_flag"
    centre = res.agreement[res.agreement["unit_id"] == "centre"]
    assert len(centre) == 6 and (centre["n"] > 0).all()
    with pytest.raises(DataError, match="references"):
        triangulate(sim.tables, references=("agent_flag",))
    with pytest.raises(ParameterError, match="threshold"):
        triangulate(sim.tables, threshold=2)
    with pytest.raises(DataError, match="contacts"):
        triangulate({"surveys": sim.tables["surveys"]})
