"""The written-out Cohen's kappa and its standard error equal statsmodels' ``cohens_kappa``."""

import warnings

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.inter_rater import cohens_kappa

from kpilab.operations.triangulation import _kappa_se


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 400), min_size=4, max_size=4))
def test_kappa_and_se_match_statsmodels(cells):
    table = np.array(cells, dtype=float).reshape(2, 2)
    n = table.sum()
    if n == 0:
        return
    pe = (table.sum(1) / n) @ (table.sum(0) / n)
    if pe >= 1 - 1e-12:
        return  # kappa undefined: _kappa flags no_variation before computing
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ref = cohens_kappa(table, return_results=True)
    k, se = _kappa_se(table)
    np.testing.assert_allclose(k, ref.kappa, rtol=1e-10, atol=1e-12)
    if np.isfinite(ref.std_kappa):
        np.testing.assert_allclose(se, ref.std_kappa, rtol=1e-9, atol=1e-12)


def test_three_category_table_matches_statsmodels():
    table = np.array([[20, 5, 2], [3, 15, 4], [1, 2, 18]], dtype=float)
    ref = cohens_kappa(table, return_results=True)
    k, se = _kappa_se(table)
    np.testing.assert_allclose([k, se], [ref.kappa, ref.std_kappa], rtol=1e-12)
