"""One consistent seaborn look for every kpilab figure.

Modules draw their own figures (``kpilab.health.plots`` ...) but start from
:func:`set_theme` and save through :func:`save_figure`, so reports look alike.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt  # backend: inline in notebooks, Agg when headless (matplotlib's own choice)
import seaborn as sns

__all__ = ["set_theme", "save_figure", "PALETTE", "DIVERGING"]

PALETTE = "colorblind"
DIVERGING = "vlag"  # correlation heat maps: blue negative, red positive, white zero


def set_theme() -> None:
    """Apply the kpilab look (white grid, colour-blind palette, readable fonts)."""
    sns.set_theme(style="whitegrid", palette=PALETTE, context="notebook", font_scale=0.95)
    plt.rcParams.update({"figure.dpi": 100, "savefig.dpi": 120, "savefig.bbox": "tight", "axes.titleweight": "bold"})


def save_figure(fig: plt.Figure, path: str | Path) -> Path:
    """Save ``fig`` as PNG (creating folders) and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    return path
