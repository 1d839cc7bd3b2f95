"""Hand-worked checks of the indicator panel engine (kpilab.indicators)."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats as sps
from statsmodels.stats.proportion import proportion_confint

from kpilab.errors import DataError, FrameworkError, ParameterError
from kpilab.framework import DEFAULT_FRAMEWORK_PATH
from kpilab.indicators import CATALOGUE, check_accounting, compute_panel
from kpilab.indicators.stats import nps_interval, t_interval, wilson_interval
from kpilab.panel import OPTIONAL_PANEL_COLUMNS, PANEL_COLUMNS, validate_panel

T0 = pd.Timestamp("2025-01-06 09:00")  # a Monday
DEFAULT_FW = yaml.safe_load(DEFAULT_FRAMEWORK_PATH.read_text(encoding="utf-8"))


def framework_with(params: dict | None = None, extra: list | None = None, **top) -> dict:
    """Default framework (as a mapping) with some indicators' params replaced."""
    fw = copy.deepcopy(DEFAULT_FW)
    for ind in fw["indicators"]:
        if params and ind["code"] in params:
            ind["params"] = {**ind.get("params", {}), **params[ind["code"]]}
    fw["indicators"].extend(extra or [])
    fw.update(top)
    return fw


def contacts_frame(rows: list[dict]) -> pd.DataFrame:
    """Canonical contacts from short specs: wait, talk, abandoned, agent, customer..."""
    out = []
    for i, r in enumerate(rows):
        arrived = r.get("arrived", T0 + pd.Timedelta(minutes=i))
        wait = pd.Timedelta(seconds=r.get("wait", 10))
        ab = r.get("abandoned", False)
        talk = r.get("talk", 100.0)
        out.append({
            "contact_id": r.get("id", f"c{i}"),
            "channel": r.get("channel", "phone"),
            "queue": r.get("queue", "q1"),
            "customer_id": r.get("customer", f"u{i}"),
            "agent_id": None if ab else r.get("agent", "a1"),
            "arrived_at": arrived,
            "answered_at": pd.NaT if ab else arrived + wait,
            "ended_at": arrived + wait + (pd.Timedelta(0) if ab else pd.Timedelta(seconds=talk)),
            "talk_s": np.nan if ab else talk,
            "hold_s": np.nan if ab else r.get("hold", 0.0),
            "acw_s": np.nan if ab else r.get("acw", 0.0),
            "abandoned": ab,
            "resolved": None if ab else r.get("resolved", True),
            "topic": r.get("topic", "billing"),
        })
    df = pd.DataFrame(out)
    df["resolved"] = df["resolved"].astype("boolean")
    return df


def cell(result, indicator, unit_id="centre", period=None):
    p = result.panel
    sub = p[(p["indicator"] == indicator) & (p["unit_id"] == unit_id)]
    if period is not None:
        sub = sub[sub["period"] == period]
    assert len(sub) == 1, f"expected one {indicator}/{unit_id} row, got {len(sub)}"
    return sub.iloc[0]


# --------------------------------------------------------------------------- catalogue
def test_catalogue_has_required_codes_and_fields():
    required = {"service_level", "abandon_rate", "asa", "aht", "fcr", "fcr_agent", "fcr_survey", "csat",
                "csat_top2", "nps", "ces", "qa_score", "qa_critical_fail_rate", "first_response_time",
                "time_to_resolution", "reopen_rate", "contacts_per_day", "repeat_contact_rate",
                "survey_response_rate", "acw_time", "hold_rate", "cost_per_contact", "resolved_within_24h",
                "retention_rate"}
    assert required <= set(CATALOGUE)
    assert len(CATALOGUE) >= 25
    default_codes = {i["code"] for i in DEFAULT_FW["indicators"]}
    assert default_codes <= set(CATALOGUE)
    for d in CATALOGUE.values():
        assert d.name and d.direction in ("higher", "lower", "band") and d.unit and d.definition and d.source
        r = d.resolve()
        assert "${" not in " ".join(str(getattr(r, k)) for k in ("where", "condition", "value"))


# --------------------------------------------------------------------------- service level
def sl_worked_example() -> pd.DataFrame:
    """callcentrehelper: ans 1000 (860 within 20 s), ab 60 (20 within 20 s)."""
    rows = [{"wait": 10} for _ in range(860)] + [{"wait": 30} for _ in range(140)]
    rows += [{"abandoned": True, "wait": 10} for _ in range(20)] + [{"abandoned": True, "wait": 60} for _ in range(40)]
    return contacts_frame(rows)


@pytest.mark.parametrize(
    "variant, expected",
    [("only_handled", 0.860), ("negative_abandon", 860 / 1060), ("positive_abandon", 880 / 1060),
     ("abandon_within_threshold_excluded", 860 / 1040), ("short_abandon_excluded", 860 / 1060)],
)
def test_service_level_variants_worked_example(variant, expected):
    fw = framework_with({"service_level": {"variant": variant}})
    r = compute_panel({"contacts": sl_worked_example()}, unit="centre", framework=fw, indicators=["service_level"])
    row = cell(r, "service_level")
    assert row["value"] == pytest.approx(expected)
    rounded = {"only_handled": 86.0, "negative_abandon": 81.1, "positive_abandon": 83.0,
               "abandon_within_threshold_excluded": 82.7, "short_abandon_excluded": 81.1}[variant]
    assert round(100 * row["value"], 1) == rounded


def test_service_level_default_excludes_short_abandons_and_abandon_rate():
    rows = [{"wait": 10}] * 6 + [{"wait": 25}] * 2 + [{"abandoned": True, "wait": 3}] * 2 + \
        [{"abandoned": True, "wait": 40}] * 2
    r = compute_panel({"contacts": contacts_frame(rows)}, unit="centre",
                      indicators=["service_level", "abandon_rate", "asa", "offered_contacts", "abandoned_contacts"])
    # offered 12, short abandons 2 -> denominator 10; answered within 20 s: 6
    sl = cell(r, "service_level")
    assert (sl["numerator"], sl["denominator"], sl["value"]) == (6, 10, 0.6)
    ab = cell(r, "abandon_rate")
    assert (ab["numerator"], ab["denominator"]) == (2, 10)
    assert cell(r, "asa")["value"] == pytest.approx((6 * 10 + 2 * 25) / 8)
    assert cell(r, "offered_contacts")["value"] == 12
    assert cell(r, "abandoned_contacts")["value"] == 4


def test_queue_indicators_have_no_agent_rows():
    r = compute_panel({"contacts": sl_worked_example()}, unit=["agent", "centre"],
                      indicators=["service_level", "asa", "aht"])
    agent_inds = set(r.panel.loc[r.panel["unit_level"] == "agent", "indicator"])
    assert agent_inds == {"aht"}


# --------------------------------------------------------------------------- handle time
def test_aht_acw_hold_without_hold_and_acw_columns():
    df = contacts_frame([{"talk": 100, "hold": 20, "acw": 30}, {"talk": 200, "hold": 0, "acw": 10},
                         {"abandoned": True}])
    r = compute_panel({"contacts": df}, unit="agent", indicators=["aht", "acw_time", "hold_rate", "talk_time"])
    assert cell(r, "aht", "a1")["value"] == pytest.approx(180.0)
    assert cell(r, "acw_time", "a1")["value"] == pytest.approx(20.0)
    assert cell(r, "hold_rate", "a1")["value"] == pytest.approx(0.5)
    # missing hold and ACW columns count as 0 in handle time; indicators about them are skipped, not zero
    r2 = compute_panel({"contacts": df.drop(columns=["hold_s", "acw_s"])}, unit="agent",
                       indicators=["aht", "acw_time", "hold_rate"])
    assert cell(r2, "aht", "a1")["value"] == pytest.approx(150.0)
    assert set(r2.panel["indicator"]) == {"aht"}
    assert any(n.startswith("acw_time: skipped") and "acw_s" in n for n in r2.notices)
    assert any(n.startswith("hold_rate: skipped") and "hold_s" in n for n in r2.notices)


def test_t_interval_matches_scipy():
    x = np.array([120.0, 180, 240, 95, 310, 205, 150])
    df = contacts_frame([{"talk": v} for v in x])
    r = compute_panel({"contacts": df}, unit="agent", indicators=["aht"])
    row = cell(r, "aht", "a1")
    lo, hi = sps.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=sps.sem(x))
    assert (row["ci_low"], row["ci_high"]) == (pytest.approx(lo), pytest.approx(hi))
    assert (row["n"], row["numerator"], row["denominator"]) == (7, pytest.approx(x.sum()), 7)
    lo2, hi2 = t_interval([x.sum()], [(x * x).sum()], [len(x)], level=0.9)
    assert lo2[0] == pytest.approx(sps.t.interval(0.9, 6, loc=x.mean(), scale=sps.sem(x))[0])


@pytest.mark.parametrize("k, n", [(8, 10), (80, 100), (0, 7), (7, 7), (1, 3)])
def test_wilson_matches_statsmodels(k, n):
    lo, hi = wilson_interval([k], [n])
    slo, shi = proportion_confint(k, n, alpha=0.05, method="wilson")
    assert lo[0] == pytest.approx(slo, abs=1e-12) and hi[0] == pytest.approx(shi, abs=1e-12)


def test_wilson_published_examples():
    lo, hi = wilson_interval([8, 80], [10, 100])
    assert np.round(lo, 3).tolist() == [0.490, 0.711] and np.round(hi, 3).tolist() == [0.943, 0.867]


# --------------------------------------------------------------------------- surveys
def survey_setup(csat, nps=None, ces=None, resolved=None):
    n = len(csat)
    contacts = contacts_frame([{} for _ in range(n + 5)])
    surveys = pd.DataFrame({
        "contact_id": [f"c{i}" for i in range(n)], "csat": np.asarray(csat, dtype=float),
        "nps": np.asarray(nps if nps is not None else [np.nan] * n, dtype=float),
        "ces": np.asarray(ces if ces is not None else [np.nan] * n, dtype=float),
        "resolved": pd.array(resolved if resolved is not None else [None] * n, dtype="boolean"),
        "responded_at": [T0 + pd.Timedelta(hours=2)] * n,
    })
    return {"contacts": contacts, "surveys": surveys}


def test_nps_standard_error_example():
    nps = [10] * 50 + [7] * 30 + [3] * 20
    r = compute_panel(survey_setup([4] * 100, nps=nps), unit="centre", indicators=["nps"])
    row = cell(r, "nps")
    assert row["value"] == pytest.approx(30.0)
    se = (row["ci_high"] - row["value"]) / sps.norm.ppf(0.975)
    assert se == pytest.approx(7.8, abs=0.05)
    assert (row["numerator"], row["denominator"]) == (30, 100)
    v, lo, hi = nps_interval([50], [20], [100])
    assert v[0] == pytest.approx(30) and hi[0] - v[0] == pytest.approx(1.959964 * 100 * np.sqrt(0.61 / 100), rel=1e-5)


def test_csat_mean_top2_ces_fcr_survey_and_response_rate():
    data = survey_setup([5, 4, 3, 1, 5], ces=[7, 6, 2, 5, np.nan], resolved=[True, True, False, None, True])
    r = compute_panel(data, unit="agent", indicators=["csat", "csat_top2", "ces", "fcr_survey",
                                                      "survey_response_rate"])
    assert cell(r, "csat", "a1")["value"] == pytest.approx(3.6)
    top = cell(r, "csat_top2", "a1")
    assert (top["numerator"], top["denominator"]) == (3, 5)
    assert cell(r, "ces", "a1")["value"] == pytest.approx(5.0)
    assert cell(r, "fcr_survey", "a1")["value"] == pytest.approx(0.75)
    srr = cell(r, "survey_response_rate", "a1")
    assert (srr["numerator"], srr["denominator"]) == (5, 10)


# --------------------------------------------------------------------------- resolution
def test_fcr_repeat_contact_window_and_same_topic():
    day = pd.Timedelta(days=1)
    rows = [
        {"customer": "u1", "arrived": T0, "topic": "billing"},
        {"customer": "u1", "arrived": T0 + 3 * day, "topic": "tech"},     # repeat within 7 d (other topic)
        {"customer": "u1", "arrived": T0 + 20 * day, "topic": "tech"},    # after 17 d: first resolved-looking
        {"customer": "u2", "arrived": T0, "topic": "billing"},
        {"customer": "u2", "arrived": T0 + 2 * day, "topic": "billing", "abandoned": True},  # abandon counts
        {"customer": "u3", "arrived": T0, "topic": "billing"},
        # abandons (not in the population) that stretch the observed data beyond every 7-day window
        {"customer": "u8", "arrived": T0 - 10 * day, "abandoned": True},
        {"customer": "u9", "arrived": T0 + 60 * day, "abandoned": True},
    ]
    df = contacts_frame(rows)
    r = compute_panel({"contacts": df}, unit="centre", period="quarter",
                      indicators=["fcr", "repeat_contact_rate"])
    fcr = cell(r, "fcr")
    # answered: u1 x3, u2 x1, u3 x1 = 5; followed within 7 d: u1#1, u2#1 -> 3 resolved
    assert (fcr["numerator"], fcr["denominator"]) == (3, 5)
    rep = cell(r, "repeat_contact_rate")
    assert (rep["numerator"], rep["denominator"]) == (1, 5)  # u1#2
    fw = framework_with({"fcr": {"same_topic": True}})
    r2 = compute_panel({"contacts": df}, unit="centre", period="quarter", framework=fw, indicators=["fcr"])
    assert cell(r2, "fcr")["numerator"] == 4  # u1#1 is followed by another topic only
    fw3 = framework_with({"fcr": {"window_days": 30}})
    r3 = compute_panel({"contacts": df}, unit="centre", period="quarter", framework=fw3, indicators=["fcr"])
    assert cell(r3, "fcr")["numerator"] == 2


def test_fcr_methods_by_parameter():
    df = contacts_frame([{"resolved": True}, {"resolved": False}, {"resolved": True}, {"resolved": True}])
    fw = framework_with({"fcr": {"method": "agent_flag"}})
    r = compute_panel({"contacts": df}, unit="centre", framework=fw, indicators=["fcr", "fcr_agent"])
    assert cell(r, "fcr")["value"] == cell(r, "fcr_agent")["value"] == pytest.approx(0.75)
    with pytest.raises(FrameworkError, match="params.method"):
        compute_panel({"contacts": df}, framework=framework_with({"fcr": {"method": "magic"}}), indicators=["fcr"])


def test_retention_contacts_per_day_cost_per_contact():
    day = pd.Timedelta(days=1)
    rows = [{"arrived": T0, "talk": 300, "channel": "phone"}, {"arrived": T0 + pd.Timedelta(hours=1), "talk": 600,
            "channel": "chat"}, {"arrived": T0 + day, "talk": 0, "acw": 360, "channel": "email"}]
    df = contacts_frame(rows)
    df["retained"] = [True, False, True]
    r = compute_panel({"contacts": df}, unit="agent", period="month",
                      indicators=["retention_rate", "contacts_per_day", "cost_per_contact"])
    assert cell(r, "retention_rate", "a1")["value"] == pytest.approx(2 / 3)
    cpd = cell(r, "contacts_per_day", "a1")
    assert (cpd["numerator"], cpd["denominator"], cpd["value"]) == (3, 2, 1.5)
    # default costs: 60 CNY/h, phone 0.5, chat 0.2, email 0.1 -> (5 + .5) + (10 + .2) + (6 + .1)
    assert cell(r, "cost_per_contact", "a1")["value"] == pytest.approx((5.5 + 10.2 + 6.1) / 3)
    fw = framework_with(costs={"currency": "EUR", "labour_per_hour": 36, "channel_per_contact": {}})
    r2 = compute_panel({"contacts": df}, unit="agent", framework=fw, indicators=["cost_per_contact"])
    assert cell(r2, "cost_per_contact", "a1")["value"] == pytest.approx((3 + 6 + 3.6) / 3)


# --------------------------------------------------------------------------- tickets and QA
def tickets_frame():
    h = pd.Timedelta(hours=1)
    created = [T0 + i * h for i in range(6)]
    return pd.DataFrame({
        "ticket_id": [f"t{i}" for i in range(6)],
        "agent_id": ["a1", "a1", "a1", "a2", "a2", None],
        "created_at": created,
        "first_reply_at": [c + pd.Timedelta(seconds=s) for c, s in zip(created, [10, 20, 90, 30, 50, 5], strict=True)],
        "solved_at": [created[0] + 2 * h, created[1] + 30 * h, pd.NaT, created[3] + 5 * h, created[4] + 50 * h,
                      created[5] + h],
        "reopens": [0, 1, 0, 0, 2, 0],
        "replies": [1, 3, 1, 1, 2, 1],
    })


def test_ticket_quantiles_are_computed_per_level_not_averaged():
    agents = pd.DataFrame({"agent_id": ["a1", "a2"], "team": ["t", "t"]})
    r = compute_panel({"tickets": tickets_frame(), "agents": agents}, unit=["agent", "team", "centre"],
                      indicators=["first_response_time", "first_response_time_p90", "time_to_resolution",
                                  "resolved_within_24h", "reopen_rate", "one_touch_rate", "tickets_created"])
    assert cell(r, "first_response_time", "a1")["value"] == 20
    assert cell(r, "first_response_time", "a2")["value"] == 40
    assert cell(r, "first_response_time", "t")["value"] == pytest.approx(np.median([10, 20, 90, 30, 50]))
    assert cell(r, "first_response_time")["value"] == pytest.approx(np.median([10, 20, 90, 30, 50, 5]))
    assert cell(r, "first_response_time_p90")["value"] == pytest.approx(np.quantile([10, 20, 90, 30, 50, 5], 0.9))
    assert cell(r, "time_to_resolution", "a1")["value"] == pytest.approx(np.median([2, 30]) * 3600)
    rw = cell(r, "resolved_within_24h")
    assert (rw["numerator"], rw["denominator"]) == (3, 6)
    ro = cell(r, "reopen_rate")
    assert (ro["numerator"], ro["denominator"]) == (2, 5)
    assert cell(r, "one_touch_rate")["numerator"] == 3
    assert cell(r, "tickets_created")["value"] == 6
    lo, hi = cell(r, "first_response_time")[["ci_low", "ci_high"]]
    assert lo <= 17.5 <= hi


def test_qa_indicators():
    qa = pd.DataFrame({"contact_id": ["c1", "c2", "c3", "c1"], "agent_id": ["a1", "a1", "a1", "a2"],
                       "score": [90.0, 70.0, 80.0, 60.0], "critical_fail": [False, True, False, False],
                       "reviewed_at": [T0] * 4})
    r = compute_panel({"qa_reviews": qa}, unit="agent", indicators=["qa_score", "qa_critical_fail_rate"])
    assert cell(r, "qa_score", "a1")["value"] == pytest.approx(80.0)
    assert cell(r, "qa_critical_fail_rate", "a1")["value"] == pytest.approx(1 / 3)
    assert cell(r, "qa_score", "a2")["flag"] == "small_n;no_ci"  # one review: no t interval


# --------------------------------------------------------------------------- periods and flags
def test_weeks_start_monday_and_period_labels():
    rows = [{"arrived": pd.Timestamp("2025-01-12 23:00")},   # Sunday -> week of Mon 6 Jan
            {"arrived": pd.Timestamp("2025-01-13 00:30")},   # Monday
            {"arrived": pd.Timestamp("2025-05-15 10:00")}]
    df = contacts_frame(rows)
    weeks = compute_panel({"contacts": df}, period="week", unit="centre", indicators=["aht"]).panel
    assert sorted(weeks["period"]) == ["2025-01-06", "2025-01-13", "2025-05-12"]
    quarters = compute_panel({"contacts": df}, period="quarter", unit="centre", indicators=["aht"]).panel
    assert sorted(quarters["period"]) == ["2025-01-01", "2025-04-01"]
    days = compute_panel({"contacts": df}, period="day", unit="centre", indicators=["aht"]).panel
    assert sorted(days["period"]) == ["2025-01-12", "2025-01-13", "2025-05-15"]


def test_timezone_aware_periods_use_local_time():
    df = contacts_frame([{"arrived": pd.Timestamp("2025-01-31 23:30")}, {"arrived": pd.Timestamp("2025-02-01 00:30")}])
    for col in ("arrived_at", "answered_at", "ended_at"):
        df[col] = df[col].dt.tz_localize("Europe/Rome")
    p = compute_panel({"contacts": df}, period="month", unit="centre", indicators=["aht"]).panel
    assert sorted(p["period"]) == ["2025-01-01", "2025-02-01"]


def test_min_n_flags_and_parameter_checks():
    df = contacts_frame([{} for _ in range(12)])
    r = compute_panel({"contacts": df}, unit="agent", indicators=["aht"], min_n=10)
    assert cell(r, "aht", "a1")["flag"] == ""
    r = compute_panel({"contacts": df}, unit="agent", indicators=["aht"])
    assert cell(r, "aht", "a1")["flag"] == "small_n"
    with pytest.raises(ParameterError, match="period"):
        compute_panel({"contacts": df}, period="year")
    with pytest.raises(ParameterError, match="unit"):
        compute_panel({"contacts": df}, unit="galaxy")
    with pytest.raises(ParameterError, match="min_n"):
        compute_panel({"contacts": df}, min_n=0)


def test_panel_format_and_summary():
    r = compute_panel({"contacts": sl_worked_example()}, unit=["agent", "centre"], indicators=["aht", "service_level"])
    assert list(r.panel.columns) == PANEL_COLUMNS + ["kind", "scale", "exempted_share"]
    assert set(r.panel.columns) - set(PANEL_COLUMNS) <= set(OPTIONAL_PANEL_COLUMNS)
    assert dict(zip(r.panel["indicator"], r.panel["kind"], strict=True)) == {"aht": "mean",
                                                                              "service_level": "proportion"}
    validate_panel(r.panel)
    text = r.summary()
    assert "Row accounting" in text and "contacts: read 1,060" in text
    assert r.params["period"] == "month" and r.params["definitions"]["service_level"]["params"]["threshold_s"] == 20


# --------------------------------------------------------------------------- user definitions
def test_user_defined_indicator_in_framework():
    extra = [{"code": "long_hold_rate", "name": "Held over 60 s", "pillar": "cost_control", "direction": "lower",
              "unit": "share", "params": {"limit_s": 60},
              "compute": {"table": "contacts", "kind": "proportion", "where": "answered",
                          "condition": "hold_s > ${limit_s}"}},
             {"code": "talk_minutes", "name": "Talk minutes", "pillar": "cost_control", "direction": "lower",
              "compute": {"table": "contacts", "kind": "mean", "where": "answered", "value": "talk_s / 60.0"}}]
    df = contacts_frame([{"hold": 10}, {"hold": 90}, {"hold": 61}, {"hold": 0, "talk": 120}])
    r = compute_panel({"contacts": df}, unit="agent", framework=framework_with(extra=extra),
                      indicators=["long_hold_rate", "talk_minutes"])
    assert cell(r, "long_hold_rate", "a1")["value"] == pytest.approx(0.5)
    assert cell(r, "talk_minutes", "a1")["value"] == pytest.approx((100 * 3 + 120) / 4 / 60)
    # overriding a catalogue indicator's definition
    over = framework_with()
    for ind in over["indicators"]:
        if ind["code"] == "aht":
            ind["compute"] = {"table": "contacts", "kind": "mean", "where": "answered", "value": "talk_s"}
    r2 = compute_panel({"contacts": df}, unit="agent", framework=over, indicators=["aht"])
    assert cell(r2, "aht", "a1")["value"] == pytest.approx(105.0)


@pytest.mark.parametrize(
    "compute, message",
    [({"table": "calls", "kind": "mean", "value": "x"}, "compute.table"),
     ({"table": "contacts", "kind": "average", "value": "x"}, "compute.kind"),
     ({"table": "contacts", "kind": "proportion"}, "compute.condition"),
     ({"table": "contacts", "kind": "mean", "value": "talk_s", "colour": 1}, "unknown key"),
     ({"table": "contacts", "kind": "quantile", "value": "talk_s", "quantile": 1.5}, "compute.quantile"),
     ({"table": "contacts", "kind": "mean", "value": "talk_s; DROP TABLE x"}, "single expression"),
     ({"table": "contacts", "kind": "mean", "value": "no_such_column * 2"}, "not a valid expression"),
     ({"table": "contacts", "kind": "mean", "value": "talk_s * ${factor}"}, "placeholder"),
     ("talk_s", r"compute: Input should be a valid dictionary")],
)
def test_user_definition_errors_name_the_key(compute, message):
    extra = [{"code": "custom", "name": "Custom", "pillar": "cost_control", "direction": "lower", "compute": compute}]
    with pytest.raises(FrameworkError, match=message) as info:
        compute_panel({"contacts": contacts_frame([{}])}, framework=framework_with(extra=extra), indicators=["custom"])
    assert "indicators.custom" in str(info.value) or "indicators[" in str(info.value)


def test_unknown_indicator_raises_and_framework_skip_notice():
    with pytest.raises(FrameworkError, match="no definition"):
        compute_panel({"contacts": contacts_frame([{}])}, indicators=["warp_speed"])
    extra = [{"code": "mystery", "name": "Mystery", "pillar": "cost_control", "direction": "lower"}]
    r = compute_panel({"contacts": contacts_frame([{}])}, framework=framework_with(extra=extra))
    assert any("mystery" in n for n in r.notices)


# --------------------------------------------------------------------------- exemptions
def test_exemption_windows_exclude_and_relax():
    rows = [{"arrived": T0 + pd.Timedelta(hours=h), "queue": q} for h, q in [(0, "q1"), (1, "q1"), (2, "q2"), (30, "q1")]]
    df = contacts_frame(rows)
    ex = pd.DataFrame({"start": [T0 + pd.Timedelta(minutes=30)], "end": [T0 + pd.Timedelta(hours=3)],
                       "scope": ["queue:q1"], "reason": ["outage"], "action": ["exclude"]})
    r = compute_panel({"contacts": df, "exemptions": ex}, unit="centre", indicators=["aht"])
    assert cell(r, "aht")["n"] == 3
    acc = r.accounting
    assert acc.loc[(acc["table"] == "contacts") & (acc["reason"] == "exempted"), "rows"].item() == 1
    ex["action"] = "relax_target"
    ex["scope"] = "all"
    r = compute_panel({"contacts": df, "exemptions": ex}, unit="centre", indicators=["aht"])
    # 2 of the 4 rows lie in the window: the share is reported, the cell is not flagged (needs > 1/2)
    row = cell(r, "aht")
    assert row["n"] == 4 and row["exempted_share"] == 0.5 and "exempted" not in row["flag"]
    assert check_accounting(r.accounting)
    ex["end"] = T0 + pd.Timedelta(hours=40)  # now 3 of 4
    row = cell(compute_panel({"contacts": df, "exemptions": ex}, unit="centre", indicators=["aht"]), "aht")
    assert row["exempted_share"] == 0.75 and "exempted" in row["flag"]
    fw = framework_with(exemptions=[{"start": str(T0), "end": str(T0 + pd.Timedelta(days=1)), "scope": "team:t1",
                                     "reason": "training", "action": "exclude"}])
    agents = pd.DataFrame({"agent_id": ["a1"], "team": ["t1"]})
    r = compute_panel({"contacts": df, "agents": agents}, unit="centre", framework=fw, indicators=["aht"])
    assert cell(r, "aht")["n"] == 1
    ex["scope"] = "planet:mars"
    with pytest.raises(Exception, match="scope"):
        compute_panel({"contacts": df, "exemptions": ex}, indicators=["aht"])


# --------------------------------------------------------------------------- roll-ups and shrinkage
def test_rollup_sums_counts_never_averages_percentages():
    rows = [{"agent": "a1", "resolved": True}] * 9 + [{"agent": "a1", "resolved": False}] + \
        [{"agent": "a2", "resolved": False}] * 3 + [{"agent": "a2", "resolved": True}]
    agents = pd.DataFrame({"agent_id": ["a1", "a2"], "team": ["t", "t"]})
    r = compute_panel({"contacts": contacts_frame(rows), "agents": agents}, unit=["agent", "team", "centre"],
                      indicators=["fcr_agent", "aht"])
    t = cell(r, "fcr_agent", "t")
    assert t["value"] == pytest.approx(10 / 14)  # not (0.9 + 0.25) / 2
    assert t["numerator"] == cell(r, "fcr_agent", "a1")["numerator"] + cell(r, "fcr_agent", "a2")["numerator"]


def test_beta_binomial_shrinkage_hand_worked():
    # 4 agents in one team, resolved k of n: 2/10, 9/10, 5/10, 18/20. Worked by hand:
    #   m = 34/50 = 0.68; rates 0.2, 0.9, 0.5, 0.9 (mean 0.625, sample variance 0.3475/3 = 0.115833)
    #   binomial noise: mean of m(1-m)/n = 0.2176 x mean(1/10, 1/10, 1/10, 1/20) = 0.2176 x 0.0875 = 0.01904
    #   tau2 = 0.115833 - 0.01904 = 0.096793; alpha+beta = 0.2176/0.0967933 - 1 = 1.248089
    #   a0: (2 + 0.68 x 1.248089) / (10 + 1.248089) = 2.848700 / 11.248089 = 0.253261
    #   a3: (18 + 0.848700) / (20 + 1.248089) = 18.848700 / 21.248089 = 0.887077
    ks, ns = [2, 9, 5, 18], [10, 10, 10, 20]
    rows = []
    for a, (k, n) in enumerate(zip(ks, ns, strict=True)):
        rows += [{"agent": f"a{a}", "resolved": True}] * k + [{"agent": f"a{a}", "resolved": False}] * (n - k)
    agents = pd.DataFrame({"agent_id": [f"a{a}" for a in range(4)], "team": ["t"] * 4})
    r = compute_panel({"contacts": contacts_frame(rows), "agents": agents}, unit="agent",
                      indicators=["fcr_agent"], shrinkage=True)
    got = [cell(r, "fcr_agent", f"a{a}")["value_shrunk"] for a in range(4)]
    assert got == pytest.approx([0.253261, 0.875589, 0.519973, 0.887077], abs=2e-6)
    assert abs(got[0] - 0.68) < abs(0.2 - 0.68)  # pulled toward the team rate
    assert not any("complete pooling" in n for n in r.notices)


def test_beta_binomial_complete_pooling_is_noticed():
    # rates 5/10, 5/10, 6/10: spread below binomial noise -> tau2 = 0, every agent gets 16/30
    rows = []
    for a, k in enumerate([5, 5, 6]):
        rows += [{"agent": f"a{a}", "resolved": True}] * k + [{"agent": f"a{a}", "resolved": False}] * (10 - k)
    agents = pd.DataFrame({"agent_id": ["a0", "a1", "a2"], "team": ["t"] * 3})
    r = compute_panel({"contacts": contacts_frame(rows), "agents": agents}, unit="agent",
                      indicators=["fcr_agent"], shrinkage=True)
    assert [cell(r, "fcr_agent", f"a{a}")["value_shrunk"] for a in range(3)] == pytest.approx([16 / 30] * 3)
    assert any(n.startswith("fcr_agent: shrinkage found no between-agent variance in 1 of 1") for n in r.notices)


def test_normal_shrinkage_uses_pooled_variance_hand_worked():
    # talk times: a0 [1, 3] (mean 2, s2 2), a1 [4, 6, 8] (mean 6, s2 4), a2 [10] (n = 1: no own variance)
    #   pooled s2 = (1 x 2 + 2 x 4) / (1 + 2) = 10/3; sigma_i^2 = s2/n_i = 5/3, 10/9, 10/3
    #   grand mean 6; var of means ((2-6)^2 + 0 + (10-6)^2)/2 = 16; tau2 = 16 - mean(sigma^2) = 16 - 55/27 = 377/27
    #   B = sigma^2/(sigma^2 + tau2) = 45/422, 30/407, 90/467
    #   shrunk: a0 = (45 x 6 + 377 x 2)/422 = 1024/422; a1 = 6; a2 = (90 x 6 + 377 x 10)/467 = 4310/467
    # (the old rule used each agent's own variance: a2, with n = 1, kept its raw 10)
    rows = [{"agent": a, "talk": float(t), "hold": 0.0, "acw": 0.0}
            for a, ts in (("a0", [1, 3]), ("a1", [4, 6, 8]), ("a2", [10])) for t in ts]
    agents = pd.DataFrame({"agent_id": ["a0", "a1", "a2"], "team": ["t"] * 3})
    r = compute_panel({"contacts": contacts_frame(rows), "agents": agents}, unit="agent",
                      indicators=["talk_time"], shrinkage=True)
    got = [cell(r, "talk_time", a)["value_shrunk"] for a in ("a0", "a1", "a2")]
    assert got == pytest.approx([1024 / 422, 6.0, 4310 / 467], rel=1e-12)


def test_normal_shrinkage_identical_values_are_shrunk_too():
    # a0 has three identical values (own variance 0): it is shrunk with the team's pooled variance
    rows = [{"agent": a, "talk": float(t)} for a, ts in (("a0", [5, 5, 5]), ("a1", [1, 9, 20]),
                                                         ("a2", [30, 40, 50])) for t in ts]
    agents = pd.DataFrame({"agent_id": ["a0", "a1", "a2"], "team": ["t"] * 3})
    r = compute_panel({"contacts": contacts_frame(rows), "agents": agents}, unit="agent",
                      indicators=["talk_time"], shrinkage=True)
    assert cell(r, "talk_time", "a0")["value_shrunk"] != pytest.approx(5.0)


# --------------------------------------------------------------------------- units
def test_team_level_without_agents_table_is_a_notice_and_unknown_agents_noted():
    df = contacts_frame([{}])
    r = compute_panel({"contacts": df}, unit=["team", "centre"], indicators=["aht"])
    assert set(r.panel["unit_level"]) == {"centre"}
    assert any("no agents table" in n for n in r.notices)
    with pytest.raises(DataError, match="unit level"):
        compute_panel({"contacts": df}, unit="team", indicators=["aht"])
    agents = pd.DataFrame({"agent_id": ["zz"], "team": ["t"]})
    r = compute_panel({"contacts": df, "agents": agents}, unit=["team", "centre"], indicators=["aht"])
    assert any("absent from the agents table" in n for n in r.notices)


def test_abandoned_contacts_count_in_team_when_queue_names_the_team():
    rows = [{"agent": "a1", "queue": "t1"}, {"abandoned": True, "queue": "t1", "wait": 60},
            {"abandoned": True, "queue": "other", "wait": 60}]
    agents = pd.DataFrame({"agent_id": ["a1"], "team": ["t1"]})
    r = compute_panel({"contacts": contacts_frame(rows), "agents": agents}, unit=["team", "centre"],
                      indicators=["abandon_rate"])
    assert cell(r, "abandon_rate", "t1")["denominator"] == 2
    assert cell(r, "abandon_rate")["denominator"] == 3


def test_role_and_site_levels():
    agents = pd.DataFrame({"agent_id": ["a1", "a2"], "team": ["t1", "t2"], "role": ["front", "front"],
                           "site": ["s1", "s2"]})
    rows = [{"agent": "a1", "talk": 100}, {"agent": "a2", "talk": 300}]
    r = compute_panel({"contacts": contacts_frame(rows), "agents": agents}, unit=["role", "site"],
                      indicators=["aht"])
    assert cell(r, "aht", "front")["value"] == pytest.approx(200)
    assert cell(r, "aht", "s2")["value"] == pytest.approx(300)


def ticket_frame(x: np.ndarray) -> pd.DataFrame:
    created = [T0 + pd.Timedelta(minutes=i) for i in range(len(x))]
    return pd.DataFrame({"ticket_id": [f"t{i}" for i in range(len(x))], "agent_id": "a1", "created_at": created,
                         "first_reply_at": [c + pd.Timedelta(seconds=float(v)) for c, v in zip(created, x,
                                                                                               strict=True)],
                         "solved_at": pd.NaT})


def binomial_ranks(n: int, q: float, level: float = 0.95) -> tuple[int, int]:
    """Brute force over every rank with scipy's binomial cdf (Conover 1999, 3.2): 0 = no bound."""
    a = (1 - level) / 2
    cdf = sps.binom.cdf(np.arange(n + 1), n, q)
    lows = [r for r in range(1, n + 1) if cdf[r - 1] <= a]
    highs = [r for r in range(1, n + 1) if cdf[r - 1] >= 1 - a]
    return (max(lows) if lows else 0), (min(highs) if highs else 0)


def test_quantile_interval_is_the_exact_order_statistic_interval():
    rng = np.random.default_rng(11)
    x = np.round(rng.gamma(2.0, 60.0, 400), 3)
    r = compute_panel({"tickets": ticket_frame(x)}, unit="agent", period="quarter",
                      indicators=["first_response_time", "first_response_time_p90"])
    xs = np.sort(x)
    for code, q in (("first_response_time", 0.5), ("first_response_time_p90", 0.9)):
        row = cell(r, code, "a1")
        lo_rank, hi_rank = binomial_ranks(len(x), q)
        assert row["value"] == pytest.approx(np.quantile(x, q), rel=1e-6)
        assert row["ci_low"] == pytest.approx(xs[lo_rank - 1], abs=1e-6)
        assert row["ci_high"] == pytest.approx(xs[hi_rank - 1], abs=1e-6)
        assert row["flag"] == ""


def test_p90_interval_is_one_sided_below_n36_and_flagged():
    x = np.arange(1.0, 11.0) * 10  # n = 10: 0.9**10 = 0.35 > 0.025, no order statistic bounds the p90 above
    r = compute_panel({"tickets": ticket_frame(x)}, unit="agent", period="quarter",
                      indicators=["first_response_time_p90"], min_n=5)
    row = cell(r, "first_response_time_p90", "a1")
    assert binomial_ranks(10, 0.9) == (7, 0)
    assert row["ci_low"] == 70.0 and np.isnan(row["ci_high"]) and row["flag"] == "no_ci"
    assert any("no_ci" in n for n in r.notices)


def test_interval_properties_hypothesis():
    from hypothesis import assume, given, settings
    from hypothesis import strategies as st

    @settings(max_examples=60, deadline=None)
    @given(n=st.integers(1, 5000), frac=st.floats(0, 1))
    def wilson_contains_rate(n, frac):
        k = round(frac * n)
        lo, hi = wilson_interval([k], [n])
        assert 0 <= lo[0] <= k / n <= hi[0] <= 1

    @settings(max_examples=60, deadline=None)
    @given(p=st.integers(0, 300), d=st.integers(0, 300), passive=st.integers(0, 300))
    def nps_in_range(p, d, passive):
        n = p + d + passive
        assume(n > 0)
        v, lo, hi = nps_interval([p], [d], [n])
        assert -100 <= lo[0] <= v[0] <= hi[0] <= 100

    wilson_contains_rate()
    nps_in_range()
