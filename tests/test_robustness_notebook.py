"""Execute notebooks/05_robustness.ipynb with papermill on a tiny simulated centre."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import papermill  # a hard dependency (pyproject): a missing install must fail, not skip
import pytest

from tests.conftest import parameters_source

ROOT = Path(__file__).resolve().parents[1]
NB = ROOT / "notebooks" / "05_robustness.ipynb"


def test_notebook_has_its_parameters():
    src = parameters_source(NB)
    for name in ("data_dir: str", "run_dir: str", "framework_path: str", "period: str", "weights: str",
                 "draws: int", "sobol: int", "seed: int", "normalisations: str", "aggregations: str",
                 "exclude: float", "noise: bool"):
        assert name in src


@pytest.mark.slow
def test_notebook_runs_with_tiny_parameters(tmp_path):
    from kpilab.indicators import compute_panel
    from kpilab.simulate import simulate, write_simulation

    data = tmp_path / "data"
    write_simulation(simulate(agents=20, months=3, seed=3), data)
    run = tmp_path / "run"
    run.mkdir()
    compute_panel(data, period="month", unit="agent", shrinkage=True).panel.to_parquet(run / "panel.parquet")
    papermill.execute_notebook(str(NB), str(tmp_path / "out.ipynb"), kernel_name="python3", cwd=str(ROOT),
                               parameters={"data_dir": str(data), "run_dir": str(run), "draws": 200, "sobol": 64})
    ranks = pd.read_csv(run / "tables" / "rank_intervals.csv")
    assert len(ranks) == 20 and {"nominal_rank", "rank_p05", "rank_p95"} <= set(ranks.columns)
    assert not pd.read_csv(run / "tables" / "sensitivity.csv").empty
    assert json.loads((run / "tables" / "draws_meta.json").read_text())["params"]["draws"] == 200
    for name in ("rank_uncertainty", "grade_probabilities", "sensitivity"):
        assert (run / "figures" / f"{name}.png").is_file()
