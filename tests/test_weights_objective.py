"""Entropy, CRITIC, std, variance and equal weights against pymcdm and independent numpy formulas."""

from __future__ import annotations

import hashlib
import struct

import numpy as np
import pandas as pd
import pymcdm.weights as pymcdm_w  # a hard dependency (pyproject): never skip these tests
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from kpilab.errors import DataError, FrameworkError, InsufficientDataError, ParameterError
from kpilab.weights import (
    CRITICWeights,
    EntropyWeights,
    EqualWeights,
    NotFittedError,
    StdWeights,
    VarianceWeights,
    WeightWarning,
    critic_weights,
    entropy_weights,
    equal_weights,
    std_weights,
    variance_weights,
)


# ------------------------------------------------------------- independent references
def ref_minmax(A: np.ndarray, lower: np.ndarray) -> np.ndarray:
    lo, hi = A.min(axis=0), A.max(axis=0)
    out = np.empty_like(A)
    for j in range(A.shape[1]):
        if lower[j]:
            out[:, j] = (hi[j] - A[:, j]) / (hi[j] - lo[j])
        else:
            out[:, j] = (A[:, j] - lo[j]) / (hi[j] - lo[j])
    return out


def ref_entropy(Z: np.ndarray) -> np.ndarray:
    m = Z.shape[0]
    E = np.zeros(Z.shape[1])
    for j in range(Z.shape[1]):
        p = Z[:, j] / Z[:, j].sum()
        E[j] = -sum(pi * np.log(pi) for pi in p if pi > 0) / np.log(m)
    d = 1 - E
    return d / d.sum()


def ref_critic(Z: np.ndarray) -> np.ndarray:
    n = Z.shape[1]
    sd = np.array([np.sqrt(((Z[:, j] - Z[:, j].mean()) ** 2).sum() / (len(Z) - 1)) for j in range(n)])
    C = np.zeros(n)
    for j in range(n):
        for k in range(n):
            r = np.corrcoef(Z[:, j], Z[:, k])[0, 1]
            C[j] += 1 - r
        C[j] *= sd[j]
    return C / C.sum()


def frame(A: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(A, columns=[f"k{j}" for j in range(A.shape[1])])


SEEDS = range(10)


# ----------------------------------------------------------------- against pymcdm
@pytest.mark.parametrize("seed", SEEDS)
def test_sum_entropy_equals_pymcdm(seed):
    rng = np.random.default_rng(seed)
    A = rng.uniform(0.5, 20, size=(rng.integers(5, 40), rng.integers(2, 8)))
    ours = entropy_weights(frame(A), normalisation="sum").to_numpy()
    np.testing.assert_allclose(ours, pymcdm_w.entropy_weights(A), rtol=0, atol=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_critic_equals_pymcdm(seed):
    rng = np.random.default_rng(seed)
    A = rng.normal(10, 3, size=(rng.integers(5, 40), rng.integers(2, 8)))
    np.testing.assert_allclose(critic_weights(frame(A)).to_numpy(), pymcdm_w.critic_weights(A), atol=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_variance_equals_pymcdm_and_std_on_minmax(seed):
    rng = np.random.default_rng(seed)
    A = rng.gamma(2, 3, size=(30, 5))
    np.testing.assert_allclose(variance_weights(frame(A)).to_numpy(), pymcdm_w.variance_weights(A), atol=1e-12)
    Z = (A - A.min(0)) / (A.max(0) - A.min(0))
    np.testing.assert_allclose(std_weights(frame(A)).to_numpy(), pymcdm_w.standard_deviation_weights(Z), atol=1e-12)


# ------------------------------------------------------ against the formulas by hand
@pytest.mark.parametrize("seed", SEEDS)
def test_default_entropy_and_critic_match_formula_with_zeros_and_lower(seed):
    rng = np.random.default_rng(100 + seed)
    m, n = rng.integers(4, 30), rng.integers(2, 7)
    A = rng.integers(0, 6, size=(m, n)).astype(float)  # many zeros and ties
    A[0], A[1] = 0.0, 5.0  # every column varies
    lower = rng.random(n) < 0.5
    dirs = {f"k{j}": ("lower" if lower[j] else "higher") for j in range(n)}
    Z = ref_minmax(A, lower)
    np.testing.assert_allclose(entropy_weights(frame(A), dirs).to_numpy(), ref_entropy(Z), atol=1e-9)
    np.testing.assert_allclose(critic_weights(frame(A), dirs).to_numpy(), ref_critic(Z), atol=1e-9)


def test_lower_direction_changes_critic_but_not_spread_weights():
    rng = np.random.default_rng(3)
    A = frame(rng.normal(size=(50, 3)) @ np.array([[1, 0.6, 0.2], [0, 1, 0.5], [0, 0, 1]]))
    up = critic_weights(A)
    down = critic_weights(A, {"k0": "lower"})
    assert not np.allclose(up, down)
    pd.testing.assert_series_equal(std_weights(A), std_weights(A, {"k0": "lower"}))


def test_hand_worked_entropy():
    # x' of column a = (0, 0.5, 1): p = (0, 1/3, 2/3); E = -(1/ln 3)(1/3 ln 1/3 + 2/3 ln 2/3)
    X = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [0.0, 0.0, 9.0]})
    Ea = -(1 / np.log(3)) * (1 / 3 * np.log(1 / 3) + 2 / 3 * np.log(2 / 3))
    Eb = 0.0  # p = (0, 0, 1)
    d = np.array([1 - Ea, 1 - Eb])
    np.testing.assert_allclose(entropy_weights(X).to_numpy(), d / d.sum(), atol=1e-12)


def test_equal_weights():
    X = frame(np.ones((1, 4)))
    np.testing.assert_allclose(EqualWeights().fit(X).weights_.to_numpy(), 0.25)
    assert equal_weights(["a", "b"]).to_dict() == {"a": 0.5, "b": 0.5}


# ------------------------------------------------------------------------ bad input
def test_constant_indicator_gets_zero_with_warning():
    X = pd.DataFrame({"a": [1.0, 2, 3, 4], "b": [5.0] * 4, "c": [4.0, 1, 3, 2]})
    for est in (EntropyWeights(), CRITICWeights(), StdWeights(), VarianceWeights(), EntropyWeights("sum")):
        with pytest.warns(WeightWarning, match="'?b'? .*constant|b are constant"):
            est.fit(X)
        assert est.weights_["b"] == 0.0
        assert est.weights_.sum() == pytest.approx(1.0)
        assert any("constant" in n for n in est.result_.notices)


def test_all_constant_raises():
    X = pd.DataFrame({"a": [1.0, 1, 1], "b": [2.0, 2, 2]})
    with pytest.raises(DataError, match="every indicator is constant"), pytest.warns(WeightWarning):
        EntropyWeights().fit(X)


def test_sum_entropy_rejects_negative_values_naming_indicator():
    X = pd.DataFrame({"aht": [1.0, 2, 3], "nps": [-10.0, 5, 20]})
    with pytest.raises(DataError, match="nps.*negative"):
        EntropyWeights(normalisation="sum").fit(X)
    EntropyWeights().fit(X)  # min-max handles negative values


def test_one_unit_is_insufficient():
    with pytest.raises(InsufficientDataError, match="1 row"):
        CRITICWeights().fit(pd.DataFrame({"a": [1.0], "b": [2.0]}))
    with pytest.raises(InsufficientDataError):
        EntropyWeights().fit(pd.DataFrame({"a": [1.0], "b": [2.0]}))


def test_unknown_direction_raises():
    X = frame(np.random.default_rng(0).normal(size=(5, 2)))
    with pytest.raises(FrameworkError, match="unknown direction 'up'.*k1"):
        EntropyWeights().fit(X, {"k1": "up"})


def test_nan_policy():
    X = pd.DataFrame({"a": [1.0, 2, np.nan, 4, 5], "b": [1.0, np.nan, np.nan, 2, 7], "c": [3.0, 1, 2, 2, 9]})
    with pytest.raises(DataError, match="'b' has the most \\(2 of 5 rows\\)"):
        EntropyWeights(nan_policy="raise").fit(X)
    est = EntropyWeights().fit(X)
    assert est.result_.n_rows == 3
    assert "Dropped 2 row(s)" in est.result_.notices[0]
    np.testing.assert_allclose(est.weights_, entropy_weights(X.dropna()))
    with pytest.raises(InsufficientDataError, match="'b' has the most"):
        EntropyWeights().fit(X.assign(b=[np.nan, np.nan, np.nan, np.nan, 1.0]))


def test_parameter_validation_and_not_fitted():
    with pytest.raises(ParameterError, match="'normalisation' parameter of EntropyWeights must be one of"):
        EntropyWeights(normalisation="zscore").fit(frame(np.eye(3)))
    with pytest.raises(NotFittedError, match="fit"):
        _ = EntropyWeights().weights_
    with pytest.raises(DataError, match="not numeric"):
        EntropyWeights().fit(pd.DataFrame({"a": ["x", "y", "z"], "b": [1.0, 2, 3]}))


def test_result_provenance_and_frame():
    X = frame(np.random.default_rng(1).normal(size=(12, 3)))
    res = EntropyWeights().fit(X, pillars={"k0": "p1"}).result_
    # the fingerprint identifies the matrix used: same data -> same print, whatever object holds it
    assert len(res.fingerprint) == 64
    same = pd.DataFrame(X.to_numpy().copy(), columns=list(X.columns), index=[f"r{i}" for i in range(len(X))])
    assert EntropyWeights().fit(same).result_.fingerprint == res.fingerprint
    df = res.to_frame()
    assert list(df.columns) == ["indicator", "weight", "pillar", "method", "ci_low", "ci_high", "fingerprint"]
    assert df.loc[df.indicator == "k0", "pillar"].item() == "p1"
    assert (df["method"] == "entropy").all()
    assert "normalisation='minmax'" in res.summary()
    assert res.provenance()["params"] == {"normalisation": "minmax", "nan_policy": "drop_rows"}
    X2 = X.copy()
    X2.iloc[0, 0] += 1
    assert EntropyWeights().fit(X2).result_.fingerprint != res.fingerprint


def test_fingerprint_hand_worked():
    from kpilab.weights._matrix import fingerprint

    # sha256 of: column names joined by the unit separator, the shape, then the float64 values row by row
    # (little-endian IEEE 754), assembled by hand with struct rather than by numpy
    X = pd.DataFrame({"a": [1.0, 2.0], "b": [0.5, -1.0]})
    manual = hashlib.sha256(b"a\x1fb" + b"(2, 2)" + struct.pack("<4d", 1.0, 0.5, 2.0, -1.0)).hexdigest()
    assert fingerprint(X) == manual == "87aef5a83c63ad5da29065e8f7f3684163edb572de4a1d1045f0f49e7c61586e"
    assert fingerprint(X.rename(columns={"b": "c"})) != manual
    assert fingerprint(None) == ""


# ----------------------------------------------------------------- property tests
matrices = st.integers(3, 12).flatmap(
    lambda m: st.integers(2, 5).flatmap(
        lambda n: arrays(np.float64, (m, n), elements=st.floats(-1e3, 1e3, allow_nan=False, width=32))
    )
)

ESTIMATORS = [EntropyWeights, CRITICWeights, StdWeights, VarianceWeights]


def _usable(A: np.ndarray) -> bool:
    rng = A.max(0) - A.min(0)
    scale = np.abs(A).max(0) + 1
    if (rng <= 1e-6 * scale).any():
        return False
    if A.shape[1] > 1:
        Z = (A - A.min(0)) / rng
        R = np.corrcoef(Z, rowvar=False)
        if np.any(np.abs(R[np.triu_indices(A.shape[1], 1)]) > 1 - 1e-9):
            return False
    return True


@settings(max_examples=60, deadline=None)
@given(A=matrices, which=st.sampled_from(ESTIMATORS), seed=st.integers(0, 1000))
def test_properties_nonneg_sum_one_row_order_affine(A, which, seed):
    assume(_usable(A))
    X = frame(A)
    rng = np.random.default_rng(seed)
    dirs = {c: rng.choice(["higher", "lower"]) for c in X.columns}
    w = which().fit(X, dirs).weights_
    assert (w >= 0).all()
    assert w.sum() == pytest.approx(1.0, abs=1e-12)
    perm = rng.permutation(len(X))
    w_perm = which().fit(X.iloc[perm], dirs).weights_
    np.testing.assert_allclose(w_perm, w, atol=1e-9)
    # positive affine rescaling of one indicator leaves min-max based weights unchanged
    j = int(rng.integers(X.shape[1]))
    X2 = X.copy()
    X2.iloc[:, j] = X2.iloc[:, j] * float(rng.uniform(0.1, 50)) + float(rng.uniform(-100, 100))
    np.testing.assert_allclose(which().fit(X2, dirs).weights_, w, atol=1e-7)


@settings(max_examples=40, deadline=None)
@given(A=arrays(np.float64, st.tuples(st.integers(3, 10), st.integers(2, 5)),
                elements=st.floats(0.125, 1e3, allow_nan=False, width=32)), c=st.floats(0.01, 100))
def test_sum_entropy_is_scale_invariant(A, c):
    assume(_usable(A))
    X = frame(A)
    w = entropy_weights(X, normalisation="sum")
    X2 = X.copy()
    X2["k0"] = X2["k0"] * c
    np.testing.assert_allclose(entropy_weights(X2, normalisation="sum"), w, atol=1e-9)
    assert (w >= 0).all() and w.sum() == pytest.approx(1.0)
