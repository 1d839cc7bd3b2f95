"""The engine's speed and memory changes (issue 12) leave every result as it was.

* the repeat-contact window runs on the base rows (no ``exclude`` exemption), sorting them whole or
  their keys alone, or last (with one): all give the same panel, equal to an independent pandas
  computation;
* DuckDB's memory limit is the budget less what the process holds.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from kpilab.indicators import check_accounting, compute_panel
from kpilab.indicators import engine as E

T0 = pd.Timestamp("2025-03-03 08:00")  # a Monday


def _contacts(n: int = 3000, seed: int = 5) -> pd.DataFrame:
    """Contacts of few customers (many repeats), some at the same instant, some invalid, some abandoned."""
    rng = np.random.default_rng(seed)
    # arrival on an hourly grid over 30 days: the same customer often arrives twice at one instant
    arrived = T0 + pd.to_timedelta(rng.integers(0, 30 * 24, n) * 3600, unit="s")
    ab = rng.random(n) < 0.1
    talk = rng.gamma(3, 60, n)
    talk[rng.random(n) < 0.02] = -5.0  # 'negative talk_s': an excluded row, outside the window chains
    wait = pd.to_timedelta(rng.integers(1, 60, n), unit="s")
    df = pd.DataFrame({
        "contact_id": [f"k{i:05d}" for i in rng.permutation(n)],
        "channel": rng.choice(["phone", "chat"], n),
        "queue": "q1",
        "customer_id": np.where(rng.random(n) < 0.03, None, rng.integers(0, 150, n).astype(str)),
        "agent_id": np.where(ab, None, rng.choice(["a1", "a2", "a3"], n)),
        "arrived_at": arrived,
        "answered_at": np.where(ab, pd.NaT, arrived + wait),
        "ended_at": arrived + wait + pd.to_timedelta(np.where(ab, 0, np.abs(talk)), unit="s"),
        "talk_s": np.where(ab, np.nan, talk),
        "hold_s": 0.0,
        "acw_s": 0.0,
        "abandoned": ab,
        "resolved": pd.array(np.where(ab, None, rng.random(n) < 0.7), dtype="boolean"),
    })
    df["answered_at"] = pd.to_datetime(df["answered_at"])
    return df


def _independent_fcr(df: pd.DataFrame, days: int = 7) -> tuple[int, int, int]:
    """(resolved, population, window not observed) of fcr at centre level, in pandas."""
    valid = df[(df["talk_s"].isna() | (df["talk_s"] >= 0))].copy()
    chain = valid[valid["customer_id"].notna()].sort_values(["customer_id", "arrived_at", "contact_id"])
    nxt = chain.groupby("customer_id")["arrived_at"].shift(-1)
    gap = (nxt - chain["arrived_at"]).dt.total_seconds()
    answered = ~chain["abandoned"]
    last = df["arrived_at"].max()
    observed = (last - chain["arrived_at"]).dt.total_seconds() >= days * 86400
    pop = answered & observed
    resolved = pop & (gap.isna() | (gap > days * 86400))
    return int(resolved.sum()), int(pop.sum()), int((answered & ~observed).sum())


def _three_placements(monkeypatch: pytest.MonkeyPatch, df: pd.DataFrame, inds: list[str]) -> list[Any]:
    """The panel with the window over whole valid rows, over their keys joined back, and last."""
    kw = {"unit": ["agent", "centre"], "period": "week", "indicators": inds}
    whole = compute_panel({"contacts": df}, **kw)
    with monkeypatch.context() as m:
        m.setattr(E._Engine, "_window_fits", lambda self, need: False)
        keys = compute_panel({"contacts": df}, **kw)
    # an 'exclude' exemption long before the data: nothing is exempted, but the window then runs last
    far = pd.DataFrame({"start": [pd.Timestamp("2020-01-01")], "end": [pd.Timestamp("2020-01-02")],
                        "scope": ["all"], "reason": ["none"], "action": ["exclude"]})
    late = compute_panel({"contacts": df, "exemptions": far}, **kw)
    late_acc = late.accounting[late.accounting["table"] == "contacts"].reset_index(drop=True)
    for other, acc in ((keys, keys.accounting), (late, late_acc)):
        pd.testing.assert_frame_equal(whole.panel, other.panel)
        pd.testing.assert_frame_equal(whole.accounting, acc)
    return [whole, keys, late]


def test_repeat_contact_window_matches_pandas_and_every_placement(monkeypatch: pytest.MonkeyPatch) -> None:
    df = _contacts()
    # ties: the same customer twice at one instant (the order then follows contact_id)
    assert df[df["customer_id"].notna()].duplicated(["customer_id", "arrived_at"]).sum() > 10
    early = _three_placements(monkeypatch, df, ["fcr", "repeat_contact_rate", "aht"])[0]
    acc = early.accounting
    assert check_accounting(acc)
    k, n, unobserved = _independent_fcr(df)
    centre = early.panel[(early.panel["unit_level"] == "centre") & (early.panel["indicator"] == "fcr")]
    assert (centre["numerator"].sum(), centre["denominator"].sum()) == (k, n)
    got = acc.loc[(acc["indicator"] == "fcr") & (acc["reason"] == "window not observed"), "rows"].sum()
    assert got == unobserved


def test_repeat_contact_window_placements_agree_with_repeated_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows excluded as repeated ids (and invalid rows) stay out of every placement's chains."""
    df = _contacts(seed=11)
    df.loc[df.index[100:140], "contact_id"] = df["contact_id"].iloc[:40].to_numpy()  # 40 repeated ids
    whole = _three_placements(monkeypatch, df, ["fcr", "repeat_contact_rate"])[0]
    acc = whole.accounting
    assert acc.loc[(acc["kind"] == "excluded") & (acc["reason"] == "duplicate id"), "rows"].sum() == 40


def test_window_placement_follows_the_memory_limit() -> None:
    """Whole rows when their estimated size fits DuckDB's memory limit, keys alone otherwise."""
    df = _contacts(n=200)
    src = E._load_sources({"contacts": df}, [])
    need = {"answered", "next_gap_s", "_obs_after_s"}
    for limit in ("1GB", "100MB"):
        eng = E._Engine(src, E._default_framework(), period="week", start=None, end=None, threads=1,
                        memory_limit=None, notices=[])
        try:
            eng.prepare({"contacts": set()})
            eng.con.execute(f"SET memory_limit='{limit}'")
            assert eng._window_fits(need)  # 200 rows fit either limit
            src["contacts"].n_rows = 10_000_000  # 5 base columns read: about 570 MB
            assert eng._window_fits(need) is (limit == "1GB")
            src["contacts"].n_rows = 200
        finally:
            eng.close()
    # ids longer than 12 characters (UUIDs) are stored outside the value: 10M rows no longer fit in 1 GB
    long_ids = df.assign(customer_id=[f"{i:036d}" for i in range(len(df))],
                         contact_id=[f"c{i:035d}" for i in range(len(df))])
    src = E._load_sources({"contacts": long_ids}, [])
    eng = E._Engine(src, E._default_framework(), period="week", start=None, end=None, threads=1,
                    memory_limit=None, notices=[])
    try:
        eng.prepare({"contacts": set()})
        eng.con.execute("SET memory_limit='1GB'")
        src["contacts"].n_rows = 10_000_000
        assert not eng._window_fits(need)
    finally:
        eng.close()


def test_duckdb_memory_is_the_budget_less_the_process(monkeypatch: pytest.MonkeyPatch) -> None:
    import kpilab._duckdb as D

    monkeypatch.setattr(D, "resident_bytes", lambda: 300 * 1024**2)
    assert D.duckdb_memory("1GB") == f"{int((0.9e9 - 300 * 1024**2) // 1024**2)}MiB"
    assert D.duckdb_memory("2 GiB") == f"{int((0.9 * 2 * 1024**3 - 300 * 1024**2) // 1024**2)}MiB"
    # never below a quarter of the budget
    assert D.duckdb_memory("400MB") == f"{int(0.25 * 400e6 // 1024**2)}MiB"
    # other forms go to DuckDB as given; no reading of the process's memory: as given too
    assert D.duckdb_memory("80%") == "80%"
    monkeypatch.setattr(D, "resident_bytes", lambda: None)
    assert D.duckdb_memory("1GB") == "1GB"


@pytest.mark.parametrize("messy", [False, True])
def test_rules_left_out_by_file_statistics_change_nothing(tmp_path, messy: bool) -> None:
    """A Parquet file's statistics leave out the row rules that cannot fire; the panel and the accounting
    equal those of the same table given as a DataFrame (no statistics, every rule evaluated)."""
    df = _contacts(800, seed=11)
    df.loc[df["talk_s"] < 0, "talk_s"] = 5.0  # clean: no negative talk_s
    if messy:  # one row breaking each single-column rule the statistics could rule out
        df.loc[3, "talk_s"] = -1.0
        df.loc[4, "hold_s"] = -2.0
        df.loc[5, "acw_s"] = -0.5
        df["abandoned"] = df["abandoned"].astype("boolean")
        df.loc[6, "abandoned"] = None
        df.loc[7, "contact_id"] = None
    path = tmp_path / "contacts.parquet"
    df.to_parquet(path, index=False)
    facts = E._parquet_facts(path, {"talk_s", "hold_s", "acw_s", "abandoned", "contact_id"})
    if not messy:
        assert {"abandoned", "contact_id"} <= facts[0] and facts[1]["talk_s"][0] >= 0
    else:
        assert "abandoned" not in facts[0] and facts[1]["talk_s"][0] < 0
    inds = ["aht", "hold_rate", "acw_time", "fcr", "abandon_rate", "asa"]
    from_file = compute_panel({"contacts": path}, unit=["agent", "centre"], period="week", indicators=inds)
    from_frame = compute_panel({"contacts": df}, unit=["agent", "centre"], period="week", indicators=inds)
    pd.testing.assert_frame_equal(from_file.panel, from_frame.panel)
    pd.testing.assert_frame_equal(from_file.accounting, from_frame.accounting)
    reasons = set(from_file.accounting["reason"])
    if messy:
        assert {"negative talk_s", "negative hold_s", "negative acw_s", "missing abandoned",
                "missing contact_id"} <= reasons


# --------------------------------------------------------------------------- post-processing, old vs new
# The cells -> panel rows step as it was before the arrays rewrite (issue 12), kept as the reference.
def _old_split_levels(cells: pd.DataFrame, levels: list[str]) -> dict[str, tuple[pd.DataFrame, np.ndarray]]:
    """Rows of each unit level (with ``unit_id``) and a mask of rows whose unit is unknown (NULL key)."""
    out = {}
    unit_flags = [c for c in cells.columns if c.startswith("_g_") and c not in ("_g__period", "_g__reason")]
    for lv in levels:
        if lv == "centre":
            sub = cells[cells[unit_flags].eq(1).all(axis=1) & (cells["_g__period"] == 0)].copy()
            sub["unit_id"] = "centre"
            unknown = np.zeros(len(sub), dtype=bool)
        else:
            col = E._UNIT_COL[lv]
            sub = cells[cells[f"_g_{col}"] == 0].copy()
            unknown = sub[col].isna().to_numpy()
            sub["unit_id"] = sub[col].astype(str)
        keep = sub["_period"].notna().to_numpy()
        sub = sub[keep]
        sub["unit_level"] = lv
        out[lv] = (sub.reset_index(drop=True), unknown[keep])
    return out


def _old_cells_to_rows(split: dict[str, tuple[pd.DataFrame, np.ndarray]], d: Any, min_n: int,
                   level: float) -> tuple[pd.DataFrame, dict[str, int]]:
    """Panel rows of one indicator from the aggregated cells; also the counted rows dropped, per level, for
    want of a known unit at that level.

    The value, counts and interval of each cell come from its kind (:mod:`kpilab.indicators.kinds`).
    """
    frames = []
    dropped: dict[str, int] = {}
    n_col = f"{d.code}__n"
    for lv, (cells, unknown) in split.items():
        if d.level == "queue" and lv in ("agent", "role", "site"):
            continue
        cols = [c for c in cells.columns if c.startswith(d.code + "__")]
        sub = cells[["unit_id", "unit_level", "_period", "_rows_ok", *cols]]
        if unknown.any():
            lost = int(sub.loc[unknown, n_col].fillna(0).sum())
            if lost:
                dropped[lv] = lost
            sub = sub[~unknown]
        frames.append(sub)
    if not frames:
        return pd.DataFrame(columns=E.PANEL_COLUMNS), {}
    sub = pd.concat(frames, ignore_index=True)
    c = d.code
    kind = E.get_kind(d.kind)
    st = {name: sub[f"{c}__{name}"].to_numpy(dtype=float) if f"{c}__{name}" in sub.columns
          else np.full(len(sub), np.nan) for name in kind.stats_}
    cs = kind.cell(st, d, level)
    scale = kind.base_scale * d.scale
    lo, hi = cs.ci_low * scale, cs.ci_high * scale
    if scale < 0:
        lo, hi = hi, lo
    n = cs.n
    out = pd.DataFrame({
        "unit_id": sub["unit_id"].to_numpy(), "unit_level": sub["unit_level"].to_numpy(),
        "period": sub["_period"].astype(str).to_numpy(), "indicator": c,
        "value": cs.value * scale, "numerator": cs.numerator, "denominator": cs.denominator, "n": n,
        "ci_low": lo, "ci_high": hi,
    })
    small = (n < min_n) if d.kind != "count" else np.zeros(len(sub), dtype=bool)
    relax = sub[f"{c}__x"].to_numpy(dtype=float) if f"{c}__x" in sub.columns else np.zeros(len(sub))
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(n > 0, relax / np.where(n > 0, n, 1), 0.0)
    no_ci = kind.has_interval & (n > 0) & (np.isnan(lo) | np.isnan(hi))
    out["flag"] = E._flags(("small_n", small), ("no_ci", no_ci), ("exempted", share > E.EXEMPTED_FLAG_SHARE))
    out["kind"] = d.kind
    out["scale"] = float(scale)
    out["exempted_share"] = share
    out["_var"] = cs.var
    keep = (sub["_rows_ok"].to_numpy() > 0) if d.kind == "count" else (n > 0)
    return out[keep], dropped


def test_cells_to_rows_equal_the_previous_implementation() -> None:
    df = _contacts(2000, seed=21)
    df.loc[df.index[:40], "agent_id"] = "ghost"  # an agent absent from the agents table: no team
    agents = pd.DataFrame({"agent_id": ["a1", "a2", "a3"], "team": ["t1", "t1", "t2"], "role": "agent",
                           "site": ["s1", "s2", "s2"]})
    fw = E._default_framework()
    inds = ["aht", "fcr", "abandon_rate", "asa", "answered_contacts", "contacts_per_day", "hold_rate"]
    defs = E.resolve_definitions(fw, inds)
    sources = E._load_sources({"contacts": df, "agents": agents}, [])
    eng = E._Engine(sources, fw, period="week", start=None, end=None, threads=2, memory_limit="1GB", notices=[])
    levels = ["agent", "team", "role", "site", "queue", "channel", "centre"]
    try:
        needs = set().union(*(E._words(getattr(d, k)) for d in defs.values()
                              for k in ("where", "condition", "value", "numerator", "denominator")))
        eng.prepare({"contacts": needs})
        cells, _acct, _ex = eng.aggregate("contacts", list(defs.values()), levels)
    finally:
        eng.close()
    new_split, old_split = E._split_levels(cells, levels), _old_split_levels(cells, levels)
    assert new_split["_unknown"].any()  # the ghost agent's cells
    for d in defs.values():
        new, new_dropped = E._cells_to_rows(new_split, d, 30, 0.95)
        old, old_dropped = _old_cells_to_rows(old_split, d, 30, 0.95)
        assert new_dropped == old_dropped
        new = pd.DataFrame(new) if new else pd.DataFrame(columns=E.PANEL_COLUMNS)
        pd.testing.assert_frame_equal(new, old.reset_index(drop=True))


def test_fetch_column_streams_batches_into_one_array_and_grows() -> None:
    import duckdb

    from kpilab.id_screen import fetch_column

    con = duckdb.connect()
    try:
        sql = "SELECT hash(i) AS h FROM range(2500) t(i)"
        want = np.sort(np.asarray(con.execute(sql).fetchnumpy()["h"]))
        for size in (2500, 100, 0):  # as announced; fewer announced than returned: the array grows
            got = fetch_column(con, sql, size, np.uint64, batch=300)
            assert got.dtype == np.uint64 and len(got) == 2500
            np.testing.assert_array_equal(np.sort(got), want)
    finally:
        con.close()


def test_a_repeated_id_far_apart_in_a_file_is_excluded(tmp_path) -> None:
    df = _contacts(3000, seed=8)
    df.loc[df.index[-1], "contact_id"] = df.loc[0, "contact_id"]  # the first and the last row share an id
    path = tmp_path / "contacts.parquet"
    df.to_parquet(path, index=False, row_group_size=500)
    r = compute_panel({"contacts": path}, unit="centre", period="week", indicators=["aht"])
    acc = r.accounting
    assert acc.loc[acc["reason"] == "duplicate id", "rows"].tolist() == [1]
    assert check_accounting(acc)


@pytest.mark.parametrize("blank", [False, True])
def test_ids_differing_by_spaces_or_case_in_a_parquet_file(tmp_path, blank: bool) -> None:
    """A Parquet file with no blank text value passes through untrimmed; the ids check still sees ' a1 '."""
    from kpilab.ingest import load_source

    df = _contacts(60, seed=2)
    answered = df.index[~df["abandoned"]]
    df.loc[answered[:3], "agent_id"] = " a1 "
    if blank:  # a blank queue: the table is rewritten with NULL there
        df.loc[0, "queue"] = "   "
    path = tmp_path / "contacts.parquet"
    df.to_parquet(path, index=False)
    lt = load_source(path, "contacts")
    assert any("(' a1 ' = 'a1')" in x for x in lt.notices), lt.notices
    assert (lt.path == path) is (not blank)
    if blank:
        assert lt.to_pandas()["queue"].isna().sum() == 1


def test_file_statistics_never_rule_out_an_upper_bound_of_a_float_column(tmp_path) -> None:
    """NaN is left out of Parquet statistics but is above every number in DuckDB: 'nps above 10' stays."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "surveys.parquet"
    table = pa.table({"nps": pa.array([3.0, float("nan"), 9.0], from_pandas=False),
                      "rows": pa.array([1, 2, 3], type=pa.int64())})
    pq.write_table(table, path)
    not_null, ranges = E._parquet_facts(path, {"nps", "rows"})
    assert not_null == {"nps", "rows"}
    assert ranges["nps"] == (3.0, None) and ranges["rows"] == (1.0, 3.0)
    rules = dict((r, c) for c, r in E._schema_reason_sql("surveys", {"nps"}, False, ranges=ranges))
    assert "nps above 10" in rules and "negative nps" not in rules


def test_never_null_values_are_never_null_in_duckdb() -> None:
    """_never_null (which spares an indicator its 'missing value' count) says True only for expressions
    DuckDB never evaluates to NULL, over rows where every column is NULL or not."""
    import duckdb

    exprs = ["COALESCE(a, 0)", " coalesce( a + b, -2.5 ) ", "COALESCE(c, 'x)')", "COALESCE(d, TRUE)",
             "COALESCE(a, b, 1e3)", "COALESCE(a, 0) + b", "COALESCE(a, 0) * NULLIF(b, 0)", "COALESCE(a, b)",
             "COALESCE(a, NULL)", "a", "(COALESCE(a, 0))", "COALESCE(a, 0)) OR (b IS NULL"]
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT * FROM (VALUES (NULL, NULL, NULL, NULL), (1, NULL, 'x', NULL), "
                "(NULL, 0, NULL, FALSE), (2, 3, 'y', TRUE)) v(a, b, c, d)")
    said = {}
    for e in exprs:
        said[e] = E._never_null(e)
        if said[e]:
            assert con.execute(f"SELECT count(*) FILTER (WHERE ({e}) IS NULL) FROM t").fetchone()[0] == 0, e
    assert [e for e in exprs if said[e]] == exprs[:5]  # the others are either NULL somewhere or not recognised
    # acw_time (value COALESCE(acw_s, 0)) has no 'missing value' rule; aht keeps its own
    assert [r for _, r in E._exclusions(E.CATALOGUE["acw_time"])] == []
    assert "missing value" in [r for _, r in E._exclusions(E.CATALOGUE["aht"])]
