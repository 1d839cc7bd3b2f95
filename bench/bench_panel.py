"""Benchmark: compute_panel vs a hand-written DuckDB query on synthetic canonical contacts.

Builds N canonical contacts (vectorised numpy -> Parquet, written in 1M-row groups), then
times two indicator sets, each run in a fresh subprocess so peak RSS is attributable:

* ``simple``: aht, fcr_agent, acw_time, hold_rate, answered_contacts (sums and counts);
* ``fcr``: repeat-contact FCR (no further contact by the same customer within 7 days: a
  ``LEAD()`` over each customer's contacts).

For each set:

* ``panel``: ``compute_panel(folder, period="week", unit="agent", indicators=...)`` in process
  (default settings: validation while loading, duplicate-id check, row accounting, intervals; the
  libraries it imports on first use, scipy.special and pyarrow.parquet, imported before the clock
  starts, as in any process that has computed a panel before),
  with the time split into load (ingest checks), duplicate-id screen, other view set-up,
  aggregation and post-processing;
* ``hand``: one hand-written DuckDB query computing the same counts and sums (no validation, no
  accounting, no intervals), in process;
* ``cmd`` (with ``--command``): ``kpilab panel ... --out x.parquet`` as a whole process, against a
  whole ``python -c`` process running the hand query and writing its result to Parquet (both with
  bytecode caching on, as after an install: see ``_command_env``).

Both use 2 threads and ``--memory-limit`` (1 GB): the hand query gives it to DuckDB; ``compute_panel``
takes it as the budget of the whole process (DuckDB gets it less what the process already holds, and
spills beyond), so its peak RSS is the one to compare with the limit. Rows per second are the panel's.
Seconds are wall-clock (best of ``--repeat``, the two sides' runs alternating); ``ratio`` is the ratio
of the bests, ``paired`` the median over repeats of each panel run's time over the hand run just before
it (steadier when the machine's speed drifts, as on shared cores), with its 95 % percentile bootstrap
interval from 5 repeats on (on a noisy machine, use ``--repeat 15`` or more before calling a target
met); the CPU ratio (user + system seconds of the two processes) is printed too, as it moves less when
other work shares the machine.

Usage::

    .venv/bin/python bench/bench_panel.py                          # 1M and 10M rows, both sets
    .venv/bin/python bench/bench_panel.py --sizes 100000000 --sets simple --repeat 1 --keep /tmp/kb
    .venv/bin/python bench/bench_panel.py --sizes 1000000 --command
    .venv/bin/python bench/bench_panel.py --folder /tmp/sim5000 --repeat 1   # the quarterly review's panel

``--folder DIR`` times the ``default`` set instead: the panel the quarterly review computes (notebook 01:
``compute_panel(DIR, period="month", unit=["agent", "team", "centre"], shrinkage=True)``, every catalogue
indicator the folder's tables support, default framework, threads and memory budget) on an existing data
folder (e.g. ``kpilab simulate --agents 5000 --months 3``), in a fresh process per run, with wall and CPU
seconds, peak RSS and the time per phase and per table's aggregation. ``--memory-limit`` is the panel's
process budget (1 GB, compute_panel's default, unless given).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

SETS = {
    "simple": ["aht", "fcr_agent", "acw_time", "hold_rate", "answered_contacts"],
    "fcr": ["fcr"],
}
INDICATORS = SETS["simple"]

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

# repeat-contact FCR (7 days): the next contact of the same customer, answered contacts whose window
# lies inside the data
HAND_FCR_SQL = """
WITH c AS (
    SELECT agent_id, arrived_at, abandoned, customer_id,
           epoch(LEAD(arrived_at) OVER (PARTITION BY customer_id ORDER BY arrived_at, contact_id))
               - epoch(arrived_at) AS gap
    FROM read_parquet('{path}')
), last AS (SELECT max(epoch(arrived_at)) AS t FROM read_parquet('{path}'))
SELECT agent_id, strftime(date_trunc('week', arrived_at), '%Y-%m-%d') AS period,
       COUNT(*) AS n, COUNT(*) FILTER (WHERE gap IS NULL OR gap > 7 * 86400) AS k
FROM c, last
WHERE NOT abandoned AND agent_id IS NOT NULL AND customer_id IS NOT NULL AND epoch(arrived_at) <= last.t - 7 * 86400
GROUP BY 1, 2
"""
HAND = {"simple": HAND_SQL, "fcr": HAND_FCR_SQL}


def build(n: int, folder: Path, seed: int = 0, chunk: int = 1_000_000, ids: str = "integer") -> Path:
    """Write n synthetic canonical contacts (500 agents, 1 year) to folder/contacts.parquet.

    ``ids``: ``integer`` (contact ids '0', '1', ..., as ticket and call numbers are) or ``text``
    (39-character hexadecimal ids in no order, like UUIDs: the repeated-id screen then sorts hashes
    instead of marking integers).
    """
    rng = np.random.default_rng(seed)
    path = folder / "contacts.parquet"
    start = np.datetime64("2025-01-01T00:00:00", "us")
    year_us = 365 * 86400 * 10**6
    writer = None
    for lo in range(0, n, chunk):
        m = min(chunk, n - lo)
        if ids == "text":  # unique hexadecimal text in no particular order
            k = np.arange(lo, lo + m, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
            hexed = np.char.mod("%016x", k)
            id_values = pa.array(np.char.add(np.char.add(hexed, "-4000-8000-"), np.char.mod("%012x", np.arange(lo, lo + m))))
        else:
            id_values = pc.cast(pa.array(np.arange(lo, lo + m, dtype=np.int64)), pa.string())
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
            "contact_id": id_values,
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


def _timed(obj: object, name: str, bucket: str, spent: dict[str, float]) -> None:
    """Wrap ``obj.name`` so the seconds spent inside it add to ``spent[bucket]``."""
    fn = getattr(obj, name, None)
    if fn is None:  # an older kpilab without this step
        return

    def wrapper(*a, **k):  # noqa: ANN002, ANN003, ANN202
        t = time.perf_counter()
        try:
            return fn(*a, **k)
        finally:
            spent[bucket] = spent.get(bucket, 0.0) + time.perf_counter() - t

    setattr(obj, name, wrapper)


def _time_phases() -> dict[str, float]:
    """Wrap the panel's steps so that their seconds add up by phase (``views`` still holds the duplicate
    screen's, which callers subtract; whatever no phase holds is post-processing)."""
    import kpilab.ingest as ingest
    from kpilab.indicators import engine

    spent: dict[str, float] = {}
    _timed(ingest, "load_source", "load", spent)
    _timed(ingest.LoadedTable, "sample", "load", spent)
    _timed(engine, "_default_framework", "framework", spent)
    _timed(engine._Engine, "_ids_distinct", "dup_screen", spent)
    _timed(engine._Engine, "prepare", "views", spent)
    return spent


def _child(mode: str, which: str, folder: str, threads: int, memory_limit: str) -> None:
    import resource

    import duckdb

    from kpilab.indicators import compute_panel, engine

    spent = _time_phases()
    _timed(engine._Engine, "aggregate", "aggregate", spent)
    if mode == "panel":
        # imports excluded: the comparison is inside a running process, which has imported the libraries the
        # panel imports on first use (scipy.special for the intervals, about 0.3 s; pyarrow.parquet)
        import pyarrow.parquet  # noqa: F401
        import scipy.special  # noqa: F401
    t0 = time.perf_counter()
    u0 = resource.getrusage(resource.RUSAGE_SELF)
    if mode == "panel":
        r = compute_panel(folder, period="week", unit="agent", indicators=SETS[which], threads=threads,
                          memory_limit=memory_limit)
        rows = len(r.panel)
    else:
        con = duckdb.connect(config={"threads": threads, "memory_limit": memory_limit})
        con.execute("SET TimeZone='UTC'")
        rows = len(con.execute(HAND[which].format(path=str(Path(folder) / "contacts.parquet"))).df())
    elapsed = time.perf_counter() - t0
    u1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (u1.ru_utime - u0.ru_utime) + (u1.ru_stime - u0.ru_stime)
    if mode == "hand":
        spent = {}
    if spent:
        spent["views"] -= spent.get("dup_screen", 0.0)
        spent["post"] = elapsed - sum(spent.values())
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"mode": mode, "seconds": elapsed, "cpu": cpu, "peak_rss_mb": rss_mb, "rows": rows,
                      "spent": spent}))


def _review_child(folder: str, memory_limit: str) -> None:
    """One run of the quarterly review's panel on ``folder`` (notebook 01's arguments), timed by phase."""
    import resource

    from kpilab.indicators import compute_panel, engine

    spent = _time_phases()
    _timed(engine, "_shrink", "shrinkage", spent)
    agg = engine._Engine.aggregate

    def by_table(self, table, *a, **k):  # noqa: ANN001, ANN002, ANN003, ANN202
        t = time.perf_counter()
        try:
            return agg(self, table, *a, **k)
        finally:
            spent[f"aggregate:{table}"] = spent.get(f"aggregate:{table}", 0.0) + time.perf_counter() - t

    engine._Engine.aggregate = by_table
    t0 = time.perf_counter()
    u0 = resource.getrusage(resource.RUSAGE_SELF)
    r = compute_panel(folder, period="month", unit=["agent", "team", "centre"], shrinkage=True,
                      memory_limit=memory_limit)
    elapsed = time.perf_counter() - t0
    u1 = resource.getrusage(resource.RUSAGE_SELF)
    if "views" in spent:
        spent["views"] -= spent.get("dup_screen", 0.0)
    spent["post"] = elapsed - sum(spent.values())
    print(json.dumps({"seconds": elapsed, "cpu": (u1.ru_utime - u0.ru_utime) + (u1.ru_stime - u0.ru_stime),
                      "peak_rss_mb": u1.ru_maxrss / 1024, "rows": len(r.panel),
                      "indicators": int(r.panel["indicator"].nunique()), "spent": spent}))


def review(folder: str, repeat: int, memory_limit: str) -> None:
    """Print the quarterly review panel's timings on ``folder`` (each run in a fresh process)."""
    print(f"default set (notebook 01's panel) on {folder}; memory_limit={memory_limit} cores={os.cpu_count()} "
          f"load average={os.getloadavg()[0]:.1f}", flush=True)
    for _ in range(repeat):
        out = subprocess.run([sys.executable, __file__, "--memory-limit", memory_limit, "--_review", folder],
                             capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"  {r['seconds']:.1f} s wall, {r['cpu']:.1f} s CPU, peak RSS {r['peak_rss_mb']:.0f} MB, "
              f"{r['rows']:,} panel rows, {r['indicators']} indicators", flush=True)
        print("    " + "  ".join(f"{k} {v:.2f}" for k, v in sorted(r["spent"].items(), key=lambda kv: -kv[1])),
              flush=True)


def _command(which: str, folder: str, threads: int, memory_limit: str) -> list[list[str]]:
    """The two whole-process commands: kpilab panel, and python running the hand query into Parquet."""
    out = Path(folder) / f"_out_{which}"
    out.mkdir(exist_ok=True)
    kpilab = str(Path(sys.executable).with_name("kpilab"))
    hand = ("import duckdb, sys; con = duckdb.connect(config={'threads': int(sys.argv[3]), "
            "'memory_limit': sys.argv[4]}); con.execute(\"SET TimeZone='UTC'\"); "
            "con.execute('COPY (' + sys.argv[1] + ') TO ' + repr(sys.argv[2]) + ' (FORMAT parquet)')")
    return [
        [kpilab, "panel", "--data", folder, "--period", "week", "--unit", "agent", "--indicators",
         ",".join(SETS[which]), "--out", str(out / f"panel_{time.time_ns()}.parquet")],
        [sys.executable, "-c", hand, HAND[which].format(path=str(Path(folder) / "contacts.parquet")),
         str(out / f"hand_{time.time_ns()}.parquet"), str(threads), memory_limit],
    ]


def _command_env() -> dict[str, str]:
    """The environment of the whole-process runs: bytecode cached, as after any install.

    An environment with ``PYTHONDONTWRITEBYTECODE`` (this project's sandboxes set it) recompiles
    kpilab's modules from source in every process (about 0.2 s); the cache goes to a folder under
    the system temp directory (``PYTHONPYCACHEPREFIX``), not into the source tree. Both commands get
    the same environment.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / "kpilab-bench-pycache")
    return env


def _run_wrapped(cmd: list[str]) -> dict[str, float]:
    """Wall seconds and peak RSS of one whole command (run from a wrapper, so RSS is its own)."""
    code = ("import json, resource, subprocess, sys, time; t = time.perf_counter(); "
            "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL); "
            "u = resource.getrusage(resource.RUSAGE_CHILDREN); "
            "print(json.dumps({'seconds': time.perf_counter() - t, 'cpu': u.ru_utime + u.ru_stime, "
            "'peak_rss_mb': u.ru_maxrss / 1024}))")
    out = subprocess.run([sys.executable, "-c", code, *cmd], capture_output=True, text=True, check=True,
                         env=_command_env())
    return json.loads(out.stdout.strip().splitlines()[-1])


def _ratio_interval(num: list[dict], den: list[dict], level: float = 0.95, draws: int = 4000) -> str:
    """The paired median ratio with its percentile bootstrap interval (Efron & Tibshirani 1993, ch. 13),
    e.g. ``1.36 [1.22, 1.54]``; just the median below 5 repeats (too few to resample)."""
    ratios = np.array([a["seconds"] / b["seconds"] for a, b in zip(num, den, strict=True)])
    med = float(np.median(ratios))
    if len(ratios) < 5:
        return f"{med:.2f}"
    rng = np.random.default_rng(0)
    boot = np.median(rng.choice(ratios, size=(draws, len(ratios))), axis=1)
    lo, hi = np.quantile(boot, [(1 - level) / 2, (1 + level) / 2])
    return f"{med:.2f} [{lo:.2f}, {hi:.2f}]"


def _best(runs: list[dict]) -> dict:
    return min(runs, key=lambda r: r["seconds"]) | {"peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
                                                     "cpu": min(r["cpu"] for r in runs)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000000,10000000")
    ap.add_argument("--sets", default="simple,fcr", help="indicator sets: simple, fcr")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--memory-limit", default="1GB")
    ap.add_argument("--repeat", type=int, default=3, help="runs per mode and size (best time reported)")
    ap.add_argument("--command", action="store_true", help="also time whole processes (kpilab panel vs python)")
    ap.add_argument("--keep", default=None, help="folder to build the data in and keep (reused when present)")
    ap.add_argument("--folder", default=None, help="time the quarterly review's panel on this data folder")
    ap.add_argument("--ids", choices=("integer", "text"), default="integer",
                    help="contact ids: integer numbers (default) or 39-character hexadecimal text (like UUIDs)")
    ap.add_argument("--_child", nargs=3, help=argparse.SUPPRESS)
    ap.add_argument("--_build", nargs=2, help=argparse.SUPPRESS)
    ap.add_argument("--_review", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args._review:
        _review_child(args._review, args.memory_limit)
        return
    if args.folder:
        review(args.folder, args.repeat, args.memory_limit)
        return
    if args._build:
        build(int(args._build[0]), Path(args._build[1]), ids=args.ids)
        return
    if args._child:
        _child(args._child[0], args._child[1], args._child[2], args.threads, args.memory_limit)
        return
    print(f"threads={args.threads} memory_limit={args.memory_limit} cores={os.cpu_count()} "
          f"load average={os.getloadavg()[0]:.1f}")
    print(f"{'rows':>12} {'set':>6} {'panel s':>8} {'hand s':>7} {'ratio':>6} {'paired [95% CI]':>18} {'rows/s':>11} {'RSS MB':>7} "
          f"{'hand RSS':>8} {'cpu ratio':>9} | breakdown s: framework load dup_screen views aggregate post"
          + (" | cmd s  hand cmd s  ratio  paired [95% CI]  cpu ratio  cmd RSS MB" if args.command else ""))
    warmed = False
    for n in [int(s) for s in args.sizes.split(",")]:
        tmp = None
        if args.keep:
            folder = Path(args.keep) / (f"n{n}" if args.ids == "integer" else f"n{n}_{args.ids}")
            folder.mkdir(parents=True, exist_ok=True)
        else:
            tmp = tempfile.TemporaryDirectory(prefix="kpilab-bench-")
            folder = Path(tmp.name)
        if not (folder / "contacts.parquet").is_file():
            t0 = time.perf_counter()
            # in a process of its own: Linux keeps a process's peak RSS across fork and exec, so a build in this
            # process (about 1 GB at 10M rows) would show as the peak RSS of every run started after it
            subprocess.run([sys.executable, __file__, "--ids", args.ids, "--_build", str(n), str(folder)], check=True)
            print(f"built {n:,} rows in {time.perf_counter() - t0:.1f} s", flush=True)
        for which in args.sets.split(","):
            # hand and panel runs alternate, so that a machine getting slower or faster (shared cores) moves
            # both sides of the ratio alike
            runs: dict[str, list[dict]] = {"hand": [], "panel": []}
            for _ in range(args.repeat):
                for mode in ("hand", "panel"):
                    out = subprocess.run(
                        [sys.executable, __file__, "--threads", str(args.threads), "--memory-limit",
                         args.memory_limit, "--_child", mode, which, str(folder)],
                        capture_output=True, text=True, check=True, env=_command_env())
                    runs[mode].append(json.loads(out.stdout.strip().splitlines()[-1]))
            res = {mode: _best(r) for mode, r in runs.items()}
            p, h = res["panel"], res["hand"]
            sp = p["spent"]
            # the median of each repeat's ratio (a panel run over the hand run just before it): steadier than
            # the ratio of the bests when the machine's speed drifts
            paired = _ratio_interval(runs["panel"], runs["hand"])
            line = (f"{n:>12,} {which:>6} {p['seconds']:>8.2f} {h['seconds']:>7.2f} {p['seconds'] / h['seconds']:>6.2f} "
                    f"{paired:>18} "
                    f"{n / p['seconds']:>11,.0f} {p['peak_rss_mb']:>7.0f} {h['peak_rss_mb']:>8.0f} {p['cpu'] / h['cpu']:>9.2f} | "
                    + " ".join(f"{sp.get(k, 0.0):.2f}" for k in ("framework", "load", "dup_screen", "views",
                                                                 "aggregate", "post")))
            if args.command:
                kp, hd = _command(which, str(folder), args.threads, args.memory_limit)
                if not warmed:  # compile and cache the modules' bytecode once, outside the timings
                    subprocess.run([sys.executable, "-c", "import duckdb, kpilab.cli, kpilab.commands.panel, "
                                    "kpilab.indicators, kpilab.ingest, kpilab.outputs"], check=True, env=_command_env())
                    warmed = True
                pairs = [(_run_wrapped(hd), _run_wrapped(kp)) for _ in range(args.repeat)]
                ch, ck = _best([h for h, _ in pairs]), _best([k for _, k in pairs])
                cmd_paired = _ratio_interval([k for _, k in pairs], [h for h, _ in pairs])
                line += (f" | {ck['seconds']:>5.2f} {ch['seconds']:>10.2f} {ck['seconds'] / ch['seconds']:>6.2f} "
                         f"{cmd_paired:>17} {ck['cpu'] / ch['cpu']:>10.2f} {ck['peak_rss_mb']:>11.0f}")
            print(line, flush=True)
        if tmp is not None:
            tmp.cleanup()


if __name__ == "__main__":
    main()
