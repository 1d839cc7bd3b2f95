"""The long panel format: validation, long <-> wide, reading long or wide files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kpilab.errors import DataError, SchemaError
from kpilab.panel import (
    OPTIONAL_PANEL_COLUMNS,
    PANEL_COLUMNS,
    UNIT_LEVELS,
    pool_periods,
    read_panel,
    to_wide,
    validate_panel,
    wide_to_long,
    write_table,
)


def long_panel() -> pd.DataFrame:
    rows = []
    for unit in ("a1", "a2", "a3"):
        for period in ("2025-01-01", "2025-02-01"):
            for ind, val in (("csat", 4.2), ("aht", 310.0)):
                rows.append({"unit_id": unit, "unit_level": "agent", "period": period, "indicator": ind,
                             "value": val + hash((unit, period)) % 7, "numerator": np.nan, "denominator": np.nan,
                             "n": 40, "ci_low": np.nan, "ci_high": np.nan, "flag": ""})
    return pd.DataFrame(rows, columns=PANEL_COLUMNS)


def test_round_trip_long_wide_long():
    panel = long_panel()
    wide = to_wide(panel)
    assert wide.shape == (6, 2) and list(wide.index.names) == ["unit_id", "period"]
    back = wide_to_long(wide)
    merged = back.merge(panel, on=["unit_id", "period", "indicator"], suffixes=("", "_orig"))
    assert len(merged) == len(panel)
    np.testing.assert_allclose(merged["value"], merged["value_orig"])


def test_duplicate_keys_rejected():
    panel = pd.concat([long_panel(), long_panel().iloc[[0]]])
    with pytest.raises(SchemaError, match=r"duplicated \(unit_id, unit_level, period, indicator\) key"):
        validate_panel(panel)


def test_missing_panel_columns():
    with pytest.raises(SchemaError, match="missing column"):
        validate_panel(long_panel().drop(columns="n"))


def test_mixed_levels_need_a_choice():
    panel = long_panel()
    team = panel.assign(unit_level="team", unit_id="t1").drop_duplicates(["period", "indicator"])
    both = pd.concat([panel, team])
    with pytest.raises(DataError, match="mixes unit levels"):
        to_wide(both)
    assert to_wide(both, unit_level="team").shape == (2, 2)
    with pytest.raises(DataError, match="not in the panel"):
        to_wide(panel, indicators=["nps"])


def test_read_panel_long_and_wide_files(tmp_path):
    panel = long_panel()
    for ext in ("csv", "parquet"):
        p = write_table(panel, tmp_path / f"p.{ext}")
        got = read_panel(p)
        assert len(got) == len(panel) and set(got["indicator"]) == {"csat", "aht"}
    wide = to_wide(panel).reset_index()
    wide.to_csv(tmp_path / "wide.csv", index=False)
    got = read_panel(tmp_path / "wide.csv")
    assert set(got["indicator"]) == {"csat", "aht"} and got["n"].isna().all()
    one_period = wide[wide["period"] == "2025-01-01"].drop(columns="period")
    one_period.to_csv(tmp_path / "wide_noperiod.csv", index=False)
    assert (read_panel(tmp_path / "wide_noperiod.csv")["period"] == "all").all()
    # without a period column, repeated units are an error that names them
    wide.drop(columns="period").to_csv(tmp_path / "wide_repeated.csv", index=False)
    with pytest.raises(SchemaError, match="duplicated"):
        read_panel(tmp_path / "wide_repeated.csv")


def test_read_panel_errors(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        read_panel(tmp_path / "none.csv")
    (tmp_path / "x.txt").write_text("a")
    with pytest.raises(DataError, match=".csv or .parquet"):
        read_panel(tmp_path / "x.txt")
    pd.DataFrame({"agent": ["a"], "csat": [4.0]}).to_csv(tmp_path / "w.csv", index=False)
    with pytest.raises(SchemaError, match="needs a 'unit_id' column"):
        read_panel(tmp_path / "w.csv")
    pd.DataFrame({"unit_id": ["a"], "csat": ["good"]}).to_csv(tmp_path / "w2.csv", index=False)
    with pytest.raises(SchemaError, match="not numeric"):
        read_panel(tmp_path / "w2.csv")


def test_pool_periods_sums_counts_instead_of_averaging_rates():
    rows = [
        # unit, period, indicator, value, numerator, denominator, n
        ("a1", "2025-01-01", "fcr", 0.5, 1, 2, 2),
        ("a1", "2025-02-01", "fcr", 0.9, 90, 100, 100),
        ("a1", "2025-01-01", "nps", 50.0, 1, 2, 2),          # NPS: value = 100 * (P - D) / n
        ("a1", "2025-02-01", "nps", 10.0, 10, 100, 100),
        ("a1", "2025-01-01", "ttr", 100.0, np.nan, 4, 4),    # a median: no numerator, cannot be pooled
        ("a1", "2025-02-01", "ttr", 200.0, np.nan, 12, 12),
        ("a2", "2025-01-01", "fcr", 0.25, 1, 4, 4),
    ]
    panel = pd.DataFrame(rows, columns=["unit_id", "period", "indicator", "value", "numerator", "denominator", "n"])
    panel = panel.assign(unit_level="agent", ci_low=np.nan, ci_high=np.nan, flag="")[PANEL_COLUMNS]
    pooled = pool_periods(panel)
    assert pooled.values.loc["a1", "fcr"] == pytest.approx(91 / 102)  # not (0.5 + 0.9) / 2
    assert pooled.values.loc["a1", "nps"] == pytest.approx(100 * 11 / 102)
    assert pooled.values.loc["a1", "ttr"] == pytest.approx((4 * 100 + 12 * 200) / 16)
    # no kind column: the old inference, and the method says so
    assert {k: v.split(" (")[0] for k, v in pooled.method.items()} == {"fcr": "pooled_ratio", "nps": "pooled_ratio",
                                                                       "ttr": "n_weighted_mean"}
    assert all(v.endswith("(kind inferred: the panel has no kind column)") for v in pooled.method.values())
    assert pooled.ci_low.isna().all().all()
    assert pooled.n.loc["a1", "fcr"] == 102 and pooled.n.loc["a2", "fcr"] == 4
    assert np.isnan(pooled.values.loc["a2", "nps"])
    flags = pooled.small_n(30)
    assert flags["a2"] == "fcr" and flags["a1"] == "ttr"
    # row order does not matter
    shuffled = pool_periods(panel.sample(frac=1, random_state=3))
    pd.testing.assert_frame_equal(shuffled.values, pooled.values)


def test_optional_columns_are_validated_and_kept(tmp_path):
    panel = long_panel().assign(kind="mean", scale=1.0, exempted_share=0.0)
    for ext in ("csv", "parquet"):
        got = read_panel(write_table(panel, tmp_path / f"k.{ext}"))
        assert list(got.columns) == PANEL_COLUMNS + ["kind", "scale", "exempted_share"]
        assert (got["kind"] == "mean").all()
    with pytest.raises(SchemaError, match="unknown kind"):
        validate_panel(panel.assign(kind="median"))
    with pytest.raises(SchemaError, match="'scale' must be numeric"):
        validate_panel(panel.assign(scale="x"))
    assert set(OPTIONAL_PANEL_COLUMNS) >= {"kind", "scale", "exempted_share", "value_shrunk"}
    assert {"queue", "channel"} <= set(UNIT_LEVELS)
