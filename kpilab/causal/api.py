"""``training_effect``: the effect of training on one indicator, estimated for staggered adoption.

Agents are trained at different times (cohorts), some never. A plain two-way fixed-effects
regression is biased when the effect differs by cohort or grows with time since training
(Goodman-Bacon 2021), so the estimate reported is Callaway and Sant'Anna's (2021) aggregation of
group-time effects, with Borusyak, Jaravel and Spiess's (2024) imputation estimator beside it and the
naive TWFE shown for comparison (:mod:`kpilab.causal.did`, :mod:`kpilab.causal.imputation`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from kpilab._validation import Interval, Options, check_params
from kpilab.causal.data import PERIOD_LENGTH, did_panel
from kpilab.causal.did import CONTROLS, aggregate, event_study, group_time_att, pretrend_test, twfe
from kpilab.causal.imputation import imputation_att
from kpilab.causal.result import ATT_COLUMNS, EVENT_STUDY_COLUMNS, TrainingEffectResult
from kpilab.errors import InsufficientDataError

__all__ = ["training_effect", "rating_summary"]


def rating_summary(ratings: pd.DataFrame, *, level: float = 0.95) -> dict[str, float]:
    """Mean course rating with a t interval: ``estimate, ci_low, ci_high, n`` (NaN without ratings).

    .. math:: \\bar r \\pm t_{n-1, 1-\\alpha/2}\\, s/\\sqrt{n}
    """
    r = ratings["rating"].dropna().to_numpy(float) if "rating" in ratings else np.array([])
    n = len(r)
    if n == 0:
        return {"estimate": np.nan, "ci_low": np.nan, "ci_high": np.nan, "n": 0}
    m = float(r.mean())
    if n < 2:
        return {"estimate": m, "ci_low": np.nan, "ci_high": np.nan, "n": n}
    h = stats.t.ppf(0.5 + level / 2, n - 1) * r.std(ddof=1) / np.sqrt(n)
    return {"estimate": m, "ci_low": m - h, "ci_high": m + h, "n": n}


def training_effect(
    panel: pd.DataFrame | str | Path,
    training: pd.DataFrame | str | Path,
    indicator: str,
    *,
    period: str | None = None,
    control: str = "never_treated",
    course: str | None = None,
    level: float = 0.95,
    min_treated: int = 5,
) -> TrainingEffectResult:
    """Average effect of training on the trained (ATT) for one indicator, with an event study.

    Parameters
    ----------
    panel : DataFrame or path
        Long kpilab panel with agent rows (``kpilab panel --unit agent``), any period length;
        weeks show the "two weeks after" stage directly.
    training : DataFrame or path
        Training table (``agent_id, course, trained_at, rating``) or the agents table with
        ``trained_at`` (empty for agents never trained). Panel agents absent from it are taken as
        never trained.
    indicator : str
        Indicator code of the panel.
    period : {"day", "week", "month", "quarter"}, optional
        The panel's period (default: read from its labels).
    control : {"never_treated", "not_yet_treated"}
        Comparison agents of the Callaway-Sant'Anna estimate. With no never-trained agent,
        ``never_treated`` is refused and ``not_yet_treated`` estimates effects only for periods
        before the last cohort's training.
    course : str, optional
        Use only this course's dates and ratings.
    level : float
        Confidence level of every interval.
    min_treated : int
        Event-study periods and cohorts with fewer trained agents are flagged ``small_n``.

    Returns
    -------
    TrainingEffectResult

    Raises
    ------
    DataError, SchemaError, InsufficientDataError
        Unknown indicator, missing columns, a training date outside the panel's periods, a cohort
        trained in the first period (no pre-period), no never-trained agents with
        ``control="never_treated"``.

    Notes
    -----
    Formulas and inference: :mod:`kpilab.causal.did` (group-time ATT, aggregation, agent-clustered
    influence functions, pre-trend test, TWFE) and :mod:`kpilab.causal.imputation`. The three
    evaluation stages follow the articles: the course rating right after training, the KPI change
    two weeks after (event-study effect at the period that holds day 14: e = 2 for weeks, 14 for
    days, 0 for months and quarters), and the quarter (ATT over relative periods 0 .. one quarter
    - 1).

    References
    ----------
    .. [1] Callaway, B. and Sant'Anna, P. H. C. (2021). *Journal of Econometrics* 225(2), 200-230.
    .. [2] Borusyak, K., Jaravel, X. and Spiess, J. (2024). *Review of Economic Studies* 91(6), 3253-3285.
    .. [3] Goodman-Bacon, A. (2021). *Journal of Econometrics* 225(2), 254-277.

    Examples
    --------
    >>> from kpilab.simulate import simulate
    >>> from kpilab.indicators import compute_panel
    >>> sim = simulate(agents=40, months=4, seed=1, training=True)
    >>> panel = compute_panel(sim.tables, period="week", indicators=["qa_score"]).panel
    >>> res = training_effect(panel, sim.training, "qa_score")
    >>> print(res.summary())  # doctest: +SKIP
    """
    check_params(
        {"control": control, "level": level, "min_treated": min_treated},
        {
            "control": Options(*CONTROLS),
            "level": Interval(0, 1, closed="neither"),
            "min_treated": Interval(1, None, integer=True),
        },
        caller="training_effect",
    )
    dp = did_panel(panel, training, indicator, period=period, course=course)
    if control == "never_treated" and dp.n_never == 0:
        # refuse before estimating, naming the estimator that still works
        group_time_att(dp.y, dp.cohort, control=control)
    gt = group_time_att(dp.y, dp.cohort, control=control)
    if gt.table.empty or not (gt.table["relative_period"] >= 0).any():
        raise InsufficientDataError(
            f"No trained cohort of {indicator} has a period after training with comparison agents observed "
            "in it and in the period before training; nothing to estimate."
        )
    rel = gt.table["relative_period"].to_numpy()
    notices: list[str] = []

    per_quarter, two_weeks = PERIOD_LENGTH[dp.period_kind]
    cs = aggregate(gt, rel >= 0, level=level)
    imp = imputation_att(dp.y, dp.cohort, level=level)
    tw = twfe(dp.y, dp.cohort, level=level)
    ctrl_note = (
        "never-trained controls"
        if control == "never_treated"
        else "not-yet-trained and never-trained controls"
    )
    att = pd.DataFrame(
        [
            {
                "estimator": "callaway_santanna",
                **cs,
                "control": control,
                "note": f"group-time ATTs (base period g-1, {ctrl_note}) averaged over trained agent-periods",
            },
            {
                "estimator": "imputation",
                **imp,
                "control": "untrained agent-periods",
                "note": "Borusyak-Jaravel-Spiess: agent and period effects fitted on untrained agent-periods"
                + (
                    f"; {imp['n_dropped']} trained cell(s) not imputable, dropped" if imp["n_dropped"] else ""
                ),
            },
            {
                "estimator": "twfe_naive",
                **tw,
                "n_cells": np.nan,
                "control": "everyone untrained at t (incl. already trained as controls)",
                "note": "biased under staggered timing with changing effects; for comparison only",
            },
        ]
    )[ATT_COLUMNS]

    es, psi = event_study(gt, level=level)
    es["relative_period"] = es["relative_period"].astype(int)
    es["flag"] = np.where((es["kind"] != "reference") & (es["n_treated"] < min_treated), "small_n", "")
    es = es[EVENT_STUDY_COLUMNS]
    pt = pretrend_test(es, psi)

    labels = np.asarray(dp.periods)
    gtab = gt.table.assign(cohort_period=labels[gt.table["cohort"]], period_label=labels[gt.table["period"]])
    cis = [aggregate(gt, np.eye(len(gtab), dtype=bool)[k], level=level) for k in range(len(gtab))]
    group_time = pd.DataFrame(
        {
            "cohort": gtab["cohort_period"],
            "period": gtab["period_label"],
            "relative_period": gtab["relative_period"],
            "att": gtab["att"],
            "se": [c["se"] for c in cis],
            "ci_low": [c["ci_low"] for c in cis],
            "ci_high": [c["ci_high"] for c in cis],
            "n_treated": gtab["n_treated"],
            "n_control": gtab["n_control"],
        }
    )

    cohort_rows = []
    for g in sorted(set(dp.cohort[dp.cohort >= 0].tolist())):
        m = (gt.table["cohort"].to_numpy() == g) & (rel >= 0)
        a = aggregate(gt, m, level=level)
        n_ag = int((dp.cohort == g).sum())
        cohort_rows.append(
            {
                "cohort": labels[g],
                "n_agents": n_ag,
                "post_periods": int(m.sum()),
                "estimate": a["estimate"],
                "ci_low": a["ci_low"],
                "ci_high": a["ci_high"],
                "flag": "small_n" if n_ag < min_treated else "",
            }
        )
    cohorts = pd.DataFrame(
        cohort_rows, columns=["cohort", "n_agents", "post_periods", "estimate", "ci_low", "ci_high", "flag"]
    )

    rating = rating_summary(dp.ratings, level=level)
    es_two = es[es["relative_period"] == two_weeks]
    quarter = aggregate(gt, (rel >= 0) & (rel < per_quarter), level=level)
    unit = dp.period_kind
    stages = pd.DataFrame(
        [
            {
                "stage": "rating",
                "measure": "course rating (training table)",
                **rating,
                "relative_periods": "",
                "note": "" if rating["n"] else "the training table has no ratings",
            },
            {
                "stage": "two_weeks",
                "measure": f"{indicator} change two weeks after (e = {two_weeks} {unit}s)",
                "estimate": float(es_two["estimate"].iloc[0]) if len(es_two) else np.nan,
                "ci_low": float(es_two["ci_low"].iloc[0]) if len(es_two) else np.nan,
                "ci_high": float(es_two["ci_high"].iloc[0]) if len(es_two) else np.nan,
                "n": float(es_two["n_treated"].iloc[0]) if len(es_two) else 0,
                "relative_periods": str(two_weeks),
                "note": "" if len(es_two) else "no trained agent observed at that period",
            },
            {
                "stage": "quarter",
                "measure": f"{indicator} ATT over the quarter from training",
                "estimate": quarter["estimate"],
                "ci_low": quarter["ci_low"],
                "ci_high": quarter["ci_high"],
                "n": quarter["n_treated"],
                "relative_periods": f"0..{per_quarter - 1}",
                "note": ""
                if rel.max() >= per_quarter - 1
                else f"the panel covers only {int(rel.max()) + 1} period(s) after the earliest training",
            },
        ],
        columns=["stage", "measure", "estimate", "ci_low", "ci_high", "n", "relative_periods", "note"],
    )

    small = cohorts[cohorts["flag"] == "small_n"]
    if len(small):
        notices.append(
            f"{len(small)} cohort(s) with fewer than {min_treated} agents ({', '.join(small['cohort'])}): "
            "their effects are imprecise"
        )
    single = gt.table[(gt.table["n_treated"] == 1) | (gt.table["n_control"] == 1)]
    if len(single):
        # a one-agent side of a comparison has no within-group spread: its variance is missing from the CI
        notices.append(
            f"{len(single)} group-time comparison(s) rest on a single trained or control agent, whose own "
            "variance cannot be estimated: the intervals understate the uncertainty"
        )
    if pt.get("n_pre") and np.isfinite(pt["p_value"]) and pt["p_value"] < 0.05:
        notices.append(
            f"pre-trend test rejects parallel trends (p = {pt['p_value']:.3g}): trained and untrained "
            "agents were already diverging before training; the ATT may be biased"
        )
    if np.isfinite(cs["se"]) and abs(tw["estimate"] - cs["estimate"]) > 2 * cs["se"]:
        notices.append(
            f"the naive TWFE ({tw['estimate']:.3g}) is more than two standard errors from the "
            f"Callaway-Sant'Anna ATT ({cs['estimate']:.3g}): effects differ by cohort or grow over time"
        )
    if dp.n_never < min_treated:
        notices.append(f"only {dp.n_never} never-trained agent(s) as controls")
    params = {
        "indicator": indicator,
        "period": dp.period_kind,
        "control": control,
        "level": level,
        "course": course,
        "min_treated": min_treated,
        "n_never": dp.n_never,
        "n_agents": int(len(dp.units)),
        "periods": [dp.periods[0], dp.periods[-1]],
    }
    return TrainingEffectResult(
        indicator=indicator,
        period=dp.period_kind,
        att=att,
        event_study=es,
        group_time=group_time,
        cohorts=cohorts,
        stages=stages,
        pretrend=pt,
        accounting=dp.accounting,
        params=params,
        notices=tuple(notices),
    )
