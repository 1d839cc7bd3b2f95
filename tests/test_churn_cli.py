"""kpilab churn rfm | tiers | service-link | accuracy end to end on a small simulated centre (issue 15)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kpilab.cli import main
from kpilab.customers import customer_service, rfm, service_link
from kpilab.simulate import simulate, write_simulation
from tests.conftest import PROJ_ROOT

EXAMPLE = PROJ_ROOT / "data" / "framework_customer_tiers_example.yaml"


@pytest.fixture(scope="module")
def centre(tmp_path_factory):
    """A simulated centre and a customers table whose churn is the simulator's own outcome (not retained)."""
    root = tmp_path_factory.mktemp("churn_cli")
    sim = simulate(agents=12, months=2, seed=5)
    write_simulation(sim, root / "data")
    c = sim.tables["contacts"]
    churned = c[c["customer_id"].notna()].groupby("customer_id")["retained"].agg(lambda s: bool((s == False).any()))  # noqa: E712
    rng = np.random.default_rng(5)
    cust = pd.DataFrame({"customer_id": churned.index, "monthly_charges": rng.gamma(4, 15, len(churned)).round(2),
                         "tenure": rng.integers(0, 48, len(churned)).astype(float), "churned": churned.to_numpy()})
    cust.to_csv(root / "customers.csv", index=False)
    return root, sim, cust


def test_rfm_tiers_and_service_link_commands(centre, tmp_path, capsys):
    root, sim, cust = centre
    data, customers = str(root / "data"), str(root / "customers.csv")
    assert main(["churn", "rfm", "--data", data, "--customers", customers, "--out", str(tmp_path / "rfm")]) == 0
    classes = pd.read_csv(tmp_path / "rfm" / "rfm_classes.csv", keep_default_na=False, na_values=[""]).fillna(
        {"flag": ""})
    ref = rfm(sim.tables["contacts"], cust).to_frame()
    pd.testing.assert_frame_equal(classes, ref, check_dtype=False)
    assert (classes["scheme"] == "class").sum() == 8 and (tmp_path / "rfm" / "rfm.png").stat().st_size > 1000
    assert main(["churn", "tiers", "--data", data, "--customers", customers, "--framework", str(EXAMPLE),
                 "--out", str(tmp_path / "tiers")]) == 0
    printed = capsys.readouterr().out
    targets = pd.read_csv(tmp_path / "tiers" / "tier_targets.csv")
    assert set(targets["tier"]) == {"high_value", "new", "standard"}
    assert set(targets["status"]) <= {"met", "missed", "not settled", "no data"}
    # churn_risk needs 'kpilab churn score' output (--risk): without it the high-value target has no data
    assert targets.loc[targets["indicator"] == "churn_risk", "status"].tolist() == ["no data"]
    acc = pd.read_csv(tmp_path / "tiers" / "accounting.csv").groupby("table").first()
    for name, df in sim.tables.items():
        assert acc.loc[name, "rows_read"] == len(df)
    assert "targets met by value" in printed
    assert main(["churn", "service-link", "--data", data, "--customers", customers,
                 "--out", str(tmp_path / "link")]) == 0
    odds = pd.read_csv(tmp_path / "link" / "odds_ratios.csv")
    ref = service_link(customer_service(sim.tables["contacts"], cust, sim.tables["surveys"])).table
    pd.testing.assert_frame_equal(odds, ref, check_dtype=False)
    # the simulator's outcome improves with resolution: resolved first contacts churn less
    assert odds.set_index("term").loc["first_contact_resolved", "ci_high"] < 1
    assert "errors clustered by agent_id" in capsys.readouterr().out


def test_accuracy_command(tmp_path, capsys):
    rng = np.random.default_rng(0)
    ids = [f"c{i}" for i in range(200)]
    risk = rng.random(200)
    churn = rng.random(200) < 0.2 + 0.5 * risk
    pd.DataFrame({"id": ids, "churn_risk": risk, "team": rng.choice(["t1", "t2"], 200)}).to_csv(
        tmp_path / "w.csv", index=False)
    pd.DataFrame({"customer_id": ids, "churned": churn}).to_csv(tmp_path / "o.csv", index=False)
    assert main(["churn", "accuracy", "--warnings", str(tmp_path / "w.csv"), "--outcomes", str(tmp_path / "o.csv"),
                 "--threshold", "0.7", "--by", "team", "--out", str(tmp_path / "acc.csv")]) == 0
    t = pd.read_csv(tmp_path / "acc.csv").set_index("group")
    warned = risk >= 0.7
    assert t.loc["all", "precision"] == pytest.approx((warned & churn).sum() / warned.sum())
    assert t.loc["all", "recall"] == pytest.approx((warned & churn).sum() / churn.sum())
    assert list(t.index) == ["all", "t1", "t2"] and "churn_risk >= 0.7" in capsys.readouterr().out


def test_bad_input_exits_2_with_one_line(centre, tmp_path, capsys):
    root, _, cust = centre
    data = str(root / "data")
    wrong = tmp_path / "wrong.csv"
    cust.assign(customer_id="crm-" + cust["customer_id"].astype(str)).to_csv(wrong, index=False)
    assert main(["churn", "service-link", "--data", data, "--customers", str(wrong),
                 "--out", str(tmp_path / "o1")]) == 2
    err = capsys.readouterr().err.strip()
    assert "0 of " in err and "distinct ids) name a customer of the customers table" in err and "\n" not in err
    assert main(["churn", "tiers", "--data", data, "--customers", str(root / "customers.csv"),
                 "--framework", str(PROJ_ROOT / "kpilab" / "frameworks" / "contact_centre.yaml"),
                 "--out", str(tmp_path / "o2")]) == 2
    assert "no 'customer_tiers:'" in capsys.readouterr().err
    assert main(["churn", "rfm", "--data", data, "--customers", str(tmp_path / "none.csv"),
                 "--out", str(tmp_path / "o3")]) == 2
    assert "Customers file" in capsys.readouterr().err
    one_class = tmp_path / "one.csv"
    cust.assign(churned=False).to_csv(one_class, index=False)
    assert main(["churn", "service-link", "--data", data, "--customers", str(one_class),
                 "--out", str(tmp_path / "o4")]) == 2
    assert "a churn model needs churners and non-churners" in capsys.readouterr().err


def test_load_and_find_customers(tmp_path):
    from kpilab.customers import find_customers, load_customers
    from kpilab.errors import InputFileError

    assert find_customers(tmp_path) is None
    pd.DataFrame({"ID": ["a", "b"], "Churn": ["Yes", "No"], "MonthlyCharges": ["10.5", " "]}).to_csv(
        tmp_path / "customers.csv", index=False)
    from kpilab.errors import SchemaError

    with pytest.raises(SchemaError, match="required column 'customer_id' is missing"):
        load_customers(tmp_path / "customers.csv")  # export columns, not yet mapped
    # a mapping without source: maps the customers.csv beside it, like <table>.mapping.yaml for contacts
    (tmp_path / "customers.mapping.yaml").write_text(
        "table: customers\ncolumns: {ID: customer_id, Churn: churned, MonthlyCharges: monthly_charges}\n"
        "values: {churned: {'Yes': true, 'No': false}}\n")
    assert find_customers(tmp_path) == tmp_path / "customers.mapping.yaml"
    cust = load_customers(find_customers(tmp_path))
    assert cust["customer_id"].tolist() == ["a", "b"] and cust["churned"].tolist() == [True, False]
    assert cust["monthly_charges"].iloc[0] == 10.5 and np.isnan(cust["monthly_charges"].iloc[1])
    cust.to_parquet(tmp_path / "c.parquet")
    pd.testing.assert_frame_equal(load_customers(tmp_path / "c.parquet"), cust)
    with pytest.raises(InputFileError, match="does not exist"):
        load_customers(tmp_path / "nope.csv")
