"""Robustness of ranks and grades: Monte Carlo uncertainty analysis and Sobol' sensitivity analysis.

Quick start::

    from kpilab.robustness import robustness, Uncertainty
    res = robustness("outputs/<run>/panel.parquet", draws=10_000, sobol=1024)
    print(res.summary()); res.ranks.head(); res.sensitivity

Modules: :mod:`~kpilab.robustness.inputs` (the uncertain inputs and their map
from the unit hypercube), :mod:`~kpilab.robustness.model` (the vectorised
score-and-rank model, reusing :mod:`kpilab.scoring`),
:mod:`~kpilab.robustness.sensitivity` (Sobol' indices with SALib),
:mod:`~kpilab.robustness.result`, :mod:`~kpilab.robustness.plots`.
"""

from kpilab.robustness.core import robustness
from kpilab.robustness.inputs import DEFAULT_AGGREGATIONS, DEFAULT_NORMALISATIONS, WEIGHT_MODES, Uncertainty
from kpilab.robustness.result import GRADE_COLUMNS, RANK_COLUMNS, RobustnessResult
from kpilab.robustness.sensitivity import SENSITIVITY_COLUMNS, ishigami, sobol_indices

__all__ = [
    "DEFAULT_AGGREGATIONS",
    "DEFAULT_NORMALISATIONS",
    "GRADE_COLUMNS",
    "RANK_COLUMNS",
    "SENSITIVITY_COLUMNS",
    "WEIGHT_MODES",
    "RobustnessResult",
    "Uncertainty",
    "ishigami",
    "robustness",
    "sobol_indices",
]
