"""Lay the sections out: number sections, figures and tables, build the contents, render the Jinja2 template."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from kpilab.report.model import Figure, Section, Subhead, Table

__all__ = ["number_sections", "link_labels", "render_html"]


def number_sections(sections: list[Section]) -> list[dict[str, Any]]:
    """Give sections numbers (1, 2 ... and A, B ... in the appendix), figures and tables running numbers.

    Returns the table of contents: ``[{"anchor", "number", "title", "appendix"}]``.
    """
    fig = tab = 0
    main = app = 0
    toc = []
    for s in sections:
        if s.appendix:
            app += 1
            s.number = chr(ord("A") + app - 1)
        else:
            main += 1
            s.number = str(main)
        for b in s.blocks:
            if isinstance(b, Figure):
                fig += 1
                b.number = fig
            elif isinstance(b, Table):
                tab += 1
                b.number = tab
        toc.append({"anchor": s.anchor, "number": s.number, "title": s.title, "appendix": s.appendix})
    return toc


def link_labels(sections: list[Section]) -> dict[str, str]:
    """What a link to each anchor reads as: ``section 4`` / ``appendix B`` or a subheading's title."""
    labels: dict[str, str] = {}
    for s in sections:
        labels[s.anchor] = f"appendix {s.number}" if s.appendix else f"section {s.number}"
        for b in s.blocks:
            if isinstance(b, Subhead) and b.anchor:
                labels[b.anchor] = f"“{b.text}”"
    return labels


def render_html(sections: list[Section], *, title: str, client: str, period: str, run_id: str,
                date: datetime | None = None) -> str:
    """The whole report as one HTML string (styles inline, figures embedded, no scripts)."""
    env = Environment(loader=PackageLoader("kpilab.report", "templates"), autoescape=select_autoescape(["html", "j2"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    toc = number_sections(sections)
    labels = link_labels(sections)
    when = date or datetime.now()
    return env.get_template("report.html.j2").render(
        title=title, client=client, period=period, run_id=run_id, date=f"{when.day} {when:%B %Y}",
        sections=sections, toc=toc, labels=labels,
    )
