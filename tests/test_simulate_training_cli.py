"""``kpilab simulate --training`` writes the training programme and is reused like any simulation."""

import json

import pandas as pd

from kpilab.cli import main


def test_training_flag_writes_programme_and_truth(tmp_path, capsys):
    out = tmp_path / "sim"
    assert main(["simulate", "--out", str(out), "--agents", "12", "--months", "3", "--seed", "3", "--training"]) == 0
    training = pd.read_parquet(out / "training.parquet")
    agents = pd.read_parquet(out / "agents.parquet")
    assert {"agent_id", "course", "trained_at", "rating"} <= set(training.columns)
    assert set(training["agent_id"]) <= set(agents["agent_id"])
    assert "trained_at" in agents.columns
    truth = json.loads((out / "truth.json").read_text())
    assert "training" in truth
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["params"]["training"] is True
    assert f"{len(training):>10,d} rows" in capsys.readouterr().out
    # the same parameters are reused; without --training it is a different simulation
    assert main(["simulate", "--out", str(out), "--agents", "12", "--months", "3", "--seed", "3", "--training",
                 "--reuse"]) == 0
    assert "reused" in capsys.readouterr().out
    assert main(["simulate", "--out", str(out), "--agents", "12", "--months", "3", "--seed", "3", "--reuse"]) == 0
    assert "reused" not in capsys.readouterr().out


def test_resimulating_without_training_removes_the_old_programme(tmp_path):
    out = tmp_path / "sim"
    assert main(["simulate", "--out", str(out), "--agents", "8", "--months", "2", "--seed", "1", "--training"]) == 0
    assert (out / "training.parquet").is_file()
    assert main(["simulate", "--out", str(out), "--agents", "8", "--months", "2", "--seed", "1"]) == 0
    assert not (out / "training.parquet").exists()
