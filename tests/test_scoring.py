"""Scoring: normalisation and aggregation against independent references, hand-worked examples, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from kpilab.errors import ParameterError
from kpilab.framework import load_framework
from kpilab.scoring import (
    aggregate,
    band_score,
    copeland,
    goalposts,
    normalise,
    target_score,
    threshold,
    weighted_median,
)

# ---------------------------------------------------------------- fixtures
CODES = ["a1", "a2", "a3", "b1", "b2"]  # pillar p: a1..a3 (a2 lower); pillar q: b1, b2 (unequal sizes)
DIRS = {"a1": "higher", "a2": "lower", "a3": "higher", "b1": "higher", "b2": "lower"}
PILLARS = {"a1": "p", "a2": "p", "a3": "p", "b1": "q", "b2": "q"}
W = pd.Series({"a1": 0.1, "a2": 0.2, "a3": 0.3, "b1": 0.15, "b2": 0.25})


def _data(m: int = 40, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(rng.gamma(3.0, 2.0, size=(m, len(CODES))) + 1.0, columns=CODES)


def _framework(**extra):
    spec = {
        "name": "t",
        "pillars": [{"code": "p", "name": "P"}, {"code": "q", "name": "Q"}],
        "indicators": [{"code": c, "name": c, "pillar": PILLARS[c], "direction": DIRS[c]} for c in CODES],
        "grades": [{"grade": "A", "min": 90}, {"grade": "B", "min": 80}, {"grade": "C", "min": 70},
                   {"grade": "D", "min": 60}, {"grade": "E", "min": 0}],
        "tiers": [{"tier": "senior", "min": 90, "consecutive_periods": 3}, {"tier": "mid", "min": 80},
                  {"tier": "junior", "min": 70}, {"tier": "improvement_plan", "min": 0}],
    }
    spec.update(extra)
    return load_framework(spec)


def _numpy_minmax(X: np.ndarray) -> np.ndarray:
    sign = np.array([1.0 if DIRS[c] == "higher" else -1.0 for c in CODES])
    A = X * sign
    return (A - A.min(axis=0)) / (A.max(axis=0) - A.min(axis=0)) * 100


def _numpy_index(S: np.ndarray, kind: str) -> np.ndarray:
    w = W[CODES].to_numpy()
    out = np.zeros(len(S))
    for cols in ([0, 1, 2], [3, 4]):
        v = w[cols] / w[cols].sum()
        pil = S[:, cols] @ v if kind == "arith" else np.exp(np.log(S[:, cols]) @ v)
        part = w[cols].sum()
        out = out + part * pil if kind == "arith" else out + part * np.log(pil)
    return out if kind == "arith" else np.exp(out)


# --------------------------------------------------------- normalisation
def test_minmax_and_zscore_equal_direct_numpy():
    X = _data()
    got = normalise(X, "minmax", directions=DIRS).to_numpy()
    np.testing.assert_allclose(got, _numpy_minmax(X.to_numpy()), rtol=0, atol=1e-12)
    sign = np.array([1.0 if DIRS[c] == "higher" else -1.0 for c in CODES])
    A = X.to_numpy() * sign
    ref = (A - A.mean(axis=0)) / A.std(axis=0, ddof=1)
    np.testing.assert_allclose(normalise(X, "zscore", directions=DIRS).to_numpy(), ref, rtol=0, atol=1e-12)
    rescaled = normalise(X, "zscore", directions=DIRS, mean=100, sd=10).to_numpy()
    np.testing.assert_allclose(rescaled, 100 + 10 * ref, rtol=0, atol=1e-12)
    ranged = normalise(X, "minmax", directions=DIRS, lower=1, upper=100).to_numpy()
    np.testing.assert_allclose(ranged, 1 + _numpy_minmax(X.to_numpy()) * 0.99, rtol=0, atol=1e-12)


def test_rank_and_percentile_average_ties():
    X = pd.DataFrame({"x": [3.0, 1.0, 3.0, 2.0, 5.0]})
    r = normalise(X, "rank", directions={"x": "higher"})["x"].tolist()
    assert r == [3.5, 1.0, 3.5, 2.0, 5.0]
    p = normalise(X, "percentile", directions={"x": "lower"})["x"].tolist()
    assert p == [37.5, 100.0, 37.5, 75.0, 0.0]


def test_hand_worked_target_goalposts_band_threshold():
    # service level 83 % against an 80 % target: target met, full marks
    assert target_score(0.83, 0.80, "higher") == 100.0
    assert threshold(0.83, 0.80, "higher") == 100.0
    assert threshold(0.79, 0.80, "higher") == 0.0
    # AHT 5.5 min against a 5 min target and an 8 min floor: (8 - 5.5) / (8 - 5) = 83.33 points
    assert goalposts(5.5, floor=8.0, target=5.0, direction="lower") == pytest.approx(250 / 3, abs=1e-12)
    assert target_score(5.5, 5.0, "lower") == pytest.approx(100 * 5 / 5.5, abs=1e-12)
    assert goalposts(9.0, floor=8.0, target=5.0, direction="lower") == 0.0
    assert goalposts(4.0, floor=8.0, target=5.0, direction="lower") == 100.0
    assert target_score(0.0, 5.0, "lower") == 100.0  # x = 0 scores 100
    # occupancy 85 % against a 60-80 % band: 5 points outside; 0 at 10 points outside -> 50
    assert band_score(0.85, 0.60, 0.80, distance=0.10) == pytest.approx(50.0, abs=1e-12)
    assert band_score(0.70, 0.60, 0.80, distance=0.10) == 100.0
    assert band_score(0.45, 0.60, 0.80) == pytest.approx(25.0, abs=1e-12)  # default distance = band width 0.20


def test_framework_global_spec_and_per_indicator_overrides():
    fw = _framework(normalise={"method": "minmax", "lower": 1})
    fw_ind = fw.model_copy(update={"indicators": [
        i.model_copy(update={"normalise": {"method": "percentile"}}) if i.code == "b1" else i for i in fw.indicators]})
    X = _data()
    out = normalise(X, framework=fw_ind, overrides={"a1": {"method": "zscore"}})
    assert out["a2"].min() == 1.0 and out["a2"].max() == 100.0  # global spec with its parameter
    assert out["b1"].min() == 0.0 and out["b1"].max() == 100.0  # framework exception
    assert abs(out["a1"].mean()) < 1e-12  # explicit override wins


@pytest.mark.parametrize(
    ("spec", "key"),
    [
        ({"method": "target"}, "target"),
        ({"method": "goalposts", "target": 5.0}, "floor"),
        ({"method": "goalposts", "target": 5.0, "floor": 5.0}, "floor"),
        ({"method": "band"}, "band"),
    ],
)
def test_missing_keys_are_named(spec, key):
    X = _data()
    with pytest.raises(ParameterError, match=rf"'a1'.*'{key}'"):
        normalise(X, "minmax", directions=DIRS, overrides={"a1": spec})


def test_constant_indicator_is_refused():
    X = _data()
    X["a3"] = 2.0
    with pytest.raises(ParameterError, match="'a3' is constant"):
        normalise(X, "minmax", directions=DIRS)
    with pytest.raises(ParameterError, match="'a3' is constant"):
        normalise(X, "zscore", directions=DIRS)


# ----------------------------------------------------------- aggregation
def test_arithmetic_and_geometric_equal_direct_numpy():
    X = _data()
    S = normalise(X, "minmax", directions=DIRS, lower=1)
    agg = aggregate(S, W, PILLARS)
    np.testing.assert_allclose(agg.table["index"].to_numpy(), _numpy_index(S.to_numpy(), "arith"), rtol=0, atol=1e-12)
    geo = aggregate(S, W, PILLARS, method="geometric")
    np.testing.assert_allclose(geo.table["index"].to_numpy(), _numpy_index(S.to_numpy(), "geo"), rtol=0, atol=1e-12)


def test_points_lost_identity_and_missing_weight_stays_in_pillar():
    X = _data()
    S = normalise(X, "minmax", directions=DIRS)
    S.iloc[0, 0] = np.nan  # a1 missing for unit 0: pillar p keeps 0.5 of its 0.6 (coverage 0.83 >= 2/3)
    agg = aggregate(S, W, PILLARS)
    lost = (agg.effective_weights * (100 - S.fillna(0))).where(S.notna(), 0).sum(axis=1)
    np.testing.assert_allclose(agg.table["index"] + lost, 100.0, rtol=0, atol=1e-10)
    eff = agg.effective_weights.iloc[0]
    assert eff[["a2", "a3"]].sum() == pytest.approx(0.6, abs=1e-12)  # pillar p keeps its 0.6
    assert eff[["b1", "b2"]].sum() == pytest.approx(0.4, abs=1e-12)  # pillar q gets nothing extra
    assert agg.table["coverage"].iloc[0] == pytest.approx(0.9, abs=1e-12)


def test_insufficient_coverage_is_missing_with_reason():
    S = normalise(_data(), "minmax", directions=DIRS)
    S.loc[0, ["a2", "a3"]] = np.nan  # pillar p keeps 0.1 / 0.6 < 2/3
    agg = aggregate(S, W, PILLARS)
    assert np.isnan(agg.table.loc[0, "index"]) and np.isnan(agg.table.loc[0, "p"])
    assert agg.table.loc[0, "reason"] == "insufficient_coverage:p"
    assert agg.table.loc[1, "reason"] == ""


def test_weighted_median_and_harmonic():
    s = np.array([[10.0, 20.0, 90.0], [10.0, 20.0, 90.0]])
    w = np.array([[0.2, 0.3, 0.5], [0.5, 0.25, 0.25]])
    assert weighted_median(s, w).tolist() == [55.0, 15.0]  # exact 1/2 -> mean of neighbours
    S = pd.DataFrame({"x": [50.0], "y": [100.0]})
    agg = aggregate(S, pd.Series({"x": 0.5, "y": 0.5}), {"x": "p", "y": "p"}, method="harmonic")
    assert agg.table["index"].iloc[0] == pytest.approx(200 / 3, abs=1e-12)


def test_copeland_hand_worked_four_units():
    # criteria c1 (0.5), c2 (0.3), c3 (0.2); units A-D
    s = np.array([
        [9.0, 1.0, 5.0],  # A
        [7.0, 6.0, 6.0],  # B
        [5.0, 8.0, 1.0],  # C
        [1.0, 9.0, 9.0],  # D
    ])
    w = np.tile([0.5, 0.3, 0.2], (4, 1))
    # A vs B: A better on c1 (0.5) vs B on c2+c3 (0.5) -> tie; A vs C: c1+c3 0.7 -> A; A vs D: c1 0.5 vs 0.5 -> tie
    # B vs C: c1+c3 0.7 -> B; B vs D: c1 0.5 vs 0.5 -> tie; C vs D: c1 0.5 vs 0.5 -> tie
    # Copeland (wins - losses): A +1, B +1, C -2, D 0 -> 100 (c + 3) / 6
    got = copeland(s, w)
    np.testing.assert_allclose(got, [100 * 4 / 6, 100 * 4 / 6, 100 * 1 / 6, 50.0], rtol=0, atol=1e-12)
    agg = aggregate(pd.DataFrame(s, columns=["c1", "c2", "c3"]), pd.Series({"c1": 0.5, "c2": 0.3, "c3": 0.2}),
                    {"c1": "p", "c2": "p", "c3": "p"}, method={"pillar": "copeland", "index": "arithmetic"})
    np.testing.assert_allclose(agg.table["index"], got, rtol=0, atol=1e-12)


# -------------------------------------------------------------- bad input
def test_bad_weights_are_named_errors():
    S = normalise(_data(), "minmax", directions=DIRS)
    with pytest.raises(ParameterError, match="No weight given for indicator.*b2"):
        aggregate(S, W.drop("b2"), PILLARS)
    with pytest.raises(ParameterError, match="unknown indicator.*zz"):
        aggregate(S, pd.concat([W, pd.Series({"zz": 0.1})]), PILLARS)
    with pytest.raises(ParameterError, match="negative for a1"):
        aggregate(S, W.where(W.index != "a1", -0.1), PILLARS)


def test_geometric_refuses_zero_scores_and_suggests_range():
    S = normalise(_data(), "minmax", directions=DIRS)  # min-max on [0, 100] has zeros
    with pytest.raises(ParameterError, match=r"strictly positive.*\[1, 100\]"):
        aggregate(S, W, PILLARS, method="geometric")


def test_role_without_weight_set_is_a_named_error():
    from kpilab.scoring import score

    fw = _framework(weight_sets={"fl": {"level": "pillar", "weights": {"p": 0.6, "q": 0.4}}},
                    role_weights={"front_line": "fl"})
    panel = _long_panel(_data(6))
    roles = pd.DataFrame({"agent_id": [f"u{k}" for k in range(6)], "role": ["front_line"] * 4 + ["coach"] * 2})
    with pytest.raises(ParameterError, match="'coach'.*no weight set"):
        score(panel, fw, roles=roles, draws=0, normalise="minmax")


def _long_panel(X: pd.DataFrame, period: str = "2025-01-01") -> pd.DataFrame:
    from kpilab.panel import wide_to_long

    wide = X.copy()
    wide.insert(0, "unit_id", [f"u{k}" for k in range(len(X))])
    wide.insert(1, "period", period)
    return wide_to_long(wide)


# --------------------------------------------------------------- properties
_matrix = arrays(np.float64, (12, 3), elements=st.floats(-1e3, 1e3, allow_nan=False, width=64))


@settings(max_examples=60, deadline=None)
@given(_matrix, st.randoms(use_true_random=False))
def test_scores_do_not_depend_on_row_order(X, rnd):
    df = pd.DataFrame(X, columns=["x", "y", "z"])
    if (df.max() - df.min() < 1e-6).any():  # (near-)constant columns are refused by design
        return
    dirs = {"x": "higher", "y": "lower", "z": "higher"}
    w, pil = pd.Series({"x": 0.2, "y": 0.3, "z": 0.5}), {"x": "p", "y": "p", "z": "q"}
    perm = list(range(len(df)))
    rnd.shuffle(perm)
    for method in ("minmax", "zscore", "rank", "percentile"):
        a = aggregate(normalise(df, method, directions=dirs), w, pil).table["index"]
        b = aggregate(normalise(df.iloc[perm], method, directions=dirs), w, pil).table["index"]
        np.testing.assert_allclose(a.loc[b.index].to_numpy(), b.to_numpy(), rtol=0, atol=1e-9)


@settings(max_examples=60, deadline=None)
@given(_matrix, st.floats(0.01, 1e3), st.floats(-1e3, 1e3))
def test_rescaling_an_indicator_does_not_change_relative_scores(X, scale, shift):
    df = pd.DataFrame(X, columns=["x", "y", "z"])
    if (df.nunique() < 2).any() or (df.max() - df.min() < 1e-6).any():
        return
    dirs = {"x": "higher", "y": "lower", "z": "higher"}
    moved = df.assign(y=df["y"] * scale + shift)
    for method in ("minmax", "zscore", "rank", "percentile"):
        a = normalise(df, method, directions=dirs)
        b = normalise(moved, method, directions=dirs)
        tol = 1e-6 if method in ("minmax", "zscore") else 0
        if method in ("rank", "percentile") and not (moved["y"].rank().equals(df["y"].rank())):
            continue  # float rounding merged two values
        np.testing.assert_allclose(a.to_numpy(), b.to_numpy(), rtol=0, atol=tol)


def test_score_leaves_out_a_constant_indicator_by_default_and_refuses_it_when_named():
    """A real export (PwC) has survey_response_rate = 1 for everyone: the default run scores the rest, loudly."""
    from kpilab.errors import ParameterError as PE
    from kpilab.panel import wide_to_long
    from kpilab.scoring import score

    X = _data(m=12)
    X["a3"] = 5.0
    X.index = pd.Index([f"u{k}" for k in range(len(X))], name="unit_id")
    long = wide_to_long(X.assign(period="2025-01-01").reset_index().set_index(["unit_id", "period"]))
    fw = _framework(normalise={"method": "minmax"})
    res = score(long, fw, weights=W, draws=0)
    assert "a3" not in set(res.scorecard["indicator"])
    assert any("a3" in n and "same value" in n for n in res.notices)
    expected = normalise(X.drop(columns="a3"), "minmax", directions=DIRS)
    w = W.drop("a3")
    w_p = w[["a1", "a2"]] / w[["a1", "a2"]].sum() * (W[["a1", "a2", "a3"]].sum())
    # pillar p keeps its whole weight (0.6) on a1 and a2; pillar q is untouched
    direct = (expected[["a1", "a2"]] @ (w_p / w_p.sum())) * 0.6 + (expected[["b1", "b2"]] @ (W[["b1", "b2"]] / 0.4)) * 0.4
    np.testing.assert_allclose(res.scores.sort_values("unit_id")["index"].to_numpy(),
                               direct.sort_index().to_numpy(), rtol=0, atol=1e-9)
    with pytest.raises(PE, match="a3"):
        score(long, fw, weights=W, draws=0, indicators=list(CODES))


def test_agents_without_a_role_are_named_in_the_default_notice():
    from kpilab.scoring import score

    fw = _framework(weight_sets={"fl": {"level": "pillar", "weights": {"p": 0.6, "q": 0.4}}},
                    role_weights={"front_line": "fl", "default": "fl"})
    roles = pd.DataFrame({"agent_id": [f"u{k}" for k in range(6)], "role": ["front_line"] * 4 + [None] * 2})
    res = score(_long_panel(_data(6)), fw, roles=roles, draws=0, normalise="minmax")
    note = next(n for n in res.notices if "no entry in role_weights" in n)
    assert "(agents without a role)" in note and "role(s)  have" not in note
