"""kpilab.causal: hand-worked staggered example, 2x2 = statsmodels OLS, invariances, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf
from hypothesis import given, settings
from hypothesis import strategies as st

from kpilab.causal import (
    aggregate,
    did_panel,
    event_study,
    group_time_att,
    imputation_att,
    pretrend_test,
    read_training,
    training_effect,
    twfe,
)
from kpilab.cli import main
from kpilab.errors import DataError, InsufficientDataError, SchemaError
from kpilab.panel import PANEL_COLUMNS

WEEKS = ["2025-01-06", "2025-01-13", "2025-01-20"]


def long_panel(
    y: np.ndarray, units: list[str], periods: list[str], indicator: str = "qa_score"
) -> pd.DataFrame:
    rows = []
    for i, u in enumerate(units):
        for t, p in enumerate(periods):
            if not np.isnan(y[i, t]):
                rows.append(
                    {
                        "unit_id": u,
                        "unit_level": "agent",
                        "period": p,
                        "indicator": indicator,
                        "value": float(y[i, t]),
                        "numerator": np.nan,
                        "denominator": np.nan,
                        "n": 10.0,
                        "ci_low": np.nan,
                        "ci_high": np.nan,
                        "flag": "",
                    }
                )
    return pd.DataFrame(rows, columns=PANEL_COLUMNS)


# ---------------------------------------------------------------------------------------- hand-worked example
# Agents A, B trained in week 1 (2025-01-13), C in week 2 (2025-01-20), D and E never.
Y = np.array(
    [
        [10, 14, 17],  # A
        [12, 15, 20],  # B
        [11, 12, 16],  # C
        [9, 10, 12],  # D
        [13, 13, 15],
    ],  # E
    dtype=float,
)
UNITS = ["A", "B", "C", "D", "E"]
TRAINING = pd.DataFrame(
    {
        "agent_id": ["A", "B", "C"],
        "course": "qa",
        "trained_at": pd.to_datetime(["2025-01-13", "2025-01-15", "2025-01-20"]),
        "rating": [4.0, 5.0, 3.0],
    }
)


def test_hand_worked_group_time_effects_and_aggregates():
    dp = did_panel(long_panel(Y, UNITS, WEEKS), TRAINING, "qa_score")
    assert dp.cohort.tolist() == [1, 1, 2, -1, -1]  # B trained on a Wednesday: still week 1
    gt = group_time_att(dp.y, dp.cohort)
    att = {(r.cohort, r.period): r.att for r in gt.table.itertuples()}
    # ATT(1,1) = mean(A,B: 14-10, 15-12) - mean(D,E: 10-9, 13-13) = 3.5 - 0.5
    assert att[(1, 1)] == pytest.approx(3.0)
    # ATT(1,2) = mean(7, 8) - mean(3, 2)
    assert att[(1, 2)] == pytest.approx(5.0)
    # ATT(2,2), base week 1: (16-12) - mean(12-10, 15-13)
    assert att[(2, 2)] == pytest.approx(2.0)
    # pre-trend ATT(2,0), base week 1: (11-12) - mean(9-10, 13-13) = -1 + 0.5
    assert att[(2, 0)] == pytest.approx(-0.5)
    rel = gt.table["relative_period"].to_numpy()
    overall = aggregate(gt, rel >= 0)
    assert overall["estimate"] == pytest.approx(
        (2 * 3 + 2 * 5 + 1 * 2) / 5
    )  # weights: trained agents per cell
    assert (overall["n_treated"], overall["n_control"], overall["n_cells"]) == (3, 2, 5)
    one = aggregate(gt, (gt.table["cohort"] == 1).to_numpy() & (gt.table["period"] == 1).to_numpy())
    # two-sample variance: var(4, 3)/2 + var(1, 0)/2 = 0.25 + 0.25
    assert one["se"] == pytest.approx(np.sqrt(0.5))
    es, psi = event_study(gt)
    got = dict(zip(es["relative_period"], es["estimate"], strict=True))
    assert got == pytest.approx({-2: -0.5, -1: 0.0, 0: (2 * 3 + 1 * 2) / 3, 1: 5.0})
    pt = pretrend_test(es, psi)
    # one pre-period: F = t^2 of that coefficient
    row = es[es["relative_period"] == -2].iloc[0]
    assert pt["n_pre"] == 1 and pt["statistic"] == pytest.approx((row["estimate"] / row["se"]) ** 2)


def test_hand_worked_not_yet_treated_controls():
    gt = group_time_att(Y, np.array([1, 1, 2, -1, -1]), control="not_yet_treated")
    att = {(r.cohort, r.period): (r.att, r.n_control) for r in gt.table.itertuples()}
    # week 1: C (trained in week 2) joins the controls: 3.5 - mean(1, 0, 1)
    assert att[(1, 1)][0] == pytest.approx(3.5 - 2 / 3) and att[(1, 1)][1] == 3
    assert att[(1, 2)] == (pytest.approx(5.0), 2)  # C is trained by week 2


def test_imputation_matches_statsmodels_fit_on_untrained_cells():
    cohort = np.array([1, 1, 2, -1, -1])
    df = pd.DataFrame(
        [(u, t, Y[i, t], cohort[i] >= 0 and t >= cohort[i]) for i, u in enumerate(UNITS) for t in range(3)],
        columns=["u", "t", "y", "d"],
    )
    fit = smf.ols("y ~ C(u) + C(t)", data=df[~df["d"]]).fit()
    treated = df[df["d"]]
    expected = float((treated["y"] - fit.predict(treated)).mean())
    got = imputation_att(Y, cohort)
    assert got["estimate"] == pytest.approx(expected)
    assert got["n_treated"] == 3 and got["n_cells"] == 5


# ---------------------------------------------------------------------------------------- 2x2 = OLS
def test_two_by_two_equals_statsmodels_ols():
    rng = np.random.default_rng(7)
    n = 30
    treated = np.arange(n) < 12
    y = rng.normal(size=(n, 1)) + rng.normal(size=(n, 2)) + np.array([0.0, 0.4])
    y[treated, 1] += 1.5
    cohort = np.where(treated, 1, -1)
    gt = group_time_att(y, cohort)
    cs = aggregate(gt, np.array([True]))
    long = pd.DataFrame({"y": y.ravel(), "unit": np.repeat(np.arange(n), 2), "t": np.tile([0, 1], n)})
    long["d"] = (np.repeat(treated, 2) & (long["t"] == 1)).astype(float)
    ols = smf.ols("y ~ C(unit) + C(t) + d", data=long).fit()
    assert cs["estimate"] == pytest.approx(ols.params["d"])
    # the influence-function variance is the unbiased two-sample variance = HC2 of diff ~ treated
    diff = sm.OLS(y[:, 1] - y[:, 0], sm.add_constant(treated.astype(float))).fit(cov_type="HC2")
    assert cs["se"] == pytest.approx(diff.bse[1])
    assert imputation_att(y, cohort)["estimate"] == pytest.approx(ols.params["d"])
    tw = twfe(y, cohort)
    assert tw["estimate"] == pytest.approx(ols.params["d"])
    cl = smf.ols("y ~ C(unit) + C(t) + d", data=long).fit(
        cov_type="cluster", cov_kwds={"groups": long["unit"]}
    )
    assert tw["se"] == pytest.approx(cl.bse["d"])


def test_twfe_matches_statsmodels_on_a_staggered_unbalanced_panel():
    y = Y.copy()
    y[2, 0] = np.nan  # C not observed in week 0
    cohort = np.array([1, 1, 2, -1, -1])
    df = pd.DataFrame(
        [
            (u, t, y[i, t], float(cohort[i] >= 0 and t >= cohort[i]))
            for i, u in enumerate(UNITS)
            for t in range(3)
        ],
        columns=["u", "t", "y", "d"],
    ).dropna()
    fit = smf.ols("y ~ C(u) + C(t) + d", data=df).fit(
        cov_type="cluster", cov_kwds={"groups": pd.factorize(df["u"])[0]}, use_t=True
    )
    got = twfe(y, cohort)
    assert got["estimate"] == pytest.approx(fit.params["d"])
    assert got["se"] == pytest.approx(fit.bse["d"])
    assert (got["ci_low"], got["ci_high"]) == pytest.approx(tuple(fit.conf_int().loc["d"]))


# ---------------------------------------------------------------------------------------- invariances
@st.composite
def staggered(draw):
    n = draw(st.integers(6, 10))
    t = draw(st.integers(4, 6))
    cohort = np.array(draw(st.lists(st.integers(-1, t - 1), min_size=n, max_size=n)))
    cohort[cohort == 0] = 1
    cohort[0], cohort[1], cohort[2] = -1, -1, 1  # at least two never-trained agents and one early cohort
    seed = draw(st.integers(0, 2**31 - 1))
    y = np.random.default_rng(seed).normal(size=(n, t))
    return y, cohort


@settings(max_examples=40, deadline=None)
@given(staggered(), st.floats(-5, 5))
def test_agent_and_period_effects_cancel_and_a_constant_effect_is_recovered(data, tau):
    y, cohort = data
    n, t = y.shape
    rng = np.random.default_rng(0)
    shifted = y + rng.normal(size=(n, 1)) * 10 + rng.normal(size=(1, t)) * 10
    a, b = group_time_att(y, cohort), group_time_att(shifted, cohort)
    np.testing.assert_allclose(a.table["att"], b.table["att"], atol=1e-8)
    assert imputation_att(shifted, cohort)["estimate"] == pytest.approx(
        imputation_att(y, cohort)["estimate"], abs=1e-8
    )
    d = (cohort[:, None] >= 0) & (np.arange(t)[None, :] >= cohort[:, None])
    c = group_time_att(y + tau * d, cohort)
    post = (a.table["relative_period"] >= 0).to_numpy()
    np.testing.assert_allclose(
        c.table["att"].to_numpy()[post], a.table["att"].to_numpy()[post] + tau, atol=1e-8
    )
    np.testing.assert_allclose(c.table["att"].to_numpy()[~post], a.table["att"].to_numpy()[~post], atol=1e-8)
    assert imputation_att(y + tau * d, cohort)["estimate"] == pytest.approx(
        imputation_att(y, cohort)["estimate"] + tau, abs=1e-8
    )


# ---------------------------------------------------------------------------------------- API and result
def test_training_effect_result_tables_and_summary():
    res = training_effect(long_panel(Y, UNITS, WEEKS), TRAINING, "qa_score")
    assert res.att["estimator"].tolist() == ["callaway_santanna", "imputation", "twfe_naive"]
    assert {"estimator", "estimate", "ci_low", "ci_high", "n_treated", "n_control"} <= set(res.att.columns)
    assert res.estimate() == pytest.approx(3.6)
    assert {"relative_period", "estimate", "ci_low", "ci_high"} <= set(res.event_study.columns)
    stages = res.stages.set_index("stage")
    assert stages.loc["rating", "estimate"] == pytest.approx(4.0) and stages.loc["rating", "n"] == 3
    assert stages.loc["rating", "ci_high"] - 4.0 == pytest.approx(4.302653 * 1.0 / np.sqrt(3), rel=1e-5)
    assert stages.loc["two_weeks", "relative_periods"] == "2"  # weeks: e = 2 (not observed here)
    assert np.isnan(stages.loc["two_weeks", "estimate"])
    assert stages.loc["quarter", "estimate"] == pytest.approx(3.6)
    assert (res.event_study["flag"].replace("", np.nan).dropna() == "small_n").all()
    text = res.summary()
    assert "callaway_santanna" in text and "twfe_naive" in text and "pre-trends" in text
    assert "single trained or control agent" in text  # cohort 2 is agent C alone
    assert res.accounting["rows"].sum() == len(long_panel(Y, UNITS, WEEKS)) + len(TRAINING)


def test_agents_table_with_trained_at_and_later_courses_are_accounted():
    agents = pd.DataFrame(
        {"agent_id": UNITS, "team": "T1", "trained_at": ["2025-01-13", "2025-01-14", "2025-01-20", "", None]}
    )
    res = training_effect(long_panel(Y, UNITS, WEEKS), agents, "qa_score")
    assert res.estimate() == pytest.approx(3.6)
    acc = res.accounting.set_index("reason")["rows"]
    assert acc["never trained (empty trained_at): control"] == 2
    extra = pd.concat(
        [
            TRAINING,
            pd.DataFrame(
                {
                    "agent_id": ["A", "Z"],
                    "course": "qa",
                    "trained_at": pd.to_datetime(["2025-01-20", "2025-01-13"]),
                    "rating": [5.0, 2.0],
                }
            ),
        ]
    )
    res2 = training_effect(long_panel(Y, UNITS, WEEKS), extra, "qa_score")
    assert res2.estimate() == pytest.approx(3.6)  # A's second course does not move its cohort
    acc2 = res2.accounting.set_index("reason")["rows"]
    assert acc2["later training of an agent already trained (the first date sets the cohort)"] == 1
    assert acc2["agent not in the panel's qa_score rows"] == 1


# ---------------------------------------------------------------------------------------- bad input
def test_training_date_outside_the_panel_is_named():
    bad = TRAINING.assign(trained_at=pd.to_datetime(["2025-01-13", "2025-03-02", "2025-01-20"]))
    with pytest.raises(
        DataError, match=r"outside the panel's periods 2025-01-06 \.\. 2025-01-26.*'B 2025-03-02'"
    ):
        training_effect(long_panel(Y, UNITS, WEEKS), bad, "qa_score")


def test_cohort_without_pre_period_is_named():
    bad = TRAINING.assign(trained_at=pd.to_datetime(["2025-01-06", "2025-01-13", "2025-01-20"]))
    with pytest.raises(
        DataError, match=r"Cohort trained in 2025-01-06 .*agents 'A'.* no period before training"
    ):
        training_effect(long_panel(Y, UNITS, WEEKS), bad, "qa_score")


def test_no_never_trained_agents_names_the_estimator_that_still_works():
    y4 = np.column_stack([Y, Y[:, -1] + 1])
    weeks = [*WEEKS, "2025-01-27"]
    everyone = pd.DataFrame(
        {
            "agent_id": UNITS,
            "trained_at": pd.to_datetime(
                ["2025-01-13", "2025-01-13", "2025-01-20", "2025-01-27", "2025-01-27"]
            ),
        }
    )
    with pytest.raises(InsufficientDataError, match="no never-trained agents.*control='not_yet_treated'"):
        training_effect(long_panel(y4, UNITS, weeks), everyone, "qa_score")
    res = training_effect(long_panel(y4, UNITS, weeks), everyone, "qa_score", control="not_yet_treated")
    # only periods before the last cohort's training can be compared
    assert res.group_time["period"].max() < "2025-01-27"
    assert res.att.set_index("estimator").loc["callaway_santanna", "n_control"] >= 2


def test_unknown_indicator_and_missing_columns():
    with pytest.raises(DataError, match=r"Indicator 'csat' is not in panel .*qa_score"):
        training_effect(long_panel(Y, UNITS, WEEKS), TRAINING, "csat")
    with pytest.raises(SchemaError, match=r"no column\(s\) trained_at"):
        training_effect(long_panel(Y, UNITS, WEEKS), TRAINING.drop(columns="trained_at"), "qa_score")
    with pytest.raises(SchemaError, match="missing column"):
        training_effect(long_panel(Y, UNITS, WEEKS).drop(columns="value"), TRAINING, "qa_score")
    with pytest.raises(SchemaError, match=r"'trained_at': 1 value\(s\) are not dates .*'next week'"):
        read_training(TRAINING.assign(trained_at=["2025-01-13", "next week", "2025-01-20"]))
    with pytest.raises(SchemaError, match="no rows of course 'excel'"):
        read_training(TRAINING, course="excel")


def test_cli_writes_att_and_event_study(tmp_path, capsys):
    pf, tf = tmp_path / "panel.csv", tmp_path / "training.csv"
    long_panel(Y, UNITS, WEEKS).to_csv(pf, index=False)
    TRAINING.to_csv(tf, index=False)
    out = tmp_path / "effect"
    assert (
        main(
            [
                "training-effect",
                "--panel",
                str(pf),
                "--indicator",
                "qa_score",
                "--training",
                str(tf),
                "--out",
                str(out),
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    att = pd.read_csv(out / "att.csv")
    assert list(att.columns[:5]) == ["estimator", "estimate", "se", "ci_low", "ci_high"]
    assert {"n_treated", "n_control"} <= set(att.columns)
    assert att.loc[att["estimator"] == "callaway_santanna", "estimate"].iloc[0] == pytest.approx(3.6)
    es = pd.read_csv(out / "event_study.csv")
    assert list(es.columns[:5]) == ["relative_period", "estimate", "se", "ci_low", "ci_high"]
    assert (out / "event_study.png").stat().st_size > 1000
    assert f"wrote {out / 'att.csv'}" in printed and f"wrote {out / 'event_study.png'}" in printed
    assert (
        main(
            [
                "training-effect",
                "--panel",
                str(pf),
                "--indicator",
                "nope",
                "--training",
                str(tf),
                "--out",
                str(tmp_path / "e2"),
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Indicator 'nope' is not in panel 'panel.csv'" in err


def test_report_markdown_states_effect_interval_and_stages_in_words():
    from kpilab.indicators import compute_panel
    from kpilab.simulate import simulate

    sim = simulate(24, 4, seed=5, training=True)
    data = {**sim.tables}
    panel = compute_panel(data, period="week", unit="agent", indicators=["qa_score"]).panel
    result = training_effect(panel, sim.training, "qa_score")
    text = result.report_markdown()
    cs = result.att.set_index("estimator").loc["callaway_santanna"]
    assert f"{cs['estimate']:.2g}".lstrip("-") in text or f"{abs(cs['estimate']):.2g}" in text
    assert "QA score" in text and "qa_score" not in text  # names, not codes
    assert "three evaluation stages" in text and "Course rating" in text
    assert "nan" not in text.lower().replace("sant'anna", "")
