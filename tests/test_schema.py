"""Canonical-table validation: one test per class of bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kpilab.errors import SchemaError
from kpilab.schema import TABLES, coerce_table, validate_table

T0 = pd.Timestamp("2025-03-03 09:00", tz="Asia/Shanghai")


def contacts(n: int = 6) -> pd.DataFrame:
    arrived = pd.Series([T0 + pd.Timedelta(minutes=10 * i) for i in range(n)])
    answered = arrived + pd.Timedelta(seconds=15)
    df = pd.DataFrame(
        {
            "contact_id": [f"c{i}" for i in range(n)],
            "channel": ["phone"] * n,
            "customer_id": [f"u{i % 3}" for i in range(n)],
            "agent_id": ["a1", "a2"] * (n // 2),
            "arrived_at": arrived,
            "answered_at": answered,
            "ended_at": answered + pd.Timedelta(seconds=300),
            "talk_s": [280.0] * n,
            "hold_s": [10.0] * n,
            "acw_s": [10.0] * n,
            "abandoned": [False] * n,
            "resolved": [True] * n,
        }
    )
    # one abandoned contact: no agent, no answer
    df.loc[n - 1, ["agent_id", "answered_at", "talk_s"]] = [None, pd.NaT, np.nan]
    df.loc[n - 1, "abandoned"] = True
    df.loc[n - 1, "ended_at"] = df.loc[n - 1, "arrived_at"] + pd.Timedelta(seconds=40)
    return df


def test_good_table_passes():
    report = validate_table(contacts(), "contacts")
    assert report.ok and report.n_rows == 6


def test_extra_columns_are_kept_and_ignored():
    df = contacts().assign(crm_flag="x")
    assert validate_table(df, "contacts").ok


def test_missing_column_names_table_and_column():
    with pytest.raises(SchemaError, match=r"Table 'contacts' is missing required column\(s\) 'arrived_at'") as exc:
        validate_table(contacts().drop(columns="arrived_at"), "contacts")
    assert exc.value.table == "contacts" and exc.value.column == "arrived_at"


def test_wrong_type_names_column():
    df = contacts()
    df["talk_s"] = ["long"] * len(df)
    with pytest.raises(SchemaError, match=r"column 'talk_s' must hold float values"):
        validate_table(df, "contacts")


def test_negative_duration_names_rows():
    df = contacts()
    df.loc[[1, 3], "talk_s"] = -5.0
    with pytest.raises(SchemaError, match=r"2 row\(s\) with negative talk_s \(first: 'c1', 'c3'\)") as exc:
        validate_table(df, "contacts")
    assert exc.value.n_rows == 2 and exc.value.example_ids == ["c1", "c3"]


def test_times_running_backwards():
    df = contacts()
    df.loc[2, "ended_at"] = df.loc[2, "arrived_at"] - pd.Timedelta(seconds=1)
    with pytest.raises(SchemaError, match=r"ended_at before"):
        validate_table(df, "contacts")


def test_duplicate_ids():
    df = pd.concat([contacts(), contacts().iloc[[0]]], ignore_index=True)
    with pytest.raises(SchemaError, match=r"duplicate id \(first: 'c0'\)"):
        validate_table(df, "contacts")


def test_answered_without_agent():
    df = contacts()
    df.loc[0, "agent_id"] = None
    with pytest.raises(SchemaError, match="answered without agent"):
        validate_table(df, "contacts")


def test_score_out_of_range():
    surveys = pd.DataFrame({"contact_id": ["c0", "c1"], "csat": [5.0, 6.0], "nps": [10.0, 3.0],
                            "responded_at": [T0, T0]})
    with pytest.raises(SchemaError, match=r"csat above 5 \(first: 'c1'\)"):
        validate_table(surveys, "surveys")
    surveys.loc[1, "csat"] = 4
    surveys.loc[0, "nps"] = 11
    with pytest.raises(SchemaError, match="nps above 10"):
        validate_table(surveys, "surveys")


def test_mixed_naive_and_aware_timestamps():
    df = contacts()
    df["ended_at"] = df["ended_at"].dt.tz_localize(None)
    with pytest.raises(SchemaError, match="mixes timezone-aware columns"):
        validate_table(df, "contacts")


def test_unknown_table_and_not_a_frame():
    with pytest.raises(SchemaError, match="Unknown table 'calls'"):
        validate_table(contacts(), "calls")
    with pytest.raises(SchemaError, match="must be a pandas DataFrame"):
        validate_table([1, 2], "contacts")


def test_unknown_exemption_action():
    ex = pd.DataFrame({"start": [T0], "end": [T0 + pd.Timedelta(days=3)], "scope": ["all"],
                       "reason": ["recall"], "action": ["ignore"]})
    with pytest.raises(SchemaError, match="unknown exemption action"):
        validate_table(ex, "exemptions")


def test_lenient_mode_reports_one_reason_per_row():
    df = contacts()
    df.loc[1, "talk_s"] = -5.0
    df.loc[1, "ended_at"] = df.loc[1, "arrived_at"] - pd.Timedelta(seconds=1)  # second problem, same row
    df.loc[2, "agent_id"] = None
    df = pd.concat([df, df.iloc[[0]]], ignore_index=True)
    report = validate_table(df, "contacts", strict=False)
    assert report.n_rows == 7
    assert report.issues["row"].tolist() == [1, 2, 6]
    assert report.issues["reason"].tolist() == ["negative talk_s", "answered without agent", "duplicate id"]
    assert report.excluded_mask().sum() == 3
    # nothing is lost: flagged + clean = read
    assert (~report.excluded_mask()).sum() + len(report.issues) == len(df)


def test_coerce_table_parses_strings_and_flags():
    df = contacts()
    as_text = df.assign(
        arrived_at=df["arrived_at"].astype(str),
        abandoned=df["abandoned"].map({True: "yes", False: "no"}),
        contact_id=range(len(df)),
    )
    fixed = coerce_table(as_text, "contacts")
    assert pd.api.types.is_datetime64_any_dtype(fixed["arrived_at"])
    assert fixed["abandoned"].dtype == bool
    assert fixed["contact_id"].tolist() == [str(i) for i in range(len(df))]
    assert validate_table(fixed, "contacts").ok


def test_every_table_has_a_spec_with_required_columns():
    assert set(TABLES) == {"contacts", "surveys", "qa_reviews", "tickets", "agents", "exemptions"}
    for spec in TABLES.values():
        assert spec.required
