"""Render a run's executed notebooks as one client-ready HTML report (no code).

The notebooks are merged in order into one document, code cells keep only
their displayed outputs (stderr streams such as warnings are dropped), a
provenance appendix is added from ``run.json``, and nbconvert renders it with
``exclude_input=True``. A notebook that carries papermill's error cell is
refused: a failed run never gets a report.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import nbformat

from kpilab.errors import RunError

__all__ = ["build_report", "merge_notebooks"]

_SKIP_TAGS = {"parameters", "injected-parameters", "remove_cell"}


def merge_notebooks(notebooks: list[nbformat.NotebookNode], title: str) -> nbformat.NotebookNode:
    """One notebook holding every cell of ``notebooks`` meant for readers."""
    merged = nbformat.v4.new_notebook()
    merged.metadata = copy.deepcopy(notebooks[0].metadata) if notebooks else {}
    merged.metadata.pop("papermill", None)
    merged.cells.append(nbformat.v4.new_markdown_cell(f"# {title}"))
    for nb in notebooks:
        if nb.metadata.get("papermill", {}).get("exception"):
            raise RunError("A notebook of this run failed; kpilab does not render reports of failed runs.")
        for cell in nb.cells:
            tags = set(cell.get("metadata", {}).get("tags", []))
            if "papermill-error-cell-tag" in tags:
                raise RunError("A notebook of this run failed; kpilab does not render reports of failed runs.")
            if tags & _SKIP_TAGS:
                continue
            cell = copy.deepcopy(cell)
            if cell.cell_type == "code":
                cell.outputs = [o for o in cell.get("outputs", [])
                                if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]
                if not cell.outputs:
                    continue
            merged.cells.append(cell)
    return merged


def _provenance_markdown(record: dict[str, Any]) -> str:
    rows = [
        ("Run", record.get("run_id", "")),
        ("Target", record.get("target", "")),
        ("Started", record.get("started", "")),
        ("kpilab", record.get("kpilab_version", "")),
        ("Git commit", record.get("git_commit") or "unknown"),
        ("Kernel", record.get("kernel", "")),
    ]
    params = record.get("parameters") or {}
    lines = ["## Appendix: run parameters and provenance", "", "| item | value |", "|---|---|"]
    lines += [f"| {k} | `{v}` |" for k, v in rows]
    lines += [f"| parameter `{k}` | `{v}` |" for k, v in sorted(params.items())]
    n_inputs = len(record.get("inputs") or {})
    lines += ["", f"{n_inputs} input file(s) are listed with their SHA-256 in `run.json`, "
              "together with package versions and per-step timings."]
    return "\n".join(lines)


def build_report(
    notebooks: list[nbformat.NotebookNode], run_dir: str | Path, record: dict[str, Any], *, title: str | None = None
) -> Path:
    """Write ``<run_dir>/report.html`` from executed notebooks; return its path."""
    from nbconvert import HTMLExporter

    title = title or f"KPI review - {record.get('run_id', '')}"
    merged = merge_notebooks(notebooks, title)
    merged.metadata["title"] = title
    merged.cells.append(nbformat.v4.new_markdown_cell(_provenance_markdown(record)))
    exporter = HTMLExporter(exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
    body, _ = exporter.from_notebook_node(merged, resources={"metadata": {"name": title}})
    path = Path(run_dir) / "report.html"
    path.write_text(body, encoding="utf-8")
    return path
