"""Benchmark: compute_panel vs a hand-written DuckDB query on synthetic canonical contacts.

Builds N canonical contacts (vectorised numpy -> Parquet in a temporary folder,
written in 1M-row groups), then times, each in a fresh subprocess so peak RSS
is attributable:

* ``panel``: ``compute_panel(folder, period="week", unit="agent",
  indicators=[aht, fcr_agent, acw_time, hold_rate, answered_contacts])``
  (includes validation, duplicate-id check and row accounting);
* ``trusted``: the same with ``check_duplicate_ids=False`` (ids guaranteed unique by the source);
* ``hand``: one hand-written DuckDB ``GROUP BY agent_id, week`` query computing
  the same sums and counts (no validation, no accounting, no intervals).

Both use the same DuckDB settings (threads, memory_limit). Usage::

    .venv/bin/python bench/bench_panel.py                 # 1M, 3M, 10M rows
    .venv/bin/python bench/bench_panel.py --sizes 1000000 --threads 2 --memory-limit 1GB
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

INDICATORS = ["aht", "fcr_agent", "acw_time", "hold_rate", "answered_contacts"]

HAND_SQL = """
SELECT agent_id, strftime(date_trunc('week', arrived_at), '%Y-%m-%d') AS period,
       COUNT(*) FILTER (WHERE NOT abandoned) AS answered,
       SUM(COALESCE(talk_s, 0) + COALESCE(hold_s, 0) + COALESCE(acw_s, 0)) FILTER (WHERE NOT abandoned) AS handle,
       SUM(POWER(COALESCE(talk_s, 0) + COALESCE(hold_s, 0) + COALESCE(acw_s, 0), 2))
           FILTER (WHERE NOT abandoned) AS handle_sq,
       SUM(COALESCE(acw_s, 0)) FILTER (WHERE NOT abandoned) AS acw,
       SUM(POWER(COALESCE(acw_s, 0), 2)) FILTER (WHERE NOT abandoned) AS acw_sq,
       COUNT(*) FILTER (WHERE NOT abandoned AND COALESCE(hold_s, 0) > 0) AS held,
       COUNT(*) FILTER (WHERE NOT abandoned AND resolved IS NOT NULL) AS flagged,
       COUNT(*) FILTER (WHERE NOT abandoned AND resolved) AS resolved
FROM read_parquet('{path}')
WHERE agent_id IS NOT NULL
GROUP BY 1, 2
"""


def build(n: int, folder: Path, seed: int = 0, chunk: int = 1_000_000) -> Path:
    """Write n synthetic canonical contacts (500 agents, 1 year) to folder/contacts.parquet."""
    rng = np.random.default_rng(seed)
    path = folder / "contacts.parquet"
    start = np.datetime64("2025-01-01T00:00:00", "us")
    year_us = 365 * 86400 * 10**6
    writer = None
    for lo in range(0, n, chunk):
        m = min(chunk, n - lo)
        ids = pc.cast(pa.array(np.arange(lo, lo + m, dtype=np.int64)), pa.string())
        arrived = start + rng.integers(0, year_us, m).astype("timedelta64[us]")
        abandoned = rng.random(m) < 0.1
        wait = rng.exponential(30, m)
        talk = rng.gamma(4, 60, m)
        hold = np.where(rng.random(m) < 0.2, rng.exponential(40, m), 0.0)
        acw = rng.gamma(2, 20, m)
        answered_at = arrived + (wait * 1e6).astype("timedelta64[us]")
        ended = answered_at + ((talk + hold) * 1e6).astype("timedelta64[us]")
        agents = np.char.add("A", rng.integers(0, 500, m).astype(str))
        table = pa.table({
            "contact_id": ids,
            "channel": pa.array(np.array(["phone", "chat", "email"])[rng.integers(0, 3, m)]),
            "queue": pa.array(np.array(["q1", "q2", "q3", "q4"])[rng.integers(0, 4, m)]),
            "customer_id": pc.cast(pa.array(rng.integers(0, n // 4 + 1, m)), pa.string()),
            "agent_id": pa.array(np.where(abandoned, None, agents).tolist(), type=pa.string()),
            "arrived_at": pa.array(arrived),
            "answered_at": pa.array(np.where(abandoned, np.datetime64("NaT"), answered_at), type=pa.timestamp("us")),
            "ended_at": pa.array(np.where(abandoned, arrived + (wait * 1e6).astype("timedelta64[us]"), ended)),
            "talk_s": pa.array(np.where(abandoned, np.nan, talk), from_pandas=True),
            "hold_s": pa.array(np.where(abandoned, np.nan, hold), from_pandas=True),
            "acw_s": pa.array(np.where(abandoned, np.nan, acw), from_pandas=True),
            "abandoned": pa.array(abandoned),
            "resolved": pa.array(np.where(abandoned, None, rng.random(m) < 0.8).tolist(), type=pa.bool_()),
        })
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema)
        writer.write_table(table, row_group_size=chunk)
    writer.close()
    return path


def _child(mode: str, folder: str, threads: int, memory_limit: str) -> None:
    import resource

    import duckdb

    from kpilab.indicators import compute_panel

    t0 = time.perf_counter()  # imports excluded: the comparison is inside a running process
    if mode in ("panel", "trusted"):
        r = compute_panel(folder, period="week", unit="agent", indicators=INDICATORS, threads=threads,
                          memory_limit=memory_limit, check_duplicate_ids=mode == "panel")
        rows = len(r.panel)
    else:
        con = duckdb.connect(config={"threads": threads, "memory_limit": memory_limit})
        rows = len(con.execute(HAND_SQL.format(path=str(Path(folder) / "contacts.parquet"))).df())
    elapsed = time.perf_counter() - t0
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"mode": mode, "seconds": elapsed, "peak_rss_mb": rss_mb, "rows": rows}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000000,3000000,10000000")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--memory-limit", default="1GB")
    ap.add_argument("--repeat", type=int, default=2, help="runs per mode and size (best time reported)")
    ap.add_argument("--_child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args._child:
        _child(args._child[0], args._child[1], args.threads, args.memory_limit)
        return
    print(f"threads={args.threads} memory_limit={args.memory_limit} indicators={','.join(INDICATORS)}")
    print(f"{'rows':>12} {'build s':>8} {'panel s':>8} {'trusted s':>9} {'hand s':>8} {'ratio':>6} "
          f"{'trusted ratio':>13} {'panel RSS MB':>13} {'hand RSS MB':>12}")
    for n in [int(s) for s in args.sizes.split(",")]:
        with tempfile.TemporaryDirectory(prefix="kpilab-bench-") as tmp:
            t0 = time.perf_counter()
            build(n, Path(tmp))
            built = time.perf_counter() - t0
            res: dict[str, dict] = {}
            for mode in ("hand", "panel", "trusted"):
                runs = []
                for _ in range(args.repeat):
                    out = subprocess.run(
                        [sys.executable, __file__, "--threads", str(args.threads), "--memory-limit",
                         args.memory_limit, "--_child", mode, tmp],
                        capture_output=True, text=True, check=True)
                    runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
                res[mode] = min(runs, key=lambda r: r["seconds"]) | {
                    "peak_rss_mb": max(r["peak_rss_mb"] for r in runs)}
            p, t, h = res["panel"], res["trusted"], res["hand"]
            print(f"{n:>12,} {built:>8.1f} {p['seconds']:>8.2f} {t['seconds']:>9.2f} {h['seconds']:>8.2f} "
                  f"{p['seconds'] / h['seconds']:>6.2f} {t['seconds'] / h['seconds']:>13.2f} "
                  f"{p['peak_rss_mb']:>13.0f} {h['peak_rss_mb']:>12.0f}", flush=True)


if __name__ == "__main__":
    main()
