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


# ----------------------------------------------------------------------------- issue 14: exact loading
def _contacts(**cols):
    base = {"contact_id": ["c1", "c2"], "channel": ["phone", "phone"], "agent_id": ["a1", "a1"],
            "arrived_at": ["2025-03-03 09:00:00", "2025-03-04 09:00:00"],
            "answered_at": ["2025-03-03 09:00:10", "2025-03-04 09:00:10"],
            "ended_at": ["2025-03-03 09:05:00", "2025-03-04 09:05:00"], "talk_s": ["100", "200"],
            "abandoned": ["false", "false"]}
    return pd.DataFrame({**base, **cols})


def test_day_first_read_from_the_values(tmp_path):
    from kpilab.ingest import load_source

    c = _contacts(arrived_at=["13/03/2025 09:00", "07/03/2025 10:00"], answered_at=["13/03/2025 09:00:10", None],
                  ended_at=["13/03/2025 09:05", "07/03/2025 10:05"], abandoned=["false", "true"])
    c.to_csv(tmp_path / "contacts.csv", index=False)
    df = load_source(tmp_path / "contacts.csv").to_pandas()
    assert df["arrived_at"].tolist() == [pd.Timestamp("2025-03-13 09:00"), pd.Timestamp("2025-03-07 10:00")]
    # every value fits both orders: refused, unless the mapping says
    c.loc[0, ["arrived_at", "ended_at"]] = ["12/03/2025 09:00", "12/03/2025 09:05"]
    c["answered_at"] = [None, None]
    c["abandoned"] = ["true", "true"]
    c.to_csv(tmp_path / "contacts.csv", index=False)
    with pytest.raises(SchemaError, match=r"day-first or month-first.*timestamps.dayfirst"):
        load_source(tmp_path / "contacts.csv")
    m = load_mapping({"table": "contacts", "timestamps": {"dayfirst": False}})
    df = load_source(tmp_path / "contacts.csv", mapping=m).to_pandas()
    assert df["arrived_at"].iloc[0] == pd.Timestamp("2025-12-03 09:00")


def test_utc_offsets_across_dst_become_utc_instants(tmp_path):
    from kpilab.ingest import load_source

    c = _contacts(arrived_at=["2025-03-30T01:30:00+01:00", "2025-03-30T03:30:00+02:00"],
                  answered_at=["2025-03-30T01:30:10+01:00", "2025-03-30T03:30:10+02:00"],
                  ended_at=["2025-03-30T01:35:00+01:00", "2025-03-30T03:35:00+02:00"])
    c.to_csv(tmp_path / "contacts.csv", index=False)
    lt = load_source(tmp_path / "contacts.csv")
    df = lt.to_pandas()
    assert lt.tz == "UTC"
    assert df["arrived_at"].tolist() == [pd.Timestamp("2025-03-30 00:30", tz="UTC"),
                                         pd.Timestamp("2025-03-30 01:30", tz="UTC")]


def test_sentinels_are_missing_and_implausible_dates_are_marked(tmp_path):
    from kpilab.ingest import load_source

    n = 40
    days = pd.date_range("2025-01-01", periods=n, freq="D")
    t = pd.DataFrame({"ticket_id": [f"t{i}" for i in range(n)], "agent_id": "a1", "created_at": days,
                      "solved_at": days + pd.Timedelta(hours=5)})
    t["solved_at"] = t["solved_at"].astype(str)
    t.loc[0, "solved_at"] = "9999-12-31 00:00:00"
    t.loc[1, "solved_at"] = "2100-01-01 00:00:00"
    t.to_csv(tmp_path / "tickets.csv", index=False)
    lt = load_source(tmp_path / "tickets.csv")
    df = lt.to_pandas()
    assert pd.isna(df.loc[0, "solved_at"]) and pd.isna(df.loc[1, "solved_at"])
    assert df["_ingest_reason"].fillna("").tolist() == ["", "implausible solved_at"] + [""] * (n - 2)
    assert lt.excluded == {"implausible solved_at": 1}
    assert any("sentinel" in x for x in lt.notices) and any("2100-01-01" in x for x in lt.notices)
    # an explicit window
    m = load_mapping({"table": "tickets", "timestamps": {"plausible": ["2025-01-01", "2025-01-20"]}})
    assert load_source(tmp_path / "tickets.csv", mapping=m).excluded["implausible created_at"] == n - 20


def test_declared_encoding_reads_exact_names(tmp_path):
    from kpilab.errors import InputFileError
    from kpilab.ingest import load_source

    c = _contacts(queue=["caf\u00e9", "\u961f\u5217"])
    c.to_csv(tmp_path / "contacts.csv", index=False, encoding="gb18030")
    with pytest.raises(InputFileError, match=r"not UTF-8 .*line 2.*gb18030.*encoding:"):
        load_source(tmp_path / "contacts.csv")
    df = load_source(tmp_path / "contacts.csv", mapping=load_mapping({"table": "contacts",
                                                                      "encoding": "gb18030"})).to_pandas()
    assert df["queue"].tolist() == ["caf\u00e9", "\u961f\u5217"]


def test_ids_differing_by_spaces_or_case(tmp_path):
    from kpilab.ingest import load_source

    c = _contacts(agent_id=["A1", " a1 "])
    c.to_csv(tmp_path / "contacts.csv", index=False)
    lt = load_source(tmp_path / "contacts.csv")
    assert any("(' a1 ' = 'A1')" in x and "normalise_ids" in x for x in lt.notices), lt.notices
    merged = load_source(tmp_path / "contacts.csv", mapping=load_mapping({"table": "contacts",
                                                                          "normalise_ids": True}))
    assert merged.to_pandas()["agent_id"].tolist() == ["a1", "a1"]
    assert any("merged 2 distinct agent_id values into 1" in x for x in merged.notices)


def test_bad_numbers_name_values_count_and_rows(tmp_path):
    from kpilab.ingest import load_source

    c = pd.concat([_contacts()] * 3, ignore_index=True).assign(contact_id=[f"c{i}" for i in range(6)])
    c.loc[[1, 4], "talk_s"] = "12 s"
    c.to_csv(tmp_path / "contacts.csv", index=False)
    with pytest.raises(SchemaError, match=r"contacts.csv, column 'talk_s' must hold float values: 2 value\(s\) are "
                                          r"not numbers: '12 s' \(2 times\); first rows 2, 5"):
        load_source(tmp_path / "contacts.csv")


def test_empty_csv_variants_load_like_an_empty_parquet(tmp_path):
    from kpilab.ingest import load_source

    _contacts().head(0).to_parquet(tmp_path / "contacts.parquet")
    (tmp_path / "a.csv").write_bytes(b"")
    (tmp_path / "b.csv").write_bytes(b"\xef\xbb\xbf")
    _contacts().head(0).to_csv(tmp_path / "c.csv", index=False)
    for f in ("contacts.parquet", "a.csv", "b.csv", "c.csv"):
        lt = load_source(tmp_path / f, "contacts")
        assert lt.n_rows == 0
        validate = __import__("kpilab.schema", fromlist=["validate_table"]).validate_table
        validate(lt.to_pandas(), "contacts")


def test_mapping_duplicate_key_names_both_lines(tmp_path):
    p = tmp_path / "m.yaml"
    p.write_text("table: contacts\ncolumns:\n  A: agent_id\n  A: contact_id\n")
    with pytest.raises(SchemaError, match=r"m.yaml: key 'A' appears twice \(line 3 and line 4\)"):
        load_mapping(p)


def test_xlsx_sheet_from_the_mapping(tmp_path):
    from kpilab.errors import InputFileError
    from kpilab.ingest import load_source

    with pd.ExcelWriter(tmp_path / "contacts.xlsx") as xw:
        pd.DataFrame({"x": [1]}).to_excel(xw, sheet_name="Notes", index=False)
        _contacts().to_excel(xw, sheet_name="Calls", index=False)
    with pytest.raises(InputFileError, match=r"no sheet 'Nope' \(it has 'Notes', 'Calls'\)"):
        load_source(tmp_path / "contacts.xlsx", mapping=load_mapping({"table": "contacts", "sheet": "Nope"}))
    df = load_source(tmp_path / "contacts.xlsx", mapping=load_mapping({"table": "contacts", "sheet": "Calls"})
                     ).to_pandas()
    assert df["talk_s"].tolist() == [100.0, 200.0] and df["arrived_at"].iloc[1] == pd.Timestamp("2025-03-04 09:00")


def test_spelling_check_of_agent_ids_is_left_to_the_panel_and_gives_the_same_notice(tmp_path):
    """A Parquet file passed through as it is: load_source(defer_spelling=...) does not scan agent_id, and
    the panel checks the ids it groups by (or reads them, when it does not group by agent); the notice is
    the one loading gives, whichever way. Other callers of load_source still get it from loading."""
    from kpilab.indicators import compute_panel
    from kpilab.ingest import load_source

    base = pd.Timestamp("2025-03-03 08:00")
    arrived = pd.Series([base + pd.Timedelta(minutes=i) for i in range(6)]).astype("datetime64[us]")
    c = pd.DataFrame({"contact_id": [f"c{i}" for i in range(6)], "channel": "phone",
                      "agent_id": ["A1", " a1 ", "a1", "B2", "b2", "C3"], "arrived_at": arrived,
                      "answered_at": arrived + pd.Timedelta(seconds=5), "ended_at": arrived + pd.Timedelta(seconds=200),
                      "talk_s": 100.0, "abandoned": False})
    path = tmp_path / "contacts.parquet"
    c.to_parquet(path, index=False)

    plain = load_source(path)
    expected = [x for x in plain.notices if "differ only by spaces or case" in x]
    assert expected == ["contacts.parquet: agent_id has 5 ids that differ only by spaces or case and look like 2 "
                        "id(s) (' a1 ' = 'A1' = 'a1'; 'B2' = 'b2'); they count as different units. Set "
                        "normalise_ids: true in contacts.mapping.yaml (and the other tables' mappings) to merge them."]
    from kpilab import ingest

    ingest._LOADED.clear()
    deferred = load_source(path, defer_spelling=("agent_id",))
    assert deferred.unchecked_spelling == ("agent_id",)
    assert not any("differ only by spaces" in x for x in deferred.notices)
    # the cached table is not read again: a caller that does not defer gets the check done on it now
    again = load_source(path)
    assert again.notices == plain.notices and again.unchecked_spelling == ()
    assert load_source(path, defer_spelling=("agent_id",)).notices == plain.notices

    for unit in ("agent", "centre"):  # the aggregation's keys, or a query of the column
        notices = compute_panel(tmp_path, period="week", unit=unit, indicators=["aht"]).notices
        assert [x for x in notices if "differ only by spaces or case" in x] == expected, unit

    # a CSV is typed into a copy: loading checks it, and the panel does not check it twice
    c.to_csv(tmp_path / "contacts.csv", index=False)
    path.unlink()
    notices = compute_panel(tmp_path, period="week", unit="agent", indicators=["aht"]).notices
    assert [x.replace("contacts.csv", "contacts.parquet") for x in notices
            if "differ only by spaces or case" in x] == expected
