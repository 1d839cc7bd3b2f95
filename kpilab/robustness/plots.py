"""Figures of a :class:`~kpilab.robustness.RobustnessResult` (matplotlib; each returns the Figure)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from kpilab.formatting import format_period
from kpilab.plots import humanise
from kpilab.robustness.result import RobustnessResult

__all__ = ["plot_rank_uncertainty", "plot_sensitivity", "plot_grade_probabilities"]

_PALETTE = ["#1a9850", "#91cf60", "#fee08b", "#fc8d59", "#d73027", "#7f0000"]


def _input_label(name: object) -> str:
    """A sensitivity input for people: ``weight:aht`` -> ``weight: Average handle time``, ``noise`` -> ``noise``."""
    text = humanise(name)
    return text if text != str(name) else str(name).replace("_", " ")


def _output_label(name: object) -> str:
    """The analysed output in words (``mean_abs_shift`` -> ``the mean absolute rank shift``)."""
    text = str(name)
    if text == "mean_abs_shift":
        return "the mean absolute rank shift"
    if text.startswith("unit:"):
        return f"the score of {text[5:]}"
    return humanise(text).replace("_", " ")


def _one_period(res: RobustnessResult, period: str | None):
    r = res.ranks
    period = period or sorted(r["period"].unique())[-1]
    return period, r[r["period"] == period]


def plot_rank_uncertainty(res: RobustnessResult, period: str | None = None, max_units: int = 200) -> plt.Figure:
    """Units ordered by nominal rank: nominal rank (dot), median rank (bar) and the 5-95 % rank interval.

    The figure of the JRC audits (e.g. of the Human Development Index) and of
    COINr's ``plot_uncertainty``. With more than ``max_units`` units, an evenly
    spaced subset is drawn (the title says so).
    """
    period, r = _one_period(res, period)
    r = r.sort_values("nominal_rank")
    shown = r
    if len(r) > max_units:
        shown = r.iloc[np.linspace(0, len(r) - 1, max_units).round().astype(int)]
    x = np.arange(len(shown))
    fig, ax = plt.subplots(figsize=(min(14, 4 + 0.06 * len(shown)), 4.2))
    ax.vlines(x, shown["rank_p05"], shown["rank_p95"], color="#9ecae1", lw=3, label="5-95 % interval")
    ax.scatter(x, shown["median_rank"], marker="_", s=60, color="#08519c", label="median rank", zorder=3)
    ax.scatter(x, shown["nominal_rank"], s=8, color="#d73027", label="nominal rank", zorder=4)
    ax.invert_yaxis()
    ax.set_xlabel("units, ordered by nominal rank" + (f" ({len(shown)} of {len(r)} shown)" if len(r) > len(shown)
                                                      else ""))
    ax.set_ylabel("rank (1 = best)")
    if len(shown) <= 40:
        ax.set_xticks(x, shown["unit_id"], rotation=90, fontsize=7)
    ax.set_title(f"Rank uncertainty, {format_period(period)} ({res.params.get('draws'):,} draws)"
                 if isinstance(res.params.get("draws"), int) else f"Rank uncertainty, {format_period(period)}")
    ax.legend(loc="upper right", fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


def plot_sensitivity(res: RobustnessResult) -> plt.Figure:
    """Bars of the first-order and total Sobol' indices of each input, with SALib's bootstrap intervals."""
    s = res.sensitivity
    fig, ax = plt.subplots(figsize=(8, max(2.5, 0.3 * len(s) + 1)))
    if s.empty:
        ax.text(0.5, 0.5, "no sensitivity analysis", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return fig
    s = s.sort_values("ST")
    y = np.arange(len(s))
    ax.barh(y + 0.2, s["ST"], height=0.4, xerr=s["ST_conf"], color="#fc8d59", label="total (ST)", capsize=2)
    ax.barh(y - 0.2, s["S1"], height=0.4, xerr=s["S1_conf"], color="#4c72b0", label="first order (S1)", capsize=2)
    ax.set_yticks(y, [_input_label(i) for i in s["input"]])
    ax.axvline(0, color="grey", lw=0.8)
    first = s.iloc[0]
    ax.set_xlabel(f"share of the variance of {_output_label(first['output'])} "
                  f"(Sobol' N = {int(first['n_base']):,}, "
                  f"{int(first['n_runs']):,} runs, 95 % bootstrap intervals)")
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


def plot_grade_probabilities(res: RobustnessResult, period: str | None = None, max_units: int = 60) -> plt.Figure:
    """Stacked bars: probability of each grade per unit (ordered by nominal score; the least settled first when
    there are more than ``max_units`` units)."""
    g = res.grades
    period = period or sorted(g["period"].unique())[-1]
    g = g[(g["period"] == period) & (g["n_draws"] > 0)]
    pcols = [f"p_{x}" for x in res.grade_labels if f"p_{x}" in g.columns]
    fig, ax = plt.subplots(figsize=(min(14, 4 + 0.18 * min(len(g), max_units)), 4.0))
    if g.empty or not pcols:
        ax.text(0.5, 0.5, "no grade probabilities (no draw on the points scale)", ha="center", va="center",
                transform=ax.transAxes)
        ax.set_axis_off()
        return fig
    g = g.merge(res.ranks[["unit_id", "period", "nominal_score"]], on=["unit_id", "period"])
    if len(g) > max_units:
        g = g.assign(_top=g[pcols].max(axis=1)).nsmallest(max_units, "_top")
    g = g.sort_values("nominal_score", ascending=False)
    x = np.arange(len(g))
    bottom = np.zeros(len(g))
    for k, c in enumerate(pcols):
        ax.bar(x, g[c], bottom=bottom, color=_PALETTE[k % len(_PALETTE)], label=c[2:], width=0.85)
        bottom += g[c].to_numpy()
    ax.set_xticks(x, g["unit_id"], rotation=90, fontsize=7)
    ax.set_ylabel("probability")
    ax.set_ylim(0, 1)
    ax.set_title(f"Grade probabilities, {format_period(period)}" + (f" ({len(g)} least settled units)" if len(res.grades) > len(g)
                                                      else ""))
    ax.legend(ncol=len(pcols), fontsize=8, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.35))
    fig.tight_layout()
    return fig
