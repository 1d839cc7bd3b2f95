"""Service -> churn at customer level and churn-warning accuracy (issue 15)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.proportion import proportion_confint

from kpilab.customers import CustomerIdMismatchError, customer_service, service_link, warning_accuracy
from kpilab.errors import DataError, InsufficientDataError, ParameterError, SchemaError
from tests.test_tiers import hand_tables

# --- customer-level service measures ------------------------------------------------------------------------


def test_customer_service_hand_worked():
    tables, cust = hand_tables()
    s = customer_service(tables["contacts"], cust, tables["surveys"]).set_index("customer_id")
    assert list(s.index) == ["c1", "c2", "c3", "c4", "c5", "c6"]  # k9 (no id) and k10 (unknown 'zz') left out
    # c1: k1 then k2 ten days later (> 7-day window): first contact resolved; c3: k5 30 min after k4: a repeat
    assert s["first_contact_resolved"].to_dict() == {"c1": 1, "c2": 1, "c3": 0, "c4": 1, "c5": 1, "c6": 1}
    assert s.loc["c1", "n_contacts"] == 2 and s.loc["c3", "n_contacts"] == 2 and s.loc["c2", "n_contacts"] == 1
    assert s.loc["c1", "mean_wait_min"] == pytest.approx((10 + 12) / 2 / 60)
    assert s.loc["c3", "mean_wait_min"] == pytest.approx((50 + 20) / 2 / 60)
    assert s.loc["c1", "mean_csat"] == 4.5 and s.loc["c1", "n_surveys"] == 2
    assert np.isnan(s.loc["c5", "mean_csat"]) and s.loc["c5", "n_surveys"] == 0
    assert s.loc["c3", "agent_id"] == "a2"  # agent of the first answered contact
    assert s["churned"].to_dict() == {"c1": 0, "c2": 1, "c3": 0, "c4": 1, "c5": 0, "c6": 0}


def test_customer_service_censoring_and_agent_flag():
    tables, cust = hand_tables()
    c = tables["contacts"].copy()
    # drop k2: the data now ends 10 h after c1's first contact, whose 7-day window is no longer observed
    short = c[c["contact_id"] != "k2"]
    s = customer_service(short, cust).set_index("customer_id")
    # no repeat seen and the window not observed: unknown, not resolved; c3's repeat 30 min later is seen
    assert s["first_contact_resolved"].drop("c3").isna().all() and s.loc["c3", "first_contact_resolved"] == 0
    assert s.loc["c3", "n_contacts"] == 2 and np.isnan(s.loc["c3", "mean_csat"])  # no surveys given
    resolved = [True, False, False, True, True, False, True, None, True, True]  # k1 .. k10
    flagged = customer_service(c.assign(resolved=resolved), cust, fcr_method="agent_flag")
    pd.testing.assert_series_equal(flagged.set_index("customer_id")["first_contact_resolved"],
                                   pd.Series([1.0, 0.0, 1.0, 0.0, 1.0, np.nan], index=pd.Index(
                                       ["c1", "c2", "c3", "c4", "c5", "c6"], name="customer_id"),
                                             name="first_contact_resolved"))


def test_customer_service_bad_input():
    tables, cust = hand_tables()
    with pytest.raises(CustomerIdMismatchError, match="0 of 9 rows"):
        customer_service(tables["contacts"], cust.assign(customer_id=[f"x{i}" for i in range(6)]))
    with pytest.raises(SchemaError, match="'churned' column"):
        customer_service(tables["contacts"], cust.drop(columns="churned"))
    with pytest.raises(SchemaError, match="resolved"):
        customer_service(tables["contacts"], cust, fcr_method="agent_flag")
    with pytest.raises(ParameterError, match="fcr_method"):
        customer_service(tables["contacts"], cust, fcr_method="survey")


# --- logistic model with clustered errors ---------------------------------------------------------------------

def planted(seed: int, n: int = 3000, agents: int = 40) -> pd.DataFrame:
    """Customers with a known churn model: log-odds -1 - 0.8 FCR + 0.15 wait + 0.3 (contacts - 1) + agent effect."""
    rng = np.random.default_rng(seed)
    ag = rng.integers(0, agents, n)
    agent_effect = rng.normal(0, 0.3, agents)
    fcr = (rng.random(n) < 0.55 + 0.3 * rng.random(agents)[ag]).astype(float)  # agents differ in FCR too
    wait = rng.exponential(2, n)
    nc = 1 + rng.poisson(0.8, n)
    eta = -1.0 - 0.8 * fcr + 0.15 * wait + 0.3 * (nc - 1) + agent_effect[ag]
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
    csat = np.where(rng.random(n) < 0.2, np.clip(np.round(3.5 + fcr + rng.normal(0, 0.8, n)), 1, 5), np.nan)
    return pd.DataFrame({"customer_id": [f"c{i}" for i in range(n)], "agent_id": [f"a{j}" for j in ag],
                         "n_contacts": nc, "first_contact_resolved": fcr, "mean_wait_min": wait, "mean_csat": csat,
                         "churned": y})


def test_service_link_matches_an_independent_sandwich():
    d = planted(1)
    res = service_link(d, covariates=["first_contact_resolved", "mean_wait_min", "n_contacts"])
    X = np.column_stack([np.ones(len(d)), d[["first_contact_resolved", "mean_wait_min", "n_contacts"]]])
    y = d["churned"].to_numpy()
    # maximum likelihood by Newton-Raphson, written out
    b = np.zeros(4)
    for _ in range(50):
        p = 1 / (1 + np.exp(-X @ b))
        b = b + np.linalg.solve(X.T @ (X * (p * (1 - p))[:, None]), X.T @ (y - p))
    p = 1 / (1 + np.exp(-X @ b))
    bread = np.linalg.inv(X.T @ (X * (p * (1 - p))[:, None]))
    scores = pd.DataFrame(X * (y - p)[:, None]).groupby(d["agent_id"].to_numpy()).sum().to_numpy()
    G, N, K = scores.shape[0], len(y), X.shape[1]
    # Cameron & Miller (2015) eq. (12) small-sample factor, the one statsmodels applies
    V = G / (G - 1) * (N - 1) / (N - K) * bread @ (scores.T @ scores) @ bread
    t = res.table
    assert t["coef"].to_numpy() == pytest.approx(b[1:], rel=1e-6)
    assert t["se"].to_numpy() == pytest.approx(np.sqrt(np.diag(V))[1:], rel=1e-6)
    assert t["odds_ratio"].to_numpy() == pytest.approx(np.exp(b[1:]))
    assert t["ci_low"].to_numpy() == pytest.approx(np.exp(b[1:] - 1.959963984540054 * np.sqrt(np.diag(V))[1:]))
    # and the same model through statsmodels' GLM interface
    glm = sm.GLM(y, X, family=sm.families.Binomial()).fit(cov_type="cluster",
                                                          cov_kwds={"groups": pd.factorize(d["agent_id"])[0]})
    assert t["coef"].to_numpy() == pytest.approx(glm.params[1:], rel=1e-6)
    assert (t["n"] == 3000).all() and (t["n_clusters"] == 40).all() and t["n_events"].iloc[0] == int(y.sum())
    assert "errors clustered by agent_id (40 clusters)" in res.summary()


def test_service_link_recovers_a_planted_effect():
    truth = {"first_contact_resolved": np.exp(-0.8), "mean_wait_min": np.exp(0.15), "n_contacts": np.exp(0.3)}
    covered = dict.fromkeys(truth, 0)
    for seed in range(20):
        t = service_link(planted(seed), covariates=list(truth)).table.set_index("term")
        for k, v in truth.items():
            covered[k] += int(t.loc[k, "ci_low"] <= v <= t.loc[k, "ci_high"])
        assert t.loc["first_contact_resolved", "ci_high"] < 1  # resolved customers churn less, every seed
    # 95 % intervals: at least 17 of 20 cover (P(fewer) < 8 % per term if the coverage is exact)
    assert min(covered.values()) >= 17, covered


def test_service_link_automatic_covariates_and_accounting():
    d = planted(2)
    d.loc[:9, "churned"] = np.nan
    d.loc[10:14, "mean_wait_min"] = np.nan
    res = service_link(d)
    assert res.options["covariates"] == ["first_contact_resolved", "mean_wait_min", "n_contacts"]
    assert any(n.startswith("mean_csat left out: known for 20%") for n in res.notices)
    acc = res.accounting.set_index("reason")["customers"]
    assert acc["churn unknown"] == 10 and acc["missing mean_wait_min"] == 5 and acc["used"] == 3000 - 15
    with_csat = service_link(d, covariates=["first_contact_resolved", "mean_csat"])
    assert with_csat.table["n"].iloc[0] == d[["churned", "mean_csat"]].notna().all(axis=1).sum()


def test_service_link_bad_input():
    d = planted(3, n=400)
    with pytest.raises(InsufficientDataError, match="all 400 are retained"):
        service_link(d.assign(churned=0.0))
    sep = d.assign(first_contact_resolved=1.0 - d["churned"])  # resolution predicts churn perfectly
    with pytest.raises(DataError, match="separates churners perfectly"):
        service_link(sep, covariates=["first_contact_resolved"])
    with pytest.raises(SchemaError, match="'agent_id' is missing"):
        service_link(d.drop(columns="agent_id"))
    with pytest.raises(SchemaError, match="'waits'"):
        service_link(d, covariates=["waits"])
    few = service_link(d.assign(agent_id=d["agent_id"].str[:2]), covariates=["n_contacts"])
    assert any("clusters (< 20)" in n for n in few.notices)


# --- churn-warning accuracy -----------------------------------------------------------------------------------

def test_warning_accuracy_hand_worked_with_wilson_intervals():
    warn = pd.DataFrame({"customer_id": [f"c{i}" for i in range(12)],
                         "manager": ["m1"] * 6 + ["m2"] * 6,
                         "churn_risk": [0.9, 0.8, 0.7, 0.6, 0.2, 0.1, 0.95, 0.4, 0.3, 0.2, 0.1, 0.05]})
    out = pd.DataFrame({"customer_id": [f"c{i}" for i in range(13)],
                        "churned": ["Yes", "Yes", "No", "No", "Yes", "No", "No", "Yes", "No", "No", "No", "No",
                                    "Yes"]})
    t = warning_accuracy(warn, out, threshold=0.5, by="manager", min_n=5).set_index("group")
    # warned (risk >= 0.5): c0 c1 c2 c3 (m1), c6 (m2); churners among the 12: c0 c1 c4 c7
    assert t.loc["all", ["n_customers", "n_warned", "n_churned", "true_positives"]].tolist() == [12, 5, 4, 2]
    assert t.loc["all", "precision"] == pytest.approx(2 / 5) and t.loc["all", "recall"] == pytest.approx(2 / 4)
    lo, hi = proportion_confint(2, 5, method="wilson")
    assert t.loc["all", ["precision_ci_low", "precision_ci_high"]].tolist() == pytest.approx([lo, hi])
    lo, hi = proportion_confint(2, 4, method="wilson")
    assert t.loc["all", ["recall_ci_low", "recall_ci_high"]].tolist() == pytest.approx([lo, hi])
    assert t.loc["m1", ["precision", "recall"]].tolist() == pytest.approx([2 / 4, 2 / 3])
    assert t.loc["m2", "precision"] == 0 and t.loc["m2", "recall"] == 0  # warned c6 stayed, missed c7
    assert t.loc["m2", "flag"] == "small_n_precision;small_n_recall"
    assert list(t.index) == ["all", "m1", "m2"]
    # c12 churned but was never on last quarter's list: reported, not silently counted as a miss
    res = warning_accuracy(warn, out, threshold=0.5)
    assert res.attrs["excluded"]["outcome, no warning record"] == 1 and res.attrs["basis"] == "churn_risk >= 0.5"


def test_warning_accuracy_flags_and_bad_input():
    warn = pd.DataFrame({"customer_id": ["a", "b", "c"], "warned": ["yes", "no", "no"]})
    out = pd.DataFrame({"customer_id": ["a", "b", "c"], "churned": [False, False, False]})
    t = warning_accuracy(warn, out).iloc[0]
    assert t["precision"] == 0 and np.isnan(t["recall"]) and np.isnan(t["recall_ci_low"])  # nobody churned
    with pytest.raises(ParameterError, match="needs a yes/no column 'warned'"):
        warning_accuracy(warn.drop(columns="warned"), out)
    with pytest.raises(DataError, match="no customer is in both"):
        warning_accuracy(warn.assign(customer_id=["x", "y", "z"]), out)
    with pytest.raises(SchemaError, match="not yes/no"):
        warning_accuracy(warn.assign(warned=["maybe", "no", "no"]), out)
    with pytest.raises(SchemaError, match="duplicated customer_id"):
        warning_accuracy(warn.assign(customer_id=["a", "a", "c"]), out)
    with pytest.raises(SchemaError, match="'churned'"):
        warning_accuracy(warn, out.drop(columns="churned"))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.booleans(), st.sampled_from(["m1", "m2", "m3"])), min_size=1,
                max_size=60))
def test_warning_accuracy_invariants(rows):
    ids = [f"c{i}" for i in range(len(rows))]
    w = pd.DataFrame({"customer_id": ids, "warned": [r[0] for r in rows], "manager": [r[2] for r in rows]})
    o = pd.DataFrame({"customer_id": ids, "churned": [r[1] for r in rows]})
    t = warning_accuracy(w, o, by="manager")
    a = t.iloc[0]
    # the groups partition the customers; true positives never exceed warned or churned
    assert t.iloc[1:][["n_customers", "n_warned", "n_churned", "true_positives"]].sum().tolist() == \
        a[["n_customers", "n_warned", "n_churned", "true_positives"]].tolist()
    assert (t["true_positives"] <= t[["n_warned", "n_churned"]].min(axis=1)).all()
    for k in ("precision", "recall"):
        ok = t[k].notna()
        assert (t.loc[ok, f"{k}_ci_low"] <= t.loc[ok, k] + 1e-12).all()
        assert (t.loc[ok, k] <= t.loc[ok, f"{k}_ci_high"] + 1e-12).all()
    assert np.isnan(a["precision"]) == (a["n_warned"] == 0) and np.isnan(a["recall"]) == (a["n_churned"] == 0)
