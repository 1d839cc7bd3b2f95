"""The overview and operations functions aggregate in DuckDB: their results equal the pandas versions.

The oracle is the pandas code before issue 12 part 2, kept verbatim in ``tests/oracle12`` (every
table loaded into pandas, rows with problems dropped by :func:`kpilab.schema.validate_table`). Inputs:
the messy simulator (tz-aware Europe/London timestamps, duplicate ids and rows, negative durations,
out-of-range survey codes, e-mails in phone queues) written as a folder and given as DataFrames,
with and without a review period, and a hand-made table breaking every row rule.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kpilab import overview
from kpilab.errors import DataError
from kpilab.ingest import load_tables
from kpilab.operations import open_tables, qa_sampling, staffing, triangulation
from kpilab.review_period import review_period
from kpilab.schema import validate_table
from kpilab.simulate import simulate, write_simulation
from tests.oracle12 import overview as old_overview
from tests.oracle12 import qa_sampling as old_qa
from tests.oracle12 import staffing as old_staffing
from tests.oracle12 import triangulation as old_triangulation

RTOL = 1e-12  # sums taken in another order (DuckDB) may differ in the last bits; counts must be equal


@pytest.fixture(scope="module")
def messy(tmp_path_factory):
    sim = simulate(agents=24, months=3, seed=11, realism="messy")
    folder = tmp_path_factory.mktemp("messy")
    write_simulation(sim, folder)
    return folder


SCOPES = {"all": ("", ""), "february": ("2025-02-01", "2025-02-28")}


def _inputs(folder, scope_key):
    """(old input: the period's rows as DataFrames, new inputs: opened folder and the same DataFrames)."""
    scope = review_period(*SCOPES[scope_key], "month", history=1)
    tables, rows = scope.filter_tables(load_tables(folder))
    return scope, tables, rows


def _bad_rows():
    t0 = pd.Timestamp("2025-03-03 09:00")
    n = 9
    c = pd.DataFrame({
        "contact_id": ["c0", "c1", "c2", "c2", "c4", "c5", "c6", "c7", None],
        "channel": ["phone"] * n,
        "agent_id": ["a1", None, "a1", "a1", "a2", "a2", None, "a1", "a1"],
        "arrived_at": [t0 + pd.Timedelta(minutes=i) for i in range(n)],
        "talk_s": [60.0, 60.0, -5.0, 60.0, np.nan, 60.0, 60.0, 60.0, 60.0],
        "abandoned": [False, False, False, False, False, True, True, False, False],
    })
    c["answered_at"] = c["arrived_at"] + pd.Timedelta(seconds=5)
    c.loc[6, "answered_at"] = pd.NaT
    c.loc[7, "answered_at"] = c.loc[7, "arrived_at"] - pd.Timedelta(seconds=5)  # answered before arrival
    c["ended_at"] = c["arrived_at"] + pd.Timedelta(seconds=100)
    c.loc[4, "ended_at"] = pd.NaT  # answered contact without an end
    s = pd.DataFrame({"contact_id": ["c0", "c1", "c1", "c2"], "csat": [5.0, 9.0, 3.0, np.nan],
                      "responded_at": [t0] * 4})
    q = pd.DataFrame({"contact_id": ["c0", "c0", "c1"], "agent_id": ["a1", "a1", "a1"], "score": [80.0, 80.0, 120.0],
                      "reviewed_at": [t0, t0, t0]})
    e = pd.DataFrame({"start": [t0, t0], "end": [t0 - pd.Timedelta(hours=1), t0 + pd.Timedelta(hours=1)],
                      "scope": ["all", "all"], "reason": ["x", "y"], "action": ["ignore", "ignore"]})
    return {"contacts": c, "surveys": s, "qa_reviews": q, "exemptions": e,
            "agents": pd.DataFrame({"agent_id": ["a1", "a1", "a2"], "team": ["t1", "t1", "t2"]})}


def test_row_rules_match_validate_table_row_by_row(messy):
    """Every row's reason (the first rule it breaks) is the one validate_table gives, ids included."""
    for source, tables in ((messy, load_tables(messy)), (_bad_rows(), _bad_rows())):
        t = open_tables(source)
        seen = set()
        for name in t.names:
            got = t.issues(name)
            exp = validate_table(tables[name], name, strict=False).issues
            assert got["row"].tolist() == exp["row"].tolist(), name
            assert got["reason"].tolist() == exp["reason"].tolist(), name
            assert list(map(str, got["id"])) == list(map(str, exp["id"])), name
            seen |= set(exp["reason"])
            assert t.n_rows(name, valid=True) == len(tables[name]) - len(exp)
    assert {"duplicate id", "duplicate row", "negative talk_s", "csat above 5", "missing ended_at",
            "answered_at before arrived_at", "answered without agent", "unknown exemption action",
            "end before start", "score above 100"} <= seen


@pytest.mark.parametrize("scope_key", list(SCOPES))
def test_overview_functions_equal_the_pandas_versions(messy, scope_key):
    scope, tables, rows = _inputs(messy, scope_key)
    opened = open_tables(messy, scope)
    pd.testing.assert_frame_equal(opened.period_rows(), rows)
    calls = {
        "data_inventory": (tables, None),
        "validation_summary": (tables, None),
        "channel_overview": (tables["contacts"], "contacts"),
        "agent_overview": (tables, None),
        "ticket_overview": (tables["tickets"], "tickets"),
    }
    for fn, (old_arg, single) in calls.items():
        expected = getattr(old_overview, fn)(old_arg)
        for arg in (opened, old_arg, {single: old_arg} if single else tables):
            got = getattr(overview, fn)(arg)
            pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=RTOL, obj=f"{fn}({type(arg)})")
    assert (overview.validation_summary(opened)["reason"] != "(no problems)").any()


def test_bad_rows_summary_and_overview():
    bad = _bad_rows()
    pd.testing.assert_frame_equal(overview.validation_summary(bad), old_overview.validation_summary(bad))
    pd.testing.assert_frame_equal(overview.agent_overview(bad, min_n=1), old_overview.agent_overview(bad, min_n=1),
                                  check_exact=False, rtol=RTOL)


@pytest.mark.parametrize("scope_key", list(SCOPES))
def test_weekday_profile_and_staffing_equal_the_pandas_versions(messy, scope_key):
    scope, tables, _ = _inputs(messy, scope_key)
    opened = open_tables(messy, scope)
    expected = old_staffing.weekday_hour_profile(tables)
    for arg in (opened, tables):
        pd.testing.assert_frame_equal(staffing.weekday_hour_profile(arg), expected, check_exact=False, rtol=RTOL)
    for kw in ({}, {"period": "week", "patience": None}, {"period": "day", "threshold_s": 30, "channels": ("phone",)},
               {"period": "quarter", "patience": 120.0, "target_sl": 0.9}):
        expected = old_staffing.staffing_from_contacts(tables, **kw)
        assert len(expected) > 0
        for arg in (opened, tables):
            # patience is a sum of waits in another order: Erlang results move in the last bits only
            pd.testing.assert_frame_equal(staffing.staffing_from_contacts(arg, **kw), expected, check_exact=False,
                                          rtol=1e-9, obj=str(kw))
    if scope_key == "all":  # a folder without a period reads every row
        pd.testing.assert_frame_equal(staffing.weekday_hour_profile(messy), old_staffing.weekday_hour_profile(messy),
                                      check_exact=False, rtol=RTOL)


@pytest.mark.parametrize("scope_key", list(SCOPES))
def test_triangulation_equals_the_pandas_version(messy, scope_key):
    scope, tables, _ = _inputs(messy, scope_key)
    opened = open_tables(messy, scope)
    pd.testing.assert_frame_equal(triangulation.resolution_sources(opened), old_triangulation.resolution_sources(tables))
    for kw in ({}, {"window_days": 3.5, "qa_pass": 70, "references": ("customer", "qa"), "min_n": 10},
               {"claimed": "customer", "references": ("repeat_contact",)}):
        expected = old_triangulation.triangulate(tables, **kw)
        for arg in (opened, tables):
            got = triangulation.triangulate(arg, **kw)
            pd.testing.assert_frame_equal(got.agents, expected.agents, check_exact=False, rtol=RTOL)
            pd.testing.assert_frame_equal(got.agreement, expected.agreement, check_exact=False, rtol=RTOL)
            pd.testing.assert_frame_equal(got.sources, expected.sources)
            assert got.summary() == expected.summary()
        light = triangulation.triangulate(opened, keep_sources=False, **kw)
        assert light.sources is None and light.summary() == expected.summary()
        pd.testing.assert_frame_equal(light.agents, expected.agents, check_exact=False, rtol=RTOL)


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    sim = simulate(agents=30, months=2, seed=4)
    folder = tmp_path_factory.mktemp("clean")
    write_simulation(sim, folder)
    return folder


def test_qa_sample_equals_the_pandas_version(clean):
    tables = load_tables(clean)
    opened = open_tables(clean)
    for kw in ({}, {"strata": ("agent", "channel", "queue"), "allocation": "neyman", "seed": 3},
               {"strata": ("team", "channel"), "rate": 0.1}, {"strata": (), "min_per_agent": 0}):
        for day in ("2025-01-01", "2025-02-14", "2025-02-28"):
            expected = old_qa.qa_sample(tables, day, **kw)
            for arg in (opened, tables, clean):
                got = qa_sampling.qa_sample(arg, day, **kw)
                for part in ("sample", "plan", "agent_margins"):
                    pd.testing.assert_frame_equal(getattr(got, part), getattr(expected, part), check_exact=False,
                                                  rtol=RTOL)
                assert got.params == expected.params
    scope = review_period("2025-02-01", "2025-02-28", "month")  # as notebook 06 reads the review period
    period_tables = scope.filter_tables(tables)[0]
    expected = old_qa.qa_sample(period_tables, "2025-02-20", allocation="neyman")
    got = qa_sampling.qa_sample(open_tables(clean, scope), "2025-02-20", allocation="neyman")
    for part in ("sample", "plan", "agent_margins"):
        pd.testing.assert_frame_equal(getattr(got, part), getattr(expected, part), check_exact=False, rtol=RTOL)
    with pytest.raises(DataError) as old_error:
        old_qa.qa_sample(tables, "2025-06-01")
    with pytest.raises(DataError, match="the contacts table covers 2025-01-01 to ") as new_error:
        qa_sampling.qa_sample(opened, "2025-06-01")
    assert str(new_error.value) == str(old_error.value)


def test_qa_sample_on_tz_aware_data_with_reviews(messy):
    """Reviews before the day are taken by local time (the pandas version compared aware and naive times)."""
    s = qa_sampling.qa_sample(messy, "2025-02-10")
    assert round(s.sample["weight"].sum()) == s.params["population"] > 0
    assert s.agent_margins["score_sd"].notna().all()


def test_repeated_id_screen_in_several_passes(messy, monkeypatch):
    """With a few ids per pass (one pass per hash residue class) the screen still finds every repeat."""
    from kpilab import id_screen

    expected = {name: open_tables(messy).issues(name) for name in ("contacts", "qa_reviews")}
    monkeypatch.setattr(id_screen, "_SORT_SCREEN_ROWS", 50)
    t = open_tables(messy)
    for name, exp in expected.items():
        pd.testing.assert_frame_equal(t.issues(name), exp)
        assert exp["reason"].str.startswith("duplicate").any()


def test_real_pwc_export_equals_the_pandas_versions(shared_data, tmp_path):
    """The PwC call-centre log (a real export through its adapter): overview, profile, staffing, triangulation."""
    from kpilab.adapters import pwc_call_log, write_tables

    path = shared_data / "pwc-call-center" / "pwc_call_center_dataset.xlsx"
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    write_tables(pwc_call_log(path), tmp_path)
    tables = load_tables(tmp_path)
    opened = open_tables(tmp_path)
    for fn in ("data_inventory", "validation_summary", "agent_overview"):
        pd.testing.assert_frame_equal(getattr(overview, fn)(opened), getattr(old_overview, fn)(tables),
                                      check_exact=False, rtol=RTOL)
    pd.testing.assert_frame_equal(overview.channel_overview(opened), old_overview.channel_overview(tables["contacts"]),
                                  check_exact=False, rtol=RTOL)
    pd.testing.assert_frame_equal(staffing.weekday_hour_profile(opened), old_staffing.weekday_hour_profile(tables),
                                  check_exact=False, rtol=RTOL)
    pd.testing.assert_frame_equal(staffing.staffing_from_contacts(opened), old_staffing.staffing_from_contacts(tables),
                                  check_exact=False, rtol=1e-9)
    got, expected = triangulation.triangulate(opened), old_triangulation.triangulate(tables)
    pd.testing.assert_frame_equal(got.agents, expected.agents, check_exact=False, rtol=RTOL)
    pd.testing.assert_frame_equal(got.agreement, expected.agreement, check_exact=False, rtol=RTOL)


def test_open_tables_fits_duckdb_to_the_process_budget(monkeypatch):
    """With memory_limit, DuckDB gets the budget less what the process holds before each query (as the
    panel engine does); without, DuckDB alone gets 1 GB as before."""
    import kpilab._duckdb as D
    from kpilab.operations import open_tables

    arrived = pd.Timestamp("2025-03-03 09:00") + pd.to_timedelta(np.arange(20), unit="min")
    contacts = pd.DataFrame({"contact_id": [f"c{i}" for i in range(20)], "channel": "phone", "queue": "q1",
                             "agent_id": "A1", "arrived_at": arrived, "answered_at": arrived + pd.Timedelta(seconds=9),
                             "ended_at": arrived + pd.Timedelta(seconds=99), "talk_s": 90.0, "abandoned": False})
    held = [300 * 1024**2]
    monkeypatch.setattr(D, "resident_bytes", lambda: held[0])
    # budgets whose DuckDB share stays below 1 GiB, which DuckDB shows to 0.1 MiB
    budgeted = open_tables({"contacts": contacts}, memory_limit="1GB")
    limit = lambda t: D.size_bytes(t.scalar("SELECT current_setting('memory_limit')"))  # noqa: E731
    assert limit(budgeted) == pytest.approx(0.9e9 - 300 * 1024**2, rel=0.01)
    held[0] = 500 * 1024**2  # the notebook's frames grew: DuckDB's share shrinks, never below a quarter
    assert limit(budgeted) == pytest.approx(0.9e9 - 500 * 1024**2, rel=0.01)
    held[0] = 900 * 1024**2
    assert limit(budgeted) == pytest.approx(0.25e9, rel=0.01)
    assert len(budgeted.sql(f"SELECT * FROM {budgeted.valid('contacts')}")) == 20
    assert limit(open_tables({"contacts": contacts})) == pytest.approx(1e9, rel=0.01)


@pytest.mark.parametrize(("ids", "repeats"), [(["7", "007", "8", "9"], 0), (["7", "8", "7", "9"], 1),
                                              (["a", "b", "a", "a"], 2)])
def test_operations_views_exclude_repeated_ids_whichever_screen_decides(ids, repeats):
    """The operations views use kpilab.id_screen: integer ids (with the '007' = '7' false alarm cleared by
    the exact grouping) and text ids exclude exactly the later repeats."""
    arrived = pd.Timestamp("2025-03-03 09:00") + pd.to_timedelta(np.arange(4), unit="min")
    contacts = pd.DataFrame({"contact_id": ids, "channel": "phone", "queue": "q1", "agent_id": "A1",
                             "arrived_at": arrived, "answered_at": arrived + pd.Timedelta(seconds=9),
                             "ended_at": arrived + pd.Timedelta(seconds=99), "talk_s": 90.0, "abandoned": False})
    t = open_tables({"contacts": contacts})
    assert t.n_rows("contacts", valid=True) == 4 - repeats
    bad = t.issues("contacts")
    assert (bad["reason"] == "duplicate id").sum() == repeats
