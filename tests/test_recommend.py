"""The recommended scorecard: indicators, the choice rule, the contract files, the framework YAML round trip,
and the review period / data folder helpers the notebooks use."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from kpilab.errors import DataError, FrameworkError, ParameterError
from kpilab.framework import default_framework, load_framework
from kpilab.framework_writer import recommended_framework, write_framework
from kpilab.health import health_review
from kpilab.review_period import resolve_data_dir, review_period
from kpilab.weights import calibrate_many, compare_weight_sets, weights_matrix
from kpilab.weights.recommend import (
    RECOMMENDED_COLUMNS,
    note_scores_weights,
    read_recommendation,
    recommend_weights,
    scorecard_indicators,
    scoring_weights,
)


def decisions_frame(rows):
    return pd.DataFrame(rows, columns=["indicator", "decision", "reason"])


def test_scorecard_leaves_out_pruned_and_unavailable():
    d = decisions_frame([["csat", "keep", "ok"], ["hold_rate", "prune", "weak"], ["aht", "review", "unclear"],
                         ["asa", "keep", "queue"]])
    card, excluded = scorecard_indicators(d, available=["csat", "aht", "hold_rate"])
    assert card == ["csat", "aht"]
    assert excluded == {"hold_rate": "weak", "asa": "no agent-level values to weight in this period"}
    with pytest.raises(DataError, match="no scorecard"):
        scorecard_indicators(decisions_frame([["x", "prune", "weak"]]))
    with pytest.raises(DataError, match="decision"):
        scorecard_indicators(pd.DataFrame({"indicator": ["x"]}))


def _agreement(pairs):
    return pd.DataFrame([[a, b, r] for (a, b), r in pairs.items()], columns=["set_a", "set_b", "spearman"])


def test_choice_rule():
    sets = {"front_line": pd.Series({"a": .6, "b": .4}), "critic": pd.Series({"a": .3, "b": .7}),
            "blend_front_line_critic": pd.Series({"a": .45, "b": .55})}
    agree = _agreement({("front_line", "critic"): .9, ("front_line", "blend_front_line_critic"): .97,
                        ("critic", "blend_front_line_critic"): .95})
    rec = recommend_weights(sets, agree)
    assert rec.method == "blend_front_line_critic" and "Spearman 0.90" in rec.reason
    assert rec.agreement == {"front_line": .97, "critic": .95}
    # disagreeing views: the role template as it is
    agree2 = _agreement({("front_line", "critic"): .5, ("front_line", "blend_front_line_critic"): .8})
    rec2 = recommend_weights(sets, agree2)
    assert rec2.method == "front_line" and "below 0.8" in rec2.reason
    assert rec2.weights.to_dict() == pytest.approx({"a": .6, "b": .4})
    # no data-driven set: the role template, saying why; no role template: the blend
    assert recommend_weights({"front_line": sets["front_line"]}, None).method == "front_line"
    rec_nr = recommend_weights(sets, agree, role="manager", blend="blend_front_line_critic")
    assert rec_nr.method == "blend_front_line_critic" and "No role template (manager)" in rec_nr.reason
    rec3 = recommend_weights({"critic": sets["critic"]}, None, role="manager")
    assert rec3.method == "critic" and "No role template (manager)" in rec3.reason
    with pytest.raises(ParameterError, match="min_agreement"):
        recommend_weights(sets, agree, min_agreement=1.5)
    with pytest.raises(ParameterError, match="at least one"):
        recommend_weights({}, agree)


def _wide(n=400, seed=2):
    rng = np.random.default_rng(seed)
    skill, speed = rng.normal(size=n), rng.normal(size=n)
    return pd.DataFrame({
        "unit_id": [f"a{i:02d}" for i in range(n)],
        "csat": skill + rng.normal(0, .3, n), "fcr": skill + rng.normal(0, .5, n),
        "aht": -speed, "cost_per_contact": -speed * 1.5 + rng.normal(0, .01, n),
        "hold_rate": rng.normal(size=n),
        "retention_rate": skill + .6 * speed + rng.normal(0, .5, n),
    })


def test_end_to_end_weights_only_the_scorecard(tmp_path):
    """Pruned (hold_rate) and the redundant copy of AHT get no weight; cost is not counted twice."""
    fw = default_framework()
    wide = _wide()
    rev = health_review(wide, "retention_rate", framework=fw)
    dec = rev.decisions.set_index("indicator")["decision"]
    assert dec["hold_rate"] == "prune"
    assert sorted(dec[["aht", "cost_per_contact"]]) == ["keep", "prune"]  # one representative
    full = weights_matrix(wide, framework=fw, outcome="retention_rate")
    card, excluded = scorecard_indicators(rev.decisions, available=full.X.columns)
    data = weights_matrix(wide, framework=fw, outcome="retention_rate", indicators=card)
    results, failures = calibrate_many(data, ["front_line", "critic"], framework=fw, outcome="retention_rate")
    assert failures.empty
    from kpilab.weights import blend_weights
    results["blend_front_line_critic"] = blend_weights(results["front_line"], results["critic"], alpha=.5,
                                                       names=("front_line", "critic"))
    X = data.X.groupby(level="unit_id").mean() if isinstance(data.X.index, pd.MultiIndex) else data.X
    cmp = compare_weight_sets(X, results, data.directions, reference="front_line")
    rec = recommend_weights(results, cmp.agreement, decisions=rev.decisions, excluded=excluded,
                            context={"outcome": "retention_rate", "threshold": .3, "period_start": "",
                                     "period_end": ""})
    assert set(rec.weights.index) == set(card) and "hold_rate" not in rec.weights.index
    assert not {"aht", "cost_per_contact"} <= set(rec.weights.index)
    assert rec.weights.sum() == pytest.approx(1.0) and (rec.weights > 0).all()
    # agreement is the Spearman correlation of the two sets' scores (independent: scipy)
    for other, rho in rec.agreement.items():
        expected = stats.spearmanr(cmp.scores[rec.method], cmp.scores[other]).statistic
        assert rho == pytest.approx(expected, abs=1e-9)
    # contract files
    rec.save(tmp_path)
    table = pd.read_csv(tmp_path / "tables" / "recommended_weights.csv")
    assert list(table.columns) == RECOMMENDED_COLUMNS and table["weight"].sum() == pytest.approx(1.0)
    js = json.loads((tmp_path / "tables" / "recommendation.json").read_text())
    for key in ("outcome", "threshold", "period_start", "period_end", "kept", "pruned", "review", "weights_method",
                "weights_reason", "agreement", "scores_weights"):
        assert key in js
    assert "hold_rate" in js["pruned"] and js["weights_method"] == rec.method
    w, meta = read_recommendation(tmp_path)
    assert w.to_dict() == pytest.approx(rec.weights.to_dict()) and meta["weights_method"] == rec.method
    assert read_recommendation(tmp_path / "nothing") is None
    # what notebooks 04/05 score with
    sw = scoring_weights("recommended", tmp_path, fw)
    assert sw.used == rec.method and sw.indicators == list(rec.to_frame()["indicator"]) and not sw.notice
    assert note_scores_weights(tmp_path, sw.used) is not None
    assert json.loads((tmp_path / "tables" / "recommendation.json").read_text())["scores_weights"] == rec.method
    fallback = scoring_weights("recommended", tmp_path / "nothing", fw)
    assert fallback.weights is None and fallback.used == "roles" and "role template" in fallback.notice
    assert scoring_weights("manager", tmp_path, fw).weights == "manager"
    # the framework the next quarter starts from
    new = recommended_framework(fw, rec.weights, drop=js["pruned"], description=rec.reason, source="test")
    path = write_framework(new, tmp_path / "recommended_framework.yaml", header="kpilab review test")
    back = load_framework(path)
    assert back == new
    assert "hold_rate" not in back.codes and "retention_rate" in back.codes
    assert back.role_weights["default"] == "recommended" and set(back.role_weights.values()) == {"recommended"}
    assert back.weight_set("recommended").to_dict() == pytest.approx(rec.weights.to_dict(), abs=1e-6)
    for code in rec.weights.index:
        assert back.indicator(code).target == fw.indicator(code).target


def test_restrict_weights():
    from kpilab.weights import WeightResult, restrict_weights

    res = WeightResult(weights=pd.Series({"a": .5, "b": .3, "c": .2}), method="ahp")
    out = restrict_weights(res, ["a", "c"])
    assert out.weights.to_dict() == pytest.approx({"a": .5 / .7, "c": .2 / .7}) and "b" in out.notices[-1]
    with pytest.raises(DataError, match="no weight on the scorecard"):
        restrict_weights(res, ["z"])


def test_framework_writer_round_trip_and_checks(tmp_path):
    fw = default_framework()
    assert load_framework(write_framework(fw, tmp_path / "fw.yaml")) == fw
    new = recommended_framework(fw, {"csat": 2, "fcr": 1, "aht": 1}, drop=["first_response_time", "retention_rate"])
    assert "retention_rate" in new.codes  # outcomes are never dropped
    assert "first_response_time" not in new.weight_sets["supermarket"].weights  # indicator-level sets follow
    assert new.weight_set("recommended")["csat"] == pytest.approx(0.5)
    with pytest.raises(FrameworkError, match="hold_rate"):
        recommended_framework(fw, {"hold_rate": 1.0}, drop=["hold_rate"])
    with pytest.raises(FrameworkError, match="not in the framework"):
        recommended_framework(fw, {"made_up": 1.0})


def test_review_period_and_data_dir(tmp_path):
    rp = review_period("2025-10-15", "2025-12-01", "month", history=3)
    assert str(rp.start.date()) == "2025-10-01" and str(rp.data_start.date()) == "2025-07-01"
    assert str(rp.data_end.date()) == "2025-12-31" and rp.label() == "Oct 2025 to Dec 2025"
    assert "3 months before it" in rp.describe(with_history=True)
    panel = pd.DataFrame({"period": [f"2025-{m:02d}-01" for m in range(1, 13)], "value": range(12)})
    assert rp.filter_panel(panel)["period"].tolist() == ["2025-10-01", "2025-11-01", "2025-12-01"]
    assert len(rp.filter_panel(panel, history=True)) == 6
    assert review_period("", "", "month").filter_panel(panel) is panel
    with pytest.raises(DataError, match="covers 2025-01-01 to 2025-12-01"):
        review_period("2026-01-01", "", "month").filter_panel(panel)
    with pytest.raises(ParameterError, match="after period_end"):
        review_period("2025-12-01", "2025-10-01")
    with pytest.raises(ParameterError, match="period_start"):
        review_period("Q4", "")
    times = pd.to_datetime(["2025-06-30 23:00", "2025-07-01 00:00", "2025-12-31 23:59", "2026-01-01 00:00"])
    tables, counts = rp.filter_tables({"contacts": pd.DataFrame({"arrived_at": times}),
                                       "agents": pd.DataFrame({"agent_id": ["a"]})})
    assert len(tables["contacts"]) == 2 and len(tables["agents"]) == 1
    c = counts.set_index("table")
    assert (c["in_period"] + c["outside_period"] == c["rows"]).all() and c.loc["contacts", "outside_period"] == 2
    with pytest.raises(ParameterError, match="-p data_dir data/demo"):
        resolve_data_dir("")
    with pytest.raises(DataError, match="does not exist"):
        resolve_data_dir(tmp_path / "absent")
    assert resolve_data_dir(tmp_path) == tmp_path


def test_review_without_data_dir_is_refused_before_anything_runs(tmp_path):
    """No silent fallback to the demo data: the runner refuses, naming how to pass the folder."""
    from kpilab.errors import RunError
    from kpilab.run import execute

    with pytest.raises(RunError, match="-p data_dir DIR"):
        execute("review", {}, output_root=tmp_path / "outputs")
    assert not (tmp_path / "outputs").exists() or not any((tmp_path / "outputs").iterdir())
