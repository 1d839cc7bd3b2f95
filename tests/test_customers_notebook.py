"""Execute notebooks/07_customer_value.ipynb with papermill: with a customers table, and without one."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import papermill  # a hard dependency (pyproject): a missing install must fail, not skip
import pytest

from tests.conftest import parameters_source

ROOT = Path(__file__).resolve().parents[1]
NB = ROOT / "notebooks" / "07_customer_value.ipynb"
EXAMPLE = ROOT / "data" / "framework_customer_tiers_example.yaml"


def test_notebook_has_its_parameters():
    src = parameters_source(NB)
    for name in ("data_dir: str", "run_dir: str", "framework_path: str", "period: str", "customers_path: str",
                 "churn_risk_path: str", "warnings_path: str", "warning_threshold: float", "rfm_bins: int",
                 "min_match: float"):
        assert name in src


@pytest.mark.slow
def test_notebook_runs_with_customers_and_skips_without(tmp_path):
    from kpilab.simulate import simulate, write_simulation

    sim = simulate(agents=12, months=2, seed=4)
    data = tmp_path / "data"
    write_simulation(sim, data)
    c = sim.tables["contacts"]
    churned = c[c["customer_id"].notna()].groupby("customer_id")["retained"].agg(lambda s: bool((s == False).any()))  # noqa: E712
    rng = np.random.default_rng(4)
    cust = pd.DataFrame({"customer_id": churned.index, "monthly_charges": rng.gamma(4, 15, len(churned)).round(2),
                         "tenure": rng.integers(0, 48, len(churned)).astype(float), "churned": churned.to_numpy()})
    cust.to_csv(data / "customers.csv", index=False)
    pd.DataFrame({"customer_id": cust["customer_id"], "churn_risk": rng.random(len(cust))}).to_csv(
        tmp_path / "warnings.csv", index=False)
    run = tmp_path / "run"
    papermill.execute_notebook(str(NB), str(tmp_path / "out.ipynb"), kernel_name="python3", cwd=str(ROOT),
                               parameters={"data_dir": str(data), "run_dir": str(run), "framework_path": str(EXAMPLE),
                                           "warnings_path": str(tmp_path / "warnings.csv")})
    tables = run / "tables"
    classes = pd.read_csv(tables / "rfm_classes.csv")
    assert (classes["scheme"] == "class").sum() == 8 and classes.loc[classes["scheme"] == "class",
                                                                     "n_customers"].sum() == len(cust)
    targets = pd.read_csv(tables / "tier_targets.csv")
    assert set(targets["tier"]) == {"high_value", "new", "standard"}
    odds = pd.read_csv(tables / "service_odds_ratios.csv")
    assert "first_contact_resolved" in set(odds["term"])
    acc = pd.read_csv(tables / "warning_accuracy.csv")
    assert acc["group"].iloc[0] == "all" and acc["n_customers"].iloc[0] == len(cust)
    for fig in ("rfm_classes", "service_odds_ratios"):
        assert (run / "figures" / f"{fig}.png").is_file()
    # the client report's section: words, not codes or reprs, and only files that exist
    section = json.loads((run / "sections" / "07_customer_value.json").read_text())
    assert section["title"] == "Customer value"
    assert "RFM classes" in section["summary_md"] and "targets met" in section["summary_md"]
    assert "nan" not in section["summary_md"].lower()
    assert all((run / f["file"]).is_file() for f in section["figures"] + section["tables"])

    # no customers table: the step says so and writes nothing
    plain = tmp_path / "plain"
    write_simulation(simulate(agents=8, months=1, seed=4), plain)
    run2 = tmp_path / "run2"
    out = tmp_path / "out2.ipynb"
    papermill.execute_notebook(str(NB), str(out), kernel_name="python3", cwd=str(ROOT),
                               parameters={"data_dir": str(plain), "run_dir": str(run2)})
    text = json.dumps(json.loads(out.read_text())["cells"])
    assert "No customers table" in text
    assert not (run2 / "tables").exists() or not any((run2 / "tables").iterdir())
    assert not (run2 / "sections").exists()
