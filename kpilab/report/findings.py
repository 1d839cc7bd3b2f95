"""Facts the executive summary and the sections share, computed once from a run folder.

Each function returns plain numbers and DataFrames (not text), or None when the
step that produces the input did not run; the section builders and the summary
turn them into sentences and formatted tables.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from kpilab.report.collect import RunData, centre_actuals
from kpilab.report.traffic import traffic_light

__all__ = ["indicator_status", "HealthFacts", "health_facts", "ScoreFacts", "score_facts", "RobustnessFacts",
           "robustness_facts", "recommended_weights", "SETTLED_P"]

def _memo(fn):
    """Compute a fact once per run folder (the summary and several sections ask for the same facts)."""
    key = "fact:" + fn.__name__

    @functools.wraps(fn)
    def wrapper(data: RunData):
        if key not in data._cache:
            data._cache[key] = fn(data)
        return data._cache[key]

    return wrapper


#: A grade is settled when it holds with at least this probability (notebooks 04 and 05 use 0.8).
SETTLED_P = 0.8


def recommended_weights(data: RunData) -> pd.DataFrame | None:
    """``tables/recommended_weights.csv`` (indicator, pillar, weight, method), or None when not produced."""
    df = data.table("recommended_weights")
    if df is None or not {"indicator", "weight"} <= set(df.columns):
        return None
    return df


@_memo
def indicator_status(data: RunData) -> pd.DataFrame:
    """One row per scored indicator: target, centre value over the review period, status, decision, weight.

    Columns: ``code, pillar, unit, direction, target, band, actual, basis, status, decision, weight``.
    ``status`` is :func:`kpilab.report.traffic.traffic_light` of the actual against the framework target;
    ``decision`` is the health review's (None when it did not run); ``weight`` the recommended weight
    (0 for indicators the recommendation leaves out; NaN when there is no recommendation).
    """
    fw = data.framework
    cols = ["code", "pillar", "unit", "direction", "target", "band", "actual", "basis", "status", "decision",
            "weight", "level"]
    periods = data.review_periods()
    actuals = centre_actuals(data.centre_panel(), periods).set_index("indicator")
    decisions = data.table("decisions")
    dec = decisions.set_index("indicator")["decision"].to_dict() if decisions is not None else {}
    rw = recommended_weights(data)
    weights = rw.set_index("indicator")["weight"].to_dict() if rw is not None else None
    if fw is not None:
        specs = [(i.code, i.pillar, i.unit, i.direction, i.target, i.band, i.level) for i in fw.indicators
                 if not i.outcome]
    else:  # no framework: the decisions table still names indicators and pillars
        specs = [(r.indicator, getattr(r, "pillar", ""), "", getattr(r, "direction", "higher"), None, None, "agent")
                 for r in (decisions.itertuples() if decisions is not None else [])]
    present = set(actuals.index) | set(dec)
    rows = []
    for code, pillar, unit, direction, target, band, level in specs:
        if present and code not in present:
            continue  # not computable from this data (e.g. no tickets): not part of this review
        actual = actuals["value"].get(code, np.nan) if len(actuals) else np.nan
        basis = actuals["basis"].get(code, "no value") if len(actuals) else "no value"
        status = traffic_light(actual, target, direction, band=band)
        weight = np.nan if weights is None else float(weights.get(code, 0.0))
        rows.append((code, pillar, unit, direction, target, band, actual, basis, status, dec.get(code), weight,
                     level))
    return pd.DataFrame(rows, columns=cols)


@dataclass
class HealthFacts:
    """The health review's outcome: decisions, threshold, clusters of indicators that move together."""

    decisions: pd.DataFrame
    threshold: float
    outcome: str
    counts: dict[str, int]
    clusters: pd.DataFrame | None = None
    pairs: pd.DataFrame | None = None


@_memo
def health_facts(data: RunData) -> HealthFacts | None:
    """The decisions of notebook 02 with counts per decision, or None when it did not run."""
    decisions = data.table("decisions")
    if decisions is None or "decision" not in decisions:
        return None
    rec = data.recommendation or {}
    threshold = float(rec.get("threshold", data.param("threshold", 0.3)))
    counts = {d: int((decisions["decision"] == d).sum()) for d in ("keep", "review", "prune")}
    clusters = data.table("redundancy_clusters")
    if clusters is not None and not {"cluster", "indicator"} <= set(clusters.columns):
        clusters = None
    pairs = data.table("redundancy")
    return HealthFacts(decisions, threshold, data.outcome, counts, clusters, pairs)


@dataclass
class ScoreFacts:
    """Scores and grades of the latest review period."""

    period: str
    latest: pd.DataFrame
    grades: pd.Series
    unsettled: int
    n: int
    teams: int
    periods: list[str] = field(default_factory=list)


@_memo
def score_facts(data: RunData) -> ScoreFacts | None:
    """Grades of the latest scored period inside the review window, or None when notebook 04 did not run."""
    scores = data.table("scores")
    if scores is None or not {"unit_id", "period", "index"} <= set(scores.columns):
        return None
    scores = scores.assign(period=scores["period"].astype(str))
    window = set(data.review_periods())
    inside = scores[scores["period"].isin(window)] if window else scores
    if not len(inside):
        inside = scores
    scored = inside.dropna(subset=["index"])
    if not len(scored):
        return None
    period = str(scored["period"].max())
    latest = scored[scored["period"] == period].copy()
    grades = latest["grade"].value_counts().sort_index() if "grade" in latest else pd.Series(dtype=int)
    if "grade_settled" in latest:
        settled = latest["grade_settled"].astype(str).str.lower().isin(["true", "1", "1.0"])
        unsettled = int((~settled).sum())
    elif "p_grade" in latest:
        unsettled = int((latest["p_grade"] < SETTLED_P).sum())
    else:
        unsettled = 0
    teams = int(latest["team"].nunique()) if "team" in latest else 0
    return ScoreFacts(period, latest, grades, unsettled, len(latest), teams, sorted(inside["period"].unique()))


@dataclass
class RobustnessFacts:
    """Rank ranges, grade stability under design choices and the choice that matters most."""

    n: int
    median_width: float
    wide: int
    grade_stable: int | None
    top_inputs: pd.DataFrame | None
    period: str


@_memo
def robustness_facts(data: RunData) -> RobustnessFacts | None:
    """Headline numbers of notebook 05, or None when it did not run."""
    ri = data.table("rank_intervals")
    if ri is None or "rank_width" not in ri:
        return None
    n = int(len(ri))
    width = ri["rank_width"].astype(float)
    median_width = float(width.median()) if n else float("nan")
    # a rank range wider than a fifth of the field means the design choices, not the agent, set the order
    n_units = ri["n_units"].astype(float) if "n_units" in ri else pd.Series(n, index=ri.index)
    wide = int((width > 0.2 * n_units).sum())
    gp = data.table("grade_probabilities")
    grade_stable = None
    if gp is not None:
        pcols = [c for c in gp.columns if c.startswith("p_")]
        if pcols:
            grade_stable = int((gp[pcols].max(axis=1) >= SETTLED_P).sum())
    sens = data.table("sensitivity")
    top = None
    if sens is not None and {"input", "ST"} <= set(sens.columns):
        top = sens.sort_values("ST", ascending=False).head(5)
    period = str(ri["period"].iloc[0]) if "period" in ri and n else ""
    return RobustnessFacts(n, median_width, wide, grade_stable, top, period)


def describe_input(name: str, framework: Any = None) -> str:
    """A Sobol' input for people (``weight:aht`` -> "the weight of Average handle time")."""
    from kpilab.report.text import ind

    if name.startswith("weight:"):
        return f"the weight of {ind(name.split(':', 1)[1], framework)}"
    return {
        "normalisation": "how indicators become points (normalisation)",
        "aggregation": "how points are averaged (aggregation)",
        "exclusion": "which indicators count (exclusion)",
        "noise": "measurement noise in the agents' values",
    }.get(name, name.replace("_", " "))
