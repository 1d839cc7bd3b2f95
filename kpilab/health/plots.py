"""Figures of the health review, in the kpilab look (:func:`kpilab.plots.set_theme`).

Indicators are shown by name, not code; the decisions use :data:`kpilab.plots.DECISION_COLOURS`
(distinct, colour-blind safe) and a marker each (circle keep, square review, cross prune) so they
stay apart in grey print; at most :data:`kpilab.plots.MAX_COLOURED_LINES` lines are coloured.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

from kpilab.formatting import indicator_name
from kpilab.plots import DECISION_COLOURS, DIVERGING, line_styles, period_labels, set_theme

if TYPE_CHECKING:  # pragma: no cover
    from kpilab.health.review import HealthReview

__all__ = ["plot_relevance", "plot_heatmap", "plot_stability", "plot_impact", "DECISION_COLOURS", "DECISION_MARKERS"]

#: Marker per decision, so the decisions differ by shape as well as colour.
DECISION_MARKERS = {"keep": "o", "review": "s", "prune": "X"}


def _names(codes: Any) -> list[str]:
    return [indicator_name(str(c)) for c in codes]


def plot_relevance(review: HealthReview, ax: Any = None) -> Any:
    """Forest plot: r and its interval per indicator, coloured and shaped by decision, threshold lines at +-t."""
    set_theme()
    d = review.decisions.sort_values("r", na_position="first")
    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 0.34 * len(d) + 1.6))
    ypos = np.arange(len(d))
    for y, row in zip(ypos, d.itertuples(), strict=True):
        col = DECISION_COLOURS.get(row.decision, "grey")
        if not np.isnan(row.ci_low):
            ax.plot([row.ci_low, row.ci_high], [y, y], color=col, lw=2)
        if not np.isnan(row.r):
            ax.plot(row.r, y, DECISION_MARKERS.get(row.decision, "o"), color=col, ms=7)
    for x in (-review.threshold, review.threshold):
        ax.axvline(x, color="grey", ls="--", lw=1)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(ypos, _names(d["indicator"]))
    ax.set_ylim(-0.7, len(d) - 0.3)
    ax.set_xlim(-1, 1)
    ax.set_xlabel(f"{review.method.capitalize()} correlation with {indicator_name(review.outcome).lower()} "
                  f"({review.confidence:.0%} interval)")
    ax.set_title("Link of each indicator with the outcome")
    handles = [plt.Line2D([], [], color=c, marker=DECISION_MARKERS[k], lw=2, label=k)
               for k, c in DECISION_COLOURS.items()]
    # legend outside the data area: it never hides a point
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, title="decision")
    return ax


def plot_heatmap(review: HealthReview) -> Any:
    """Clustered correlation heat map (seaborn ``clustermap``) with indicator names; returns the figure."""
    set_theme()
    corr = review.corr_matrix
    k = corr.shape[0]
    if k < 2:
        fig, ax = plt.subplots(figsize=(4, 3))
        ax.text(0.5, 0.5, "fewer than two indicators", ha="center", va="center")
        ax.set_axis_off()
        return fig
    filled = corr.fillna(0.0)
    filled.index = filled.columns = _names(corr.columns)
    size = max(6.0, 0.45 * k + 3)
    grid = sns.clustermap(
        filled, cmap=DIVERGING, vmin=-1, vmax=1, center=0, figsize=(size, size),
        annot=k <= 15, fmt=".2f", annot_kws={"fontsize": 7},
        cbar_kws={"label": f"{review.method} r", "orientation": "horizontal", "ticks": [-1, 0, 1]},
        xticklabels=True, yticklabels=True, dendrogram_ratio=0.12,
        # the colour bar in the empty top-left corner, clear of both dendrograms and the labels
        cbar_pos=(0.01, 0.94, 0.08, 0.018),
    )
    grid.ax_cbar.xaxis.set_label_position("top")
    grid.ax_cbar.tick_params(labelsize=7)
    grid.ax_heatmap.tick_params(axis="x", labelrotation=90, labelsize=8)
    grid.ax_heatmap.tick_params(axis="y", labelrotation=0, labelsize=8)
    grid.figure.suptitle("Indicator correlations (clustered)", y=1.02)
    return grid.figure


def plot_stability(review: HealthReview, ax: Any = None) -> Any:
    """Outcome correlation per period: at most eight lines coloured (kept indicators first), the rest grey."""
    set_theme()
    if ax is None:
        _, ax = plt.subplots(figsize=(8.5, 4.5))
    s = review.stability
    if len(s):
        order = list(review.decisions.assign(_a=review.decisions["r"].abs())
                     .sort_values(["decision", "_a"], ascending=[True, False])["indicator"])
        codes = [c for c in order if c in set(s["indicator"])]
        keep = [c for c in codes if review.decisions.set_index("indicator").loc[c, "decision"] == "keep"]
        styles = line_styles(codes, highlight=keep or codes)
        periods = sorted(s["period"].astype(str).unique())
        pos = {p: i for i, p in enumerate(periods)}
        for code in codes:
            g = s[s["indicator"] == code].sort_values("period")
            st = dict(styles[code])
            if st.get("label") != "_nolegend_":
                st["label"] = indicator_name(code)
            ax.plot([pos[p] for p in g["period"].astype(str)], g["r"], marker="o", ms=3, **st)
        ax.set_xticks(range(len(periods)), period_labels(periods))
        if any(st.get("label") != "_nolegend_" for st in styles.values()):
            ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False,
                      title="kept indicators" if keep else None)
    for x in (-review.threshold, review.threshold):
        ax.axhline(x, color="grey", ls="--", lw=1)
    ax.set_ylim(-1, 1)
    ax.set_ylabel(f"r with {indicator_name(review.outcome).lower()}")
    ax.set_title("Outcome correlation by period (others in grey)")
    ax.tick_params(axis="x", rotation=45)
    return ax


def plot_impact(review: HealthReview, ax: Any = None) -> Any:
    """Bar chart of the mean absolute rank shift when each indicator is removed, by name, coloured by pillar."""
    set_theme()
    imp = review.impact.dropna(subset=["mean_abs_rank_shift"]).copy()
    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 0.32 * max(len(imp), 1) + 1.6))
    if len(imp):
        imp["name"] = _names(imp["indicator"])
        imp["pillar"] = imp["pillar"].fillna("").astype(str).str.replace("_", " ")
        sns.barplot(data=imp, x="mean_abs_rank_shift", y="name", hue="pillar", dodge=False, ax=ax)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, title="pillar")
    ax.set_xlabel("mean absolute change in rank when dropped (places)")
    ax.set_ylabel("")
    ax.set_title("Remove-one impact on the equal-weight composite")
    return ax
