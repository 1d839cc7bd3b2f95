r"""Statistical process control for indicator trends: p-charts, X-bar and I-MR charts with run rules.

Each chart returns a tidy frame with one row per period: the value, its centre line and
3-sigma limits, the standardised distance :math:`z` from the centre line, and the run rules
fired at that point (named, ``;``-separated). Limits follow Montgomery [1]_:

* **p-chart** (proportions with their own denominators): :math:`\bar p \pm 3\sqrt{\bar p(1-\bar p)/n_i}`,
  :math:`\bar p = \sum k_i / \sum n_i`; optionally Laney's p' chart [4]_, which widens the limits by
  :math:`\sigma_z = \overline{MR}_z / 1.128` when large denominators make every day "out of control".
* **X-bar** (period means with their sizes and standard deviations): :math:`\bar{\bar x} \pm 3 s_p/\sqrt{n_i}`
  with the size-weighted grand mean and the pooled within-period SD :math:`s_p`.
* **I-MR** (one value per period, no size): :math:`\bar x \pm 2.66\,\overline{MR}`, i.e.
  :math:`\pm 3\,\overline{MR}/d_2` with :math:`d_2 = 1.128`.

Run rules (Western Electric [2]_, Nelson [3]_): ``beyond_3sigma`` (WE 1 / Nelson 1), ``two_of_three_2sigma``
(WE 2), ``four_of_five_1sigma`` (WE 3), ``run_8`` (8 in a row on one side, WE 4), ``trend_6`` (6 in a row
steadily rising or falling, Nelson 3). The default set is the first, ``run_8`` and ``trend_6``.

Checked libraries: capstat-core 0.4.3 (MIT) has I-MR/X-bar charts with constant limits and the
Nelson/WE rules but no attribute (p) charts or variable subgroup sizes; controlchartspy and pyspc are
GPL. The limits here are the textbook formulas (tests compare them with hand computations and, when
capstat-core is installed, its I-MR limits and rule firings).

References
----------
.. [1] Montgomery, D. C. (2019). *Introduction to Statistical Quality Control*, 8th ed., Wiley,
   sections 6.2-6.4 (X-bar with variable sample size, individuals charts) and 7.2 (p-chart).
.. [2] Western Electric Company (1956). *Statistical Quality Control Handbook*.
.. [3] Nelson, L. S. (1984). The Shewhart control chart - tests for special causes. *Journal of
   Quality Technology* 16(4), 237-239.
.. [4] Laney, D. B. (2002). Improved control charts for attributes. *Quality Engineering* 14(4), 531-537.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpilab.errors import InsufficientDataError, ParameterError

__all__ = ["RULES", "DEFAULT_RULES", "D2", "p_chart", "xbar_chart", "imr_chart", "run_rules", "CHART_COLUMNS"]

D2 = 2 / np.sqrt(np.pi)  # d2 for moving ranges of two (1.1284; tables print 1.128)
RULES = {
    "beyond_3sigma": "one point beyond 3 sigma (Western Electric 1, Nelson 1)",
    "two_of_three_2sigma": "2 of 3 in a row beyond 2 sigma on one side (Western Electric 2)",
    "four_of_five_1sigma": "4 of 5 in a row beyond 1 sigma on one side (Western Electric 3)",
    "run_8": "8 in a row on one side of the centre line (Western Electric 4)",
    "trend_6": "6 in a row steadily rising or falling (Nelson 3)",
}
DEFAULT_RULES = ("beyond_3sigma", "run_8", "trend_6")
CHART_COLUMNS = ["period", "value", "n", "center", "lcl", "ucl", "z", "chart", "rule", "signal"]


def _check_rules(rules) -> tuple[str, ...]:
    rules = tuple(rules)
    bad = [r for r in rules if r not in RULES]
    if bad:
        raise ParameterError(f"Unknown run rule(s) {bad}; known: {', '.join(RULES)}.")
    return rules


def run_rules(z: np.ndarray, rules=DEFAULT_RULES) -> list[str]:
    """Names of the rules fired at each point (``;``-separated, ``""`` when none).

    A rule is reported at every point that completes its pattern (for ``run_8``, the 8th point and
    every later point of the same run). ``z`` is the distance from the centre line in sigma units;
    NaN points break runs.
    """
    rules = _check_rules(rules)
    z = np.asarray(z, dtype=float)
    n = len(z)
    fired: list[list[str]] = [[] for _ in range(n)]
    ok = np.isfinite(z)
    for i in range(n):
        if not ok[i]:
            continue
        if "beyond_3sigma" in rules and abs(z[i]) > 3:
            fired[i].append("beyond_3sigma")
        for name, k, m, lim in (("two_of_three_2sigma", 2, 3, 2.0), ("four_of_five_1sigma", 4, 5, 1.0)):
            if name in rules and i >= m - 1 and ok[i - m + 1: i + 1].all():
                w = z[i - m + 1: i + 1]
                for sign in (1, -1):
                    if sign * z[i] > lim and np.sum(sign * w > lim) >= k:
                        fired[i].append(name)
                        break
        if "run_8" in rules and i >= 7 and ok[i - 7: i + 1].all():
            w = z[i - 7: i + 1]
            if (w > 0).all() or (w < 0).all():
                fired[i].append("run_8")
        if "trend_6" in rules and i >= 5 and ok[i - 5: i + 1].all():
            d = np.diff(z[i - 5: i + 1])
            if (d > 0).all() or (d < 0).all():
                fired[i].append("trend_6")
    return [";".join(f) for f in fired]


def _frame(period, value, n, center, lcl, ucl, z, chart, rules) -> pd.DataFrame:
    out = pd.DataFrame({"period": list(period), "value": np.asarray(value, float), "n": np.asarray(n, float),
                        "center": center, "lcl": lcl, "ucl": ucl, "z": z, "chart": chart})
    out["rule"] = run_rules(out["z"].to_numpy(), rules)
    out["signal"] = out["rule"] != ""
    return out[CHART_COLUMNS]


def _enough(k: int, min_periods: int, what: str) -> None:
    if k < min_periods:
        raise InsufficientDataError(
            f"{what}: {k} period(s) with data, control limits need at least {min_periods} "
            "(Montgomery advises 20-25 for trial limits); use a shorter period or a longer window.")


def p_chart(k, n, period=None, *, laney: bool = False, rules=DEFAULT_RULES, min_periods: int = 8) -> pd.DataFrame:
    r"""p-chart of proportions :math:`k_i/n_i` with limits from each period's own denominator.

    Parameters
    ----------
    k, n : array-like
        Numerators and denominators per period (in time order).
    period : array-like, optional
        Period labels (default 0, 1, ...).
    laney : bool, default False
        Laney's p' chart: multiply every sigma by :math:`\sigma_z = \overline{|z_i - z_{i-1}|}/1.128`.
    rules : sequence of str
        Run rules (:data:`RULES`).
    min_periods : int, default 8
        Fewer periods with a denominator raise :class:`~kpilab.errors.InsufficientDataError`.

    Returns
    -------
    pandas.DataFrame
        ``period, value, n, center, lcl, ucl, z, chart, rule, signal`` (``chart`` = ``p`` or ``p_laney``).

    Notes
    -----
    .. math:: \bar p = \frac{\sum k_i}{\sum n_i},\quad \sigma_i = \sqrt{\bar p(1-\bar p)/n_i},\quad
              LCL_i = \max(0, \bar p - 3\sigma_i),\ UCL_i = \min(1, \bar p + 3\sigma_i),\quad
              z_i = (p_i - \bar p)/\sigma_i

    References
    ----------
    .. [1] Montgomery (2019), section 7.2.2 (variable sample size).
    .. [2] Laney (2002), *Quality Engineering* 14(4), 531-537.
    """
    k, n = np.asarray(k, dtype=float), np.asarray(n, dtype=float)
    period = np.arange(len(k)) if period is None else np.asarray(period)
    use = np.isfinite(k) & (n > 0)
    _enough(int(use.sum()), min_periods, "p-chart")
    pbar = k[use].sum() / n[use].sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        sigma = np.sqrt(pbar * (1 - pbar) / n)
        p = k / n
        z = (p - pbar) / sigma
    chart = "p"
    if laney:
        zz = z[use]
        sz = np.mean(np.abs(np.diff(zz))) / D2 if len(zz) > 1 else 1.0
        sigma, z, chart = sigma * sz, z / sz, "p_laney"
    z = np.where(use, z, np.nan)
    lcl = np.clip(pbar - 3 * sigma, 0, 1)
    ucl = np.clip(pbar + 3 * sigma, 0, 1)
    return _frame(period, np.where(use, p, np.nan), n, pbar, lcl, ucl, z, chart, rules)


def xbar_chart(mean, n, sd, period=None, *, rules=DEFAULT_RULES, min_periods: int = 8) -> pd.DataFrame:
    r"""X-bar chart of period means with variable sizes.

    Parameters
    ----------
    mean, n, sd : array-like
        Period means, sizes and within-period standard deviations (in time order).
    period, rules, min_periods :
        As in :func:`p_chart`.

    Returns
    -------
    pandas.DataFrame
        As :func:`p_chart` (``chart = "xbar"``).

    Notes
    -----
    .. math:: \bar{\bar x} = \frac{\sum n_i \bar x_i}{\sum n_i},\quad
              s_p = \sqrt{\frac{\sum (n_i - 1) s_i^2}{\sum (n_i - 1)}},\quad
              \bar{\bar x} \pm 3\,s_p/\sqrt{n_i}

    References
    ----------
    .. [1] Montgomery (2019), section 6.3.2 (X-bar and s with variable sample size).
    """
    x, n, s = (np.asarray(a, dtype=float) for a in (mean, n, sd))
    period = np.arange(len(x)) if period is None else np.asarray(period)
    use = np.isfinite(x) & (n >= 2) & np.isfinite(s)
    _enough(int(use.sum()), min_periods, "X-bar chart")
    grand = np.sum(n[use] * x[use]) / n[use].sum()
    sp = np.sqrt(np.sum((n[use] - 1) * s[use] ** 2) / np.sum(n[use] - 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        sigma = sp / np.sqrt(n)
        z = np.where(use, (x - grand) / sigma, np.nan)
    return _frame(period, np.where(use, x, np.nan), n, grand, grand - 3 * sigma, grand + 3 * sigma, z, "xbar", rules)


def imr_chart(values, period=None, *, n=None, rules=DEFAULT_RULES, min_periods: int = 8) -> pd.DataFrame:
    r"""Individuals (I-MR) chart: :math:`\bar x \pm 3\,\overline{MR}/1.128`.

    Parameters
    ----------
    values : array-like
        One value per period (in time order); NaN periods are skipped for the limits.
    period, rules, min_periods :
        As in :func:`p_chart`; ``n`` is only carried into the output.

    Returns
    -------
    pandas.DataFrame
        As :func:`p_chart` (``chart = "imr"``).

    References
    ----------
    .. [1] Montgomery (2019), section 6.4 (individuals and moving-range charts).
    """
    x = np.asarray(values, dtype=float)
    period = np.arange(len(x)) if period is None else np.asarray(period)
    use = np.isfinite(x)
    _enough(int(use.sum()), min_periods, "I-MR chart")
    xs = x[use]
    center = xs.mean()
    sigma = np.mean(np.abs(np.diff(xs))) / D2
    z = (x - center) / sigma if sigma > 0 else np.where(use, 0.0, np.nan)
    n = np.full(len(x), np.nan) if n is None else n
    return _frame(period, x, n, center, center - 3 * sigma, center + 3 * sigma, z, "imr", rules)
