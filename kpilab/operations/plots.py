"""Figures of the operations notebook and ``kpilab alerts`` (the package's one seaborn style)."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from kpilab.formatting import format_period, unit_of
from kpilab.plots import (
    _as_datetime,
    draw_target,
    format_axis,
    humanise,
    place_labels,
    set_theme,
    shade_exemptions,
)

_RULES = {"run_8": "8 in a row on one side", "trend_6": "6 rising or falling in a row"}

__all__ = ["plot_control_chart", "plot_heatmap", "plot_triangulation", "plot_ranking", "plot_staffing"]


def plot_control_chart(chart: pd.DataFrame, title: str = "", *, exemptions: Any = None,
                       framework: Any = None) -> plt.Figure:
    """One unit's chart (:func:`kpilab.operations.control_charts` rows): values, centre line, limits,
    and the points where a run rule fired, labelled with the rule.

    Indicator codes in ``title`` are written as names; values are shown in the
    indicator's unit; ``exemptions`` (framework, table or windows) are shaded.
    """
    set_theme()
    c = chart.reset_index(drop=True)
    x = pd.Series(_as_datetime(c["period"]))
    fig, ax = plt.subplots(figsize=(10, 3.6))
    ax.plot(x, c["value"], marker="o", ms=3, lw=1, color="C0", label="value")
    ax.plot(x, c["center"], color="0.3", lw=1, label="centre line")
    ax.plot(x, c["ucl"], color="C3", lw=1, ls="--", label="3-sigma limits")
    ax.plot(x, c["lcl"], color="C3", lw=1, ls="--")
    sig = c["signal"].astype(bool)
    ax.scatter(x[sig], c.loc[sig, "value"], color="C3", zorder=3, s=30, label="rule fired")
    for rule, marker in (("run_8", "s"), ("trend_6", "^")):
        m = c["rule"].str.contains(rule)
        if m.any():
            ax.scatter(x[m], c.loc[m, "value"], marker=marker, facecolor="none", edgecolor="k", s=70,
                       label=_RULES[rule])
    if len(x):
        shade_exemptions(ax, exemptions, clip=(x.min(), x.max()))
    code = str(c["indicator"].iloc[0])
    format_axis(ax, unit_of(code, framework), "y", c["value"])
    ax.set_title(humanise(title, framework) if title else humanise(f"{code} ({c['chart'].iloc[0]} chart)", framework))
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    return fig


def plot_heatmap(table: pd.DataFrame, value: str, title: str, fmt: str = ".0f") -> plt.Figure:
    """Weekday x hour heat map of ``value`` (a frame with ``weekday`` 0-6, ``hour`` and the value)."""
    set_theme()
    grid = table.pivot_table(index="weekday", columns="hour", values=value)
    grid.index = [["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][i] for i in grid.index]
    vals = grid.stack().dropna()
    fig, ax = plt.subplots(figsize=(10, 3.4))
    # colour scale over the values present, so that small differences between hours still show
    sns.heatmap(grid, ax=ax, cmap="rocket_r", annot=True, fmt=fmt, annot_kws={"fontsize": 6},
                cbar_kws={"shrink": .8}, vmin=float(vals.min()) if len(vals) else None,
                vmax=float(vals.max()) if len(vals) else None)
    ax.set_title(humanise(title))
    ax.set_xlabel("hour of arrival")
    return fig


def plot_triangulation(agents: pd.DataFrame) -> plt.Figure:
    """Claimed (agent flag) vs customer-reported resolution per agent, flagged agents in red."""
    set_theme()
    a = agents.dropna(subset=["rate_agent_flag", "rate_customer"])
    fig, ax = plt.subplots(figsize=(5.5, 5))
    if a.empty:  # e.g. a call log without customer-reported resolution: nothing to compare
        ax.text(0.5, 0.5, "No agent has both an agent-flagged and a customer-reported resolution rate.",
                ha="center", va="center", wrap=True, transform=ax.transAxes)
        ax.set_axis_off()
        ax.set_title("Resolution by source")
        return fig
    col = np.where(a["flagged"], "C3", "C0")
    ax.scatter(a["rate_customer"], a["rate_agent_flag"], c=col, s=25)
    lo = min(a["rate_customer"].min(), a["rate_agent_flag"].min()) - 0.02
    ax.plot([lo, 1], [lo, 1], color="0.5", lw=1, ls=":")
    ax.set_xlim(lo, 1.0)
    ax.set_ylim(lo, 1.0)
    flagged = a[a["flagged"].astype(bool)]
    place_labels(ax, flagged["rate_customer"].tolist(), flagged["rate_agent_flag"].tolist(),
                 flagged["unit_id"].astype(str).tolist(), fontsize=8)
    format_axis(ax, "share", "x")
    format_axis(ax, "share", "y")
    ax.set_xlabel("customer-reported resolution")
    ax.set_ylabel("agent-flagged resolution")
    ax.set_title("Resolution by source (red: flagged)")
    return fig


def plot_ranking(rows: pd.DataFrame, label: str, top: int = 25, *, target: float | None = None,
                 framework: Any = None) -> plt.Figure:
    """Units ranked by value with their intervals (never a bare league table).

    ``target`` (or, when ``rows`` holds one ``indicator`` and ``framework`` is given,
    the framework's target for it) is drawn as a dashed vertical line.
    """
    set_theme()
    r = rows.sort_values("value").tail(top)
    fig, ax = plt.subplots(figsize=(6.5, 0.25 * len(r) + 1.2))
    y = np.arange(len(r))
    ax.errorbar(r["value"], y, xerr=[r["value"] - r["ci_low"], r["ci_high"] - r["value"]], fmt="o", ms=3,
                color="C0", ecolor="0.6", capsize=2)
    ax.set_yticks(y, r["unit_id"])
    ax.set_xlabel(f"{humanise(label, framework)} (95 % interval)")
    code = str(r["indicator"].iloc[0]) if "indicator" in r.columns and r["indicator"].nunique() == 1 else None
    if target is None and code is not None and framework is not None:
        try:
            target = framework.indicator(code).target
        except Exception:  # noqa: BLE001 - an indicator outside the framework has no target
            target = None
    draw_target(ax, target, unit_of(code, framework) if code else "", orientation="v")
    if code is not None:
        format_axis(ax, unit_of(code, framework), "x", pd.concat([r["value"], r["ci_low"], r["ci_high"]]).dropna())
    return fig


def plot_staffing(staff: pd.DataFrame, queue: str) -> plt.Figure:
    """Staffed vs required agents by hour for one queue (latest period)."""
    set_theme()
    s = staff[staff["queue"] == queue]
    s = s[s["period"] == s["period"].max()].sort_values("hour")
    fig, ax = plt.subplots(figsize=(8, 3.4))
    ax.bar(s["hour"], s["required_agents"], color="C1", alpha=0.6, label="required (SL target, occupancy bound)")
    ax.plot(s["hour"], s["staffed_agents"], marker="o", color="C0", label="staffed (seen in the data)")
    ax.set_xlabel("hour")
    ax.set_ylabel("agents")
    ax.set_title(f"{str(queue).replace('_', ' ')}, {format_period(s['period'].max()) if len(s) else ''}")
    ax.legend(fontsize=8)
    return fig
