"""Notebook 01 (indicator panel) runs end to end with tiny parameters; the panel command works."""

from __future__ import annotations

import json

import pandas as pd
import papermill
import pytest

from kpilab import simulate as sim
from kpilab.cli import main
from kpilab.outputs import PROJ_ROOT
from kpilab.panel import read_panel
from tests.conftest import parameters_source

NB = PROJ_ROOT / "notebooks" / "01_indicator_panel.ipynb"


@pytest.fixture(scope="module")
def sim_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("sim")
    sim.write_simulation(sim.simulate(agents=8, months=2, seed=3), out)
    return out


def test_notebook_has_its_parameters():
    # generic checks (clean, one parameters cell after the title, python3 kernel) are in test_style.py
    src = parameters_source(NB)
    for name in ("data_dir: str", "run_dir: str", "framework_path: str", "period: str", "unit: str",
                 "min_n: int", "shrinkage: bool"):
        assert name in src


@pytest.mark.slow
def test_notebook_runs_and_writes_the_panel(sim_dir, tmp_path):
    run_dir = tmp_path / "run"
    papermill.execute_notebook(str(NB), str(tmp_path / "out.ipynb"), kernel_name="python3", cwd=str(PROJ_ROOT),
                               parameters={"data_dir": str(sim_dir), "run_dir": str(run_dir), "period": "month",
                                           "unit": "team", "min_n": 10, "shrinkage": True}, progress_bar=False)
    panel = read_panel(run_dir / "panel.parquet")
    assert set(panel["unit_level"]) == {"agent"} and "value_shrunk" in panel.columns
    assert (panel.loc[panel["n"] < 10, "flag"].str.contains("small_n")).all()
    for name in ("panel_accounting", "panel_team_latest", "wait_profile", "panel_definitions"):
        assert (run_dir / "tables" / f"{name}.csv").is_file(), name
    for name in ("wait_heatmap", "csat_trend"):
        assert (run_dir / "figures" / f"{name}.png").is_file(), name


def test_panel_command_writes_panel_and_accounting(sim_dir, tmp_path, capsys):
    out = tmp_path / "p" / "panel.csv"
    rc = main(["panel", "--data", str(sim_dir), "--period", "week", "--unit", "agent,centre",
               "--indicators", "aht,csat,service_level", "--shrinkage", "--out", str(out)])
    assert rc == 0
    panel = read_panel(out)
    assert set(panel["indicator"]) == {"aht", "csat", "service_level"}
    assert set(panel["unit_level"]) == {"agent", "centre"}
    acc = pd.read_csv(out.with_name("panel.accounting.csv"))
    first = acc.groupby("table").first()
    assert (first["rows_read"] == first["rows_used"] + first["rows_excluded"]).all()
    assert "wrote" in capsys.readouterr().out


def test_panel_command_bad_input_exits_2(tmp_path, capsys):
    assert main(["panel", "--data", str(tmp_path / "none"), "--period", "week", "--out", str(tmp_path / "x.csv")]) == 2
    assert "does not exist" in capsys.readouterr().err
    (tmp_path / "d").mkdir()
    pd.DataFrame({"contact_id": ["c1"]}).to_csv(tmp_path / "d" / "contacts.csv", index=False)
    assert main(["panel", "--data", str(tmp_path / "d"), "--period", "week", "--out", str(tmp_path / "x.csv")]) == 2
    assert "missing required column" in capsys.readouterr().err
    assert main(["panel", "--data", str(tmp_path / "d"), "--period", "week", "--out", str(tmp_path / "x.txt")]) == 2


def test_framework_json_roundtrip_of_definitions(sim_dir):
    from kpilab.indicators import compute_panel

    r = compute_panel(sim_dir, unit="centre", indicators=["service_level", "fcr"])
    json.dumps(r.params)  # the options used are plain data
    d = r.definitions().set_index("indicator")
    assert d.loc["service_level", "params"]["variant"] == "short_abandon_excluded"
