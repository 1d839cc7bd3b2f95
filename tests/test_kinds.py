"""Indicator kinds (kpilab.indicators.kinds): exact quantile intervals and pooling, checked independently."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps
from statsmodels.stats.proportion import proportion_confint

from kpilab.indicators import compute_panel
from kpilab.indicators.kinds import KINDS
from kpilab.indicators.stats import quantile_order_ranks
from kpilab.panel import PANEL_COLUMNS, pool_periods
from tests.test_indicators import contacts_frame, survey_setup

T0 = pd.Timestamp("2025-01-06 09:00")


# --------------------------------------------------------------------------- quantile intervals
def brute_ranks(n: int, q: float, level: float) -> tuple[int, int]:
    """Every rank tried with scipy's binomial cdf: largest l with F(l-1) <= a/2, smallest u with F(u-1) >= 1-a/2."""
    a = (1 - level) / 2
    cdf = sps.binom.cdf(np.arange(n + 1), n, q)
    lows = [r for r in range(1, n + 1) if cdf[r - 1] <= a + 1e-12]  # ties (e.g. 0.05**1 = 0.05) allowed
    highs = [r for r in range(1, n + 1) if cdf[r - 1] >= 1 - a - 1e-12]
    return (max(lows) if lows else 0), (min(highs) if highs else 0)


@pytest.mark.parametrize("q", [0.1, 0.5, 0.9, 0.95])
@pytest.mark.parametrize("level", [0.9, 0.95])
def test_order_statistic_ranks_match_the_binomial(q, level):
    ns = np.array([1, 2, 5, 6, 10, 20, 35, 36, 59, 100, 257, 1000])
    lo, hi = quantile_order_ranks(q, ns, level)
    for n, l_rank, u_rank in zip(ns, lo, hi, strict=True):
        assert (l_rank, u_rank) == brute_ranks(int(n), q, level), n
        if l_rank and u_rank:  # both bounds: the binomial coverage is at least the level
            cov = sps.binom.cdf(u_rank - 1, n, q) - sps.binom.cdf(l_rank - 1, n, q)
            assert cov >= level - 1e-12


def test_p90_has_no_upper_bound_below_36_observations():
    # 0.9**35 = 0.0250 > 0.025 and 0.9**36 = 0.0225: the upper bound first exists at n = 36
    _, hi = quantile_order_ranks(0.9, [35, 36], 0.95)
    assert hi.tolist() == [0, 36]


@pytest.mark.parametrize("n", [10, 20])
@pytest.mark.parametrize("q", [0.5, 0.9])
def test_quantile_interval_coverage_by_simulation(n, q):
    # 2000 samples from an exponential (known quantile -ln(1-q)); a missing bound is an open end
    rng = np.random.default_rng(20240 + n + int(100 * q))
    reps = 2000
    x = np.sort(rng.exponential(1.0, (reps, n)), axis=1)
    truth = -np.log(1 - q)
    lo_rank, hi_rank = (int(v[0]) for v in quantile_order_ranks(q, [n], 0.95))
    low = x[:, lo_rank - 1] if lo_rank else np.full(reps, -np.inf)
    high = x[:, hi_rank - 1] if hi_rank else np.full(reps, np.inf)
    coverage = np.mean((low <= truth) & (truth <= high))
    mc = 3 * np.sqrt(0.95 * 0.05 / reps)
    assert coverage >= 0.95 - mc
    # the old normal-approximation ranks on interpolated quantiles missed badly (63 % at n = 10 for p90)
    d = sps.norm.ppf(0.975) * np.sqrt(q * (1 - q) / n)
    old_low = np.quantile(x, max(q - d, 0), axis=1)
    old_high = np.quantile(x, min(q + d, 1), axis=1)
    if q == 0.9:
        assert np.mean((old_low <= truth) & (truth <= old_high)) < 0.9


# --------------------------------------------------------------------------- pooling
def two_month_data() -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(5)
    rows = []
    for month, count in ((0, 10), (1, 30)):
        for i in range(count):
            rows.append({"arrived": T0 + pd.Timedelta(days=31 * month, minutes=i), "talk": float(rng.gamma(3, 80)),
                         "resolved": bool(rng.random() < 0.7), "agent": "a1" if i % 3 else "a2"})
    contacts = contacts_frame(rows)
    n = len(contacts)
    nps = rng.choice([0, 3, 6, 7, 8, 9, 10], size=n)
    surveys = pd.DataFrame({"contact_id": contacts["contact_id"], "csat": rng.integers(1, 6, n).astype(float),
                            "nps": nps.astype(float), "responded_at": contacts["ended_at"]})
    return {"contacts": contacts, "surveys": surveys}


@pytest.fixture(scope="module")
def pooled_and_whole():
    data = two_month_data()
    inds = ["answered_contacts", "fcr_agent", "talk_time", "nps", "csat", "contacts_per_day"]
    monthly = compute_panel(data, period="month", unit="agent", indicators=inds)
    # the whole span as one period: DuckDB sums over the raw rows, independent of the pooling code
    whole = compute_panel(data, period="quarter", unit="agent", indicators=inds)
    return data, monthly.panel, whole.panel


def test_pool_count_is_the_total(pooled_and_whole):
    _, monthly, _ = pooled_and_whole
    per = monthly[monthly["indicator"] == "answered_contacts"]
    pooled = pool_periods(monthly, indicators=["answered_contacts"])
    assert pooled.method["answered_contacts"] == "sum"
    expected = per.groupby("unit_id")["value"].sum()
    pd.testing.assert_series_equal(pooled.values["answered_contacts"], expected, check_names=False)
    # periods of 10 and 30 contacts give 40 (the old inference gave sum(c^2)/sum(c) = 25)
    panel = pd.DataFrame({"unit_id": "a", "unit_level": "agent", "period": ["p1", "p2"], "indicator": "calls",
                          "value": [10.0, 30.0], "numerator": [10.0, 30.0], "denominator": np.nan, "n": [10.0, 30.0],
                          "ci_low": np.nan, "ci_high": np.nan, "flag": "", "kind": "count", "scale": 1.0})
    assert pool_periods(panel).values.loc["a", "calls"] == 40


@pytest.mark.parametrize("code", ["fcr_agent", "talk_time", "nps", "csat", "contacts_per_day"])
def test_pooled_months_equal_the_whole_period_cell(pooled_and_whole, code):
    _, monthly, whole = pooled_and_whole
    pooled = pool_periods(monthly, indicators=[code])
    w = whole[whole["indicator"] == code].set_index("unit_id")
    assert pooled.method[code] == "pooled_ratio"
    np.testing.assert_allclose(pooled.values[code], w["value"].reindex(pooled.values.index), rtol=1e-10)
    np.testing.assert_allclose(pooled.n[code], w["n"].reindex(pooled.values.index))
    if code != "contacts_per_day":
        np.testing.assert_allclose(pooled.ci_low[code], w["ci_low"].reindex(pooled.values.index), rtol=1e-9)
        np.testing.assert_allclose(pooled.ci_high[code], w["ci_high"].reindex(pooled.values.index), rtol=1e-9)
    else:
        assert pooled.ci_low[code].isna().all()


def test_pooled_intervals_against_scipy_and_statsmodels(pooled_and_whole):
    data, monthly, _ = pooled_and_whole
    c = data["contacts"]
    pooled = pool_periods(monthly, indicators=["fcr_agent", "talk_time"])
    for agent, g in c.groupby("agent_id"):
        k, n = int(g["resolved"].sum()), len(g)
        lo, hi = proportion_confint(k, n, alpha=0.05, method="wilson")
        assert pooled.ci_low.loc[agent, "fcr_agent"] == pytest.approx(lo, abs=1e-12)
        assert pooled.ci_high.loc[agent, "fcr_agent"] == pytest.approx(hi, abs=1e-12)
        x = g["talk_s"].to_numpy()
        lo, hi = sps.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=sps.sem(x))
        assert pooled.values.loc[agent, "talk_time"] == pytest.approx(x.mean(), rel=1e-12)
        assert (pooled.ci_low.loc[agent, "talk_time"], pooled.ci_high.loc[agent, "talk_time"]) == (
            pytest.approx(lo, rel=1e-9), pytest.approx(hi, rel=1e-9))


def test_pooled_mean_interval_with_single_observation_cells():
    # a cell of one value (no interval) still pools exactly: its sum of squares is x^2
    rows = [{"arrived": T0, "talk": 100.0}] + [{"arrived": T0 + pd.Timedelta(days=31, minutes=i), "talk": t}
                                               for i, t in enumerate([120.0, 180.0, 90.0])]
    p = compute_panel({"contacts": contacts_frame(rows)}, period="month", unit="agent", indicators=["talk_time"])
    pooled = pool_periods(p.panel, level=0.95)
    x = np.array([100.0, 120, 180, 90])
    lo, hi = sps.t.interval(0.95, 3, loc=x.mean(), scale=sps.sem(x))
    assert pooled.ci_low.loc["a1", "talk_time"] == pytest.approx(lo)
    assert pooled.ci_high.loc["a1", "talk_time"] == pytest.approx(hi)


def test_pooled_nps_interval_recovers_promoters_and_detractors():
    # month 1: 50 P / 30 passive / 20 D (NPS 30); month 2: 9 P / 1 D (interval clipped at +100)
    nps1 = [10] * 50 + [7] * 30 + [3] * 20
    nps2 = [9] * 9 + [0]
    data = survey_setup([4.0] * 110, nps=nps1 + nps2)
    data["contacts"] = contacts_frame([{"arrived": T0 + pd.Timedelta(days=0 if i < 100 else 40, minutes=i)}
                                       for i in range(115)])
    p = compute_panel(data, period="month", unit="agent", indicators=["nps"]).panel
    assert len(p) == 2 and (p["kind"] == "nps").all() and (p["scale"] == 100).all()
    pooled = pool_periods(p)
    n, prom, det = 110, 59, 21
    v = 100 * (prom - det) / n
    se = 100 * np.sqrt((prom / n + det / n - ((prom - det) / n) ** 2) / n)
    z = sps.norm.ppf(0.975)
    assert pooled.values.loc["a1", "nps"] == pytest.approx(v)
    assert pooled.ci_low.loc["a1", "nps"] == pytest.approx(v - z * se)
    assert pooled.ci_high.loc["a1", "nps"] == pytest.approx(v + z * se)


def test_quantile_pooling_is_labelled_an_approximation():
    panel = pd.DataFrame({"unit_id": "a", "unit_level": "agent", "period": ["p1", "p2"], "indicator": "ttr",
                          "value": [100.0, 200.0], "numerator": np.nan, "denominator": [4.0, 12.0], "n": [4.0, 12.0],
                          "ci_low": np.nan, "ci_high": np.nan, "flag": "", "kind": "quantile", "scale": 1.0})
    pooled = pool_periods(panel)
    assert pooled.values.loc["a", "ttr"] == pytest.approx((4 * 100 + 12 * 200) / 16)
    assert pooled.method["ttr"].startswith("n_weighted_mean (approximation")
    assert np.isnan(pooled.ci_low.loc["a", "ttr"])


def test_pool_uses_the_kind_not_the_values():
    # a mean whose value happens to equal 100 x numerator/denominator would be mistaken for an NPS by inference
    panel = pd.DataFrame({"unit_id": "a", "unit_level": "agent", "period": ["p1", "p2"], "indicator": "m",
                          "value": [50.0, 10.0], "numerator": [1.0, 10.0], "denominator": [2.0, 100.0],
                          "n": [2.0, 100.0], "ci_low": np.nan, "ci_high": np.nan, "flag": ""})
    inferred = pool_periods(panel[PANEL_COLUMNS])
    assert "kind inferred" in inferred.method["m"]
    kinded = pool_periods(panel.assign(kind="mean", scale=1.0))
    assert kinded.values.loc["a", "m"] == pytest.approx(11 / 102)
    assert kinded.method["m"] == "pooled_ratio"


def test_every_kind_defines_cell_shrink_and_pool():
    assert set(KINDS) == {"proportion", "mean", "quantile", "ratio", "per_day", "count", "nps"}
    for kind in KINDS.values():
        for method in ("aggregates", "cell", "shrink", "pool"):
            assert callable(getattr(kind, method))
