"""Optimised weights, blends, constraints, hierarchy and the comparison of weight sets."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize, stats

from kpilab.errors import DataError, ParameterError
from kpilab.weights import (
    OptimisedWeights,
    blend_weights,
    compare_weight_sets,
    composite_scores,
    constrain_weights,
    critic_weights,
    effective_weights,
    entropy_weights,
    equal_weights,
    hierarchical_weights,
    parse_constraints,
    split_by_pillar,
)
from kpilab.weights.optimised import influence_shares


def correlated(seed: int, n: int = 150) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = rng.normal(size=(n, 1))
    A = np.c_[g + 0.4 * rng.normal(size=(n, 2)), 0.5 * g + rng.normal(size=(n, 2))]
    return pd.DataFrame(A, columns=["a", "b", "c", "d"])


# ------------------------------------------------------------------------ optimised
def test_optimised_weights_equalise_influence():
    X = correlated(0)
    eq = equal_weights(X)
    Z = ((X - X.min()) / (X.max() - X.min())).to_numpy()
    _, s_eq = influence_shares(Z, eq.to_numpy())
    est = OptimisedWeights().fit(X)
    s = np.array(list(est.diagnostics_["influence"].values()))
    assert np.abs(s - 0.25).max() < 0.01 < np.abs(s_eq - 0.25).max()
    # the correlated pair a, b is down-weighted relative to c, d
    assert est.weights_[["a", "b"]].sum() < est.weights_[["c", "d"]].sum()
    # the shares reported are those of the returned weights, recomputed independently
    y = Z @ est.weights_.to_numpy()
    r = np.array([stats.pearsonr(Z[:, j], y).statistic for j in range(4)])
    np.testing.assert_allclose(s, r / r.sum(), atol=1e-12)


def test_optimised_target_and_errors():
    X = correlated(1)
    Z = ((X - X.min()) / (X.max() - X.min())).to_numpy()
    _, reachable = influence_shares(Z, np.array([0.1, 0.2, 0.3, 0.4]))  # a target known to be reachable
    est = OptimisedWeights(target=dict(zip("abcd", reachable, strict=True))).fit(X)
    np.testing.assert_allclose(list(est.diagnostics_["influence"].values()), reachable, atol=2e-3)
    assert est.notices_ == []
    # a and b are strongly correlated: a cannot carry 40 % of the influence; the closest weights come back
    far = OptimisedWeights(target={"a": 2, "b": 1, "c": 1, "d": 1}).fit(X)
    assert "not reached" in far.notices_[0] and far.diagnostics_["max_gap"] > 0.02
    with pytest.raises(ParameterError, match="unknown indicator"):
        OptimisedWeights(target={"zz": 1}).fit(X)
    info = OptimisedWeights(optype="infomax").fit(X)
    r_opt, _ = influence_shares(Z, info.weights_.to_numpy())
    r_eq, _ = influence_shares(Z, np.full(4, 0.25))
    assert r_opt.sum() >= r_eq.sum() - 1e-9


# --------------------------------------------------------------------------- blends
def test_linear_and_multiplicative_blends():
    a = pd.Series({"x": 0.6, "y": 0.4})
    b = pd.Series({"x": 0.2, "y": 0.5, "z": 0.3})
    lin = blend_weights(a, b, alpha=0.25).weights
    assert lin.to_dict() == pytest.approx({"x": 0.3, "y": 0.475, "z": 0.225})
    mult = blend_weights(a, b, how="multiplicative").weights
    assert mult.to_dict() == pytest.approx({"x": 0.12 / 0.32, "y": 0.2 / 0.32, "z": 0.0})
    with pytest.raises(ParameterError, match="'alpha' parameter of blend_weights"):
        blend_weights(a, b, alpha=1.5)
    with pytest.raises(ParameterError, match="share no indicator"):
        blend_weights(pd.Series({"x": 1.0}), pd.Series({"y": 1.0}), how="multiplicative")


# ------------------------------------------------------------------------ constraints
def _qp_reference(w0, lo, hi, groups):
    """Independent QP via scipy trust-constr."""
    n = len(w0)
    A = [np.ones(n)] + [m.astype(float) for m, _, _ in groups]
    lb = [1.0] + [gl for _, gl, _ in groups]
    ub = [1.0] + [gh for _, _, gh in groups]
    res = optimize.minimize(lambda w: ((w - w0) ** 2).sum(), np.full(n, 1 / n), method="trust-constr",
                            jac=lambda w: 2 * (w - w0), hess=lambda w: 2 * np.eye(n),
                            bounds=optimize.Bounds(lo, hi), constraints=[optimize.LinearConstraint(np.array(A), lb, ub)],
                            options={"gtol": 1e-12, "xtol": 1e-12, "maxiter": 5000})
    return res.x


def test_constraints_nearest_feasible():
    w0 = pd.Series({"qa": 0.02, "csat": 0.5, "fcr": 0.3, "aht": 0.1, "peer": 0.08})
    pillars = {"qa": "process", "csat": "sat", "fcr": "sat", "aht": "cost", "peer": "process"}
    res = constrain_weights(w0, ["qa>=10%", "peer=0.15", "sat<=0.6"], pillars=pillars)
    w = res.weights
    assert w.sum() == pytest.approx(1.0)
    assert w["qa"] >= 0.1 - 1e-9 and w["peer"] == pytest.approx(0.15, abs=1e-9)
    assert w["csat"] + w["fcr"] <= 0.6 + 1e-9
    lo = np.array([0.1, 0, 0, 0, 0.15])
    hi = np.array([1, 1, 1, 1, 0.15])
    ref = _qp_reference(w0.to_numpy(), lo, hi, [(np.array([0, 1, 1, 0, 0], bool), 0.0, 0.6)])
    np.testing.assert_allclose(w.to_numpy(), ref, atol=1e-6)
    assert res.method == "constrained" and "qa >= 0.1" in res.params["constraints"]
    # already feasible weights are returned unchanged
    same = constrain_weights(w, ["qa>=10%"], pillars=pillars).weights
    np.testing.assert_allclose(same, w, atol=1e-9)


def test_infeasible_constraints_say_which():
    w0 = pd.Series({"a": 0.5, "b": 0.3, "c": 0.2})
    with pytest.raises(ParameterError, match=r"minimums add up to 1.1 > 1 \(a >= 0.6, b >= 0.5\)"):
        constrain_weights(w0, "a>=0.6, b>=0.5")
    with pytest.raises(ParameterError, match="a: minimum 0.5 > maximum 0.3"):
        constrain_weights(w0, ["a>=0.5", "a<=0.3"])
    with pytest.raises(ParameterError, match="pillar p: its indicators' maximums add up to 0.2 < pillar minimum 0.5"):
        constrain_weights(w0, ["a<=0.1", "b<=0.1", "p>=0.5"], pillars={"a": "p", "b": "p", "c": "q"})
    with pytest.raises(ParameterError, match="not an indicator"):
        constrain_weights(w0, ["zz>=0.1"])
    with pytest.raises(ParameterError, match="must look like"):
        parse_constraints(["qa > 0.1"])


def test_parse_constraints():
    cs = parse_constraints("qa_score>=0.10, qa_score<=30%, satisfaction=0.5", pillars=["satisfaction"])
    assert [(c.target, c.low, c.high, c.kind) for c in cs] == [
        ("qa_score", 0.1, 0.3, "indicator"), ("satisfaction", 0.5, 0.5, "pillar")]


@settings(max_examples=30, deadline=None)
@given(w=st.lists(st.floats(0.01, 1), min_size=3, max_size=6), lo=st.floats(0, 0.3))
def test_constrained_weights_properties(w, lo):
    s = pd.Series(w, index=[f"k{i}" for i in range(len(w))])
    res = constrain_weights(s, [f"k0>={lo}"]).weights
    assert (res >= -1e-12).all() and res.sum() == pytest.approx(1.0)
    assert res["k0"] >= lo - 1e-7


# --------------------------------------------------------------------------- hierarchy
def test_effective_weights_and_split():
    within = {"sat": pd.Series({"csat": 3, "fcr": 1}), "cost": pd.Series({"aht": 1})}
    res = effective_weights(within, {"sat": 0.6, "cost": 0.3, "time": 0.1})
    assert res.weights.to_dict() == pytest.approx({"csat": 0.6 / 0.9 * 0.75, "fcr": 0.6 / 0.9 * 0.25, "aht": 0.3 / 0.9})
    assert "time" in res.notices[0]
    back = split_by_pillar(res).set_index("indicator")
    assert back.loc["csat", "within_weight"] == pytest.approx(0.75)
    assert back.loc["aht", "pillar_weight"] == pytest.approx(1 / 3)
    with pytest.raises(ParameterError, match="no pillar weight for cost"):
        effective_weights(within, {"sat": 1.0})


def test_hierarchical_entropy_within_pillars():
    X = correlated(2)
    pillars = {"a": "p1", "b": "p1", "c": "p2", "d": "p2"}
    res = hierarchical_weights(X, pillars, within="entropy", pillar_weights={"p1": 0.7, "p2": 0.3})
    w1 = entropy_weights(X[["a", "b"]])
    assert res.weights[["a", "b"]].to_numpy() == pytest.approx(0.7 * w1.to_numpy())
    assert res.pillars["c"] == "p2" and res.weights.sum() == pytest.approx(1.0)


# -------------------------------------------------------------------------- compare
def test_composite_scores_formula_and_missing_values():
    X = pd.DataFrame({"a": [0.0, 5, 10], "b": [30.0, 20, 10]}, index=["u1", "u2", "u3"])
    s = composite_scores(X, {"a": 0.75, "b": 0.25}, {"b": "lower"})
    assert s.to_dict() == pytest.approx({"u1": 0.0, "u2": 50.0, "u3": 100.0})
    X.loc["u2", "a"] = np.nan
    s = composite_scores(X, {"a": 0.75, "b": 0.25}, {"b": "lower"})
    assert s["u2"] == pytest.approx(50.0)  # only b known: its normalised value, weights renormalised
    with pytest.raises(DataError, match="not in the data"):
        composite_scores(X, {"zz": 1.0})


def test_compare_weight_sets_against_scipy():
    X = correlated(3, n=60)
    X.index = [f"u{i:02d}" for i in range(60)]
    dirs = {"d": "lower"}
    sets = {"equal": equal_weights(X), "critic": critic_weights(X, dirs), "skewed": {"a": 0.7, "d": 0.3}}
    cmp = compare_weight_sets(X, sets, dirs, top_n=10)
    assert list(cmp.scores.columns) == ["equal", "critic", "skewed"]
    Z = (X - X.min()) / (X.max() - X.min()) * 100
    Z["d"] = 100 - Z["d"]
    np.testing.assert_allclose(cmp.scores["critic"], Z @ sets["critic"], atol=1e-9)
    row = cmp.agreement.set_index(["set_a", "set_b"]).loc[("equal", "skewed")]
    assert row.spearman == pytest.approx(stats.spearmanr(cmp.scores["equal"], cmp.scores["skewed"]).statistic)
    assert row.kendall_tau == pytest.approx(stats.kendalltau(cmp.scores["equal"], cmp.scores["skewed"]).statistic)
    top_e = set(cmp.scores["equal"].nlargest(10).index)
    top_s = set(cmp.scores["skewed"].nlargest(10).index)
    assert row.top_overlap == pytest.approx(len(top_e & top_s) / 10)
    inf = cmp.influence[cmp.influence.set == "skewed"].set_index("indicator")
    r = np.array([np.corrcoef(Z[c], cmp.scores["skewed"])[0, 1] for c in ["a", "d"]])
    np.testing.assert_allclose(inf["influence"], r**2 / (r**2).sum(), atol=1e-12)
    assert cmp.weights.set_index("indicator").loc["b", "skewed"] == 0.0
    mv = cmp.movers
    assert list(mv.columns) == ["unit", "set", "reference_rank", "rank", "change"]
    assert (mv["change"].abs().diff().dropna() <= 0).all()
    assert (mv["change"] == mv["reference_rank"] - mv["rank"]).all()
    text = cmp.narrative()
    assert any("Spearman" in t for t in text) and any("places under" in t for t in text)
    assert list(cmp.to_frame().columns) == ["set", "indicator", "pillar", "weight", "influence", "r"]


def test_compare_rank_is_row_order_invariant():
    X = correlated(5, n=40)
    sets = {"e": entropy_weights(X), "c": critic_weights(X)}
    a = compare_weight_sets(X, sets)
    b = compare_weight_sets(X.iloc[::-1], sets)
    pd.testing.assert_frame_equal(a.agreement, b.agreement)
    pd.testing.assert_frame_equal(a.ranks.sort_index(), b.ranks.sort_index())


def test_plots_draw_every_set(tmp_path):
    import matplotlib.pyplot as plt

    from kpilab.weights import RegressionWeights
    from kpilab.weights.plots import (
        plot_agreement,
        plot_influence,
        plot_rank_shifts,
        plot_weight_result,
        plot_weights,
    )

    X = correlated(6, n=40)
    sets = {"equal": equal_weights(X), "entropy": entropy_weights(X), "critic": critic_weights(X)}
    cmp = compare_weight_sets(X, sets, top_n=5)
    fig = plot_weights(cmp, kind="bar")
    assert len(fig.axes[0].patches) >= 3 * 4
    fig = plot_weights(cmp)
    assert len(fig.axes[0].texts) == 3 * 4  # one annotated cell per indicator and set
    fig = plot_agreement(cmp, "kendall_tau")
    assert fig.axes[0].get_title().startswith("Ranking agreement (Kendall")
    fig = plot_influence(cmp)
    assert len(fig.axes[0].collections[0].get_offsets()) == 12
    fig = plot_rank_shifts(cmp, n=5)
    assert len(fig.axes[0].get_yticks()) == min(5, cmp.movers["unit"].nunique())
    y = X["a"] + X["c"] + np.random.default_rng(0).normal(size=40)
    fig = plot_weight_result(RegressionWeights(n_boot=30).fit(X, y=y).result_)
    assert len(fig.axes[0].patches) == 4
    fig.savefig(tmp_path / "w.png")
    plt.close("all")
