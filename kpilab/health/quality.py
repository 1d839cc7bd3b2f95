"""Data quality of indicators: coverage, zeros, distinct values, skew/kurtosis and outlier treatment.

The outlier rule follows COINr (``get_stats``, ``Treat``, ``winsorise``,
``log_CT``, ``check_SkewKurt``): an indicator is treated only when
``|skew| > 2`` **and** ``kurtosis > 3.5`` (type-2, bias-corrected moments, as
``e1071::skewness(type = 2)``); it is first winsorised point by point (up to
``winmax = 5`` points, tied extremes count together), and when that does not
bring it inside the limits the COIN-Tool log transform is applied to the
*original* values instead.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpilab.health.matrix import near_constant

__all__ = [
    "skewness",
    "kurtosis",
    "passes_skew_kurt",
    "winsorise",
    "log_ct",
    "treat_outliers",
    "indicator_quality",
    "QUALITY_COLUMNS",
    "TREATED_COLUMNS",
]

QUALITY_COLUMNS = [
    "indicator",
    "n_rows",
    "n",
    "coverage",
    "zero_share",
    "n_distinct",
    "distinct_share",
    "mean",
    "sd",
    "min",
    "max",
    "skew",
    "kurtosis",
    "skew_kurt_flag",
    "treatment",
    "n_treated",
    "skew_treated",
    "kurtosis_treated",
    "constant",
    "low_coverage",
    "flag",
]
TREATED_COLUMNS = ["indicator", "unit_id", "period", "original", "treated", "treatment"]


def skewness(x: np.ndarray | pd.Series) -> float:
    r"""Bias-corrected sample skewness (e1071 type 2, Excel ``SKEW``), ignoring NaN.

    .. math::

        G_1 = \frac{\sqrt{n(n-1)}}{n-2}\,\frac{m_3}{m_2^{3/2}}

    Equals ``scipy.stats.skew(x, bias=False)``. NaN for fewer than 3 values or a constant.

    References
    ----------
    .. [1] Joanes, D. N. and Gill, C. A. (1998). Comparing measures of sample skewness and
       kurtosis. The Statistician 47(1), 183-189.
    """
    v = np.asarray(x, dtype=float)
    v = v[~np.isnan(v)]
    n = v.size
    if n < 3 or np.ptp(v) == 0:
        return float("nan")
    d = v - v.mean()
    m2, m3 = np.mean(d * d), np.mean(d**3)
    return float(m3 / m2**1.5 * np.sqrt(n * (n - 1)) / (n - 2))


def kurtosis(x: np.ndarray | pd.Series) -> float:
    r"""Bias-corrected excess kurtosis (e1071 type 2, Excel ``KURT``), ignoring NaN.

    .. math::

        G_2 = \frac{n-1}{(n-2)(n-3)}\left[(n+1)\left(\frac{m_4}{m_2^2} - 3\right) + 6\right]

    Equals ``scipy.stats.kurtosis(x, bias=False)``. NaN for fewer than 4 values or a constant.
    """
    v = np.asarray(x, dtype=float)
    v = v[~np.isnan(v)]
    n = v.size
    if n < 4 or np.ptp(v) == 0:
        return float("nan")
    d = v - v.mean()
    d2 = d * d
    m2, m4 = np.mean(d2), np.mean(d2 * d2)
    return float(((n + 1) * (m4 / m2**2 - 3) + 6) * (n - 1) / ((n - 2) * (n - 3)))


def passes_skew_kurt(x: np.ndarray | pd.Series, skew_thresh: float = 2.0, kurt_thresh: float = 3.5) -> bool:
    """COINr ``check_SkewKurt``: passes when ``|skew| < skew_thresh`` OR ``kurtosis < kurt_thresh``.

    A vector whose moments cannot be computed (constant, too short) passes: there is nothing to treat.
    """
    s, k = skewness(x), kurtosis(x)
    if np.isnan(s) or np.isnan(k):
        return True
    return bool(abs(s) < skew_thresh or k < kurt_thresh)


def winsorise(
    x: np.ndarray | pd.Series, winmax: int = 5, skew_thresh: float = 2.0, kurt_thresh: float = 3.5
) -> tuple[np.ndarray, int, np.ndarray]:
    """COINr ``winsorise``: clip the extreme point(s) to the next value until the skew/kurtosis test passes.

    At each step the maximum (or the minimum when the current skew is negative) is set to the
    next highest (lowest) value; tied extremes are clipped together, so ties count together.
    The loop stops when the vector passes :func:`passes_skew_kurt` or ``winmax`` points are
    reached.

    Returns
    -------
    x_treated : ndarray
        The winsorised values (NaN kept).
    n_winsorised : int
        COINr's ``nwin``: the points clipped at the last high step plus those at the last low step.
    changed : ndarray of bool
        Which positions differ from the input.
    """
    orig = np.asarray(x, dtype=float)
    v = orig.copy()
    ok = ~np.isnan(v)
    imax: np.ndarray = np.array([], dtype=int)
    imin: np.ndarray = np.array([], dtype=int)
    nwin = 0
    passing = passes_skew_kurt(v, skew_thresh, kurt_thresh)
    while not passing and nwin < winmax:
        vals = v[ok]
        if np.unique(vals).size < 2:
            break
        if skewness(v) >= 0:
            top = np.nanmax(v)
            imax = np.flatnonzero(ok & (v == top))
            v[imax] = np.nanmax(np.where(ok & (v != top), v, np.nan))
        else:
            bottom = np.nanmin(v)
            imin = np.flatnonzero(ok & (v == bottom))
            v[imin] = np.nanmin(np.where(ok & (v != bottom), v, np.nan))
        nwin = int(imax.size + imin.size)
        passing = passes_skew_kurt(v, skew_thresh, kurt_thresh)
    changed = ok & (v != orig)
    return v, nwin, changed


def log_ct(x: np.ndarray | pd.Series) -> np.ndarray:
    r"""COIN-Tool log transform (COINr ``log_CT``), NaN kept.

    .. math::

        x' = \log\bigl(x - \min x + 0.01\,(\max x - \min x)\bigr)
    """
    v = np.asarray(x, dtype=float)
    lo, hi = np.nanmin(v), np.nanmax(v)
    return np.log(v - lo + 0.01 * (hi - lo))


def treat_outliers(
    x: np.ndarray | pd.Series, winmax: int = 5, skew_thresh: float = 2.0, kurt_thresh: float = 3.5
) -> tuple[np.ndarray, str, np.ndarray]:
    """COINr's default ``Treat``: pass -> unchanged; else winsorise; still failing -> ``log_CT`` of the original.

    Returns
    -------
    x_treated : ndarray
    treatment : str
        ``"none"``, ``"winsorise"``, ``"log_ct"`` (the log transform was needed) or
        ``"log_ct_failed"`` (even the log transform leaves it outside the limits; values are
        the log transform, as COINr returns them).
    changed : ndarray of bool
        Positions whose value changed.
    """
    v = np.asarray(x, dtype=float)
    ok = ~np.isnan(v)
    if passes_skew_kurt(v, skew_thresh, kurt_thresh):
        return v.copy(), "none", np.zeros(v.shape, dtype=bool)
    w, _, changed = winsorise(v, winmax, skew_thresh, kurt_thresh)
    if passes_skew_kurt(w, skew_thresh, kurt_thresh):
        return w, "winsorise", changed
    lg = log_ct(v)
    label = "log_ct" if passes_skew_kurt(lg, skew_thresh, kurt_thresh) else "log_ct_failed"
    return lg, label, ok.copy()


def indicator_quality(
    wide: pd.DataFrame,
    *,
    indicators: list[str] | None = None,
    min_coverage: float = 0.65,
    winmax: int = 5,
    skew_thresh: float = 2.0,
    kurt_thresh: float = 3.5,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Data-quality table, outlier-treated values and the list of treated points.

    Parameters
    ----------
    wide : DataFrame
        Rows are analysis units (index ``unit_id`` or ``(unit_id, period)``), one column per indicator.
    indicators : list of str, optional
        Columns to describe (default: all).
    min_coverage : float
        Coverage below this is flagged ``low_coverage`` (COINr ``t_avail = 0.65``).

    Returns
    -------
    quality : DataFrame
        One row per indicator with columns :data:`QUALITY_COLUMNS`: ``n_rows`` rows, ``n`` with a
        value, ``coverage = n / n_rows``, ``zero_share`` (of values), ``n_distinct``,
        ``distinct_share``, moments, ``skew``/``kurtosis`` (type 2), ``skew_kurt_flag`` (True when
        |skew| > 2 and kurtosis > 3.5), ``treatment`` (none/winsorise/log_ct/log_ct_failed),
        ``n_treated`` (points changed), the moments after treatment, ``constant``,
        ``low_coverage`` and a short ``flag`` text.
    treated : DataFrame
        ``wide[indicators]`` after treatment (used for the composite-based checks).
    points : DataFrame
        Changed points, columns :data:`TREATED_COLUMNS`.

    References
    ----------
    .. [1] Becker, W. et al. COINr: composite indicator construction and analysis in R,
       functions ``get_stats``, ``Treat``, ``winsorise``, ``log_CT``.
    """
    indicators = list(wide.columns) if indicators is None else list(indicators)
    rows = []
    treated = pd.DataFrame(index=wide.index)
    points = []
    idx = wide.index.to_frame(index=False)
    unit_ids = idx["unit_id"].astype(str).to_numpy() if "unit_id" in idx else np.arange(len(wide)).astype(str)
    periods = idx["period"].astype(str).to_numpy() if "period" in idx else np.full(len(wide), "all")
    for code in indicators:
        v = pd.to_numeric(wide[code], errors="coerce").to_numpy(dtype=float)
        ok = ~np.isnan(v)
        n_rows, n = len(v), int(ok.sum())
        vals = v[ok]
        n_distinct = int(np.unique(vals).size)
        constant = n_distinct <= 1 or near_constant(vals)
        coverage = n / n_rows if n_rows else 0.0
        low_cov = coverage < min_coverage
        s, k = skewness(v), kurtosis(v)
        sk_flag = bool(not np.isnan(s) and not np.isnan(k) and abs(s) > skew_thresh and k > kurt_thresh)
        if constant or n < 4:
            tv, label, changed = v.copy(), "none", np.zeros(v.shape, dtype=bool)
        else:
            tv, label, changed = treat_outliers(v, winmax, skew_thresh, kurt_thresh)
        treated[code] = tv
        for i in np.flatnonzero(changed):
            points.append((code, unit_ids[i], periods[i], v[i], tv[i], label))
        flags = []
        if n == 0:
            flags.append("all_missing")
        elif constant:
            flags.append("constant")
        if low_cov and n > 0:
            flags.append("low_coverage")
        if sk_flag:
            flags.append("skew_kurtosis")
        rows.append(
            {
                "indicator": code,
                "n_rows": n_rows,
                "n": n,
                "coverage": coverage,
                "zero_share": float(np.mean(vals == 0)) if n else np.nan,
                "n_distinct": n_distinct,
                "distinct_share": n_distinct / n if n else np.nan,
                "mean": float(np.mean(vals)) if n else np.nan,
                "sd": float(np.std(vals, ddof=1)) if n > 1 else np.nan,
                "min": float(np.min(vals)) if n else np.nan,
                "max": float(np.max(vals)) if n else np.nan,
                "skew": s,
                "kurtosis": k,
                "skew_kurt_flag": sk_flag,
                "treatment": label,
                "n_treated": int(changed.sum()),
                "skew_treated": skewness(tv) if label != "none" else s,
                "kurtosis_treated": kurtosis(tv) if label != "none" else k,
                "constant": bool(constant),
                "low_coverage": bool(low_cov),
                "flag": ";".join(flags),
            }
        )
    quality = pd.DataFrame(rows, columns=QUALITY_COLUMNS)
    pts = pd.DataFrame(points, columns=TREATED_COLUMNS)
    return quality, treated, pts
