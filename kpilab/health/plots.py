"""Figures of the health review, in the kpilab look (:func:`kpilab.plots.set_theme`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

from kpilab.plots import DIVERGING, set_theme

if TYPE_CHECKING:  # pragma: no cover
    from kpilab.health.review import HealthReview

__all__ = ["plot_relevance", "plot_heatmap", "plot_stability", "plot_impact", "DECISION_COLOURS"]

_pal = sns.color_palette("colorblind")
DECISION_COLOURS = {"keep": _pal[2], "review": _pal[1], "prune": _pal[3]}


def plot_relevance(review: HealthReview, ax: Any = None) -> Any:
    """Forest plot: r and its interval per indicator, coloured by decision, threshold lines at +-t."""
    set_theme()
    d = review.decisions.sort_values("r", na_position="first")
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 0.32 * len(d) + 1.5))
    ypos = np.arange(len(d))
    for y, row in zip(ypos, d.itertuples(), strict=True):
        col = DECISION_COLOURS.get(row.decision, "grey")
        if not np.isnan(row.ci_low):
            ax.plot([row.ci_low, row.ci_high], [y, y], color=col, lw=2)
        if not np.isnan(row.r):
            ax.plot(row.r, y, "o", color=col)
    for x in (-review.threshold, review.threshold):
        ax.axvline(x, color="grey", ls="--", lw=1)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(ypos, d["indicator"])
    ax.set_xlim(-1, 1)
    ax.set_xlabel(f"{review.method} correlation with {review.outcome} ({review.confidence:.0%} interval)")
    ax.set_title("Outcome relevance")
    handles = [plt.Line2D([], [], color=c, marker="o", lw=2, label=k) for k, c in DECISION_COLOURS.items()]
    ax.legend(handles=handles, loc="lower right", frameon=True)
    return ax


def plot_heatmap(review: HealthReview) -> Any:
    """Clustered correlation heat map (seaborn ``clustermap``); returns the figure."""
    set_theme()
    corr = review.corr_matrix
    k = corr.shape[0]
    if k < 2:
        fig, ax = plt.subplots(figsize=(4, 3))
        ax.text(0.5, 0.5, "fewer than two indicators", ha="center", va="center")
        ax.set_axis_off()
        return fig
    filled = corr.fillna(0.0)
    size = max(5.0, 0.4 * k + 2)
    grid = sns.clustermap(
        filled, cmap=DIVERGING, vmin=-1, vmax=1, center=0, figsize=(size, size),
        annot=k <= 15, fmt=".2f", cbar_kws={"label": f"{review.method} r"},
    )
    grid.figure.suptitle("Indicator correlations (clustered)", y=1.02)
    return grid.figure


def plot_stability(review: HealthReview, ax: Any = None) -> Any:
    """Outcome correlation per period, one line per indicator, with the threshold band."""
    set_theme()
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4.5))
    s = review.stability
    if len(s):
        sns.lineplot(data=s, x="period", y="r", hue="indicator", marker="o", ax=ax, legend="brief")
        ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize="small")
    for x in (-review.threshold, review.threshold):
        ax.axhline(x, color="grey", ls="--", lw=1)
    ax.set_ylim(-1, 1)
    ax.set_ylabel(f"r with {review.outcome}")
    ax.set_title("Outcome correlation by period")
    ax.tick_params(axis="x", rotation=45)
    return ax


def plot_impact(review: HealthReview, ax: Any = None) -> Any:
    """Bar chart of the mean absolute rank shift when each indicator is removed."""
    set_theme()
    imp = review.impact.dropna(subset=["mean_abs_rank_shift"])
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 0.3 * max(len(imp), 1) + 1.5))
    if len(imp):
        sns.barplot(data=imp, x="mean_abs_rank_shift", y="indicator", hue="pillar", dodge=False, ax=ax)
    ax.set_xlabel("mean absolute change in rank when dropped")
    ax.set_ylabel("")
    ax.set_title("Remove-one impact on the equal-weight composite")
    return ax
