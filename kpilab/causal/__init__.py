"""Causal evaluation: the effect of training on an indicator, by difference in differences.

Staggered training (cohorts trained at different times, some agents never) is estimated with
estimators built for it (Callaway and Sant'Anna 2021; Borusyak, Jaravel and Spiess 2024), with the
naive two-way fixed-effects estimate shown beside them, an event study with a joint pre-trend test,
and the three evaluation stages of the articles (course rating, change two weeks after, the quarter).

>>> from kpilab.causal import training_effect  # doctest: +SKIP
>>> res = training_effect(panel, "training.csv", "qa_score")  # doctest: +SKIP
>>> print(res.summary())  # doctest: +SKIP
"""

from kpilab.causal.api import rating_summary, training_effect
from kpilab.causal.data import DidPanel, did_panel, find_training, read_training
from kpilab.causal.did import aggregate, event_study, group_time_att, pretrend_test, twfe
from kpilab.causal.imputation import imputation_att
from kpilab.causal.result import TrainingEffectResult

__all__ = [
    "training_effect",
    "rating_summary",
    "TrainingEffectResult",
    "DidPanel",
    "did_panel",
    "read_training",
    "find_training",
    "group_time_att",
    "aggregate",
    "event_study",
    "pretrend_test",
    "twfe",
    "imputation_att",
]
