"""The client report: ``report.html`` generated from a run folder's results, and ``report.pdf``.

:func:`build_report` reads the run folder (``kpilab.report.collect``), builds the
sections in a fixed order (executive summary, data and coverage, indicator panel,
health review, weights, scores and grades, robustness, operations, optional
``sections/*.json``, changes since the previous review, limitations, and the
appendix), formats every number through :mod:`kpilab.formatting`, and renders
one self-contained HTML file (figures embedded, no scripts, A4 print styles).
A failed run gets no report.
"""

from __future__ import annotations

from kpilab.report.build import build_report, build_sections

__all__ = ["build_report", "build_sections"]
