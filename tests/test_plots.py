"""Figures people can read: assertions on the matplotlib objects, never on pixels.

Every figure of the review notebooks (panel, weights, scores, robustness,
operations) is checked for: indicator names instead of codes, no exponent or
offset tick labels, at most ``MAX_COLOURED_LINES`` coloured lines, heat-map
colour limits equal to the range of the data, exemption spans and target lines
where they exist, and point labels whose boxes do not overlap.
"""

from __future__ import annotations

import re
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import QuadMesh  # noqa: E402
from matplotlib.text import Annotation  # noqa: E402

from kpilab.framework import load_framework  # noqa: E402
from kpilab.indicators.catalogue import CATALOGUE  # noqa: E402
from kpilab.plots import MAX_COLOURED_LINES, MUTED, humanise, line_styles, place_labels  # noqa: E402

CODE_RE = re.compile(r"(?<![A-Za-z0-9_])(" + "|".join(sorted(map(re.escape, CATALOGUE), key=len, reverse=True))
                     + r")(?![A-Za-z0-9_])")
EXPONENT_RE = re.compile(r"\d(\.\d+)?[eE][+-]?\d|×10|\$\\times")


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def sim():
    from kpilab.simulate import simulate

    return simulate(agents=20, months=4, seed=1)


@pytest.fixture(scope="module")
def framework():
    return load_framework(None)


@pytest.fixture(scope="module")
def panel(sim):
    from kpilab.indicators import compute_panel

    return compute_panel(sim.tables, period="month", unit=["agent", "team", "centre"]).panel


@pytest.fixture(scope="module")
def scores(panel, framework, sim):
    from kpilab.scoring import score

    agent_panel = panel[panel["unit_level"] == "agent"]
    return score(agent_panel, framework, roles=sim.tables["agents"], draws=50, seed=0)


def all_texts(fig) -> list[str]:
    """Every piece of text a reader sees: titles, axis labels, tick labels, legends, annotations, colour bars."""
    fig.canvas.draw()
    out = [t.get_text() for t in fig.texts]
    for ax in fig.axes:
        out += [ax.get_title(), ax.get_xlabel(), ax.get_ylabel()]
        out += [t.get_text() for t in ax.get_xticklabels() + ax.get_yticklabels()]
        out += [ax.xaxis.get_offset_text().get_text(), ax.yaxis.get_offset_text().get_text()]
        out += [t.get_text() for t in ax.texts]
        leg = ax.get_legend()
        if leg is not None:
            out += [t.get_text() for t in leg.get_texts()] + [leg.get_title().get_text()]
    return [t for t in out if t]


def assert_readable(fig) -> None:
    texts = all_texts(fig)
    codes = sorted({m.group(1) for t in texts for m in CODE_RE.finditer(t)})
    assert not codes, f"raw indicator codes in figure text: {codes} in {texts}"
    exps = [t for t in texts if EXPONENT_RE.search(t)]
    assert not exps, f"exponent notation in figure text: {exps}"
    for ax in fig.axes:
        assert ax.xaxis.get_offset_text().get_text() == "" and ax.yaxis.get_offset_text().get_text() == ""
        for labels in (ax.get_xticklabels(), ax.get_yticklabels()):  # tick labels never run into each other
            shown = [t for t in labels if t.get_text() and t.get_visible()]
            boxes = [t.get_window_extent() for t in shown]
            for i in range(len(boxes)):
                for j in range(i + 1, len(boxes)):
                    assert not boxes[i].overlaps(boxes[j]), f"tick labels overlap: {shown[i].get_text()!r}, " \
                                                            f"{shown[j].get_text()!r}"


def coloured_lines(ax) -> list:
    """Data lines drawn in a colour (not the grey of muted lines, not target/limit lines)."""
    return [ln for ln in ax.get_lines() if ln.get_gid() not in ("muted", "target")
            and matplotlib.colors.to_hex(ln.get_color()) != MUTED and len(ln.get_xdata()) > 1]


def gids(ax, gid: str) -> list:
    return [a for a in ax.get_children() if getattr(a, "get_gid", lambda: None)() == gid]


def assert_no_overlap(annotations) -> None:
    # the text's own box (Annotation.get_window_extent would add the leader line)
    boxes = [matplotlib.text.Text.get_window_extent(a) for a in annotations]
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            assert not boxes[i].overlaps(boxes[j]), (annotations[i].get_text(), annotations[j].get_text())


# ------------------------------------------------------------------ helpers
def test_humanise_replaces_whole_codes_only():
    assert humanise("csat_top2 and csat") == "CSAT (% satisfied, top-2 box) and CSAT (mean score, 1-5)"
    assert humanise("weight:aht") == "weight: Average handle time"
    assert humanise("fcr - centre (p chart)") == "First contact resolution - centre (p chart)"
    assert humanise("retention rate of 2025") == "retention rate of 2025"  # words, not codes, untouched


def test_line_styles_colour_at_most_eight():
    names = [f"A{k:03d}" for k in range(30)]
    styles = line_styles(names)
    assert sum(s["color"] != MUTED for s in styles.values()) == MAX_COLOURED_LINES == 8
    styles = line_styles(names, highlight=["A010", "A020"])
    coloured = [n for n, s in styles.items() if s["color"] != MUTED]
    assert coloured == ["A010", "A020"]
    assert all(styles[n]["label"] == "_nolegend_" for n in names if n not in coloured)


def test_place_labels_never_overlap():
    fig, ax = plt.subplots(figsize=(5, 4))
    xs, ys = np.full(7, 0.5), np.linspace(0.49, 0.51, 7)  # seven points almost on top of each other
    ax.scatter(xs, ys)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ann = place_labels(ax, xs, ys, [f"label number {k}" for k in range(7)])
    fig.canvas.draw()
    assert len(ann) == 7
    assert_no_overlap(ann)


# ------------------------------------------------------------------ panel (notebook 01)
def test_trend_many_units_highlights_and_marks_exemptions(panel, framework, sim):
    from kpilab.indicators.plots import plot_trend

    agents = sorted(panel.loc[panel["unit_level"] == "agent", "unit_id"].unique())
    assert len(agents) == 20
    fig = plot_trend(panel, "time_to_resolution", unit_id=agents, framework=framework, highlight=agents[:3],
                     exemptions=sim.tables["exemptions"])
    ax = fig.axes[0]
    assert len(coloured_lines(ax)) == 3
    assert len([ln for ln in ax.get_lines() if ln.get_gid() == "muted"]) == 17
    spans = gids(ax, "exemption")
    assert len(spans) == len(sim.tables["exemptions"]) >= 1
    target = gids(ax, "target")
    assert len(target) == 1 and target[0].get_ydata()[0] == framework.indicator("time_to_resolution").target
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "target 24 h" in legend
    assert any(t.startswith("exemption window") for t in legend)
    assert_readable(fig)
    assert all(t.get_text().endswith(" h") for t in ax.get_yticklabels() if t.get_text())


def test_trend_default_highlight_is_capped(panel, framework):
    from kpilab.indicators.plots import plot_trend

    agents = sorted(panel.loc[panel["unit_level"] == "agent", "unit_id"].unique())
    fig = plot_trend(panel, "aht", unit_id=agents, framework=framework)
    assert len(coloured_lines(fig.axes[0])) <= MAX_COLOURED_LINES
    ticks = [t.get_text() for t in fig.axes[0].get_yticklabels() if t.get_text()]
    assert ticks and all(t.endswith(" min") for t in ticks)
    # whole-minute steps, not 8.3 min from a 500-second step
    assert all(float(t.split()[0]).is_integer() or float(t.split()[0]) * 2 % 1 == 0 for t in ticks)


def test_trend_single_unit_shades_exempted_periods_from_the_panel(panel, framework):
    from kpilab.indicators.plots import plot_trend

    centre = panel[(panel["unit_level"] == "centre") & (panel["indicator"] == "csat_top2")]
    assert (centre["exempted_share"] > 0).any()  # the simulated recall window
    fig = plot_trend(panel, "csat_top2", unit_id=str(centre["unit_id"].iloc[0]), framework=framework)
    ax = fig.axes[0]
    assert len(gids(ax, "exemption")) == int((centre["exempted_share"] > 0).sum())
    assert len(gids(ax, "target")) == 1
    assert all(t.get_text().endswith("%") for t in ax.get_yticklabels() if t.get_text())
    assert [t.get_text() for t in ax.get_xticklabels()][0] == "Jan 2025"
    assert_readable(fig)


def test_trend_keeps_the_old_call(panel):
    from kpilab.indicators.plots import plot_trend

    centre = str(panel.loc[panel["unit_level"] == "centre", "unit_id"].iloc[0])
    fig = plot_trend(panel, "csat", unit_id=centre, target=4.5, title="CSAT (mean 1-5), whole centre")
    ax = fig.axes[0]
    assert ax.get_title() == "CSAT (mean 1-5), whole centre"
    assert len(gids(ax, "target")) == 1


def test_agent_intervals_draws_target_and_percent_ticks(panel, framework):
    from kpilab.indicators.plots import plot_agent_intervals

    fig = plot_agent_intervals(panel, "csat_top2", framework=framework)
    ax = fig.axes[0]
    assert len(gids(ax, "target")) == 1
    assert all("%" in t.get_text() for t in ax.get_xticklabels() if t.get_text())
    assert ax.get_title().endswith("Apr 2025")
    assert_readable(fig)


def test_wait_heatmap_scale_is_the_data_range(sim):
    from kpilab.indicators import wait_profile
    from kpilab.indicators.plots import plot_wait_heatmap

    prof = wait_profile(sim.tables, channels=["phone", "chat"])
    fig = plot_wait_heatmap(prof, min_n=5)
    mesh = next(c for c in fig.axes[0].collections if isinstance(c, QuadMesh))
    data = np.ma.compressed(mesh.get_array())
    assert mesh.norm.vmin == pytest.approx(data.min()) and mesh.norm.vmax == pytest.approx(data.max())
    assert_readable(fig)


# ------------------------------------------------------------------ weights (notebook 03)
@pytest.fixture(scope="module")
def comparison():
    from kpilab.weights import compare_weight_sets, critic_weights, entropy_weights, equal_weights

    rng = np.random.default_rng(3)
    base = rng.normal(size=(60, 1))
    X = pd.DataFrame(base + 0.35 * rng.normal(size=(60, 5)), columns=["csat", "fcr", "aht", "nps", "qa_score"])
    X = X - X.min() + 0.1
    sets = {"equal": equal_weights(X), "entropy": entropy_weights(X), "critic": critic_weights(X)}
    return compare_weight_sets(X, sets, top_n=10)


def test_agreement_colour_scale_is_the_observed_range(comparison):
    from kpilab.weights.plots import plot_agreement

    fig = plot_agreement(comparison)
    ax = fig.axes[0]
    mesh = next(c for c in ax.collections if isinstance(c, QuadMesh))
    vals = comparison.agreement["spearman"].to_numpy()
    assert vals.min() > 0.8  # the case of the issue: everything agrees closely
    assert mesh.norm.vmin == pytest.approx(vals.min()) and mesh.norm.vmax == pytest.approx(vals.max())
    cells = [t.get_text() for t in ax.texts]
    assert len(cells) == len(vals) * 2  # off-diagonal cells annotated, the diagonal left blank
    if vals.max() - vals.min() < 0.05:  # more decimals than the default 2 when the values are close
        assert all(len(c.split(".")[1]) >= 3 for c in cells)
    assert len(fig.axes) == 2  # a colour bar says what the colours mean
    assert_readable(fig)


def test_weight_figures_name_indicators(comparison):
    from kpilab.weights.plots import plot_influence, plot_rank_shifts, plot_weights

    fig = plot_weights(comparison)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert "Average handle time" in labels and "CRITIC" in [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert_readable(fig)
    fig = plot_influence(comparison, label_top=6)
    ann = [t for t in fig.axes[0].texts if isinstance(t, Annotation)]
    fig.canvas.draw()
    assert ann and all(not CODE_RE.search(a.get_text()) for a in ann)
    assert_no_overlap(ann)
    assert_readable(fig)
    assert_readable(plot_rank_shifts(comparison, n=5))


# ------------------------------------------------------------------ scores (notebook 04)
def test_scorecard_labels_in_units(scores, framework):
    from kpilab.scoring.plots import plot_scorecard

    latest = sorted(scores.scores["period"].unique())[-1]
    cur = scores.scores[scores.scores["period"] == latest].dropna(subset=["index"])
    unit = cur.sort_values("index")["unit_id"].iloc[0]
    fig = plot_scorecard(scores, unit, latest)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    ttr = [lab for lab in labels if lab.startswith("Time to resolution")]
    assert ttr and re.search(r"\(\d[\d.,]* h vs 24 h\)$", ttr[0]), ttr
    aht = [lab for lab in labels if lab.startswith("Average handle time")]
    assert aht and re.search(r"min vs 5\.0 min\)$", aht[0]), aht
    assert "Apr 2025" in fig.axes[0].get_title()
    assert_readable(fig)


def test_score_figures_readable(scores):
    from kpilab.scoring.plots import plot_grade_mix, plot_score_distribution, plot_tier_transitions

    for fig in (plot_score_distribution(scores), plot_grade_mix(scores), plot_tier_transitions(scores)):
        assert_readable(fig)
    fig = plot_score_distribution(scores)
    fig.canvas.draw()
    ticks = fig.axes[0].get_yticks()
    assert all(float(t).is_integer() for t in ticks), ticks  # counts of agents
    fig = plot_grade_mix(scores)
    assert all(t.get_text().endswith("%") for t in fig.axes[0].get_xticklabels() if t.get_text())
    latest = scores.grades_by_team[scores.grades_by_team["period"] == scores.grades_by_team["period"].max()]
    shown = sum(int(t.get_text()) for t in fig.axes[0].texts)
    # segment labels count agents; segments too narrow for a label are the only ones left out
    small = latest.loc[latest["share"] < 0.06, "agents"].sum()
    assert shown == latest["agents"].sum() - small


# ------------------------------------------------------------------ robustness (notebook 05)
def test_sensitivity_inputs_named():
    from kpilab.robustness.plots import plot_sensitivity

    sens = pd.DataFrame({"output": "mean_abs_shift", "input": ["weight:aht", "weight:csat_top2", "normalisation"],
                         "group": ["weights", "weights", "normalisation"], "S1": [0.1, 0.2, 0.3],
                         "S1_conf": 0.01, "ST": [0.2, 0.3, 0.4], "ST_conf": 0.02, "n_base": 1024,
                         "n_runs": 12288, "flag": ""})
    fig = plot_sensitivity(SimpleNamespace(sensitivity=sens))
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == ["weight: Average handle time", "weight: CSAT (% satisfied, top-2 box)", "normalisation"]
    assert "12,288 runs" in fig.axes[0].get_xlabel() and "the mean absolute rank shift" in fig.axes[0].get_xlabel()
    assert_readable(fig)


def test_rank_and_grade_probability_figures(scores):
    from kpilab.robustness.plots import plot_grade_probabilities, plot_rank_uncertainty

    latest = sorted(scores.scores["period"].unique())[-1]
    s = scores.scores[scores.scores["period"] == latest].dropna(subset=["index"])
    ranks = pd.DataFrame({"unit_id": s["unit_id"], "period": latest, "nominal_rank": s["index"].rank(ascending=False),
                          "nominal_score": s["index"]})
    ranks["median_rank"] = ranks["nominal_rank"]
    ranks["rank_p05"] = (ranks["nominal_rank"] - 2).clip(lower=1)
    ranks["rank_p95"] = ranks["nominal_rank"] + 2
    grades = s[["unit_id", "period"] + [f"p_{g}" for g in scores.grade_labels]].assign(n_draws=50)
    res = SimpleNamespace(ranks=ranks, grades=grades, grade_labels=scores.grade_labels, params={"draws": 10000})
    fig = plot_rank_uncertainty(res)
    assert "10,000 draws" in fig.axes[0].get_title() and "Apr 2025" in fig.axes[0].get_title()
    assert_readable(fig)
    assert_readable(plot_grade_probabilities(res))


# ------------------------------------------------------------------ operations (notebook 06)
def test_control_chart_names_and_exemptions(sim):
    from kpilab.operations.plots import plot_control_chart

    periods = pd.date_range("2025-01-01", periods=12, freq="MS")
    rng = np.random.default_rng(0)
    chart = pd.DataFrame({"period": periods, "value": 0.8 + 0.02 * rng.normal(size=12), "center": 0.8,
                          "ucl": 0.86, "lcl": 0.74, "signal": [False] * 11 + [True],
                          "rule": [""] * 11 + ["run_8"], "indicator": "service_level", "chart": "p"})
    fig = plot_control_chart(chart, "service_level - centre (p chart)", exemptions=sim.tables["exemptions"])
    ax = fig.axes[0]
    assert ax.get_title() == "Service level (answered within T) - centre (p chart)"
    assert len(gids(ax, "exemption")) == 1
    assert "8 in a row on one side" in [t.get_text() for t in ax.get_legend().get_texts()]
    assert all(t.get_text().endswith("%") for t in ax.get_yticklabels() if t.get_text())
    assert_readable(fig)


def test_operations_heatmap_scale_and_triangulation_labels():
    from kpilab.operations.plots import plot_heatmap, plot_triangulation

    grid = pd.DataFrame([(d, h, 0.05 + 0.001 * d + 0.0005 * h) for d in range(7) for h in range(8, 20)],
                        columns=["weekday", "hour", "abandon_rate"])
    fig = plot_heatmap(grid, "abandon_rate", "abandon_rate by weekday and hour", fmt=".3f")
    mesh = next(c for c in fig.axes[0].collections if isinstance(c, QuadMesh))
    assert mesh.norm.vmin == pytest.approx(grid["abandon_rate"].min())
    assert mesh.norm.vmax == pytest.approx(grid["abandon_rate"].max())
    assert fig.axes[0].get_title() == "Abandonment rate by weekday and hour"
    agents = pd.DataFrame({"unit_id": [f"A{k:04d}" for k in range(12)],
                           "rate_customer": [0.70 + 0.002 * k for k in range(12)],
                           "rate_agent_flag": [0.90 + 0.001 * k for k in range(12)],
                           "flagged": [True] * 8 + [False] * 4})
    fig = plot_triangulation(agents)
    ann = [t for t in fig.axes[0].texts if isinstance(t, Annotation)]
    fig.canvas.draw()
    assert len(ann) == 8
    assert_no_overlap(ann)
    assert_readable(fig)


def test_agreement_without_values_says_why():
    from kpilab.weights.plots import plot_agreement

    cmp = SimpleNamespace(scores=pd.DataFrame(columns=["equal", "front_line"]), top_n=10,
                          agreement=pd.DataFrame({"set_a": ["equal"], "set_b": ["front_line"], "spearman": [np.nan],
                                                  "flag": ["too_few_units;top_overlap_not_meaningful"]}))
    fig = plot_agreement(cmp)
    text = " ".join(t.get_text() for t in fig.axes[0].texts)
    assert "No ranking agreement could be computed (too few units" in text
    assert not [c for c in fig.axes[0].collections if isinstance(c, QuadMesh)]


def test_triangulation_without_both_sources_says_so():
    from kpilab.operations.plots import plot_triangulation

    agents = pd.DataFrame({"unit_id": ["Jim", "Becky"], "rate_customer": [np.nan, np.nan],
                           "rate_agent_flag": [0.7, 0.8], "flagged": [False, False]})
    fig = plot_triangulation(agents)  # the PwC log: no customer-reported resolution
    assert "No agent has both" in fig.axes[0].texts[0].get_text()


def test_many_units_keep_labels_apart():
    """60 agents (the demo centre): unit labels on rank, grade-probability and interval figures do not collide."""
    from kpilab.indicators.plots import plot_agent_intervals
    from kpilab.robustness.plots import plot_grade_probabilities, plot_rank_uncertainty

    rng = np.random.default_rng(1)
    units = [f"A{k:04d}" for k in range(60)]
    score = np.sort(rng.uniform(40, 95, 60))[::-1]
    ranks = pd.DataFrame({"unit_id": units, "period": "2025-12-01", "nominal_rank": np.arange(1, 61),
                          "nominal_score": score, "median_rank": np.arange(1, 61)})
    ranks["rank_p05"] = (ranks["nominal_rank"] - 5).clip(lower=1)
    ranks["rank_p95"] = (ranks["nominal_rank"] + 5).clip(upper=60)
    p = rng.dirichlet(np.ones(5), size=60)
    grades = pd.DataFrame(p, columns=[f"p_{g}" for g in "ABCDE"]).assign(unit_id=units, period="2025-12-01",
                                                                         n_draws=1000)
    res = SimpleNamespace(ranks=ranks, grades=grades, grade_labels=tuple("ABCDE"), params={"draws": 1000})
    assert_readable(plot_rank_uncertainty(res, max_units=40))
    assert_readable(plot_grade_probabilities(res))
    value = rng.uniform(0.6, 0.95, 60)
    panel = pd.DataFrame({"unit_id": units, "unit_level": "agent", "period": "2025-12-01", "indicator": "fcr",
                          "value": value, "ci_low": value - 0.05, "ci_high": value + 0.05, "n": 80, "flag": ""})
    assert_readable(plot_agent_intervals(panel, "fcr"))


def test_ranking_draws_the_framework_target(framework):
    from kpilab.operations.plots import plot_ranking

    rows = pd.DataFrame({"unit_id": [f"A{k:04d}" for k in range(10)], "indicator": "fcr",
                         "value": np.linspace(0.6, 0.9, 10)}).assign(ci_low=lambda d: d["value"] - 0.04,
                                                                      ci_high=lambda d: d["value"] + 0.04)
    fig = plot_ranking(rows, "fcr by agent, Dec 2025", framework=framework)
    ax = fig.axes[0]
    target = gids(ax, "target")
    assert len(target) == 1 and target[0].get_xdata()[0] == framework.indicator("fcr").target
    assert ax.get_xlabel().startswith(framework.indicator("fcr").name + " by agent")
    assert_readable(fig)
    assert not gids(plot_ranking(rows, "fcr by agent").axes[0], "target")  # no framework, no target given


def test_many_agents_get_a_caterpillar_plot_of_fixed_size():
    """500 agents: one page-sized figure (a named row per agent would be 110 inches tall), units sorted by value."""
    from kpilab.indicators.plots import plot_agent_intervals

    rng = np.random.default_rng(2)
    n = 500
    value = rng.uniform(0.6, 0.95, n)
    panel = pd.DataFrame({"unit_id": [f"A{k:04d}" for k in range(n)], "unit_level": "agent", "period": "2025-12-01",
                          "indicator": "fcr", "value": value, "ci_low": value - 0.05, "ci_high": value + 0.05,
                          "n": 80, "flag": np.where(np.arange(n) % 7 == 0, "small_n", "")})
    fig = plot_agent_intervals(panel, "fcr", target=0.8)
    ax = fig.axes[0]
    assert fig.get_size_inches()[1] < 6
    assert ax.get_xlabel() == "500 agents, sorted from lowest to highest"
    assert len(gids(ax, "target")) == 1
    from matplotlib.collections import PathCollection

    points = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert sum(len(c.get_offsets()) for c in points) == n  # every agent drawn once, filled or hollow
    filled = next(c for c in points if len(c.get_offsets()) == n - (n + 6) // 7)
    assert np.all(np.diff(filled.get_offsets()[:, 0]) > 0)  # sorted along the axis
    assert_readable(fig)


def test_grade_mix_with_many_teams_shows_the_centre_and_the_worst_teams(scores):
    """500 teams (5,000 agents): a page-sized figure with the whole centre and the teams most graded E."""
    from dataclasses import replace as dc_replace

    from kpilab.scoring.plots import plot_grade_mix

    rng = np.random.default_rng(3)
    labels = list(scores.grade_labels)
    rows = []
    for k in range(500):
        n = rng.multinomial(10, [0.1, 0.2, 0.3, 0.25, 0.15])
        rows += [{"period": "2025-12-01", "team": f"T{k:03d}", "grade": g, "agents": int(c), "share": c / 10,
                  "expected_agents": np.nan, "small_n_e": 0} for g, c in zip(labels, n, strict=True)]
    table = pd.DataFrame(rows)
    fig = plot_grade_mix(dc_replace(scores, grades_by_team=table), max_teams=25)
    ax = fig.axes[0]
    names = [t.get_text() for t in ax.get_yticklabels()]
    assert len(names) == 26 and names[0] == "whole centre" and fig.get_size_inches()[1] < 14
    worst = (table[table["grade"] == labels[-1]].sort_values("agents", ascending=False)["agents"].iloc[24])
    shown = table[table["team"].isin(names[1:]) & (table["grade"] == labels[-1])]["agents"]
    assert shown.min() >= worst  # the teams shown are those with the most agents in the lowest grade
    assert "25 of 500 teams" in ax.get_title()
    assert_readable(fig)
