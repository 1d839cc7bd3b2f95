"""Benchmark: the panel on Spark (local mode) against DuckDB, on the same synthetic contacts.

Builds N canonical contacts with ``bench_panel.build`` (500 agents, one year, Parquet), then
computes the same panel twice in this process:

* ``duckdb``: ``compute_panel(folder, period="week", unit=["agent", "centre"], indicators=...)``;
* ``spark``: ``compute_panel(folder URI, engine="spark", ...)``: Spark reads the Parquet file
  itself and only the aggregated cells come back. The session is started (and timed) first,
  once, so the ratio compares the computation, not the JVM start.

It checks the two panels agree (values, counts, intervals to 1e-9; accounting equal) and prints
seconds, rows per second and the Spark / DuckDB ratio. Spark in local mode on one machine is
expected to be slower than DuckDB: the point is that the same definitions run, with the same
result, on a cluster where the data live.

Usage::

    .venv/bin/python bench/bench_spark.py                    # 1M and 10M contacts
    .venv/bin/python bench/bench_spark.py --sizes 1000000 --master 'local[2]'
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_panel import build  # noqa: E402 - the bench folder is not a package

INDICATORS = ["aht", "fcr_agent", "acw_time", "hold_rate", "answered_contacts", "asa", "service_level", "fcr"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000000,10000000", help="comma-separated row counts")
    ap.add_argument("--master", default="local[*]", help="Spark master (default local[*])")
    ap.add_argument("--keep", default=None, help="folder to build the data in (kept); default a temp folder")
    args = ap.parse_args()

    import pandas as pd

    from kpilab.indicators import compute_panel, spark_engine
    from kpilab.indicators.spark_engine import get_spark, stop_spark

    t0 = time.perf_counter()
    get_spark(args.master)
    print(f"spark session ({args.master}) started in {time.perf_counter() - t0:.1f} s")
    kw = dict(period="week", unit=["agent", "centre"], indicators=INDICATORS)
    rows = []
    for n in [int(s) for s in args.sizes.split(",")]:
        base = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="kpilab-bench-spark-"))
        folder = base / f"n{n}"
        folder.mkdir(parents=True, exist_ok=True)
        if not (folder / "contacts.parquet").exists():
            t = time.perf_counter()
            build(n, folder)
            print(f"built {n:,} contacts in {time.perf_counter() - t:.1f} s")
        t = time.perf_counter()
        duck = compute_panel(folder, **kw)
        t_duck = time.perf_counter() - t
        t = time.perf_counter()
        spark = compute_panel(folder.as_uri(), engine="spark", spark_master=args.master, **kw)
        t_spark = time.perf_counter() - t
        pd.testing.assert_frame_equal(duck.panel, spark.panel, check_exact=False, rtol=1e-9, atol=1e-9)
        pd.testing.assert_frame_equal(duck.accounting, spark.accounting)
        rows.append((n, t_duck, t_spark, len(duck.panel)))
        trace = sorted(spark_engine.LAST_TRACE, reverse=True)
        print(f"  spark: {len(trace)} statements, {sum(t for t, _ in trace):.1f} s in them; slowest:")
        for sec, head in trace[:6]:
            print(f"    {sec:6.1f} s  {head}")
        print(f"{n:>12,} rows  duckdb {t_duck:7.1f} s ({n / t_duck:>12,.0f} rows/s)  spark {t_spark:7.1f} s "
              f"({n / t_spark:>12,.0f} rows/s)  ratio {t_spark / t_duck:5.1f}x  panel {len(duck.panel):,} cells, "
              "identical", flush=True)
    stop_spark()
    print("\n| contacts | DuckDB s | Spark (local) s | Spark / DuckDB |")
    print("|---|---|---|---|")
    for n, a, b, _ in rows:
        print(f"| {n:,} | {a:.1f} | {b:.1f} | {b / a:.1f}x |")


if __name__ == "__main__":
    main()
