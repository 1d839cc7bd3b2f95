"""Assemble the report: collect the run folder, build every section in order, render, print to PDF."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from kpilab.report.appendix import (
    definitions_section,
    glossary_section,
    parameters_section,
    provenance_section,
)
from kpilab.report.collect import RunData, check_run_succeeded, collect
from kpilab.report.extra_sections import changes_section, generic_sections, limitations_section
from kpilab.report.model import Section
from kpilab.report.render import render_html
from kpilab.report.result_sections import operations_section, robustness_section, scores_section
from kpilab.report.review_sections import data_section, health_section, panel_section, weights_section
from kpilab.report.summary import summary_section
from kpilab.report.text import period_range

__all__ = ["build_report", "build_sections", "report_period"]


def build_sections(data: RunData) -> list[Section]:
    """Every section of the report, in the fixed order."""
    sections = [summary_section(data), data_section(data), panel_section(data), health_section(data),
                weights_section(data), scores_section(data), robustness_section(data), operations_section(data)]
    sections += generic_sections(data)
    sections += [changes_section(data), limitations_section(data)]
    sections += [definitions_section(data), parameters_section(data), provenance_section(data), glossary_section()]
    return sections


def report_period(data: RunData) -> str:
    """The review period for the title page (``Jul 2025 to Sep 2025``)."""
    start, end = data.review_window()
    periods = data.review_periods()
    kind = data.period_kind
    if start or end or periods:
        return period_range(start or periods[0], end or periods[-1], kind)
    return "the whole period of the data"


def build_report(run_dir: str | Path, record: dict[str, Any] | None = None, *, pdf: bool = True) -> Path:
    """Write ``<run_dir>/report.html`` (and ``report.pdf`` when a headless Chromium is installed).

    Parameters
    ----------
    run_dir : path
        A run folder written by :func:`kpilab.run.execute`.
    record : dict, optional
        The run record (default: the folder's ``run.json``).
    pdf : bool
        Also print to PDF when a browser is available; a missing browser only
        gives a notice (a :class:`UserWarning`), never an error.

    Returns
    -------
    Path
        The HTML report.

    Raises
    ------
    RunError
        The run failed (no report for failed runs), or the folder is not a run folder.
    """
    data = collect(run_dir, record)
    check_run_succeeded(data.run_dir, data.record)
    sections = build_sections(data)
    html = render_html(sections, title="KPI system review", client=data.client, period=report_period(data),
                       run_id=str(data.record.get("run_id", data.run_dir.name)))
    path = data.run_dir / "report.html"
    path.write_text(html, encoding="utf-8")
    if pdf:
        from kpilab.report.pdf import write_pdf

        _, notice = write_pdf(path)
        if notice:
            warnings.warn(notice, UserWarning, stacklevel=2)
    return path
