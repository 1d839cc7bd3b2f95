"""The quarterly review's panel at scale (issue 12): speed changes leave every result as it was.

* agent-days of a per_day indicator counted by a bit mask of the days in each agent's period
  (:meth:`PerDay.days_by_agent`) equal ``COUNT(DISTINCT (agent_id, day))`` and an independent pandas
  count, for every period length, at agent, team and centre level;
* the repeat-contact gaps computed on the valid rows' keys alone and joined back by row number give
  the panel of the wide window (pandas reference in tests/test_engine_scale.py) — here with rows
  excluded by a row rule, whose gaps are no longer computed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kpilab.indicators import check_accounting, compute_panel
from kpilab.indicators import engine as E
from kpilab.indicators.kinds import PerDay

T0 = pd.Timestamp("2025-01-01 00:00")


def _data(n: int = 4000, seed: int = 3) -> dict[str, pd.DataFrame]:
    """Contacts of 6 agents (one unknown to the agents table) over 100 days, some abandoned."""
    rng = np.random.default_rng(seed)
    # spread over 100 days, hours 0-23: days at period edges (month and quarter ends) occur
    arrived = T0 + pd.to_timedelta(rng.integers(0, 100 * 24 * 60, n) * 60, unit="s")
    ab = rng.random(n) < 0.15
    agents = np.array(["a1", "a2", "a3", "a4", "a5", "zz"])
    # a sparse agent: a5 works few days, so agent-days differ from calendar days
    who = agents[np.minimum(rng.integers(0, 6, n), np.where(rng.random(n) < 0.9, 3, 5))]
    talk = rng.gamma(3, 60, n)
    talk[rng.random(n) < 0.03] = -1.0  # 'negative talk_s': excluded rows
    wait = pd.to_timedelta(rng.integers(1, 60, n), unit="s")
    contacts = pd.DataFrame({
        "contact_id": [f"c{i:05d}" for i in rng.permutation(n)],
        "channel": rng.choice(["phone", "chat"], n),
        "queue": "q1",
        "customer_id": rng.integers(0, 400, n).astype(str),
        "agent_id": np.where(ab, None, who),
        "arrived_at": arrived,
        "answered_at": np.where(ab, pd.NaT, arrived + wait),
        "ended_at": arrived + wait + pd.to_timedelta(np.where(ab, 0, np.abs(talk)), unit="s"),
        "talk_s": np.where(ab, np.nan, talk),
        "hold_s": 0.0,
        "acw_s": 0.0,
        "abandoned": ab,
    })
    contacts["answered_at"] = pd.to_datetime(contacts["answered_at"])
    agents_t = pd.DataFrame({"agent_id": ["a1", "a2", "a3", "a4", "a5"], "team": ["t1", "t1", "t2", "t2", "t2"]})
    return {"contacts": contacts, "agents": agents_t}


def _independent_days(df: pd.DataFrame, period: str) -> pd.DataFrame:
    """(period, agent_id) -> answered contacts (ref_n), distinct days (ref_days), in pandas (valid rows)."""
    ok = df[~df["abandoned"] & df["agent_id"].notna() & ~(df["talk_s"] < 0)].copy()
    day = ok["arrived_at"].dt.normalize()
    ok["day"] = day
    if period == "day":
        ok["period"] = day
    elif period == "week":
        ok["period"] = day - pd.to_timedelta(day.dt.day_of_week, unit="D")
    elif period == "month":
        ok["period"] = day.dt.to_period("M").dt.start_time
    else:
        ok["period"] = day.dt.to_period("Q").dt.start_time
    ok["period"] = ok["period"].dt.strftime("%Y-%m-%d")
    return ok.groupby(["period", "agent_id"]).agg(ref_n=("day", "size"), ref_days=("day", "nunique")).reset_index()


@pytest.mark.parametrize("period", ["day", "week", "month", "quarter"])
def test_agent_days_bit_mask_equals_distinct_and_pandas(period: str, monkeypatch: pytest.MonkeyPatch) -> None:
    data = _data()
    units = ["agent", "team", "centre"]
    calls = []
    real = PerDay.days_by_agent

    def spy(code: str, w: str, start: str) -> str:
        calls.append(code)
        return real(code, w, start)

    monkeypatch.setattr(PerDay, "days_by_agent", staticmethod(spy))
    new = compute_panel(data, period=period, unit=units, indicators=["contacts_per_day", "aht"])
    assert calls == ["contacts_per_day"]  # the bit mask was used
    monkeypatch.setattr(E, "_BITMASK_PERIODS", ())
    old = compute_panel(data, period=period, unit=units, indicators=["contacts_per_day", "aht"])
    assert len(calls) == 1  # ... and not here: COUNT(DISTINCT ...)
    pd.testing.assert_frame_equal(new.panel, old.panel)
    pd.testing.assert_frame_equal(new.accounting, old.accounting)
    assert new.notices == old.notices
    assert check_accounting(new.accounting)

    ref = _independent_days(data["contacts"], period)
    p = new.panel[new.panel["indicator"] == "contacts_per_day"]
    agent = p[p["unit_level"] == "agent"].merge(ref, left_on=["period", "unit_id"], right_on=["period", "agent_id"],
                                                how="outer", validate="1:1")
    assert agent["numerator"].notna().all() and agent["ref_n"].notna().all()
    np.testing.assert_array_equal(agent["numerator"].to_numpy(float), agent["ref_n"].to_numpy(float))
    np.testing.assert_array_equal(agent["denominator"].to_numpy(float), agent["ref_days"].to_numpy(float))
    # team and centre: sums of the agents' days (an agent is in one team; zz has no team)
    teams = ref.merge(data["agents"], on="agent_id").groupby(["period", "team"])["ref_days"].sum()
    got_t = p[p["unit_level"] == "team"].set_index(["period", "unit_id"])["denominator"]
    pd.testing.assert_series_equal(got_t.sort_index().astype(float), teams.rename_axis(["period", "unit_id"])
                                   .sort_index().astype(float), check_names=False)
    centre = ref.groupby("period")["ref_days"].sum()
    got_c = p[p["unit_level"] == "centre"].set_index("period")["denominator"]
    pd.testing.assert_series_equal(got_c.sort_index().astype(float), centre.sort_index().astype(float),
                                   check_names=False)


def test_days_by_agent_is_not_used_without_the_agent_level(monkeypatch: pytest.MonkeyPatch) -> None:
    """Team or centre cells hold several agents: their agent-days stay a DISTINCT count (independent check)."""
    data = _data(1500, seed=9)
    calls = []
    monkeypatch.setattr(PerDay, "days_by_agent", staticmethod(lambda *a: calls.append(a) or ""))
    res = compute_panel(data, period="month", unit=["team", "centre"], indicators=["contacts_per_day"])
    assert calls == []
    ref = _independent_days(data["contacts"], "month")
    got = res.panel[res.panel["unit_level"] == "centre"].set_index("period")["denominator"]
    pd.testing.assert_series_equal(got.sort_index().astype(float),
                                   ref.groupby("period")["ref_days"].sum().sort_index().astype(float), check_names=False)


def test_gap_table_leaves_excluded_rows_out_of_the_window() -> None:
    """Rows with a row reason (negative talk_s) are not in any customer's chain of contacts: the repeat
    contact of the valid rows is the previous valid one, as with the window over (customer, valid) before."""
    t = pd.Timestamp("2025-03-03 09:00")
    days = [0, 10, 12, 40, 41]
    df = pd.DataFrame({
        "contact_id": ["k0", "k1", "k2", "k3", "k4"],
        "channel": "phone", "queue": "q1",
        "customer_id": ["c1", "c1", "c1", "c2", "c2"],
        "agent_id": "a1",
        "arrived_at": [t + pd.Timedelta(days=d) for d in days],
        "talk_s": [60.0, -1.0, 60.0, 60.0, 60.0],  # k1 is excluded ('negative talk_s')
        "hold_s": 0.0, "acw_s": 0.0, "abandoned": False,
    })
    df["answered_at"] = df["arrived_at"] + pd.Timedelta(seconds=5)
    df["ended_at"] = df["answered_at"] + pd.Timedelta(seconds=60)
    res = compute_panel({"contacts": df}, period="quarter", unit="centre", indicators=["repeat_contact_rate"])
    row = res.panel[["numerator", "denominator"]].sum()  # two quarters (March, April)
    # k0: window before it not observed; k1: excluded; k2: previous valid contact k0, 12 days before (not a
    # repeat; k1, 2 days before, would make it one); k3: none before; k4: k3 a day before (a repeat)
    assert (row["numerator"], row["denominator"]) == (1, 3)
    acc = res.accounting
    assert acc.loc[(acc["indicator"] == "repeat_contact_rate") & (acc["reason"] == "window not observed"),
                   "rows"].sum() == 1
    assert check_accounting(acc)
