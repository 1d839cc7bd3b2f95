"""Execute notebooks/03_weights.ipynb with papermill on a tiny simulated centre."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import papermill  # a hard dependency (pyproject): a missing install must fail, not skip
import pytest

from tests.conftest import parameters_source

ROOT = Path(__file__).resolve().parents[1]
NB = ROOT / "notebooks" / "03_weights.ipynb"


def test_notebook_has_its_parameters():
    # generic checks (clean, one parameters cell after the title, python3 kernel) are in test_style.py
    src = parameters_source(NB)
    for name in ("data_dir: str", "run_dir: str", "framework_path: str", "period: str", "methods: str"):
        assert name in src


@pytest.mark.slow
def test_notebook_runs_with_tiny_parameters(tmp_path):
    from kpilab.simulate import simulate, write_simulation

    data = tmp_path / "data"
    write_simulation(simulate(agents=20, months=2, seed=3), data)
    pw = tmp_path / "pw.yaml"
    pw.write_text('judgements:\n  "fcr:csat": 2\n  "fcr:aht": 4\n  "csat:aht": 2\n')
    run = tmp_path / "run"
    # notebook 02's decisions in the run folder (computed here, outside the kernel): hold_rate is pruned
    from kpilab.health import health_review
    from kpilab.indicators import compute_panel

    panel = compute_panel(data, period="month", unit="agent").panel
    decisions = health_review(panel, "retention_rate", min_units=10).decisions
    decisions.loc[decisions["indicator"] == "hold_rate", "decision"] = "prune"
    (run / "tables").mkdir(parents=True)
    decisions.to_csv(run / "tables" / "decisions.csv", index=False)
    pruned = set(decisions.loc[decisions["decision"] == "prune", "indicator"])
    papermill.execute_notebook(
        str(NB), str(tmp_path / "out.ipynb"), kernel_name="python3", cwd=str(ROOT),
        parameters={"data_dir": str(data), "run_dir": str(run), "n_boot": 20,
                    "methods": "equal,entropy,critic,pca,regression,front_line",
                    "constraints": "qa_score>=0.05", "pairwise_path": str(pw), "top_n": 5},
    )
    weights = pd.read_csv(run / "tables" / "weights.csv")
    sets = [c for c in weights.columns if c not in ("indicator", "pillar")]
    assert {"front_line", "entropy", "critic", "pca", "regression", "ahp"} <= set(sets)
    assert any(s.startswith("blend_front_line_critic") for s in sets)
    for s in sets:
        assert weights[s].sum() == pytest.approx(1.0)
    blend = [s for s in sets if s.startswith("blend")][0]
    assert weights.set_index("indicator").loc["qa_score", blend] >= 0.05 - 1e-9
    for name in ("rank_agreement", "influence", "rank_movers", "scores", "weights_long"):
        assert (run / "tables" / f"{name}.csv").is_file()
    for name in ("weights", "rank_agreement", "influence", "rank_movers"):
        assert (run / "figures" / f"{name}.png").is_file()
    # every set weights the scorecard only: pruned indicators get no weight anywhere
    assert not pruned & set(weights["indicator"])
    # one recommendation, and a framework file the next quarter can start from
    import json

    from kpilab.framework import load_framework

    rec = pd.read_csv(run / "tables" / "recommended_weights.csv")
    assert list(rec.columns) == ["indicator", "pillar", "weight", "method"]
    assert rec["weight"].sum() == pytest.approx(1.0) and not pruned & set(rec["indicator"])
    meta = json.loads((run / "tables" / "recommendation.json").read_text())
    assert meta["weights_method"] == rec["method"].iloc[0] and set(meta["pruned"]) == pruned
    assert meta["weights_reason"] and set(meta["agreement"]) == set(sets) - {meta["weights_method"]}
    fw = load_framework(run / "recommended_framework.yaml")
    assert not pruned & set(fw.codes) and fw.role_weights["default"] == "recommended"
    assert fw.weight_set("recommended").to_dict() == pytest.approx(rec.set_index("indicator")["weight"].to_dict(),
                                                                   abs=1e-5)
