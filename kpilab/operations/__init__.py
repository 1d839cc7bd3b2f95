"""Operations analytics: Erlang staffing checks, alerts and control charts, QA sampling plans, triangulation.

The articles run the centre with threshold alerts, control charts, a daily stratified QA
sample and cross-checks of the phone system against customers and QA; service-level
targets only make sense if staffing can meet them. This package holds those tools;
``notebooks/06_operations.ipynb`` and the commands ``kpilab alerts``, ``kpilab qa-sample``
and ``kpilab staffing`` call them.
"""

from kpilab.operations.erlang import (
    QueueResult,
    UnstableQueueError,
    agents_needed,
    erlang_a,
    erlang_b,
    erlang_c,
)

__all__ = [
    "QueueResult",
    "UnstableQueueError",
    "agents_needed",
    "erlang_a",
    "erlang_b",
    "erlang_c",
]
