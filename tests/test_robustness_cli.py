"""``kpilab robustness``: files written, same seed identical output, one-line refusals."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from kpilab.cli import main
from tests.test_robustness import FW, _panel


@pytest.fixture()
def inputs(tmp_path):
    import yaml

    panel = tmp_path / "panel.csv"
    _panel(m=30).to_csv(panel, index=False)
    fw = tmp_path / "fw.yaml"
    fw.write_text(yaml.safe_dump({**FW, "weight_sets": {"even": {"level": "pillar", "weights": {"a": 1, "b": 1}}},
                                  "role_weights": {"default": "even"}}))
    return panel, fw


def test_cli_writes_the_four_outputs_and_is_reproducible(inputs, tmp_path, capsys):
    panel, fw = inputs
    args = ["robustness", "--panel", str(panel), "--framework", str(fw), "--draws", "300", "--sobol", "64",
            "--seed", "3"]
    assert main([*args, "--out", str(tmp_path / "a")]) == 0
    out = capsys.readouterr().out
    assert "Robustness: 30 units" in out and "wrote" in out
    ranks = pd.read_csv(tmp_path / "a" / "rank_intervals.csv")
    for col in ("unit_id", "nominal_rank", "median_rank", "rank_p05", "rank_p95", "p_top_decile", "p_bottom_decile"):
        assert col in ranks.columns
    grades = pd.read_csv(tmp_path / "a" / "grade_probabilities.csv")
    assert {"unit_id", "period", "p_A", "p_B", "p_C"} <= set(grades.columns)
    sens = pd.read_csv(tmp_path / "a" / "sensitivity.csv")
    assert {"input", "S1", "S1_conf", "ST", "ST_conf"} <= set(sens.columns) and len(sens)
    meta = json.loads((tmp_path / "a" / "draws_meta.json").read_text())
    assert meta["params"]["seed"] == 3 and "SALib" in meta["versions"] and meta["params"]["sample_design"]
    assert main([*args, "--out", str(tmp_path / "b")]) == 0
    for name in ("rank_intervals.csv", "grade_probabilities.csv", "sensitivity.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_cli_skips_sobol_with_zero_and_reads_a_weight_set(inputs, tmp_path, capsys):
    panel, fw = inputs
    assert main(["robustness", "--panel", str(panel), "--framework", str(fw), "--weight-set", "even", "--draws",
                 "50", "--sobol", "0", "--normalisations", "none", "--aggregations", "arithmetic",
                 "--out", str(tmp_path / "o")]) == 0
    assert pd.read_csv(tmp_path / "o" / "sensitivity.csv").empty


@pytest.mark.parametrize("extra, message", [
    (["--draws", "0"], "'draws'"),
    (["--sobol", "1000"], "power of 2"),
    (["--weight-range", "1.0"], "less than 100 %"),
    (["--normalisations", ","], "--normalisations"),
])
def test_cli_refuses_bad_input_in_one_line(inputs, tmp_path, capsys, extra, message):
    panel, fw = inputs
    rc = main(["robustness", "--panel", str(panel), "--framework", str(fw), *extra, "--out", str(tmp_path / "x")])
    err = capsys.readouterr().err
    assert rc == 2 and message in err and err.count("\n") == 1
