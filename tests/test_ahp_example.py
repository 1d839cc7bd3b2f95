"""The shipped AHP example (data/ahp_pairwise_example.yaml and .csv) loads and is consistent.

The consistency ratio and the weights are recomputed here independently of
``kpilab.weights.ahp`` (numpy's eigen-decomposition and Saaty's published
random index for n = 6, RI = 1.24, Saaty 1980 / 2012).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kpilab.framework import load_framework
from kpilab.weights import AHPWeights, read_pairwise

DATA = Path(__file__).resolve().parents[1] / "data"
YAML = DATA / "ahp_pairwise_example.yaml"
CSV = DATA / "ahp_pairwise_example.csv"
RI_6 = 1.24  # Saaty's random index for a 6 x 6 matrix


def test_yaml_and_csv_give_the_same_reciprocal_matrix():
    a, b = read_pairwise(YAML), read_pairwise(CSV)
    pd.testing.assert_frame_equal(a, b.loc[a.index, a.columns], check_exact=False, rtol=1e-12)
    M = a.to_numpy()
    assert M.shape == (6, 6)
    np.testing.assert_allclose(np.diag(M), 1.0)
    np.testing.assert_allclose(M * M.T, 1.0)  # a_ji = 1 / a_ij
    assert set(a.index) <= set(load_framework(None).codes)  # codes the default framework knows


def test_consistency_ratio_below_saaty_threshold_independently():
    M = read_pairwise(YAML)
    A = M.to_numpy()
    vals, vecs = np.linalg.eig(A)
    k = int(np.argmax(vals.real))
    lam = float(vals[k].real)
    w = np.abs(vecs[:, k].real)
    w /= w.sum()
    n = A.shape[0]
    cr = (lam - n) / (n - 1) / RI_6
    assert cr < 0.1
    assert cr == pytest.approx(0.008, abs=0.001)  # the value the file's header states
    est = AHPWeights().fit(M)
    assert est.diagnostics_["consistent"] is True
    assert est.diagnostics_["cr"] == pytest.approx(cr, rel=1e-6)
    np.testing.assert_allclose(est.weights_.loc[M.index].to_numpy(), w, atol=1e-6)
    # the rounded weights the header of the file quotes
    quoted = {"fcr": 0.33, "csat": 0.21, "service_level": 0.16, "qa_score": 0.15, "aht": 0.08,
              "cost_per_contact": 0.08}
    for code, q in quoted.items():
        assert est.weights_[code] == pytest.approx(q, abs=0.005)


def test_cli_reads_the_example(tmp_path, capsys):
    from kpilab.cli import main

    out = tmp_path / "ahp.csv"
    assert main(["weights", "--method", "ahp", "--pairwise", str(YAML), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "consistency ratio CR =" in text and "INCONSISTENT" not in text
    w = pd.read_csv(out).set_index("indicator")["weight"]
    assert w.sum() == pytest.approx(1.0) and w.idxmax() == "fcr"
