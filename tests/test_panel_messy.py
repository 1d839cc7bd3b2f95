"""The panel on the simulator's messy exports: every planted defect is accounted for as truth.json says."""

from __future__ import annotations

import pandas as pd
import pytest

from kpilab.indicators import check_accounting, compute_panel
from kpilab.simulate import simulate

LIVE = ("phone", "chat")
INDICATORS = ["aht", "cost_per_contact", "average_wait_time", "abandon_rate", "service_level", "asa",
              "qa_score", "tickets_created", "csat", "nps"]


@pytest.fixture(scope="module")
def messy():
    sim = simulate(agents=12, months=2, seed=7, realism="messy")
    result = compute_panel(sim.tables, period="month", unit=["agent", "channel", "centre"], indicators=INDICATORS)
    return sim, result


def truth(sim, kind: str, table: str | None = None) -> list[dict]:
    return [d for d in sim.truth["defects"] if d["kind"] == kind and (table is None or d["table"] == table)]


def excluded(acc: pd.DataFrame, table: str, reason: str) -> int:
    return int(acc.loc[(acc["table"] == table) & (acc["kind"] == "excluded") & (acc["reason"] == reason),
                       "rows"].sum())


def indicator_excluded(acc: pd.DataFrame, indicator: str, reason: str) -> int:
    return int(acc.loc[(acc["indicator"] == indicator) & (acc["reason"] == reason), "rows"].sum())


def test_accounting_identity_on_messy_data(messy):
    sim, r = messy
    assert check_accounting(r.accounting)
    for table, df in sim.tables.items():
        first = r.accounting[r.accounting["table"] == table].iloc[0]
        assert first["rows_read"] == len(df)


def test_schema_defects_are_excluded_with_the_reason_truth_expects(messy):
    sim, r = messy
    expected: dict[tuple[str, str], int] = {}
    for d in sim.truth["defects"]:
        if d["expected_reason"]:
            key = (d["table"], d["expected_reason"])
            expected[key] = expected.get(key, 0) + d["count"]
    assert expected  # negative acw_s, below 1 csat, nps above 10, duplicate id
    for (table, reason), count in expected.items():
        assert excluded(r.accounting, table, reason) == count, (table, reason)


def test_duplicate_qa_reviews_are_excluded_as_duplicate_rows(messy):
    sim, r = messy
    (d,) = truth(sim, "duplicate_row", "qa_reviews")
    assert d["count"] > 0 and excluded(r.accounting, "qa_reviews", "duplicate row") == d["count"]


def test_missing_talk_times_are_left_out_of_aht_and_cost(messy):
    sim, r = messy
    (d,) = truth(sim, "missing_value", "contacts")
    assert d["column"] == "talk_s" and d["count"] > 0
    for code in ("aht", "cost_per_contact"):
        assert indicator_excluded(r.accounting, code, "missing talk_s") == d["count"]


def test_abandons_with_unknown_wait_are_not_short_and_not_averaged(messy):
    sim, r = messy
    (d,) = truth(sim, "abandon_wait_unknown")
    c = sim.tables["contacts"]
    live = int(c.iloc[d["rows"]]["channel"].isin(LIVE).sum())  # average_wait_time is a live-channel indicator
    assert indicator_excluded(r.accounting, "average_wait_time", "unknown wait") == live > 0
    assert any(n.startswith(f"contacts: {d['count']:,} abandoned contact(s) have no recorded wait")
               for n in r.notices)


def test_emails_logged_in_phone_queues_stay_out_of_queue_speed(messy):
    sim, r = messy
    (d,) = truth(sim, "mixed_channel_queue")
    assert d["count"] > 0
    p = r.panel
    asa = p[p["indicator"] == "asa"]
    assert "email" not in set(asa.loc[asa["unit_level"] == "channel", "unit_id"])
    # centre ASA counts exactly the answered phone/chat contacts that were not excluded
    c = sim.tables["contacts"]
    ok = ~c.duplicated(["contact_id"]) & ~(c["acw_s"] < 0)
    n_live = int((ok & ~c["abandoned"] & c["channel"].isin(LIVE)).sum())
    assert asa.loc[asa["unit_level"] == "centre", "n"].sum() == n_live


def test_time_zone_and_duplicates_leave_clean_indicators_unchanged(messy):
    # tz-aware local times give the same local months; excluded duplicates give the clean QA scores
    sim, r = messy
    assert truth(sim, "tz_aware")
    clean = simulate(agents=12, months=2, seed=7).tables
    rc = compute_panel(clean, period="month", unit=["agent", "centre"], indicators=["qa_score", "tickets_created"])
    key = ["unit_id", "unit_level", "period", "indicator"]
    a = r.panel[r.panel["indicator"].isin(["qa_score", "tickets_created"])
                & r.panel["unit_level"].isin(["agent", "centre"])].set_index(key).sort_index()
    b = rc.panel.set_index(key).sort_index()
    pd.testing.assert_index_equal(a.index, b.index)
    pd.testing.assert_series_equal(a["value"], b["value"], rtol=1e-12)
