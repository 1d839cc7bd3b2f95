"""The shortcuts that spare ingest and the engine a scan decide exactly as the full checks would.

Each shortcut (column minima for blank text, min/max for sentinel dates and the plausible window,
a filtered count instead of the quartiles, sorted hashes for repeated ids, the in-process cache of
read files) is checked against an independent pandas/Python computation of the same finding.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import kpilab.ingest as ingest
from kpilab import id_screen
from kpilab.indicators import engine
from kpilab.ingest import load_source


def _contacts(n: int, arrived: pd.Series, rng: np.random.Generator) -> pd.DataFrame:
    arrived = pd.to_datetime(pd.Series(arrived)).reset_index(drop=True)
    return pd.DataFrame({
        "contact_id": [f"c{i}" for i in range(n)], "channel": "phone", "queue": "q1",
        "agent_id": [f"A{i % 7}" for i in range(n)], "arrived_at": arrived,
        "answered_at": arrived + pd.Timedelta(seconds=20), "ended_at": arrived + pd.Timedelta(seconds=300),
        "talk_s": rng.gamma(4, 60, n), "abandoned": False,
    })


@settings(max_examples=25, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(alphabet=" \t\n\r\x0bab!~é", max_size=4)), min_size=1, max_size=30))
def test_blank_text_found_exactly_when_a_value_is_blank(tmp_path_factory, values):
    """Ids of spaces only read as missing, every other value is kept as it is.

    The table is passed through unchanged only when no value could need that (the minimum
    pre-check); a missed blank would leave it in the output.
    """
    n = len(values)
    df = _contacts(n, pd.Timestamp("2025-03-03 09:00") + pd.to_timedelta(np.arange(n), unit="min"),
                   np.random.default_rng(0))
    df["agent_id"] = values
    path = tmp_path_factory.mktemp("blank") / "contacts.parquet"
    df.to_parquet(path, index=False)
    got = load_source(path, "contacts").to_pandas()["agent_id"].tolist()
    want = [None if v is None or v.strip(" ") == "" else v for v in values]
    assert [None if pd.isna(v) else v for v in got] == want


def _expected_implausible(arrived: pd.Series) -> int:
    """Rows outside the default window, from exact quartiles (the data below leave no doubt either way)."""
    sec = arrived.astype("int64") / 1e6 if arrived.dtype == "datetime64[us]" else arrived.astype("int64") / 1e9
    q1, q3 = np.quantile(sec, [0.25, 0.75])
    margin = max(2 * (q3 - q1), 365 * 86400)
    return int(((sec < q1 - margin) | (sec >= q3 + margin)).sum())


@pytest.mark.parametrize("case", ["short", "two_years", "outliers", "sentinels"])
def test_plausible_window_shortcuts_match_the_definition(tmp_path, monkeypatch, case):
    rng = np.random.default_rng(1)
    n = 20_000  # above the 10,000 dates the filtered-count shortcut needs
    span = 300 if case == "short" else 730
    arrived = pd.Series(pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, span * 86400, n), unit="s"))
    if case == "outliers":
        arrived.iloc[:3] = [pd.Timestamp("1985-05-05"), pd.Timestamp("2090-01-01"), pd.Timestamp("2091-01-01")]
    if case == "sentinels":
        arrived.iloc[:2] = [pd.Timestamp("9999-12-31"), pd.Timestamp("1970-01-01")]
    df = _contacts(n, arrived, rng)
    path = tmp_path / "contacts.parquet"
    df.to_parquet(path, index=False)
    lt = load_source(path, "contacts")
    sentinel = arrived.isin([pd.Timestamp("9999-12-31"), pd.Timestamp("1970-01-01")])
    want = _expected_implausible(arrived[~sentinel].astype("datetime64[us]"))
    assert lt.excluded.get("implausible arrived_at", 0) == want
    assert (case == "outliers") == (want > 0)
    assert any("sentinel" in x for x in lt.notices) == (case == "sentinels")
    # the same table with the shortcut switched off (the quartiles always computed) reads the same
    ingest._LOADED.clear()
    monkeypatch.setattr(ingest._Normaliser, "_window_holds_all", lambda self, *a: False)
    full = load_source(path, "contacts")
    assert full.excluded == lt.excluded and full.notices == lt.notices
    pd.testing.assert_frame_equal(full.to_pandas(), lt.to_pandas())


def test_plausible_window_given_by_the_mapping_still_marks_rows(tmp_path):
    rng = np.random.default_rng(2)
    arrived = pd.Series(pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 90 * 86400, 500), unit="s"))
    path = tmp_path / "contacts.parquet"
    _contacts(500, arrived, rng).to_parquet(path, index=False)
    lo, hi = pd.Timestamp("2025-02-01"), pd.Timestamp("2025-02-28")
    lt = load_source(path, "contacts", plausible=(lo, hi))
    outside = int(((arrived < lo) | (arrived >= hi + pd.Timedelta(days=1))).sum())
    assert lt.excluded == {"implausible arrived_at": outside}
    assert load_source(path, "contacts", plausible=(pd.Timestamp("2024-01-01"), pd.Timestamp("2026-01-01"))
                       ).excluded == {}


@settings(max_examples=20, deadline=None)
@given(st.lists(st.integers(0, 40), min_size=2, max_size=60), st.booleans())
def test_repeated_id_screen_matches_pandas(ids, grouped):
    """The hash screen says 'all distinct' exactly when pandas finds no repeated id (one pass or several)."""
    import duckdb

    con = duckdb.connect()
    con.register("t", pd.DataFrame({"contact_id": [f"id{i}" for i in ids]}))
    limit = id_screen._SORT_SCREEN_ROWS
    try:
        id_screen._SORT_SCREEN_ROWS = 7 if grouped else limit  # 7: several passes, one per hash residue class
        assert id_screen.hashes_distinct(con, "t", "contact_id", len(ids), 2) == (
            not pd.Series(ids).duplicated().any())
    finally:
        id_screen._SORT_SCREEN_ROWS = limit
        con.close()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 2**64 - 1), min_size=0, max_size=80), st.sampled_from([1, 2, 3, 4]))
def test_parallel_sort_screen_matches_numpy_unique(values, threads):
    """Split by top bits and sorted in threads, or sorted whole: 'all distinct' exactly as np.unique says."""
    h = np.array(values, dtype=np.uint64)
    want = len(np.unique(h)) == len(h)
    limit = id_screen._PARALLEL_SORT_ROWS
    try:
        id_screen._PARALLEL_SORT_ROWS = 4  # small arrays take the threaded path too
        assert id_screen.all_distinct(h.copy(), threads) == want
    finally:
        id_screen._PARALLEL_SORT_ROWS = limit


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(-(2**62), 2**62), min_size=1, max_size=60), st.integers(1, 25),
       st.integers(1, 200), st.integers(0, 100))
def test_presence_map_counts_distinct_integers_in_any_batching(values, batch, cap, hint):
    """Marked batch by batch (the map growing up or down), the map holds exactly the distinct values; a
    range wider than the cap is refused, never half-counted."""
    present = id_screen.PresenceMap(cap, hint)
    fits = True
    for i in range(0, len(values), batch):
        fits = present.mark(np.array(values[i:i + batch], dtype=np.int64))
        if not fits:
            break
    spread = max(values) - min(values) + 1
    if spread > cap:
        assert not fits
        return
    assert fits and len(present.seen) <= cap
    assert present.distinct == len(set(values))
    assert set((np.flatnonzero(present.seen) + present.lo).tolist()) == set(values)


@pytest.mark.parametrize(("ids", "decided"), [
    (["10", "11", "12", "13"], True),                 # integer text: the presence map decides
    (["10", "11", "12", "11"], False),                # a repeat
    (["7", "007", "8", "9"], False),                  # equal as integers: a false alarm, cleared by grouping
    ([5, -3, 0, 2], True),                            # integers stored as integers, negatives included
    (["a1", "a2", "a3", "a4"], None),                 # not integers: the hash screen decides
    (["1", "2", "3", "x"], None),                     # one id is not an integer
    (["1", "2", "3", str(2**40)], None),              # too spread out for a map
])
def test_integer_id_screen_decides_or_hands_over(ids, decided):
    import duckdb

    con = duckdb.connect()
    con.register("t", pd.DataFrame({"contact_id": ids}))
    try:
        assert id_screen.integer_ids_distinct(con, "t", "contact_id", len(ids)) is decided
        assert id_screen.ids_distinct(con, "t", "contact_id", len(ids), 2) == (
            len(set(map(str, ids))) == len(ids) and decided is not False)
    finally:
        con.close()


@pytest.mark.parametrize("late", ["x", "99999999999", "5"])
def test_integer_screen_given_up_mid_scan_hands_over_cleanly(monkeypatch, late):
    """Ids that stop being integers (or spread out, or repeat) after the first 4,096, in a later batch:
    the scan stops and the hash screen, on the same connection, still decides."""
    import duckdb

    ids = [str(i) for i in range(6000)] + [late]
    con = duckdb.connect()
    con.register("t", pd.DataFrame({"contact_id": ids}))
    monkeypatch.setattr(id_screen, "_SCREEN_BATCH", 1000)
    try:
        assert id_screen.integer_ids_distinct(con, "t", "contact_id", len(ids)) is (False if late == "5" else None)
        assert id_screen.ids_distinct(con, "t", "contact_id", len(ids), 2) is (late != "5")
    finally:
        con.close()


@pytest.mark.parametrize("ids", ["sequential", "leading zeros", "uuid-like"])
def test_repeated_ids_are_excluded_whichever_screen_decides(tmp_path, ids):
    """End to end on a multi-row-group file: the integer map, its false alarm and the hash screen all
    end in the same accounting (one repeat excluded; '007' and '7' are different ids)."""
    from kpilab.indicators import check_accounting, compute_panel

    rng = np.random.default_rng(5)
    n = 3000
    df = _contacts(n, pd.Timestamp("2025-03-03 08:00") + pd.to_timedelta(np.arange(n), unit="min"), rng)
    df["contact_id"] = {"sequential": [str(100 + i) for i in range(n)],
                        "leading zeros": [str(i).zfill(4 if i % 2 else 1) for i in range(n)],
                        "uuid-like": [f"{i:08x}-{i * 7919 % 65536:04x}" for i in range(n)]}[ids]
    df.loc[n - 1, "contact_id"] = df.loc[0, "contact_id"]  # the first and the last row share an id
    path = tmp_path / "contacts.parquet"
    df.to_parquet(path, index=False, row_group_size=500)
    acc = compute_panel({"contacts": path}, unit="centre", period="week", indicators=["aht"]).accounting
    assert acc.loc[acc["reason"] == "duplicate id", "rows"].tolist() == [1]
    assert check_accounting(acc)


def test_a_file_read_twice_is_checked_once_and_a_changed_file_again(tmp_path, monkeypatch):
    rng = np.random.default_rng(3)
    arrived = pd.Series(pd.Timestamp("2025-01-01") + pd.to_timedelta(np.arange(50), unit="h"))
    path = tmp_path / "contacts.parquet"
    _contacts(50, arrived, rng).to_parquet(path, index=False)
    ingest._LOADED.clear()
    calls = []
    real = ingest._load_file
    monkeypatch.setattr(ingest, "_load_file", lambda *a: calls.append(a) or real(*a))
    first = load_source(path, "contacts")
    first.notices.append("changed by a caller")
    first.notices_reported = True
    second = load_source(path, "contacts")
    assert len(calls) == 1
    assert second.notices == [] and not second.notices_reported  # the caller's changes stay with its copy
    pd.testing.assert_frame_equal(first.to_pandas(), second.to_pandas())
    changed = _contacts(60, pd.Series(pd.Timestamp("2025-01-01") + pd.to_timedelta(np.arange(60), unit="h")), rng)
    changed.to_parquet(path, index=False)
    third = load_source(path, "contacts")
    assert len(calls) == 2 and third.n_rows == 60


def test_a_prefetched_screen_is_used_once_and_only_for_the_same_file(tmp_path, monkeypatch):
    """The background screen (id_screen.prefetch) answers for the file it read; the engine then skips
    its own screen. A file changed since (new size) gets no answer, and each answer is used once."""
    from kpilab.indicators import compute_panel

    rng = np.random.default_rng(9)
    n = 500
    df = _contacts(n, pd.Timestamp("2025-03-03 08:00") + pd.to_timedelta(np.arange(n), unit="min"), rng)
    df["contact_id"] = [str(1000 + i) for i in range(n)]
    df.loc[n - 1, "contact_id"] = "1000"
    path = tmp_path / "contacts.parquet"
    df.to_parquet(path, index=False)
    id_screen.prefetch(path, "contact_id")
    id_screen.prefetch(path, "contact_id")  # started once
    assert id_screen.prefetched(path, "contact_id") is False  # the repeat
    assert id_screen.prefetched(path, "contact_id") is None   # used
    id_screen.prefetch(path, "no_such_column")
    assert id_screen.prefetched(path, "no_such_column") is None
    id_screen.prefetch(tmp_path / "missing.parquet", "contact_id")
    assert id_screen.prefetched(tmp_path / "missing.parquet", "contact_id") is None

    # the engine takes a prefetched answer instead of screening (its own screen would raise here)
    calls = []
    monkeypatch.setattr(engine._Engine, "_ids_distinct", lambda self, *a: calls.append(a) or True)
    id_screen.prefetch(path, "contact_id")
    acc = compute_panel({"contacts": path}, unit="centre", period="week", indicators=["aht"]).accounting
    assert calls == [] and acc.loc[acc["reason"] == "duplicate id", "rows"].tolist() == [1]
    # a changed file: the old answer is not used
    id_screen.prefetch(path, "contact_id")
    df.iloc[:-1].to_parquet(path, index=False)
    compute_panel({"contacts": path}, unit="centre", period="week", indicators=["aht"])
    assert len(calls) == 1
