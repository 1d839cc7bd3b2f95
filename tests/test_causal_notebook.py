"""Execute notebooks/08_training_effect.ipynb with papermill: with a training programme, and without one."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import papermill  # a hard dependency (pyproject): a missing install must fail, not skip
import pytest

from tests.conftest import parameters_source

ROOT = Path(__file__).resolve().parents[1]
NB = ROOT / "notebooks" / "08_training_effect.ipynb"


def test_notebook_has_its_parameters():
    src = parameters_source(NB)
    for name in (
        "data_dir: str",
        "run_dir: str",
        "framework_path: str",
        "period: str",
        "training_period: str",
        "training_indicator: str",
        "training_control: str",
        "training_course: str",
        "training_confidence: float",
    ):
        assert name in src


@pytest.mark.slow
def test_notebook_runs_on_a_training_programme_and_skips_without_one(tmp_path):
    from kpilab.simulate import simulate, write_simulation

    data = tmp_path / "data"
    write_simulation(simulate(agents=24, months=4, seed=5, training=True), data)
    run = tmp_path / "run"
    papermill.execute_notebook(
        str(NB),
        str(tmp_path / "out.ipynb"),
        kernel_name="python3",
        cwd=str(ROOT),
        parameters={"data_dir": str(data), "run_dir": str(run)},
    )
    att = pd.read_csv(run / "tables" / "training_att.csv")
    assert att["estimator"].tolist() == ["callaway_santanna", "imputation", "twfe_naive"]
    stages = pd.read_csv(run / "tables" / "training_stages.csv")
    assert stages["stage"].tolist() == ["rating", "two_weeks", "quarter"] and stages["n"].iloc[0] > 0
    assert (run / "figures" / "training_event_study.png").is_file()
    section = json.loads((run / "sections" / "08_training_effect.json").read_text())
    assert section["title"] == "Training effect" and "QA score" in section["summary_md"]
    assert [f["file"] for f in section["figures"]] == ["figures/training_event_study.png"]
    report_table = pd.read_csv(run / "tables" / "training_att_report.csv")
    assert report_table["trained_agents"].tolist() == att["n_treated"].tolist()

    plain = tmp_path / "plain"
    write_simulation(simulate(agents=12, months=2, seed=5), plain)
    run2 = tmp_path / "run2"
    out = tmp_path / "out2.ipynb"
    papermill.execute_notebook(
        str(NB),
        str(out),
        kernel_name="python3",
        cwd=str(ROOT),
        parameters={"data_dir": str(plain), "run_dir": str(run2)},
    )
    assert "No training data" in out.read_text()
    assert not (run2 / "tables").exists()
    assert not (run2 / "sections").exists()
