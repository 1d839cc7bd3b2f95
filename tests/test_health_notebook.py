"""Notebook 02 (indicator health): parameters cell, and a papermill run on a tiny simulated centre."""

from __future__ import annotations

import nbformat
import pandas as pd
import papermill  # a hard dependency (pyproject): a missing install must fail, not skip
import pytest

from kpilab.outputs import PROJ_ROOT
from tests.conftest import parameters_source

NB = PROJ_ROOT / "notebooks" / "02_indicator_health.ipynb"


def test_notebook_has_its_parameters():
    # generic checks (clean, one parameters cell after the title, python3 kernel) are in test_style.py
    src = parameters_source(NB)
    for name in ("data_dir: str", "run_dir: str", "framework_path: str", "period: str", "outcome: str",
                 "threshold: float", "method: str", "period_start: str", "period_end: str", "previous_run: str"):
        assert name in src, name
    declared = papermill.inspect_notebook(str(NB))  # every line of the parameters cell must parse
    assert len(declared) == len([ln for ln in src.splitlines() if ln.strip()])
    assert {"data_dir", "run_dir", "framework_path", "period", "previous_run", "n_boot"} <= set(declared)


@pytest.mark.slow
def test_notebook_runs_with_papermill(tmp_path):
    from kpilab.indicators import compute_panel
    from kpilab.panel import write_table
    from kpilab.simulate import simulate, write_simulation

    data = tmp_path / "data"
    sim = simulate(agents=24, months=2, seed=3)
    write_simulation(sim, data)
    # 1) no panel in the run folder: the notebook computes it
    run1 = tmp_path / "run1"
    papermill.execute_notebook(str(NB), str(tmp_path / "out1.ipynb"), kernel_name="python3", cwd=str(PROJ_ROOT),
                               parameters={"data_dir": str(data), "run_dir": str(run1), "min_units": 10})
    dec = pd.read_csv(run1 / "tables" / "decisions.csv")
    assert list(dec.columns[:8]) == ["indicator", "r", "ci_low", "ci_high", "p_adj", "n", "decision", "reason"]
    assert dec["decision"].isin(["keep", "review", "prune"]).all() and len(dec) > 10
    assert (run1 / "figures" / "health_relevance.png").is_file()
    clusters = pd.read_csv(run1 / "tables" / "redundancy_clusters.csv")
    assert list(clusters.columns) == ["cluster", "indicator", "representative", "max_abs_r", "reason"]
    assert sorted(clusters["indicator"]) == sorted(dec["indicator"])  # every indicator in exactly one cluster
    assert (clusters.groupby("cluster")["representative"].sum() == 1).all()
    # a non-representative is never kept: the redundancy advice and the decisions agree
    dropped = set(clusters.loc[~clusters["representative"], "indicator"])
    assert not dropped & set(dec.loc[dec["decision"] == "keep", "indicator"])
    # 2) panel.parquet from notebook 01 present, a period range and the previous run
    run2 = tmp_path / "run2"
    panel = compute_panel(sim.tables, period="month", unit="agent").panel
    write_table(panel, run2 / "panel.parquet")
    papermill.execute_notebook(
        str(NB), str(tmp_path / "out2.ipynb"), kernel_name="python3", cwd=str(PROJ_ROOT),
        parameters={"data_dir": str(data), "run_dir": str(run2), "period_start": "2025-02-01",
                    "previous_run": str(run1), "ci": "bootstrap", "n_boot": 200},
    )
    changes = pd.read_csv(run2 / "tables" / "changes.csv")
    assert set(changes["indicator"]) >= set(dec["indicator"])
    out = nbformat.read(tmp_path / "out2.ipynb", as_version=4)
    text = "".join(str(o.get("data", {}).get("text/markdown", "")) for c in out.cells if c.cell_type == "code"
                   for o in c.outputs)
    assert "previous review" in text
