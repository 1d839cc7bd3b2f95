"""Indicator health review: which indicators earn their place in the scorecard.

Start with :func:`health_review`, which returns a :class:`HealthReview`
(``.summary()``, ``.narrative()``, ``.decisions`` and the other tidy tables,
plotting methods). It runs :func:`build_matrix` (the indicator matrix shared
with the weights, :class:`MatrixOptions`), :func:`review_relevance`
(:class:`RelevanceOptions`) and :func:`audit_checks` (:class:`AuditOptions`).
The building blocks live in ``matrix``, ``quality``, ``relevance``,
``redundancy``, ``coherence`` and ``stability``.
"""

from kpilab.health.coherence import cronbach_alpha, remove_one_impact
from kpilab.health.matrix import MIN_UNITS, IndicatorMatrix, MatrixOptions, build_matrix
from kpilab.health.quality import indicator_quality, kurtosis, log_ct, skewness, treat_outliers, winsorise
from kpilab.health.redundancy import conflicting_pairs, redundancy_clusters, redundant_pairs, vif_table
from kpilab.health.relevance import bootstrap_correlations, fisher_ci, outcome_correlations
from kpilab.health.review import (
    DECISION_COLUMNS,
    AuditOptions,
    HealthReview,
    IndicatorPruner,
    RelevanceOptions,
    RelevanceResult,
    audit_checks,
    decide,
    health_review,
    review_relevance,
)

__all__ = [
    "health_review",
    "build_matrix",
    "IndicatorMatrix",
    "MatrixOptions",
    "RelevanceOptions",
    "AuditOptions",
    "RelevanceResult",
    "review_relevance",
    "audit_checks",
    "MIN_UNITS",
    "HealthReview",
    "IndicatorPruner",
    "decide",
    "DECISION_COLUMNS",
    "outcome_correlations",
    "bootstrap_correlations",
    "fisher_ci",
    "indicator_quality",
    "skewness",
    "kurtosis",
    "winsorise",
    "log_ct",
    "treat_outliers",
    "redundant_pairs",
    "redundancy_clusters",
    "vif_table",
    "conflicting_pairs",
    "cronbach_alpha",
    "remove_one_impact",
]
