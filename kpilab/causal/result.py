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

    def att_for_report(self) -> pd.DataFrame:
        """The ATT table for people: estimator named, estimate, interval, trained and comparison agents."""
        names = {"callaway_santanna": "Callaway & Sant'Anna (group-time)",
                 "imputation": "Imputation (Borusyak, Jaravel & Spiess)",
                 "twfe_naive": "Two-way fixed effects (naive, biased)"}
        a = self.att
        return pd.DataFrame({
            "estimator": a["estimator"].map(names).fillna(a["estimator"]),
            "estimate": a["estimate"], "interval_low": a["ci_low"], "interval_high": a["ci_high"],
            "trained_agents": a["n_treated"].astype("Int64"), "comparison_agents": a["n_control"].astype("Int64"),
        })

    def report_markdown(self) -> str:
        """The result in plain language for the client report: effect, interval, bias of the naive
        estimate, pre-trends and the three evaluation stages (numbers via :mod:`kpilab.formatting`)."""
        from kpilab.formatting import format_count, format_number, indicator_name

        name = indicator_name(self.indicator)
        level = f"{round(float(self.params.get('level', 0.95)) * 100):d} %"
        row = self.att[self.att["estimator"] == "callaway_santanna"]
        if not len(row) or not np.isfinite(row["estimate"].iloc[0]):
            return f"The training effect on {name} could not be estimated; see the notices of notebook 08."
        r = row.iloc[0]
        settled = r["ci_low"] > 0 or r["ci_high"] < 0
        direction = "raised" if r["estimate"] > 0 else "lowered"
        text = [
            f"Training {direction} {name} by **{format_number(abs(r['estimate']), 2)}** on average among trained "
            f"agents ({level} interval {format_number(r['ci_low'], 2)} to {format_number(r['ci_high'], 2)}; "
            f"{format_count(r['n_treated'])} trained against {format_count(r['n_control'])} comparison agents, "
            "Callaway & Sant'Anna group-time effects, intervals clustered by agent). "
            + ("The interval excludes zero." if settled else
               "The interval includes zero: the data cannot yet tell the effect from no effect.")
        ]
        imp = self.estimate("imputation")
        naive = self.estimate("twfe_naive")
        if np.isfinite(imp):
            text.append(f"The imputation estimator (Borusyak, Jaravel & Spiess) gives {format_number(imp, 2)}.")
        if np.isfinite(naive):
            text.append(f"A plain two-way fixed-effects regression would report {format_number(naive, 2)}; it is "
                        "biased when cohorts are trained at different times and the effect grows, so it is "
                        "shown for comparison only.")
        pt = self.pretrend
        if pt.get("n_pre"):
            ok = pt["p_value"] >= 0.05
            text.append(f"Before training, trained and comparison agents moved alike "
                        f"(joint test over {pt['n_pre']} earlier periods, p = {format_number(pt['p_value'], 2)})."
                        if ok else
                        f"Before training, trained and comparison agents did not move alike (joint test over "
                        f"{pt['n_pre']} earlier periods, p = {format_number(pt['p_value'], 2)}): read the "
                        "effect with caution.")
        stages = []
        for s in self.stages.itertuples():
            if not np.isfinite(s.estimate):
                continue
            interval = (f" ({format_number(s.ci_low, 2)} to {format_number(s.ci_high, 2)})"
                        if np.isfinite(s.ci_low) and np.isfinite(s.ci_high) else "")
            measure = str(s.measure).replace(self.indicator, name)
            stages.append(f"- {measure[0].upper()}{measure[1:]}: {format_number(s.estimate, 2)}{interval}")
        block = "\n\nThe three evaluation stages:\n\n" + "\n".join(stages) if stages else ""
        return " ".join(text) + block

    def __str__(self) -> str:
        return self.summary()
