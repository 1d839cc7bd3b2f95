"""Execute notebooks/04_scoring.ipynb with papermill on a tiny simulated centre."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import papermill
import pytest

from tests.conftest import parameters_source

ROOT = Path(__file__).resolve().parents[1]
NB = ROOT / "notebooks" / "04_scoring.ipynb"


def test_notebook_has_its_parameters():
    src = parameters_source(NB)
    for name in ("data_dir: str", "run_dir: str", "framework_path: str", "period: str", "weights: str",
                 "normalise: str", "aggregate: str", "draws: int"):
        assert name in src


@pytest.mark.slow
@pytest.mark.parametrize("weights", ["roles", "critic", "recommended"])
def test_notebook_runs_with_tiny_parameters(tmp_path, weights):
    from kpilab.simulate import simulate, write_simulation

    data = tmp_path / "data"
    write_simulation(simulate(agents=20, months=3, seed=3), data)
    run = tmp_path / "run"
    run.mkdir()
    # the panel notebook 01 leaves in the run folder (computed here, outside the kernel)
    from kpilab.indicators import compute_panel

    compute_panel(data, period="month", unit="agent", shrinkage=True).panel.to_parquet(run / "panel.parquet")
    if weights == "critic":  # the table notebook 03 writes: indicator, pillar, one column per set
        (run / "tables").mkdir()
        pd.DataFrame({"indicator": ["fcr", "csat", "aht", "first_response_time", "qa_score"],
                      "pillar": ["satisfaction", "satisfaction", "cost_control", "timeliness", "satisfaction"],
                      "critic": [0.3, 0.2, 0.2, 0.0, 0.3], "front_line": [0.3, 0.3, 0.1, 0.0, 0.3]}).to_csv(
            run / "tables" / "weights.csv", index=False)
        weights_param = "critic"
    elif weights == "recommended":  # what notebook 03 writes: recommended_weights.csv and recommendation.json
        (run / "tables").mkdir()
        pd.DataFrame({"indicator": ["fcr", "csat", "aht"], "pillar": ["satisfaction", "satisfaction", "cost_control"],
                      "weight": [0.5, 0.3, 0.2], "method": "blend_front_line_critic"}).to_csv(
            run / "tables" / "recommended_weights.csv", index=False)
        (run / "tables" / "recommendation.json").write_text(
            '{"weights_method": "blend_front_line_critic", "scores_weights": ""}')
        weights_param = "recommended"
    else:
        weights_param = "roles"
    papermill.execute_notebook(
        str(NB), str(tmp_path / "out.ipynb"), kernel_name="python3", cwd=str(ROOT),
        parameters={"data_dir": str(data), "run_dir": str(run), "draws": 100, "weights": weights_param},
    )
    scores = pd.read_csv(run / "tables" / "scores.csv")
    assert {"index", "grade", "tier", "p_grade", "grade_settled"} <= set(scores.columns)
    assert scores["index"].notna().mean() > 0.8
    if weights == "recommended":
        import json

        used = pd.read_csv(run / "tables" / "score_weights.csv")
        assert set(used.loc[used["weight"] > 0, "indicator"]) == {"fcr", "csat", "aht"}
        assert json.loads((run / "tables" / "recommendation.json").read_text())["scores_weights"] == \
            "blend_front_line_critic"
    for name in ("scorecard", "grades_by_team", "normalisation", "tier_transitions"):
        assert (run / "tables" / f"{name}.csv").is_file()
    for name in ("score_distribution", "grade_mix", "scorecard", "tier_transitions"):
        assert (run / "figures" / f"{name}.png").is_file()
