"""The repeated-id screen: a cheap, exact proof that the ids of a table are unique.

The panel engine must exclude every repeat of an id (``duplicate id``) before it aggregates, and a
full grouping of 10M text ids costs as much as the panel itself. Nearly every export has unique ids,
so the engine first runs this screen; only when it cannot prove uniqueness does the exact grouping
run (see ``kpilab.indicators.engine``).

Both screens are exact in one direction: any function of the id maps equal ids to equal values, so
values that are all distinct prove the ids distinct. A repeat, or a false alarm (two ids with one
value), answers False and sends the caller to the exact grouping.

* **Integer ids** (ticket and call numbers usually are): each id, cast to BIGINT, sets its entry of
  a boolean presence map spanning the ids' range; the ids are distinct exactly when as many entries
  are set as ids were read. Linear time, one byte per value of the range.
* **Other ids**: their 64-bit hashes are sorted (numpy's sort, in several threads on parts split by
  the top bits) and neighbours compared; above :data:`_SORT_SCREEN_ROWS` ids, the hashes go to one
  temporary file per residue class and each class is sorted alone.

:func:`prefetch` starts the screen of a Parquet file in a background thread (:func:`screen_file`), so
a command can screen the ids while it still imports its libraries (``kpilab panel``); the engine picks
the answer up with :func:`prefetched` when it reads the same, unchanged file.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import numpy as np

from kpilab._duckdb import quote_ident, quote_text

#: ids whose hashes are sorted at once (8 bytes each; more take several passes)
_SORT_SCREEN_ROWS = 20_000_000
#: hashes above which the sort runs in several threads (below, a thread costs more than it saves)
_PARALLEL_SORT_ROWS = 1 << 20
#: rows per batch streamed from DuckDB
_SCREEN_BATCH = 1 << 20
#: integer ids: the presence map covers at most this many values per id (1 byte each), and never more
#: than 8 * _SORT_SCREEN_ROWS values (the sort's memory budget)
_DENSE_SPREAD = 4


def ids_distinct(con: Any, relation: str, column: str, n_rows: int, threads: int = 1) -> bool:
    """Whether the non-missing ``column`` values of ``relation`` are all distinct (True proves it).

    Integer ids are screened by :func:`integer_ids_distinct`, any other by :func:`hashes_distinct`.
    False means a repeat or a false alarm: run the exact grouping.
    """
    dense = integer_ids_distinct(con, relation, column, n_rows)
    return dense if dense is not None else hashes_distinct(con, relation, column, n_rows, threads)


def integer_ids_distinct(con: Any, relation: str, column: str, n_rows: int) -> bool | None:
    """Whether integer ids are all distinct, by marking each in a presence map; None when not decided.

    ``'007'`` and ``'7'`` cast to one integer: a false alarm (False) that the exact grouping clears.
    None, and the hash screen takes over, when an id is not an integer (the first 4,096 ids are looked
    at before the scan) or the range would need more than ``_DENSE_SPREAD`` entries per id (sparse ids,
    e.g. random 64-bit numbers).
    """
    x = quote_ident(column)
    cast = f"TRY_CAST({x} AS BIGINT)"
    probe = con.execute(
        f"SELECT count(*) FILTER (WHERE {cast} IS NULL) FROM (SELECT {x} FROM {relation} WHERE {x} IS NOT NULL "
        f"LIMIT 4096)").fetchall()[0][0]  # fetchall: DuckDB 2 keeps a partly fetched result open
    if probe:
        return None
    present = PresenceMap(min(_DENSE_SPREAD * n_rows, 8 * _SORT_SCREEN_ROWS), hint=n_rows)
    total = 0
    reader = con.sql(f"SELECT {cast} AS v FROM {relation} WHERE {x} IS NOT NULL").to_arrow_reader(_SCREEN_BATCH)
    for batch in reader:
        col = batch.column(0)
        if col.null_count:
            return None
        v = col.to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
        if not present.mark(v):
            return None
        total += len(v)
    return present.distinct == total


def hashes_distinct(con: Any, relation: str, column: str, n_rows: int, threads: int = 1) -> bool:
    """Whether the 64-bit hashes of the ids are all distinct (a hash collision is a false alarm).

    The hashes are streamed from DuckDB into one array and sorted in numpy (a third of the CPU time of
    DuckDB's ``COUNT(DISTINCT)``), at most about :data:`_SORT_SCREEN_ROWS` at a time (8 bytes each).
    """
    x = quote_ident(column)
    return _hashes_all_distinct(con, f"SELECT hash({x}) AS h FROM {relation} WHERE {x} IS NOT NULL", n_rows, threads)


def rows_distinct(con: Any, relation: str, columns: list[str], n_rows: int, threads: int = 1) -> bool:
    """Whether no row of ``relation`` repeats another in ``columns`` (its 64-bit row hashes all differ; a
    collision is a false alarm); ``n_rows`` bounds the rows. For tables without an id column, whose
    exact repeats are duplicates."""
    cols = ", ".join(quote_ident(c) for c in columns)
    return _hashes_all_distinct(con, f"SELECT hash({cols}) AS h FROM {relation}", n_rows, threads)


def _hashes_all_distinct(con: Any, sql: str, n_rows: int, threads: int) -> bool:
    """Whether the hashes ``sql`` returns (one column, at most about ``n_rows``) are all distinct."""
    parts = max(1, -(-n_rows // _SORT_SCREEN_ROWS))
    if parts == 1:
        return all_distinct(fetch_column(con, sql, n_rows, np.uint64), threads)
    # above the limit, one scan writes the hashes to a temporary file per residue class of the hash (a
    # repeat shares its class), then each class is sorted alone: memory stays bounded (about
    # _SORT_SCREEN_ROWS hashes), and the id column is read once
    import tempfile

    with tempfile.TemporaryDirectory(prefix="kpilab-ids-") as tmp:
        paths = [Path(tmp) / f"class{k}.u64" for k in range(parts)]
        files = [p.open("wb") for p in paths]
        try:
            for batch in con.sql(sql).to_arrow_reader(_SCREEN_BATCH):
                h = batch.column(0).to_numpy(zero_copy_only=False).astype(np.uint64, copy=False)
                cls = h % np.uint64(parts)
                for k, fh in enumerate(files):
                    h[cls == k].tofile(fh)
        finally:
            for fh in files:
                fh.close()
        return all(all_distinct(np.fromfile(p, dtype=np.uint64), threads) for p in paths)


def fetch_column(con: Any, sql: str, size: int, dtype: Any, batch: int = _SCREEN_BATCH) -> np.ndarray:
    """The one column ``sql`` returns (no NULLs, at most ``size`` values) as a numpy array, streamed in
    batches into one array (the result is never held twice, by DuckDB and by numpy)."""
    out = np.empty(size, dtype=dtype)
    filled = 0
    for chunk in con.sql(sql).to_arrow_reader(batch):
        m = chunk.num_rows
        if filled + m > len(out):  # more rows than expected: grow
            out = np.concatenate([out[:filled], np.empty(max(m, filled // 4), dtype=dtype)])
        out[filled:filled + m] = chunk.column(0).to_numpy(zero_copy_only=False)
        filled += m
    return out[:filled]


def all_distinct(h: np.ndarray, threads: int = 1) -> bool:
    """Whether the unsigned 64-bit values of ``h`` are all distinct (sorted in place, or split and sorted).

    With ``threads`` > 1 (a power of two) and a large array, the values are split by their top bits into
    ``threads`` parts that cover disjoint ranges (a repeat lies within one part) and the parts are sorted
    at once in threads: numpy's sort releases the GIL, and two 5M sorts take half the time of one 10M sort.
    """
    if threads < 2 or len(h) < _PARALLEL_SORT_ROWS:
        h.sort()
        return not bool((h[1:] == h[:-1]).any())
    from concurrent.futures import ThreadPoolExecutor

    top = h >> np.uint64(64 - (threads - 1).bit_length())
    parts = [h[top == k] for k in range(threads)] if threads & (threads - 1) == 0 else [h]
    del top
    with ThreadPoolExecutor(len(parts)) as pool:
        return all(pool.map(all_distinct, parts))


class PresenceMap:
    """A boolean map of the integers seen so far (entry ``i`` stands for the value ``lo + i``).

    :meth:`mark` sets the entries of a batch, creating the map (``hint`` entries when that covers the
    batch) or growing it; it refuses, and returns False, when the values seen would span more than
    ``cap`` entries. ``distinct`` is the number of distinct values marked.
    """

    def __init__(self, cap: int, hint: int = 0) -> None:
        self.cap, self.hint = cap, hint
        self.seen: np.ndarray | None = None
        self.lo = 0
        self.vmin = self.vmax = 0  # the values' bounds (the map may reach beyond them)
        self._offsets: np.ndarray | None = None

    def mark(self, v: np.ndarray) -> bool:
        if not len(v):
            return True
        bmin, bmax = int(v.min()), int(v.max())
        first = self.seen is None
        vmin, vmax = (bmin, bmax) if first else (min(self.vmin, bmin), max(self.vmax, bmax))
        if vmax - vmin + 1 > self.cap:
            return False
        if first or vmin < self.lo or vmax >= self.lo + len(self.seen):
            # grow by at least half, so ids arriving in ascending (or descending) batches cost few copies
            size = min(self.cap, max(vmax - vmin + 1, self.hint if first else len(self.seen) * 3 // 2))
            start = vmin if first or vmax >= self.lo + len(self.seen) else vmax + 1 - size
            grown = np.zeros(size, dtype=bool)
            if not first:
                grown[self.vmin - start: self.vmax + 1 - start] = self.seen[self.vmin - self.lo: self.vmax + 1 - self.lo]
            self.seen, self.lo = grown, start
        self.vmin, self.vmax = vmin, vmax
        # the offsets go to one reused buffer: a fresh 8 MB array per batch costs a page fault per 4 KB
        if self._offsets is None or len(self._offsets) < len(v):
            self._offsets = np.empty(len(v), dtype=np.int64)
        offsets = np.subtract(v, self.lo, out=self._offsets[:len(v)])
        self.seen[offsets] = True
        return True

    @property
    def distinct(self) -> int:
        return 0 if self.seen is None else int(np.count_nonzero(self.seen))


# ---------------------------------------------------------------------------------------- prefetch
# screens started in the background: {(file, inode, size, mtime, column): Future of True/False/None}
_PREFETCHED: dict[tuple[Any, ...], Future] = {}


def _key(path: str | Path, column: str) -> tuple[Any, ...]:
    st = os.stat(path)
    return (str(Path(path).resolve()), st.st_ino, st.st_size, st.st_mtime_ns, column)


def screen_file(path: str | Path, column: str, threads: int = 1) -> Future:
    """Screen ``column`` of the Parquet file ``path`` in a background thread; the Future's answer is
    :func:`ids_distinct`'s (None when the file is missing, unreadable or without the column).

    The screen runs on its own DuckDB connection with ``threads`` threads (one by default: the other
    core stays with the caller, which meanwhile imports its libraries and checks the tables).
    """
    done: Future = Future()

    def run() -> None:
        from kpilab._duckdb import connect, disconnect

        answer = None
        con = None
        try:
            con = connect({"threads": threads, "preserve_insertion_order": False, "memory_limit": "1GB"},
                          progress_bar=False)
            relation = f"read_parquet({quote_text(path)})"
            names = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()}
            n_rows = con.execute(f"SELECT count(*) FROM {relation}").fetchall()[0][0]
            if column in names and n_rows > 1:
                answer = ids_distinct(con, relation, column, n_rows, threads)
        except Exception:  # noqa: BLE001 - the engine screens the table itself and reports any problem
            answer = None
        finally:
            if con is not None:
                disconnect(con)
            done.set_result(answer)

    threading.Thread(target=run, name="kpilab-id-screen", daemon=True).start()
    return done


def prefetch(path: str | Path, column: str, threads: int = 1) -> None:
    """Start screening ``column`` of the Parquet file ``path`` in the background (:func:`screen_file`)
    for a later :func:`prefetched` of the same, unchanged file (started once per file)."""
    try:
        key = _key(path, column)
    except OSError:
        return
    if key not in _PREFETCHED:
        _PREFETCHED[key] = screen_file(path, column, threads)


def prefetched(path: str | Path, column: str) -> bool | None:
    """The answer of a :func:`prefetch` of this very file (same inode, size and modification time) and
    column, waiting for it when still running; None when there was none (the entry is used once)."""
    try:
        key = _key(path, column)
    except OSError:
        return None
    done = _PREFETCHED.pop(key, None)
    return None if done is None else done.result()
