"""PCA/FA (Handbook) weights, varimax against statsmodels, and regression weights against statsmodels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy.optimize import nnls
from statsmodels.multivariate.factor_rotation import rotate_factors

from kpilab.errors import DataError, ParameterError
from kpilab.weights import PCAWeights, RegressionWeights, WeightWarning, varimax


def two_block_data(seed: int, n: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    f = rng.normal(size=(n, 2))
    A = np.c_[f[:, [0]] + 0.5 * rng.normal(size=(n, 3)), f[:, [1]] + 0.8 * rng.normal(size=(n, 3))]
    return pd.DataFrame(A, columns=["a1", "a2", "a3", "b1", "b2", "b3"])


def _match_columns(L1: np.ndarray, L2: np.ndarray) -> np.ndarray:
    """Reorder and re-sign L2's columns to best match L1 (rotations are unique up to these)."""
    out = np.zeros_like(L2)
    used: set[int] = set()
    for f in range(L1.shape[1]):
        scores = [(-abs(L1[:, f] @ L2[:, g]), g) for g in range(L2.shape[1]) if g not in used]
        _, g = min(scores)
        used.add(g)
        out[:, f] = L2[:, g] * np.sign(L1[:, f] @ L2[:, g])
    return out


@pytest.mark.parametrize("seed", range(4))
def test_varimax_matches_statsmodels(seed):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(8, 3))
    ours, T = varimax(A, normalize=False)
    theirs, _ = rotate_factors(A, "varimax", tol=1e-6, max_tries=2000)
    np.testing.assert_allclose(ours, _match_columns(ours, theirs), atol=1e-4)
    np.testing.assert_allclose(T @ T.T, np.eye(3), atol=1e-10)
    # Kaiser normalisation == statsmodels on row-normalised loadings, scaled back
    h = np.sqrt((A**2).sum(1))[:, None]
    ours_k, _ = varimax(A, normalize=True)
    theirs_k, _ = rotate_factors(A / h, "varimax", tol=1e-6, max_tries=2000)
    np.testing.assert_allclose(ours_k, _match_columns(ours_k, theirs_k * h), atol=1e-4)


def test_pca_weights_follow_handbook_recipe():
    X = two_block_data(0)
    est = PCAWeights().fit(X)
    d = est.diagnostics_
    # independent computation of the recipe
    R = np.corrcoef(X.to_numpy(), rowvar=False)
    ev, V = np.linalg.eigh(R)
    ev, V = ev[::-1], V[:, ::-1]
    assert d["eigenvalues"] == pytest.approx(ev.tolist())
    k = int(((ev > 1) & (ev / 6 > 0.1)).sum())
    assert k == 2 and d["n_factors"] == 2 and ev[:k].sum() / 6 >= 0.6
    L, _ = rotate_factors(V[:, :k] * np.sqrt(ev[:k]), "varimax", tol=1e-6, max_tries=2000)
    sq = L**2
    scaled = sq / sq.sum(0)
    share = sq.sum(0) / sq.sum()
    f = sq.argmax(1)
    w = scaled[np.arange(6), f] * share[f]
    # Kaiser-normalised rotation differs slightly from the raw one: compare with kaiser_normalize=False
    raw = PCAWeights(kaiser_normalize=False).fit(X).weights_
    np.testing.assert_allclose(raw.to_numpy(), w / w.sum(), atol=1e-5)
    assert est.weights_.sum() == pytest.approx(1.0)
    loads = est.result_.tables["loadings"]
    assigned = loads[loads.assigned].set_index("indicator")["factor"]
    assert assigned[["a1", "a2", "a3"]].nunique() == 1 and assigned[["b1", "b2", "b3"]].nunique() == 1
    assert assigned["a1"] != assigned["b1"]
    assert 0.5 < d["kmo"] <= 1 and d["bartlett_p"] < 1e-6


def test_pca_adds_factors_to_reach_cumulative_share_and_is_sign_free():
    X = two_block_data(2)
    est = PCAWeights(min_cumulative=0.9).fit(X)
    ev = est.diagnostics_["eigenvalues"]
    k = est.diagnostics_["n_factors"]
    assert k > 2 and sum(ev[:k]) / 6 >= 0.9 > sum(ev[: k - 1]) / 6
    assert any("added" in n for n in est.notices_)
    flipped = PCAWeights(min_cumulative=0.9).fit(X, {"a1": "lower"}).weights_
    np.testing.assert_allclose(flipped, est.weights_)
    est = PCAWeights().fit(X)
    X2 = X.assign(a1=-3 * X["a1"] + 7)
    np.testing.assert_allclose(PCAWeights().fit(X2).weights_, est.weights_, rtol=0, atol=1e-7)


def test_pca_forced_factors_and_bad_input():
    X = two_block_data(1)
    assert PCAWeights(n_factors=1).fit(X).diagnostics_["n_factors"] == 1
    with pytest.raises(ParameterError, match="'rotation' parameter of PCAWeights"):
        PCAWeights(rotation="promax").fit(X)
    with pytest.warns(WeightWarning), pytest.raises(DataError, match="at least 2 indicators"):
        PCAWeights().fit(X[["a1"]].assign(c=1.0))


# ----------------------------------------------------------------------- regression
def regression_data(seed: int, n: int = 400) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, 4)) * [1, 5, 0.2, 3] + [0, 10, 3, -2], columns=["a", "b", "c", "d"])
    z = (X - X.mean()) / X.std()
    y = 0.6 * z["a"] + 0.4 * z["b"] - 0.2 * z["c"] + rng.normal(scale=0.5, size=n)
    return X, pd.Series(y, index=X.index)


def test_ols_coefficients_equal_statsmodels_hc3():
    X, y = regression_data(0)
    dirs = {"c": "lower"}
    est = RegressionWeights(estimator="ols", n_boot=0).fit(X, dirs, y=y)
    Z = X.assign(c=-X["c"])
    Z = (Z - Z.mean()) / Z.std(ddof=1)
    zy = (y - y.mean()) / y.std(ddof=1)
    ref = sm.OLS(zy, sm.add_constant(Z)).fit(cov_type="HC3")
    coef = est.result_.tables["coefficients"].set_index("indicator")
    np.testing.assert_allclose(coef["coef"], ref.params[["a", "b", "c", "d"]], atol=1e-10)
    np.testing.assert_allclose(coef["p_value"], ref.pvalues[["a", "b", "c", "d"]], atol=1e-10)
    assert est.diagnostics_["r_squared"] == pytest.approx(ref.rsquared)
    b = ref.params[["a", "b", "c", "d"]].clip(lower=0)
    np.testing.assert_allclose(est.weights_, b / b.sum(), atol=1e-10)
    assert est.weights_["a"] > est.weights_["b"] > est.weights_["c"] > 0


def test_negative_and_insignificant_policies():
    X, y = regression_data(1)
    # without aligning c (lower is better) its coefficient is negative
    zero = RegressionWeights(estimator="ols", n_boot=0).fit(X, y=y)
    assert zero.weights_["c"] == 0
    assert "negative_zeroed" in zero.result_.tables["coefficients"]["policy"].tolist()
    keep = RegressionWeights(estimator="ols", n_boot=0, negative="keep_abs").fit(X, y=y)
    assert keep.weights_["c"] > 0
    with pytest.raises(DataError, match="negative coefficient.*c \\(-"):
        RegressionWeights(estimator="ols", n_boot=0, negative="error").fit(X, y=y)
    ins = RegressionWeights(estimator="ols", n_boot=0, insignificant="zero").fit(X, {"c": "lower"}, y=y)
    coef = ins.result_.tables["coefficients"].set_index("indicator")
    assert (ins.weights_[coef.p_value > 0.05] == 0).all()
    assert ins.weights_["d"] == 0


def test_ridge_and_nnls_estimators():
    X, y = regression_data(2)
    X["a_copy"] = X["a"] + np.random.default_rng(0).normal(scale=1e-3, size=len(X))
    ols = RegressionWeights(estimator="ols", n_boot=0).fit(X, {"c": "lower"}, y=y)
    assert any("collinear" in n for n in ols.notices_)
    ridge = RegressionWeights(estimator="ridge", ridge_alpha=0.1, n_boot=0).fit(X, {"c": "lower"}, y=y)
    # collinear copies share the weight under ridge
    assert ridge.weights_["a"] == pytest.approx(ridge.weights_["a_copy"], rel=0.05)
    nn = RegressionWeights(estimator="nnls", n_boot=0).fit(X, {"c": "lower"}, y=y)
    Z = X.assign(c=-X["c"])
    Z = ((Z - Z.mean()) / Z.std()).to_numpy()
    b, _ = nnls(Z, ((y - y.mean()) / y.std()).to_numpy())
    np.testing.assert_allclose(nn.weights_, b / b.sum(), atol=1e-10)


def test_bootstrap_intervals_cover_the_weights_and_cluster_by_unit():
    X, y = regression_data(3, n=240)
    idx = pd.MultiIndex.from_arrays([[f"u{i // 4}" for i in range(240)], [str(i % 4) for i in range(240)]],
                                    names=["unit_id", "period"])
    X.index, y.index = idx, idx
    est = RegressionWeights(n_boot=150, random_state=1).fit(X, {"c": "lower"}, y=y)
    iv = est.result_.intervals.set_index("indicator")
    assert (iv["ci_low"] <= est.weights_ + 1e-12).all() and (est.weights_ <= iv["ci_high"] + 1e-12).all()
    assert est.diagnostics_["bootstrap_units"] == 60
    frame = est.result_.to_frame()
    assert frame["ci_low"].notna().all()
    again = RegressionWeights(n_boot=150, random_state=1).fit(X, {"c": "lower"}, y=y)
    pd.testing.assert_frame_equal(again.result_.intervals, est.result_.intervals)


def test_regression_bad_input():
    X, y = regression_data(4, n=30)
    with pytest.raises(DataError, match="needs an outcome"):
        RegressionWeights().fit(X)
    with pytest.raises(DataError, match="outcome is constant"):
        RegressionWeights(n_boot=0).fit(X, y=np.ones(30))
    with pytest.raises(DataError, match="30 values|has 5 values"):
        RegressionWeights().fit(X, y=np.ones(5))
    with pytest.raises(DataError, match="more rows than"):
        RegressionWeights(n_boot=0).fit(X.iloc[:5], y=y.iloc[:5])


@pytest.mark.parametrize("seed", range(3))
def test_pca_regression_optimised_are_row_order_invariant(seed):
    from kpilab.weights import OptimisedWeights

    X = two_block_data(10 + seed, n=120)
    y = X["a1"] + 0.5 * X["b2"] + np.random.default_rng(seed).normal(size=120)
    perm = np.random.default_rng(seed).permutation(120)
    for est, kw in ((PCAWeights(), {}), (RegressionWeights(n_boot=0), {"y": y}), (OptimisedWeights(), {})):
        w = type(est)(**est.get_params()).fit(X, **kw).weights_
        kw_perm = {"y": y.iloc[perm]} if kw else {}
        w_perm = type(est)(**est.get_params()).fit(X.iloc[perm], **kw_perm).weights_
        assert (w >= 0).all() and w.sum() == pytest.approx(1.0)
        np.testing.assert_allclose(w_perm, w, atol=1e-6, err_msg=type(est).__name__)


# ----------------------------------------------------------------- the default: ridge, penalty by CV over units
def test_default_is_ridge_with_cross_validated_penalty_matching_sklearn():
    from sklearn.linear_model import Ridge
    from sklearn.model_selection import PredefinedSplit

    from kpilab.weights.regression import RIDGE_GRID, ridge_cv

    X, y = regression_data(4, n=120)
    X["a_copy"] = X["a"] + np.random.default_rng(1).normal(scale=1e-3, size=len(X))
    idx = pd.MultiIndex.from_arrays([[f"u{i // 3:02d}" for i in range(120)], [str(i % 3) for i in range(120)]],
                                    names=["unit_id", "period"])
    X.index, y.index = idx, idx
    est = RegressionWeights(n_boot=0).fit(X, {"c": "lower"}, y=y)
    d = est.diagnostics_
    assert d["estimator"] == "ridge" and d["ridge_alpha_from"] == "5-fold cross-validation over units"
    assert "estimator='ridge'" in est.result_.summary() and "ridge_alpha_from" in est.result_.summary()
    # independent check of the CV error curve: scikit-learn's Ridge on the same unit folds
    A = X.assign(c=-X["c"]).to_numpy()
    lam, table, k = ridge_cv(A, y.to_numpy(), idx.get_level_values("unit_id").to_numpy(), random_state=0)
    assert k == 5 and lam == d["ridge_alpha"]
    units = np.unique(idx.get_level_values("unit_id"))
    fold_of_unit = np.empty(len(units), dtype=int)
    fold_of_unit[np.random.default_rng(0).permutation(len(units))] = np.arange(len(units)) % 5
    fold = pd.Series(fold_of_unit, index=units).loc[idx.get_level_values("unit_id")].to_numpy()
    yv = y.to_numpy()
    for a_pos in (0, 12, 24):
        sse = 0.0
        for tr, te in PredefinedSplit(fold).split():
            mu, sd = A[tr].mean(0), A[tr].std(0, ddof=1)
            ym, ys = yv[tr].mean(), yv[tr].std(ddof=1)
            model = Ridge(alpha=RIDGE_GRID[a_pos] * len(tr), fit_intercept=False)
            model.fit((A[tr] - mu) / sd, (yv[tr] - ym) / ys)
            sse += (((yv[te] - ym) / ys - model.predict((A[te] - mu) / sd)) ** 2).sum()
        assert table["cv_mse"].iloc[a_pos] == pytest.approx(sse / len(yv), rel=1e-9)
    # the near-copies share their weight instead of one taking it all
    assert est.weights_["a"] == pytest.approx(est.weights_["a_copy"], rel=0.1)


def test_cli_and_api_use_the_same_regression_default():
    import argparse

    from kpilab.commands import weights as cmd

    parser = argparse.ArgumentParser()
    cmd.add_arguments(parser)
    args = parser.parse_args(["--method", "regression", "--out", "x.csv"])
    assert args.estimator == RegressionWeights().estimator == "ridge"
    assert args.ridge_alpha == RegressionWeights().ridge_alpha == "cv"
