"""``simulate(realism="messy")``: the defects of real exports, each recorded exactly in truth.json.

The messy tables are the clean tables of the same seed plus the listed defects, so the
strongest check rebuilds the messy tables from the clean ones and the ``defects`` list alone.
The window (March to October 2025) spans both daylight-saving switches of Europe/London.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kpilab.cli import main
from kpilab.errors import ParameterError
from kpilab.schema import TABLES, validate_table
from kpilab.simulate import DEFECT_RATES, MESSY_ZONE, TABLE_NAMES, simulate, write_simulation

PARAMS = {"agents": 12, "months": 8, "seed": 5, "start": "2025-03-01"}
ROW_KINDS = {"missing_value", "negative_duration", "abandon_wait_unknown", "out_of_range", "dst_nonexistent",
             "dst_ambiguous", "dst_elapsed", "duplicate_row"}
BULK_KINDS = {"mixed_channel_queue", "tz_aware"}
KEYS = ["kind", "table", "column", "count", "id_column", "ids", "rows", "where", "expected_reason", "detail", "note"]


@pytest.fixture(scope="module")
def clean():
    return simulate(**PARAMS)


@pytest.fixture(scope="module")
def messy():
    return simulate(**PARAMS, realism="messy")


def _entries(sim, kind=None, table=None, column=None):
    return [d for d in sim.truth["defects"] if (kind is None or d["kind"] == kind)
            and (table is None or d["table"] == table) and (column is None or d["column"] == column)]


def _one(sim, kind, table, column=None):
    (d,) = _entries(sim, kind, table, column)
    return d


def _time_columns(name):
    return [c.name for c in TABLES[name].columns if c.kind == "timestamp"]


def _dup_rows(sim, table):
    return _one(sim, "duplicate_row", table)["rows"]


def _clean_positions(sim, table, rows):
    """Positions in the clean table of the messy rows ``rows`` (none of them a duplicate copy)."""
    dups = np.asarray(_dup_rows(sim, table) if _entries(sim, "duplicate_row", table) else [], dtype=int)
    rows = np.asarray(rows, dtype=int)
    assert not np.isin(rows, dups).any()
    return rows - np.searchsorted(dups, rows)


# --- clean mode and parameters -----------------------------------------------------------


def test_clean_mode_has_no_defects(clean):
    assert clean.params.realism == "clean" and clean.truth["realism"] == "clean"
    assert clean.truth["defects"] == []
    assert clean.truth["params"]["realism"] == "clean"
    for name, df in clean.tables.items():
        for col in df.columns:
            if pd.api.types.is_datetime64_any_dtype(df[col]):
                assert getattr(df[col].dtype, "tz", None) is None, (name, col)


def test_bad_realism_raises():
    with pytest.raises(ParameterError, match=r"'realism'.*'clean', 'messy'.*Got 'dirty'"):
        simulate(agents=4, months=1, realism="dirty")


def test_messy_is_deterministic(messy, tmp_path):
    again = simulate(**PARAMS, realism="messy")
    assert again.truth == messy.truth
    for name in TABLE_NAMES:
        pd.testing.assert_frame_equal(again.tables[name], messy.tables[name])
    write_simulation(messy, tmp_path / "a")
    write_simulation(again, tmp_path / "b")
    for p in sorted((tmp_path / "a").iterdir()):
        assert p.read_bytes() == (tmp_path / "b" / p.name).read_bytes(), p.name


def test_messy_parquet_round_trip_keeps_time_zone(messy, tmp_path):
    write_simulation(messy, tmp_path / "m")
    for name in TABLE_NAMES:
        back = pd.read_parquet(tmp_path / "m" / f"{name}.parquet")
        pd.testing.assert_frame_equal(back, messy.tables[name], check_dtype=False)
        for col in _time_columns(name):
            assert str(back[col].dt.tz) == MESSY_ZONE, (name, col)
    truth = json.loads((tmp_path / "m" / "truth.json").read_text())
    assert truth["defects"] == messy.truth["defects"]


# --- the defects list ------------------------------------------------------------------------


def test_defect_entries_are_well_formed(messy):
    kinds = {d["kind"] for d in messy.truth["defects"]}
    assert kinds == ROW_KINDS | BULK_KINDS
    for d in messy.truth["defects"]:
        assert list(d) == KEYS, d["kind"]
        assert d["table"] in TABLE_NAMES
        df = messy.tables[d["table"]]
        if d["kind"] in BULK_KINDS:
            assert d["ids"] is None and d["rows"] is None and d["where"]
            continue
        assert d["count"] == len(d["rows"]) and d["where"] is None
        # rows are positions in the messy table; ids are that row's id (QA: the reviewed contact)
        assert all(0 <= r < len(df) for r in d["rows"])
        if d["id_column"] is not None:
            assert d["count"] == len(d["ids"])
            assert df[d["id_column"]].iloc[d["rows"]].tolist() == d["ids"]


def test_every_defect_kind_is_present(messy):
    """At this size each planted row-level defect has rows (so the counts below are not vacuous)."""
    for kind, table, col in [("missing_value", "contacts", "talk_s"), ("negative_duration", "contacts", "acw_s"),
                             ("abandon_wait_unknown", "contacts", "ended_at"), ("out_of_range", "surveys", "csat"),
                             ("out_of_range", "surveys", "nps"), ("duplicate_row", "contacts", "contact_id"),
                             ("duplicate_row", "qa_reviews", None)]:
        assert _one(messy, kind, table, col)["count"] >= 1, (kind, table)
    assert sum(d["count"] for d in _entries(messy, "dst_elapsed")) >= 5
    assert sum(d["count"] for d in _entries(messy, "dst_nonexistent") + _entries(messy, "dst_ambiguous")) >= 1


def test_defect_counts_follow_the_rates(clean, messy):
    c = clean.tables["contacts"]
    answered = int((~c["abandoned"]).sum())
    expect = {
        ("missing_value", "contacts"): DEFECT_RATES["missing_talk_time"] * answered,
        ("abandon_wait_unknown", "contacts"): DEFECT_RATES["abandon_wait_unknown"] * int(c["abandoned"].sum()),
        ("duplicate_row", "qa_reviews"): DEFECT_RATES["duplicate_qa_review"] * len(clean.tables["qa_reviews"]),
    }
    for (kind, table), n in expect.items():
        assert _one(messy, kind, table)["count"] == max(1, round(n)), (kind, table)


# --- exact accounting ----------------------------------------------------------------------------


def test_messy_tables_are_clean_tables_plus_the_listed_defects(clean, messy):
    """Rebuild every messy table from the clean one and the defects list; nothing else may differ."""
    for name in TABLE_NAMES:
        exp = clean.tables[name].copy()
        for d in _entries(messy, table=name):
            if d["kind"] in ("tz_aware", "mixed_channel_queue", "dst_ambiguous", "dst_elapsed", "duplicate_row"):
                continue  # bulk entries and duplicates are applied below; ambiguous and elapsed follow from the zone
            key = np.zeros(len(exp), dtype=bool)
            key[_clean_positions(messy, name, d["rows"])] = True
            if d["id_column"] is not None:
                assert exp.loc[key, d["id_column"]].tolist() == d["ids"], (d["kind"], name, d["column"])
            col = d["column"]
            if d["kind"] == "missing_value":
                exp.loc[key, col] = np.nan
            elif d["kind"] == "negative_duration":
                exp.loc[key, col] = -np.maximum(exp.loc[key, col], 1.0)
            elif d["kind"] == "abandon_wait_unknown":
                exp.loc[key, col] = exp.loc[key, "arrived_at"]
            elif d["kind"] == "out_of_range":
                exp.loc[key, col] = float(d["detail"]["value"])
            elif d["kind"] == "dst_nonexistent":
                exp.loc[key, col] = exp.loc[key, col] + pd.Timedelta(seconds=d["detail"]["shift_s"])
        if name == "contacts":
            email = exp["channel"] == "email"
            exp.loc[email, "queue"] = exp.loc[email, "queue"].str.replace("_email", "_phone")
        got = messy.tables[name].copy()
        if _entries(messy, "duplicate_row", name):
            rows = _dup_rows(messy, name)
            # each copy repeats the row just above it exactly
            pd.testing.assert_frame_equal(got.iloc[rows].reset_index(drop=True),
                                          got.iloc[np.asarray(rows) - 1].reset_index(drop=True))
            got = got.drop(index=rows).reset_index(drop=True)
        for col in _time_columns(name):
            assert str(got[col].dt.tz) == MESSY_ZONE, (name, col)
            got[col] = got[col].dt.tz_localize(None)  # the local wall clock
        pd.testing.assert_frame_equal(got, exp, check_dtype=False, obj=name)


def test_schema_flags_exactly_the_listed_rows(messy):
    """validate_table (lenient) excludes exactly the rows with an expected_reason, with that reason."""
    for name in TABLE_NAMES:
        rep = validate_table(messy.tables[name], name, strict=False)
        expected = {r: d["expected_reason"] for d in _entries(messy, table=name) if d["expected_reason"]
                    for r in d["rows"]}
        got = dict(zip(rep.issues["row"].astype(int), rep.issues["reason"], strict=True))
        assert got == expected, name
    assert set(_entries(messy, "negative_duration")[0]["rows"]) | set(_dup_rows(messy, "contacts")) == set(
        validate_table(messy.tables["contacts"], "contacts", strict=False).issues["row"])


def test_qa_duplicates_are_exact_and_only_these(messy):
    qa = messy.tables["qa_reviews"]
    assert np.flatnonzero(qa.duplicated(keep="first").to_numpy()).tolist() == _dup_rows(messy, "qa_reviews")


def test_contact_duplicates_repeat_the_id(messy):
    c = messy.tables["contacts"]
    rows = np.flatnonzero(c["contact_id"].duplicated(keep="first").to_numpy()).tolist()
    assert rows == _dup_rows(messy, "contacts")
    assert c.duplicated(keep="first").sum() == len(rows)  # exact copies, not just the same id


def test_missing_talk_and_unknown_waits(clean, messy):
    c = messy.tables["contacts"]
    ab = c["abandoned"]
    assert not clean.tables["contacts"]["talk_s"][~clean.tables["contacts"]["abandoned"]].isna().any()
    missing = c.loc[~ab & c["talk_s"].isna(), "contact_id"].drop_duplicates().tolist()
    assert sorted(missing) == sorted(_one(messy, "missing_value", "contacts", "talk_s")["ids"])
    zero = c.loc[ab & (c["ended_at"] == c["arrived_at"]), "contact_id"].drop_duplicates().tolist()
    d = _one(messy, "abandon_wait_unknown", "contacts")
    assert sorted(zero) == sorted(d["ids"]) and d["detail"]["scheme"] == "ended_at = arrived_at"
    cc = clean.tables["contacts"]
    assert not (cc["abandoned"] & (cc["ended_at"] == cc["arrived_at"])).any()  # clean waits are known


def test_email_mixed_into_phone_queues(messy):
    c = messy.tables["contacts"]
    d = _one(messy, "mixed_channel_queue", "contacts")
    email = c["channel"] == "email"
    assert d["count"] == int(email.sum()) > 0 and d["where"] == "channel == 'email'"
    assert c.loc[email, "queue"].str.endswith("_phone").all()
    assert not c["queue"].str.endswith("_email").any()
    # the phone queue now holds e-mails that waited minutes to hours
    wait = (c["answered_at"] - c["arrived_at"]).dt.total_seconds()
    phone_q = c["queue"].str.endswith("_phone")
    assert wait[phone_q & email].median() > 10 * wait[phone_q & (c["channel"] == "phone")].median()


def test_time_zone_and_dst_accounting(clean, messy):
    for name in TABLE_NAMES:
        cols = _time_columns(name)
        if cols:
            d = _one(messy, "tz_aware", name)
            assert d["detail"]["columns"] == cols and d["count"] == len(messy.tables[name])
    arr = messy.tables["contacts"]["arrived_at"]
    offsets = set(arr.map(lambda ts: ts.utcoffset().total_seconds()).unique())
    assert offsets == {0.0, 3600.0}  # GMT and BST
    unknown = set(_one(messy, "abandon_wait_unknown", "contacts")["ids"])
    # dst_elapsed: elapsed time in the messy table - wall-clock difference in the clean table
    for d in _entries(messy, "dst_elapsed"):
        name, early, late = d["table"], d["detail"]["from_column"], d["column"]
        idc = d["id_column"]
        m = messy.tables[name].drop(index=_dup_rows(messy, name) if name == "contacts" else [])
        c = clean.tables[name]
        m = m.set_index(idc)
        c = c.set_index(idc)
        delta = (m[late] - m[early]).dt.total_seconds() - (c[late] - c[early]).dt.total_seconds()
        if late == "ended_at":
            delta = delta.drop(index=list(unknown))  # changed by the unknown-wait defect, not the clock
        delta = delta[delta.notna() & (delta != 0)]
        assert sorted(delta.index) == sorted(d["ids"]), (name, late)
        assert dict(zip(d["ids"], d["detail"]["seconds"], strict=True)) == delta.astype(int).to_dict()
        assert set(d["detail"]["seconds"]) <= {-3600, 3600}


# --- CLI -----------------------------------------------------------------------------------------


def test_cli_realism(tmp_path, capsys):
    out = tmp_path / "m"
    args = ["simulate", "--out", str(out), "--agents", "4", "--months", "1", "--seed", "3"]
    assert main([*args, "--realism", "messy"]) == 0
    truth = json.loads((out / "truth.json").read_text())
    man = json.loads((out / "manifest.json").read_text())
    assert truth["realism"] == "messy" and truth["defects"] and man["params"]["realism"] == "messy"
    capsys.readouterr()
    # the clean simulation of the same parameters is not a reuse of the messy one
    assert main([*args, "--reuse"]) == 0
    assert "reused" not in capsys.readouterr().out
    assert json.loads((out / "truth.json").read_text())["defects"] == []
    assert main([*args, "--realism", "dirty"]) == 2
    assert "realism" in capsys.readouterr().err


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(agents=st.integers(2, 8), months=st.integers(1, 2), seed=st.integers(0, 2**32),
       start=st.sampled_from(["2025-03-20", "2025-10-20", "2026-01-01"]))
def test_property_schema_exclusions_are_the_listed_rows(agents, months, seed, start):
    sim = simulate(agents=agents, months=months, seed=seed, start=start, realism="messy")
    for name in TABLE_NAMES:
        rep = validate_table(sim.tables[name], name, strict=False)
        expected = {r: d["expected_reason"] for d in _entries(sim, table=name) if d["expected_reason"]
                    for r in d["rows"]}
        assert dict(zip(rep.issues["row"].astype(int), rep.issues["reason"], strict=True)) == expected
    for d in sim.truth["defects"]:
        if d["rows"] is not None:
            assert d["count"] == len(d["rows"]) == len(set(d["rows"]))
