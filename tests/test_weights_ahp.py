"""AHP against Saaty's published examples; pairwise file formats and errors."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

from kpilab.errors import DataError
from kpilab.weights import SAATY_RI, AHPWeights, ahp_weights, read_pairwise


def parse(rows: str) -> np.ndarray:
    return np.array([[float(Fraction(v)) for v in r.split()] for r in rows.strip().splitlines()])


# Saaty, T. L. (1990). How to make a decision: the analytic hierarchy process. European Journal of
# Operational Research 48, 9-26: choosing a house, 8 criteria (size, transportation, neighbourhood,
# age, yard, modern facilities, general condition, financing). Published: priorities
# .173 .054 .188 .018 .031 .036 .167 .333, lambda_max = 9.669, C.I. = 0.238, C.R. = 0.169.
HOUSE = parse("""
1 5 3 7 6 6 1/3 1/4
1/5 1 1/3 5 3 3 1/5 1/7
1/3 3 1 6 3 4 6 1/5
1/7 1/5 1/6 1 1/3 1/4 1/7 1/8
1/6 1/3 1/3 3 1 1/2 1/5 1/6
1/6 1/3 1/4 4 2 1 1/5 1/6
3 5 1/6 7 5 5 1 1/2
4 7 5 8 6 6 2 1
""")
HOUSE_CODES = ["size", "transport", "neighbourhood", "age", "yard", "modern", "condition", "financing"]

# Saaty, T. L. (2008). Decision making with the analytic hierarchy process. International Journal of
# Services Sciences 1(1), 83-98, Table 2: relative consumption of drinks in the USA. Published derived
# scale .177 .019 .042 .116 .190 .129 .327 (actual consumption .180 .010 .040 .120 .180 .140 .330).
DRINKS = parse("""
1 9 5 2 1 1 1/2
1/9 1 1/3 1/9 1/9 1/9 1/9
1/5 3 1 1/3 1/4 1/3 1/9
1/2 9 3 1 1/2 1 1/3
1 9 4 2 1 2 1/2
1 9 3 1 1/2 1 1/3
2 9 9 3 2 3 1
""")


def test_saaty_1990_house_example():
    M = pd.DataFrame(HOUSE, index=HOUSE_CODES, columns=HOUSE_CODES)
    est = AHPWeights().fit(M)
    published = [0.173, 0.054, 0.188, 0.018, 0.031, 0.036, 0.167, 0.333]
    np.testing.assert_allclose(est.weights_.round(3).to_numpy(), published, atol=1e-12)
    d = est.diagnostics_
    assert d["lambda_max"] == pytest.approx(9.669, abs=5e-4)
    assert d["ci"] == pytest.approx(0.238, abs=5e-4)
    assert d["cr"] == pytest.approx(0.169, abs=5e-4)
    assert d["ri"] == 1.41 and not d["consistent"]
    # inconsistent: the notice names the judgement furthest from the weights' ratio first
    note = est.result_.notices[0]
    assert "CR = 0.169" in note and note.index("neighbourhood vs condition") < note.index("Revise first") + 40
    top = est.result_.tables["judgements"].iloc[0]
    assert (top.row, top.column, top.judgement) == ("neighbourhood", "condition", 6.0)


def test_saaty_2008_drinks_example_is_consistent():
    est = AHPWeights().fit(DRINKS)
    np.testing.assert_allclose(est.weights_.round(3).to_numpy(), [0.177, 0.019, 0.042, 0.116, 0.190, 0.129, 0.327])
    assert est.diagnostics_["cr"] < 0.1 and est.diagnostics_["consistent"]
    assert est.result_.notices == ()


def test_consistent_matrix_recovers_ratio_weights_exactly():
    w = np.array([0.5, 0.3, 0.15, 0.05])
    A = w[:, None] / w[None, :]
    est = AHPWeights().fit(A)
    np.testing.assert_allclose(est.weights_.to_numpy(), w, atol=1e-12)
    assert est.diagnostics_["lambda_max"] == pytest.approx(4.0)
    assert est.diagnostics_["cr"] == pytest.approx(0.0, abs=1e-12)


def test_saaty_random_index_table():
    assert [SAATY_RI[n] for n in range(3, 11)] == [0.58, 0.90, 1.12, 1.24, 1.32, 1.41, 1.45, 1.49]


def test_csv_and_yaml_inputs_agree(tmp_path):
    codes = ["csat", "fcr", "aht"]
    csv = tmp_path / "pw.csv"
    csv.write_text("code,csat,fcr,aht\ncsat,1,1/2,3\nfcr,2,1,5\naht,1/3,0.2,1\n")
    y1 = tmp_path / "pw.yaml"
    y1.write_text("codes: [csat, fcr, aht]\nmatrix:\n  - [1, 1/2, 3]\n  - [2, 1, 5]\n  - [1/3, 1/5, 1]\n")
    y2 = tmp_path / "pw2.yaml"
    y2.write_text('judgements:\n  "fcr:csat": 2\n  "csat:aht": 3\n  "fcr:aht": 5\n')
    ref = AHPWeights().fit(read_pairwise(csv)).weights_
    assert list(ref.index) == codes
    for path in (y1, y2):
        w = ahp_weights(path).weights
        pd.testing.assert_series_equal(w[codes], ref, check_exact=False, atol=1e-12)


def test_bad_matrices_name_the_cell(tmp_path):
    A = pd.DataFrame([[1, 3, 5], [1 / 3, 1, 2], [1 / 5, 2, 1]], index=list("abc"), columns=list("abc"))
    with pytest.raises(DataError, match=r"cell \(b, c\) = 2 but \(c, b\) = 2, expected 0.5.*reciprocal"):
        AHPWeights().fit(A)
    B = A.copy()
    B.loc["a", "b"] = -3
    with pytest.raises(DataError, match=r"cell \(a, b\) = -3; every judgement must be positive"):
        AHPWeights().fit(B)
    C = pd.DataFrame(np.ones((2, 3)))
    with pytest.raises(DataError, match="square"):
        AHPWeights().fit(C)
    D = pd.DataFrame([[2.0, 1], [1, 1]], index=list("ab"), columns=list("ab"))
    with pytest.raises(DataError, match=r"diagonal cell \(a, a\)"):
        AHPWeights().fit(D)
    bad = tmp_path / "bad.csv"
    bad.write_text("code,a,b\na,1,x\nb,1,1\n")
    with pytest.raises(DataError, match=r"cell \(a, b\).*'x' is not a number"):
        read_pairwise(bad)
    mism = tmp_path / "mism.csv"
    mism.write_text("code,a,b\na,1,2\nc,0.5,1\n")
    with pytest.raises(DataError, match="row codes"):
        read_pairwise(mism)
    missing = tmp_path / "missing.yaml"
    missing.write_text('judgements:\n  "a:b": 2\n  "b:c": 3\n')
    with pytest.raises(DataError, match="no judgement for a:c"):
        read_pairwise(missing)
