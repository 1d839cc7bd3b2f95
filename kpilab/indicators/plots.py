"""Figures of the indicator panel (notebook 01): wait heat map, trend with interval band, agent intervals."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from kpilab.errors import DataError
from kpilab.plots import set_theme

__all__ = ["plot_wait_heatmap", "plot_trend", "plot_agent_intervals", "agent_table"]

_DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def plot_wait_heatmap(profile: pd.DataFrame, *, min_n: int = 1) -> plt.Figure:
    """Heat map of mean wait (s) by weekday x hour from :func:`kpilab.indicators.wait_profile`.

    Cells with fewer than ``min_n`` answered contacts are left blank.
    """
    if profile.empty:
        raise DataError("No answered contacts to draw the response-time heat map.")
    set_theme()
    p = profile[profile["n"] >= min_n]
    grid = p.pivot(index="weekday", columns="hour", values="mean_wait_s").reindex(index=range(7),
                                                                                 columns=range(24))
    fig, ax = plt.subplots(figsize=(11, 3.6))
    sns.heatmap(grid, ax=ax, cmap="rocket_r", cbar_kws={"label": "mean wait (s)"}, linewidths=0.3)
    ax.set_yticklabels(_DAYS, rotation=0)
    ax.set_xlabel("hour of arrival (local time)")
    ax.set_ylabel("")
    ax.set_title("Mean queue wait of answered contacts")
    return fig


def plot_trend(panel: pd.DataFrame, indicator: str, *, unit_id: str = "centre", target: float | None = None,
               title: str | None = None) -> plt.Figure:
    """Line of one indicator over periods for one unit, with its confidence band (ci_low..ci_high)."""
    sub = panel[(panel["indicator"] == indicator) & (panel["unit_id"] == unit_id)].sort_values("period")
    if sub.empty:
        raise DataError(f"The panel has no {indicator!r} rows for unit {unit_id!r}.")
    set_theme()
    x = pd.to_datetime(sub["period"])
    fig, ax = plt.subplots(figsize=(9, 3.6))
    ax.fill_between(x, sub["ci_low"], sub["ci_high"], alpha=0.25, label="95 % interval")
    ax.plot(x, sub["value"], marker="o", label=indicator)
    small = sub["flag"].str.contains("small_n").to_numpy()
    if small.any():
        ax.scatter(x[small], sub["value"][small], s=80, facecolors="none", edgecolors="red", label="small n")
    if target is not None:
        ax.axhline(target, ls="--", color="grey", lw=1, label=f"target {target:g}")
    ax.set_title(title or f"{indicator} ({unit_id})")
    ax.set_xlabel("period")
    ax.legend(loc="best", fontsize=8)
    fig.autofmt_xdate()
    return fig


def plot_agent_intervals(panel: pd.DataFrame, indicator: str, *, period: str | None = None,
                         level: str = "agent") -> plt.Figure:
    """Forest plot: each unit's value with its interval for one period; small-n units drawn hollow."""
    sub = panel[(panel["indicator"] == indicator) & (panel["unit_level"] == level)]
    if sub.empty:
        raise DataError(f"The panel has no {indicator!r} rows at level {level!r}.")
    period = period or sub["period"].max()
    sub = sub[sub["period"] == period].sort_values("value")
    set_theme()
    fig, ax = plt.subplots(figsize=(7, max(2.5, 0.22 * len(sub) + 1)))
    y = np.arange(len(sub))
    small = sub["flag"].str.contains("small_n").to_numpy()
    ax.hlines(y, sub["ci_low"], sub["ci_high"], color="grey", lw=1.5)
    ax.scatter(sub["value"][~small], y[~small], color="C0", zorder=3, label="n >= min_n")
    ax.scatter(sub["value"][small], y[small], facecolors="white", edgecolors="C3", zorder=3, label="small n")
    ax.set_yticks(y, sub["unit_id"])
    ax.set_title(f"{indicator} by {level}, {period}")
    ax.legend(loc="lower right", fontsize=8)
    return fig


def agent_table(panel: pd.DataFrame, indicators: list[str], *, period: str | None = None,
                level: str = "agent") -> pd.DataFrame:
    """One row per unit for one period: for each indicator ``value``, ``ci_low``, ``ci_high``, ``n``, ``flag``."""
    sub = panel[(panel["unit_level"] == level) & panel["indicator"].isin(indicators)]
    if sub.empty:
        raise DataError(f"The panel has no rows at level {level!r} for {', '.join(indicators)}.")
    period = period or sub["period"].max()
    sub = sub[sub["period"] == period]
    wide = sub.pivot(index="unit_id", columns="indicator", values=["value", "ci_low", "ci_high", "n", "flag"])
    wide = wide.swaplevel(axis=1)
    cols = [(i, f) for i in indicators if i in sub["indicator"].unique()
            for f in ("value", "ci_low", "ci_high", "n", "flag")]
    out = wide[cols]
    out.columns = [f"{i}_{f}" for i, f in cols]
    out.insert(0, "period", period)
    return out.reset_index()
