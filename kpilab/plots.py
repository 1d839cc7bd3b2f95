"""One consistent look for every kpilab figure, and the helpers that make figures readable.

Modules draw their own figures (``kpilab.health.plots`` ...) but start from
:func:`set_theme`, label through :func:`humanise` / :func:`format_axis` (names,
not codes; shares in %, durations in s/min/h/d, no exponents), colour at most
:data:`MAX_COLOURED_LINES` lines (:func:`line_styles`), place point labels with
:func:`place_labels` so they never overlap, mark exemption windows with
:func:`shade_exemptions` and targets with :func:`draw_target`, and save through
:func:`save_figure`. The artists these helpers add carry a ``gid`` (``"exemption"``,
``"target"``, ``"muted"``) so tests and the report can find them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt  # backend: inline in notebooks, Agg when headless (matplotlib's own choice)
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.ticker import FuncFormatter, MaxNLocator

from kpilab.formatting import _sig, duration_scale, format_period, format_value, indicator_name, unit_of

__all__ = [
    "set_theme",
    "save_figure",
    "PALETTE",
    "DIVERGING",
    "MAX_COLOURED_LINES",
    "MUTED",
    "DECISION_COLOURS",
    "humanise",
    "axis_label",
    "format_axis",
    "line_styles",
    "place_labels",
    "shade_exemptions",
    "exemption_windows",
    "draw_target",
    "period_labels",
]

PALETTE = "colorblind"
DIVERGING = "vlag"  # correlation heat maps: blue negative, red positive, white zero
#: A line chart colours at most this many lines; the rest are drawn in :data:`MUTED` grey.
MAX_COLOURED_LINES = 8
MUTED = "#c8c8c8"
#: Health decisions in every figure: distinct and colour-blind safe (Okabe-Ito green, orange, vermilion).
DECISION_COLOURS = {"keep": "#009E73", "review": "#E69F00", "prune": "#D55E00"}
_EXEMPTION_COLOUR = "#fdb863"
_TARGET_COLOUR = "#444444"


def set_theme() -> None:
    """Apply the kpilab look (white grid, colour-blind palette, readable fonts)."""
    sns.set_theme(style="whitegrid", palette=PALETTE, context="notebook", font_scale=0.95)
    plt.rcParams.update({"figure.dpi": 100, "savefig.dpi": 120, "savefig.bbox": "tight", "axes.titleweight": "bold",
                         "axes.formatter.useoffset": False, "axes.formatter.limits": (-9, 12)})


def save_figure(fig: plt.Figure, path: str | Path) -> Path:
    """Save ``fig`` as PNG (creating folders) and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    return path


# --------------------------------------------------------------------- labels
def _codes(framework: Any = None) -> list[str]:
    from kpilab.indicators.catalogue import CATALOGUE

    codes = set(CATALOGUE)
    if framework is not None:
        codes |= {i.code for i in getattr(framework, "indicators", [])}
    return sorted(codes, key=len, reverse=True)  # longest first: csat_top2 before csat


def humanise(text: Any, framework: Any = None) -> str:
    """``text`` with every indicator code written as the indicator's name.

    ``"fcr - centre (p chart)" -> "First contact resolution - centre (p chart)"``,
    ``"weight:aht" -> "weight: Average handle time"``. Codes are matched as whole
    words (``csat`` inside ``csat_top2`` is not replaced); other words are kept.
    """
    text = "" if text is None else str(text)
    codes = [c for c in _codes(framework) if c in text]
    if not codes:
        return text
    pattern = re.compile(r"(?<![A-Za-z0-9_])(" + "|".join(map(re.escape, codes)) + r")(?![A-Za-z0-9_])")
    out = pattern.sub(lambda m: indicator_name(m.group(1), framework), text)
    return re.sub(r"(\w):(?=[A-Z])", r"\1: ", out)


def axis_label(code: str, framework: Any = None, values: Iterable[float] | None = None) -> str:
    """Axis title for an indicator: its name with the unit shown on the axis (``"Average handle time (min)"``)."""
    name = indicator_name(code, framework)
    unit = unit_of(code, framework).lower()
    if unit in ("share", "rate", "proportion", "%"):
        return f"{name} (%)"
    if unit in ("seconds", "s", "duration"):
        u, _ = duration_scale(list(values) if values is not None else [])
        return f"{name} ({u})"
    return name


def format_axis(ax: plt.Axes, unit: str = "", axis: str = "y", values: Iterable[float] | None = None) -> str:
    """Tick labels in the indicator's unit: shares as ``83 %``, seconds in one suitable unit, no exponents.

    Returns the unit suffix written on the axis (``"%"``, ``"h"`` ... or ``""``).
    """
    u = (unit or "").lower()
    target = ax.yaxis if axis == "y" else ax.xaxis
    if u in ("share", "rate", "proportion", "%"):
        target.set_major_formatter(FuncFormatter(lambda v, _: f"{v * 100:.0f} %" if abs(v) >= 0.1 or v == 0
                                                 else f"{v * 100:.1f} %"))
        return "%"
    if u in ("seconds", "s", "duration"):
        vals = np.asarray(list(values) if values is not None else [], dtype=float)
        if vals.size == 0:
            lo, hi = ax.get_ylim() if axis == "y" else ax.get_xlim()
            vals = np.array([lo, hi])
        name, div = duration_scale(vals)
        target.set_major_locator(_ScaledLocator(div))
        target.set_major_formatter(FuncFormatter(lambda v, _, d=div, n=name: f"{_sig(v / d, 2) if v else '0'} {n}"))
        return name
    fmt = target.get_major_formatter()
    if hasattr(fmt, "set_scientific"):  # plain numbers: no 1e5 and no offset such as "+4.3"
        fmt.set_scientific(False)
        fmt.set_useOffset(False)
    return ""


class _ScaledLocator(MaxNLocator):
    """Nice tick steps in a scaled unit (whole minutes or hours, not 8.3 min from a 500 s step)."""

    def __init__(self, div: float) -> None:
        super().__init__(nbins="auto", steps=[1, 2, 2.5, 5, 10])
        self._div = div

    def tick_values(self, vmin: float, vmax: float) -> np.ndarray:
        return super().tick_values(vmin / self._div, vmax / self._div) * self._div


def period_labels(periods: Iterable[Any], period: str | None = None) -> list[str]:
    """Period starts as people write them (``"Jan 2025"``), via :func:`kpilab.formatting.format_period`."""
    return [format_period(p, period) for p in periods]


# ---------------------------------------------------------------------- lines
def line_styles(names: Sequence[Any], highlight: Iterable[Any] | None = None,
                max_coloured: int = MAX_COLOURED_LINES) -> dict[Any, dict[str, Any]]:
    """Plot keyword arguments per line: the highlighted ones in palette colours, the rest grey and unlabelled.

    Without ``highlight`` the first ``max_coloured`` names are highlighted. More
    than ``max_coloured`` highlighted names are cut to the first ``max_coloured``:
    a reader cannot tell more colours apart (the report text names the lines it
    discusses; those are the ones to pass).
    """
    names = list(names)
    chosen = [n for n in (names if highlight is None else list(highlight)) if n in names][:max_coloured]
    colours = sns.color_palette(PALETTE, max(len(chosen), 1))
    styles: dict[Any, dict[str, Any]] = {}
    for n in names:
        if n in chosen:
            styles[n] = {"color": colours[chosen.index(n)], "lw": 2.0, "zorder": 3, "label": str(n)}
        else:
            styles[n] = {"color": MUTED, "lw": 1.0, "zorder": 1, "label": "_nolegend_", "gid": "muted"}
    return styles


def place_labels(ax: plt.Axes, xs: Sequence[float], ys: Sequence[float], texts: Sequence[str], *,
                 fontsize: float = 7.5, dx_points: float = 6.0) -> list[Any]:
    """Annotate points with labels that do not overlap: labels right of their point, pushed apart vertically.

    A one-dimensional repel in display space: labels sorted by height are moved
    apart to at least one line height, then annotated with a thin leader line.
    Call after the axis limits are final (labels are placed in pixels).
    """
    if not len(texts):
        return []
    fig = ax.figure
    pts = ax.transData.transform(np.column_stack([np.asarray(xs, float), np.asarray(ys, float)]))
    gap = fontsize * 1.35 * fig.dpi / 72.0
    order = np.argsort(pts[:, 1])
    placed = pts[order, 1].copy()
    for k in range(1, len(placed)):  # push up
        placed[k] = max(placed[k], placed[k - 1] + gap)
    top = ax.bbox.y1 - gap / 2
    if len(placed) and placed[-1] > top:  # push back down from the top edge
        placed[-1] = top
        for k in range(len(placed) - 2, -1, -1):
            placed[k] = min(placed[k], placed[k + 1] - gap)
    out = []
    for k, i in enumerate(order):
        dy = (placed[k] - pts[i, 1]) * 72.0 / fig.dpi
        out.append(ax.annotate(texts[i], (xs[i], ys[i]), xytext=(dx_points, dy), textcoords="offset points",
                               fontsize=fontsize, va="center", ha="left",
                               arrowprops={"arrowstyle": "-", "color": "0.6", "lw": 0.5}))
    return out


# ----------------------------------------------------------- exemptions, targets
def exemption_windows(source: Any) -> list[tuple[pd.Timestamp, pd.Timestamp, str]]:
    """``(start, end, reason)`` of exemption windows from a framework, its ``exemptions`` list,
    an ``exemptions`` table (columns ``start, end, reason``) or ``(start, end, reason)`` tuples."""
    if source is None:
        return []
    if hasattr(source, "exemptions") and not isinstance(source, pd.DataFrame):
        source = source.exemptions
    if isinstance(source, pd.DataFrame):
        if source.empty or not {"start", "end"} <= set(source.columns):
            return []
        reasons = source["reason"] if "reason" in source.columns else pd.Series("", index=source.index)
        rows = zip(source["start"], source["end"], reasons, strict=True)
    else:
        rows = ((getattr(e, "start", None), getattr(e, "end", None), getattr(e, "reason", ""))
                if not isinstance(e, tuple | list) else (tuple(e) + ("",))[:3] for e in source)
    out = []
    for start, end, reason in rows:
        s, e = pd.Timestamp(start), pd.Timestamp(end)
        if pd.isna(s) or pd.isna(e):
            continue
        s = s.tz_convert(None) if s.tzinfo is not None else s
        e = e.tz_convert(None) if e.tzinfo is not None else e
        out.append((s, e, "" if reason is None or (isinstance(reason, float) and np.isnan(reason)) else str(reason)))
    return out


def shade_exemptions(ax: plt.Axes, exemptions: Any, *, clip: tuple[Any, Any] | None = None) -> list[Any]:
    """Shade exemption windows on a time axis (``axvspan``, ``gid="exemption"``), one legend entry.

    ``clip`` (start, end) drops windows outside the plotted range so that the axis
    is not stretched to show them.
    """
    spans = []
    lo = hi = None
    if clip is not None:
        lo, hi = (pd.Timestamp(c) for c in clip)
        lo = lo.tz_convert(None) if lo.tzinfo is not None else lo
        hi = hi.tz_convert(None) if hi.tzinfo is not None else hi
    for start, end, reason in exemption_windows(exemptions):
        if lo is not None and (end < lo or start > hi):
            continue
        label = "exemption window" if not spans else "_nolegend_"
        span = ax.axvspan(start.to_pydatetime(), max(end, start + pd.Timedelta(hours=12)).to_pydatetime(),
                          color=_EXEMPTION_COLOUR, alpha=0.35, lw=0, zorder=0, label=label)
        span.set_gid("exemption")
        if reason:
            span.set_label(label if label.startswith("_") else f"exemption window ({reason})")
        spans.append(span)
    return spans


def draw_target(ax: plt.Axes, target: float | None, unit: str = "", *, orientation: str = "h",
                label: str | None = None) -> Any:
    """A dashed target line (``gid="target"``) labelled with the target in its unit, or ``None`` without target."""
    if target is None or (isinstance(target, float) and np.isnan(target)):
        return None
    text = label or f"target {format_value(target, unit)}"
    line = (ax.axhline if orientation == "h" else ax.axvline)(target, ls="--", color=_TARGET_COLOUR, lw=1.2,
                                                              label=text, zorder=2)
    line.set_gid("target")
    return line


def _as_datetime(values: Iterable[Any]) -> list[datetime]:
    return [pd.Timestamp(v).tz_localize(None).to_pydatetime() if pd.Timestamp(v).tzinfo is not None
            else pd.Timestamp(v).to_pydatetime() for v in values]
