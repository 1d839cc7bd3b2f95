"""Scoring and grading: normalise, aggregate, role scorecards, grades and tiers with their uncertainty.

Quick start::

    from kpilab.scoring import score
    res = score("outputs/<run>/panel.parquet", roles="data/demo/agents.parquet")
    print(res.summary()); res.scores.head(); res.agent_scorecard("A0001")

Modules: :mod:`~kpilab.scoring.normalise` (eight direction-aware methods),
:mod:`~kpilab.scoring.aggregate` (hierarchical weighted means and Copeland),
:mod:`~kpilab.scoring.grades` (grade bands, tiers with the consecutive-period
rule), :mod:`~kpilab.scoring.uncertainty` (draws from each cell's sampling
distribution), :mod:`~kpilab.scoring.plots`.
"""

from kpilab.scoring.aggregate import (
    AGGREGATORS,
    Aggregation,
    aggregate,
    copeland,
    weighted_arithmetic,
    weighted_geometric,
    weighted_harmonic,
    weighted_median,
)
from kpilab.scoring.core import ScoringWarning, read_weights, role_weight_table, score
from kpilab.scoring.grades import assign_tiers, exempt_periods, grade_scores, period_bounds
from kpilab.scoring.normalise import (
    METHODS,
    NormSpec,
    band_score,
    goalposts,
    minmax,
    normalise,
    percentile,
    rank,
    resolve_specs,
    target_score,
    threshold,
    zscore,
)
from kpilab.scoring.result import SCORECARD_COLUMNS, ScoreResult
from kpilab.scoring.uncertainty import cell_distributions, draw_scores

__all__ = [
    "AGGREGATORS",
    "METHODS",
    "SCORECARD_COLUMNS",
    "Aggregation",
    "NormSpec",
    "ScoreResult",
    "ScoringWarning",
    "aggregate",
    "assign_tiers",
    "band_score",
    "cell_distributions",
    "copeland",
    "draw_scores",
    "exempt_periods",
    "goalposts",
    "grade_scores",
    "minmax",
    "normalise",
    "percentile",
    "period_bounds",
    "rank",
    "read_weights",
    "resolve_specs",
    "role_weight_table",
    "score",
    "target_score",
    "threshold",
    "weighted_arithmetic",
    "weighted_geometric",
    "weighted_harmonic",
    "weighted_median",
    "zscore",
]
