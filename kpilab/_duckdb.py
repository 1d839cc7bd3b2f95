"""DuckDB connections that spill to a temporary folder of their own.

DuckDB spills beyond its memory limit into ``.tmp`` in the working folder by default: a run would
leave gigabytes in the user's project. Every kpilab connection (ingest, the panel engine, the
operations views) gets a private folder instead, removed when the connection is closed with
:func:`disconnect` (or garbage collected).
"""

from __future__ import annotations

import shutil
import tempfile
import weakref
from typing import Any

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


def disconnect(con: Any) -> None:
    """Close a connection made by :func:`connect` and remove its spill folder."""
    try:
        con.close()
    finally:
        fin = _SPILLS.get(id(con))
        if fin is not None:
            fin()
