"""Customer value (issue 15, first slice): the customers table, RFM classes and the churn-warning model."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from kpilab.cli import main
from kpilab.customers import CustomerIdMismatchError, read_customers, rfm, validate_customers
from kpilab.customers.rfm import CLASS_NAMES, rfm_score
from kpilab.errors import DataError, InsufficientDataError, SchemaError
from tests.conftest import PROJ_ROOT

MAPPING = PROJ_ROOT / "data" / "telco_customers_mapping.yaml"


def _telco(shared_data):
    return shared_data / "telco-churn" / "Telco-Customer-Churn.csv"


# --- customers table ---------------------------------------------------------------------------------------

@pytest.mark.shared_data
def test_telco_mapping_gives_the_canonical_customers_table(shared_data):
    cust = read_customers(MAPPING, _telco(shared_data))
    assert len(cust) == 7043 and cust["customer_id"].is_unique
    assert list(cust.columns[:5]) == ["customer_id", "segment", "monthly_charges", "tenure", "churned"]
    assert int(cust["churned"].sum()) == 1869  # 26.5 % churned, as published for this file
    assert set(cust["segment"]) == {"Month-to-month", "One year", "Two year"}
    assert cust["monthly_charges"].dtype == float and cust["tenure"].dtype == float
    # extra columns kept; blank TotalCharges (tenure 0) become missing, never 0
    assert {"gender", "InternetService", "TotalCharges"} <= set(cust.columns)
    assert cust["TotalCharges"].isna().sum() == 11 and (cust.loc[cust["TotalCharges"].isna(), "tenure"] == 0).all()


def test_customers_table_refuses_bad_ids_and_values():
    with pytest.raises(SchemaError, match="customer_id"):
        validate_customers(pd.DataFrame({"id": ["a"]}))
    with pytest.raises(SchemaError, match="duplicated id"):
        validate_customers(pd.DataFrame({"customer_id": ["a", "a"]}))
    with pytest.raises(SchemaError, match="negative"):
        validate_customers(pd.DataFrame({"customer_id": ["a"], "monthly_charges": [-1.0]}))
    with pytest.raises(SchemaError, match="not yes/no"):
        validate_customers(pd.DataFrame({"customer_id": ["a"], "churned": ["maybe"]}))
    with pytest.raises(SchemaError, match="churned_at but churned is not true"):
        validate_customers(pd.DataFrame({"customer_id": ["a"], "churned": [False], "churned_at": ["2025-01-01"]}))


# --- RFM ---------------------------------------------------------------------------------------------------

def test_quantile_score_without_and_with_ties():
    assert rfm_score(pd.Series(range(10)), 5).tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert rfm_score(pd.Series(range(10)), 5, higher_is_better=False).tolist() == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]
    # six tied ones share a score (mid-rank 3.5 -> ceil(5 * 3 / 10) = 2), whatever the row order
    s = rfm_score(pd.Series([1, 1, 1, 1, 1, 1, 2, 3, 4, 5]), 5)
    assert s.tolist() == [2] * 6 + [4, 4, 5, 5]


def test_rfm_hand_worked_example():
    # as of 2025-01-31 (last event). Hand-worked with k = 2:
    #   a: last 01-30 -> R 1 day,  F 2, M 20  | R rank among (26,16,1,0) desc: 3 -> ceil(2*2.5/4)=2
    #   b: last 01-31 -> R 0,      F 3, M 15  | R 2, F 2, M 1 (15 is 2nd of 1,15,20,100)
    #   c: last 01-05 -> R 26,     F 1, M 100 | R 1, F 1 (tied with d: mid-rank 1.5 -> 1), M 2
    #   d: last 01-15 -> R 16,     F 1, M 1   | R 1, F 1, M 1
    ev = pd.DataFrame({"customer_id": list("aabbbcd"),
                       "arrived_at": pd.to_datetime(["2025-01-01", "2025-01-30", "2025-01-10", "2025-01-20",
                                                     "2025-01-31", "2025-01-05", "2025-01-15"]),
                       "amount": [10, 10, 5, 5, 5, 100, 1]})
    cust = pd.DataFrame({"customer_id": list("abcde"), "churned": [False, False, True, True, False]})
    r = rfm(ev, cust, value_col="amount", n_bins=2)
    c = r.customers.set_index("customer_id")
    assert c["recency_days"].tolist() == [1, 0, 26, 16]
    assert c["rfm_code"].tolist() == ["222", "221", "112", "111"]
    # high = score above the mean score (1.5 for every dimension here)
    assert c["rfm_class"].tolist() == ["important value", "general value", "important win-back",
                                       "general win-back"]
    t = r.to_frame().set_index(["scheme", "group"])
    assert len(t.loc["class"]) == 8 and t.loc["class", "n_customers"].sum() == 4
    assert t.loc[("class", "important value"), "value_share"] == pytest.approx(20 / 136)
    assert t.loc[("class", "important win-back"), "value_share"] == pytest.approx(100 / 136)
    assert t.loc[("class", "important win-back"), "churn_rate"] == 1.0
    assert t.loc[("class", "general value"), "churn_rate"] == 0.0
    assert np.isnan(t.loc[("class", "important retention"), "churn_rate"])  # empty class: NaN, size 0
    assert "segment" not in t.index.get_level_values("scheme")  # named segments need quintiles
    assert "important value" in r.summary()


def test_rfm_on_simulated_contacts():
    # The Telco sample has no contact dates, so RFM runs on simulated contacts (recency = days since the
    # last contact, as issue 15 defines it) with a customers table carrying monthly charges and churn.
    from kpilab.simulate import simulate

    contacts = simulate(agents=20, months=3, seed=1).tables["contacts"]
    ids = contacts["customer_id"].dropna().astype(str).unique()
    rng = np.random.default_rng(1)
    cust = pd.DataFrame({"customer_id": ids, "monthly_charges": rng.gamma(4, 15, len(ids)).round(2),
                         "churned": rng.random(len(ids)) < 0.2})
    r = rfm(contacts, cust)
    c = r.customers
    assert len(c) == len(ids) and c[["r_score", "f_score", "m_score"]].isin(range(1, 6)).all().all()
    # ties share a score: one recency or frequency value, one score
    assert (c.groupby("frequency")["f_score"].nunique() == 1).all()
    assert (c.groupby("recency_days")["r_score"].nunique() == 1).all()
    assert c["frequency"].sum() == contacts["customer_id"].notna().sum()
    assert set(c["rfm_class"]) <= set(CLASS_NAMES.values()) and c["segment"].notna().all()
    t = r.to_frame()
    for scheme in ("class", "segment"):
        sub = t[t["scheme"] == scheme]
        assert sub["n_customers"].sum() == len(c)
        assert sub["value_share"].sum() == pytest.approx(1.0)
    by = c.groupby("rfm_class")["churned"].mean()
    got = t[t["scheme"] == "class"].set_index("group")["churn_rate"].dropna()
    pd.testing.assert_series_equal(got.sort_index(), by.astype(float).sort_index(), check_names=False)


def test_rfm_bad_input():
    ev = pd.DataFrame({"customer_id": ["a", "b"], "arrived_at": pd.to_datetime(["2025-01-01", "2025-01-02"])})
    with pytest.raises(CustomerIdMismatchError, match=r"0 of 2 rows \(0%; 0 of 2 distinct ids\)") as err:
        rfm(ev, pd.DataFrame({"customer_id": ["x"], "monthly_charges": [1.0]}))
    assert isinstance(err.value, DataError) and (err.value.n_rows, err.value.n_rows_matched) == (2, 0)
    with pytest.raises(DataError, match="no monetary value"):
        rfm(ev)
    with pytest.raises(InsufficientDataError, match="fewer than n_bins"):
        rfm(ev, pd.DataFrame({"customer_id": ["a", "b"], "monthly_charges": [1.0, 2.0]}))
    with pytest.raises(SchemaError, match="no column"):
        rfm(ev.drop(columns="arrived_at"), value_col=None)


# --- churn-warning model -------------------------------------------------------------------------------------

@pytest.mark.slow  # 5-fold CV of two calibrated pipelines on 7,043 rows: minutes on a loaded machine
@pytest.mark.shared_data
def test_churn_fit_on_telco(shared_data, tmp_path, capsys):
    out = tmp_path / "churn"
    # TotalCharges is about tenure x MonthlyCharges: left out so tenure is not counted twice
    assert main(["churn", "fit", "--data", str(_telco(shared_data)), "--target", "Churn", "--id", "customerID",
                 "--exclude", "TotalCharges", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    m = pd.read_csv(out / "metrics.csv").set_index("model")
    # published logistic baselines on this file reach about 0.84 (out of sample)
    assert 0.82 < m.loc["logistic", "roc_auc"] < 0.87
    assert m.loc["logistic", "roc_auc_ci_low"] < m.loc["logistic", "roc_auc"] < m.loc["logistic", "roc_auc_ci_high"]
    assert (m["brier"] < 0.25 * 0.75).all()  # better than predicting the base rate for everyone
    assert m["selected"].sum() == 1 and f"ROC AUC {m.loc['logistic', 'roc_auc']:.3f}" in printed
    cal = pd.read_csv(out / "calibration.csv")
    assert (cal["mean_predicted"] - cal["observed_rate"]).abs().max() < 0.06  # calibrated within 6 points
    lift = pd.read_csv(out / "lift.csv")
    assert (lift.loc[lift["top_share"] == 0.1, "lift"] > 2).all()
    pred = pd.read_csv(out / "predictions.csv")
    assert len(pred) == 7043 and pred["id"].is_unique
    meta = json.loads((out / "model.json").read_text())
    assert "TotalCharges" not in meta["features"] and "customerID" not in meta["features"]
    assert (out / "model.joblib").is_file()
    # churn score applies the saved model to customers (target ignored) and returns calibrated risks
    new = tmp_path / "new.csv"
    pd.read_csv(_telco(shared_data), dtype=str, keep_default_na=False).head(50).to_csv(new, index=False)
    assert main(["churn", "score", "--model", str(out), "--data", str(new), "--out", str(tmp_path / "r.csv")]) == 0
    risk = pd.read_csv(tmp_path / "r.csv")
    assert list(risk.columns) == ["id", "churn_risk"] and len(risk) == 50
    assert risk["churn_risk"].between(0, 1).all()


def _toy(n=200, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    return pd.DataFrame({"cid": [f"c{i}" for i in range(n)], "x": x.round(3),
                         "plan": rng.choice(["a", "b"], n), "churn": np.where(x + rng.normal(size=n) > 0.8,
                                                                              "Yes", "No")})


@pytest.mark.parametrize("change, args, reason", [
    (None, ["--target", "Churned"], "target column 'Churned' is not in the data"),
    (lambda d: d.assign(churn="No"), ["--target", "churn", "--id", "cid"], "one class only"),
    (None, ["--target", "churn"], "looks like an id"),
    (lambda d: d.assign(leak=d["churn"].map({"Yes": "gone", "No": "here"})), ["--target", "churn", "--id", "cid"],
     "'leak' separates the target perfectly"),
])
def test_churn_fit_bad_input_exits_2_with_one_line(tmp_path, capsys, change, args, reason):
    d = _toy()
    if change is not None:
        d = change(d)
    path = tmp_path / "customers.csv"
    d.to_csv(path, index=False)
    assert main(["churn", "fit", "--data", str(path), *args, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("kpilab churn: error:") and reason in err and "\n" not in err


def test_churn_fit_toy_is_reproducible():
    from kpilab.customers import fit_churn

    d = _toy(300)
    a = fit_churn(d, "churn", id_column="cid", models=("logistic",), n_boot=50, seed=3)
    b = fit_churn(d, "churn", id_column="cid", models=("logistic",), n_boot=50, seed=3)
    pd.testing.assert_frame_equal(a.metrics, b.metrics)
    assert a.metrics.loc[0, "roc_auc"] > 0.75 and "logistic" in a.summary()
