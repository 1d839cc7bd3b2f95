"""Weight calibration: every weighting method the composite-indicator field uses.

Methods (each documented with its formula and source in its module):

* subjective: equal, named sets of the framework (role templates), AHP
  (:mod:`~kpilab.weights.ahp`);
* objective: entropy, CRITIC, standard deviation, variance (:mod:`~kpilab.weights.objective`),
  PCA/factor analysis per the OECD/JRC Handbook (:mod:`~kpilab.weights.pca`);
* outcome-based: regression on an outcome (:mod:`~kpilab.weights.regression`);
* influence-based: optimised weights (:mod:`~kpilab.weights.optimised`);
* combinations: blends and constraints (:mod:`~kpilab.weights.blend`), hierarchies
  (:mod:`~kpilab.weights.hierarchy`);
* comparison of weight sets (:mod:`~kpilab.weights.compare`) and figures (:mod:`~kpilab.weights.plots`).

The data matrix is built and checked by :func:`kpilab.health.matrix.build_matrix`, shared with
the health review; data-driven sets need at least ``MIN_UNITS`` (10) units.

Quick start::

    from kpilab.weights import calibrate_weights
    res = calibrate_weights("panel.parquet", method="critic")
    print(res.summary()); res.to_frame()
"""

from kpilab.health.matrix import MIN_UNITS, IndicatorMatrix, MatrixOptions, build_matrix
from kpilab.weights._base import NotFittedError
from kpilab.weights._matrix import WeightWarning
from kpilab.weights.ahp import SAATY_RI, AHPWeights, ahp_weights, read_pairwise, validate_pairwise
from kpilab.weights.api import (
    METHODS,
    WeightingData,
    calibrate_many,
    calibrate_weights,
    framework_weight_set,
    weights_matrix,
)
from kpilab.weights.blend import Constraint, blend_weights, constrain_weights, parse_constraints
from kpilab.weights.compare import (
    WeightComparison,
    compare_weight_sets,
    composite_scores,
    describe_weights,
    unit_means,
)
from kpilab.weights.hierarchy import effective_weights, hierarchical_weights, split_by_pillar
from kpilab.weights.objective import (
    CRITICWeights,
    EntropyWeights,
    EqualWeights,
    StdWeights,
    VarianceWeights,
    critic_weights,
    entropy_weights,
    equal_weights,
    std_weights,
    variance_weights,
)
from kpilab.weights.optimised import OptimisedWeights
from kpilab.weights.pca import PCAWeights, pca_weights, varimax
from kpilab.weights.recommend import (
    Recommendation,
    read_recommendation,
    recommend_weights,
    restrict_weights,
    scorecard_indicators,
)
from kpilab.weights.regression import RegressionWeights, regression_weights
from kpilab.weights.result import WeightResult

__all__ = [
    "METHODS",
    "MIN_UNITS",
    "IndicatorMatrix",
    "MatrixOptions",
    "build_matrix",
    "SAATY_RI",
    "AHPWeights",
    "CRITICWeights",
    "Constraint",
    "EntropyWeights",
    "EqualWeights",
    "NotFittedError",
    "OptimisedWeights",
    "PCAWeights",
    "RegressionWeights",
    "StdWeights",
    "VarianceWeights",
    "WeightComparison",
    "WeightResult",
    "WeightWarning",
    "WeightingData",
    "ahp_weights",
    "blend_weights",
    "calibrate_many",
    "calibrate_weights",
    "compare_weight_sets",
    "composite_scores",
    "constrain_weights",
    "critic_weights",
    "describe_weights",
    "effective_weights",
    "entropy_weights",
    "equal_weights",
    "framework_weight_set",
    "hierarchical_weights",
    "parse_constraints",
    "pca_weights",
    "read_pairwise",
    "regression_weights",
    "split_by_pillar",
    "std_weights",
    "unit_means",
    "validate_pairwise",
    "variance_weights",
    "varimax",
    "weights_matrix",
    "Recommendation",
    "recommend_weights",
    "scorecard_indicators",
    "read_recommendation",
    "restrict_weights",
]
