"""The interval quantiles computed with scipy.special equal scipy.stats' (which the engine no longer imports)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
from scipy import stats

from kpilab.indicators.stats import _z, t_interval, t_quantile


def test_t_quantile_equals_scipy_stats_t_ppf() -> None:
    df = np.array([np.nan, -1.0, 0.0, 1.0, 2.0, 3.5, 10.0, 29.0, 1e3, 1e6])
    for q in (0.5, 0.8, 0.9, 0.95, 0.975, 0.995):
        want = stats.t.ppf(q, df)
        got = t_quantile(q, df)
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
        np.testing.assert_allclose(got[~np.isnan(want)], want[~np.isnan(want)], rtol=1e-15, atol=0)


def test_z_equals_scipy_stats_norm_ppf() -> None:
    for level in (0.5, 0.8, 0.9, 0.95, 0.99, 0.999):
        assert _z(level) == float(stats.norm.ppf(0.5 + level / 2))


def test_t_interval_equals_scipy_stats_t_interval() -> None:
    rng = np.random.default_rng(3)
    xs = [rng.gamma(2, 30, n) for n in (2, 3, 7, 40, 500)]
    tot = np.array([x.sum() for x in xs])
    ss = np.array([(x * x).sum() for x in xs])
    n = np.array([len(x) for x in xs], dtype=float)
    lo, hi = t_interval(tot, ss, n, 0.9)
    for i, x in enumerate(xs):
        want = stats.t.interval(0.9, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
        np.testing.assert_allclose([lo[i], hi[i]], want, rtol=1e-10)


def test_engine_import_does_not_load_scipy_stats() -> None:
    code = ("import sys; import kpilab.commands.panel, kpilab.indicators, kpilab.ingest; "
            "print(sorted(m for m in sys.modules if m == 'scipy.stats' or m.startswith('matplotlib')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
