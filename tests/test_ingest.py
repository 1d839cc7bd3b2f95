"""Reading data folders and mapping other exports with a column-mapping file."""

from __future__ import annotations

import textwrap

import pandas as pd
import pytest

from kpilab.errors import DataError, SchemaError
from kpilab.indicators import compute_panel
from kpilab.ingest import apply_mapping, find_tables, load_mapping, load_tables, read_mapped
from kpilab.outputs import PROJ_ROOT

EXPORT = pd.DataFrame({
    "Ticket": ["1", "2", "3"],
    "Start": ["03/03/2025 09:00", "03/03/2025 09:10", "04/03/2025 10:00"],
    "Pickup": ["03/03/2025 09:00:12", "03/03/2025 09:10:40", ""],
    "Finish": ["03/03/2025 09:05", "03/03/2025 09:15", "04/03/2025 10:00:30"],
    "Who": ["ann", "bob", ""],
    "Talk": ["00:04:48", "00:04:20", ""],
    "Lost": ["N", "N", "Y"],
    "Note": ["x", "y", "z"],
})

MAPPING = textwrap.dedent("""\
    table: contacts
    source: export.csv
    columns: {Ticket: contact_id, Start: arrived_at, Pickup: answered_at, Finish: ended_at, Who: agent_id,
              Talk: talk_s, Lost: abandoned}
    values:
      abandoned: {"Y": true, "N": false}
    constants: {channel: phone}
    timestamps: {format: "%d/%m/%Y %H:%M", timezone: Europe/Rome}
    durations: {talk_s: "hh:mm:ss"}
    """)


@pytest.fixture()
def export_dir(tmp_path):
    EXPORT.to_csv(tmp_path / "export.csv", index=False)
    (tmp_path / "mapping.yaml").write_text(MAPPING, encoding="utf-8")
    return tmp_path


def test_mapping_file_turns_an_export_into_contacts(export_dir):
    m = load_mapping(export_dir / "mapping.yaml")
    # the export mixes minute and second precision: infer per value, day first
    m = type(m)(**{**m.__dict__, "timestamp_format": None, "dayfirst": True})
    name, df = read_mapped(m)
    assert name == "contacts"
    assert list(df["talk_s"].iloc[:2]) == [288.0, 260.0]
    assert df["abandoned"].tolist() == [False, False, True]
    assert str(df["arrived_at"].dt.tz) == "Europe/Rome"
    assert df["arrived_at"].iloc[0] == pd.Timestamp("2025-03-03 09:00", tz="Europe/Rome")
    assert "Note" not in df.columns and (df["channel"] == "phone").all()
    r = compute_panel({"contacts": df}, unit="centre", indicators=["asa", "aht", "abandon_rate"])
    v = r.panel.set_index("indicator")["value"]
    assert v["asa"] == pytest.approx((12 + 40) / 2)
    assert v["abandon_rate"] == pytest.approx(1 / 3)


def test_mapping_strict_format_reports_unparseable_timestamps(export_dir):
    with pytest.raises(SchemaError, match=r"answered_at.*2 value\(s\) do not match timestamps.format .*first rows 1, 2"):
        read_mapped(export_dir / "mapping.yaml")


@pytest.mark.parametrize(
    "patch, message",
    [({"colour": "red"}, "unknown key"),
     ({"table": "calls"}, "key 'table'"),
     ({"durations": {"talk_s": "fortnights"}}, "durations.talk_s"),
     ({"timestamps": {"timezone": "Mars/Olympus"}}, "unknown time zone"),
     ({"constants": {"shoe_size": 3}}, "shoe_size"),
     ({"columns": ["a", "b"]}, "columns")],
)
def test_mapping_errors_name_the_key(patch, message):
    import yaml

    data = {**yaml.safe_load(MAPPING), **patch}
    with pytest.raises(SchemaError, match=message):
        load_mapping(data)


def test_mapping_missing_source_column_and_unmapped_value():
    import yaml

    data = yaml.safe_load(MAPPING)
    with pytest.raises(SchemaError, match="'Ticket'"):
        apply_mapping(EXPORT.drop(columns=["Ticket"]), data)
    bad = EXPORT.assign(Lost=["N", "maybe", "Y"])
    with pytest.raises(SchemaError, match="no entry in values.abandoned"):
        apply_mapping(bad, {**data, "timestamps": {}})


def test_find_and_load_tables(tmp_path):
    pd.DataFrame({"agent_id": ["a"], "team": ["t"]}).to_csv(tmp_path / "agents.csv", index=False)
    pd.DataFrame({"agent_id": ["a"], "team": ["t"]}).to_parquet(tmp_path / "exemptions.parquet")
    pd.DataFrame({"x": [1]}).to_csv(tmp_path / "notes.csv", index=False)
    found = find_tables(tmp_path)
    assert set(found) == {"agents", "exemptions"}
    tables = load_tables(tmp_path)
    assert tables["agents"]["agent_id"].tolist() == ["a"]
    pd.DataFrame({"agent_id": ["a"], "team": ["t"]}).to_parquet(tmp_path / "agents.parquet")
    with pytest.raises(DataError, match="both"):
        find_tables(tmp_path)
    with pytest.raises(DataError, match="does not exist"):
        find_tables(tmp_path / "nope")


def test_folder_with_csv_ids_that_look_numeric(tmp_path):
    c = pd.DataFrame({"contact_id": ["001", "002"], "channel": ["phone"] * 2, "agent_id": ["7", "7"],
                      "arrived_at": ["2025-03-03 09:00:00"] * 2, "answered_at": ["2025-03-03 09:00:10"] * 2,
                      "ended_at": ["2025-03-03 09:05:00"] * 2, "talk_s": [100, 200], "abandoned": [0, 0]})
    c.to_csv(tmp_path / "contacts.csv", index=False)
    r = compute_panel(tmp_path, unit="agent", indicators=["aht"])
    assert r.panel["unit_id"].tolist() == ["7"] and r.panel["value"].item() == 150


def test_documented_mapping_example_maps_an_export():
    m = load_mapping(PROJ_ROOT / "data" / "column_mapping_example.yaml")
    export = pd.DataFrame({
        "Call ID": [101, 102], "Line": ["Voice", "Web chat"], "Skill": ["billing", "tech"],
        "Caller": ["k1", "k2"], "Agent": ["ann", None], "Start time": ["02/03/2025 10:00:00"] * 2,
        "Answer time": ["02/03/2025 10:00:20", None], "End time": ["02/03/2025 10:06:00", "02/03/2025 10:01:00"],
        "Talk": ["00:05:00", None], "Hold": [20, None], "Wrap-up": [0.5, None], "Outcome": ["Answered", "Abandoned"],
        "Solved": ["Y", None], "Extra": [1, 2]})
    df = apply_mapping(export, m)
    assert df["contact_id"].tolist() == ["101", "102"] and df["channel"].tolist() == ["phone", "chat"]
    assert df["acw_s"].iloc[0] == 30.0 and df["talk_s"].iloc[0] == 300.0
    assert str(df["arrived_at"].dt.tz) == "Europe/Rome" and "Extra" not in df.columns
    r = compute_panel({"contacts": df}, unit="centre", indicators=["aht", "abandon_rate", "asa"])
    v = r.panel.set_index("indicator")["value"]
    assert v["aht"] == 350.0 and v["asa"] == 20.0 and v["abandon_rate"] == 0.5
