"""Health review and weights on a real customer-level sample (IBM telco churn), through the CLI."""

from __future__ import annotations

import pandas as pd
import pytest
from scipy import stats

from kpilab.cli import main

pytestmark = pytest.mark.shared_data

INDICATORS = ["tenure", "monthly_charges", "total_charges", "senior_citizen", "paperless"]
DIRECTIONS = ["tenure=higher", "monthly_charges=lower", "total_charges=higher", "senior_citizen=lower",
              "paperless=lower", "retained=higher"]


@pytest.fixture(scope="module")
def churn_wide(shared_data, tmp_path_factory):
    raw = pd.read_csv(shared_data / "telco-churn" / "Telco-Customer-Churn.csv")
    wide = pd.DataFrame({
        "unit_id": raw["customerID"],
        "tenure": raw["tenure"].astype(float),
        "monthly_charges": raw["MonthlyCharges"],
        # 11 customers with tenure 0 have a blank TotalCharges: they must be left out, not zero
        "total_charges": pd.to_numeric(raw["TotalCharges"], errors="coerce"),
        "senior_citizen": raw["SeniorCitizen"].astype(float),
        "paperless": (raw["PaperlessBilling"] == "Yes").astype(float),
        "retained": (raw["Churn"] == "No").astype(float),
    })
    path = tmp_path_factory.mktemp("churn") / "wide.csv"
    wide.to_csv(path, index=False)
    return wide, path


def test_health_on_churn_matches_scipy(churn_wide, tmp_path, capsys):
    wide, path = churn_wide
    out = tmp_path / "health"
    args = ["health", "--panel", str(path), "--outcome", "retained", "--no-figures", "--out", str(out)]
    for d in DIRECTIONS:
        args += ["--direction", d]
    assert main(args) == 0
    dec = pd.read_csv(out / "decisions.csv").set_index("indicator")
    assert set(dec.index) == set(INDICATORS)
    for code in INDICATORS:
        pair = wide[[code, "retained"]].dropna()
        r = stats.spearmanr(pair[code], pair["retained"]).statistic
        assert dec.loc[code, "r"] == pytest.approx(r, abs=1e-9)
        assert dec.loc[code, "n"] == len(pair)
    assert dec.loc["total_charges", "n"] == len(wide) - 11
    # tenure is the classic churn driver (|rho| about 0.37 here): kept, with a clear interval
    assert dec.loc["tenure", "decision"] == "keep" and dec.loc["tenure", "ci_low"] > 0.3
    assert dec["decision"].isin(["keep", "review", "prune"]).all() and dec["reason"].str.len().gt(20).all()


def test_critic_weights_on_churn_match_the_formula(churn_wide, tmp_path, capsys):
    wide, path = churn_wide
    out = tmp_path / "weights.csv"
    args = ["weights", "--panel", str(path), "--method", "critic", "--outcome", "retained", "--out", str(out)]
    for d in DIRECTIONS:
        args += ["--direction", d]
    assert main(args) == 0
    assert "Dropped 11 row(s) with missing values" in capsys.readouterr().out
    w = pd.read_csv(out).set_index("indicator")["weight"]
    assert set(w.index) == set(INDICATORS)  # the outcome is not weighted
    # independent CRITIC (Diakoulaki et al. 1995): direction-aware min-max, sd (ddof 1), Pearson r
    X = wide[INDICATORS].dropna()
    lower = {"monthly_charges", "senior_citizen", "paperless"}
    Z = pd.DataFrame({c: ((X[c].max() - X[c]) if c in lower else (X[c] - X[c].min())) / (X[c].max() - X[c].min())
                      for c in INDICATORS})
    c = Z.std(ddof=1) * (1 - Z.corr()).sum()
    expected = c / c.sum()
    pd.testing.assert_series_equal(w[INDICATORS], expected[INDICATORS], check_names=False, atol=1e-9)
