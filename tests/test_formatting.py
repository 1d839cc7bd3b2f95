"""Presentation formats: hand-worked expectations for each kind of number."""

import math

import numpy as np
import pandas as pd
import pytest

from kpilab.formatting import (
    display_table,
    duration_scale,
    format_count,
    format_duration,
    format_number,
    format_period,
    format_share,
    format_value,
    format_weight,
    indicator_name,
)


@pytest.mark.parametrize(
    ("x", "expected"),
    [(0.4567, "0.457"), (12345.6, "12,346"), (0, "0"), (1.0, "1.00"), (-0.0123, "-0.0123"), (float("nan"), "–")],
)
def test_format_number_significant_digits(x, expected):
    assert format_number(x) == expected


def test_counts_shares_weights():
    assert format_count(720.0) == "720"
    assert format_count(12400) == "12,400"
    assert format_share(0.063889) == "6 %"
    assert format_share(0.063889, digits=1) == "6.4 %"
    assert format_share(0.004) == "0.4 %"  # a small real rate does not print as 0 %
    assert format_share(0.05, signed=True) == "+5 %"
    assert format_weight(0.047) == "4.7 %"
    assert format_share(None, missing="no surveys") == "no surveys"


def test_durations_pick_a_readable_unit():
    assert format_duration(45) == "45 s"
    assert format_duration(330) == "5.5 min"
    assert format_duration(2.39e5) == "66 h"
    assert format_duration(8.64e4) == "24 h"
    assert format_duration(10 * 86400) == "10 d"
    assert format_duration(330, unit="s") == "330 s"
    assert duration_scale([100, 200, 300]) == ("min", 60.0)
    assert duration_scale([]) == ("s", 1.0)


def test_values_in_their_unit():
    assert format_value(0.83, "share") == "83 %"
    assert format_value(2.39e5, "seconds") == "66 h"
    assert format_value(1234.0, "contacts") == "1,234"
    assert format_value(4.2345, "score 1-5") == "4.23"
    assert format_value(pd.NA, "share") == "–"


def test_periods_as_people_write_them():
    assert format_period(pd.Timestamp("2025-01-01")) == "Jan 2025"
    assert format_period("2025-10-01", "quarter") == "2025 Q4"
    assert format_period("2025-01-06", "week") == "w/c 6 Jan 2025"
    assert format_period("2025Q4") == "2025Q4"
    assert format_period(pd.NaT) == "–"


def test_indicator_names_from_catalogue():
    assert indicator_name("aht") == "Average handle time"
    assert indicator_name("not_an_indicator") == "not_an_indicator"


def test_display_table_has_no_raw_reprs():
    df = pd.DataFrame({
        "agents": np.array([720, 3], dtype="int64"),
        "share": [0.063889, np.nan],
        "ok": [True, False],
        "aht": [330.0, 600.0],
        "when": pd.to_datetime(["2025-01-01", None]),
    })
    table, note = display_table(df, {"share": "share", "aht": "duration"}, names={"aht": "AHT"}, max_rows=1)
    assert note == "Showing 1 of 2 rows."
    assert list(table.columns) == ["Agents", "Share", "Ok", "AHT", "When"]
    row = table.iloc[0].tolist()
    assert row == ["720", "6 %", "yes", "5.5 min", "1 Jan 2025"]
    full, _ = display_table(df)
    text = full.to_string()
    for bad in ("nan", "NaT", "None", "True", "False"):
        assert bad not in text
    assert not math.isnan(float(full.iloc[0, 0].replace(",", "")))
