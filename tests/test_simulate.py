"""Tests of the contact-centre simulator (kpilab.simulate) and ``kpilab simulate``."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.stats import spearmanr

from kpilab.cli import main
from kpilab.errors import ParameterError
from kpilab.framework import default_framework
from kpilab.schema import validate_table
from kpilab.simulate import TABLE_NAMES, simulate, write_simulation

SMALL = {"agents": 12, "months": 2, "seed": 7}
# covers the recall window (mid-October) and the 11.11 peak
MODERATE = {"agents": 40, "months": 3, "seed": 11, "start": "2025-09-01"}
ROLES = {"driver", "noise", "near_copy", "correlate", "context", "outcome"}


@pytest.fixture(scope="module")
def small():
    return simulate(**SMALL)


@pytest.fixture(scope="module")
def moderate():
    return simulate(**MODERATE)


@pytest.fixture(scope="module")
def contacts(moderate):
    """Contacts with wait, day, and a 7-day repeat flag (next contact of the same customer)."""
    c = moderate.tables["contacts"].copy()
    c["wait"] = (c["answered_at"].fillna(c["ended_at"]) - c["arrived_at"]).dt.total_seconds()
    c["day"] = c["arrived_at"].dt.floor("D")
    c["hour"] = c["arrived_at"].dt.hour
    c["pool"] = c["queue"].str.rsplit("_", n=1).str[0]
    c = c.sort_values(["customer_id", "arrived_at"], kind="stable")
    nxt = c.groupby("customer_id")["arrived_at"].shift(-1)
    c["repeat7"] = (nxt - c["arrived_at"]) <= pd.Timedelta(days=7)
    return c.sort_index()


@pytest.fixture(scope="module")
def agent_stats(moderate, contacts):
    """Per-agent indicators computed independently from the tables, joined to the truth."""
    a = contacts[~contacts["abandoned"]]
    s = moderate.tables["surveys"].merge(a[["contact_id", "agent_id"]], on="contact_id")
    q = moderate.tables["qa_reviews"]
    g = a.groupby("agent_id")
    out = pd.DataFrame({
        "n": g.size(),
        "fcr": 1 - g["repeat7"].mean(),
        "retention": g["retained"].mean().astype(float),
        "hold_rate": g["hold_s"].apply(lambda x: (x > 0).mean()),
        "acw": g["acw_s"].mean(),
        "csat": s.groupby("agent_id")["csat"].mean(),
        "qa": q.groupby("agent_id")["score"].mean(),
    })
    truth = pd.DataFrame(moderate.truth["agents"]).T
    return out.join(truth[["skill", "resolve", "empathy", "diligence", "speed", "hold_habit", "acw_habit"]]
                    .astype(float))


@pytest.fixture(scope="module")
def small_written(small, tmp_path_factory):
    out = tmp_path_factory.mktemp("sim") / "a"
    write_simulation(small, out)
    return out


# --- determinism -------------------------------------------------------------------


def test_same_seed_identical_tables(small):
    again = simulate(**SMALL)
    assert again.truth == small.truth
    for name in TABLE_NAMES:
        pd.testing.assert_frame_equal(again.tables[name], small.tables[name])


def test_same_seed_byte_identical_files(small, small_written, tmp_path):
    out2 = tmp_path / "b"
    write_simulation(simulate(**SMALL), out2)
    files = sorted(p.name for p in small_written.iterdir())
    assert files == sorted(p.name for p in out2.iterdir())
    assert {f"{t}.parquet" for t in TABLE_NAMES} | {"truth.json", "manifest.json"} == set(files)
    for name in files:
        assert (small_written / name).read_bytes() == (out2 / name).read_bytes(), name


def test_different_seed_differs(small):
    other = simulate(**{**SMALL, "seed": SMALL["seed"] + 1})
    assert not other.tables["contacts"]["talk_s"].equals(small.tables["contacts"]["talk_s"])
    assert other.truth["agents"] != small.truth["agents"]


def test_parquet_round_trip(small, small_written):
    for name in TABLE_NAMES:
        back = pd.read_parquet(small_written / f"{name}.parquet")
        pd.testing.assert_frame_equal(back, small.tables[name], check_dtype=False)
        validate_table(back, name, strict=True)


def test_manifest_records_params_counts_hashes(small, small_written):
    import hashlib

    man = json.loads((small_written / "manifest.json").read_text())
    assert man["params"] == {**SMALL, "start": "2025-01-01", "realism": "clean"}
    assert man["tables"] == {k: len(v) for k, v in small.tables.items()}
    for name, info in man["files"].items():
        assert hashlib.sha256((small_written / name).read_bytes()).hexdigest() == info["sha256"]


# --- schema and truth --------------------------------------------------------------


@pytest.mark.parametrize("name", TABLE_NAMES)
def test_tables_pass_strict_schema(small, name):
    report = validate_table(small.tables[name], name, strict=True)
    assert report.ok and report.n_rows == len(small.tables[name]) > 0


def test_timestamps_all_naive(small):
    for name, df in small.tables.items():
        for col in df.columns:
            if pd.api.types.is_datetime64_any_dtype(df[col]):
                assert getattr(df[col].dtype, "tz", None) is None, (name, col)


def test_truth_covers_framework(small):
    codes = default_framework().codes
    ind = small.truth["indicators"]
    assert set(ind) == set(codes)
    assert all(v["role"] in ROLES for v in ind.values())
    drivers = {c: v for c, v in ind.items() if v["role"] == "driver"}
    assert set(drivers) == {"fcr", "csat", "qa_score"}
    assert {v["trait"] for v in drivers.values()} == {"resolve", "empathy", "diligence"}
    imp = sorted(v["importance"] for v in drivers.values())
    assert imp[0] < imp[1] < imp[2]
    for c, v in ind.items():
        if v["role"] == "near_copy":
            assert v["copy_of"] in codes and v["copy_of"] != c
    assert ind["retention_rate"]["role"] == "outcome"
    assert {ind[c]["role"] for c in ("service_level", "abandon_rate", "asa")} == {"context"}
    agents = small.tables["agents"]["agent_id"]
    assert set(small.truth["agents"]) == set(agents)


def test_contacts_consistency(small):
    c = small.tables["contacts"]
    ab = c["abandoned"]
    assert c.loc[ab, "agent_id"].isna().all() and c.loc[ab, "answered_at"].isna().all()
    assert c.loc[ab, "retained"].isna().all() and c.loc[~ab, "retained"].notna().all()
    assert not c.loc[c["channel"] == "email", "abandoned"].any()
    assert set(c["channel"]) == {"phone", "chat", "email"}
    assert c["customer_id"].notna().all()
    assert c["arrived_at"].is_monotonic_increasing


# --- parameters and CLI ------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [{"agents": 1}, {"agents": 2.5}, {"months": 0}, {"months": 37}, {"seed": -1}, {"start": "2025-13-01"},
     {"start": "yesterday-ish"}, {"realism": "dirty"}, {"realism": None}],
)
def test_bad_parameters_raise(kwargs):
    with pytest.raises(ParameterError):
        simulate(**kwargs)


def test_cli_writes_and_reuses(tmp_path, capsys):
    out = tmp_path / "demo"
    args = ["simulate", "--out", str(out), "--agents", "4", "--months", "1", "--seed", "3"]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "contacts.parquet" in text and "elapsed" in text
    assert {f"{t}.parquet" for t in TABLE_NAMES} <= {p.name for p in out.iterdir()}
    before = (out / "contacts.parquet").stat().st_mtime_ns
    assert main([*args, "--reuse"]) == 0
    assert "reused" in capsys.readouterr().out
    assert (out / "contacts.parquet").stat().st_mtime_ns == before
    # a tampered file is not reused
    (out / "agents.parquet").write_bytes(b"junk")
    assert main([*args, "--reuse"]) == 0
    assert "reused" not in capsys.readouterr().out
    assert pd.read_parquet(out / "agents.parquet").shape[0] == 4
    # other parameters: rewritten
    assert main([*args[:-1], "4", "--reuse"]) == 0
    assert "reused" not in capsys.readouterr().out
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp folders left


@pytest.mark.parametrize("bad", [["--agents", "1"], ["--months", "40"], ["--seed", "-2"], ["--start", "nope"],
                                 ["--realism", "raw"]])
def test_cli_bad_parameters_exit_2(tmp_path, capsys, bad):
    assert main(["simulate", "--out", str(tmp_path / "x"), *bad]) == 2
    err = capsys.readouterr().err
    assert "error" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x").exists()


# --- planted effects -----------------------------------------------------------------


def _rho(x, y):
    return spearmanr(x, y, nan_policy="omit").statistic


def test_traits_drive_agent_csat_fcr_qa(agent_stats):
    assert _rho(agent_stats["csat"], agent_stats["empathy"]) > 0.5
    assert _rho(agent_stats["fcr"], agent_stats["resolve"]) > 0.5
    assert _rho(agent_stats["qa"], agent_stats["diligence"]) > 0.5
    assert _rho(agent_stats["hold_rate"], agent_stats["hold_habit"]) > 0.5


def test_retention_follows_drivers_not_noise(agent_stats):
    for driver in ("fcr", "csat", "qa"):
        assert _rho(agent_stats["retention"], agent_stats[driver]) > 0.4, driver
    for noise in ("hold_rate", "acw", "hold_habit", "acw_habit"):
        assert abs(_rho(agent_stats["retention"], agent_stats[noise])) < 0.45, noise
    # given the planted traits, the noise habits add nothing (|t| < 3), the traits do (t > 3)
    cols = ["resolve", "empathy", "diligence", "hold_habit", "acw_habit"]
    X = np.column_stack([np.ones(len(agent_stats)), agent_stats[cols].to_numpy()])
    y = agent_stats["retention"].to_numpy()
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    resid = y - X @ beta
    se = np.sqrt(np.diag(np.linalg.inv(X.T @ X)) * (resid @ resid) / (len(y) - X.shape[1]))
    t = dict(zip(cols, (beta / se)[1:], strict=True))
    assert t["resolve"] > 3 and t["empathy"] > 3 and t["diligence"] > 2
    assert abs(t["hold_habit"]) < 3 and abs(t["acw_habit"]) < 3
    # the planted order of importance: resolve > diligence in their marginal association
    assert _rho(agent_stats["retention"], agent_stats["resolve"]) > _rho(
        agent_stats["retention"], agent_stats["diligence"])


def test_base_retention_near_085(moderate):
    r = moderate.tables["contacts"]["retained"].dropna().astype(float).mean()
    assert 0.78 < r < 0.9


def test_waits_rise_with_load(contacts):
    live = contacts[contacts["channel"] != "email"]
    cell = live.groupby(["pool", "day", "hour"])
    stats = pd.DataFrame({
        "arrivals": cell.size(),
        "staffed": cell["agent_id"].nunique(),  # agents seen answering in that hour
        "wait": live[~live["abandoned"]].groupby(["pool", "day", "hour"])["wait"].mean(),
        "abandon": cell["abandoned"].mean(),
    }).dropna()
    stats = stats[stats["staffed"] >= 2]
    stats["load"] = stats["arrivals"] / stats["staffed"]
    q = pd.qcut(stats["load"], 4, labels=False)
    by_q = stats.groupby(q)["wait"].mean()
    assert by_q.iloc[-1] > 1.5 * by_q.iloc[0]
    assert _rho(stats["load"], stats["wait"]) > 0.2
    # abandonment rises with the wait of the hour
    assert _rho(stats["wait"], stats["abandon"]) > 0.4


def test_abandonment_shape(contacts):
    live = contacts[contacts["channel"] != "email"]
    ab = live[live["abandoned"]]
    assert 0.03 < live["abandoned"].mean() < 0.3
    assert (ab["wait"] < 5).mean() > 0.03  # short abandons exist
    assert (ab["ended_at"] - ab["arrived_at"]).dt.total_seconds().gt(0).all()
    email = contacts[contacts["channel"] == "email"]
    assert not email["abandoned"].any()
    assert email["wait"].median() > 5 * 60  # e-mail waits minutes to hours
    assert live.loc[~live["abandoned"], "wait"].median() < 60


def test_recall_window_more_volume_lower_csat(moderate, contacts):
    ex = moderate.tables["exemptions"]
    assert list(ex[["scope", "reason", "action"]].iloc[0]) == ["all", "product recall", "relax_target"]
    start, end = ex["start"].iloc[0], ex["end"].iloc[0]
    assert (end - start) == pd.Timedelta(days=14)
    in_recall = (contacts["arrived_at"] >= start) & (contacts["arrived_at"] < end)
    holiday = contacts["day"] >= pd.Timestamp("2025-11-01")
    daily = contacts.groupby("day").size()
    recall_days = daily[(daily.index >= start) & (daily.index < end)]
    normal_days = daily[((daily.index < start) | (daily.index >= end)) & (daily.index < pd.Timestamp("2025-11-01"))]
    assert recall_days.mean() > 1.2 * normal_days.mean()
    s = moderate.tables["surveys"].merge(contacts[["contact_id"]].assign(recall=in_recall, holiday=holiday),
                                         on="contact_id")
    normal = s[~s["recall"] & ~s["holiday"]]
    assert s.loc[s["recall"], "csat"].mean() < normal["csat"].mean() - 0.1
    assert moderate.truth["events"]["recall"]["start"] == str(start.date())


def test_holiday_peak_more_volume(moderate, contacts):
    (peak,) = moderate.truth["events"]["holiday_peaks"]
    daily = contacts.groupby("day").size()
    p0, p1 = pd.Timestamp(peak["start"]), pd.Timestamp(peak["end"])
    in_peak = daily[(daily.index >= p0) & (daily.index <= p1)]
    before = daily[(daily.index >= pd.Timestamp("2025-09-01")) & (daily.index < pd.Timestamp("2025-10-01"))]
    assert in_peak.mean() > 1.25 * before.mean()


def test_weekday_and_hour_profile(contacts):
    live = contacts[contacts["channel"] != "email"]
    assert live["hour"].between(8, 21).all()
    by_dow = live.groupby(live["day"].dt.day_of_week).size()
    assert by_dow.loc[[5, 6]].mean() < by_dow.loc[[0, 1, 2, 3, 4]].mean()
    by_hour = live.groupby("hour").size()
    assert by_hour.loc[8] < by_hour.loc[12] and by_hour.loc[21] < by_hour.loc[19]


def test_surveys_minority_response_depends_on_experience(contacts, moderate):
    a = contacts[~contacts["abandoned"]]
    responded = a["contact_id"].isin(moderate.tables["surveys"]["contact_id"])
    assert 0.1 < responded.mean() < 0.25
    by_res = responded.groupby(a["resolved"].astype(bool)).mean()
    assert by_res.loc[False] < 0.85 * by_res.loc[True]
    s = moderate.tables["surveys"]
    assert s["csat"].between(1, 5).all() and s["nps"].dropna().between(0, 10).all()
    assert s["ces"].dropna().between(1, 7).all()


def test_qa_covers_five_percent(contacts, moderate):
    q = moderate.tables["qa_reviews"]
    a = contacts[~contacts["abandoned"]]
    assert 0.04 < q["contact_id"].nunique() / len(a) < 0.06
    merged = q.merge(a[["contact_id", "agent_id", "ended_at"]], on="contact_id", suffixes=("", "_c"))
    assert len(merged) == len(q)
    assert (merged["agent_id"] == merged["agent_id_c"]).all()
    assert (merged["reviewed_at"] > merged["ended_at"]).all()
    assert 0 < q["critical_fail"].mean() < 0.1


def test_unresolved_contacts_bring_customers_back(contacts):
    a = contacts[~contacts["abandoned"]]
    rate = a.groupby(a["resolved"].astype(bool))["repeat7"].mean()
    assert rate.loc[False] > rate.loc[True] + 0.25
    # repeats keep the topic
    c = contacts.sort_values(["customer_id", "arrived_at"], kind="stable")
    nxt_topic = c.groupby("customer_id")["topic"].shift(-1)
    unres = c[~c["abandoned"] & ~c["resolved"].fillna(True).astype(bool) & c["repeat7"]]
    assert (nxt_topic.loc[unres.index] == unres["topic"]).mean() > 0.8


def test_agent_flag_overstates_resolution(moderate, contacts):
    a = contacts[~contacts["abandoned"]]
    flagged = a["resolved"].astype(float).mean()
    assert flagged > (1 - a["repeat7"].mean()) + 0.05
    assert moderate.truth["summary"]["agent_flag_resolution_rate"] > moderate.truth["summary"][
        "true_resolution_rate"]


def test_handle_times_by_channel(contacts):
    a = contacts[~contacts["abandoned"]]
    med = a.groupby("channel")["talk_s"].median()
    assert med["phone"] < med["chat"] < med["email"]
    assert 200 < med["phone"] < 450
    assert (a["hold_s"] >= 0).all() and (a["acw_s"] > 0).all()


def test_tickets_one_per_email(contacts, moderate):
    t = moderate.tables["tickets"]
    email = contacts[(contacts["channel"] == "email") & ~contacts["abandoned"]]
    assert len(t) == len(email)
    m = t.merge(email[["contact_id", "resolved", "agent_id"]], on="contact_id", suffixes=("", "_c"))
    assert (m["agent_id"] == m["agent_id_c"]).all()
    reopened = (m["reopens"] > 0).groupby(m["resolved"].astype(bool)).mean()
    assert reopened.loc[False] > reopened.loc[True]
    assert (t["first_reply_at"] >= t["created_at"]).all()
    assert t["solved_at"].isna().any() and t["solved_at"].notna().mean() > 0.8


def test_volume_per_agent_day(moderate, contacts):
    a = contacts[~contacts["abandoned"]]
    per_day = a.groupby(["agent_id", "day"]).size()
    truth = pd.DataFrame(moderate.truth["agents"]).T
    ft = truth.index[truth["full_time"].astype(bool)]
    assert 22 < per_day.loc[per_day.index.get_level_values(0).isin(ft)].mean() < 45


def test_agents_table_structure(moderate):
    ag = moderate.tables["agents"]
    assert set(ag["role"]) == {"front_line", "technical_support"}
    assert ag["site"].nunique() == 2
    assert ag.groupby("team").size().between(5, 15).all()
    assert ag["hire_date"].nunique() > len(ag) // 2
    assert (ag["hire_date"] > pd.Timestamp(MODERATE["start"]) - pd.Timedelta(days=120)).any()  # new hires


def test_truth_traits_correlate_through_g(moderate):
    t = pd.DataFrame(moderate.truth["agents"]).T
    big = pd.DataFrame(simulate(agents=400, months=1, seed=3).truth["agents"]).T
    r = big[["skill", "resolve", "empathy", "diligence", "speed", "hold_habit"]].astype(float).corr()
    assert 0.3 < r.loc["skill", "resolve"] < 0.7  # sqrt(0.25) = 0.5
    assert abs(r.loc["skill", "hold_habit"]) < 0.15
    assert set(t["role"]) <= {"front_line", "technical_support"}


def test_repeats_often_return_to_previous_agent(contacts):
    c = contacts.sort_values(["customer_id", "arrived_at"], kind="stable")
    prev_agent = c.groupby("customer_id")["agent_id"].shift(1)
    gap = c["arrived_at"] - c.groupby("customer_id")["arrived_at"].shift(1)
    follow = c[~c["abandoned"] & prev_agent.notna() & (gap <= pd.Timedelta(days=7))]
    same = (follow["agent_id"] == prev_agent.loc[follow.index]).mean()
    assert same > 0.3  # random routing would give about 1/team pool size (< 0.05)


def test_parameter_error_names_parameter():
    with pytest.raises(ParameterError, match=r"'agents'.*integer in \[2, inf\].*Got 1"):
        simulate(agents=1)
    with pytest.raises(ParameterError, match=r"'start'.*YYYY-MM-DD"):
        simulate(start="2025-01-01 10:00")


def test_failed_write_leaves_no_half_folder(small, tmp_path, monkeypatch):
    import kpilab.simulate as sim_mod

    calls = {"n": 0}
    real = sim_mod._write_parquet

    def flaky(df, path):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("disk full")
        real(df, path)

    monkeypatch.setattr(sim_mod, "_write_parquet", flaky)
    with pytest.raises(OSError):
        write_simulation(small, tmp_path / "out")
    assert list(tmp_path.iterdir()) == []  # neither the folder nor a temp folder


def test_write_refuses_a_file_as_folder(small, tmp_path):
    target = tmp_path / "file"
    target.write_text("x")
    with pytest.raises(ParameterError, match="not a folder"):
        write_simulation(small, target)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(agents=st.integers(2, 14), months=st.integers(1, 2), seed=st.integers(0, 2**32),
       start=st.sampled_from(["2024-02-29", "2025-01-01", "2025-06-15", "2026-11-01"]))
def test_property_any_small_config_is_valid_and_consistent(agents, months, seed, start):
    sim = simulate(agents=agents, months=months, seed=seed, start=start)
    for name in TABLE_NAMES:
        validate_table(sim.tables[name], name, strict=True)
    c = sim.tables["contacts"]
    answered = set(c.loc[~c["abandoned"], "contact_id"])
    assert set(c["agent_id"].dropna()) <= set(sim.tables["agents"]["agent_id"])
    assert set(sim.tables["surveys"]["contact_id"]) <= answered
    assert set(sim.tables["qa_reviews"]["contact_id"]) <= answered
    assert c["arrived_at"].min() >= pd.Timestamp(start)
    assert c["arrived_at"].max() < pd.Timestamp(start) + pd.DateOffset(months=months)
    assert len(sim.tables["agents"]) == agents
