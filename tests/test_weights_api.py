"""calibrate_weights, the weighting matrix built from a panel, and the ``kpilab weights`` command."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from kpilab.cli import main
from kpilab.errors import FrameworkError, ParameterError
from kpilab.framework import default_framework
from kpilab.panel import wide_to_long
from kpilab.weights import calibrate_weights, critic_weights, entropy_weights, weights_matrix

FW = default_framework()


def wide_panel(seed: int = 0, agents: int = 25, months: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = agents * months
    skill = rng.normal(size=n)
    df = pd.DataFrame({
        "unit_id": [f"A{i // months:03d}" for i in range(n)],
        "period": [f"2025-{1 + i % months:02d}-01" for i in range(n)],
        "csat": 4 + 0.3 * skill + 0.2 * rng.normal(size=n),
        "fcr": 0.75 + 0.05 * skill + 0.03 * rng.normal(size=n),
        "aht": 400 - 30 * skill + 40 * rng.normal(size=n),
        "hold_rate": rng.uniform(0, 0.2, size=n),
        "asa": np.nan,  # queue-level: no agent rows
        "retention_rate": 0.85 + 0.03 * skill + 0.01 * rng.normal(size=n),
    })
    return df


def test_matrix_excludes_outcome_and_queue_level_with_notices():
    long = wide_to_long(wide_panel())
    wd = weights_matrix(long, outcome="retention_rate")
    assert list(wd.X.columns) == ["csat", "fcr", "aht", "hold_rate"]  # framework order
    assert wd.y is not None and len(wd.y) == 75
    assert wd.directions["aht"] == "lower" and wd.pillars["csat"] == "satisfaction"
    notes = " ".join(wd.notices)
    assert "retention_rate" not in wd.X.columns and "asa" in notes
    assert wd.X.index.names == ["unit_id", "period"]
    # without outcome=, the framework's outcome is still excluded from the weighted indicators, with a notice
    wd2 = weights_matrix(long)
    assert "retention_rate" not in wd2.X.columns and wd2.y is None
    assert "Excluded outcome indicator(s) retention_rate" in " ".join(wd2.notices)


def test_calibrate_matches_estimators_and_records_provenance():
    wide = wide_panel(1)
    long = wide_to_long(wide)
    res = calibrate_weights(long, "entropy")
    X = wide.set_index(["unit_id", "period"])[["csat", "fcr", "aht", "hold_rate"]]
    dirs = {"aht": "lower", "csat": "higher", "fcr": "higher", "hold_rate": "lower"}
    pd.testing.assert_series_equal(res.weights, entropy_weights(X, dirs), check_names=False)
    assert res.method == "entropy" and res.n_rows == 75 and len(res.fingerprint) == 64
    assert res.to_frame()["pillar"].tolist() == ["satisfaction", "satisfaction", "cost_control", "cost_control"]
    # direction override flips aht
    res2 = calibrate_weights(long, "critic", directions={"aht": "higher"})
    pd.testing.assert_series_equal(res2.weights, critic_weights(X, {**dirs, "aht": "higher"}), check_names=False)
    assert res2.params["direction_overrides"] == {"aht": "higher"}
    # the same wide table gives the same weights
    pd.testing.assert_series_equal(calibrate_weights(wide, "entropy").weights, res.weights)


def test_named_sets_regression_ahp_and_errors(tmp_path):
    long = wide_to_long(wide_panel(2))
    fl = calibrate_weights(long, "front_line")
    assert fl.method == "set:front_line" and fl.weights.sum() == pytest.approx(1.0)
    assert set(fl.weights.index) == {"aht", "csat", "fcr", "hold_rate"}
    assert calibrate_weights(None, "set:front_line").weights.sum() == pytest.approx(1.0)
    reg = calibrate_weights(long, "regression", outcome="retention_rate", n_boot=50)
    assert 0 < reg.diagnostics["r_squared"] <= 1 and reg.intervals is not None
    assert reg.weights[["csat", "fcr", "aht"]].min() > reg.weights["hold_rate"]
    with pytest.raises(ParameterError, match="needs outcome"):
        calibrate_weights(long, "regression")
    pw = tmp_path / "pw.csv"
    pw.write_text("code,csat,fcr\ncsat,1,1/3\nfcr,3,1\n")
    ahp = calibrate_weights(None, "ahp", pairwise=pw)
    assert ahp.weights.to_dict() == pytest.approx({"csat": 0.25, "fcr": 0.75})
    assert ahp.pillars == {"csat": "satisfaction", "fcr": "satisfaction"}
    with pytest.raises(ParameterError, match="Unknown weighting method 'magic'"):
        calibrate_weights(long, "magic")
    wide = wide_panel(2).assign(mystery=1.0)
    with pytest.raises(FrameworkError, match="No direction known for indicator\\(s\\) mystery"):
        calibrate_weights(wide, "entropy")


def test_cli_weights(tmp_path, capsys):
    long = wide_to_long(wide_panel(3))
    panel = tmp_path / "panel.csv"
    long.to_csv(panel, index=False)
    out = tmp_path / "w.csv"
    assert main(["weights", "--panel", str(panel), "--method", "critic", "--out", str(out)]) == 0
    df = pd.read_csv(out)
    assert list(df.columns[:4]) == ["indicator", "weight", "pillar", "method"]
    assert df["weight"].sum() == pytest.approx(1.0) and (df["method"] == "critic").all()
    assert json.loads(out.with_suffix(".json").read_text())["method"] == "critic"
    printed = capsys.readouterr().out
    assert "wrote" in printed and "asa" in printed
    # wide CSV, regression prints R-squared; constraint applied
    wide = tmp_path / "wide.csv"
    wide_panel(3).to_csv(wide, index=False)
    out2 = tmp_path / "reg.csv"
    assert main(["weights", "--panel", str(wide), "--method", "regression", "--outcome", "retention_rate",
                 "--n-boot", "20", "--constraint", "hold_rate>=0.05", "--out", str(out2)]) == 0
    assert "R-squared" in capsys.readouterr().out
    reg = pd.read_csv(out2).set_index("indicator")
    assert reg.loc["hold_rate", "weight"] >= 0.05 - 1e-9
    # AHP prints the consistency ratio
    pw = tmp_path / "pw.yaml"
    pw.write_text('judgements:\n  "csat:fcr": 3\n  "csat:aht": 5\n  "fcr:aht": 1/4\n')
    assert main(["weights", "--method", "ahp", "--pairwise", str(pw), "--out", str(tmp_path / "ahp.csv")]) == 0
    text = capsys.readouterr().out
    assert "consistency ratio CR =" in text and "INCONSISTENT" in text
    # bad input: one-line error, exit 2
    assert main(["weights", "--panel", str(panel), "--method", "nope", "--out", str(tmp_path / "x.csv")]) == 2
    assert "Unknown weighting method" in capsys.readouterr().err
    assert main(["weights", "--method", "entropy", "--out", str(tmp_path / "x.csv")]) == 2


def test_band_direction_uses_distance_to_band():
    wide = wide_panel(4).assign(contacts_per_day=np.tile([10.0, 20.0, 25.0, 40.0, 22.0], 15))
    wd = weights_matrix(wide)
    assert wd.directions["contacts_per_day"] == "band" and wd.bands["contacts_per_day"] == (15.0, 30.0)
    res = calibrate_weights(wd, "entropy")
    # band view: 10 -> -5, inside -> 0, 40 -> -10; min-max: 0.5, 1, 1, 0, 1
    z = np.tile([0.5, 1, 1, 0, 1], 15)
    X = wide.set_index(["unit_id", "period"])[["csat", "fcr", "aht", "hold_rate"]]
    X = X.assign(band_view=z)
    ref = entropy_weights(X, {"aht": "lower", "hold_rate": "lower"})
    np.testing.assert_allclose(res.weights.to_numpy(), ref.to_numpy(), atol=1e-12)


def test_outcome_series_is_aligned_by_index():
    from kpilab.errors import DataError
    from kpilab.weights import RegressionWeights

    wide = wide_panel(5).set_index(["unit_id", "period"])
    y = wide.pop("retention_rate").drop(columns=[], errors="ignore")
    X = wide[["csat", "fcr", "aht"]]
    a = RegressionWeights(n_boot=0).fit(X, {"aht": "lower"}, y=y).weights_
    b = RegressionWeights(n_boot=0).fit(X, {"aht": "lower"}, y=y.iloc[::-1]).weights_
    pd.testing.assert_series_equal(a, b)
    with pytest.raises(DataError, match="indexed differently"):
        RegressionWeights(n_boot=0).fit(X, y=y.set_axis([f"r{i}" for i in range(len(y))]))


def test_cli_named_set(tmp_path, capsys):
    out = tmp_path / "set.csv"
    assert main(["weights", "--method", "set", "--set", "supermarket", "--out", str(out)]) == 0
    df = pd.read_csv(out).set_index("indicator")
    assert df.loc["fcr", "weight"] == pytest.approx(0.25) and (df["method"] == "set:supermarket").all()
    assert main(["weights", "--method", "set", "--out", str(out)]) == 2
    assert "--set NAME" in capsys.readouterr().err
