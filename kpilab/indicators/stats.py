"""Intervals and empirical-Bayes shrinkage for panel cells.

Every function works on numpy arrays (one element per panel cell), so the
engine computes the intervals of a whole panel in a few vectorised calls.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

__all__ = [
    "wilson_interval",
    "t_interval",
    "nps_interval",
    "quantile_rank_interval",
    "shrink_beta_binomial",
    "shrink_normal",
]


def _z(level: float) -> float:
    return float(stats.norm.ppf(0.5 + level / 2))


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
        tq = stats.t.ppf(0.5 + level / 2, np.where(n > 1, n - 1, np.nan))
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


def quantile_rank_interval(q: float, n, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    r"""Probabilities whose sample quantiles bound a distribution-free CI for the ``q`` quantile.

    .. math::

        q_{\pm} = q \pm z\sqrt{q(1-q)/n}

    (normal approximation to the binomial order-statistic interval), clipped
    to [0, 1]. The engine reads the sample quantiles at these probabilities.

    References
    ----------
    Conover, W. J. (1999). Practical Nonparametric Statistics, 3rd ed., 3.2.
    """
    n = np.asarray(n, dtype=float)
    z = _z(level)
    with np.errstate(invalid="ignore", divide="ignore"):
        d = z * np.sqrt(q * (1 - q) / n)
    return np.clip(q - d, 0, 1), np.clip(q + d, 0, 1)


def shrink_beta_binomial(k, n, groups) -> np.ndarray:
    r"""Empirical-Bayes (beta-binomial, method of moments) shrinkage of rates toward their group.

    Within each group: pooled rate :math:`m = \sum k / \sum n`; between-unit
    variance :math:`\tau^2 = \max(\mathrm{var}(\hat p_i) - \overline{m(1-m)/n_i}, 0)`;
    prior strength :math:`\alpha + \beta = m(1-m)/\tau^2 - 1`; posterior mean

    .. math::

        \tilde p_i = \frac{k_i + \alpha}{n_i + \alpha + \beta}

    With :math:`\tau^2 = 0` every unit gets ``m``; groups with fewer than three
    units keep the raw rate.

    References
    ----------
    Robinson, D. (2017). Introduction to Empirical Bayes; Efron & Morris (1975).
    """
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    ok = n > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.where(ok, k / np.where(ok, n, 1), np.nan)
    df = pd.DataFrame({"g": pd.Series(groups).astype(str).to_numpy(), "k": np.where(ok, k, np.nan),
                       "n": np.where(ok, n, np.nan), "p": p})
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
    return out


def shrink_normal(mean, var, n, groups) -> np.ndarray:
    r"""Empirical-Bayes normal-normal shrinkage of unit means toward their group mean.

    .. math::

        \tilde x_i = B_i \bar x + (1 - B_i) x_i, \qquad
        B_i = \frac{\sigma_i^2}{\sigma_i^2 + \tau^2}, \quad \sigma_i^2 = s_i^2/n_i,

    with :math:`\bar x` the unweighted mean of the unit means and
    :math:`\tau^2 = \max(\mathrm{var}(x_i) - \overline{\sigma_i^2}, 0)`
    (method of moments). Units with ``n < 2`` or groups with fewer than three
    units keep the raw mean.

    References
    ----------
    Efron, B. & Morris, C. (1975). Data analysis using Stein's estimator and
    its generalizations. JASA 70, 311-319.
    """
    x = np.asarray(mean, dtype=float)
    s2 = np.asarray(var, dtype=float)
    n = np.asarray(n, dtype=float)
    ok = (n > 1) & np.isfinite(x) & np.isfinite(s2)
    with np.errstate(invalid="ignore", divide="ignore"):
        sig2 = np.where(ok, s2 / np.where(n > 0, n, 1), np.nan)
    df = pd.DataFrame({"g": pd.Series(groups).astype(str).to_numpy(), "x": np.where(ok, x, np.nan), "s": sig2})
    grp = df.groupby("g", sort=False)
    cnt = grp["x"].transform("count").to_numpy()
    xbar = grp["x"].transform("mean").to_numpy()
    var_x = grp["x"].transform("var").to_numpy()
    mean_sig2 = grp["s"].transform("mean").to_numpy()
    tau2 = np.maximum(var_x - mean_sig2, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        b = np.where(sig2 + tau2 > 0, sig2 / (sig2 + tau2), 0.0)
    out = x.copy()
    use = ok & (cnt >= 3)
    out[use] = (b * xbar + (1 - b) * x)[use]
    return out
