"""health_review end to end on constructed wide tables: decisions, bad input, properties, CLI."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kpilab.cli import main
from kpilab.errors import DataError, FrameworkError, InsufficientDataError, ParameterError, SchemaError
from kpilab.health import DECISION_COLUMNS, IndicatorPruner, health_review
from kpilab.panel import wide_to_long

DIRS = {"drv": "higher", "neg": "lower", "noise": "higher", "copy": "higher", "wrong": "higher", "const": "higher",
        "patchy": "higher", "retention": "higher"}


def make_wide(n_units=120, n_periods=3, seed=0):
    """Agents x months; drv and neg drive retention, noise does not, copy duplicates drv, wrong has the wrong sign."""
    rng = np.random.default_rng(seed)
    skill = rng.normal(size=n_units)
    rows = []
    for u in range(n_units):
        for m in range(n_periods):
            rows.append(
                {
                    "unit_id": f"a{u:03d}",
                    "period": f"2025-{m + 1:02d}-01",
                    "drv": skill[u] + rng.normal(0, 0.3),
                    "neg": -skill[u] + rng.normal(0, 0.3),
                    "noise": rng.normal(),
                    "copy": skill[u] + rng.normal(0, 0.05),
                    "wrong": -skill[u] + rng.normal(0, 0.3),
                    "const": 1.0,
                    "patchy": rng.normal() if u % 2 else np.nan,
                    "retention": 0.8 + 0.05 * skill[u] + rng.normal(0, 0.01),
                }
            )
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def review():
    return health_review(make_wide(n_units=300), "retention", directions=DIRS)


def test_decisions_table_and_reasons(review):
    d = review.decisions.set_index("indicator")
    assert list(review.decisions.columns) == DECISION_COLUMNS
    # copy, drv, neg and wrong all measure skill (|r| > 0.9 for every pair): one redundancy cluster, one
    # representative kept (the best decision, then links tied within 0.02, coverage equal: first code)
    assert d.loc["copy", "decision"] == "keep"
    for c in ("drv", "neg", "wrong"):
        assert d.loc[c, "decision"] == "prune" and d.loc[c, "reason"].startswith("Redundant: Measures the same as copy")
    assert "On its own it would be kept" in d.loc["drv", "reason"]
    assert "On its own it would be reviewed" in d.loc["wrong", "reason"]
    assert d.loc["noise", "decision"] == "prune" and "below 0.3" in d.loc["noise", "reason"]
    assert d.loc["const", "decision"] == "prune" and "same value" in d.loc["const", "reason"]
    assert d.loc["patchy", "decision"] == "prune" and "50%" in d.loc["patchy", "reason"]
    assert bool(d.loc["wrong", "sign_conflict"])
    assert not d["sign_conflict"].drop("wrong").any()
    assert d["decision"].isin(["keep", "prune", "review"]).all() and d["reason"].str.len().gt(20).all()
    assert d.loc["drv", "n"] == 300 and d.loc["drv", "n_units"] == 300


def test_redundancy_conflicts_and_vif(review):
    red = review.redundancy
    pair = red[(red[["indicator_a", "indicator_b"]].apply(set, axis=1) == {"drv", "copy"})]
    assert len(pair) == 1
    assert review.decisions.set_index("indicator").loc["copy", "redundant_with"].startswith("drv") or \
        "copy" in review.decisions.set_index("indicator").loc["drv", "redundant_with"]
    # wrong (higher is better) goes with low skill: aligned it conflicts with drv
    conf = review.conflicts
    assert ((conf["indicator_a"] == "drv") & (conf["indicator_b"] == "wrong")).any() or \
        ((conf["indicator_a"] == "wrong") & (conf["indicator_b"] == "drv")).any()
    assert set(review.vif["indicator"]) == {"drv", "neg", "noise", "copy", "wrong"}
    assert (review.vif.set_index("indicator").loc[["drv", "copy"], "vif"] > 10).all()


def test_coherence_stability_and_summary(review):
    coh = review.coherence.set_index("level")
    assert set(review.coherence["level"]) == {"indicator", "pillar"}
    assert np.isnan(coh.loc["pillar", "r"])  # one pillar ('other'): no pillar-to-index correlation
    assert review.pillars.loc[0, "pillar"] == "other" and review.pillars.loc[0, "n_indicators"] == 5
    assert len(review.pca) == 5 and review.pca["share"].sum() == pytest.approx(1)
    assert len(review.impact) == 5
    assert set(review.stability["period"]) == {"2025-01-01", "2025-02-01", "2025-03-01"}
    s = review.stability.set_index(["indicator", "period"])
    assert s.loc[("drv", "2025-02-01"), "rank_rho_prev"] > 0.8
    assert abs(s.loc[("noise", "2025-02-01"), "rank_rho_prev"]) < 0.3
    text = review.summary()
    # copy represents the skill cluster (drv, neg, wrong give way to it); noise, const and patchy are pruned
    assert "keep 1, review 0, prune 6" in text and "1 redundancy cluster(s)" in text
    assert "retention" in text and "drv" in text
    story = review.narrative()
    assert "drv" in story and "Drop from the scorecard" in story and "measure the same thing" in story


def test_unit_level_equals_manual_aggregation():
    wide = make_wide(n_units=40, n_periods=2, seed=3)
    rev = health_review(wide, "retention", directions=DIRS, indicators=["drv", "noise"])
    agg = wide.groupby("unit_id")[["drv", "noise", "retention"]].mean()
    from scipy import stats

    for c in ("drv", "noise"):
        ref = stats.spearmanr(agg[c], agg["retention"])
        row = rev.correlations.set_index("indicator").loc[c]
        assert row["r"] == pytest.approx(ref.statistic) and row["p_unc"] == pytest.approx(ref.pvalue)


def _ratio_panel(seed=0, n_units=12):
    """Two months of a ratio (fcr), a x100 ratio (nps) and an outcome without counts."""
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(n_units):
        for m, per in enumerate(("2025-01-01", "2025-02-01")):
            den = float(rng.integers(2, 50))
            num = float(rng.integers(0, den + 1))
            rows.append((f"u{u:02d}", per, "fcr", num / den, num, den))
            # NPS: (promoters - detractors) / responses x 100, very different volumes per month
            resp = float(rng.integers(1, 5) if m == 0 else rng.integers(40, 80))
            net = float(rng.integers(-resp, resp + 1))
            rows.append((f"u{u:02d}", per, "nps", 100 * net / resp, net, resp))
            rows.append((f"u{u:02d}", per, "retention", 0.5 + 0.01 * u + 0.001 * m, np.nan, np.nan))
    long = pd.DataFrame(rows, columns=["unit_id", "period", "indicator", "value", "numerator", "denominator"])
    long.insert(1, "unit_level", "agent")
    for c in ("n", "ci_low", "ci_high"):
        long[c] = np.nan
    long["flag"] = ""
    return long


def test_pooled_ratio_from_long_panel():
    # pooled ratios are sum(numerator) / sum(denominator) over the periods (x 100 for NPS), never the mean of
    # the monthly rates; an indicator without counts is the mean of its periods
    long = _ratio_panel()
    rev = health_review(long, "retention", directions={"fcr": "higher", "nps": "higher"}, method="pearson")
    X = rev.matrix.X
    sums = long.groupby(["indicator", "unit_id"])[["numerator", "denominator"]].sum()
    fcr = sums.loc["fcr", "numerator"] / sums.loc["fcr", "denominator"]
    nps = 100 * sums.loc["nps", "numerator"] / sums.loc["nps", "denominator"]
    np.testing.assert_allclose(X["fcr"].to_numpy(), fcr.to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(X["nps"].to_numpy(), nps.to_numpy(), rtol=1e-12)  # the mean of months differs
    assert rev.matrix.y.loc["u03"] == pytest.approx(0.5305)
    from scipy import stats

    expected = stats.pearsonr(nps.to_numpy(), rev.matrix.y.to_numpy()).statistic
    assert rev.correlations.set_index("indicator").loc["nps", "r"] == pytest.approx(expected, rel=1e-12)


def test_health_pools_periods_as_the_panel_does():
    # one pooling rule: the review's per-unit values are kpilab.panel.pool_periods' values
    from kpilab.panel import pool_periods

    long = _ratio_panel(seed=5)
    rev = health_review(long, "retention", directions={"fcr": "higher", "nps": "higher"})
    pooled = pool_periods(long, unit_level="agent").values
    pd.testing.assert_frame_equal(rev.matrix.X, pooled[["fcr", "nps"]].rename_axis("unit_id"), check_names=False,
                                  check_freq=False)


def test_row_level_bootstrap_and_within_period():
    wide = make_wide(n_units=60, n_periods=3, seed=1)
    wide["retention"] += np.repeat([0.0, 0.2, 0.4], 1)[wide["period"].str[6].astype(int) - 1]
    rev = health_review(wide, "retention", directions=DIRS, unit_of_analysis="row", ci="bootstrap", n_boot=300,
                        within_period=True, indicators=["drv", "noise"])
    d = rev.decisions.set_index("indicator")
    assert d.loc["drv", "decision"] == "keep" and d.loc["drv", "n"] == 180 and d.loc["drv", "n_units"] == 60
    assert rev.correlations["n_controls"].eq(2).all()  # two period dummies
    # cluster bootstrap is wider than the naive row Fisher interval for a between-agent indicator
    naive = health_review(wide, "retention", directions=DIRS, unit_of_analysis="row", within_period=True,
                          indicators=["drv"]).decisions.iloc[0]
    assert d.loc["drv", "ci_high"] - d.loc["drv", "ci_low"] > naive["ci_high"] - naive["ci_low"]


def test_controls_partial_out_mix():
    rng = np.random.default_rng(2)
    n = 150
    mix = rng.uniform(size=n)
    df = pd.DataFrame({"unit_id": [f"u{i}" for i in range(n)], "chat_share": mix,
                       "aht": 300 + 200 * mix + rng.normal(0, 10, n), "retention": 0.9 - 0.2 * mix + rng.normal(0, .01, n)})
    raw = health_review(df, "retention", directions={"aht": "lower", "chat_share": "higher"}, indicators=["aht"])
    part = health_review(df, "retention", directions={"aht": "lower"}, controls=["chat_share"])
    assert raw.decisions.loc[0, "decision"] == "keep"
    assert part.decisions.loc[0, "decision"] == "prune" and part.controls == ("chat_share",)


# ----------------------------------------------------------------------------- bad input
def test_missing_and_constant_outcome_are_clear_errors():
    wide = make_wide(n_units=20, n_periods=1)
    with pytest.raises(DataError, match="'nope' is not in the panel"):
        health_review(wide, "nope", directions=DIRS)
    wide["retention"] = 0.9
    with pytest.raises(InsufficientDataError, match="same value"):
        health_review(wide, "retention", directions=DIRS)
    # equal up to rounding (as pooled sums of ratios are) is the same value
    wide["retention"] = 0.3 + np.where(np.arange(len(wide)) % 2, 0.0, 1e-16)
    with pytest.raises(InsufficientDataError, match="same value"):
        health_review(wide, "retention", directions=DIRS)
    # a single unit is "only 1 unit", not "the same value"
    one = make_wide(n_units=1, n_periods=3)
    with pytest.raises(InsufficientDataError, match="Only 1 unit"):
        health_review(one, "retention", directions=DIRS)
    wide["retention"] = np.nan
    with pytest.raises(DataError, match="no value"):
        health_review(wide, "retention", directions=DIRS)


def test_all_missing_indicator_is_pruned_with_reason():
    wide = make_wide(n_units=30, n_periods=1)
    wide["empty"] = np.nan
    d = health_review(wide, "retention", directions=DIRS | {"empty": "higher"}).decisions.set_index("indicator")
    assert d.loc["empty", "decision"] == "prune" and "No unit has a value" in d.loc["empty", "reason"]


def test_fewer_than_min_n_units_gives_review_not_nan():
    wide = make_wide(n_units=8, n_periods=2)
    rev = health_review(wide, "retention", directions=DIRS)
    d = rev.decisions.set_index("indicator")
    assert d["decision"].notna().all()
    for c in ("drv", "neg", "noise", "copy", "wrong"):
        assert d.loc[c, "decision"] == "review" and "at least 10" in d.loc[c, "reason"]
    assert d.loc["const", "decision"] == "prune"
    assert any("Only 8 units" in s for s in rev.notices)


def test_duplicated_unit_period_rows_raise_naming_them():
    wide = make_wide(n_units=12, n_periods=1)
    wide = pd.concat([wide, wide.iloc[[3]]])
    with pytest.raises(SchemaError, match="a003/2025-01-01"):
        health_review(wide, "retention", directions=DIRS)


def test_unknown_direction_names_the_indicator():
    wide = make_wide(n_units=12, n_periods=1)
    with pytest.raises(FrameworkError, match="drv"):
        health_review(wide, "retention")


def test_bad_parameters_name_the_parameter():
    wide = make_wide(n_units=12, n_periods=1)
    with pytest.raises(ParameterError, match="'threshold'"):
        health_review(wide, "retention", directions=DIRS, threshold=1.5)
    with pytest.raises(ParameterError, match="'method'"):
        health_review(wide, "retention", directions=DIRS, method="cosine")


def test_period_filter_and_previous_changes(tmp_path):
    wide = make_wide(n_units=60, n_periods=3, seed=4)
    # redundancy off (|r| > 1 never holds): this test is about the period filter and the decision changes
    rev = health_review(wide, "retention", directions=DIRS, period_start="2025-02-01", period_end="2025-02-28",
                        redundancy_threshold=1.0)
    assert rev.periods == ("2025-02-01",) and rev.stability.empty
    rev.save(tmp_path / "old", figures=False)
    wide2 = wide.copy()
    wide2["noise"] = wide2["drv"] + np.random.default_rng(0).normal(0, 0.2, len(wide2))
    new = health_review(wide2, "retention", directions=DIRS, previous=tmp_path / "old", redundancy_threshold=1.0)
    ch = new.changes.set_index("indicator")
    assert bool(ch.loc["noise", "changed"]) and ch.loc["noise", "note"] == "was prune, now keep"
    assert not bool(ch.loc["drv", "changed"])
    assert "Changed since the previous review" in new.narrative()
    with pytest.raises(DataError, match="YYYY-MM-DD"):
        health_review(make_wide(n_units=20, n_periods=1).assign(period="Q1"), "retention", directions=DIRS,
                      period_start="2025-01-01")


# ----------------------------------------------------------------------------- properties
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), perm_seed=st.integers(0, 10_000))
def test_decisions_do_not_depend_on_row_order(seed, perm_seed):
    wide = make_wide(n_units=25, n_periods=2, seed=seed)
    a = health_review(wide, "retention", directions=DIRS).decisions
    shuffled = wide.sample(frac=1, random_state=perm_seed)
    b = health_review(shuffled, "retention", directions=DIRS).decisions
    pd.testing.assert_frame_equal(a, b)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), scale=st.floats(0.01, 100), shift=st.floats(-50, 50),
       method=st.sampled_from(["spearman", "kendall"]))
def test_rank_methods_invariant_to_monotone_rescaling(seed, scale, shift, method):
    wide = make_wide(n_units=30, n_periods=1, seed=seed)
    cols = ["drv", "noise", "neg"]
    a = health_review(wide, "retention", directions=DIRS, method=method, indicators=cols).correlations
    w2 = wide.copy()
    w2["drv"] = np.exp(w2["drv"]) * scale + shift  # strictly increasing transform
    w2["noise"] = w2["noise"] ** 3
    b = health_review(w2, "retention", directions=DIRS, method=method, indicators=cols).correlations
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-9, atol=1e-12)


# ----------------------------------------------------------------------------- sklearn-style pruner
def test_indicator_pruner():
    wide = make_wide(n_units=300, n_periods=1, seed=6).set_index("unit_id").drop(columns="period")
    X, y = wide.drop(columns="retention"), wide["retention"]
    pr = IndicatorPruner(0.3)
    with pytest.raises(ParameterError, match="not fitted"):
        pr.get_support()
    pr.fit(X, y)
    sup = pd.Series(pr.get_support(), index=X.columns)
    assert sup["drv"] and not sup["noise"] and not sup["const"]
    assert list(pr.transform(X).columns) == list(X.columns[pr.get_support()])
    assert pr.correlations_.index.name == "indicator" and pr.correlations_["drv"] > 0.5
    with pytest.raises(ParameterError, match="'threshold'"):
        IndicatorPruner(threshold=-1).fit(X, y)


# ----------------------------------------------------------------------------- long panel and CLI
def test_long_panel_input_matches_wide():
    wide = make_wide(n_units=30, n_periods=2, seed=8)
    long = wide_to_long(wide)
    a = health_review(wide, "retention", directions=DIRS).decisions
    b = health_review(long, "retention", directions=DIRS).decisions
    pd.testing.assert_frame_equal(a, b)


def test_cli_writes_tables_and_figures(tmp_path, capsys):
    wide = make_wide(n_units=40, n_periods=2, seed=9)
    src = tmp_path / "wide.csv"
    wide.to_csv(src, index=False)
    base = ["health", "--panel", str(src), "--outcome", "retention"]
    for code, d in DIRS.items():
        base += ["--direction", f"{code}={d}"]
    assert main(base + ["--out", str(tmp_path / "out")]) == 0
    out = tmp_path / "out"
    for name in ("decisions.csv", "correlations.csv", "redundancy.csv", "coherence.csv", "quality.csv",
                 "relevance.png", "heatmap.png"):
        assert (out / name).is_file(), name
    dec = pd.read_csv(out / "decisions.csv")
    assert list(dec.columns[:8]) == ["indicator", "r", "ci_low", "ci_high", "p_adj", "n", "decision", "reason"]
    assert "keep" in capsys.readouterr().out
    # previous run folder
    assert main(base + ["--out", str(tmp_path / "out2"), "--previous", str(out), "--no-figures"]) == 0
    assert (tmp_path / "out2" / "changes.csv").is_file()


def test_cli_unknown_direction_exits_2(tmp_path, capsys):
    wide = make_wide(n_units=12, n_periods=1)
    src = tmp_path / "wide.csv"
    wide.to_csv(src, index=False)
    code = main(["health", "--panel", str(src), "--outcome", "retention", "--out", str(tmp_path / "o")])
    assert code == 2
    err = capsys.readouterr().err
    assert "drv" in err and "--direction" in err


def test_unit_level_within_period_removes_period_shift():
    wide = make_wide(n_units=80, n_periods=3, seed=10)
    # unbalanced panel: half the agents miss the good month, whose retention is much higher for everyone
    good = wide["period"] == "2025-03-01"
    wide.loc[good, "retention"] += 0.5
    wide = wide[~(good & (wide["unit_id"] < "a040"))]
    # an indicator that only tracks which months the agent worked in
    wide["months_flag"] = wide.groupby("unit_id")["period"].transform("count").astype(float) + \
        np.random.default_rng(0).normal(0, 0.01, len(wide))
    dirs = DIRS | {"months_flag": "higher"}
    raw = health_review(wide, "retention", directions=dirs, indicators=["months_flag", "drv"])
    within = health_review(wide, "retention", directions=dirs, indicators=["months_flag", "drv"], within_period=True)
    assert abs(raw.decisions.set_index("indicator").loc["months_flag", "r"]) > 0.5
    d = within.decisions.set_index("indicator")
    assert abs(d.loc["months_flag", "r"]) < abs(raw.decisions.set_index("indicator").loc["months_flag", "r"])
    assert d.loc["drv", "decision"] == "keep"


def test_default_framework_codes_band_direction_and_sign():
    rng = np.random.default_rng(3)
    n = 200
    skill = rng.normal(size=n)
    rush = rng.normal(size=n)
    df = pd.DataFrame({
        "unit_id": [f"a{i}" for i in range(n)],
        "csat": 4 + 0.1 * skill - 0.3 * rush + rng.normal(0, 0.05, n),
        # mostly below the band [15, 30]: rushing brings agents into the band (better) but lowers CSAT
        "contacts_per_day": 11 + 3 * rush,
        "aht": 300 + 40 * skill + rng.normal(0, 5, n),  # lower is better, yet goes with higher retention
        "retention_rate": 0.8 + 0.05 * skill + rng.normal(0, 0.005, n),
    })
    rev = health_review(df, "retention_rate")  # directions and pillars from the default framework
    d = rev.decisions.set_index("indicator")
    assert d.loc["aht", "decision"] == "review" and bool(d.loc["aht", "sign_conflict"])
    assert "wrong direction" in d.loc["aht", "reason"]
    assert d.loc["csat", "pillar"] == "satisfaction" and d.loc["aht", "pillar"] == "cost_control"
    conf = rev.conflicts
    pair = conf[conf[["indicator_a", "indicator_b"]].apply(frozenset, axis=1) == frozenset({"csat", "contacts_per_day"})]
    assert len(pair) == 1 and pair["r_aligned"].iloc[0] < -0.4  # band-aligned values pull against CSAT
    assert set(rev.coherence.loc[rev.coherence["level"] == "pillar", "code"]) == {"satisfaction", "cost_control"}


def test_text_follows_the_outcome_parameter():
    """With another outcome (here CSAT) no sentence speaks of retention or of keeping customers."""
    wide = make_wide(n_units=60, n_periods=2, seed=8).rename(columns={"retention": "csat"})
    dirs = {("csat" if k == "retention" else k): v for k, v in DIRS.items()}
    rev = health_review(wide, "csat", directions=dirs)
    text = " ".join([rev.narrative(), rev.summary(), *rev.decisions["reason"], *rev.clusters["reason"],
                     *rev.redundancy["reason"]]).lower()
    assert "csat" in text
    assert "retention" not in text and "keep more customers" not in text
