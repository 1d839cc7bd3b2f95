"""Adapters on the real public exports in ../shared/data, checked through the kpilab panel."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from kpilab.adapters import detect_timezone, helpdesk_event_log, pwc_call_log, write_tables
from kpilab.errors import DataError, SchemaError
from kpilab.framework import DEFAULT_FRAMEWORK_PATH
from kpilab.indicators import check_accounting, compute_panel
from kpilab.schema import validate_table


@pytest.fixture(scope="module")
def pwc(shared_data):
    return pwc_call_log(shared_data / "pwc-call-center" / "pwc_call_center_dataset.xlsx")


@pytest.fixture(scope="module")
def helpdesk_raw(shared_data):
    return pd.read_csv(shared_data / "helpdesk-eventlog" / "Helpdesk.csv", dtype=str)


def test_pwc_published_aggregates_through_the_panel(pwc):
    for name, df in pwc.items():
        issues = validate_table(df, name, strict=False).issues
        if name == "contacts":
            # the log gives no moment of abandonment: ended_at of unanswered calls is unknown (NaT), which
            # the panel accepts for abandons; the only issues validate_table may raise are on those rows
            # (until kpilab.schema allows it too)
            assert set(issues["reason"]) <= {"missing ended_at"}
            assert df.loc[issues["row"], "abandoned"].all()
        else:
            assert issues.empty, name
    # the default framework, no parameter override: unknown waits are never short abandons
    r = compute_panel(pwc, period="quarter", unit="centre",
                      indicators=["answered_contacts", "abandoned_contacts", "abandon_rate", "resolved_of_offered",
                                  "asa", "csat", "talk_time", "service_level", "average_wait_time"])
    assert check_accounting(r.accounting)
    v = r.panel.set_index("indicator")
    assert set(r.panel["period"]) == {"2021-01-01"}
    assert v.loc["answered_contacts", "value"] == 4054
    assert v.loc["abandoned_contacts", "value"] == 946
    assert (v.loc["abandon_rate", "numerator"], v.loc["abandon_rate", "denominator"]) == (946, 5000)
    assert v.loc["abandon_rate", "value"] == pytest.approx(0.1892)
    assert v.loc["service_level", "denominator"] == 5000
    # the average wait cannot include waits nobody recorded: they are counted out, per indicator
    assert v.loc["average_wait_time", "n"] == 4054
    acc = r.accounting.set_index(["indicator", "reason"])
    assert acc.loc[("average_wait_time", "unknown wait"), "rows"] == 946
    assert v.loc["resolved_of_offered", "numerator"] == 3646
    assert round(100 * v.loc["resolved_of_offered", "value"], 1) == 72.9
    assert round(v.loc["asa", "value"], 2) == 67.52
    assert round(v.loc["csat", "value"], 2) == 3.40
    assert round(v.loc["talk_time", "value"], 1) == 224.9


def test_pwc_agent_rows_and_unanswered_have_no_agent(pwc):
    c = pwc["contacts"]
    assert c.loc[c["abandoned"], "agent_id"].isna().all()
    assert c.loc[c["abandoned"], "routed_agent"].notna().all()
    r = compute_panel(pwc, period="month", unit="agent", indicators=["aht", "csat"])
    assert set(r.panel["unit_id"]) == {"Becky", "Dan", "Diane", "Greg", "Jim", "Joe", "Martha", "Stewart"}
    assert r.panel.loc[r.panel["indicator"] == "aht", "n"].sum() == 4054


def helpdesk_reference(raw: pd.DataFrame) -> pd.DataFrame:
    """Independent pandas computation: first event -> last 'Resolve ticket' per case."""
    ts = pd.to_datetime(raw["time:timestamp"], utc=True)
    df = pd.DataFrame({"case": raw["case:concept:name"], "act": raw["Activity"], "ts": ts})
    first = df.groupby("case")["ts"].min()
    res = df[df["act"] == "Resolve ticket"].groupby("case")["ts"]
    out = pd.DataFrame({"first": first, "last_resolve": res.max(), "n_resolve": res.size()}).dropna()
    out["days"] = (out["last_resolve"] - out["first"]).dt.total_seconds() / 86400
    return out


def test_helpdesk_tickets_resolution_and_reopens_through_the_panel(helpdesk_raw):
    ref = helpdesk_reference(helpdesk_raw)
    assert len(ref) == 4569 and round(ref["days"].median(), 1) == 6.7 and round(ref["days"].mean(), 1) == 11.5
    tables = helpdesk_event_log(helpdesk_raw, resolution="last")
    tk = tables["tickets"]
    assert len(tk) == 4580 and validate_table(tk, "tickets", strict=False).ok
    fw = yaml.safe_load(DEFAULT_FRAMEWORK_PATH.read_text(encoding="utf-8"))
    for ind in fw["indicators"]:
        if ind["code"] == "time_to_resolution":
            ind["params"] = {"statistic": "mean"}
    r = compute_panel(tables, period="quarter", unit="centre", framework=fw,
                      indicators=["time_to_resolution", "reopen_rate"])
    ttr = r.panel[r.panel["indicator"] == "time_to_resolution"]
    assert ttr["n"].sum() == 4569
    assert ttr["numerator"].sum() / ttr["n"].sum() / 86400 == pytest.approx(ref["days"].mean(), rel=1e-9)
    reo = r.panel[r.panel["indicator"] == "reopen_rate"]
    assert reo["numerator"].sum() == (ref["n_resolve"] > 1).sum() == 386
    # medians per quarter (by local creation date) equal the pandas medians, never averaged
    r2 = compute_panel(tables, period="quarter", unit="centre", indicators=["time_to_resolution"])
    local_first = ref["first"].dt.tz_convert("Europe/Athens").dt.tz_localize(None)
    q = local_first.dt.to_period("Q").dt.start_time.dt.strftime("%Y-%m-%d")
    expected = (ref["days"] * 86400).groupby(q).median()
    got = r2.panel.set_index("period")["value"]
    pd.testing.assert_series_equal(got.sort_index(), expected.sort_index(), check_names=False, rtol=1e-9)


def test_helpdesk_resolution_runs_to_resolve_not_closed(helpdesk_raw):
    tk = helpdesk_event_log(helpdesk_raw)["tickets"].set_index("ticket_id")
    case = helpdesk_raw[helpdesk_raw["case:concept:name"] == "Case3608"]
    resolve = pd.Timestamp(case.loc[case["Activity"] == "Resolve ticket", "time:timestamp"].iloc[0])
    closed = pd.Timestamp(case.loc[case["Activity"] == "Closed", "time:timestamp"].iloc[0])
    assert tk.loc["Case3608", "solved_at"] == resolve != closed
    assert tk.loc["Case3608", "closed_at"] == closed
    # a second 'Resolve ticket' is a reopen; first vs last resolution
    multi = helpdesk_raw[helpdesk_raw["Activity"] == "Resolve ticket"].groupby("case:concept:name").size()
    case_id = multi[multi == 3].index[0]
    assert tk.loc[case_id, "reopens"] == 2
    last = helpdesk_event_log(helpdesk_raw, resolution="last")["tickets"].set_index("ticket_id")
    assert last.loc[case_id, "solved_at"] > tk.loc[case_id, "solved_at"]


def test_helpdesk_timestamps_keep_their_utc_offsets(helpdesk_raw):
    tk = helpdesk_event_log(helpdesk_raw)["tickets"]
    assert str(tk["created_at"].dt.tz) == "Europe/Athens"
    utc = pd.to_datetime(helpdesk_raw["time:timestamp"], utc=True)
    first_idx = utc.groupby(helpdesk_raw["case:concept:name"]).idxmin()
    text = helpdesk_raw.loc[first_idx.to_numpy(), "time:timestamp"].set_axis(first_idx.index)
    iso = tk.set_index("ticket_id")["created_at"].map(lambda t: t.isoformat(sep=" "))
    assert (iso.loc[text.index] == text).all()
    assert detect_timezone(pd.Series(["2020-01-01T00:00:00+05:00"])) is None


def test_helpdesk_bad_input():
    with pytest.raises(SchemaError, match="missing column"):
        helpdesk_event_log(pd.DataFrame({"case": ["a"]}))
    with pytest.raises(DataError, match="resolution"):
        helpdesk_event_log(pd.DataFrame(), resolution="middle")
    with pytest.raises(DataError, match="does not exist"):
        pwc_call_log("/no/such.xlsx")


def test_write_tables_roundtrip(tmp_path):
    tables = {"agents": pd.DataFrame({"agent_id": ["a"], "team": ["t"]})}
    paths = write_tables(tables, tmp_path, fmt="csv")
    assert paths[0].name == "agents.csv" and pd.read_csv(paths[0]).shape == (1, 2)
