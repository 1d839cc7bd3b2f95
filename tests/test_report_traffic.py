"""Traffic lights against targets and the pooled centre value they are judged on (hand-worked cases)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kpilab.report.collect import centre_actuals
from kpilab.report.traffic import AMBER_TOLERANCE, traffic_light


@pytest.mark.parametrize(
    "actual, target, direction, expected",
    [
        # higher is better, target 0.80: amber zone is 0.80 - 0.05 * 0.80 = 0.76 up to 0.80
        (0.80, 0.80, "higher", "green"),
        (0.90, 0.80, "higher", "green"),
        (0.79, 0.80, "higher", "amber"),
        (0.76, 0.80, "higher", "amber"),
        (0.7599, 0.80, "higher", "red"),
        # lower is better, target 300 s: amber up to 315 s
        (300.0, 300.0, "lower", "green"),
        (120.0, 300.0, "lower", "green"),
        (315.0, 300.0, "lower", "amber"),
        (315.1, 300.0, "lower", "red"),
        # a negative target (NPS -10, higher): the zone is 5 % of |target| = 0.5 points
        (-10.4, -10.0, "higher", "amber"),
        (-10.6, -10.0, "higher", "red"),
        # no target, no value
        (0.5, None, "higher", "no_target"),
        (0.5, float("nan"), "lower", "no_target"),
        (float("nan"), 0.8, "higher", "no_value"),
        (None, 0.8, "higher", "no_value"),
    ],
)
def test_traffic_light_hand_worked(actual, target, direction, expected):
    assert traffic_light(actual, target, direction) == expected


@pytest.mark.parametrize(
    "actual, expected",
    [
        (15.0, "green"), (22.0, "green"), (30.0, "green"),
        # band 15-30 is 15 wide: amber within 0.05 * 15 = 0.75 outside either end
        (30.75, "amber"), (14.25, "amber"), (30.76, "red"), (14.2, "red"),
    ],
)
def test_traffic_light_band(actual, expected):
    assert traffic_light(actual, 30.0, "band", band=(15.0, 30.0)) == expected
    assert traffic_light(actual, None, "band", band=(30.0, 15.0)) == expected  # order of the ends does not matter


def test_traffic_light_band_without_band_and_bad_arguments():
    assert traffic_light(20.0, 30.0, "band") == "no_target"
    with pytest.raises(ValueError, match="direction"):
        traffic_light(1.0, 1.0, "sideways")
    with pytest.raises(ValueError, match="tolerance"):
        traffic_light(1.0, 1.0, "higher", tolerance=-0.1)
    assert traffic_light(0.79, 0.8, "higher", tolerance=0.0) == "red"  # no amber zone
    assert AMBER_TOLERANCE == 0.05


_RANK = {"red": 0, "amber": 1, "green": 2}


@given(a=st.floats(-1e6, 1e6), b=st.floats(-1e6, 1e6), t=st.floats(-1e6, 1e6))
def test_traffic_light_is_monotone_in_the_better_direction(a, b, t):
    lo, hi = sorted((a, b))
    assert _RANK[traffic_light(hi, t, "higher")] >= _RANK[traffic_light(lo, t, "higher")]
    assert _RANK[traffic_light(lo, t, "lower")] >= _RANK[traffic_light(hi, t, "lower")]


@given(t=st.floats(-1e6, 1e6).filter(lambda x: abs(x) > 1e-6))
def test_lower_and_higher_mirror_each_other(t):
    # x is as far above a "lower" target as -x is below the mirrored "higher" target
    for x in (t, t * 1.03, t * 1.2, t * 0.9):
        assert traffic_light(x, t, "lower") == traffic_light(-x, -t, "higher")


def _centre(rows):
    return pd.DataFrame(rows, columns=["indicator", "period", "value", "numerator", "denominator", "n", "kind",
                                       "scale"])


def test_centre_actuals_pool_exactly_and_quantiles_take_the_latest_period():
    centre = _centre([
        # mean: (430 + 880) / (100 + 200) = 4.3667, not the mean of 4.3 and 4.4 (4.35)
        ("csat", "2025-07-01", 4.3, 430.0, 100.0, 100, "mean", 1.0),
        ("csat", "2025-08-01", 4.4, 880.0, 200.0, 200, "mean", 1.0),
        # outside the window: must not count
        ("csat", "2025-06-01", 1.0, 100.0, 100.0, 100, "mean", 1.0),
        # NPS with scale 100: (10 - 2 + 5 - 5) / (40 + 60) * 100 = 8
        ("nps", "2025-07-01", 20.0, 8.0, 40.0, 40, "nps", 100.0),
        ("nps", "2025-08-01", 0.0, 0.0, 60.0, 60, "nps", 100.0),
        # a median cannot be pooled: the latest period's value
        ("time_to_resolution", "2025-07-01", 50000.0, np.nan, np.nan, 80, "quantile", 1.0),
        ("time_to_resolution", "2025-08-01", 90000.0, np.nan, np.nan, 70, "quantile", 1.0),
    ])
    out = centre_actuals(centre, ["2025-07-01", "2025-08-01"]).set_index("indicator")
    assert out.loc["csat", "value"] == pytest.approx(1310 / 300)
    assert out.loc["csat", "n"] == 300 and out.loc["csat", "basis"] == "pooled"
    assert out.loc["nps", "value"] == pytest.approx(8.0)
    assert out.loc["time_to_resolution", "value"] == 90000.0
    assert out.loc["time_to_resolution", "basis"] == "latest period"
    assert out.loc["time_to_resolution", "latest"] == "2025-08-01"


def test_centre_actuals_empty_inputs():
    assert centre_actuals(None, ["2025-07-01"]).empty
    centre = _centre([("csat", "2025-07-01", np.nan, np.nan, np.nan, 0, "quantile", 1.0)])
    out = centre_actuals(centre, ["2025-07-01"])
    assert out["basis"].tolist() == ["no value"] and math.isnan(out["value"].iloc[0])
