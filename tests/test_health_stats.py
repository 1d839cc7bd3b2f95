"""Formulas of the health review against independent computations (scipy, statsmodels, sklearn, by hand)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats
from sklearn.decomposition import PCA
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.outliers_influence import variance_inflation_factor

from kpilab.health.coherence import cronbach_alpha, normalise_minmax, pca_eigen, remove_one_impact
from kpilab.health.quality import (
    indicator_quality,
    kurtosis,
    log_ct,
    passes_skew_kurt,
    skewness,
    treat_outliers,
    winsorise,
)
from kpilab.health.redundancy import conflicting_pairs, redundant_pairs, vif_table
from kpilab.health.relevance import (
    bootstrap_correlations,
    correlation_matrix,
    fisher_ci,
    outcome_correlations,
)


# ----------------------------------------------------------------------------- skew, kurtosis, treatment
def _e1071_skew(x):
    # e1071::skewness(type = 2) as written in COINr R/treat.R
    n = len(x)
    d = x - x.mean()
    y = np.sqrt(n) * np.sum(d**3) / np.sum(d**2) ** 1.5
    return y * np.sqrt(n * (n - 1)) / (n - 2)


def _e1071_kurt(x):
    n = len(x)
    d = x - x.mean()
    r = n * np.sum(d**4) / np.sum(d**2) ** 2
    return ((n + 1) * (r - 3) + 6) * (n - 1) / ((n - 2) * (n - 3))


def test_skew_kurtosis_match_e1071_type2_and_scipy():
    rng = np.random.default_rng(3)
    x = rng.gamma(1.5, size=57)
    assert skewness(x) == pytest.approx(_e1071_skew(x), rel=1e-12)
    assert kurtosis(x) == pytest.approx(_e1071_kurt(x), rel=1e-12)
    assert skewness(x) == pytest.approx(stats.skew(x, bias=False), rel=1e-12)
    assert kurtosis(x) == pytest.approx(stats.kurtosis(x, bias=False), rel=1e-12)
    # NaN ignored, constants give NaN
    assert skewness(np.r_[x, np.nan]) == pytest.approx(skewness(x))
    assert np.isnan(skewness(np.ones(10))) and np.isnan(kurtosis([1.0, 2.0, 3.0]))


def test_skew_kurt_rule_needs_both_thresholds():
    # COINr check_SkewKurt passes when |skew| < 2 OR kurtosis < 3.5
    x = np.r_[np.arange(1, 31), 200, 200, 200, 250, 250, 300, 400].astype(float)
    assert abs(stats.skew(x, bias=False)) > 2 and stats.kurtosis(x, bias=False) < 3.5
    assert passes_skew_kurt(x)
    assert treat_outliers(x)[1] == "none"


def test_winsorise_hand_worked_with_ties():
    # x = 1..60, 150, 160, 160, 300 (skew 3.69, kurtosis 17.2 -> treat)
    x = np.r_[np.arange(1, 61), 150, 160, 160, 300].astype(float)
    assert not passes_skew_kurt(x)
    # step 1: 300 -> 160 (1 point; skew 2.35, kurt 6.14: still fails)
    # step 2: the three tied 160s -> 150 together (skew 2.23, kurt 5.60: still fails)
    # step 3: the four tied 150s -> 60 together (passes); COINr's nwin = 4 points
    s1 = np.r_[np.arange(1, 61), 150, 160, 160, 160].astype(float)
    s2 = np.r_[np.arange(1, 61), 150, 150, 150, 150].astype(float)
    for s in (s1, s2):
        assert abs(stats.skew(s, bias=False)) > 2 and stats.kurtosis(s, bias=False) > 3.5
    expected = np.r_[np.arange(1, 61), 60, 60, 60, 60].astype(float)
    w, nwin, changed = winsorise(x)
    np.testing.assert_array_equal(w, expected)
    assert nwin == 4
    np.testing.assert_array_equal(np.flatnonzero(changed), [60, 61, 62, 63])
    out, label, ch = treat_outliers(x)
    assert label == "winsorise" and ch.sum() == 4


def test_winsorise_low_side_and_nan_kept():
    x = np.r_[np.arange(1, 41), -50, -50, -60, np.nan].astype(float)
    w, nwin, changed = winsorise(x)
    # skew < 0: the minimum -60 is clipped to the next value -50
    assert w[42] == -50 and np.isnan(w[43]) and nwin == 1 and changed.sum() == 1


def test_log_ct_applied_to_original_when_winsorising_fails():
    rng = np.random.default_rng(0)
    x = np.exp(rng.normal(0, 1.5, 200))
    w5, nwin, _ = winsorise(x)
    assert nwin >= 5 and not passes_skew_kurt(w5)
    out, label, changed = treat_outliers(x)
    assert label in ("log_ct", "log_ct_failed")
    expected = np.log(x - x.min() + 0.01 * (x.max() - x.min()))
    np.testing.assert_allclose(out, expected, rtol=1e-12)
    np.testing.assert_allclose(log_ct(x), expected)
    assert changed.all()


def test_indicator_quality_table_and_points():
    idx = pd.MultiIndex.from_arrays([[f"u{i}" for i in range(64)], ["2025-01-01"] * 64], names=["unit_id", "period"])
    heavy = np.r_[np.arange(1, 61), 150, 160, 160, 300].astype(float)
    df = pd.DataFrame(
        {"heavy": heavy, "const": 5.0, "patchy": np.r_[np.ones(20), np.full(44, np.nan)] * np.arange(64),
         "zeros": np.r_[np.zeros(32), np.arange(32)]},
        index=idx,
    )
    q, treated, pts = indicator_quality(df)
    q = q.set_index("indicator")
    assert q.loc["heavy", "treatment"] == "winsorise" and q.loc["heavy", "n_treated"] == 4
    assert bool(q.loc["heavy", "skew_kurt_flag"])
    assert bool(q.loc["const", "constant"]) and q.loc["const", "n_distinct"] == 1
    assert q.loc["patchy", "coverage"] == pytest.approx(20 / 64) and bool(q.loc["patchy", "low_coverage"])
    assert q.loc["zeros", "zero_share"] == pytest.approx(33 / 64)
    assert set(pts["unit_id"]) == {"u60", "u61", "u62", "u63"}
    assert (pts["treated"] == 60).all() and treated["heavy"].max() == 60


# ----------------------------------------------------------------------------- correlations
def _frame(seed=0, n=80, p=5):
    rng = np.random.default_rng(seed)
    y = rng.normal(size=n)
    X = pd.DataFrame({f"x{j}": 0.3 * j * y + rng.normal(size=n) for j in range(p)})
    X.iloc[::7, 1] = np.nan
    return X, pd.Series(y, name="out")


@pytest.mark.parametrize("method", ["pearson", "spearman", "kendall"])
def test_correlations_equal_scipy(method):
    X, y = _frame()
    res = outcome_correlations(X, y, method=method).set_index("indicator")
    func = {"pearson": stats.pearsonr, "spearman": stats.spearmanr, "kendall": stats.kendalltau}[method]
    ps = []
    for c in X.columns:
        ok = X[c].notna()
        ref = func(X.loc[ok, c], y[ok])
        assert res.loc[c, "r"] == pytest.approx(ref.statistic, rel=1e-12)
        assert res.loc[c, "p_unc"] == pytest.approx(ref.pvalue, rel=1e-9)
        assert res.loc[c, "n"] == ok.sum()
        ps.append(ref.pvalue)
    np.testing.assert_allclose(res["p_adj"], multipletests(ps, method="fdr_bh")[1], rtol=1e-9)


def test_pearson_fisher_ci_equals_scipy():
    X, y = _frame(1)
    res = outcome_correlations(X, y, method="pearson").set_index("indicator")
    for c in X.columns:
        ok = X[c].notna()
        lo, hi = stats.pearsonr(X.loc[ok, c], y[ok]).confidence_interval(0.95)
        assert res.loc[c, "ci_low"] == pytest.approx(lo, rel=1e-9)
        assert res.loc[c, "ci_high"] == pytest.approx(hi, rel=1e-9)


def test_rank_ci_formulas():
    # Spearman: Bonett-Wright se = sqrt((1 + r^2/2)/(n-3)); Kendall: Fieller se = sqrt(0.437/(n-4))
    r, n = 0.42, 50
    z = np.arctanh(r)
    se = np.sqrt((1 + r * r / 2) / (n - 3))
    assert fisher_ci(r, n, "spearman") == pytest.approx((np.tanh(z - 1.959963985 * se), np.tanh(z + 1.959963985 * se)))
    se = np.sqrt(0.437 / (n - 4))
    assert fisher_ci(r, n, "kendall") == pytest.approx((np.tanh(z - 1.959963985 * se), np.tanh(z + 1.959963985 * se)))
    assert all(np.isnan(fisher_ci(0.5, 3, "pearson")))


def test_partial_correlation_matches_formula_and_ols_t_test():
    rng = np.random.default_rng(5)
    n = 120
    z = rng.normal(size=n)
    x = 0.6 * z + rng.normal(size=n)
    y = 0.5 * z + 0.3 * x + rng.normal(size=n)
    res = outcome_correlations(pd.DataFrame({"x": x}), pd.Series(y, name="y"), method="pearson",
                               controls=pd.DataFrame({"z": z})).iloc[0]
    rxy, rxz, ryz = np.corrcoef([x, y, z])[[0, 0, 1], [1, 2, 2]]
    expected = (rxy - rxz * ryz) / np.sqrt((1 - rxz**2) * (1 - ryz**2))
    assert res["r"] == pytest.approx(expected, rel=1e-10)
    ols = sm.OLS(y, sm.add_constant(np.column_stack([x, z]))).fit()
    assert res["p_unc"] == pytest.approx(ols.pvalues[1], rel=1e-8)
    assert res["n_controls"] == 1
    lo, hi = fisher_ci(expected, n, "pearson", n_controls=1)
    assert (res["ci_low"], res["ci_high"]) == pytest.approx((lo, hi))


def test_kendall_with_controls_is_a_clear_error():
    X, y = _frame()
    from kpilab.errors import ParameterError

    with pytest.raises(ParameterError, match="kendall"):
        outcome_correlations(X, y, method="kendall", controls=pd.DataFrame({"z": y.to_numpy()}))


def test_vectorised_bootstrap_equals_naive_loop():
    rng = np.random.default_rng(2)
    n, p, B = 40, 3, 50
    a = rng.normal(size=(n, p))
    b = a * 0.5 + rng.normal(size=(n, p))
    mask = np.ones((n, p), dtype=bool)
    mask[::5, 1] = False
    dist = bootstrap_correlations(a, b, mask, n_boot=B, random_state=7, chunk=B)
    draws = np.random.default_rng(7).integers(0, n, size=(B, n))
    for k in range(B):
        for j in range(p):
            idx = draws[k][mask[draws[k], j]]
            assert dist[k, j] == pytest.approx(stats.pearsonr(a[idx, j], b[idx, j]).statistic, rel=1e-9)


def test_cluster_bootstrap_equals_naive_loop():
    rng = np.random.default_rng(4)
    g, m, B = 15, 3, 30
    clusters = np.repeat(np.arange(g), m)
    a = rng.normal(size=(g * m, 1)) + np.repeat(rng.normal(size=g), m)[:, None]
    b = a + rng.normal(size=a.shape)
    dist = bootstrap_correlations(a, b, np.ones_like(a, dtype=bool), clusters=clusters, n_boot=B,
                                  random_state=1, chunk=B)
    draws = np.random.default_rng(1).integers(0, g, size=(B, g))
    for k in range(B):
        rows = np.concatenate([np.flatnonzero(clusters == c) for c in draws[k]])
        assert dist[k, 0] == pytest.approx(stats.pearsonr(a[rows, 0], b[rows, 0]).statistic, rel=1e-9)


def test_kendall_bootstrap_equals_scipy_on_resamples():
    from kpilab.health.relevance import _bootstrap_kendall

    rng = np.random.default_rng(8)
    x = rng.integers(0, 6, 30).astype(float)  # ties on purpose
    y = x + rng.integers(0, 4, 30)
    dist = _bootstrap_kendall(x, y, None, 20, np.random.default_rng(3))
    draws = np.random.default_rng(3).integers(0, 30, size=(20, 30))
    for k in range(20):
        assert dist[k] == pytest.approx(stats.kendalltau(x[draws[k]], y[draws[k]]).statistic, rel=1e-9)


def test_bootstrap_interval_covers_and_reproducible():
    X, y = _frame(9, n=200)
    r1 = outcome_correlations(X, y, ci="bootstrap", n_boot=400, random_state=3)
    r2 = outcome_correlations(X, y, ci="bootstrap", n_boot=400, random_state=3)
    pd.testing.assert_frame_equal(r1, r2)
    assert ((r1["ci_low"] <= r1["r"]) & (r1["r"] <= r1["ci_high"])).all()
    fis = outcome_correlations(X, y)
    # bootstrap and Fisher widths agree roughly for well-behaved data
    np.testing.assert_allclose(r1["ci_high"] - r1["ci_low"], fis["ci_high"] - fis["ci_low"], rtol=0.3)


def test_failed_pairs_give_nan_and_flag():
    y = pd.Series(np.arange(20.0), name="y")
    X = pd.DataFrame({"const": 1.0, "empty": np.nan, "few": [1.0, 2.0] + [np.nan] * 18, "ok": np.arange(20.0) ** 2})
    res = outcome_correlations(X, y).set_index("indicator")
    assert res.loc["const", "flag"] == "constant" and np.isnan(res.loc["const", "r"])
    assert res.loc["empty", "flag"] == "too_few_pairs" and res.loc["few", "flag"] == "too_few_pairs"
    assert res.loc["ok", "r"] == pytest.approx(1.0)


# ----------------------------------------------------------------------------- redundancy, VIF, conflicts
def test_vif_equals_statsmodels_and_one_over_one_minus_r2():
    rng = np.random.default_rng(11)
    df = pd.DataFrame(rng.normal(size=(100, 4)), columns=list("abcd"))
    df["d"] = df["a"] + 0.3 * df["b"] + 0.2 * rng.normal(size=100)
    res = vif_table(df).set_index("indicator")
    exog = sm.add_constant(df.to_numpy())
    for j, c in enumerate(df.columns):
        assert res.loc[c, "vif"] == pytest.approx(variance_inflation_factor(exog, j + 1), rel=1e-10)
        others = sm.add_constant(df.drop(columns=c).to_numpy())
        r2 = sm.OLS(df[c].to_numpy(), others).fit().rsquared
        assert res.loc[c, "vif"] == pytest.approx(1 / (1 - r2), rel=1e-8)
    assert res.loc["d", "flag"] == "high_vif"


def test_redundant_pair_keeps_more_relevant_then_better_covered():
    corr = pd.DataFrame([[1, 0.95, 0.1], [0.95, 1, 0.2], [0.1, 0.2, 1]], index=list("abc"), columns=list("abc"))
    counts = pd.DataFrame(50, index=list("abc"), columns=list("abc"))
    out = redundant_pairs(corr, counts, pillars={"a": "p", "b": "p", "c": "q"}, relevance={"a": 0.3, "b": -0.5})
    assert len(out) == 1 and out.loc[0, "keep"] == "b" and out.loc[0, "drop"] == "a" and out.loc[0, "same_pillar"]
    out = redundant_pairs(corr, counts, relevance={"a": 0.5, "b": 0.51}, coverage={"a": 0.9, "b": 0.8})
    assert out.loc[0, "keep"] == "a" and "coverage" in out.loc[0, "reason"]
    assert redundant_pairs(corr, counts, threshold=0.96).empty


def test_conflicts_use_direction_aligned_values():
    rng = np.random.default_rng(1)
    speed = rng.normal(size=200)
    df = pd.DataFrame({"contacts_per_day": 20 + 3 * speed, "csat": 4 - 0.5 * speed + 0.2 * rng.normal(size=200)})
    aligned = pd.DataFrame({"contacts_per_day": df["contacts_per_day"], "csat": df["csat"]})  # both higher-is-better
    corr, counts = correlation_matrix(aligned)
    out = conflicting_pairs(corr, counts)
    assert len(out) == 1 and out.loc[0, "r_aligned"] < -0.4
    # if more contacts per day were undesirable (lower), the two would agree: no conflict
    corr2, _ = correlation_matrix(pd.DataFrame({"a": -df["contacts_per_day"], "b": df["csat"]}))
    assert conflicting_pairs(corr2, counts.set_axis(["a", "b"]).set_axis(["a", "b"], axis=1)).empty


# ----------------------------------------------------------------------------- coherence
def test_cronbach_alpha_hand_worked():
    # 4 respondents x 3 items; item variances 2/3, 5/3, 11/12 (sum 3.25); totals 6, 9, 12, 8 -> var 6.25
    df = pd.DataFrame({"i1": [1, 2, 3, 2], "i2": [2, 3, 4, 1], "i3": [3, 4, 5, 5]}, dtype=float)
    k = 3
    var_items = df.var(ddof=1).sum()
    var_total = df.sum(axis=1).var(ddof=1)
    by_variance = k / (k - 1) * (1 - var_items / var_total)
    assert by_variance == pytest.approx(1.5 * (1 - 3.25 / 6.25))  # = 0.72
    assert cronbach_alpha(df) == pytest.approx(0.72, rel=1e-12)
    cov = df.cov().to_numpy()
    assert cronbach_alpha(df) == pytest.approx(k * k * cov[~np.eye(3, dtype=bool)].mean() / cov.sum())
    assert np.isnan(cronbach_alpha(df[["i1"]]))


def test_pca_eigenvalues_equal_sklearn_on_standardised_data():
    rng = np.random.default_rng(2)
    f = rng.normal(size=150)
    df = pd.DataFrame({f"v{j}": f * (j + 1) * 0.4 + rng.normal(size=150) for j in range(4)})
    eig, n = pca_eigen(df)
    z = (df - df.mean()) / df.std(ddof=1)
    ref = PCA().fit(z)
    np.testing.assert_allclose(eig, ref.explained_variance_, rtol=1e-10)
    np.testing.assert_allclose(eig / eig.sum(), ref.explained_variance_ratio_, rtol=1e-10)
    assert n == 150


def test_normalise_and_remove_one_hand_worked():
    df = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [30.0, 10.0, 20.0], "c": [0.0, 5.0, 10.0]}, index=["u1", "u2", "u3"])
    norm = normalise_minmax(df, {"a": "higher", "b": "lower", "c": "higher"})
    # b lower-is-better: 30 -> 0, 10 -> 100, 20 -> 50
    np.testing.assert_allclose(norm["b"], [0, 100, 50])
    # one pillar: index = mean(a, b, c) = u1 0, u2 (50+100+50)/3 = 66.7, u3 (100+50+100)/3 = 83.3 -> ranks 3, 2, 1
    # drop a: u1 0, u2 75, u3 75 -> ranks 3, 1, 1 -> shifts 0, 1, 0 -> mean 1/3
    # drop b: u1 0, u2 50, u3 100 -> ranks unchanged -> 0; drop c: u1 0, u2 75, u3 75 -> 1/3
    imp = remove_one_impact(norm, {}).set_index("indicator")
    assert imp.loc["a", "mean_abs_rank_shift"] == pytest.approx(1 / 3)
    assert imp.loc["b", "mean_abs_rank_shift"] == pytest.approx(0)
    assert imp.loc["c", "mean_abs_rank_shift"] == pytest.approx(1 / 3)
    assert imp.loc["a", "max_abs_rank_shift"] == 1


def test_correlation_matrix_matches_pandas():
    rng = np.random.default_rng(12)
    df = pd.DataFrame(rng.normal(size=(150, 5)), columns=list("abcde"))
    df["e"] = 2.0  # constant -> NaN row and column, as pandas
    for method in ("pearson", "spearman", "kendall"):
        corr, counts = correlation_matrix(df, method)
        ref = df.corr(method)
        np.testing.assert_allclose(corr.to_numpy(), ref.to_numpy(), atol=1e-12)
        assert corr.isna().equals(ref.isna())
    df.iloc[::4, 0] = np.nan
    corr, counts = correlation_matrix(df, "pearson")  # pairwise-complete Pearson is exact
    np.testing.assert_allclose(corr.to_numpy(), df.corr().to_numpy(), atol=1e-12)
    assert counts.loc["a", "b"] == df["a"].notna().sum() and counts.loc["b", "c"] == 150
    corr, _ = correlation_matrix(df, "spearman")  # ranks once per column: close to pandas' re-ranking
    np.testing.assert_allclose(corr.to_numpy(), df.corr("spearman").to_numpy(), atol=0.02)


def test_vif_perfect_collinearity_is_infinite():
    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(size=(50, 2)), columns=["a", "b"])
    df["c"] = df["a"] + df["b"]
    res = vif_table(df).set_index("indicator")
    assert np.isinf(res["vif"]).all() and (res["flag"] == "high_vif").all()
    small = vif_table(df.head(3))
    assert small["vif"].isna().all() and (small["flag"] == "too_few_rows").all()


def test_units_to_settle_is_the_smallest_n_whose_fisher_interval_clears_the_threshold():
    from scipy import stats as st

    from kpilab.health.review import _units_to_settle

    z = st.norm.ppf(0.975)
    for r in (0.0, 0.1, -0.15, 0.45, 0.6):
        text = _units_to_settle(r, 0.3, 0.05)
        n = int(text.split("about ")[1].split(" ")[0].replace(",", ""))
        zr = np.arctanh(abs(r))

        def clears(m, zr=zr):
            lo, hi = np.tanh(zr - z / np.sqrt(m - 3)), np.tanh(zr + z / np.sqrt(m - 3))
            return hi < 0.3 or lo > 0.3

        assert clears(n) and not clears(n - 1)
    assert "too close" in _units_to_settle(0.31, 0.3, 0.05)
