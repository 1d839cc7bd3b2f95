"""Operations analytics: Erlang staffing checks, alerts and control charts, QA sampling plans, triangulation.

The articles run the centre with threshold alerts, control charts, a daily stratified QA
sample and cross-checks of the phone system against customers and QA; service-level
targets only make sense if staffing can meet them. This package holds those tools;
``notebooks/06_operations.ipynb`` and the commands ``kpilab alerts``, ``kpilab qa-sample``
and ``kpilab staffing`` call them.
"""

from kpilab.operations._data import SourceTables, open_tables
from kpilab.operations.alerts import control_charts, seasonal_adjust, threshold_alerts
from kpilab.operations.erlang import (
    QueueResult,
    UnstableQueueError,
    agents_needed,
    erlang_a,
    erlang_b,
    erlang_c,
)
from kpilab.operations.qa_sampling import QASample, ht_estimate, qa_sample
from kpilab.operations.spc import imr_chart, p_chart, run_rules, xbar_chart
from kpilab.operations.staffing import staffing_from_contacts, staffing_from_panel, weekday_hour_profile
from kpilab.operations.triangulation import TriangulationResult, kappa_table, resolution_sources, triangulate

__all__ = [
    "QASample",
    "QueueResult",
    "SourceTables",
    "TriangulationResult",
    "UnstableQueueError",
    "agents_needed",
    "control_charts",
    "erlang_a",
    "erlang_b",
    "erlang_c",
    "ht_estimate",
    "imr_chart",
    "kappa_table",
    "open_tables",
    "p_chart",
    "qa_sample",
    "resolution_sources",
    "run_rules",
    "seasonal_adjust",
    "staffing_from_contacts",
    "staffing_from_panel",
    "threshold_alerts",
    "triangulate",
    "weekday_hour_profile",
    "xbar_chart",
]
