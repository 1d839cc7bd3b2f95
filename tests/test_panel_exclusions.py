"""Rows left out of one indicator (per-indicator accounting) and table-level duplicate rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kpilab.indicators import ACCOUNTING_COLUMNS, check_accounting, compute_panel
from kpilab.simulate import simulate
from tests.test_indicators import cell, contacts_frame

T0 = pd.Timestamp("2025-01-06 09:00")
DAY = pd.Timedelta(days=1)


def indicator_excluded(acc: pd.DataFrame) -> dict[tuple[str, str], int]:
    sub = acc[acc["kind"] == "indicator_excluded"]
    return {(r.indicator, r.reason): r.rows for r in sub.itertuples()}


# --------------------------------------------------------------------------- missing talk time
def test_missing_talk_time_is_excluded_from_aht_and_cost_not_counted_as_zero():
    df = contacts_frame([{"talk": 100, "hold": 20, "acw": 30}, {"talk": 200, "hold": 0, "acw": 10},
                         {"talk": 50, "hold": 0, "acw": 40}, {"abandoned": True}])
    df.loc[2, "talk_s"] = np.nan  # the log lost this call's talk time
    r = compute_panel({"contacts": df}, unit="agent",
                      indicators=["aht", "cost_per_contact", "talk_time", "short_call_rate", "acw_time"])
    aht = cell(r, "aht", "a1")
    assert (aht["value"], aht["n"]) == (pytest.approx(180.0), 2)  # not (150 + 210 + 40) / 3 = 133.3
    cost = cell(r, "cost_per_contact", "a1")
    assert cost["n"] == 2 and cost["value"] == pytest.approx((150 / 3600 * 60 + 0.5 + 210 / 3600 * 60 + 0.5) / 2)
    assert cell(r, "short_call_rate", "a1")["denominator"] == 2  # a missing talk time is not a short call
    assert cell(r, "acw_time", "a1")["n"] == 3  # ACW does not need the talk time
    got = indicator_excluded(r.accounting)
    assert got == {("aht", "missing talk_s"): 1, ("cost_per_contact", "missing talk_s"): 1,
                   ("talk_time", "missing talk_s"): 1, ("short_call_rate", "missing talk_s"): 1}
    acc = r.accounting
    assert list(acc.columns) == ACCOUNTING_COLUMNS and check_accounting(acc)
    first = acc.iloc[0]
    assert first["rows_read"] == 4 == first["rows_used"] + first["rows_excluded"]  # the table identity holds
    assert any(n.startswith("aht: 1 contacts row(s) left out of this indicator (missing talk_s)")
               for n in r.notices)
    assert "aht: 1 used row(s) left out (missing talk_s)" in r.summary()


def test_absent_hold_and_acw_still_count_zero_in_handle_time():
    df = contacts_frame([{"talk": 100}, {"talk": 200}]).drop(columns=["hold_s", "acw_s"])
    r = compute_panel({"contacts": df}, unit="agent", indicators=["aht"])
    assert cell(r, "aht", "a1")["value"] == pytest.approx(150.0)
    assert indicator_excluded(r.accounting) == {}


# --------------------------------------------------------------------------- unknown waits
def test_abandons_with_unknown_wait_are_never_short():
    rows = [{"wait": 10}] * 6 + [{"abandoned": True, "wait": 3}, {"abandoned": True, "wait": 40}]
    df = contacts_frame(rows + [{"abandoned": True}] * 2)
    df.loc[8:, "ended_at"] = pd.NaT  # the export does not say when they hung up
    r = compute_panel({"contacts": df}, unit="centre",
                      indicators=["abandon_rate", "service_level", "average_wait_time", "asa"])
    ab = cell(r, "abandon_rate")
    assert (ab["numerator"], ab["denominator"]) == (3, 9)  # the 3 s abandon is short; unknown waits are not
    assert cell(r, "service_level")["denominator"] == 9
    awt = cell(r, "average_wait_time")
    assert (awt["n"], awt["value"]) == (8, pytest.approx((60 + 3 + 40) / 8))
    assert indicator_excluded(r.accounting) == {("average_wait_time", "unknown wait"): 2}
    assert r.accounting.loc[r.accounting["kind"] == "used", "rows"].item() == 10  # no row lost
    # an export that writes the arrival time as the moment of abandonment (a 0 s wait) does not know it either
    df0 = df.copy()
    df0.loc[8:, "ended_at"] = df0.loc[8:, "arrived_at"]
    r0 = compute_panel({"contacts": df0}, unit="centre", indicators=["abandon_rate", "average_wait_time"])
    assert (cell(r0, "abandon_rate")["numerator"], cell(r0, "abandon_rate")["denominator"]) == (3, 9)
    assert indicator_excluded(r0.accounting) == {("average_wait_time", "unknown wait"): 2}
    assert any("2 abandoned contact(s) have no recorded wait" in n for n in r0.notices)
    # an answered contact without ended_at is still a schema error
    df.loc[0, "ended_at"] = pd.NaT
    r2 = compute_panel({"contacts": df}, unit="centre", indicators=["asa"])
    acc = r2.accounting
    assert acc.loc[(acc["kind"] == "excluded") & (acc["reason"] == "missing ended_at"), "rows"].item() == 1


def test_pwc_export_default_abandonment(shared_data):
    from kpilab.adapters import pwc_call_log

    tables = pwc_call_log(shared_data / "pwc-call-center" / "pwc_call_center_dataset.xlsx")
    r = compute_panel(tables, period="quarter", unit="centre", indicators=["abandon_rate", "service_level"])
    ab = cell(r, "abandon_rate")
    assert (ab["numerator"], ab["denominator"]) == (946, 5000)  # 18.92 %, was 0 / 4,054 = 0 %
    assert cell(r, "service_level")["denominator"] == 5000


# --------------------------------------------------------------------------- censored windows
def censored_contacts() -> pd.DataFrame:
    # data span: day 0 .. day 30. u1 contacts on days 0, 2 and 29; u2 on days 10 and 27; u3 on day 20.
    rows = [{"customer": c, "arrived": T0 + d * DAY} for c, d in
            (("u1", 0), ("u1", 2), ("u1", 29), ("u2", 10), ("u2", 27), ("u3", 20))]
    rows.append({"customer": "u9", "arrived": T0 + 30 * DAY, "abandoned": True})
    return contacts_frame(rows)


def test_follow_up_windows_past_the_data_are_excluded_not_resolved():
    r = compute_panel({"contacts": censored_contacts()}, unit="centre", period="quarter",
                      indicators=["fcr", "repeat_contact_rate"])
    # FCR (7-day window forward): days 29 and 27 have < 7 days of data after them -> excluded
    # (day 29 would have counted as resolved for lack of a follow-up); kept: days 0, 2, 10, 20
    fcr = cell(r, "fcr")
    assert (fcr["numerator"], fcr["denominator"]) == (3, 4)  # day 0 is followed on day 2
    # repeat rate (7 days back): days 0 and 2 have < 7 days of data before them -> excluded
    rep = cell(r, "repeat_contact_rate")
    assert (rep["numerator"], rep["denominator"]) == (0, 4)  # days 10, 20, 27, 29: no earlier contact in 7 d
    assert indicator_excluded(r.accounting) == {("fcr", "window not observed"): 2,
                                                ("repeat_contact_rate", "window not observed"): 2}
    # the span is the data's, not the start/end filter: the same cells with end set to day 25
    r2 = compute_panel({"contacts": censored_contacts()}, unit="centre", period="quarter", end=T0 + 25 * DAY,
                       indicators=["fcr"])
    assert (cell(r2, "fcr")["numerator"], cell(r2, "fcr")["denominator"]) == (3, 4)


@pytest.fixture(scope="module")
def sim4():
    return simulate(agents=30, months=4, seed=1).tables


def test_last_week_fcr_and_first_week_repeat_rate_are_not_biased(sim4):
    # issue 8: last week's FCR was 0.965 (vs ~0.81) and the first week's repeat rate 0.09 (vs ~0.19)
    r = compute_panel(sim4, period="week", unit="centre", indicators=["fcr", "repeat_contact_rate"])
    p = r.panel.pivot(index="period", columns="indicator", values="value")
    typical_fcr = p["fcr"].median()
    typical_rep = p["repeat_contact_rate"].median()
    assert abs(p["fcr"].dropna().iloc[-1] - typical_fcr) < 0.05
    assert abs(p["repeat_contact_rate"].dropna().iloc[0] - typical_rep) < 0.05
    exc = indicator_excluded(r.accounting)
    assert exc[("fcr", "window not observed")] > 0 and exc[("repeat_contact_rate", "window not observed")] > 0


# --------------------------------------------------------------------------- duplicate QA rows
def test_exact_duplicate_qa_rows_are_excluded():
    qa = pd.DataFrame({"contact_id": ["c1", "c1", "c2", "c1"], "agent_id": ["a1"] * 4,
                       "score": [90.0, 90.0, 70.0, 60.0], "critical_fail": [False, False, True, False],
                       "reviewed_at": [T0, T0, T0, T0 + DAY]})
    # rows 0 and 1 are identical; row 3 is a second (calibration) review of c1: kept
    r = compute_panel({"qa_reviews": qa}, unit="agent", indicators=["qa_score"])
    assert cell(r, "qa_score", "a1")["n"] == 3
    assert cell(r, "qa_score", "a1")["value"] == pytest.approx((90 + 70 + 60) / 3)
    acc = r.accounting
    assert acc.loc[(acc["kind"] == "excluded") & (acc["reason"] == "duplicate row"), "rows"].item() == 1
    assert check_accounting(acc)
