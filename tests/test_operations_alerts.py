"""Control-chart limits against the textbook formulas, run rules on planted patterns, threshold alerts with
intervals, and the holiday correction (a planted holiday peak stops raising alerts)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kpilab.errors import InsufficientDataError, ParameterError
from kpilab.framework import default_framework
from kpilab.indicators.stats import wilson_interval
from kpilab.operations.alerts import control_charts, threshold_alerts
from kpilab.operations.spc import imr_chart, p_chart, run_rules, xbar_chart


def test_p_chart_limits_are_montgomerys_formula():
    k = np.array([12, 15, 8, 10, 4, 7, 16, 9, 14, 10])
    n = np.array([100, 120, 80, 100, 60, 90, 150, 100, 110, 95])
    c = p_chart(k, n)
    pbar = k.sum() / n.sum()
    sig = np.sqrt(pbar * (1 - pbar) / n)
    assert np.allclose(c["center"], pbar)
    assert np.allclose(c["ucl"], pbar + 3 * sig) and np.allclose(c["lcl"], np.maximum(0, pbar - 3 * sig))
    assert np.allclose(c["z"], (k / n - pbar) / sig)
    lan = p_chart(k, n, laney=True)
    sz = np.mean(np.abs(np.diff((k / n - pbar) / sig))) / (2 / np.sqrt(np.pi))  # d2(2) = 2/sqrt(pi)
    assert np.allclose(lan["ucl"], np.minimum(1, pbar + 3 * sig * sz))


def test_xbar_and_imr_limits_are_the_textbook_formulas():
    rng = np.random.default_rng(1)
    n = rng.integers(5, 30, 12).astype(float)
    s = rng.uniform(20, 40, 12)
    x = rng.normal(300, 10, 12)
    c = xbar_chart(x, n, s)
    grand = (n * x).sum() / n.sum()
    sp = np.sqrt(((n - 1) * s**2).sum() / (n - 1).sum())
    assert np.allclose(c["ucl"], grand + 3 * sp / np.sqrt(n)) and np.allclose(c["lcl"], grand - 3 * sp / np.sqrt(n))
    i = imr_chart(x)
    mr = np.abs(np.diff(x)).mean()
    assert np.allclose(i["ucl"], x.mean() + 2.66 * mr, rtol=1e-3)  # E2 = 3 / d2(2) = 2.6587
    assert np.allclose(i["lcl"], x.mean() - 3 * mr / (2 / np.sqrt(np.pi)))


def test_imr_limits_and_rules_agree_with_capstat_core_when_installed():
    cc = pytest.importorskip("capstat_core.control_charts")
    rules = pytest.importorskip("capstat_core.rules")
    rng = np.random.default_rng(7)
    x = np.concatenate([rng.normal(0, 1, 30), rng.normal(1.5, 1, 12)])
    ours = imr_chart(x, rules=("beyond_3sigma", "two_of_three_2sigma", "four_of_five_1sigma", "run_8"))
    ref = cc.i_mr_chart(x).location
    assert ours["ucl"].iloc[0] == pytest.approx(ref.limits.upper) and ours["lcl"].iloc[0] == pytest.approx(ref.limits.lower)
    names = {1: "beyond_3sigma", 2: "two_of_three_2sigma", 3: "four_of_five_1sigma", 4: "run_8"}
    theirs = {(v.point, names[v.rule]) for v in rules.western_electric_rules(ref)}
    mine = {(i, r) for i, rr in enumerate(ours["rule"]) for r in rr.split(";") if r}
    assert mine == theirs


def test_run_rules_name_the_pattern_at_the_point_that_completes_it():
    z = np.array([0.1, -0.2, 0.5, 0.4, 0.3, 0.6, 0.2, 0.9, 0.8, 3.5, -0.1])
    fired = run_rules(z)
    assert fired[:7] == [""] * 7 or "run_8" not in ";".join(fired[:7])
    assert "run_8" in fired[9] and "beyond_3sigma" in fired[9]  # points 2..9 above the centre line
    trend = run_rules(np.array([-2.0, -1.5, -1.0, -0.2, 0.3, 0.9, 0.1]))
    assert trend[5] == "trend_6" and trend[4] == "" and trend[6] == ""
    assert run_rules(np.array([0.0, 2.5, 2.2]), ("two_of_three_2sigma",))[2] == "two_of_three_2sigma"
    with pytest.raises(ParameterError, match="Unknown run rule"):
        run_rules(z, ("nine_in_a_row",))


def test_too_few_periods_is_refused_or_stated():
    with pytest.raises(InsufficientDataError, match="3 period"):
        imr_chart([1.0, 2.0, 3.0])
    panel = _panel(np.array([0.05, 0.06, 0.07]), 1000, start="2025-01-01")
    c = control_charts(panel, ["abandon_rate"], unit_level="queue")
    assert (c["flag"] == "too_few_periods").all() and c["ucl"].isna().all()


def _panel(rates, n, *, start, unit="q1", level="queue", indicator="abandon_rate", exempt=None):
    periods = pd.date_range(start, periods=len(rates), freq="D")
    n = np.broadcast_to(np.asarray(n, dtype=float), len(rates))
    k = np.round(np.asarray(rates) * n)
    lo, hi = wilson_interval(k, n)
    return pd.DataFrame({
        "unit_id": unit, "unit_level": level, "period": periods.strftime("%Y-%m-%d"), "indicator": indicator,
        "value": k / n, "numerator": k, "denominator": n, "n": n, "ci_low": lo, "ci_high": hi,
        "flag": "", "kind": "proportion", "scale": np.nan,
        "exempted_share": 0.0 if exempt is None else np.asarray(exempt, dtype=float)})


def test_small_team_is_possible_not_confirmed():
    fw = default_framework()
    small = _panel([2 / 14] * 3, 14, start="2025-03-01", unit="team_small", level="team")
    big = _panel([0.12] * 3, 2000, start="2025-03-01", unit="team_big", level="team")
    ok = _panel([0.05] * 3, 2000, start="2025-03-01", unit="team_ok", level="team")
    a = threshold_alerts(pd.concat([small, big, ok]), fw)
    status = a.groupby("unit_id")["status"].unique()
    assert list(status["team_small"]) == ["possible"] and list(status["team_big"]) == ["confirmed"]
    assert "team_ok" not in status.index
    assert (a["threshold"] == 0.08).all() and (a["side"] == "above").all()
    sl = _panel([0.5] * 3, 2000, start="2025-03-01", indicator="service_level")
    assert (threshold_alerts(sl, fw)["side"] == "below").all()


def test_planted_holiday_peak_stops_raising_alerts():
    """Two years of daily abandonment at 4 % with the same 11.11 week at 14 % each year (n = 2000 a day)."""
    rng = np.random.default_rng(3)
    days = pd.date_range("2024-01-01", "2025-12-31", freq="D")
    holiday = ((days.month == 11) & (days.day >= 11) & (days.day <= 17))
    rates = np.where(holiday, 0.14, 0.04) + rng.normal(0, 0.004, len(days))
    panel = _panel(rates, 2000, start="2024-01-01")
    fw = default_framework()
    in_2025 = (pd.to_datetime(panel["period"]).dt.year == 2025).to_numpy()
    hol_2025 = set(panel.loc[holiday & in_2025, "period"])
    raw = threshold_alerts(panel, fw)
    assert hol_2025 <= set(raw.loc[raw["status"] == "confirmed", "period"])  # the peak raises alerts
    adj = threshold_alerts(panel, fw, seasonal="last_year")
    assert not hol_2025 & set(adj["period"])  # compared with last year's festival: no alert
    held = adj[pd.to_datetime(adj["period"]).dt.year == 2025]
    assert held.empty  # and no ordinary 2025 day alerts either
    # an exemption window over the festival: the cells are reported as exempted, not as alerts
    ex = _panel(rates, 2000, start="2024-01-01", exempt=holiday)
    st = threshold_alerts(ex, fw).set_index("period")["status"]
    assert (st.loc[sorted(hol_2025)] == "exempted").all()
    # control chart of the adjusted series: no holiday point fires
    cc = control_charts(panel, ["abandon_rate"], unit_level="queue", seasonal="last_year")
    assert not cc.loc[cc["period"].isin(hol_2025), "signal"].any()
    cc_raw = control_charts(panel, ["abandon_rate"], unit_level="queue")
    assert cc_raw.loc[cc_raw["period"].isin(hol_2025), "signal"].all()


def test_bad_seasonal_option():
    with pytest.raises(ParameterError, match="seasonal"):
        threshold_alerts(_panel([0.1] * 3, 100, start="2025-01-01"), seasonal="easter")
