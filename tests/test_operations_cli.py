"""The operations commands end to end on a small simulated centre, and the staffing verdicts."""

from __future__ import annotations

import pandas as pd
import pytest

from kpilab.cli import main
from kpilab.indicators import compute_panel
from kpilab.operations.staffing import staffing_from_panel, verdicts
from kpilab.simulate import simulate, write_simulation


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("ops") / "data"
    write_simulation(simulate(agents=20, months=1, seed=2), out)
    return out


def test_commands_write_their_outputs(data_dir, tmp_path, capsys):
    panel = compute_panel(data_dir, period="day", unit=["queue", "centre"],
                          indicators=["abandon_rate", "service_level", "offered_contacts", "aht"]).panel
    panel.to_parquet(tmp_path / "panel.parquet")
    assert main(["alerts", "--panel", str(tmp_path / "panel.parquet"), "--out", str(tmp_path / "alerts")]) == 0
    a = pd.read_csv(tmp_path / "alerts" / "alerts.csv")
    assert list(a.columns)[:9] == ["unit_id", "period", "indicator", "value", "ci_low", "ci_high", "threshold",
                                   "status", "rule"]
    assert set(a["status"]) <= {"confirmed", "possible", "exempted"}
    assert (tmp_path / "alerts" / "figures").is_dir()
    assert main(["qa-sample", "--data", str(data_dir), "--date", "2025-01-14", "--seed", "1",
                 "--out", str(tmp_path / "qa.csv")]) == 0
    s = pd.read_csv(tmp_path / "qa.csv")
    assert {"contact_id", "agent_id", "stratum", "weight"} <= set(s.columns)
    assert (tmp_path / "qa.margins.csv").is_file()
    assert main(["staffing", "--panel", str(tmp_path / "panel.parquet"), "--target-sl", "0.8", "--threshold-s", "20",
                 "--out", str(tmp_path / "staff.csv")]) == 0
    assert main(["staffing", "--data", str(data_dir), "--out", str(tmp_path / "staff2.csv")]) == 0
    st = pd.read_csv(tmp_path / "staff2.csv")
    assert st["verdict"].str.startswith(("feasible", "not feasible")).all()
    assert main(["qa-sample", "--data", str(data_dir), "--date", "2030-01-01", "--out", str(tmp_path / "x.csv")]) == 2
    assert "No answered contacts on 2030-01-01" in capsys.readouterr().err


def test_staffing_verdicts_and_burnout_flag():
    cells = pd.DataFrame({"queue": ["q", "q", "q"], "period": ["p"] * 3, "calls_per_hour": [200.0, 200.0, 2000.0],
                          "aht_s": [180.0, 180.0, 180.0], "staffed_agents": [14.0, 11.0, 110.0],
                          "patience_s": [float("nan")] * 3})
    v = verdicts(cells, target_sl=0.8, threshold_s=20, max_occupancy=0.8)
    assert list(v["required_for_sl"]) == [14, 14, 107]
    assert v["verdict"].iloc[0] == "feasible" and v["verdict"].iloc[1].startswith("not feasible")
    # 100 Erlangs: the SL target is met at 107 agents (occupancy 93 %) -> burnout, requirement ceil(100/0.8)
    assert "burnout" in v["verdict"].iloc[2] and v["required_agents"].iloc[2] == 125
    assert v["verdict"].iloc[2].startswith("not feasible")


def test_staffing_from_panel_with_roster():
    panel = pd.DataFrame({"unit_id": ["q1", "q1"], "unit_level": "queue", "period": ["2025-01-01"] * 2,
                          "indicator": ["offered_contacts", "aht"], "value": [86800.0, 180.0]})
    roster = pd.DataFrame({"queue": ["q1"], "period": ["2025-01-01"], "agents": [14]})
    t = staffing_from_panel(panel, roster=roster)
    assert t["calls_per_hour"].iloc[0] == pytest.approx(86800 / (31 * 14))
    assert t["verdict"].iloc[0] == "feasible" and t["required_agents"].iloc[0] == 14


def test_staffing_from_contacts_without_hold_and_acw_columns():
    """A real call log (PwC) records talk time only: handle time is talk time, as in the panel's AHT."""
    from kpilab.operations.staffing import staffing_from_contacts

    c = simulate(agents=12, months=1, seed=4).tables["contacts"]
    full = staffing_from_contacts({"contacts": c.assign(hold_s=0.0, acw_s=0.0)}, target_sl=0.8, threshold_s=20)
    talk_only = staffing_from_contacts({"contacts": c.drop(columns=["hold_s", "acw_s"])}, target_sl=0.8,
                                       threshold_s=20)
    pd.testing.assert_frame_equal(full, talk_only)


def test_alerts_on_an_agent_panel_say_what_was_not_checked(data_dir, tmp_path, capsys):
    """An agent-level panel has no queue indicators: 'no alerts' must not read as 'all is well'."""
    compute_panel(data_dir, period="month", unit="agent", indicators=["aht"]).panel.to_parquet(tmp_path / "p.parquet")
    assert main(["alerts", "--panel", str(tmp_path / "p.parquet"), "--out", str(tmp_path / "a")]) == 0
    out = capsys.readouterr().out
    assert "not checked, the panel has no service_level, abandon_rate rows" in out and "--unit queue,centre" in out
