"""Queue indicators on live channels, e-mail response indicators, and the queue / channel unit levels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kpilab.indicators import check_accounting, compute_panel
from kpilab.simulate import simulate
from tests.test_indicators import cell, contacts_frame, framework_with

T0 = pd.Timestamp("2025-01-06 09:00")
QUEUE_SPEED = ["service_level", "asa", "abandon_rate", "average_wait_time"]


def mixed_channels() -> pd.DataFrame:
    # phone: waits 10 and 30 s; chat: 15 s and an abandon after 60 s; e-mail: answered after 1 h and 30 h
    rows = [{"channel": "phone", "wait": 10, "queue": "billing_phone"},
            {"channel": "phone", "wait": 30, "queue": "billing_phone"},
            {"channel": "chat", "wait": 15, "queue": "billing_chat", "agent": "a2"},
            {"channel": "chat", "wait": 60, "abandoned": True, "queue": "billing_chat"},
            {"channel": "email", "wait": 3600, "queue": "billing_email", "agent": "a2"},
            {"channel": "email", "wait": 30 * 3600, "queue": "billing_email"}]
    return contacts_frame(rows)


def test_queue_speed_indicators_default_to_live_channels():
    r = compute_panel({"contacts": mixed_channels()}, unit="centre", indicators=QUEUE_SPEED)
    assert cell(r, "asa")["value"] == pytest.approx((10 + 30 + 15) / 3)  # e-mail waits are not queue waits
    sl = cell(r, "service_level")
    assert (sl["numerator"], sl["denominator"]) == (2, 4)
    ab = cell(r, "abandon_rate")
    assert (ab["numerator"], ab["denominator"]) == (1, 4)
    assert cell(r, "average_wait_time")["value"] == pytest.approx((10 + 30 + 15 + 60) / 4)
    assert any("computed on channel(s) phone, chat only" in n for n in r.notices)
    assert r.params["definitions"]["asa"]["params"]["channels"] == ["phone", "chat"]
    # every channel on request (the old behaviour), or the framework's own live channels
    every = framework_with({c: {"channels": "all"} for c in QUEUE_SPEED})
    r_all = compute_panel({"contacts": mixed_channels()}, unit="centre", framework=every, indicators=["asa"])
    assert cell(r_all, "asa")["value"] == pytest.approx((10 + 30 + 15 + 3600 + 30 * 3600) / 5)
    phone_only = framework_with(live_channels=["phone"])
    r_ph = compute_panel({"contacts": mixed_channels()}, unit="centre", framework=phone_only, indicators=["asa"])
    assert cell(r_ph, "asa")["value"] == pytest.approx(20.0)


def test_channels_parameter_is_checked():
    from kpilab.errors import FrameworkError

    with pytest.raises(FrameworkError, match="params.channels"):
        compute_panel({"contacts": mixed_channels()}, framework=framework_with({"asa": {"channels": [1, 2]}}),
                      indicators=["asa"])


def test_email_response_indicators():
    r = compute_panel({"contacts": mixed_channels()}, unit="centre",
                      indicators=["email_response_time", "email_answered_within"])
    assert cell(r, "email_response_time")["value"] == pytest.approx((3600 + 30 * 3600) / 2)  # median of two
    within = cell(r, "email_answered_within")
    assert (within["numerator"], within["denominator"]) == (1, 2)  # 1 h yes, 30 h no (24 h target)


def test_queue_and_channel_unit_levels():
    r = compute_panel({"contacts": mixed_channels()}, unit=["queue", "channel", "centre"],
                      indicators=["asa", "aht", "offered_contacts", "email_response_time"])
    p = r.panel
    assert set(p["unit_level"]) == {"queue", "channel", "centre"}
    assert cell(r, "asa", "billing_phone")["value"] == pytest.approx(20.0)
    assert cell(r, "asa", "chat")["value"] == pytest.approx(15.0)
    # asa is restricted to live channels: no e-mail queue row
    assert "billing_email" not in set(p.loc[p["indicator"] == "asa", "unit_id"])
    assert cell(r, "email_response_time", "email")["n"] == 2
    # queues add up to the centre
    q = p[(p["unit_level"] == "queue") & (p["indicator"] == "offered_contacts")]["value"].sum()
    assert q == cell(r, "offered_contacts")["value"] == 6
    assert check_accounting(r.accounting)


def test_per_day_across_channels_counts_each_agent_day_once():
    # one agent, one day, two channels: 3 contacts per day overall, 2/day on phone, 1/day on chat
    rows = [{"channel": "phone"}, {"channel": "phone"}, {"channel": "chat"}]
    r = compute_panel({"contacts": contacts_frame(rows)}, unit=["agent", "channel", "centre"],
                      indicators=["contacts_per_day"])
    assert cell(r, "contacts_per_day", "a1")["value"] == 3
    assert cell(r, "contacts_per_day", "phone")["value"] == 2
    assert cell(r, "contacts_per_day", "chat")["value"] == 1
    assert cell(r, "contacts_per_day", "centre")["value"] == 3


def test_tables_without_queue_skip_that_level_with_a_notice():
    qa = pd.DataFrame({"contact_id": ["c0"], "agent_id": ["a1"], "score": [90.0], "reviewed_at": [T0]})
    r = compute_panel({"contacts": mixed_channels(), "qa_reviews": qa}, unit=["queue", "centre"],
                      indicators=["qa_score", "asa"])
    assert set(r.panel.loc[r.panel["indicator"] == "qa_score", "unit_level"]) == {"centre"}
    assert any(n.startswith("qa_reviews indicators (qa_score) have no queue rows") for n in r.notices)


@pytest.fixture(scope="module")
def sim4():
    return simulate(agents=30, months=4, seed=1).tables


def test_simulated_centre_asa_is_a_live_queue_figure(sim4):
    # issue 8: with e-mail mixed in, Q1 centre ASA was about 1,295 s (SL 64.9 %); on phone + chat about 32 s
    r = compute_panel(sim4, period="quarter", unit="centre", indicators=QUEUE_SPEED)
    live = {**sim4, "contacts": sim4["contacts"][sim4["contacts"]["channel"].isin(["phone", "chat"])]}
    every = framework_with({c: {"channels": "all"} for c in QUEUE_SPEED})
    r_live = compute_panel(live, period="quarter", unit="centre", framework=every, indicators=QUEUE_SPEED)
    a = r.panel.set_index(["period", "indicator"])
    b = r_live.panel.set_index(["period", "indicator"])
    np.testing.assert_allclose(a["value"], b.loc[a.index, "value"], rtol=1e-12)
    q1_asa = a.loc[("2025-01-01", "asa"), "value"]
    assert 10 < q1_asa < 120
