"""Figures of the indicator panel (notebook 01): wait heat map, trend with interval band, agent intervals."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from kpilab.errors import DataError
from kpilab.formatting import duration_scale, format_period, indicator_name, unit_of
from kpilab.plots import (
    _as_datetime,
    draw_target,
    format_axis,
    humanise,
    line_styles,
    period_labels,
    set_theme,
    shade_exemptions,
)

__all__ = ["plot_wait_heatmap", "plot_trend", "plot_agent_intervals", "agent_table"]

_DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def plot_wait_heatmap(profile: pd.DataFrame, *, min_n: int = 1) -> plt.Figure:
    """Heat map of mean wait by weekday x hour from :func:`kpilab.indicators.wait_profile`.

    Cells with fewer than ``min_n`` answered contacts are left blank. The colour
    scale runs over the range present (not from zero) and waits are shown in the
    unit that suits them (s or min).
    """
    if profile.empty:
        raise DataError("No answered contacts to draw the response-time heat map.")
    set_theme()
    p = profile[profile["n"] >= min_n]
    grid = p.pivot(index="weekday", columns="hour", values="mean_wait_s").reindex(index=range(7),
                                                                                 columns=range(24))
    unit, div = duration_scale(grid.stack().dropna())
    grid = grid / div
    vals = grid.stack().dropna()
    fig, ax = plt.subplots(figsize=(11, 3.6))
    sns.heatmap(grid, ax=ax, cmap="rocket_r", cbar_kws={"label": f"mean wait ({unit})"}, linewidths=0.3,
                vmin=float(vals.min()) if len(vals) else None, vmax=float(vals.max()) if len(vals) else None)
    ax.set_yticks(np.arange(7) + 0.5, _DAYS, rotation=0)
    ax.set_xlabel("hour of arrival (local time)")
    ax.set_ylabel("")
    blank = f"; blank: fewer than {min_n} answered contacts" if min_n > 1 else ""
    ax.set_title("Mean queue wait of answered contacts" + blank)
    return fig


def plot_trend(panel: pd.DataFrame, indicator: str, *, unit_id: str | Sequence[str] = "centre",
               target: float | None = None, title: str | None = None, framework: Any = None,
               exemptions: Any = None, highlight: Sequence[str] | None = None) -> plt.Figure:
    """Line of one indicator over periods, with the confidence band, the target and exemption windows.

    Parameters
    ----------
    unit_id : str or list of str
        One unit (drawn with its 95 % band) or several; with several, at most
        :data:`kpilab.plots.MAX_COLOURED_LINES` are coloured (``highlight``, default
        the first ones) and the rest are drawn grey.
    target : float, optional
        Drawn as a dashed line; default the framework's target when ``framework`` is given.
    framework : Framework, optional
        Names, units and targets (default: the catalogue's names, no target).
    exemptions : framework, exemptions table or list, optional
        Windows shaded on the time axis. Periods whose panel rows carry
        ``exempted_share > 0`` are shaded as well, so a panel alone shows them.
    highlight : list of str, optional
        Units to colour when several are drawn.
    """
    units = [unit_id] if isinstance(unit_id, str) else list(unit_id)
    sub = panel[(panel["indicator"] == indicator) & panel["unit_id"].astype(str).isin(units)].sort_values("period")
    if sub.empty:
        raise DataError(f"The panel has no {indicator!r} rows for unit(s) {', '.join(map(repr, units))}.")
    set_theme()
    unit = unit_of(indicator, framework)
    if target is None and framework is not None:
        try:
            target = framework.indicator(indicator).target
        except Exception:  # noqa: BLE001 - an indicator outside the framework has no target
            target = None
    name = indicator_name(indicator, framework)
    fig, ax = plt.subplots(figsize=(9, 3.6))
    styles = line_styles(units, highlight)
    for u in units:
        one = sub[sub["unit_id"].astype(str) == u]
        if one.empty:
            continue
        x = _as_datetime(one["period"])
        st = dict(styles[u])
        if len(units) == 1:
            ax.fill_between(x, one["ci_low"], one["ci_high"], alpha=0.25, label="95 % interval", color="C0", lw=0)
            st.update(color="C0", label=name)
        ax.plot(x, one["value"], marker="o", ms=4, **st)
        small = one["flag"].fillna("").astype(str).str.contains("small_n").to_numpy()
        if small.any():
            ax.scatter(np.asarray(x, dtype=object)[small], one["value"].to_numpy()[small], s=80, facecolors="none",
                       edgecolors="red", zorder=4, label="small n" if len(units) == 1 or u == units[0] else None)
    periods = pd.to_datetime(sub["period"].drop_duplicates().sort_values())
    windows = shade_exemptions(ax, exemptions, clip=(periods.iloc[0], periods.iloc[-1] + pd.Timedelta(days=31)))
    if not windows and "exempted_share" in sub.columns:
        # no windows given: shade the periods the panel says were partly exempted, centred on their points
        ex = pd.to_datetime(sub.loc[pd.to_numeric(sub["exempted_share"], errors="coerce").fillna(0) > 0, "period"])
        half = ((periods.diff().median() if len(periods) > 1 else pd.Timedelta(days=30)) or pd.Timedelta(days=1)) / 2
        shade_exemptions(ax, [(p - half, p + half, "period partly exempted") for p in ex.drop_duplicates()])
    draw_target(ax, target, unit)
    format_axis(ax, unit, "y", sub["value"])  # the ticks carry the unit (83 %, 12 min)
    ax.set_ylabel(name)
    if title is None:
        title = f"{name}, {', '.join(units) if len(units) <= 3 else f'{len(units)} units'}"
    ax.set_title(humanise(title, framework))
    ax.set_xlabel("")
    if len(periods) <= 14:  # one tick per period, written as people write it
        ax.set_xticks(_as_datetime(periods), period_labels(periods))
    else:
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %Y"))
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8, frameon=False)
    fig.autofmt_xdate()
    return fig


def plot_agent_intervals(panel: pd.DataFrame, indicator: str, *, period: str | None = None,
                         level: str = "agent", framework: Any = None, target: float | None = None,
                         max_labelled: int = 60) -> plt.Figure:
    """Forest plot: each unit's value with its interval for one period; small-n units drawn hollow.

    The target (given, or the framework's) is drawn as a dashed line. Up to ``max_labelled`` units
    get one named row each; more units are drawn as a caterpillar plot (units sorted by value along
    the horizontal axis, unnamed), which stays one page tall whatever the number of agents.
    """
    sub = panel[(panel["indicator"] == indicator) & (panel["unit_level"] == level)]
    if sub.empty:
        raise DataError(f"The panel has no {indicator!r} rows at level {level!r}.")
    period = period or sub["period"].max()
    sub = sub[sub["period"] == period].sort_values("value")
    set_theme()
    unit = unit_of(indicator, framework)
    if target is None and framework is not None:
        try:
            target = framework.indicator(indicator).target
        except Exception:  # noqa: BLE001 - an indicator outside the framework has no target
            target = None
    small = sub["flag"].fillna("").astype(str).str.contains("small_n").to_numpy()
    name = indicator_name(indicator, framework)
    if len(sub) > max_labelled:
        return _caterpillar(sub, small, name, unit, target, level, period)
    fig, ax = plt.subplots(figsize=(7, max(2.5, 0.22 * len(sub) + 1)))
    y = np.arange(len(sub))
    ax.hlines(y, sub["ci_low"], sub["ci_high"], color="grey", lw=1.5)
    ax.scatter(sub["value"][~small], y[~small], color="C0", zorder=3, label="n at least the minimum")
    if small.any():
        ax.scatter(sub["value"][small], y[small], facecolors="white", edgecolors="C3", zorder=3, label="small n")
    draw_target(ax, target, unit, orientation="v")
    vals = pd.concat([sub["value"], sub["ci_low"], sub["ci_high"]]).dropna()
    format_axis(ax, unit, "x", vals)  # the ticks carry the unit
    ax.set_xlabel(f"{name}, 95 % interval")
    ax.set_yticks(y, sub["unit_id"].astype(str), fontsize=7 if len(sub) > 30 else 9)
    ax.set_title(f"{name} by {level}, {format_period(period)}")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8, frameon=False)
    return fig


def _caterpillar(sub: pd.DataFrame, small: np.ndarray, name: str, unit: Any, target: float | None, level: str,
                 period: str) -> plt.Figure:
    """Many units: value and interval against the unit's rank (sorted by value), small-n units hollow."""
    fig, ax = plt.subplots(figsize=(8, 4.2))
    x = np.arange(1, len(sub) + 1)
    ax.vlines(x, sub["ci_low"], sub["ci_high"], color="grey", lw=0.8, alpha=0.6)
    size = max(2.0, 12.0 - len(sub) / 100)
    ax.scatter(x[~small], sub["value"].to_numpy()[~small], s=size, color="C0", zorder=3,
               label="n at least the minimum")
    if small.any():
        ax.scatter(x[small], sub["value"].to_numpy()[small], s=size, facecolors="white", edgecolors="C3",
                   zorder=2.9, label="small n")
    draw_target(ax, target, unit, orientation="h")
    vals = pd.concat([sub["value"], sub["ci_low"], sub["ci_high"]]).dropna()
    format_axis(ax, unit, "y", vals)
    ax.set_ylabel(f"{name}, 95 % interval")
    ax.set_xlabel(f"{len(sub):,} {level}s, sorted from lowest to highest")
    ax.set_xlim(0, len(sub) + 1)
    ax.set_title(f"{name} by {level}, {format_period(period)}")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8, frameon=False, markerscale=max(1.0, 6 / size))
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
