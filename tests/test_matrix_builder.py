"""The shared indicator matrix (kpilab.health.matrix.build_matrix): one set of checks for the review and the weights."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kpilab.errors import DataError, FrameworkError, InsufficientDataError, ParameterError, SchemaError
from kpilab.framework import default_framework, resolve_directions
from kpilab.health import health_review
from kpilab.health.matrix import MIN_UNITS, MatrixOptions, build_matrix, near_constant
from kpilab.panel import pool_periods, wide_to_long
from kpilab.weights import EntropyWeights, calibrate_weights, weights_matrix


def wide(n=25, months=3, seed=0):
    rng = np.random.default_rng(seed)
    m = n * months
    sk = rng.normal(size=m)
    return pd.DataFrame({
        "unit_id": [f"A{i // months:03d}" for i in range(m)],
        "period": [f"2025-{1 + i % months:02d}-01" for i in range(m)],
        "csat": 4 + 0.3 * sk + 0.2 * rng.normal(size=m),
        "fcr": 0.75 + 0.05 * sk + 0.03 * rng.normal(size=m),
        "aht": 400 - 30 * sk + 40 * rng.normal(size=m),
        "retention_rate": 0.85 + 0.03 * sk + 0.01 * rng.normal(size=m),
    })


# ----------------------------------------------------------------------------- the builder itself
def test_unit_matrix_is_pool_periods_and_row_matrix_is_the_rows():
    long = wide_to_long(wide())
    m = build_matrix(long, outcome="retention_rate")
    pooled = pool_periods(long, unit_level="agent").values
    pd.testing.assert_frame_equal(m.X, pooled[["aht", "csat", "fcr"]], check_names=False)
    assert m.n_units == 25 and m.X.index.name == "unit_id" and m.directions["aht"] == "lower"
    r = build_matrix(long, outcome="retention_rate", unit_of_analysis="row")
    assert len(r.X) == 75 and r.n_units == 25 and r.X.index.names == ["unit_id", "period"]
    assert r.too_few_units() is None and r.too_few_units(8) == "not computed: 8 units, at least 10 needed"
    assert "Indicator matrix" in m.summary() and list(m.to_frame()["indicator"]) == ["aht", "csat", "fcr"]


def test_options_are_validated_early_naming_the_parameter():
    with pytest.raises(ParameterError, match="'unit_of_analysis'"):
        MatrixOptions(unit_of_analysis="agent")
    with pytest.raises(ParameterError, match="'min_units'"):
        MatrixOptions(min_units=1)
    with pytest.raises(ParameterError, match="not both"):
        build_matrix(wide(), options=MatrixOptions(), min_units=5)


def test_near_constant_uses_a_relative_tolerance():
    assert near_constant(np.array([0.3, 0.1 + 0.2, 0.3]))  # differ by 5.6e-17
    assert near_constant(np.array([1e9, 1e9 + 1e-4]))  # sd 5e-5 <= 1e-12 * 1e9
    assert not near_constant(np.array([1e-9, 2e-9]))  # small but really different
    assert not near_constant(np.array([np.nan, np.nan])) and near_constant(np.array([2.0, np.nan]))


def test_values_equal_up_to_rounding_are_constant_in_review_and_weights():
    # before: health correlated the rounding noise (fcr review, r = -0.34) and entropy gave it 65 % of the weight
    df = wide(n=30, months=1)
    df["fcr"] = 0.3 + np.where(np.arange(len(df)) % 2, 0.0, 5.551115123125783e-17)
    with pytest.warns(UserWarning, match="constant"):
        w = calibrate_weights(df, "entropy").weights
    assert w["fcr"] == 0
    d = health_review(df.drop(columns="period"), "retention_rate").decisions.set_index("indicator")
    assert d.loc["fcr", "decision"] == "prune" and "same value" in d.loc["fcr", "reason"]
    assert build_matrix(df, outcome="retention_rate").constant == ("fcr",)


def test_infinite_values_are_refused_the_same_way_by_review_and_weights():
    df = wide(n=30, months=1)
    df.loc[[3, 7], "aht"] = np.inf
    for call in (lambda: health_review(df, "retention_rate"), lambda: calibrate_weights(df, "entropy"),
                 lambda: weights_matrix(df)):
        with pytest.raises(DataError, match=r"aht hold 2 infinite value\(s\).*A003/2025-01-01"):
            call()


def test_duplicated_rows_misspelt_direction_and_two_rows_raise_in_the_weights_api():
    # before: 76 rows used, the misspelt 'ahtt' ignored (aht silently 'higher' in the estimator), 2 rows weighted
    df = wide()
    with pytest.raises(SchemaError, match="A000/2025-01-01"):
        calibrate_weights(pd.concat([df, df.iloc[[0]]]), "entropy")
    with pytest.raises(FrameworkError, match="'ahtt'.*known codes are aht, csat, fcr, retention_rate"):
        calibrate_weights(df, "critic", directions={"ahtt": "lower"})
    with pytest.raises(FrameworkError, match="'ahtt'.*known codes are csat, aht"):
        EntropyWeights().fit(df.set_index(["unit_id", "period"])[["csat", "aht"]], {"ahtt": "lower"})
    with pytest.raises(InsufficientDataError, match="not computed: 2 units, at least 10 needed"):
        calibrate_weights(wide(n=2, months=1), "entropy")
    # agent-months of 8 agents are still 8 units
    with pytest.raises(InsufficientDataError, match="24 rows from 8 units"):
        calibrate_weights(wide(n=8, months=3), "regression", outcome="retention_rate")
    # health refuses the misspelt key too
    with pytest.raises(FrameworkError, match="'ahtt'"):
        health_review(df, "retention_rate", directions={"ahtt": "lower"})


def test_a_wide_table_with_a_unique_index_uses_it_as_unit_id():
    df = wide(n=12, months=1).drop(columns="period").set_index("unit_id").rename_axis("agent")
    m = build_matrix(df)
    assert m.n_units == 12 and any("index was used" in s for s in m.notices)
    with pytest.raises(SchemaError, match="unit_id"):
        build_matrix(df.reset_index(drop=True))


def test_catalogue_gives_the_direction_of_indicators_the_framework_does_not_list():
    # before: FrameworkError "No direction known for indicator(s) answered_contacts"
    fw = default_framework()
    assert "answered_contacts" not in fw.codes
    assert resolve_directions(["answered_contacts", "aht"], fw) == {"answered_contacts": "higher", "aht": "lower"}
    assert resolve_directions(["aht"], fw, {"aht": "higher"}) == {"aht": "higher"}  # overrides still win
    with pytest.raises(FrameworkError, match="mystery"):
        resolve_directions(["mystery"], fw)


def test_min_units_constant_is_the_default_everywhere():
    import inspect

    from kpilab.health import RelevanceOptions  # noqa: F401  (public)
    from kpilab.health.review import IndicatorPruner, decide
    from kpilab.weights import compare_weight_sets

    assert MIN_UNITS == 10 and MatrixOptions().min_units == MIN_UNITS
    for f in (decide, IndicatorPruner.__init__, compare_weight_sets, weights_matrix, calibrate_weights):
        assert inspect.signature(f).parameters["min_units"].default == MIN_UNITS, f


# ----------------------------------------------------------------------------- properties
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), perm=st.integers(0, 10_000), unit=st.sampled_from(["unit", "row"]))
def test_matrix_does_not_depend_on_row_order(seed, perm, unit):
    long = wide_to_long(wide(n=12, months=3, seed=seed))
    a = build_matrix(long, outcome="retention_rate", unit_of_analysis=unit)
    b = build_matrix(long.sample(frac=1, random_state=perm), outcome="retention_rate", unit_of_analysis=unit)
    pd.testing.assert_frame_equal(a.X, b.X)
    pd.testing.assert_series_equal(a.y, b.y)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), method=st.sampled_from(["entropy", "critic", "pca", "regression"]),
       scale=st.floats(0.01, 100), shift=st.floats(-500, 500), perm=st.integers(0, 10_000))
def test_api_weights_nonnegative_sum_one_order_free_and_scale_free(seed, method, scale, shift, perm):
    df = wide(n=15, months=2, seed=seed)
    kw = {"outcome": "retention_rate", "n_boot": 0} if method == "regression" else {}
    w = calibrate_weights(df, method, **kw).weights
    assert (w >= 0).all() and w.sum() == pytest.approx(1.0, abs=1e-12)
    shuffled = calibrate_weights(df.sample(frac=1, random_state=perm), method, **kw).weights
    np.testing.assert_allclose(shuffled, w, atol=1e-9)
    # a positive affine change of units (seconds -> minutes, a shifted scale) changes no scale-free method
    rescaled = df.assign(aht=df["aht"] * scale + shift)
    np.testing.assert_allclose(calibrate_weights(rescaled, method, **kw).weights, w, atol=1e-7)
