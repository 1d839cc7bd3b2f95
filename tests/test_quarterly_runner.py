"""The runner's quarterly hooks: previous_run + actions write diff/, every scored run gets scorecards/.

A tiny notebook stands in for the review: it writes the tables the real notebooks write, from its
``threshold`` parameter, so two runs differ in a known way.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from kpilab.errors import ParameterError, RunError
from kpilab.run import execute

BODY = '''
from pathlib import Path
import pandas as pd
t = Path(run_dir) / "tables"
t.mkdir(parents=True, exist_ok=True)
keep = "keep" if threshold <= 0.4 else "prune"
pd.DataFrame({"indicator": ["aht", "hold_rate"], "r": [0.35, 0.1], "ci_low": [0.1, -0.2], "ci_high": [0.55, 0.4],
              "p_adj": 0.01, "n": 40, "decision": [keep, "prune"], "reason": "test", "pillar": "c",
              "direction": "lower", "n_units": 40, "coverage": 1.0}).to_csv(t / "decisions.csv", index=False)
pd.DataFrame({"code": ["aht", "hold_rate"], "name": ["Average handle time", "Hold rate"], "pillar": "c",
              "direction": "lower", "unit": ["seconds", "share"], "target": [300.0, 0.05], "outcome": False,
              "level": "agent"}).to_csv(t / "framework_indicators.csv", index=False)
pd.DataFrame({"role": "front_line", "indicator": ["aht", "hold_rate"], "weight": [0.5, 0.5]}).to_csv(
    t / "score_weights.csv", index=False)
g = "B" if threshold <= 0.4 else "C"
pd.DataFrame({"unit_id": ["A1", "A2"], "period": "2025-03-01", "team": "T1", "role": "front_line",
              "index": [70.0, 55.0], "grade": [g, "C"], "tier": "mid"}).to_csv(t / "scores.csv", index=False)
'''


def make_notebook(path: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = nbformat.v4.new_code_cell('threshold: float = 0.3  # prune below\nrun_dir: str = ""')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(BODY)]
    nbformat.write(nb, path)
    return path


def test_previous_run_and_actions_through_the_runner(tmp_path: Path) -> None:
    nb = str(make_notebook(tmp_path / "review.ipynb"))
    out = tmp_path / "outputs"
    first = execute(nb, {}, output_root=out, kernel="python3", name="q2")
    assert (first.run_dir / "scorecards" / "index.html").is_file()
    assert not (first.run_dir / "diff").exists()
    acts = tmp_path / "actions.yaml"
    acts.write_text("- action: set_parameter\n  parameter: threshold\n  value: 0.5\n"
                    "- action: drop\n  indicator: hold_rate\n")
    second = execute(nb, {"threshold": 0.5, "previous_run": str(first.run_dir), "actions": str(acts)},
                     output_root=out, kernel="python3", name="q3")
    d = second.run_dir / "diff"
    summary = json.loads((d / "summary.json").read_text())
    assert summary["previous_run_id"] == first.run_dir.name and summary["comparable"] is True
    dec = pd.read_csv(d / "decisions.csv")
    assert dec.values.tolist() == [["aht", "keep", "prune", 0.35, 0.35]]
    par = pd.read_csv(d / "parameters.csv")
    assert par.values.tolist() == [["threshold", 0.3, 0.5]]  # 0.3 was the notebook's default, not set
    mig = pd.read_csv(d / "grade_migration.csv")
    assert sorted(mig.values.tolist()) == [["T1", "B", "C", 1], ["T1", "C", "C", 1]]
    act = pd.read_csv(d / "actions.csv")
    assert act["status"].tolist() == ["done", "not done"]
    record = json.loads((second.run_dir / "run.json").read_text())
    steps = {s["step"]: s["status"] for s in record["steps"]}
    assert steps["diff"] == "succeeded" and steps["scorecards"] == "succeeded"
    assert str(acts) in record["inputs"]
    assert {p.name for p in (second.run_dir / "scorecards").iterdir()} == {"A1.html", "A2.html", "index.html"}


def test_refusals_leave_no_run_folder(tmp_path: Path) -> None:
    nb = str(make_notebook(tmp_path / "review.ipynb"))
    out = tmp_path / "outputs"
    failed = tmp_path / "failed"
    failed.mkdir()
    (failed / "run.json").write_text(json.dumps({"status": "failed", "steps": [{"step": "02_x", "status": "failed"}]}))
    with pytest.raises(RunError, match="did not succeed"):
        execute(nb, {"previous_run": str(failed)}, output_root=out, kernel="python3")
    acts = tmp_path / "a.yaml"
    acts.write_text("- action: drop\n  indicator: aht\n")
    with pytest.raises(ParameterError, match="pass previous_run too"):
        execute(nb, {"actions": str(acts)}, output_root=out, kernel="python3")
    assert not out.exists() or not any(out.iterdir())
