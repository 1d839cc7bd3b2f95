"""Customer value tiers (issue 15): the framework's customer_tiers, assignment, the per-tier panel, scoring."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from kpilab.customers import CustomerIdMismatchError, assign_tiers, score_tiers, tier_panel
from kpilab.customers.tiers import NO_TIER
from kpilab.errors import FrameworkError, SchemaError
from kpilab.framework import DEFAULT_FRAMEWORK_PATH, load_framework
from kpilab.indicators.accounting import check_accounting
from tests.conftest import PROJ_ROOT

EXAMPLE = PROJ_ROOT / "data" / "framework_customer_tiers_example.yaml"


def hand_tables():
    """Ten contacts of six customers (plus one without a customer, one of an unknown customer)."""
    t0 = pd.Timestamp("2025-03-03 09:00", tz="UTC")
    rows = [  # contact_id, customer, queue, agent, minutes after t0, wait_s, csat
        ("k1", "c1", "dedicated", "a1", 0, 10, 5), ("k2", "c1", "dedicated", "a1", 60 * 24 * 10, 12, 4),
        ("k3", "c2", "general", "a2", 30, 40, 3), ("k4", "c3", "general", "a2", 90, 50, 5),
        ("k5", "c3", "general", "a1", 120, 20, 4), ("k6", "c4", "general", "a2", 200, 30, 2),
        ("k7", "c5", "dedicated", "a1", 300, 15, None), ("k8", "c6", "general", "a2", 400, 25, 5),
        ("k9", None, "general", "a1", 500, 5, 1), ("k10", "zz", "general", "a2", 600, 8, 1),
    ]
    arrived = [t0 + pd.Timedelta(minutes=r[4]) for r in rows]
    contacts = pd.DataFrame({
        "contact_id": [r[0] for r in rows], "channel": "phone", "queue": [r[2] for r in rows],
        "customer_id": [r[1] for r in rows], "agent_id": [r[3] for r in rows], "arrived_at": arrived,
        "answered_at": [a + pd.Timedelta(seconds=r[5]) for a, r in zip(arrived, rows, strict=True)],
        "ended_at": [a + pd.Timedelta(seconds=r[5] + 300) for a, r in zip(arrived, rows, strict=True)],
        "talk_s": 300.0, "abandoned": False})
    answered = [(r, a) for r, a in zip(rows, arrived, strict=True) if r[6] is not None]
    surveys = pd.DataFrame({"contact_id": [r[0] for r, _ in answered], "csat": [float(r[6]) for r, _ in answered],
                            "responded_at": [a + pd.Timedelta(hours=1) for _, a in answered]})
    customers = pd.DataFrame({"customer_id": ["c1", "c2", "c3", "c4", "c5", "c6"],
                              "monthly_charges": [100.0, 90.0, 10.0, 20.0, 30.0, 40.0],
                              "tenure": [24.0, 2.0, 1.0, 30.0, 30.0, 30.0],
                              "churned": [False, True, False, True, False, False],
                              "churn_risk": [0.05, 0.30, 0.10, 0.40, 0.10, 0.20]})
    return {"contacts": contacts, "surveys": surveys}, customers


@pytest.fixture(scope="module")
def raw_example() -> dict:
    return yaml.safe_load(EXAMPLE.read_text())


# --- framework field -----------------------------------------------------------------------------------------

def test_example_framework_loads_and_default_has_no_tiers():
    fw = load_framework(EXAMPLE)
    assert [t.tier for t in fw.customer_tiers] == ["high_value", "new", "standard"]
    hv = fw.customer_tiers[0]
    assert hv.rule.by == "value_quantile" and hv.rule.min == 0.8
    assert hv.targets["dedicated_coverage"].min == 0.95 and hv.targets["churn_risk"].max == 0.10
    assert fw.customer_tiers[1].targets["csat_top2"].min == 0.85
    assert load_framework(DEFAULT_FRAMEWORK_PATH).customer_tiers == []


@pytest.mark.parametrize("edit, message", [
    (lambda t: t[0]["rule"].update(min=1.5), "value_quantile bounds are quantiles in [0, 1]"),
    (lambda t: t[0]["rule"].update(by="segment"), "'by: segment' takes 'values: [...]' only"),
    (lambda t: t[1]["rule"].pop("column"), "'by: column' needs 'column'"),
    (lambda t: t.insert(0, {"tier": "all", "rule": {"by": "rest"}}), "'by: rest' must be the last tier"),
    (lambda t: t[0]["targets"].update(made_up={"min": 1}), "unknown indicator or measure ['made_up']"),
    (lambda t: t[0]["targets"].update(csat={"source": "x"}), "needs 'min', 'max' or both"),
    (lambda t: t.append(copy.deepcopy(t[1])), "tier names must be unique; repeated: ['new']"),
    (lambda t: t[0].update(rule={"by": "rfm_class", "values": ["vip"]}), "unknown RFM class(es) ['vip']"),
    (lambda t: t[2]["rule"].update(column="tenure"), "'by: rest' takes no other key"),
])
def test_bad_customer_tiers_name_the_key(raw_example, edit, message):
    raw = copy.deepcopy(raw_example)
    edit(raw["customer_tiers"])
    with pytest.raises(FrameworkError, match="customer_tiers") as err:
        load_framework(raw)
    assert message in str(err.value)


# --- assignment -------------------------------------------------------------------------------------------

def test_assignment_follows_rules_in_order():
    _, cust = hand_tables()
    fw = load_framework(EXAMPLE)
    a = assign_tiers(cust, fw).set_index("customer_id")
    # quantile 0.8 of (10, 20, 30, 40, 90, 100), linear interpolation = numpy's = 90: c1 and c2 are high value
    assert np.quantile([10, 20, 30, 40, 90, 100], 0.8) == pytest.approx(90.0)
    # c2 (tenure 2) is also new, but the first matching tier wins
    assert a["tier"].to_dict() == {"c1": "high_value", "c2": "high_value", "c3": "new", "c4": "standard",
                                   "c5": "standard", "c6": "standard"}
    assert a.loc["c3", "rule"] == "tenure <= 3"


def test_assignment_segment_rfm_and_unassigned():
    cust = pd.DataFrame({"customer_id": ["a", "b", "c"], "segment": ["gold", "silver", None]})
    fw = load_framework({**yaml.safe_load(EXAMPLE.read_text()), "customer_tiers": [
        {"tier": "gold", "rule": {"by": "segment", "values": ["gold"]}},
        {"tier": "core", "rule": {"by": "rfm_class", "values": ["important value", "important retention"]}}]})
    rfm_classes = pd.DataFrame({"customer_id": ["a", "b"], "rfm_class": ["general value", "important retention"]})
    a = assign_tiers(cust, fw, rfm_classes=rfm_classes).set_index("customer_id")["tier"]
    assert a.to_dict() == {"a": "gold", "b": "core", "c": None}  # c has no RFM class (no contact): no tier
    with pytest.raises(Exception, match="needs the RFM classes"):
        assign_tiers(cust, fw)
    with pytest.raises(SchemaError, match="no segment column"):
        assign_tiers(cust.drop(columns="segment"), fw)


# --- tier panel on hand-worked data ----------------------------------------------------------------------------

def test_tier_panel_hand_worked():
    tables, cust = hand_tables()
    res = tier_panel(tables, cust, EXAMPLE, period="month")
    from kpilab.panel import validate_panel

    validate_panel(res.panel)  # a panel like any other: one row per tier, period and indicator
    p = res.panel.set_index(["unit_id", "indicator"])
    assert set(res.panel["unit_level"]) == {"tier"} and set(res.panel["period"]) == {"2025-03-01"}
    # high value = c1 (k1 csat 5, k2 csat 4) and c2 (k3 csat 3): mean 4, 2 of 3 top-2, 2 of 3 in the dedicated queue
    assert p.loc[("high_value", "csat"), "value"] == pytest.approx(4.0)
    assert p.loc[("high_value", "csat"), "n"] == 3
    assert p.loc[("high_value", "csat_top2"), "value"] == pytest.approx(2 / 3)
    assert p.loc[("high_value", "dedicated_coverage"), ["numerator", "denominator"]].tolist() == [2, 3]
    # new = c3 (k4 5, k5 4); standard = c4, c5, c6 (k6 2, k7 no survey, k8 5); k9 (no id), k10 (unknown) in no tier
    assert p.loc[("new", "csat"), "value"] == pytest.approx(4.5)
    assert p.loc[("standard", "csat"), "value"] == pytest.approx(3.5)
    assert p.loc[("standard", "dedicated_coverage"), "value"] == pytest.approx(1 / 3)
    # the Student-t interval of the high-value CSAT (5, 4, 3), independently from scipy
    lo, hi = stats.t.interval(0.95, 2, loc=4.0, scale=stats.sem([5, 4, 3]))
    assert p.loc[("high_value", "csat"), ["ci_low", "ci_high"]].tolist() == pytest.approx([lo, hi])
    assert (res.panel["flag"].str.contains("small_n")).all()
    # every row accounted for: the two contacts and two surveys without a tier are excluded with a reason
    acc = res.accounting
    assert check_accounting(acc)
    first = acc.groupby("table").first()
    assert first.loc["contacts", ["rows_read", "rows_used", "rows_excluded"]].tolist() == [10, 8, 2]
    assert first.loc["surveys", ["rows_read", "rows_used", "rows_excluded"]].tolist() == [9, 7, 2]
    assert acc["reason"].str.startswith(NO_TIER).sum() == 2
    assert any("1 of 9 rows with a customer id name a customer not in the customers table" in n for n in res.notices)
    # sizes, value shares and churn per tier
    s = res.sizes.set_index("tier")
    assert s["n_customers"].tolist() == [2, 1, 3]
    assert s.loc["high_value", "value_share"] == pytest.approx(190 / 290)
    assert s.loc["standard", "churn_rate"] == pytest.approx(1 / 3)
    m = res.measures.set_index(["tier", "measure"])
    assert m.loc[("high_value", "churn_risk"), "value"] == pytest.approx(0.175)
    assert m.loc[("high_value", "churn_risk"), "ci_low"] == 0.0  # clipped: a mean probability
    assert "high_value: 2 customers" in res.summary()


def test_score_tiers_hand_worked():
    tables, cust = hand_tables()
    res = tier_panel(tables, cust, EXAMPLE, period="month")
    sc = score_tiers(res, EXAMPLE)
    t = sc.targets.set_index(["tier", "indicator"])
    # dedicated coverage 2/3, Wilson interval wholly below 0.95: missed
    assert t.loc[("high_value", "dedicated_coverage"), "status"] == "missed"
    assert t.loc[("high_value", "dedicated_coverage"), "ci_high"] < 0.95
    # churn risk 0.175 > 0.10 but its interval straddles the target: not settled, met False
    assert t.loc[("high_value", "churn_risk"), ["met", "status"]].tolist() == [False, "not settled"]
    # new customers: top-2 CSAT 2/2 >= 0.85 by value, interval [0.34, 1]: not settled
    assert t.loc[("new", "csat_top2"), ["met", "status"]].tolist() == [True, "not settled"]
    # every standard-tier FCR window runs past its data: no data, not a miss
    assert t.loc[("standard", "fcr"), "status"] == "no data"
    assert t.loc[("standard", "churn_rate"), "value"] == pytest.approx(1 / 3)
    bt = sc.by_tier().set_index("tier")
    assert bt.index.tolist() == ["high_value", "new", "standard"]
    assert bt.loc["high_value", ["n_targets", "n_met", "n_missed"]].tolist() == [3, 0, 1]
    assert bt.loc["new", "share_met"] == 1.0
    assert "high_value: 0 of 3" in sc.summary()


def test_tier_panel_adds_up_to_the_centre_panel_on_simulated_data():
    from kpilab.indicators import compute_panel
    from kpilab.simulate import simulate

    sim = simulate(agents=12, months=2, seed=3)
    ids = sim.tables["contacts"]["customer_id"].dropna().astype(str).unique()
    rng = np.random.default_rng(3)
    cust = pd.DataFrame({"customer_id": ids, "monthly_charges": rng.gamma(4, 15, len(ids)),
                         "tenure": rng.integers(0, 48, len(ids)).astype(float)})
    codes = ["csat_top2", "abandon_rate", "csat"]
    res = tier_panel(sim.tables, cust, EXAMPLE, period="month", indicators=codes)
    centre = compute_panel(sim.tables, period="month", unit="centre", framework=EXAMPLE, indicators=codes,
                           shrinkage=False).panel
    # every contact's customer is in a tier, so counts summed over the tiers give the centre's
    summed = res.panel.groupby(["period", "indicator"])[["numerator", "denominator", "n"]].sum()
    ref = centre.set_index(["period", "indicator"])[["numerator", "denominator", "n"]]
    pd.testing.assert_frame_equal(summed.sort_index(), ref.sort_index(), check_dtype=False)
    assert check_accounting(res.accounting)
    first = res.accounting.groupby("table").first()
    for name, df in sim.tables.items():
        assert first.loc[name, "rows_read"] == len(df)
    assert res.sizes["n_customers"].sum() == len(cust)


def test_customer_ids_that_do_not_match_are_refused_with_counts():
    tables, cust = hand_tables()
    other = cust.assign(customer_id=["x1", "x2", "x3", "x4", "x5", "c1"])
    with pytest.raises(CustomerIdMismatchError) as err:
        tier_panel(tables, other, EXAMPLE)
    e = err.value
    # 9 contacts carry a customer id; only c1's 2 match (22 %), 1 of 7 distinct ids
    assert (e.n_rows, e.n_rows_matched, e.n_ids, e.n_matched) == (9, 2, 7, 1)
    assert "2 of 9 rows (22%; 1 of 7 distinct ids)" in str(e) and "\n" not in str(e)
    with pytest.raises(FrameworkError, match="no 'customer_tiers:'"):
        tier_panel(tables, cust, None)
    with pytest.raises(SchemaError, match="no customer_id column"):
        tier_panel({"contacts": tables["contacts"].drop(columns="customer_id")}, cust, EXAMPLE)


@pytest.mark.shared_data
def test_tiers_on_the_telco_customers(shared_data):
    from kpilab.customers import read_customers
    from kpilab.customers.tiers import tier_customer_measures

    cust = read_customers(PROJ_ROOT / "data" / "telco_customers_mapping.yaml",
                          shared_data / "telco-churn" / "Telco-Customer-Churn.csv")
    a = assign_tiers(cust, load_framework(EXAMPLE))
    sizes, measures = tier_customer_measures(cust, a)
    raw = pd.read_csv(shared_data / "telco-churn" / "Telco-Customer-Churn.csv")
    # independently: top 20 % by MonthlyCharges, then tenure <= 3 months, then the rest
    cut = np.quantile(raw["MonthlyCharges"], 0.8)
    tier = np.where(raw["MonthlyCharges"] >= cut, "high_value", np.where(raw["tenure"] <= 3, "new", "standard"))
    churn = raw["Churn"].eq("Yes")
    s = sizes.set_index("tier")
    for t in ("high_value", "new", "standard"):
        assert s.loc[t, "n_customers"] == (tier == t).sum()
        assert s.loc[t, "churn_rate"] == pytest.approx(churn[tier == t].mean())
        assert s.loc[t, "value_share"] == pytest.approx(raw.loc[tier == t, "MonthlyCharges"].sum()
                                                        / raw["MonthlyCharges"].sum())
    # new customers churn most (about half), the classic tenure pattern of this file
    assert s.loc["new", "churn_rate"] > 0.45 > s.loc["standard", "churn_rate"]
    m = measures.set_index(["tier", "measure"])
    lo, hi = stats.binomtest(int(churn[tier == "new"].sum()), int((tier == "new").sum())).proportion_ci(
        0.95, method="wilson")
    assert m.loc[("new", "churn_rate"), ["ci_low", "ci_high"]].tolist() == pytest.approx([lo, hi])
    assert s["n_customers"].sum() == 7043 and NO_TIER not in s.index


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0, 500, allow_nan=False), min_size=5, max_size=80),
       st.floats(0.05, 0.95), st.integers(0, 60))
def test_assignment_is_a_partition(values, q, tenure_cut):
    n = len(values)
    cust = pd.DataFrame({"customer_id": [f"c{i}" for i in range(n)], "monthly_charges": values,
                         "tenure": [float(i % 61) for i in range(n)]})
    tiers = [{"tier": "top", "rule": {"by": "value_quantile", "min": q}},
             {"tier": "new", "rule": {"by": "column", "column": "tenure", "max": tenure_cut}},
             {"tier": "rest", "rule": {"by": "rest"}}]
    fw = load_framework({**yaml.safe_load(EXAMPLE.read_text()), "customer_tiers": tiers})
    a = assign_tiers(cust, fw)
    assert a["tier"].notna().all() and a["customer_id"].is_unique and len(a) == n  # one tier each
    top = a["tier"] == "top"
    cut = np.quantile(values, q)
    assert (cust.loc[top, "monthly_charges"] >= cut).all() and (cust.loc[~top, "monthly_charges"] < cut).all()
    assert (cust.loc[a["tier"] == "new", "tenure"] <= tenure_cut).all()
    assert (cust.loc[a["tier"] == "rest", "tenure"] > tenure_cut).all()
