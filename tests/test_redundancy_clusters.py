"""Redundancy clusters: scipy's complete linkage, a hand-worked example, invariants, and agreement with decisions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform

from kpilab.health import health_review
from kpilab.health.redundancy import (
    CLUSTER_COLUMNS,
    reconcile_pairs,
    redundancy_clusters,
    redundant_pairs,
)


def random_corr(k: int, seed: int) -> pd.DataFrame:
    """Correlation matrix of k columns built from a few latent factors, so some pairs exceed 0.9."""
    rng = np.random.default_rng(seed)
    f = rng.normal(size=(200, 3))
    load = rng.normal(size=(3, k))
    X = f @ load + rng.normal(0, rng.uniform(0.05, 1.5, size=k), size=(200, k))
    codes = [f"i{j:02d}" for j in range(k)]
    return pd.DataFrame(np.corrcoef(X, rowvar=False), index=codes, columns=codes)


def partition(df: pd.DataFrame) -> set[frozenset[str]]:
    return {frozenset(g["indicator"]) for _, g in df.groupby("cluster")}


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("threshold", [0.5, 0.8, 0.9])
def test_clusters_equal_scipy_complete_linkage(seed, threshold):
    corr = random_corr(9, seed)
    out = redundancy_clusters(corr, threshold=threshold)
    # independent: scipy on the condensed 1 - |r| distances, cut at 1 - t (ties at exactly t have measure zero)
    d = 1 - corr.abs().to_numpy()
    np.fill_diagonal(d, 0)
    labels = fcluster(linkage(squareform(d, checks=False), method="complete"), t=1 - threshold, criterion="distance")
    expected = {frozenset(c for c, lab in zip(corr.columns, labels, strict=True) if lab == k) for k in set(labels)}
    assert partition(out) == expected
    # complete linkage: every pair inside a cluster is above the threshold
    for _, g in out.groupby("cluster"):
        m = g["indicator"].tolist()
        sub = corr.loc[m, m].abs().to_numpy()
        assert (sub[~np.eye(len(m), dtype=bool)] > threshold).all()


def test_hand_worked_example_no_chaining():
    # r(a,b) = .95, r(b,c) = .92, r(a,c) = .85, d unrelated. Complete linkage, t = .9 (cut at distance .1):
    # merge a-b at 1 - .95 = .05; {a,b} to c at max(1 - .85, 1 - .92) = .15 > .1, so c stays alone
    # (single linkage would chain c in at .08 although r(a,c) = .85 < .9).
    c = pd.DataFrame([[1, .95, .85, 0], [.95, 1, .92, .1], [.85, .92, 1, 0], [0, .1, 0, 1]],
                     index=list("abcd"), columns=list("abcd"))
    out = redundancy_clusters(c, threshold=0.9, relevance={"a": 0.40, "b": -0.60, "c": 0.1, "d": 0.2},
                              outcome="retention")
    assert list(out.columns) == CLUSTER_COLUMNS
    assert partition(out) == {frozenset("ab"), frozenset("c"), frozenset("d")}
    o = out.set_index("indicator")
    assert o.loc["a", "cluster"] == 1 and o.loc["b", "cluster"] == 1  # the larger cluster is numbered first
    assert bool(o.loc["b", "representative"]) and not bool(o.loc["a", "representative"])  # |r| .60 > .40
    assert o.loc["a", "max_abs_r"] == pytest.approx(0.95) and np.isnan(o.loc["c", "max_abs_r"])
    assert "relates most strongly to retention (|r| 0.60)" in o.loc["b", "reason"]
    assert o.loc["a", "reason"].startswith("Measures the same as b (|r| = 0.95)")
    # pairs: (a,b) keeps b; (b,c) is above .9 but split across clusters: no contradicting advice
    counts = pd.DataFrame(60, index=c.index, columns=c.columns)
    pairs = reconcile_pairs(redundant_pairs(c, counts, threshold=0.9), out).set_index(["indicator_a", "indicator_b"])
    assert pairs.loc[("a", "b"), "keep"] == "b" and pairs.loc[("a", "b"), "drop"] == "a"
    assert pairs.loc[("b", "c"), "drop"] == "" and "different redundancy cluster" in pairs.loc[("b", "c"), "reason"]


def test_representative_rules_in_order():
    c = pd.DataFrame([[1, .99, .98], [.99, 1, .97], [.98, .97, 1]], index=list("xyz"), columns=list("xyz"))
    # 1. the best decision wins over a stronger link
    out = redundancy_clusters(c, relevance={"x": .9, "y": .5, "z": .5}, decisions={"x": "prune", "y": "review",
                                                                                      "z": "keep"})
    assert out.loc[out["representative"], "indicator"].tolist() == ["z"]
    assert "best health decision (keep)" in out.set_index("indicator").loc["z", "reason"]
    # 2. links within 0.02 tie, 3. coverage decides, 4. then fewest small-n cells, 5. then the code
    rel = {"x": .50, "y": .51, "z": .40}
    assert redundancy_clusters(c, relevance=rel, coverage={"x": .9, "y": .8}).query("representative")[
        "indicator"].tolist() == ["x"]
    assert redundancy_clusters(c, relevance=rel, coverage={"x": .9, "y": .9}, small_n={"x": 3, "y": 1}).query(
        "representative")["indicator"].tolist() == ["y"]
    assert redundancy_clusters(c, relevance=rel).query("representative")["indicator"].tolist() == ["x"]


def test_small_pairs_and_missing_correlations_are_not_redundant():
    c = pd.DataFrame([[1, .99, np.nan], [.99, 1, .95], [np.nan, .95, 1]], index=list("abc"), columns=list("abc"))
    counts = pd.DataFrame([[50, 5, 50], [5, 50, 50], [50, 50, 50]], index=list("abc"), columns=list("abc"))
    out = redundancy_clusters(c, counts, min_units=10)
    # a-b seen on 5 units only and a-c unknown: only b-c is judged
    assert partition(out) == {frozenset("a"), frozenset("bc")}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(k=st.integers(1, 10), seed=st.integers(0, 10_000), threshold=st.floats(0.3, 0.95),
       perm_seed=st.integers(0, 10_000))
def test_properties(k, seed, threshold, perm_seed):
    corr = random_corr(k, seed)
    rng = np.random.default_rng(seed)
    rel = {c: float(v) for c, v in zip(corr.columns, rng.uniform(-1, 1, k), strict=True)}
    dec = {c: str(v) for c, v in zip(corr.columns, rng.choice(["keep", "review", "prune"], k), strict=True)}
    out = redundancy_clusters(corr, threshold=threshold, relevance=rel, decisions=dec)
    # each indicator in exactly one cluster
    assert sorted(out["indicator"]) == sorted(corr.columns) and out["indicator"].is_unique
    # one representative per cluster, and it is a member with the best decision of its cluster
    rank = {"keep": 0, "review": 1, "prune": 2}
    for _, g in out.groupby("cluster"):
        assert g["representative"].sum() == 1
        rep = g.loc[g["representative"], "indicator"].iloc[0]
        assert rank[dec[rep]] == min(rank[dec[c]] for c in g["indicator"])
    # row and column order do not matter
    order = list(np.random.default_rng(perm_seed).permutation(corr.columns))
    again = redundancy_clusters(corr.loc[order, order], threshold=threshold, relevance=rel, decisions=dec)
    key = ["indicator", "cluster", "representative"]
    pd.testing.assert_frame_equal(out.sort_values("indicator")[key].reset_index(drop=True),
                                  again.sort_values("indicator")[key].reset_index(drop=True))


def test_health_review_decisions_agree_with_clusters():
    """No indicator is both kept and advised away: the decisions, clusters and pairs tell one story."""
    rng = np.random.default_rng(5)
    n = 80
    skill, speed = rng.normal(size=n), rng.normal(size=n)
    wide = pd.DataFrame({
        "unit_id": [f"a{i:02d}" for i in range(n)],
        "csat": skill + rng.normal(0, .1, n), "csat_top2": skill + rng.normal(0, .1, n),
        "nps": skill + rng.normal(0, .12, n),
        "aht": speed, "cost": speed * 2 + rng.normal(0, .01, n), "noise": rng.normal(size=n),
        "retention": skill + .5 * speed + rng.normal(0, .5, n),
    })
    dirs = {c: "higher" for c in wide.columns if c != "unit_id"}
    rev = health_review(wide, "retention", directions=dirs, redundancy_threshold=0.9)
    d = rev.decisions.set_index("indicator")
    cl = rev.clusters.set_index("indicator")
    assert partition(rev.clusters) >= {frozenset({"csat", "csat_top2", "nps"}), frozenset({"aht", "cost"})}
    for code, row in cl.iterrows():
        if not row["representative"]:
            assert d.loc[code, "decision"] == "prune"
    kept_advice = set(";".join(rev.redundancy["keep"]).split(";")) - {""}
    dropped_advice = set(";".join(rev.redundancy["drop"]).split(";")) - {""}
    assert not kept_advice & dropped_advice
    assert not dropped_advice & set(d.index[d["decision"] == "keep"])
    assert "measure the same thing" in rev.narrative()
