"""Health figures on the matplotlib objects: distinct decision styles, names not codes, legends clear of the data,
at most eight coloured lines."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402

from kpilab.framework import default_framework  # noqa: E402
from kpilab.health import health_review  # noqa: E402
from kpilab.health.plots import DECISION_COLOURS, DECISION_MARKERS  # noqa: E402
from kpilab.plots import MUTED  # noqa: E402


@pytest.fixture(scope="module")
def review():
    rng = np.random.default_rng(3)
    n, months = 80, 4
    skill = rng.normal(size=n)
    rows = []
    codes = ["csat", "fcr", "nps", "ces", "fcr_survey", "fcr_agent", "reopen_rate", "aht", "hold_rate", "qa_score"]
    for u in range(n):
        for m in range(months):
            r = {"unit_id": f"a{u:02d}", "period": f"2025-{m + 1:02d}-01"}
            for k, c in enumerate(codes):
                sign = -1 if c in ("reopen_rate", "aht") else 1
                r[c] = sign * skill[u] * (1 - k / 12) + rng.normal(0, 0.6 + k / 5)
            r["hold_rate"] = rng.normal()
            r["retention_rate"] = skill[u] + rng.normal(0, 0.5)
            rows.append(r)
    return health_review(pd.DataFrame(rows), "retention_rate", framework=default_framework())


def test_decisions_have_distinct_colours_and_markers():
    assert len({to_hex(c) for c in DECISION_COLOURS.values()}) == 3
    assert len(set(DECISION_MARKERS.values())) == 3


def test_relevance_plot_names_styles_and_legend(review):
    ax = review.plot_relevance()
    fig = ax.figure
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert "First contact resolution" in labels and "fcr" not in labels  # names, not codes
    # each decision present is drawn in its own colour and marker
    seen = {}
    for line in ax.get_lines():
        if line.get_marker() in DECISION_MARKERS.values():
            seen[line.get_marker()] = to_hex(line.get_color())
    for dec in set(review.decisions["decision"]):
        assert seen[DECISION_MARKERS[dec]] == to_hex(DECISION_COLOURS[dec])
    # the legend sits right of the axes: it cannot cover a point
    leg = ax.get_legend().get_window_extent()
    assert leg.x0 >= ax.get_window_extent().x1
    plt.close(fig)


def test_stability_colours_at_most_eight_lines(review):
    ax = review.plot_stability()
    coloured = [ln for ln in ax.get_lines() if len(ln.get_xdata()) > 1 and to_hex(ln.get_color()) != MUTED
                and ln.get_linestyle() == "-" and ln.get_gid() != "muted"]
    assert 0 < len(coloured) <= 8
    assert ax.get_xticklabels()[0].get_text() == "Jan 2025"
    plt.close(ax.figure)


def test_heatmap_colour_bar_clear_of_the_dendrograms(review):
    fig = review.plot_heatmap()
    fig.canvas.draw()
    axes = fig.get_axes()
    cbar = min(axes, key=lambda a: a.get_position().width * a.get_position().height)
    others = [a for a in axes if a is not cbar]
    cb = cbar.get_position()
    for a in others:
        p = a.get_position()
        overlap = not (cb.x1 <= p.x0 or p.x1 <= cb.x0 or cb.y1 <= p.y0 or p.y1 <= cb.y0)
        assert not overlap
    plt.close(fig)
