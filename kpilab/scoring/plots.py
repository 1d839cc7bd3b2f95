"""Figures of a :class:`~kpilab.scoring.ScoreResult` (matplotlib/seaborn; each returns the Figure)."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.ticker import FuncFormatter, MaxNLocator

from kpilab.formatting import format_period, format_value, indicator_name, unit_of
from kpilab.scoring.result import ScoreResult

__all__ = ["plot_score_distribution", "plot_grade_mix", "plot_scorecard", "plot_tier_transitions",
           "tier_transitions"]

_PALETTE = ["#1a9850", "#91cf60", "#fee08b", "#fc8d59", "#d73027", "#7f0000"]


def plot_score_distribution(res: ScoreResult, period: str | None = None) -> plt.Figure:
    """Histogram of the index with the grade bands shaded (one period, default the latest)."""
    s = res.scores
    period = period or sorted(s["period"].unique())[-1]
    x = s.loc[s["period"] == period, "index"].dropna()
    fig, ax = plt.subplots(figsize=(8, 3.6))
    lo = min(0.0, float(x.min()) if len(x) else 0.0)
    mins = list(res.grade_mins)
    bounds = [(min(lo, m) if k == len(mins) - 1 else m, 100.0 if k == 0 else mins[k - 1]) for k, m in enumerate(mins)]
    for k, (g, (a, b)) in enumerate(zip(res.grade_labels, bounds, strict=True)):
        ax.axvspan(a, b, color=_PALETTE[k % len(_PALETTE)], alpha=0.15, lw=0)
        ax.text((a + b) / 2, 1.0, g, transform=ax.get_xaxis_transform(), ha="center", va="bottom")
    sns.histplot(x, bins=30, ax=ax, color="#4c72b0")
    ax.set_xlabel(f"score (index, points), {format_period(period)}")
    ax.set_ylabel("agents")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # counts of agents: no 0.25 of an agent
    ax.set_xlim(lo, 100)
    fig.tight_layout()
    return fig


def plot_grade_mix(res: ScoreResult, period: str | None = None, *, max_teams: int = 25) -> plt.Figure:
    """Stacked bars: share of agents in each grade per team (as it is, no forced distribution).

    With more than ``max_teams`` teams the figure shows the whole centre first, then the
    ``max_teams`` teams with the largest share in the lowest grade (the ones to look at), and says so.
    """
    t = res.grades_by_team
    period = period or (sorted(t["period"].unique())[-1] if len(t) else None)
    t = t[t["period"] == period]
    labels = list(res.grade_labels)
    counts = t.pivot(index="team", columns="grade", values="agents").reindex(columns=labels).fillna(0)
    n_teams = len(counts)
    if n_teams > max_teams:
        share = counts.div(counts.sum(axis=1), axis=0)
        worst = share.sort_values([labels[-1], *labels[-2::-1]], ascending=False).index[:max_teams]
        centre = counts.sum().to_frame("whole centre").T
        counts = pd.concat([centre, counts.loc[worst]])
    wide = counts.div(counts.sum(axis=1).replace(0, np.nan), axis=0).fillna(0)
    fig, ax = plt.subplots(figsize=(8, 0.45 * max(3, len(wide)) + 1))
    left = np.zeros(len(wide))
    teams = [str(i) or "(no team)" for i in wide.index]
    for k, g in enumerate(wide.columns):
        ax.barh(teams, wide[g], left=left, color=_PALETTE[k % len(_PALETTE)], label=g)
        for y, (share, n, x0) in enumerate(zip(wide[g], counts[g], left, strict=True)):
            if share >= 0.06 and n > 0:  # the number of agents in each segment wide enough to hold it
                ax.text(x0 + share / 2, y, f"{int(n)}", ha="center", va="center", fontsize=8,
                        color="white" if k in (0, len(wide.columns) - 1) else "black")
        left += wide[g].to_numpy()
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v * 100:.0f} %"))
    ax.invert_yaxis()  # first row on top
    ax.set_xlabel(f"share of agents, {format_period(period)}; numbers: agents")
    if n_teams > max_teams:
        ax.set_title(f"Whole centre and the {max_teams} of {n_teams:,} teams with the largest share graded "
                     f"{labels[-1]}", fontsize=10, pad=24)
    ax.legend(ncol=len(wide.columns), loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
    fig.tight_layout()
    return fig


def plot_scorecard(res: ScoreResult, unit_id: str, period: str | None = None, framework: Any = None) -> plt.Figure:
    """One agent's scorecard: points lost per indicator, with the range from the indicator's interval.

    Each bar is labelled with the indicator's name and its value against the
    target in the indicator's unit (``Time to resolution (66 h vs 24 h)``);
    ``framework`` gives names and units (default: the catalogue's).
    """
    sc = res.agent_scorecard(unit_id, period)
    sc = sc[sc["weight"] > 0]
    hi = sc["weight"] * (100 - sc["score_low"])
    lo = sc["weight"] * (100 - sc["score_high"])
    fig, ax = plt.subplots(figsize=(8, 0.32 * len(sc) + 1.4))
    y = np.arange(len(sc))[::-1]
    ax.barh(y, sc["points_lost"], color="#d73027", alpha=0.8)
    err = np.vstack([(sc["points_lost"] - lo).clip(lower=0).fillna(0), (hi - sc["points_lost"]).clip(lower=0).fillna(0)])
    ax.errorbar(sc["points_lost"], y, xerr=err, fmt="none", ecolor="black", capsize=2, lw=1)
    labels = []
    for r in sc.itertuples():
        unit = unit_of(r.indicator, framework)
        value = format_value(r.value, unit, missing="no data")
        against = f" vs {format_value(r.target, unit)}" if pd.notna(r.target) else ", no target"
        labels.append(f"{indicator_name(r.indicator, framework)} ({value}{against})")
    ax.set_yticks(y, labels)
    row = res.scores[(res.scores["unit_id"] == str(unit_id)) & (res.scores["period"] == sc["period"].iloc[0])].iloc[0]
    band = "" if pd.isna(row["score_low"]) else f" [{row['score_low']:.1f}, {row['score_high']:.1f}]"
    tier = str(row["tier"]).replace("_", " ") or "none yet"
    ax.set_title(f"{unit_id}, {format_period(sc['period'].iloc[0])}: score {row['index']:.1f}{band}, "
                 f"grade {row['grade']}, tier {tier}", fontsize=10)
    ax.set_xlabel("points lost = weight x (100 - score); whiskers: the indicator's interval")
    fig.tight_layout()
    return fig


def tier_transitions(res: ScoreResult) -> pd.DataFrame:
    """Counts of tier at one period (rows) -> tier at the unit's next period (columns)."""
    s = res.scores.sort_values(["unit_id", "period"])
    s = s.assign(next_tier=s.groupby("unit_id")["tier"].shift(-1))
    s = s[s["next_tier"].notna() & (s["tier"] != "") & (s["next_tier"] != "")]
    order = [t for t in dict.fromkeys(res.scores["tier"]) if t]
    tab = pd.crosstab(s["tier"], s["next_tier"]) if len(s) else pd.DataFrame()
    return tab.reindex(index=order, columns=order).fillna(0).astype(int) if len(tab) else tab


def plot_tier_transitions(res: ScoreResult) -> plt.Figure:
    """Heat map of tier transitions between consecutive periods."""
    tab = tier_transitions(res)
    fig, ax = plt.subplots(figsize=(5.5, 4.2))
    if tab.empty:
        ax.text(0.5, 0.5, "one period only: no transitions", ha="center", va="center")
        ax.set_axis_off()
        return fig
    tab = tab.rename(index=lambda t: str(t).replace("_", " "), columns=lambda t: str(t).replace("_", " "))
    sns.heatmap(tab, annot=True, fmt="d", cmap="Blues", cbar=False, ax=ax, vmin=0, vmax=max(int(tab.to_numpy().max()), 1))
    ax.set_xlabel("tier in the next period")
    ax.set_ylabel("tier")
    fig.tight_layout()
    return fig
