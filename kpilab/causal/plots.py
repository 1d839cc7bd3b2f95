"""Event-study figure: the effect by period relative to training, pre-trends included."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from kpilab.causal.result import TrainingEffectResult
from kpilab.formatting import indicator_name
from kpilab.plots import set_theme

__all__ = ["plot_event_study"]


def plot_event_study(result: TrainingEffectResult, *, title: str | None = None) -> plt.Figure:
    """Point estimates with their intervals per relative period; the reference period (-1) at 0.

    Pre-periods are grey (they should straddle 0), periods from training on blue; the dashed line is
    the Callaway-Sant'Anna ATT over the post periods and the dotted line the naive TWFE, so the gap
    between them shows.
    """
    set_theme()
    es = result.event_study
    name = indicator_name(result.indicator)
    fig, ax = plt.subplots(figsize=(8, 4.2))
    for kind, colour in (("pre", "#8c8c8c"), ("post", "#1f77b4")):
        d = es[es["kind"] == kind]
        if len(d):
            ax.errorbar(
                d["relative_period"],
                d["estimate"],
                yerr=[d["estimate"] - d["ci_low"], d["ci_high"] - d["estimate"]],
                fmt="o",
                color=colour,
                ecolor=colour,
                capsize=2,
                ms=4,
                label="before training" if kind == "pre" else "after training",
            )
    ref = es[es["kind"] == "reference"]
    ax.plot(ref["relative_period"], ref["estimate"], "s", color="black", ms=5, label="reference (e = -1)")
    ax.axhline(0, color="black", lw=0.8)
    ax.axvline(-0.5, color="black", lw=0.8, ls=":")
    post = es[es["kind"] == "post"]["relative_period"]
    if len(post):
        x = [post.min() - 0.3, post.max() + 0.3]
        for est, style, label in (
            ("callaway_santanna", "--", "ATT (Callaway-Sant'Anna)"),
            ("twfe_naive", ":", "naive TWFE (biased)"),
        ):
            v = result.estimate(est)
            if np.isfinite(v):
                ax.plot(
                    x,
                    [v, v],
                    ls=style,
                    color="#d62728" if est == "twfe_naive" else "#1f77b4",
                    lw=1.2,
                    label=f"{label}: {v:.3g}",
                )
    pt = result.pretrend
    sub = (
        f"pre-trend test p = {pt['p_value']:.3g}"
        if pt.get("n_pre") and np.isfinite(pt["p_value"])
        else "no pre-trend test"
    )
    ax.set_title(title or f"Training effect on {name} by {result.period}s since training ({sub})")
    ax.set_xlabel(f"{result.period}s relative to the training {result.period} (0 = training {result.period})")
    ax.set_ylabel(f"effect on {name}")
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    fig.tight_layout()
    return fig
