"""The result of :func:`kpilab.causal.training_effect`: tidy tables and a summary for people."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["TrainingEffectResult", "ATT_COLUMNS", "EVENT_STUDY_COLUMNS"]

ATT_COLUMNS = [
    "estimator",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "p_value",
    "n_treated",
    "n_control",
    "n_cells",
    "control",
    "note",
]
EVENT_STUDY_COLUMNS = [
    "relative_period",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "p_value",
    "n_treated",
    "n_control",
    "n_cohorts",
    "kind",
    "flag",
]


def _f(x: Any, digits: int = 3) -> str:
    return "n/a" if x is None or (isinstance(x, float) and not np.isfinite(x)) else f"{x:.{digits}g}"


@dataclass(frozen=True)
class TrainingEffectResult:
    """Training effect on one indicator: ATT by a staggered-adoption estimator, naive TWFE, event study.

    Attributes
    ----------
    indicator : str
        Indicator code.
    period : str
        Period kind of the panel (``week``, ``month`` ...).
    att : DataFrame
        One row per estimator (columns :data:`ATT_COLUMNS`): ``callaway_santanna`` (ATT over all
        periods from training on), ``imputation`` (Borusyak, Jaravel and Spiess), and
        ``twfe_naive`` (biased under staggered timing; shown for comparison).
    event_study : DataFrame
        Effect by period relative to training (:data:`EVENT_STUDY_COLUMNS`); e = -1 is the
        reference (0), ``kind`` pre/reference/post, ``flag`` ``small_n`` below ``min_treated``.
    group_time : DataFrame
        Callaway-Sant'Anna ATT(g, t) with period labels and intervals.
    cohorts : DataFrame
        Per cohort: training period, agents, ATT over its post periods with interval.
    stages : DataFrame
        The three evaluation stages: ``rating`` (course rating), ``two_weeks`` (effect in the
        period two weeks after training, or the first period for months and quarters) and
        ``quarter`` (ATT over the quarter from training): ``stage, measure, estimate, ci_low,
        ci_high, n, relative_periods, note``.
    pretrend : dict
        Joint pre-trend test (``statistic`` F, ``df_num``, ``df_denom``, ``p_value``, ``n_pre``, ``note``).
    accounting : DataFrame
        Every input row used or excluded with the reason.
    params : dict
        Options used (indicator, period, control, level, course, min_treated).
    notices : tuple of str
        Warnings for people (small cohorts, failed pre-trend test, TWFE far from the valid estimate).
    """

    indicator: str
    period: str
    att: pd.DataFrame
    event_study: pd.DataFrame
    group_time: pd.DataFrame
    cohorts: pd.DataFrame
    stages: pd.DataFrame
    pretrend: dict[str, Any]
    accounting: pd.DataFrame
    params: dict[str, Any]
    notices: tuple[str, ...] = field(default_factory=tuple)

    def to_frame(self) -> pd.DataFrame:
        """The ATT table (one row per estimator)."""
        return self.att.copy()

    def estimate(self, estimator: str = "callaway_santanna") -> float:
        """The ATT of one estimator."""
        row = self.att[self.att["estimator"] == estimator]
        return float(row["estimate"].iloc[0]) if len(row) else float("nan")

    def summary(self) -> str:
        """Plain-text report: estimates side by side, pre-trend test, the three stages, notices."""
        p = self.params
        n_tr = int((self.cohorts["n_agents"]).sum()) if len(self.cohorts) else 0
        lines = [
            f"Training effect on {self.indicator} ({self.period} panel, {int(p.get('level', 0.95) * 100)} % "
            f"intervals clustered by agent; controls: {p.get('control', '').replace('_', '-')} agents)",
            f"  {n_tr} trained agents in {len(self.cohorts)} cohort(s), {p.get('n_never', 0)} never trained",
        ]
        lines.append("  estimator              estimate   interval              n_treated  n_control")
        for r in self.att.itertuples():
            lines.append(
                f"  {r.estimator:<22} {_f(r.estimate):>8}   [{_f(r.ci_low)}, {_f(r.ci_high)}]".ljust(58)
                + f"{r.n_treated:>9}  {r.n_control:>9}"
            )
        pt = self.pretrend
        if pt.get("n_pre"):
            lines.append(
                f"  pre-trends: F({pt['df_num']}, {pt['df_denom']}) = {_f(pt['statistic'])}, "
                f"p = {_f(pt['p_value'])} over {pt['n_pre']} pre-period(s)"
                + (" (parallel trends doubtful)" if pt["p_value"] < 0.05 else "")
            )
        else:
            lines.append(f"  pre-trends: {pt.get('note', 'not tested')}")
        lines.append("  evaluation stages:")
        for r in self.stages.itertuples():
            lines.append(
                f"    {r.stage:<10} {r.measure:<44} {_f(r.estimate):>8} [{_f(r.ci_low)}, {_f(r.ci_high)}]"
                f" n={'n/a' if pd.isna(r.n) else int(r.n)}" + (f"  ({r.note})" if r.note else "")
            )
        for note in self.notices:
            lines.append(f"  note: {note}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()
