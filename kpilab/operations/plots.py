"""Figures of the operations notebook and ``kpilab alerts`` (the package's one seaborn style)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from kpilab.plots import set_theme

__all__ = ["plot_control_chart", "plot_heatmap", "plot_triangulation", "plot_ranking", "plot_staffing"]


def plot_control_chart(chart: pd.DataFrame, title: str = "") -> plt.Figure:
    """One unit's chart (:func:`kpilab.operations.control_charts` rows): values, centre line, limits,
    and the points where a run rule fired, labelled with the rule."""
    set_theme()
    c = chart.reset_index(drop=True)
    x = pd.to_datetime(c["period"])
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
            ax.scatter(x[m], c.loc[m, "value"], marker=marker, facecolor="none", edgecolor="k", s=70, label=rule)
    ax.set_title(title or f"{c['indicator'].iloc[0]} ({c['chart'].iloc[0]} chart)")
    ax.legend(fontsize=8, ncol=5, loc="upper left")
    return fig


def plot_heatmap(table: pd.DataFrame, value: str, title: str, fmt: str = ".0f") -> plt.Figure:
    """Weekday x hour heat map of ``value`` (a frame with ``weekday`` 0-6, ``hour`` and the value)."""
    set_theme()
    grid = table.pivot_table(index="weekday", columns="hour", values=value)
    grid.index = [["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][i] for i in grid.index]
    fig, ax = plt.subplots(figsize=(10, 3.4))
    sns.heatmap(grid, ax=ax, cmap="rocket_r", annot=True, fmt=fmt, annot_kws={"fontsize": 7}, cbar_kws={"shrink": .8})
    ax.set_title(title)
    ax.set_xlabel("hour of arrival")
    return fig


def plot_triangulation(agents: pd.DataFrame) -> plt.Figure:
    """Claimed (agent flag) vs customer-reported resolution per agent, flagged agents in red."""
    set_theme()
    a = agents.dropna(subset=["rate_agent_flag", "rate_customer"])
    fig, ax = plt.subplots(figsize=(5.5, 5))
    col = np.where(a["flagged"], "C3", "C0")
    ax.scatter(a["rate_customer"], a["rate_agent_flag"], c=col, s=25)
    for r in a[a["flagged"]].itertuples():
        ax.annotate(r.unit_id, (r.rate_customer, r.rate_agent_flag), fontsize=8, xytext=(3, 3),
                    textcoords="offset points")
    lo = min(a["rate_customer"].min(), a["rate_agent_flag"].min()) - 0.02
    ax.plot([lo, 1], [lo, 1], color="0.5", lw=1, ls=":")
    ax.set_xlabel("customer-reported resolution")
    ax.set_ylabel("agent-flagged resolution")
    ax.set_title("Resolution by source (red: flagged)")
    return fig


def plot_ranking(rows: pd.DataFrame, label: str, top: int = 25) -> plt.Figure:
    """Units ranked by value with their intervals (never a bare league table)."""
    set_theme()
    r = rows.sort_values("value").tail(top)
    fig, ax = plt.subplots(figsize=(6.5, 0.25 * len(r) + 1.2))
    y = np.arange(len(r))
    ax.errorbar(r["value"], y, xerr=[r["value"] - r["ci_low"], r["ci_high"] - r["value"]], fmt="o", ms=3,
                color="C0", ecolor="0.6", capsize=2)
    ax.set_yticks(y, r["unit_id"])
    ax.set_xlabel(f"{label} (95 % interval)")
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
    ax.set_title(f"{queue}, {s['period'].max() if len(s) else ''}")
    ax.legend(fontsize=8)
    return fig
