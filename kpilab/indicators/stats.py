"""Intervals and empirical-Bayes shrinkage for panel cells.

Every function works on numpy arrays (one element per panel cell), so the
engine computes the intervals of a whole panel in a few vectorised calls.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# scipy.special, not scipy.stats: the same functions scipy.stats' norm.ppf and t.ppf call (ndtri, stdtrit),
# without importing scipy.stats (about 1.5 s of start-up for every `kpilab panel`); both are imported when
# first used, and the binomial quantile used for quantile intervals imports scipy.stats only when a
# quantile indicator is computed

__all__ = [
    "preload",
    "wilson_interval",
    "t_interval",
    "t_quantile",
    "nps_interval",
    "quantile_order_ranks",
    "shrink_beta_binomial",
    "shrink_normal",
]


_PRELOAD: list = []


def preload() -> None:
    """Start importing scipy.special in a background thread (once per process).

    The panel engine calls it when it starts: the import (about 0.3 s, most of it scipy's array-API
    layer) then runs while DuckDB scans the data, instead of after, when the first interval is
    computed. A later ``from scipy import special`` waits for that import to finish (Python's import
    lock), so the functions used are the same.
    """
    if _PRELOAD:
        return
    import threading

    def run() -> None:
        try:
            from scipy import special  # noqa: F401
        except Exception:  # noqa: BLE001 - the import in the caller raises it again, where it matters
            pass

    t = threading.Thread(target=run, name="kpilab-preload-scipy-special", daemon=True)
    _PRELOAD.append(t)
    t.start()


def _z(level: float) -> float:
    from scipy import special

    return float(special.ndtri(0.5 + level / 2))


def t_quantile(q: float, df) -> np.ndarray:
    """Student-t quantile ``q`` at ``df`` degrees of freedom (``scipy.stats.t.ppf(q, df)``), NaN where df is
    NaN or not positive."""
    from scipy import special

    df = np.asarray(df, dtype=float)
    out = np.full(df.shape, np.nan)
    ok = df > 0
    if ok.any():  # once per distinct df (cells share few sample sizes; the inverse is the costly part)
        distinct, back = np.unique(df[ok], return_inverse=True)
        out[ok] = special.stdtrit(distinct, q)[back]
    return out


def wilson_interval(k, n, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    r"""Wilson score interval for a proportion ``k / n``.

    .. math::

        \frac{\hat p + z^2/2n \pm z\sqrt{\hat p(1-\hat p)/n + z^2/4n^2}}{1 + z^2/n}

    NaN where ``n == 0``.

    References
    ----------
    Wilson, E. B. (1927). Probable inference, the law of succession, and
    statistical inference. JASA 22, 209-212. Same as
    ``statsmodels.stats.proportion.proportion_confint(method="wilson")``.
    """
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    z = _z(level)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        denom = 1 + z * z / n
        centre = (p + z * z / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    low, high = centre - half, centre + half
    low = np.where(k <= 0, 0.0, low)  # exact limits at the boundaries (avoid 0.9999999999999999)
    high = np.where(k >= n, 1.0, high)
    bad = ~(n > 0)
    low = np.where(bad, np.nan, np.clip(low, 0, 1))
    high = np.where(bad, np.nan, np.clip(high, 0, 1))
    return low, high


def t_interval(total, sumsq, n, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    r"""Student-t interval for a mean from its sufficient statistics.

    .. math::

        \bar x \pm t_{n-1, 1-\alpha/2}\, s/\sqrt n, \qquad
        s^2 = \frac{\sum x^2 - (\sum x)^2/n}{n-1}

    NaN where ``n < 2``.

    References
    ----------
    Student (1908). The probable error of a mean. Biometrika 6, 1-25;
    matches ``scipy.stats.t.interval(level, n-1, loc=mean, scale=sem)``.
    """
    total = np.asarray(total, dtype=float)
    sumsq = np.asarray(sumsq, dtype=float)
    n = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / n
        var = np.maximum(sumsq - total * total / n, 0.0) / (n - 1)
        tq = t_quantile(0.5 + level / 2, np.where(n > 1, n - 1, np.nan))
        half = tq * np.sqrt(var / n)
    ok = n > 1
    return np.where(ok, mean - half, np.nan), np.where(ok, mean + half, np.nan)


def nps_interval(promoters, detractors, n, level: float = 0.95) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""NPS (points) with its normal-approximation interval.

    .. math::

        \mathrm{NPS} = 100(p_P - p_D), \qquad
        SE = 100\sqrt{\frac{p_P + p_D - (p_P - p_D)^2}{n}}

    Returns ``(nps, ci_low, ci_high)``, clipped to [-100, 100].

    References
    ----------
    Reichheld, F. (2003). The one number you need to grow. HBR; SE of a
    difference of two multinomial shares (``shared/domain/kpi-standards.md`` 1.5).
    """
    pp = np.asarray(promoters, dtype=float)
    dd = np.asarray(detractors, dtype=float)
    n = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p_p, p_d = pp / n, dd / n
        nps = 100 * (p_p - p_d)
        se = 100 * np.sqrt(np.maximum(p_p + p_d - (p_p - p_d) ** 2, 0) / n)
    z = _z(level)
    ok = n > 0
    low = np.where(ok, np.clip(nps - z * se, -100, 100), np.nan)
    high = np.where(ok, np.clip(nps + z * se, -100, 100), np.nan)
    return np.where(ok, nps, np.nan), low, high


def quantile_order_ranks(q: float, n, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    r"""Ranks of the order statistics that bound an exact, distribution-free CI for the ``q`` quantile.

    With :math:`B \sim \mathrm{Binomial}(n, q)` (the number of observations below the
    population quantile :math:`\xi_q`) and :math:`x_{(1)} \le \dots \le x_{(n)}`,

    .. math::

        P\big(x_{(l)} \le \xi_q < x_{(u)}\big) = P(l \le B \le u - 1) = F(u-1) - F(l-1),

    so the equal-tailed choice

    .. math::

        l = \max\{r \ge 1 : F(r-1) \le \alpha/2\}, \qquad
        u = \min\{r \le n : F(r-1) \ge 1 - \alpha/2\}

    covers :math:`\xi_q` with probability at least ``level`` for any continuous
    distribution. When no such ``l`` exists (:math:`(1-q)^n > \alpha/2`) or no such
    ``u`` exists (:math:`q^n > \alpha/2`, e.g. the p90 with ``n < 36`` at 95 %), that bound
    is missing and its rank is 0: the interval is one-sided or absent, never narrowed.

    Parameters
    ----------
    q : float
        Quantile in (0, 1).
    n : array-like of int
        Sample sizes.
    level : float
        Confidence level (two-sided, equal tails).

    Returns
    -------
    (l, u) : arrays of int
        1-based ranks (0 where the bound does not exist or ``n < 1``).

    References
    ----------
    Conover, W. J. (1999). Practical Nonparametric Statistics, 3rd ed., Wiley, section 3.2
    (confidence interval for a quantile). Hahn, G. J. & Meeker, W. Q. (1991). Statistical
    Intervals, Wiley, section 5.2.
    """
    n = np.asarray(n, dtype=float)
    shape = n.shape
    n = np.where(np.isfinite(n) & (n > 0), n, 0).astype(np.int64).ravel()
    a = (1 - level) / 2
    lo = np.zeros(len(n), dtype=np.int64)
    hi = np.zeros(len(n), dtype=np.int64)
    ok = n > 0
    if ok.any():
        from scipy import stats

        nn = n[ok]
        # lower: largest l with F(l-1) <= a; start at the scipy quantile and fix the float edge
        k0 = stats.binom.ppf(a, nn, q).astype(np.int64)  # smallest k with F(k) >= a
        fk0 = stats.binom.cdf(k0, nn, q)
        l_rank = np.where(fk0 <= a * (1 + 1e-12), k0 + 1, k0)
        l_rank = np.where(stats.binom.cdf(l_rank - 1, nn, q) <= a * (1 + 1e-12), l_rank, l_rank - 1)
        # upper: smallest u with F(u-1) >= 1 - a
        k1 = stats.binom.ppf(1 - a, nn, q).astype(np.int64)
        u_rank = k1 + 1
        u_rank = np.where(stats.binom.cdf(u_rank - 2, nn, q) >= 1 - a, u_rank - 1, u_rank)
        lo[ok] = np.where(l_rank >= 1, l_rank, 0)
        hi[ok] = np.where(u_rank <= nn, u_rank, 0)
    return lo.reshape(shape), hi.reshape(shape)


def _shrink_info(groups: np.ndarray, use: np.ndarray, pooled: np.ndarray) -> dict[str, int]:
    g = pd.Series(groups)
    return {
        "groups": int(g[use].nunique()),
        "complete_pooling": int(g[pooled].nunique()),
        "kept_raw": int(g[~use].nunique()),
    }


def shrink_beta_binomial(k, n, groups, *, return_info: bool = False):
    r"""Empirical-Bayes (beta-binomial, method of moments) shrinkage of rates toward their group.

    Within each group: pooled rate :math:`m = \sum k / \sum n`; between-unit
    variance :math:`\tau^2 = \max(\mathrm{var}(\hat p_i) - \overline{m(1-m)/n_i}, 0)`;
    prior strength :math:`\alpha + \beta = m(1-m)/\tau^2 - 1`; posterior mean

    .. math::

        \tilde p_i = \frac{k_i + \alpha}{n_i + \alpha + \beta}

    With :math:`\tau^2 = 0` (no between-unit variance beyond binomial noise) every
    unit of the group gets ``m``: *complete pooling*, reported in the returned
    info so the caller can say so. Groups with fewer than three units keep the raw rate.

    Returns
    -------
    ndarray, or (ndarray, dict) with ``return_info=True``
        The info counts ``groups`` shrunk, groups with ``complete_pooling`` and
        groups whose units ``kept_raw`` values (fewer than three units).

    References
    ----------
    Robinson, D. (2017). Introduction to Empirical Bayes. Efron, B. & Morris, C. (1975).
    Data analysis using Stein's estimator and its generalizations. JASA 70, 311-319.
    """
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    ok = n > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.where(ok, k / np.where(ok, n, 1), np.nan)
    g = pd.Series(groups).astype(str).to_numpy()
    df = pd.DataFrame({"g": g, "k": np.where(ok, k, np.nan), "n": np.where(ok, n, np.nan), "p": p})
    grp = df.groupby("g", sort=False)
    cnt = grp["p"].transform("count").to_numpy()
    m = (grp["k"].transform("sum") / grp["n"].transform("sum")).to_numpy()
    var_p = grp["p"].transform("var").to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        df["e"] = m * (1 - m) / df["n"]
        expected = df.groupby("g", sort=False)["e"].transform("mean").to_numpy()
        tau2 = np.maximum(var_p - expected, 0.0)
        strength = np.maximum(m * (1 - m) / tau2 - 1, 0.0)
        shrunk = (k + m * strength) / (n + strength)
    out = p.copy()
    use = ok & (cnt >= 3)
    pooled = use & ((m <= 0) | (m >= 1) | (tau2 <= 0))
    out[use] = shrunk[use]
    out[pooled] = m[pooled]
    return (out, _shrink_info(g, use, pooled)) if return_info else out


def shrink_normal(mean, var, n, groups, *, return_info: bool = False):
    r"""Empirical-Bayes normal-normal shrinkage of unit means toward their group mean.

    .. math::

        \tilde x_i = B_i \bar x + (1 - B_i) x_i, \qquad
        B_i = \frac{\sigma_i^2}{\sigma_i^2 + \tau^2}, \quad
        \sigma_i^2 = \frac{s_p^2}{n_i}, \quad
        s_p^2 = \frac{\sum_i (n_i - 1) s_i^2}{\sum_i (n_i - 1)},

    with :math:`s_p^2` the pooled within-unit variance of the group (so a unit with
    one observation, or with identical values, is shrunk like any other unit of its
    size), :math:`\bar x` the unweighted mean of the unit means and
    :math:`\tau^2 = \max(\mathrm{var}(x_i) - \overline{\sigma_i^2}, 0)` (method of
    moments). :math:`\tau^2 = 0` gives every unit :math:`\bar x` (complete pooling).
    Groups with fewer than three units, or with no within-unit variance estimate
    (every :math:`n_i = 1`), keep the raw means.

    Parameters
    ----------
    mean, var, n : array-like
        Unit means, their sample variances (ddof 1; ignored where ``n < 2``) and sizes.
    groups : array-like
        Group of each unit (e.g. team within indicator and period).
    return_info : bool
        Also return ``{"groups", "complete_pooling", "kept_raw"}`` group counts.

    References
    ----------
    Efron, B. & Morris, C. (1975). Data analysis using Stein's estimator and
    its generalizations. JASA 70, 311-319. Morris, C. N. (1983). Parametric empirical
    Bayes inference: theory and applications. JASA 78, 47-55 (unequal variances
    :math:`\sigma^2/n_i`).
    """
    x = np.asarray(mean, dtype=float)
    s2 = np.asarray(var, dtype=float)
    n = np.asarray(n, dtype=float)
    ok = (n >= 1) & np.isfinite(x)
    g = pd.Series(groups).astype(str).to_numpy()
    within = np.where(ok & (n > 1) & np.isfinite(s2), (n - 1) * s2, 0.0)
    dof = np.where(ok & (n > 1) & np.isfinite(s2), n - 1, 0.0)
    df = pd.DataFrame({"g": g, "x": np.where(ok, x, np.nan), "w": within, "d": dof})
    grp = df.groupby("g", sort=False)
    with np.errstate(invalid="ignore", divide="ignore"):
        s2p = (grp["w"].transform("sum") / grp["d"].transform("sum")).to_numpy()
        sig2 = np.where(ok, s2p / np.where(n > 0, n, 1), np.nan)
    df["s"] = sig2
    grp = df.groupby("g", sort=False)
    cnt = grp["x"].transform("count").to_numpy()
    xbar = grp["x"].transform("mean").to_numpy()
    var_x = grp["x"].transform("var").to_numpy()
    mean_sig2 = grp["s"].transform("mean").to_numpy()
    tau2 = np.maximum(var_x - mean_sig2, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        b = np.where(sig2 + tau2 > 0, sig2 / (sig2 + tau2), 0.0)
    out = x.copy()
    use = ok & (cnt >= 3) & np.isfinite(s2p)
    out[use] = (b * xbar + (1 - b) * x)[use]
    pooled = use & (tau2 <= 0)
    return (out, _shrink_info(g, use, pooled)) if return_info else out
