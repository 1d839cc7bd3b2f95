"""Figures for weight sets and their comparison (kpilab look: :func:`kpilab.plots.set_theme`)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from kpilab.plots import DIVERGING, PALETTE, set_theme
from kpilab.weights.compare import WeightComparison
from kpilab.weights.result import WeightResult

__all__ = ["plot_weights", "plot_weight_result", "plot_agreement", "plot_influence", "plot_rank_shifts"]


def plot_weights(comparison: WeightComparison) -> plt.Figure:
    """Grouped horizontal bars: the weight of each indicator under each set."""
    set_theme()
    sets = [c for c in comparison.weights.columns if c not in ("indicator", "pillar")]
    long = comparison.weights.melt(id_vars=["indicator", "pillar"], value_vars=sets, var_name="set", value_name="weight")
    order = comparison.weights.sort_values(["pillar", "indicator"])["indicator"].tolist()
    fig, ax = plt.subplots(figsize=(8, 0.32 * len(order) * max(1, len(sets) / 3) + 1.5))
    sns.barplot(data=long, y="indicator", x="weight", hue="set", order=order, palette=PALETTE, ax=ax)
    ax.set_xlabel("weight")
    ax.set_ylabel("")
    ax.set_title("Indicator weights by weight set")
    ax.legend(title="", loc="lower right", fontsize="small")
    return fig


def plot_weight_result(result: WeightResult) -> plt.Figure:
    """One weight set as bars (with its bootstrap interval when it has one)."""
    set_theme()
    df = result.to_frame().sort_values("weight")
    fig, ax = plt.subplots(figsize=(7, 0.3 * len(df) + 1.2))
    ax.barh(df["indicator"], df["weight"], color=sns.color_palette(PALETTE)[0])
    if df["ci_low"].notna().any():
        err = np.vstack([df["weight"] - df["ci_low"], df["ci_high"] - df["weight"]]).clip(0)
        ax.errorbar(df["weight"], df["indicator"], xerr=err, fmt="none", ecolor="black", capsize=2, lw=1)
    ax.set_xlabel("weight")
    ax.set_title(f"Weights: {result.method}")
    return fig


def plot_agreement(comparison: WeightComparison, statistic: str = "spearman") -> plt.Figure:
    """Heat map of rank agreement (Spearman, Kendall tau or top-n overlap) between every pair of sets."""
    set_theme()
    sets = list(comparison.scores.columns)
    M = pd.DataFrame(np.eye(len(sets)), index=sets, columns=sets)
    for r in comparison.agreement.itertuples():
        M.loc[r.set_a, r.set_b] = M.loc[r.set_b, r.set_a] = getattr(r, statistic)
    fig, ax = plt.subplots(figsize=(1.0 * len(sets) + 2.5, 0.8 * len(sets) + 1.8))
    sns.heatmap(M, annot=True, fmt=".2f", cmap=DIVERGING, vmin=-1 if statistic != "top_overlap" else 0, vmax=1,
                square=True, cbar=False, ax=ax)
    label = {"spearman": "Spearman rank correlation", "kendall_tau": "Kendall tau",
             "top_overlap": f"top-{comparison.top_n} overlap"}[statistic]
    ax.set_title(f"Ranking agreement ({label})")
    return fig


def plot_influence(comparison: WeightComparison) -> plt.Figure:
    """Nominal weight (x) versus actual influence (y); points off the diagonal drive more or less than weighted."""
    set_theme()
    df = comparison.influence
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    sns.scatterplot(data=df, x="weight", y="influence", hue="set", style="set", palette=PALETTE, s=60, ax=ax)
    hi = float(np.nanmax([df["weight"].max(), df["influence"].max(), 0.05])) * 1.08
    ax.plot([0, hi], [0, hi], color="grey", lw=1, ls="--")
    ax.set_xlim(0, hi)
    ax.set_ylim(0, hi)
    for r in df.loc[df["gap"].abs() > 0.05].itertuples():
        ax.annotate(r.indicator, (r.weight, r.influence), fontsize=7, xytext=(3, 3), textcoords="offset points")
    ax.set_xlabel("nominal weight")
    ax.set_ylabel("influence (normalised squared correlation with the score)")
    ax.set_title("Weight versus influence")
    ax.legend(title="", fontsize="small")
    return fig


def plot_rank_shifts(comparison: WeightComparison, n: int = 10) -> plt.Figure:
    """Slope chart: reference rank versus rank under each set for the units that move most."""
    set_theme()
    mv = comparison.movers.head(n)
    fig, ax = plt.subplots(figsize=(6.5, 0.35 * max(len(mv), 4) + 1.5))
    colours = dict(zip(mv["set"].unique(), sns.color_palette(PALETTE), strict=False))
    for r in mv.itertuples():
        ax.plot([0, 1], [r.reference_rank, r.rank], marker="o", color=colours[r.set], lw=1.5)
        ax.annotate(f"{r.unit}", (0, r.reference_rank), xytext=(-4, 0), textcoords="offset points",
                    ha="right", va="center", fontsize=7)
        ax.annotate(f"{r.set}", (1, r.rank), xytext=(4, 0), textcoords="offset points", va="center", fontsize=7)
    ax.invert_yaxis()
    ax.set_xticks([0, 1], [comparison.reference, "alternative set"])
    ax.set_xlim(-0.4, 1.4)
    ax.set_ylabel("rank (1 = best)")
    ax.set_title("Units whose rank moves most")
    return fig
