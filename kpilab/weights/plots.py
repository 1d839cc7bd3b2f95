"""Figures for weight sets and their comparison (kpilab look: :func:`kpilab.plots.set_theme`)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.ticker import FuncFormatter

from kpilab.formatting import indicator_name
from kpilab.plots import PALETTE, place_labels, set_theme
from kpilab.weights.compare import WeightComparison
from kpilab.weights.result import WeightResult

__all__ = ["plot_weights", "plot_weight_result", "plot_agreement", "plot_influence", "plot_rank_shifts"]


def _set_label(name: object) -> str:
    """A weight-set name for people (``front_line`` -> ``front line``; method acronyms in capitals)."""
    text = str(name).replace("_", " ")
    for acronym in ("critic", "pca", "ahp", "ols", "nnls"):
        text = " ".join(acronym.upper() if w == acronym else w for w in text.split(" "))
    return text


def plot_weights(comparison: WeightComparison, kind: str = "heatmap") -> plt.Figure:
    """The weight of each indicator under each set: a heat map (default, readable with many sets)
    or grouped horizontal bars (``kind="bar"``). Indicators are grouped by pillar."""
    set_theme()
    sets = [c for c in comparison.weights.columns if c not in ("indicator", "pillar")]
    table = comparison.weights.sort_values(["pillar", "indicator"], kind="stable")
    labels = [f"{indicator_name(r.indicator)} ({r.pillar.replace('_', ' ')})" if isinstance(r.pillar, str) and r.pillar
              else indicator_name(r.indicator) for r in table.itertuples()]
    if kind == "bar":
        named = table.assign(indicator=labels).rename(columns={c: _set_label(c) for c in sets})
        long = named.melt(id_vars=["indicator", "pillar"], value_vars=[_set_label(c) for c in sets], var_name="set",
                          value_name="weight")
        fig, ax = plt.subplots(figsize=(8, 0.32 * len(table) * max(1, len(sets) / 3) + 1.5))
        sns.barplot(data=long, y="indicator", x="weight", hue="set", order=labels, palette=PALETTE, ax=ax)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v * 100:.0f} %"))
        ax.set_xlabel("weight")
        ax.set_ylabel("")
        ax.legend(title="", bbox_to_anchor=(1.02, 1), loc="upper left", fontsize="small")
    else:
        M = pd.DataFrame(table[sets].to_numpy() * 100, index=labels, columns=[_set_label(c) for c in sets])
        fig, ax = plt.subplots(figsize=(1.1 * len(sets) + 3.5, 0.36 * len(table) + 1.6))
        sns.heatmap(M, annot=True, fmt=".0f", cmap="Blues", vmin=0, cbar_kws={"label": "weight (%)"},
                    linewidths=0.5, linecolor="white", ax=ax)
        ax.set_xticklabels(ax.get_xticklabels(), rotation=30, ha="right")
        ax.set_ylabel("")
    ax.set_title("Indicator weights by weight set (%)" if kind != "bar" else "Indicator weights by weight set")
    return fig


def plot_weight_result(result: WeightResult) -> plt.Figure:
    """One weight set as bars (with its bootstrap interval when it has one)."""
    set_theme()
    df = result.to_frame().sort_values("weight")
    df = df.assign(indicator=[indicator_name(c) for c in df["indicator"]])
    fig, ax = plt.subplots(figsize=(7, 0.3 * len(df) + 1.2))
    ax.barh(df["indicator"], df["weight"], color=sns.color_palette(PALETTE)[0])
    if df["ci_low"].notna().any():
        err = np.vstack([df["weight"] - df["ci_low"], df["ci_high"] - df["weight"]]).clip(0)
        ax.errorbar(df["weight"], df["indicator"], xerr=err, fmt="none", ecolor="black", capsize=2, lw=1)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v * 100:.0f} %"))
    ax.set_xlabel("weight")
    ax.set_title(f"Weights: {_set_label(result.method)}")
    return fig


def plot_agreement(comparison: WeightComparison, statistic: str = "spearman") -> plt.Figure:
    """Heat map of rank agreement (Spearman, Kendall tau or top-n overlap) between every pair of sets.

    The colour scale runs over the pairwise values present (the diagonal, 1 by
    definition, is left blank), so that sets agreeing at 0.94 and at 0.99 look
    different; every cell is annotated with enough decimals to tell them apart.
    """
    set_theme()
    sets = list(comparison.scores.columns)
    M = pd.DataFrame(np.eye(len(sets)), index=sets, columns=sets)
    for r in comparison.agreement.itertuples():
        M.loc[r.set_a, r.set_b] = M.loc[r.set_b, r.set_a] = getattr(r, statistic)
    off = M.to_numpy()[~np.eye(len(sets), dtype=bool)]
    off = off[np.isfinite(off)]
    label = {"spearman": "Spearman rank correlation", "kendall_tau": "Kendall tau",
             "top_overlap": f"top-{comparison.top_n} overlap"}[statistic]
    if not off.size:  # e.g. too few units to rank: say so instead of drawing an empty grid
        fig, ax = plt.subplots(figsize=(6, 1.6))
        flags = sorted({f for f in comparison.agreement.get("flag", pd.Series(dtype=str)).fillna("").astype(str)
                        for f in f.split(";") if f})
        why = f" ({', '.join(x.replace('_', ' ') for x in flags)})" if flags else ""
        ax.text(0.5, 0.5, f"No ranking agreement could be computed{why}.", ha="center", va="center", wrap=True)
        ax.set_axis_off()
        ax.set_title(f"Ranking agreement ({label})")
        return fig
    lo, hi = (float(off.min()), float(off.max())) if off.size else (0.0, 1.0)
    if hi - lo < 1e-9:  # one value: a small symmetric range so the colour is mid-scale, not an edge
        lo, hi = lo - 0.01, hi + 0.01
    # enough decimals that the observed differences show in the numbers too (at most 4)
    decimals = int(min(4, max(2, np.ceil(-np.log10(hi - lo)) + 1))) if off.size > 1 else 2
    M.index = M.columns = [_set_label(c) for c in sets]
    fig, ax = plt.subplots(figsize=(1.0 * len(sets) + 3.5, 0.8 * len(sets) + 1.8))
    sns.heatmap(M, annot=True, fmt=f".{decimals}f", cmap="viridis", vmin=lo, vmax=hi, square=True,
                mask=np.eye(len(sets), dtype=bool), cbar_kws={"label": "colour: lowest to highest value seen"},
                ax=ax)
    ax.set_xticklabels(ax.get_xticklabels(), rotation=30, ha="right")
    ax.grid(False)
    ax.set_title(f"Ranking agreement ({label})")
    return fig


def plot_influence(comparison: WeightComparison, label_top: int = 6) -> plt.Figure:
    """Nominal weight (x) versus actual influence (y); points off the diagonal drive more or less than weighted.

    The ``label_top`` points furthest from the diagonal are labelled ``indicator (set)``."""
    set_theme()
    df = comparison.influence
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    df = df.assign(set=[_set_label(x) for x in df["set"]])
    sns.scatterplot(data=df, x="weight", y="influence", hue="set", style="set", palette=PALETTE, s=60, ax=ax)
    hi = float(np.nanmax([df["weight"].max(), df["influence"].max(), 0.05])) * 1.08
    ax.plot([0, hi], [0, hi], color="grey", lw=1, ls="--")
    ax.set_xlim(0, hi)
    ax.set_ylim(0, hi)
    top = df.loc[df["gap"].abs() > 0.03].reindex(df["gap"].abs().sort_values(ascending=False).index).dropna(
        subset=["gap"]).head(label_top)
    place_labels(ax, top["weight"].tolist(), top["influence"].tolist(),
                 [f"{indicator_name(r.indicator)} ({r.set})" for r in top.itertuples()], fontsize=7)
    pct = FuncFormatter(lambda v, _: f"{v * 100:.0f} %")
    ax.xaxis.set_major_formatter(pct)
    ax.yaxis.set_major_formatter(pct)
    ax.set_xlabel("nominal weight")
    ax.set_ylabel("influence (normalised squared correlation with the score)")
    ax.set_title("Weight versus influence")
    ax.legend(title="", fontsize="small", bbox_to_anchor=(1.02, 1), loc="upper left")
    return fig


def plot_rank_shifts(comparison: WeightComparison, n: int = 10) -> plt.Figure:
    """Rank range per unit for the ``n`` units that move most: one marker per set, the reference in black."""
    set_theme()
    ranks = comparison.ranks.copy()
    ranks.index = ["/".join(map(str, i)) if isinstance(i, tuple) else str(i) for i in ranks.index]
    units = list(dict.fromkeys(comparison.movers["unit"]))[:n]
    sets = list(ranks.columns)
    others = [s for s in sets if s != comparison.reference]
    colours = dict(zip(others, sns.color_palette(PALETTE, len(others)), strict=True))
    shown = {s_: _set_label(s_) for s_ in sets}
    markers = dict(zip(others, "osD^vP*Xph", strict=False))
    fig, ax = plt.subplots(figsize=(7.5, 0.42 * max(len(units), 3) + 1.6))
    for k, u in enumerate(units):
        row = ranks.loc[u]
        ax.hlines(k, row.min(), row.max(), color="lightgrey", lw=3, zorder=1)
        for s in others:
            ax.scatter(row[s], k, color=colours[s], marker=markers.get(s, "o"), s=40, zorder=2,
                       label=shown[s] if k == 0 else None)
        ax.scatter(row[comparison.reference], k, color="black", marker="|", s=250, lw=2.5, zorder=3,
                   label=f"{shown[comparison.reference]} (reference)" if k == 0 else None)
    ax.set_yticks(range(len(units)), units)
    ax.invert_yaxis()
    ax.set_xlabel("rank under each weight set (1 = best)")
    ax.set_title("Units whose rank moves most")
    ax.legend(bbox_to_anchor=(1.02, 1), loc="upper left", fontsize="small")
    return fig
