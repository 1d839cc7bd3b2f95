"""Row accounting, bad input and invariants of the panel engine (simulator and dirty data)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kpilab.errors import DataError, SchemaError
from kpilab.indicators import check_accounting, compute_panel
from kpilab.schema import validate_table
from kpilab.simulate import simulate

T0 = pd.Timestamp("2025-03-03 09:00")


@pytest.fixture(scope="module")
def sim_tables():
    return simulate(agents=12, months=2, seed=7).tables


def clean_contacts(n: int = 8) -> pd.DataFrame:
    arrived = [T0 + pd.Timedelta(minutes=7 * i) for i in range(n)]
    return pd.DataFrame({
        "contact_id": [f"c{i}" for i in range(n)],
        "channel": ["phone"] * n,
        "queue": ["q"] * n,
        "customer_id": [f"u{i % 3}" for i in range(n)],
        "agent_id": ["a1" if i % 2 else "a2" for i in range(n)],
        "arrived_at": arrived,
        "answered_at": [a + pd.Timedelta(seconds=15) for a in arrived],
        "ended_at": [a + pd.Timedelta(seconds=315) for a in arrived],
        "talk_s": [300.0] * n,
        "hold_s": [0.0] * n,
        "acw_s": [20.0] * n,
        "abandoned": [False] * n,
        "resolved": [True] * n,
    })


def dirty_tables() -> dict[str, pd.DataFrame]:
    c = clean_contacts(12)
    c.loc[1, "talk_s"] = -5.0                                              # negative duration
    c.loc[2, "answered_at"] = c.loc[2, "arrived_at"] - pd.Timedelta(seconds=30)  # backwards time
    c.loc[3, "contact_id"] = "c0"                                          # duplicate id
    c.loc[4, "agent_id"] = None                                            # answered without agent
    c.loc[5, "arrived_at"] = pd.NaT                                        # missing required value
    c.loc[6, ["abandoned", "answered_at", "agent_id"]] = [True, pd.NaT, None]  # a legal abandon
    c.loc[7, ["abandoned", "answered_at", "agent_id", "ended_at"]] = [True, pd.NaT, None, pd.NaT]  # wait unknown: legal
    s = pd.DataFrame({"contact_id": ["c0", "c1", "c7", "zz", "c8", "c8"],
                      "csat": [5.0, 4.0, 9.0, 3.0, 4.0, 2.0],
                      "responded_at": [T0] * 6})
    # c1 excluded (negative talk) -> survey of an excluded contact; c7 csat 9 out of range; zz unknown; c8 twice
    t = pd.DataFrame({"ticket_id": ["t1", "t2", "t2"], "agent_id": ["a1", "a2", "a2"],
                      "created_at": [T0, T0, T0],
                      "first_reply_at": [T0 + pd.Timedelta(minutes=5), T0 - pd.Timedelta(minutes=5), T0],
                      "solved_at": [T0 + pd.Timedelta(hours=3), pd.NaT, pd.NaT]})
    a = pd.DataFrame({"agent_id": ["a1", "a2", "a2"], "team": ["t", "t", "u"]})
    q = pd.DataFrame({"contact_id": ["c2", "c9", "c9"], "agent_id": ["a1", "a2", "a2"], "score": [80.0, 70.0, 70.0],
                      "reviewed_at": [T0] * 3})                           # c9's review exported twice
    return {"contacts": c, "surveys": s, "tickets": t, "agents": a, "qa_reviews": q}


def reasons(acc: pd.DataFrame, table: str) -> dict[str, int]:
    sub = acc[(acc["table"] == table) & (acc["kind"] == "excluded")]
    return dict(zip(sub["reason"], sub["rows"], strict=True))


# --------------------------------------------------------------------------- identity
def test_accounting_identity_on_simulator_data(sim_tables):
    r = compute_panel(sim_tables, period="week", unit=["agent", "team", "centre"])
    acc = r.accounting
    assert check_accounting(acc)
    for table, df in sim_tables.items():
        first = acc[acc["table"] == table].iloc[0]
        assert first["rows_read"] == len(df) == first["rows_used"] + first["rows_excluded"]


def test_accounting_identity_and_reasons_on_dirty_data():
    tables = dirty_tables()
    r = compute_panel(tables, unit=["agent", "centre"])
    acc = r.accounting
    assert check_accounting(acc)
    for table, df in tables.items():
        first = acc[acc["table"] == table].iloc[0]
        assert first["rows_read"] == len(df)
    c = reasons(acc, "contacts")
    assert c == {"negative talk_s": 1, "answered_at before arrived_at": 1, "duplicate id": 1,
                 "answered without agent": 1, "missing arrived_at": 1}
    s = reasons(acc, "surveys")
    assert s == {"survey of an excluded contact": 1, "csat above 5": 1, "survey for an unknown contact": 1,
                 "duplicate id": 1}
    assert reasons(acc, "tickets") == {"first_reply_at before created_at": 1, "duplicate id": 1}
    assert reasons(acc, "agents") == {"duplicate id": 1}
    # nothing excluded leaks into the panel: 12 contacts - 5 excluded - 2 abandons = 5 answered
    aht = r.panel[(r.panel["indicator"] == "aht") & (r.panel["unit_id"] == "centre")]
    assert aht["n"].item() == 5


def test_trusted_ids_skip_the_duplicate_check_and_say_so(sim_tables):
    checked = compute_panel(sim_tables, indicators=["aht", "csat", "fcr_agent"])
    trusted = compute_panel(sim_tables, indicators=["aht", "csat", "fcr_agent"], check_duplicate_ids=False)
    pd.testing.assert_frame_equal(checked.panel, trusted.panel)
    assert any("duplicate ids were not checked" in n for n in trusted.notices)
    assert trusted.params["check_duplicate_ids"] is False


def test_trusted_ids_that_repeat_fail_loudly():
    # c0 appears twice in contacts: its survey would count twice, so the accounting refuses
    with pytest.raises(DataError, match="ids are not unique after all. Rerun with check_duplicate_ids=True"):
        compute_panel(dirty_tables(), unit=["agent", "centre"], check_duplicate_ids=False)


def test_schema_reasons_agree_with_validate_table():
    tables = dirty_tables()
    r = compute_panel(tables, unit="centre")
    for table, df in tables.items():
        issues = validate_table(df, table, strict=False).issues
        expected = issues["reason"].value_counts().to_dict()
        got = {k: v for k, v in reasons(r.accounting, table).items()
               if k not in ("survey of an excluded contact", "survey for an unknown contact")}
        assert got == expected, table
    assert "missing ended_at" not in reasons(r.accounting, "contacts")  # an abandon may lack its end
    assert reasons(r.accounting, "qa_reviews") == {"duplicate row": 1}


def test_outside_periods_are_accounted():
    c = clean_contacts(10)
    c.loc[:4, "arrived_at"] = c.loc[:4, "arrived_at"] - pd.Timedelta(days=40)
    c.loc[:4, "answered_at"] = c.loc[:4, "arrived_at"] + pd.Timedelta(seconds=15)
    c.loc[:4, "ended_at"] = c.loc[:4, "arrived_at"] + pd.Timedelta(seconds=315)
    r = compute_panel({"contacts": c}, unit="centre", start="2025-03-01", end="2025-03-31", indicators=["aht"])
    assert reasons(r.accounting, "contacts") == {"outside the periods": 5}
    assert r.panel["n"].sum() == 5


# --------------------------------------------------------------------------- bad input
def test_missing_column_is_a_schema_error():
    with pytest.raises(SchemaError, match="missing required column.*'talk_s'"):
        compute_panel({"contacts": clean_contacts().drop(columns=["talk_s"])})


def test_wrong_type_is_a_schema_error():
    c = clean_contacts()
    c["talk_s"] = ["long"] * len(c)
    with pytest.raises(SchemaError, match=r"'talk_s'"):  # the message names the column (wording: kpilab.ingest)
        compute_panel({"contacts": c})


def test_mixed_naive_and_aware_timestamps_is_a_schema_error():
    c = clean_contacts()
    c["arrived_at"] = c["arrived_at"].dt.tz_localize("UTC")
    with pytest.raises(SchemaError, match="mixes timezone-aware"):
        compute_panel({"contacts": c})
    c = clean_contacts().astype({"arrived_at": object})
    c.loc[0, "arrived_at"] = pd.Timestamp("2025-03-03 09:00", tz="UTC")
    with pytest.raises(SchemaError, match="arrived_at"):
        compute_panel({"contacts": c})


def test_zero_row_table_is_a_notice_and_all_empty_is_an_error():
    empty_surveys = pd.DataFrame({"contact_id": pd.Series([], dtype=str), "csat": pd.Series([], dtype=float),
                                  "responded_at": pd.Series([], dtype="datetime64[ns]")})
    r = compute_panel({"contacts": clean_contacts(), "surveys": empty_surveys}, unit="centre")
    assert any("zero rows" in n for n in r.notices)
    assert reasons(r.accounting, "surveys") == {}
    assert "csat" not in set(r.panel["indicator"])
    with pytest.raises(DataError, match="No panel rows"):
        compute_panel({"contacts": clean_contacts().iloc[:0]}, unit="centre")


def test_empty_period_window_is_a_clear_error():
    with pytest.raises(DataError, match="No panel rows.*start/end"):
        compute_panel({"contacts": clean_contacts()}, start="2030-01-01", end="2030-01-31")
    with pytest.raises(Exception, match="before start"):
        compute_panel({"contacts": clean_contacts()}, start="2025-03-31", end="2025-03-01")


def test_bad_data_argument_and_unknown_table():
    with pytest.raises(DataError, match="does not exist"):
        compute_panel("/no/such/folder")
    with pytest.raises(SchemaError, match="Unknown table"):
        compute_panel({"calls": clean_contacts()})
    with pytest.raises(DataError, match="folder of canonical tables"):
        compute_panel(42)


def test_csv_and_parquet_folders_give_the_same_panel(tmp_path):
    tables = dirty_tables()
    for name, df in tables.items():
        df.to_csv(tmp_path / f"{name}.csv", index=False)
    pq_dir = tmp_path / "pq"
    pq_dir.mkdir()
    for name, df in tables.items():
        df.to_parquet(pq_dir / f"{name}.parquet", index=False)
    a = compute_panel(tmp_path, unit=["agent", "centre"])
    b = compute_panel(pq_dir, unit=["agent", "centre"])
    c = compute_panel(tables, unit=["agent", "centre"])
    pd.testing.assert_frame_equal(a.panel, b.panel)
    pd.testing.assert_frame_equal(b.panel, c.panel)
    pd.testing.assert_frame_equal(a.accounting, c.accounting)


# --------------------------------------------------------------------------- invariants
def test_rollup_consistency_on_simulator_data(sim_tables):
    r = compute_panel(sim_tables, period="month", unit=["agent", "team", "centre"])
    p = r.panel
    agent_team = sim_tables["agents"].set_index("agent_id")["team"]
    additive = ["aht", "fcr_agent", "hold_rate", "acw_time", "csat", "csat_top2", "qa_score", "fcr",
                "survey_response_rate", "retention_rate"]
    ag = p[(p["unit_level"] == "agent") & p["indicator"].isin(additive)].copy()
    ag["team"] = ag["unit_id"].map(agent_team)
    team_sum = ag.groupby(["team", "period", "indicator"])[["numerator", "denominator"]].sum()
    tm = p[(p["unit_level"] == "team") & p["indicator"].isin(additive)].set_index(["unit_id", "period", "indicator"])
    tm.index.names = ["team", "period", "indicator"]
    joined = tm[["numerator", "denominator"]].join(team_sum.add_suffix("_agents"))
    np.testing.assert_allclose(joined["numerator"], joined["numerator_agents"], rtol=1e-9)
    np.testing.assert_allclose(joined["denominator"], joined["denominator_agents"], rtol=1e-9)
    # centre = sum of teams, for everything counted (all agents have a team)
    for ind in additive + ["contacts_per_day"]:
        t = p[(p["unit_level"] == "team") & (p["indicator"] == ind)].groupby("period")[["numerator",
                                                                                         "denominator"]].sum()
        c = p[(p["unit_level"] == "centre") & (p["indicator"] == ind)].set_index("period")[["numerator",
                                                                                             "denominator"]]
        np.testing.assert_allclose(c.loc[t.index].to_numpy(), t.to_numpy(), rtol=1e-9, err_msg=ind)
    # queue indicators: centre denominator >= sum of team denominators (abandons without a team)
    sl_t = p[(p["unit_level"] == "team") & (p["indicator"] == "service_level")]["denominator"].sum()
    sl_c = p[(p["unit_level"] == "centre") & (p["indicator"] == "service_level")]["denominator"].sum()
    assert sl_c >= sl_t


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1))
def test_row_order_invariance(sim_tables, seed):
    rng = np.random.default_rng(seed)
    small = {k: v for k, v in sim_tables.items()}
    small["contacts"] = sim_tables["contacts"].iloc[:4000]
    base = compute_panel(small, period="week", unit=["agent", "centre"])
    shuffled = {k: v.sample(frac=1.0, random_state=rng.integers(1 << 31)) for k, v in small.items()}
    other = compute_panel(shuffled, period="week", unit=["agent", "centre"])
    pd.testing.assert_frame_equal(base.panel, other.panel, check_exact=False, rtol=1e-9)
    pd.testing.assert_frame_equal(base.accounting, other.accounting)
