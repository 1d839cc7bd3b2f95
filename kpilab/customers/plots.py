"""Figures of the customer-value analyses: RFM classes, odds ratios."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from kpilab.plots import set_theme

__all__ = ["plot_rfm", "plot_odds_ratios"]


def plot_rfm(result, scheme: str = "class") -> plt.Figure:
    """Three bar panels per RFM class (or named segment): customer share, value share, churn rate.

    Parameters
    ----------
    result : RFMResult
        From :func:`kpilab.customers.rfm`.
    scheme : {"class", "segment"}
        The 8 high/low classes or the named segments.

    Returns
    -------
    matplotlib.figure.Figure
        Churn rates carry their Wilson 95 % intervals; classes flagged ``small_n`` are hatched, empty
        classes show no bar.
    """
    set_theme()
    t = result.to_frame()
    t = t[t["scheme"] == scheme].reset_index(drop=True)
    y = np.arange(len(t))
    has_churn = t["churn_rate"].notna().any()
    fig, axes = plt.subplots(1, 3 if has_churn else 2, figsize=(12 if has_churn else 8.5, 0.45 * len(t) + 1.6),
                             sharey=True)
    axes[0].barh(y, t["customer_share"], color="C0")
    axes[0].set_title("customers")
    axes[1].barh(y, t["value_share"], color="C2")
    axes[1].set_title("value share")
    if has_churn:
        ax = axes[2]
        lo = (t["churn_rate"] - t["churn_ci_low"]).clip(lower=0)
        hi = (t["churn_ci_high"] - t["churn_rate"]).clip(lower=0)
        bars = ax.barh(y, t["churn_rate"].fillna(0), color="C3", xerr=[lo.fillna(0), hi.fillna(0)], capsize=3)
        for b, f in zip(bars, t["flag"], strict=True):
            if f == "small_n":
                b.set_hatch("//")
        ax.set_title("churn rate (95 % CI)")
        base = result.customers["churned"].dropna().astype(float).mean()
        ax.axvline(base, color="0.3", lw=1, ls="--", label=f"all {base:.1%}")
        ax.legend(loc="lower right", fontsize=8)
    for ax in axes:
        ax.xaxis.set_major_formatter(plt.matplotlib.ticker.PercentFormatter(1.0, decimals=0))
    axes[0].set_yticks(y, [f"{g} (n={n:,})" for g, n in zip(t["group"], t["n_customers"], strict=True)])
    axes[0].invert_yaxis()
    fig.suptitle(f"RFM {'classes' if scheme == 'class' else 'segments'}: {len(result.customers):,} customers")
    fig.tight_layout()
    return fig


def plot_odds_ratios(table: pd.DataFrame, title: str = "Churn odds ratios of the service received") -> plt.Figure:
    """Forest plot of :attr:`ServiceLinkResult.table` (log scale, 1 = no association)."""
    set_theme()
    t = table.reset_index(drop=True)
    y = np.arange(len(t))
    fig, ax = plt.subplots(figsize=(7.5, 0.55 * len(t) + 1.4))
    ax.errorbar(t["odds_ratio"], y, xerr=[t["odds_ratio"] - t["ci_low"], t["ci_high"] - t["odds_ratio"]],
                fmt="o", color="C0", capsize=4)
    ax.axvline(1, color="0.3", lw=1, ls="--")
    ax.set_xscale("log")
    ax.set_yticks(y, [f"{r.term}\n({r.unit})" for r in t.itertuples()], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("odds ratio of churn (95 % CI, errors clustered by agent)")
    ax.set_title(title)
    fig.tight_layout()
    return fig
