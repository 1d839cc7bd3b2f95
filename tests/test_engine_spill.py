"""DuckDB spills of the panel engine and of ingest go to a private temporary folder, never ``.tmp`` in the
working folder, and the folder is removed when the connection is done.

Each test checks that its computation really spilled (a file appeared in the private folder while the
query ran, which DuckDB would otherwise have put in ``./.tmp``).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pandas as pd
import pytest

from kpilab import ingest
from kpilab._duckdb import wait_closed
from kpilab.indicators import compute_panel
from kpilab.indicators import engine as E

# 1.5M 32-character strings (about 50 MB) held in a temporary table under a 40 MB limit: blocks spill
_SPILLING = "CREATE TEMP TABLE _big AS SELECT md5(range::VARCHAR) AS b FROM range(1500000)"


@pytest.fixture()
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """(working folder, system temporary folder), both empty and private to the test."""
    work = tmp_path / "work"
    systmp = tmp_path / "systmp"
    work.mkdir()
    systmp.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setattr(tempfile, "tempdir", str(systmp))
    return work, systmp


def _spill_files(con: object) -> list[str]:
    return [r[0] for r in con.execute("SELECT path FROM duckdb_temporary_files()").fetchall()]  # type: ignore[attr-defined]


def _spill_and_check(con: object, work: Path, systmp: Path) -> Path:
    con.execute("SET memory_limit='40MB'")  # type: ignore[attr-defined]
    folder = Path(con.execute("SELECT current_setting('temp_directory')").fetchone()[0])  # type: ignore[attr-defined]
    assert folder.parent == systmp and folder.name.startswith("kpilab-sql-")
    con.execute(_SPILLING)  # type: ignore[attr-defined]
    files = _spill_files(con)
    assert files, "the query did not spill: the test proves nothing"
    assert all(Path(f).parent == folder for f in files)
    assert not (work / ".tmp").exists()
    assert os.listdir(work) == []
    return folder


def test_engine_spills_to_its_own_folder(private_tmp: tuple[Path, Path]) -> None:
    work, systmp = private_tmp
    eng = E._Engine({}, E._default_framework(), period="month", start=None, end=None, threads=2,
                    memory_limit=None, notices=[])
    folder = _spill_and_check(eng.con, work, systmp)
    eng.close()  # closes in a background thread, which compute_panel waits for before it returns
    wait_closed()
    assert not folder.exists()
    assert os.listdir(systmp) == [] and os.listdir(work) == []


def test_ingest_connection_spills_to_its_own_folder(private_tmp: tuple[Path, Path]) -> None:
    work, systmp = private_tmp
    con = ingest._connect()
    folder = _spill_and_check(con, work, systmp)
    ingest._disconnect(con)
    assert not folder.exists()
    assert os.listdir(systmp) == [] and os.listdir(work) == []
    assert not ingest._SPILLS


def test_default_duckdb_would_use_the_working_folder(private_tmp: tuple[Path, Path]) -> None:
    """The control: without a temp_directory the same query spills into ./.tmp (what the fix prevents)."""
    import duckdb

    work, _ = private_tmp
    con = duckdb.connect(config={"memory_limit": "40MB", "threads": 2})
    try:
        con.execute(_SPILLING)
        assert (work / ".tmp").exists()
    finally:
        con.close()


def test_panel_and_load_leave_no_folder_behind(private_tmp: tuple[Path, Path]) -> None:
    """A whole panel (engine and ingest connections, file and frame sources) leaves both folders empty."""
    work, systmp = private_tmp
    t0 = pd.Timestamp("2025-03-03 08:00")
    contacts = pd.DataFrame({
        "contact_id": [f"c{i}" for i in range(40)],
        "channel": "phone", "queue": "q1",
        "agent_id": [f"a{i % 4}" for i in range(40)],
        "arrived_at": [t0 + pd.Timedelta(hours=i) for i in range(40)],
        "answered_at": [t0 + pd.Timedelta(hours=i, seconds=5) for i in range(40)],
        "ended_at": [t0 + pd.Timedelta(hours=i, seconds=300) for i in range(40)],
        "talk_s": [100.0 + i for i in range(40)],
        "hold_s": 0.0, "acw_s": 10.0, "abandoned": False,
    })
    data = work / "data"
    data.mkdir()
    contacts.to_parquet(data / "contacts.parquet")
    pd.DataFrame({"agent_id": [f"a{i}" for i in range(4)], "team": ["t1", "t1", "t2", "t2"]}).to_parquet(
        data / "agents.parquet")
    before = set(os.listdir(systmp))
    res = compute_panel(data, period="month", unit="agent", indicators=["aht"])
    assert len(res.panel) == 4
    import gc

    gc.collect()
    assert set(os.listdir(work)) == {"data"}
    leftover = {f for f in set(os.listdir(systmp)) - before if f.startswith("kpilab-sql-")}
    assert leftover == set()


def test_running_out_of_memory_is_a_kpilab_error_with_the_budget_and_what_to_do():
    """A budget too small for the work: DuckDB's out-of-memory error becomes a DataError naming the budget."""
    from kpilab.errors import DataError
    from kpilab.simulate import simulate

    sim = simulate(agents=6, months=1, seed=3)
    with pytest.raises(DataError, match=r"ran out of memory in DuckDB.*memory_limit='8MB' is the budget of the "
                                        r"whole process.*pass a larger memory_limit"):
        compute_panel(sim.tables, indicators=["time_to_resolution", "first_response_time"], memory_limit="8MB")
