"""DuckDB connections that spill to a temporary folder of their own.

DuckDB spills beyond its memory limit into ``.tmp`` in the working folder by default: a run would
leave gigabytes in the user's project. Every kpilab connection (ingest, the panel engine, the
operations views) gets a private folder instead, removed when the connection is closed with
:func:`disconnect` (or garbage collected).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
import weakref
from typing import Any


def quote_text(value: Any) -> str:
    """``value`` as an SQL string literal (``'it''s'``)."""
    return "'" + str(value).replace("'", "''") + "'"


def quote_ident(name: Any) -> str:
    """``name`` as a double-quoted SQL identifier (inner double quotes doubled), whatever it holds."""
    return '"' + str(name).replace('"', '""') + '"'


# spill folder of each open connection: {id(connection): finalizer that removes the folder}
_SPILLS: dict[int, Any] = {}


def connect(config: dict[str, Any], *, progress_bar: bool = True) -> Any:
    """A DuckDB connection with ``config``, in UTC, spilling to a private temporary folder.

    ``progress_bar=False`` turns DuckDB's progress bar off (inside Jupyter without ipywidgets DuckDB
    refuses the setting, and draws no bar anyway). Close it with :func:`disconnect`.
    """
    import duckdb

    spill = tempfile.mkdtemp(prefix="kpilab-sql-")
    try:
        con = duckdb.connect(config={**config, "temp_directory": spill})
    except BaseException:
        shutil.rmtree(spill, ignore_errors=True)
        raise
    key = id(con)
    _SPILLS[key] = weakref.finalize(con, _drop_spill, key, spill)
    con.execute("SET TimeZone='UTC'")
    if not progress_bar:
        try:
            con.execute("SET enable_progress_bar=false")
        except duckdb.Error:
            pass
    return con


def _drop_spill(key: int, folder: str) -> None:
    _SPILLS.pop(key, None)
    shutil.rmtree(folder, ignore_errors=True)


def disconnect(con: Any, *, background: bool = False) -> None:
    """Close a connection made by :func:`connect` and remove its spill folder.

    ``background=True`` closes it in a thread (freeing a database's memory takes some 20 ms that
    the caller need not wait for); :func:`wait_closed` waits for every such close. The thread is not
    a daemon: the interpreter waits for it at exit.
    """
    if not background:
        _close(con)
        return
    closing = threading.Thread(target=_close, args=(con,), name="kpilab-duckdb-close")
    _CLOSING.append(closing)
    closing.start()


def _close(con: Any) -> None:
    try:
        con.close()
    finally:
        fin = _SPILLS.get(id(con))
        if fin is not None:
            fin()


# connections being closed in the background (disconnect(background=True))
_CLOSING: list[threading.Thread] = []


def wait_closed() -> None:
    """Wait until every connection closed in the background is closed and its spill folder removed."""
    while _CLOSING:
        _CLOSING.pop().join()


_UNITS = {"": 1, "b": 1, "kb": 1000, "mb": 1000**2, "gb": 1000**3, "tb": 1000**4, "kib": 1024, "mib": 1024**2,
          "gib": 1024**3, "tib": 1024**4}
#: DuckDB keeps at least this share of the memory budget, whatever the process already holds
DUCKDB_MIN_SHARE = 0.25


def resident_bytes() -> int | None:
    """Resident memory of this process now (Linux), else None."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, AttributeError):
        return None


def size_bytes(size: Any) -> float | None:
    """Bytes of a size written ``<number><unit>`` (``"1GB"``, ``"686.6 MiB"``); None for any other form."""
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([A-Za-z]*)\s*", str(size))
    if m is None or m.group(2).lower() not in _UNITS:
        return None
    return float(m.group(1)) * _UNITS[m.group(2).lower()]


def duckdb_memory(limit: str) -> str:
    """DuckDB's memory limit for a ``memory_limit`` budget of the whole process.

    The budget less what the process already holds (pandas, loaded tables, earlier results) and a
    tenth for DuckDB's own overhead, so that the process as a whole stays within the budget (DuckDB
    spills to disk beyond its limit); at least :data:`DUCKDB_MIN_SHARE` of the budget. A limit that is
    not ``<number><unit>`` (``"80%"``) is passed to DuckDB as given.
    """
    budget, rss = size_bytes(limit), resident_bytes()
    if budget is None or rss is None:
        return str(limit)
    duck = max(budget * DUCKDB_MIN_SHARE, budget * 0.9 - rss)
    return f"{int(duck // 1024**2)}MiB"
