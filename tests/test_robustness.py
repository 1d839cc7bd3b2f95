"""Robustness: Monte Carlo rank/grade uncertainty and Sobol' sensitivity (kpilab.robustness)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kpilab.errors import ParameterError
from kpilab.robustness import Uncertainty, ishigami, robustness, sobol_indices
from kpilab.robustness.model import average_ranks
from kpilab.robustness.sensitivity import ISHIGAMI_S1, ISHIGAMI_ST
from kpilab.scoring import score

CODES = ["p1", "p2", "p3", "m1", "m2"]
FW = {
    "name": "robustness test",
    "pillars": [{"code": "a", "name": "a"}, {"code": "b", "name": "b"}],
    "indicators": [
        {"code": "p1", "name": "p1", "pillar": "a", "direction": "higher", "target": 0.9, "floor": 0.5},
        {"code": "p2", "name": "p2", "pillar": "a", "direction": "lower", "target": 0.05, "floor": 0.4},
        {"code": "p3", "name": "p3", "pillar": "b", "direction": "higher", "target": 0.8, "floor": 0.3},
        {"code": "m1", "name": "m1", "pillar": "b", "direction": "lower", "target": 200, "floor": 500},
        {"code": "m2", "name": "m2", "pillar": "b", "direction": "higher", "target": 4.5, "floor": 3.0},
    ],
    "normalise": {"method": "goalposts"},
    "grades": [{"grade": "A", "min": 80}, {"grade": "B", "min": 60}, {"grade": "C", "min": 0}],
}
W = pd.Series({"p1": 0.3, "p2": 0.2, "p3": 0.2, "m1": 0.15, "m2": 0.15})
OFF = Uncertainty(weights=None, normalisations=None, aggregations=None, exclude=0, noise=False)


def _panel(m: int = 40, seed: int = 0, n: np.ndarray | None = None, period: str = "2025-01-01") -> pd.DataFrame:
    """Long panel: three proportions (numerator/denominator) and two means with a t interval."""
    rng = np.random.default_rng(seed)
    n = rng.integers(20, 400, size=m).astype(float) if n is None else np.asarray(n, dtype=float)
    rows = []
    for code in CODES:
        if code.startswith("p"):
            p = rng.beta(6, 3, size=m) if code != "p2" else rng.beta(2, 12, size=m)
            k = np.round(p * n)
            rows.append(pd.DataFrame({"indicator": code, "value": k / n, "numerator": k, "denominator": n, "n": n,
                                      "ci_low": np.nan, "ci_high": np.nan}))
        else:
            mu = rng.normal(350, 60, size=m) if code == "m1" else rng.normal(3.9, 0.3, size=m)
            sd = 120.0 if code == "m1" else 0.8
            half = 1.96 * sd / np.sqrt(n)
            rows.append(pd.DataFrame({"indicator": code, "value": mu, "numerator": mu * n, "denominator": n, "n": n,
                                      "ci_low": mu - half, "ci_high": mu + half}))
        rows[-1]["unit_id"] = [f"U{u:03d}" for u in range(m)]
    out = pd.concat(rows, ignore_index=True)
    out["unit_level"], out["period"], out["flag"] = "agent", period, ""
    return out[["unit_id", "unit_level", "period", "indicator", "value", "numerator", "denominator", "n", "ci_low",
                "ci_high", "flag"]]


def _run(panel, unc=None, **kw):
    kw.setdefault("draws", 400)
    kw.setdefault("sobol", 0)
    return robustness(panel, FW, weights=W, uncertainty=unc, progress=False, **kw)


# ----------------------------------------------------------------------------- nominal and collapse
def test_nominal_index_equals_the_scoring_step():
    panel = _panel()
    res = _run(panel, OFF, draws=5)
    sc = score(panel, FW, weights=W, draws=0, progress=False).scores.set_index("unit_id")["index"]
    got = res.ranks.set_index("unit_id")["nominal_score"]
    np.testing.assert_allclose(got.to_numpy(), sc.reindex(got.index).to_numpy(), rtol=1e-12)
    r = res.ranks.sort_values("nominal_score", ascending=False)
    assert r["nominal_rank"].tolist() == list(np.arange(1.0, len(r) + 1))


def test_every_uncertainty_off_collapses_every_interval_to_the_nominal_rank():
    res = _run(_panel(), OFF, draws=50)
    r = res.ranks
    for col in ("median_rank", "rank_p05", "rank_p95"):
        np.testing.assert_array_equal(r[col].to_numpy(), r["nominal_rank"].to_numpy())
    assert (r["rank_width"] == 0).all() and (r["mean_abs_shift"] == 0).all()
    assert ((r["p_top_decile"] == 1.0) == r["nominal_top_decile"]).all()
    g = res.grades
    assert (g.apply(lambda row: row[f"p_{row['nominal_grade']}"], axis=1) == 1.0).all()


def test_same_seed_same_result_whatever_the_chunking_and_threads():
    panel = _panel(m=30)
    unc = Uncertainty(exclude=0.5)
    a = _run(panel, unc, draws=300, seed=7, sobol=64)
    b = _run(panel, unc, draws=300, seed=7, sobol=64, max_cells=700, threads=1)
    pd.testing.assert_frame_equal(a.ranks, b.ranks)
    pd.testing.assert_frame_equal(a.grades, b.grades)
    pd.testing.assert_frame_equal(a.sensitivity, b.sensitivity)
    c = _run(panel, unc, draws=300, seed=8)
    assert not a.ranks["median_rank"].equals(c.ranks["median_rank"]) or not a.ranks["rank_p95"].equals(
        c.ranks["rank_p95"])


def test_average_ranks_match_scipy():
    from scipy.stats import rankdata

    x = np.round(np.random.default_rng(1).normal(size=(20, 30)), 1)
    np.testing.assert_array_equal(average_ranks(x), rankdata(-x, axis=1))


# ----------------------------------------------------------------------------- measurement noise
def test_ten_times_the_denominator_gives_a_clearly_narrower_rank_interval():
    m = 60
    n = np.full(m, 100.0)
    panel = _panel(m=m, seed=4, n=n)
    # two agents with identical values in the middle of the field: one with n = 40, one with n = 400
    mid = panel[panel["unit_id"] == "U030"].copy()
    for uid, nn in (("U058", 40.0), ("U059", 400.0)):
        rows = mid.assign(unit_id=uid)
        prop = rows["indicator"].str.startswith("p")
        rows.loc[prop, "numerator"] = np.round(rows.loc[prop, "value"] * nn)
        rows.loc[prop, "value"] = rows.loc[prop, "numerator"] / nn
        half = (rows["ci_high"] - rows["ci_low"]) / 2 * np.sqrt(100.0 / nn)
        rows.loc[~prop, "ci_low"] = rows.loc[~prop, "value"] - half[~prop]
        rows.loc[~prop, "ci_high"] = rows.loc[~prop, "value"] + half[~prop]
        rows[["denominator", "n"]] = nn
        panel = pd.concat([panel[panel["unit_id"] != uid], rows], ignore_index=True)
    res = _run(panel, Uncertainty(weights=None, normalisations=None, aggregations=None, exclude=0), draws=2000)
    r = res.ranks.set_index("unit_id")
    small, big = r.loc["U058", "rank_width"], r.loc["U059", "rank_width"]
    assert big < 0.6 * small, (small, big)
    assert r.loc["U059", "mean_abs_shift"] < r.loc["U058", "mean_abs_shift"]


def test_noise_is_off_with_a_notice_for_a_wide_table():
    wide = _panel().pivot(index="unit_id", columns="indicator", values="value").reset_index()
    res = robustness(wide, FW, weights=W, draws=50, sobol=0, progress=False)
    assert any("measurement noise is off" in n for n in res.notices)
    assert "noise" not in res.input_groups


def test_goalposts_leave_the_list_when_the_framework_has_no_targets():
    fw = {**FW, "normalise": {"method": "minmax"},
          "indicators": [{k: v for k, v in i.items() if k not in ("target", "floor")} for i in FW["indicators"]]}
    res = robustness(_panel(), fw, weights=W, draws=50, sobol=0, progress=False)
    assert res.params["normalisations"] == ["minmax", "zscore"]
    assert any("'goalposts' left the draw list" in n for n in res.notices)


# ----------------------------------------------------------------------------- Sobol'
def test_ishigami_indices_within_salib_intervals():
    t = sobol_indices(lambda u: ishigami(-np.pi + 2 * np.pi * u), ["x1", "x2", "x3"], 4096, seed=1)
    for k in range(3):
        assert abs(t["S1"][k] - ISHIGAMI_S1[k]) <= t["S1_conf"][k] + 1e-3, t
        assert abs(t["ST"][k] - ISHIGAMI_ST[k]) <= t["ST_conf"][k] + 1e-3, t
    assert (t["n_base"] == 4096).all() and (t["n_runs"] == 4096 * 5).all()


def test_planted_single_uncertain_weight_gets_total_index_near_one():
    panel = _panel(m=40, n=np.full(40, 1e6))  # noise negligible
    others = {c: 0.0 for c in CODES if c != "p1"}
    unc = Uncertainty(weight_range=0.9, weight_overrides=others, normalisations=None, aggregations=None, exclude=0)
    res = _run(panel, unc, draws=100, sobol=256)
    s = res.sensitivity.set_index("input")
    assert list(s.index) == ["weight:p1", "noise"]
    assert s.loc["weight:p1", "ST"] > 0.95 and s.loc["weight:p1", "S1"] > 0.9
    assert s.loc["noise", "ST"] < 0.05
    assert "weights" in res.summary()


def test_sobol_output_for_one_unit():
    res = _run(_panel(m=25), Uncertainty(exclude=0), draws=50, sobol=64, sobol_output="unit:U003")
    assert (res.sensitivity["output"] == "unit:U003").all()
    with pytest.raises(ParameterError, match="U999"):
        _run(_panel(m=25), draws=10, sobol=64, sobol_output="unit:U999")


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("kw, match", [
    ({"draws": 0}, "'draws'"),
    ({"draws": 2.5}, "'draws'"),
    ({"uncertainty": Uncertainty(weight_range=1.0)}, "'weight_range'.*less than 100 %"),
    ({"uncertainty": Uncertainty(weight_overrides={"p1": 1.5})}, "weight_overrides\\['p1'\\]"),
    ({"uncertainty": Uncertainty(normalisations=[])}, "'normalisations'.*non-empty"),
    ({"uncertainty": Uncertainty(aggregations=())}, "'aggregations'.*non-empty"),
    ({"uncertainty": Uncertainty(weights="sets", weight_sets=["a"])}, "at least two"),
    ({"uncertainty": Uncertainty(exclude=1.5)}, "'exclude'"),
    ({"sobol": 1000}, "'sobol'.*power of 2.*512 or 1024.*1000"),
    ({"sobol": -1}, "'sobol'"),
    ({"sobol_output": "median"}, "'sobol_output'"),
    ({"uncertainty": Uncertainty(aggregations=["copeland"])}, "Copeland"),
])
def test_bad_input_is_refused_naming_the_parameter(kw, match):
    kw = {"draws": 10, "sobol": 0, **kw}
    unc = kw.pop("uncertainty", None)
    with pytest.raises(ParameterError, match=match):
        robustness(_panel(m=10), FW, weights=W, uncertainty=unc, progress=False, **kw)


def test_weight_sets_and_dirichlet_modes_run():
    fw = {**FW, "weight_sets": {"x": {"level": "pillar", "weights": {"a": 1, "b": 1}},
                                "y": {"level": "pillar", "weights": {"a": 3, "b": 1}}}}
    res = robustness(_panel(), fw, weights=W, uncertainty=Uncertainty(weights="sets", weight_sets=["x", "y"]),
                     draws=100, sobol=64, progress=False)
    assert "weight_set" in res.input_names
    res = robustness(_panel(), fw, weights=W, uncertainty=Uncertainty(weights="dirichlet"), draws=100, sobol=0,
                     progress=False)
    assert res.params["dirichlet_concentration"] > 1
    assert res.ranks["rank_width"].gt(0).any()


@pytest.mark.parametrize("agg", ["geometric", "harmonic", "median", {"pillar": "geometric", "index": "arithmetic"}])
def test_drawn_index_equals_scoring_aggregate_with_the_drawn_weights(monkeypatch, agg):
    """Fast (effective-weight) and generic paths against kpilab.scoring.aggregate, exclusions included."""
    import kpilab.robustness.core as core
    from kpilab.framework import load_framework
    from kpilab.scoring import aggregate

    seen = {}
    orig = core.Model.evaluate

    def spy(self, plan, *a, **k):
        seen.setdefault("model", self)
        seen.setdefault("plan", plan)
        return orig(self, plan, *a, **k)

    monkeypatch.setattr(core.Model, "evaluate", spy)
    unc = Uncertainty(normalisations=["minmax"], aggregations=[agg], exclude=0.5, noise=False)
    robustness(_panel(m=30), FW, weights=W, uncertainty=unc, draws=20, sobol=0, progress=False)
    model, plan = seen["model"], seen["plan"]
    idx, _ = model.index_block(plan.weights, int(plan.norm[0]), int(plan.agg[0]), plan.excluded, None)
    positive = any(m in ("geometric", "harmonic") for m in ([agg] if isinstance(agg, str) else agg.values()))
    S = pd.DataFrame(model.variants[1].scores, columns=CODES)
    if positive:
        S = (1 + 0.99 * S).clip(1, 100)
    fw = load_framework(FW)
    pillars = {c: fw.indicator(c).pillar for c in CODES}
    assert (plan.excluded >= 0).any()
    for d in range(20):
        w = pd.Series(plan.weights[d, 0], index=CODES)
        if plan.excluded[d] >= 0:
            w.iloc[plan.excluded[d]] = 0.0
        ref = aggregate(S, w, pillars, method=agg).table["index"].to_numpy()
        np.testing.assert_allclose(idx[d], (ref - 1) / 0.99 if positive else ref, rtol=1e-10, atol=1e-10)


def test_a_constant_indicator_is_left_out_as_in_the_scoring_step():
    panel = _panel(m=30)
    panel.loc[panel["indicator"] == "m2", ["value", "ci_low", "ci_high"]] = [4.0, 3.9, 4.1]
    fw = {**FW, "indicators": [{**i, "normalise": {"method": "minmax"}} if i["code"] == "m2" else i
                               for i in FW["indicators"]]}
    res = robustness(panel, fw, weights=W, draws=50, sobol=0, progress=False)
    assert "m2" not in res.params["indicators"] and any("m2" in n for n in res.notices)
    sc = score(panel, fw, weights=W, draws=0, progress=False).scores.set_index("unit_id")["index"]
    got = res.ranks.set_index("unit_id")["nominal_score"]
    np.testing.assert_allclose(got.to_numpy(), sc.reindex(got.index).to_numpy(), rtol=1e-12)
