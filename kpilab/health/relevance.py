"""Outcome relevance: correlation of each indicator with an outcome, with intervals and FDR-adjusted p-values.

Point estimates and p-values are scipy's (``pearsonr``, ``spearmanr``,
``kendalltau``); p-values are adjusted for the number of indicators with
Benjamini-Hochberg (``statsmodels.stats.multitest.multipletests(method="fdr_bh")``).
Intervals are Fisher-z intervals (the standard error depends on the method) or
a percentile bootstrap that resamples units (or clusters of rows, e.g. all the
months of one agent) and is computed for all indicators and resamples at once
with matrix products.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.multitest import multipletests

from kpilab.errors import ParameterError
from kpilab.health.matrix import near_constant

__all__ = [
    "CORRELATION_COLUMNS",
    "fisher_ci",
    "outcome_correlations",
    "bootstrap_correlations",
    "bootstrap_spearman",
    "correlation_matrix",
    "bh_adjust",
]

CORRELATION_COLUMNS = [
    "indicator",
    "outcome",
    "method",
    "n",
    "r",
    "ci_low",
    "ci_high",
    "ci_method",
    "p_unc",
    "p_adj",
    "n_controls",
    "flag",
]

_MAX_KENDALL_BOOT_N = 3000


def fisher_ci(r: float, n: int, method: str = "pearson", alpha: float = 0.05, n_controls: int = 0) -> tuple[float, float]:
    r"""Fisher-z confidence interval of a correlation.

    .. math::

        z = \operatorname{artanh} r,\quad [\tanh(z - z_{1-\alpha/2}\,se),\ \tanh(z + z_{1-\alpha/2}\,se)]

    with :math:`se = 1/\sqrt{n-3-k}` for Pearson (``k`` controls of a partial correlation),
    :math:`se = \sqrt{(1 + r^2/2)/(n-3-k)}` for Spearman (Bonett and Wright) and
    :math:`se = \sqrt{0.437/(n-4-k)}` for Kendall's tau (Fieller, Hartley and Pearson).
    Returns (NaN, NaN) when ``n`` is too small.

    References
    ----------
    .. [1] Fisher, R. A. (1921). On the probable error of a coefficient of correlation. Metron 1, 3-32.
    .. [2] Bonett, D. G. and Wright, T. A. (2000). Sample size requirements for estimating Pearson,
       Kendall and Spearman correlations. Psychometrika 65(1), 23-28.
    .. [3] Fieller, E. C., Hartley, H. O. and Pearson, E. S. (1957). Tests for rank correlation
       coefficients I. Biometrika 44, 470-481.
    """
    if np.isnan(r):
        return float("nan"), float("nan")
    if method == "kendall":
        dof = n - 4 - n_controls
        var = 0.437 / dof if dof > 0 else np.nan
    elif method == "spearman":
        dof = n - 3 - n_controls
        var = (1 + r * r / 2) / dof if dof > 0 else np.nan
    else:
        dof = n - 3 - n_controls
        var = 1 / dof if dof > 0 else np.nan
    if np.isnan(var):
        return float("nan"), float("nan")
    z = np.arctanh(np.clip(r, -1 + 1e-15, 1 - 1e-15))
    half = stats.norm.ppf(1 - alpha / 2) * np.sqrt(var)
    return float(np.tanh(z - half)), float(np.tanh(z + half))


def bh_adjust(p: np.ndarray | pd.Series) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values over the non-NaN entries (NaN stays NaN)."""
    p = np.asarray(p, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    if ok.any():
        out[ok] = multipletests(p[ok], method="fdr_bh")[1]
    return out


def _residualise(v: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Residuals of ``v`` on ``[1, z]`` by least squares."""
    design = np.column_stack([np.ones(len(v)), z])
    beta, *_ = np.linalg.lstsq(design, v, rcond=None)
    return v - design @ beta


def _pair_stat(x: np.ndarray, y: np.ndarray, z: np.ndarray | None, method: str) -> tuple[float, float, np.ndarray, np.ndarray]:
    """(r, p, a, b): correlation, p-value and the transformed series whose Pearson r is ``r``.

    ``a``, ``b`` are what the bootstrap resamples (ranks for Spearman, residuals for partial
    correlations); for Kendall they are the raw values.
    """
    if z is None or z.shape[1] == 0:
        if method == "pearson":
            res = stats.pearsonr(x, y)
            return float(res.statistic), float(res.pvalue), x, y
        if method == "spearman":
            res = stats.spearmanr(x, y)
            return float(res.statistic), float(res.pvalue), stats.rankdata(x), stats.rankdata(y)
        res = stats.kendalltau(x, y)
        return float(res.statistic), float(res.pvalue), x, y
    # partial correlation: correlate residuals after regressing both on the controls
    if method == "spearman":
        x, y = stats.rankdata(x), stats.rankdata(y)
        z = np.column_stack([stats.rankdata(c) for c in z.T])
    a, b = _residualise(x, z), _residualise(y, z)
    k = z.shape[1]
    n = len(x)
    denom = np.sqrt(np.sum(a * a) * np.sum(b * b))
    r = float(np.sum(a * b) / denom) if denom > 0 else float("nan")
    dof = n - 2 - k
    if dof <= 0 or np.isnan(r):
        return r, float("nan"), a, b
    if abs(r) >= 1:
        return float(np.sign(r)), 0.0, a, b
    t = r * np.sqrt(dof / (1 - r * r))
    p = float(2 * stats.t.sf(abs(t), dof))
    return r, p, a, b


def bootstrap_correlations(
    a: np.ndarray,
    b: np.ndarray,
    mask: np.ndarray,
    *,
    clusters: np.ndarray | None = None,
    n_boot: int = 2000,
    random_state: int | np.random.Generator | None = 0,
    chunk: int | None = None,
) -> np.ndarray:
    r"""Bootstrap distribution of Pearson correlations of many column pairs, fully vectorised.

    Column ``j`` holds one pair ``(a[:, j], b[:, j])`` observed where ``mask[:, j]``. A resample is
    a vector of multiplicities ``w`` (how often each row, or each cluster of rows, is drawn); the
    weighted moments of all pairs for a block of resamples are matrix products ``W @ A``,
    ``W @ (A*B)`` etc., so there is no Python loop over resamples:

    .. math::

        r^*_{bj} = \frac{S_{ab} - S_a S_b / S_1}{\sqrt{(S_{aa} - S_a^2/S_1)(S_{bb} - S_b^2/S_1)}},
        \quad S_{ab} = \sum_i w_{bi}\, m_{ij}\, a_{ij} b_{ij}, \ldots

    Parameters
    ----------
    a, b : ndarray (n, p)
        Values (e.g. ranks computed once on the full sample for Spearman); ignored where ``mask`` is False.
    mask : ndarray of bool (n, p)
    clusters : ndarray (n,), optional
        Cluster label of each row; whole clusters are resampled (cluster bootstrap), otherwise rows.
    n_boot : int
    random_state : int or Generator
    chunk : int, optional
        Resamples per block (bounds memory to about ``chunk * n`` floats per product).

    Returns
    -------
    ndarray (n_boot, p)
        Bootstrap correlations (NaN for a degenerate resample).

    References
    ----------
    .. [1] Efron, B. and Tibshirani, R. J. (1993). An Introduction to the Bootstrap, ch. 13 (percentile intervals).
    .. [2] Field, C. A. and Welsh, A. H. (2007). Bootstrapping clustered data. JRSS-B 69(3), 369-390.
    """
    rng = np.random.default_rng(random_state)
    n, p = a.shape
    m = mask.astype(float)
    # centre on the observed means for numerical stability (correlation is shift-invariant)
    cnt = np.maximum(m.sum(axis=0), 1)
    a0 = np.where(mask, a, 0.0)
    b0 = np.where(mask, b, 0.0)
    a0 = np.where(mask, a0 - a0.sum(axis=0) / cnt, 0.0)
    b0 = np.where(mask, b0 - b0.sum(axis=0) / cnt, 0.0)
    stacked = np.hstack([m, a0, b0, a0 * a0, b0 * b0, a0 * b0])  # (n, 6p)
    if clusters is None:
        codes = np.arange(n)
        g = n
    else:
        codes, _ = pd.factorize(pd.Series(clusters), sort=True)
        g = int(codes.max()) + 1
    if chunk is None:
        chunk = max(1, min(n_boot, int(2e7 // max(n, 1))))
    out = np.empty((n_boot, p))
    with np.errstate(invalid="ignore", divide="ignore"):
        for start in range(0, n_boot, chunk):
            bc = min(chunk, n_boot - start)
            w = _resample_multiplicities(rng, bc, g, codes if clusters is not None else None)
            s = w @ stacked
            s1, sa, sb, saa, sbb, sab = (s[:, k * p : (k + 1) * p] for k in range(6))
            cov = sab - sa * sb / s1
            va = saa - sa * sa / s1
            vb = sbb - sb * sb / s1
            r = cov / np.sqrt(va * vb)
            r[(va <= 1e-12 * np.maximum(saa, 1e-300)) | (vb <= 1e-12 * np.maximum(sbb, 1e-300))] = np.nan
            out[start : start + bc] = r
    return out


def _resample_multiplicities(
    rng: np.random.Generator, n_resamples: int, n_groups: int, codes: np.ndarray | None
) -> np.ndarray:
    """How often each row appears in each of ``n_resamples`` bootstrap resamples, shape (B, rows).

    Groups (units, or clusters given by ``codes``) are drawn with replacement; a row inherits
    its cluster's multiplicity, so whole agents are resampled together.
    """
    draws = rng.integers(0, n_groups, size=(n_resamples, n_groups))
    flat = (draws + (np.arange(n_resamples) * n_groups)[:, None]).ravel()
    counts = np.bincount(flat, minlength=n_resamples * n_groups).reshape(n_resamples, n_groups).astype(float)
    return counts[:, codes] if codes is not None else counts


def _resampled_midranks(v: np.ndarray, W: np.ndarray) -> np.ndarray:
    r"""Mid-ranks of ``v`` inside each resample, for all resamples at once, shape (B, n).

    Row ``b`` of ``W`` holds how often each value is drawn. In the resampled data the average rank
    of a value :math:`u` drawn :math:`c_u` times is :math:`\#\{v < u\} + (c_u + 1)/2`, counting
    the drawn copies (``scipy.stats.rankdata(method="average")`` of the resampled vector); the
    counts below each distinct value are cumulative sums over the sorted values.
    """
    order = np.argsort(v, kind="stable")
    sv = v[order]
    starts = np.flatnonzero(np.r_[True, sv[1:] != sv[:-1]])
    sizes = np.diff(np.r_[starts, len(v)])
    group = np.empty(len(v), dtype=int)
    group[order] = np.repeat(np.arange(len(starts)), sizes)
    counts = np.add.reduceat(W[:, order], starts, axis=1)  # copies of each distinct value, (B, K)
    mid = np.cumsum(counts, axis=1) - counts + (counts + 1) / 2
    return mid[:, group]


def bootstrap_spearman(
    x: np.ndarray,
    y: np.ndarray,
    mask: np.ndarray,
    *,
    clusters: np.ndarray | None = None,
    n_boot: int = 2000,
    random_state: int | np.random.Generator | None = 0,
    chunk: int | None = None,
) -> np.ndarray:
    r"""Bootstrap distribution of Spearman correlations, re-ranking within every resample.

    Spearman's :math:`\rho` of a resample is the Pearson correlation of the ranks *in that
    resample*; ranking once on the full sample and resampling the ranks (as a Pearson bootstrap
    of fixed ranks does) gives a different, slightly biased distribution because duplicated
    units should tie. Each resample is a vector of multiplicities ``w``; the resampled mid-ranks
    come from cumulative counts over the sorted values (:func:`_resampled_midranks`) and the
    weighted Pearson correlation of the ranks

    .. math::

        ho^*_b = rac{\sum_i w_{bi} (R^x_{bi} - ar R^x_b)(R^y_{bi} - ar R^y_b)}
        {\sqrt{\sum_i w_{bi} (R^x_{bi} - ar R^x_b)^2 \sum_i w_{bi} (R^y_{bi} - ar R^y_b)^2}}

    equals ``scipy.stats.spearmanr`` on the resampled rows, for all resamples at once (no loop
    over resamples; one loop over indicators).

    Parameters
    ----------
    x : ndarray (n, p)
        Indicator values (raw; ranked here); ignored where ``mask`` is False.
    y : ndarray (n,)
        Outcome values.
    mask : ndarray of bool (n, p)
    clusters : ndarray (n,), optional
        Cluster label of each row; whole clusters are resampled.
    n_boot : int
    random_state : int or Generator
    chunk : int, optional
        Resamples per block.

    Returns
    -------
    ndarray (n_boot, p)
        NaN for a resample in which either variable is constant.

    References
    ----------
    .. [1] Efron, B. and Tibshirani, R. J. (1993). An Introduction to the Bootstrap. Chapman & Hall.
    """
    rng = np.random.default_rng(random_state)
    n, p = x.shape
    if clusters is None:
        codes, g = None, n
    else:
        codes, _ = pd.factorize(pd.Series(clusters), sort=True)
        g = int(codes.max()) + 1
    if chunk is None:
        chunk = max(1, min(n_boot, int(5e6 // max(n, 1))))
    out = np.empty((n_boot, p))
    with np.errstate(invalid="ignore", divide="ignore"):
        for start in range(0, n_boot, chunk):
            bc = min(chunk, n_boot - start)
            W = _resample_multiplicities(rng, bc, g, codes)
            for j in range(p):
                ok = mask[:, j]
                if not ok.any():
                    out[start : start + bc, j] = np.nan
                    continue
                w = W[:, ok]
                rx = _resampled_midranks(x[ok, j], w)
                ry = _resampled_midranks(y[ok], w)
                s1 = w.sum(axis=1, keepdims=True)
                dx = rx - (w * rx).sum(axis=1, keepdims=True) / s1
                dy = ry - (w * ry).sum(axis=1, keepdims=True) / s1
                vx, vy = (w * dx * dx).sum(axis=1), (w * dy * dy).sum(axis=1)
                r = (w * dx * dy).sum(axis=1) / np.sqrt(vx * vy)
                r[(vx <= 1e-12) | (vy <= 1e-12)] = np.nan
                out[start : start + bc, j] = np.clip(r, -1, 1)
    return out


def _bootstrap_kendall(
    x: np.ndarray, y: np.ndarray, clusters: np.ndarray | None, n_boot: int, rng: np.random.Generator
) -> np.ndarray:
    r"""Bootstrap tau-b of one pair via the concordance matrix (no loop over resamples).

    With multiplicities ``w``, :math:`\tau_b^* = w^T C w / \sqrt{(w^T D_x w)(w^T D_y w)}` where
    :math:`C_{ij} = \operatorname{sign}(x_i-x_j)\operatorname{sign}(y_i-y_j)` and
    :math:`D_x = \operatorname{sign}(x_i-x_j)^2` (copies of one unit are tied pairs).
    """
    n = len(x)
    sx = np.sign(x[:, None] - x[None, :])
    sy = np.sign(y[:, None] - y[None, :])
    cmat, dx, dy = sx * sy, sx * sx, sy * sy
    if clusters is None:
        codes, g = np.arange(n), n
    else:
        codes, _ = pd.factorize(pd.Series(clusters), sort=True)
        g = int(codes.max()) + 1
    out = np.empty(n_boot)
    chunk = max(1, int(2e7 // max(n * n, 1)))
    with np.errstate(invalid="ignore", divide="ignore"):
        for start in range(0, n_boot, chunk):
            bc = min(chunk, n_boot - start)
            w = _resample_multiplicities(rng, bc, g, codes if clusters is not None else None)
            num = np.einsum("bi,bi->b", w @ cmat, w)
            den = np.sqrt(np.einsum("bi,bi->b", w @ dx, w) * np.einsum("bi,bi->b", w @ dy, w))
            out[start : start + bc] = num / den
    return out


def outcome_correlations(
    X: pd.DataFrame,
    y: pd.Series,
    *,
    method: str = "spearman",
    ci: str = "fisher",
    n_boot: int = 2000,
    alpha: float = 0.05,
    controls: pd.DataFrame | None = None,
    clusters: np.ndarray | pd.Series | None = None,
    random_state: int | None = 0,
    outcome_name: str | None = None,
) -> pd.DataFrame:
    r"""Correlation of every column of ``X`` with ``y`` (pairwise-complete), with CI and BH-adjusted p.

    Parameters
    ----------
    X : DataFrame
        One column per indicator, rows aligned with ``y``.
    y : Series
        The outcome.
    method : {"spearman", "pearson", "kendall"}
        ``kendall`` is Kendall's tau-b.
    ci : {"fisher", "bootstrap"}
        Fisher-z interval (:func:`fisher_ci`) or a percentile bootstrap over units (or over
        ``clusters``) with ``n_boot`` resamples (:func:`bootstrap_correlations`; for Spearman
        without controls the values are re-ranked within each resample, :func:`bootstrap_spearman`).
    controls : DataFrame, optional
        Mix variables (and/or period dummies) to partial out: the correlation is the partial
        correlation, i.e. the Pearson correlation of the residuals of both variables (their ranks
        for Spearman) regressed on the controls; p from a t test with ``n - 2 - k`` degrees of
        freedom. Not available with Kendall.
    clusters : array, optional
        Cluster label of each row (unit id) for the bootstrap.

    Notes
    -----
    With controls, the bootstrap resamples the residuals of the full-sample regressions (the
    control regressions are not refitted per resample), a common and cheap approximation.

    Returns
    -------
    DataFrame
        Columns :data:`CORRELATION_COLUMNS`: ``n`` pairs used, ``r``, ``ci_low``, ``ci_high``,
        ``ci_method``, ``p_unc`` (scipy's two-sided p), ``p_adj`` (Benjamini-Hochberg over the
        indicators with a p-value), ``n_controls`` and ``flag`` (``too_few_pairs``, ``constant``,
        ``outcome_constant``; empty when fine). A failed pair gives NaN and a flag, never an error.

    References
    ----------
    .. [1] Benjamini, Y. and Hochberg, Y. (1995). Controlling the false discovery rate. JRSS-B 57, 289-300.
    """
    if method not in ("pearson", "spearman", "kendall"):
        raise ParameterError(f"The 'method' parameter must be one of 'pearson', 'spearman', 'kendall'. Got {method!r}.")
    if ci not in ("fisher", "bootstrap"):
        raise ParameterError(f"The 'ci' parameter must be one of 'fisher', 'bootstrap'. Got {ci!r}.")
    if controls is not None and controls.shape[1] > 0 and method == "kendall":
        raise ParameterError(
            "Partial correlations (controls= or within-period) are not defined for method='kendall'; "
            "use method='spearman' or 'pearson'."
        )
    yv = pd.to_numeric(y, errors="coerce").to_numpy(dtype=float)
    zv = None if controls is None or controls.shape[1] == 0 else controls.to_numpy(dtype=float)
    k = 0 if zv is None else zv.shape[1]
    n_rows, cols = len(yv), list(X.columns)
    p = len(cols)
    A = np.zeros((n_rows, p))
    B = np.zeros((n_rows, p))
    M = np.zeros((n_rows, p), dtype=bool)
    rows = []
    base_ok = ~np.isnan(yv)
    if zv is not None:
        base_ok &= ~np.isnan(zv).any(axis=1)
    for j, code in enumerate(cols):
        xv = pd.to_numeric(X[code], errors="coerce").to_numpy(dtype=float)
        ok = base_ok & ~np.isnan(xv)
        n = int(ok.sum())
        r = pv = np.nan
        flag = ""
        if n < 3 + k:
            flag = "too_few_pairs"
        elif near_constant(xv[ok]):
            flag = "constant"
        elif near_constant(yv[ok]):
            flag = "outcome_constant"
        else:
            r, pv, a, b = _pair_stat(xv[ok], yv[ok], None if zv is None else zv[ok], method)
            A[ok, j], B[ok, j], M[ok, j] = a, b, True
            if np.isnan(r):
                flag = "degenerate"
        lo, hi = fisher_ci(r, n, method, alpha, k) if ci == "fisher" else (np.nan, np.nan)
        rows.append([code, outcome_name or y.name, method, n, r, lo, hi, ci, pv, np.nan, k, flag])
    out = pd.DataFrame(rows, columns=CORRELATION_COLUMNS)
    if ci == "bootstrap" and M.any():
        rng = np.random.default_rng(random_state)
        cl = None if clusters is None else np.asarray(clusters)
        if method == "kendall":
            lows, highs = np.full(p, np.nan), np.full(p, np.nan)
            for j, code in enumerate(cols):
                if not M[:, j].any():
                    continue
                ok = M[:, j]
                if ok.sum() > _MAX_KENDALL_BOOT_N:
                    raise ParameterError(
                        f"A Kendall bootstrap on {int(ok.sum())} pairs (indicator {code!r}) needs an "
                        f"n x n matrix; use ci='fisher' or method='spearman' above {_MAX_KENDALL_BOOT_N} units."
                    )
                xv = pd.to_numeric(X[code], errors="coerce").to_numpy(dtype=float)
                dist = _bootstrap_kendall(xv[ok], yv[ok], None if cl is None else cl[ok], n_boot, rng)
                lows[j], highs[j] = np.nanquantile(dist, [alpha / 2, 1 - alpha / 2])
        else:
            if method == "spearman" and zv is None:
                Xraw = X.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
                dist = bootstrap_spearman(np.where(M, Xraw, 0.0), np.where(np.isnan(yv), 0.0, yv), M, clusters=cl,
                                          n_boot=n_boot, random_state=rng)
            else:
                dist = bootstrap_correlations(A, B, M, clusters=cl, n_boot=n_boot, random_state=rng)
            valid = M.any(axis=0)
            lows, highs = np.full(p, np.nan), np.full(p, np.nan)
            if valid.any():
                q = np.nanquantile(dist[:, valid], [alpha / 2, 1 - alpha / 2], axis=0)
                lows[valid], highs[valid] = q[0], q[1]
        out["ci_low"], out["ci_high"] = lows, highs
    out["p_adj"] = bh_adjust(out["p_unc"].to_numpy())
    return out


def _pairwise_pearson(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairwise-complete Pearson correlations of the columns of ``values`` (NaN = missing), by matrix products."""
    m = ~np.isnan(values)
    mf = m.astype(float)
    v = np.where(m, values, 0.0)
    v = np.where(m, v - v.sum(axis=0) / np.maximum(mf.sum(axis=0), 1), 0.0)  # centre for stability
    n = mf.T @ mf
    sx = v.T @ mf  # sx[i, j] = sum of column i over rows where j is present (and i)
    sxx = (v * v).T @ mf
    sxy = v.T @ v
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = sxy - sx * sx.T / n
        vx = sxx - sx * sx / n
        r = cov / np.sqrt(vx * vx.T)
    scale = np.maximum(np.abs(sxx), 1e-300)
    r[(vx <= 1e-12 * scale) | (vx.T <= 1e-12 * scale.T)] = np.nan
    np.clip(r, -1, 1, out=r)
    return r, n


def correlation_matrix(df: pd.DataFrame, method: str = "spearman", min_periods: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Pairwise-complete correlation matrix and the matrix of pair counts.

    Pearson: exact pairwise-complete correlations (as ``DataFrame.corr``), computed with matrix
    products. Spearman: Pearson correlation of the average ranks of each column, ranked once over
    its available values - identical to ``DataFrame.corr("spearman")`` when the pair has no
    missing value, a close approximation otherwise (pandas re-ranks every pair, which is ~100x
    slower at 60 indicators x 5,000 units). Kendall: ``DataFrame.corr("kendall")``. Constant
    columns give NaN; pairs with fewer than ``min_periods`` rows give NaN.
    """
    num = df.apply(pd.to_numeric, errors="coerce").astype(float)
    cols = num.columns
    if method == "kendall":
        with np.errstate(invalid="ignore", divide="ignore"):
            corr = num.corr(method="kendall", min_periods=min_periods)
        present = num.notna().to_numpy(dtype=float)
        counts = present.T @ present
    else:
        vals = num.rank(method="average").to_numpy(dtype=float) if method == "spearman" else num.to_numpy(dtype=float)
        r, counts = _pairwise_pearson(vals)
        bad = np.isnan(np.diag(r)) | (np.diag(counts) < min_periods)  # constant or (nearly) empty column
        r[counts < min_periods] = np.nan
        np.fill_diagonal(r, 1.0)
        r[bad[:, None] | bad[None, :]] = np.nan
        corr = pd.DataFrame(r, index=cols, columns=cols)
    return corr, pd.DataFrame(counts, index=cols, columns=cols).astype(int)
