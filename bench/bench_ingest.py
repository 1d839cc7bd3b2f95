"""Benchmark: the panel from CSV input vs the same contacts as Parquet.

Builds N canonical contacts (``bench_panel.build``: 500 agents, one year) as
Parquet, writes the same rows as CSV (ISO timestamps, as most exports), then
times ``compute_panel(folder, period="week", unit="agent", indicators=...)``
on each folder, each in a fresh subprocess so peak RSS is attributable. The
CSV run includes everything ingestion does: streaming the text into a
temporary Parquet file (pyarrow), reading each column's shape, typing,
sentinel and plausibility checks, id-spelling checks. ``load`` times the
ingestion alone (:func:`kpilab.ingest.load_source`).

Usage::

    .venv/bin/python bench/bench_ingest.py                    # 1M rows
    .venv/bin/python bench/bench_ingest.py --sizes 1000000,5000000 --repeat 1
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_panel import INDICATORS, build  # noqa: E402


def _child(mode: str, folder: str, threads: int, memory_limit: str) -> None:
    import resource

    from kpilab.indicators import compute_panel
    from kpilab.ingest import load_source

    sub = Path(folder) / ("csv" if mode in ("csv", "load") else "parquet")
    t0 = time.perf_counter()
    if mode == "load":
        lt = load_source(sub / "contacts.csv", "contacts")
        rows = lt.n_rows
    else:
        r = compute_panel(sub, period="week", unit="agent", indicators=INDICATORS, threads=threads,
                          memory_limit=memory_limit)
        rows = len(r.panel)
    elapsed = time.perf_counter() - t0
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"mode": mode, "seconds": elapsed, "peak_rss_mb": rss_mb, "rows": rows}))


def main() -> None:
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000000")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--memory-limit", default="1GB")
    ap.add_argument("--repeat", type=int, default=2, help="runs per mode and size (best time reported)")
    ap.add_argument("--_child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args._child:
        _child(args._child[0], args._child[1], args.threads, args.memory_limit)
        return
    print(f"threads={args.threads} memory_limit={args.memory_limit} indicators={','.join(INDICATORS)}")
    print(f"{'rows':>12} {'CSV MB':>7} {'parquet s':>9} {'csv s':>7} {'load s':>7} {'ratio':>6} "
          f"{'parquet RSS MB':>15} {'csv RSS MB':>11}")
    for n in [int(s) for s in args.sizes.split(",")]:
        with tempfile.TemporaryDirectory(prefix="kpilab-bench-") as tmp:
            (Path(tmp) / "parquet").mkdir()
            (Path(tmp) / "csv").mkdir()
            path = build(n, Path(tmp) / "parquet")
            csv_path = Path(tmp) / "csv" / "contacts.csv"
            pf = pq.ParquetFile(path)
            with pacsv.CSVWriter(csv_path, pf.schema_arrow) as w:
                for batch in pf.iter_batches(batch_size=1 << 18):
                    w.write_batch(batch)
            res: dict[str, dict] = {}
            for mode in ("parquet", "csv", "load"):
                runs = []
                for _ in range(args.repeat):
                    out = subprocess.run(
                        [sys.executable, __file__, "--threads", str(args.threads), "--memory-limit",
                         args.memory_limit, "--_child", mode, tmp],
                        capture_output=True, text=True, check=True)
                    runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
                res[mode] = min(runs, key=lambda r: r["seconds"]) | {
                    "peak_rss_mb": max(r["peak_rss_mb"] for r in runs)}
            p, c, ld = res["parquet"], res["csv"], res["load"]
            size = csv_path.stat().st_size / 2**20
            print(f"{n:>12,} {size:>7.0f} {p['seconds']:>9.2f} {c['seconds']:>7.2f} {ld['seconds']:>7.2f} "
                  f"{c['seconds'] / p['seconds']:>6.2f} {p['peak_rss_mb']:>15.0f} {c['peak_rss_mb']:>11.0f}",
                  flush=True)


if __name__ == "__main__":
    main()
