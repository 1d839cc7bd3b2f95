r"""Difference-in-differences estimators for staggered training: Callaway & Sant'Anna and naive TWFE.

**Group-time effects** (Callaway and Sant'Anna 2021 [1]_, unconditional parallel trends, no
covariates, universal base period). For the cohort :math:`g` (agents first trained in period
:math:`g`) and any period :math:`t \ne g-1`,

.. math::
    \widehat{ATT}(g,t) = \frac{1}{n_{g,t}} \sum_{i \in G_g} (Y_{it} - Y_{i,g-1})
                       - \frac{1}{m_{g,t}} \sum_{j \in C_{g,t}} (Y_{jt} - Y_{j,g-1}),

over the agents observed in both periods; the controls :math:`C_{g,t}` are the never-trained
agents, or (``control="not_yet_treated"``) those not trained by period :math:`\max(t, g-1)`.
For :math:`t < g-1` the same contrast is a pre-trend (zero under parallel trends).

**Aggregation.** Every reported effect is :math:`\hat\theta = \sum_{(g,t)} w_{g,t}\,
\widehat{ATT}(g,t)` with :math:`w_{g,t} \propto n_{g,t}` over the cells it covers: the ATT
(all :math:`t \ge g`: each treated agent-period weighs the same, the "simple" aggregation of
[1]_), the event study :math:`\theta(e)` (cells with :math:`t - g = e`), the per-cohort ATT.

**Inference, clustered by agent.** Each estimate is a linear function of agent-level
differences, so its influence function is a sum over agents,
:math:`\psi_i = \sum_{(g,t)} w_{g,t}\,\psi_i(g,t)` with
:math:`\psi_i(g,t) = \sqrt{n/(n-1)}\,(\Delta Y_i - \bar{\Delta}_{k})/n_k` (sign - for controls),
:math:`k` the agent's group in that cell. :math:`\widehat{V} = \sum_i \psi_i^2` is exact
(the unbiased two-sample variance) for one cell and keeps every agent's correlation across
periods and cells (clustering by agent). Intervals use :math:`t_{G-1}`, :math:`G` the agents
with a non-zero :math:`\psi_i`. The weights are taken as given (inference conditional on the
cohort sizes). The joint pre-trend test is the Wald statistic of all :math:`\theta(e),\ e \le -2`,
with :math:`\widehat{V} = \Psi^\top\Psi`, scaled as Hotelling's :math:`T^2` (:func:`pretrend_test`).

**Naive TWFE.** OLS of :math:`Y_{it} = \alpha_i + \lambda_t + \beta D_{it} + \varepsilon_{it}`,
:math:`D_{it} = 1[t \ge g_i]`, standard errors clustered by agent (statsmodels' small-sample factor). Under
staggered timing with effects that differ by cohort or grow over time, :math:`\hat\beta` is a
weighted sum of group-time effects with some weights negative (already-trained agents act as
controls): Goodman-Bacon (2021) [2]_, de Chaisemartin and D'Haultfoeuille (2020) [3]_. It is shown
beside the valid estimate, never instead of it.

References
----------
.. [1] Callaway, B. and Sant'Anna, P. H. C. (2021). Difference-in-differences with multiple time
   periods. *Journal of Econometrics* 225(2), 200-230.
.. [2] Goodman-Bacon, A. (2021). Difference-in-differences with variation in treatment timing.
   *Journal of Econometrics* 225(2), 254-277.
.. [3] de Chaisemartin, C. and D'Haultfoeuille, X. (2020). Two-way fixed effects estimators with
   heterogeneous treatment effects. *American Economic Review* 110(9), 2964-2996.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from kpilab.causal._fe import FEProjector, fe_design
from kpilab.causal.result import EVENT_STUDY_COLUMNS
from kpilab.errors import InsufficientDataError, ParameterError

__all__ = ["GroupTime", "group_time_att", "aggregate", "event_study", "pretrend_test", "twfe", "CONTROLS"]

CONTROLS = ("never_treated", "not_yet_treated")


@dataclass(frozen=True)
class GroupTime:
    """Group-time effects with their agent-level influence functions.

    Attributes
    ----------
    table : DataFrame
        One row per (cohort, period): ``cohort`` (index of the training period), ``period``
        (index), ``relative_period`` (t - g), ``att``, ``n_treated``, ``n_control``.
    psi : ndarray, shape (n_agents, n_cells)
        Influence of each agent on each row's estimate (scaled so that the sum of squares is the
        variance).
    role : ndarray of int8, shape (n_agents, n_cells)
        1 where the agent is a treated member of the cell, -1 a control, 0 neither.
    control : str
        ``never_treated`` or ``not_yet_treated``.
    """

    table: pd.DataFrame
    psi: np.ndarray
    role: np.ndarray
    control: str

    def agents(self, mask: np.ndarray) -> tuple[int, int]:
        """Distinct (treated, control) agents behind the cells selected by ``mask``."""
        r = self.role[:, np.asarray(mask, dtype=bool)]
        return int((r == 1).any(axis=1).sum()), int((r == -1).any(axis=1).sum())


def group_time_att(y: np.ndarray, cohort: np.ndarray, *, control: str = "never_treated") -> GroupTime:
    """Callaway-Sant'Anna group-time ATTs with universal base period g-1 (formula in the module docstring).

    Parameters
    ----------
    y : ndarray, shape (n_agents, n_periods)
        Outcome, NaN where unobserved.
    cohort : ndarray of int
        Training period index per agent, -1 for never trained.
    control : {"never_treated", "not_yet_treated"}
        Comparison agents.

    Returns
    -------
    GroupTime

    Raises
    ------
    InsufficientDataError
        ``control="never_treated"`` and no agent is never trained (then use ``not_yet_treated``).
    """
    if control not in CONTROLS:
        raise ParameterError(
            f"The 'control' parameter must be one of {', '.join(CONTROLS)}. Got {control!r}."
        )
    y = np.asarray(y, dtype=float)
    cohort = np.asarray(cohort, dtype=int)
    n, n_t = y.shape
    never = cohort < 0
    if control == "never_treated" and not never.any():
        raise InsufficientDataError(
            "Every agent was trained: there are no never-trained agents to compare with. Use "
            "control='not_yet_treated' (--control not_yet_treated: agents trained later serve as controls "
            "until they are trained, so effects are estimated only before the last cohort's training), or "
            "refuse the comparison; the naive TWFE has no clean comparison either."
        )
    rows, cols, roles = [], [], []
    for g in sorted(set(cohort[cohort >= 0].tolist())):
        b = g - 1
        treated = cohort == g
        for t in range(n_t):
            if t == b:
                continue
            ctrl = never if control == "never_treated" else never | (cohort > max(t, b))
            ok = ~np.isnan(y[:, t]) & ~np.isnan(y[:, b])
            tr, co = treated & ok, ctrl & ok
            nt, nc = int(tr.sum()), int(co.sum())
            if nt == 0 or nc == 0:
                continue
            d = y[:, t] - y[:, b]
            mt, mc = d[tr].mean(), d[co].mean()
            psi = np.zeros(n)
            # sqrt(n/(n-1)): the sum of squares is then the unbiased two-sample variance of the cell
            psi[tr] = (d[tr] - mt) / nt * (np.sqrt(nt / (nt - 1)) if nt > 1 else 0.0)
            psi[co] = -(d[co] - mc) / nc * (np.sqrt(nc / (nc - 1)) if nc > 1 else 0.0)
            rows.append(
                {
                    "cohort": g,
                    "period": t,
                    "relative_period": t - g,
                    "att": mt - mc,
                    "n_treated": nt,
                    "n_control": nc,
                }
            )
            cols.append(psi)
            roles.append(tr.astype(np.int8) - co.astype(np.int8))
    table = pd.DataFrame(
        rows, columns=["cohort", "period", "relative_period", "att", "n_treated", "n_control"]
    )
    psi = np.column_stack(cols) if cols else np.zeros((n, 0))
    role = np.column_stack(roles) if roles else np.zeros((n, 0), dtype=np.int8)
    return GroupTime(table=table, psi=psi, role=role, control=control)


def _interval(estimate: float, psi: np.ndarray, level: float) -> dict[str, float]:
    """Standard error, t interval (G - 1 degrees of freedom) and p-value from an influence vector."""
    g = int((np.abs(psi) > 0).sum())
    se = float(np.sqrt((psi**2).sum()))
    if g < 2 or not np.isfinite(se) or se == 0:
        return {"se": np.nan, "ci_low": np.nan, "ci_high": np.nan, "p_value": np.nan, "n_clusters": g}
    q = stats.t.ppf(0.5 + level / 2, g - 1)
    p = 2 * stats.t.sf(abs(estimate) / se, g - 1)
    return {
        "se": se,
        "ci_low": estimate - q * se,
        "ci_high": estimate + q * se,
        "p_value": float(p),
        "n_clusters": g,
    }


def aggregate(gt: GroupTime, mask: np.ndarray, *, level: float = 0.95) -> dict[str, float]:
    """Cell-weighted average of the group-time effects selected by ``mask`` (weights n_treated).

    Returns ``estimate, se, ci_low, ci_high, p_value, n_clusters, n_treated, n_control`` (distinct
    agents) and ``n_cells`` (treated agent-periods); estimate NaN when no cell is selected.
    """
    mask = np.asarray(mask, dtype=bool)
    tab = gt.table
    if not mask.any():
        return {
            "estimate": np.nan,
            "se": np.nan,
            "ci_low": np.nan,
            "ci_high": np.nan,
            "p_value": np.nan,
            "n_clusters": 0,
            "n_treated": 0,
            "n_control": 0,
            "n_cells": 0,
        }
    w = tab["n_treated"].to_numpy(float) * mask
    w = w / w.sum()
    est = float(w @ tab["att"].to_numpy())
    psi = gt.psi @ w
    n_tr, n_co = gt.agents(mask)
    return {
        "estimate": est,
        **_interval(est, psi, level),
        "n_treated": n_tr,
        "n_control": n_co,
        "n_cells": int(tab.loc[mask, "n_treated"].sum()),
    }


def event_study(gt: GroupTime, *, level: float = 0.95) -> tuple[pd.DataFrame, np.ndarray]:
    """Effects by period relative to training, e = t - g (e = -1 is the reference, 0 by construction).

    Returns
    -------
    table : DataFrame
        ``relative_period, estimate, se, ci_low, ci_high, p_value, n_treated, n_control, n_cohorts, kind``
        (``kind``: ``pre``, ``reference``, ``post``).
    psi : ndarray, shape (n_agents, n_rows)
        Influence functions of the rows (zeros for the reference).
    """
    tab = gt.table
    out, cols = [], []
    es = sorted(set(tab["relative_period"].tolist()) | ({-1} if len(tab) else set()))
    for e in es:
        if e == -1:
            out.append(
                {
                    "relative_period": -1,
                    "estimate": 0.0,
                    "se": np.nan,
                    "ci_low": np.nan,
                    "ci_high": np.nan,
                    "p_value": np.nan,
                    "n_treated": np.nan,
                    "n_control": np.nan,
                    "n_cohorts": np.nan,
                    "kind": "reference",
                }
            )
            cols.append(np.zeros(gt.psi.shape[0]))
            continue
        m = (tab["relative_period"] == e).to_numpy()
        w = tab["n_treated"].to_numpy(float) * m
        w = w / w.sum()
        est = float(w @ tab["att"].to_numpy())
        psi = gt.psi @ w
        ci = _interval(est, psi, level)
        n_tr, n_co = gt.agents(m)
        out.append(
            {
                "relative_period": e,
                "estimate": est,
                "se": ci["se"],
                "ci_low": ci["ci_low"],
                "ci_high": ci["ci_high"],
                "p_value": ci["p_value"],
                "n_treated": n_tr,
                "n_control": n_co,
                "n_cohorts": int(m.sum()),
                "kind": "pre" if e < -1 else "post",
            }
        )
        cols.append(psi)
    table = pd.DataFrame(out, columns=[c for c in EVENT_STUDY_COLUMNS if c != "flag"])  # flag: added by the API
    return table, (np.column_stack(cols) if cols else np.zeros((gt.psi.shape[0], 0)))


def pretrend_test(es: pd.DataFrame, psi: np.ndarray) -> dict[str, float | int | str]:
    """Joint Wald test that every pre-period effect (e <= -2) is zero.

    .. math:: W = b^\\top (\\Psi^\\top\\Psi)^{+} b,\\qquad
              F = \\frac{G - r}{r\\,(G - 1)}\\,W \\sim F(r, G - r)

    with :math:`r` the rank of :math:`\\Psi^\\top\\Psi` and :math:`G` the agents with a non-zero
    influence: Hotelling's :math:`T^2` scaling of a Wald statistic whose covariance is estimated
    from :math:`G` clusters (Hotelling 1931; Cameron and Miller 2015, *J. Human Resources* 50(2),
    section VI). The plain :math:`W/r \\sim F(r, G-1)` rejected a true null in 25 % of 20
    simulated centres at the 5 % level (11 pre-periods, 40 agents); this form in 10 %.

    Returns
    -------
    dict
        ``statistic`` (F), ``wald``, ``df_num``, ``df_denom``, ``p_value``, ``n_pre``, ``note``.
    """
    pre = (es["kind"] == "pre").to_numpy() & es["se"].notna().to_numpy()
    if not pre.any():
        return {
            "statistic": np.nan,
            "wald": np.nan,
            "df_num": 0,
            "df_denom": 0,
            "p_value": np.nan,
            "n_pre": 0,
            "note": "no period before the reference period (e = -1): pre-trends cannot be tested",
        }
    b = es.loc[pre, "estimate"].to_numpy()
    P = psi[:, pre]
    V = P.T @ P
    r = int(np.linalg.matrix_rank(V))
    g = int((np.abs(P).sum(axis=1) > 0).sum())
    wald = float(b @ np.linalg.pinv(V) @ b)
    if r == 0 or g <= r:
        return {
            "statistic": np.nan,
            "wald": wald,
            "df_num": r,
            "df_denom": max(g - r, 0),
            "p_value": np.nan,
            "n_pre": int(len(b)),
            "note": f"{g} agents for {r} pre-period effects: too few to test jointly",
        }
    f = wald * (g - r) / (r * (g - 1))
    p = float(stats.f.sf(f, r, g - r))
    note = "" if r == len(b) else f"covariance of rank {r} < {len(b)} pre-periods: pseudo-inverse used"
    return {
        "statistic": f,
        "wald": wald,
        "df_num": r,
        "df_denom": g - r,
        "p_value": p,
        "n_pre": int(len(b)),
        "note": note,
    }


def twfe(y: np.ndarray, cohort: np.ndarray, *, level: float = 0.95) -> dict[str, float]:
    """Naive two-way fixed-effects DiD coefficient with agent-clustered standard errors.

    .. math:: Y_{it} = \\alpha_i + \\lambda_t + \\beta\\,1[t \\ge g_i] + \\varepsilon_{it}

    Computed by Frisch-Waugh-Lovell (the treatment dummy and the outcome residualised on sparse agent
    and period dummies), with the cluster-robust variance and small-sample factor statsmodels uses
    for ``OLS(...).fit(cov_type="cluster", use_t=True)``,

    .. math::
        \\widehat{V}(\\hat\\beta) = \\frac{G}{G-1}\\frac{N-1}{N-K}
        \\frac{\\sum_g (\\sum_{i \\in g} \\tilde d_i e_i)^2}{(\\sum \\tilde d^2)^2},

    :math:`K` = 1 + agents + periods - 1, and a :math:`t_{G-1}` interval (tests check both against
    statsmodels, in the 2x2 case and on a staggered, unbalanced panel).

    Returns
    -------
    dict
        ``estimate, se, ci_low, ci_high, p_value, n_treated, n_control, n_obs``.
    """
    y = np.asarray(y, dtype=float)
    cohort = np.asarray(cohort, dtype=int)
    ii, tt = np.nonzero(~np.isnan(y))
    d = ((cohort[ii] >= 0) & (tt >= cohort[ii])).astype(float)
    if d.sum() == 0 or d.sum() == len(d):
        raise InsufficientDataError("The naive TWFE needs both trained and untrained agent-periods.")
    units, periods = np.unique(ii), np.unique(tt)
    proj = FEProjector(fe_design(ii, tt, units, periods))
    d_t, y_t = proj.resid(d), proj.resid(y[ii, tt])
    sdd = float(d_t @ d_t)
    if sdd < 1e-12:
        raise InsufficientDataError(
            "The naive TWFE is not identified: training timing is collinear with the "
            "agent and period effects."
        )
    est = float(d_t @ y_t) / sdd
    e = y_t - est * d_t
    score = np.bincount(ii, weights=d_t * e)
    g = len(units)
    n_obs, k = len(ii), 1 + len(units) + len(periods) - 1
    var = g / (g - 1) * (n_obs - 1) / (n_obs - k) * float(score @ score) / sdd**2
    se = float(np.sqrt(var))
    q = stats.t.ppf(0.5 + level / 2, g - 1)
    return {
        "estimate": est,
        "se": se,
        "ci_low": est - q * se,
        "ci_high": est + q * se,
        "p_value": float(2 * stats.t.sf(abs(est) / se, g - 1)) if se > 0 else np.nan,
        "n_treated": int(len(np.unique(ii[cohort[ii] >= 0]))),
        "n_control": int(len(np.unique(ii[cohort[ii] < 0]))),
        "n_obs": int(n_obs),
    }
