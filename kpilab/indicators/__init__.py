"""Indicator panel engine: declarative catalogue, DuckDB engine, intervals, shrinkage, row accounting.

>>> from kpilab.indicators import compute_panel
>>> result = compute_panel("data/demo", period="month", unit=["agent", "team", "centre"])  # doctest: +SKIP
>>> result.panel.head()  # doctest: +SKIP
"""

from kpilab.indicators.accounting import ACCOUNTING_COLUMNS, check_accounting
from kpilab.indicators.catalogue import CATALOGUE, Definition, catalogue_frame, definition_from_compute
from kpilab.indicators.engine import (
    PanelResult,
    compute_panel,
    indicator_availability,
    resolve_definitions,
    wait_profile,
)

__all__ = [
    "compute_panel",
    "PanelResult",
    "CATALOGUE",
    "Definition",
    "catalogue_frame",
    "definition_from_compute",
    "resolve_definitions",
    "wait_profile",
    "indicator_availability",
    "check_accounting",
    "ACCOUNTING_COLUMNS",
]
