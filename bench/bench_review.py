"""Benchmark: the whole quarterly review (``kpilab run review``) at 60, 500 and (optionally) 5,000 agents.

For each size it simulates one quarter (``kpilab simulate --agents N --months 3``), then runs
``kpilab run review -p data_dir <sim>`` as a user would (a whole process), and prints:

* the simulation's seconds;
* each notebook's seconds, read from the run's ``run.json`` (``steps[].seconds``), and what the
  runner spent outside the notebooks (start-up, report, diff/scorecards);
* the whole command's wall seconds;
* peak memory: the largest single process (the runner or one notebook kernel) and the largest
  sum over the process tree (runner + kernel), both sampled every 0.2 s.

Targets (issue 12): under 60 s for 500 agents and under 5 minutes for 5,000 agents on two cores,
peak under 2 GB. Runs go to ``outputs/`` (a new folder each time, named ``bench-review-<N>``);
simulated data to a temporary folder unless ``--keep DIR``. Usage::

    .venv/bin/python bench/bench_review.py                  # 60 and 500 agents
    .venv/bin/python bench/bench_review.py --agents 500 --big   # 500 and 5,000 agents
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
KPILAB = str(Path(sys.executable).with_name("kpilab"))


def _tree_rss(pid: int) -> tuple[int, int]:
    """Resident bytes of a process and all its descendants, and of the largest one (0 once gone)."""
    try:
        p = psutil.Process(pid)
        procs = [p, *p.children(recursive=True)]
    except psutil.Error:
        return 0, 0
    total = largest = 0
    for q in procs:
        try:
            rss = q.memory_info().rss
        except psutil.Error:
            continue
        total += rss
        largest = max(largest, rss)
    return total, largest


def _run(cmd: list[str], log: Path, allow_fail: bool = False) -> tuple[float, float, float]:
    """Run ``cmd`` (output to ``log``); returns (wall seconds, peak single-process MB, peak tree MB)."""
    peak_tree = peak_one = 0
    with log.open("w") as fh:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, cwd=ROOT)
        stop = threading.Event()

        def sample() -> None:
            nonlocal peak_tree, peak_one
            while not stop.is_set():
                total, largest = _tree_rss(proc.pid)
                peak_tree, peak_one = max(peak_tree, total), max(peak_one, largest)
                stop.wait(0.2)

        th = threading.Thread(target=sample, daemon=True)
        th.start()
        code = proc.wait()
        wall = time.perf_counter() - t0
        stop.set()
        th.join()
    if code != 0 and allow_fail:
        print(f"  ({' '.join(cmd[1:3])} exited {code}: {log.read_text().strip().splitlines()[-1][:300]})")
    elif code != 0:
        raise SystemExit(f"{' '.join(cmd[:3])} failed (exit {code}); see {log}:\n" + log.read_text()[-2000:])
    return wall, peak_one / 2**20, peak_tree / 2**20


def _run_dir(name: str, since: float) -> Path | None:
    """The run folder ``outputs/<stamp>-<name>`` this run wrote (its run.json newer than ``since``)."""
    found = sorted((p for p in (ROOT / "outputs").glob(f"*-{name}*/run.json") if p.stat().st_mtime >= since),
                   key=lambda p: p.stat().st_mtime)
    return found[-1].parent if found else None


def _slowest_cells(notebook: Path, k: int = 3) -> list[tuple[float, str]]:
    """The k slowest cells of an executed notebook (papermill's per-cell durations), with their first line."""
    if not notebook.is_file() or notebook.suffix != ".ipynb":
        return []
    cells = json.loads(notebook.read_text()).get("cells", [])
    timed = [(float(c.get("metadata", {}).get("papermill", {}).get("duration") or 0.0),
              "".join(c.get("source", "")).strip().splitlines()[0][:70] if c.get("source") else "")
             for c in cells if c.get("cell_type") == "code"]
    return sorted(timed, reverse=True)[:k]


def bench(n_agents: int, work: Path, months: int, seed: int, fresh_kernels: bool = False,
          params: list[list[str]] | None = None) -> None:
    sim = work / f"sim-{n_agents}-{months}m-{seed}"
    t_sim = 0.0
    if not (sim / "manifest.json").is_file():  # with --keep, a folder simulated before is reused
        t_sim, _, _ = _run([KPILAB, "simulate", "--agents", str(n_agents), "--months", str(months), "--seed",
                            str(seed), "--out", str(sim)], work / f"simulate-{n_agents}.log")
    name = f"bench-review-{n_agents}"
    log = work / f"{name}.log"
    # a failed step still leaves run.json with the seconds of every step that ran
    since = time.time() - 1
    extra = [x for k, v in (params or []) for x in ("-p", k, v)]
    wall, single, tree = _run([KPILAB, "run", "review", "-p", "data_dir", str(sim), *extra, "--name", name,
                               *(["--fresh-kernels"] if fresh_kernels else [])], log, allow_fail=True)
    run_dir = _run_dir(name, since)
    if run_dir is None:
        print(f"\n{n_agents:,} agents: the run wrote no run.json (see {log})")
        return
    rec = json.loads((run_dir / "run.json").read_text())
    steps = rec.get("steps", [])
    in_nb = sum(float(s["seconds"]) for s in steps)
    print(f"\n{n_agents:,} agents, {months} months ({rec.get('kernel_mode', 'fresh')} kernel): simulate "
          f"{t_sim:.1f} s{'' if t_sim else ' (reused)'}; review {wall:.1f} s wall "
          f"(run.json {float(rec.get('seconds', 0)):.1f} s, status {rec.get('status')}); "
          f"peak {single:,.0f} MB one process, {tree:,.0f} MB process tree; {run_dir.name}")
    for s in steps:
        print(f"  {s['step']:<28} {float(s['seconds']):>7.1f} s  {s.get('status', '')}")
        for dur, src in _slowest_cells(run_dir / Path(s.get("notebook", "")).name):
            print(f"      {dur:>6.1f} s  {src}")
    phases = {"process start-up, parameter checks": wall - float(rec.get("seconds", wall)),
              **{k.replace("_", " ") + (" (the scorecards step above)" if k == "diff_and_scorecards" else ""): float(v)
                 for k, v in rec.get("runner_seconds", {}).items()}}
    print(f"  {'(runner, outside notebooks)':<28} {wall - in_nb:>7.1f} s")
    for k, v in phases.items():
        print(f"      {v:>6.1f} s  {k}")
    sys.stdout.flush()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--agents", default="60,500", help="comma-separated agent counts (default 60,500)")
    ap.add_argument("--big", action="store_true", help="also run 5,000 agents (several minutes)")
    ap.add_argument("--months", type=int, default=3)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--keep", default=None, help="folder for the simulated data and logs, reused by later runs "
                    "(default: temporary)")
    ap.add_argument("--fresh-kernels", action="store_true", help="one kernel per notebook (the old runner)")
    ap.add_argument("-p", "--param", nargs=2, action="append", metavar=("NAME", "VALUE"), default=[],
                    help="a parameter passed to kpilab run review (-p memory_limit 1.6GB); repeatable")
    args = ap.parse_args()
    sizes = [int(a) for a in args.agents.split(",") if a.strip()] + ([5000] if args.big else [])
    print(f"cores={os.cpu_count()} load average={os.getloadavg()[0]:.1f} (other work on the machine inflates "
          "every number)")
    if args.keep:
        work = Path(args.keep)
        work.mkdir(parents=True, exist_ok=True)
        for n in sizes:
            bench(n, work, args.months, args.seed, args.fresh_kernels, args.param)
    else:
        with tempfile.TemporaryDirectory(prefix="kpilab-bench-review-") as tmp:
            for n in sizes:
                bench(n, Path(tmp), args.months, args.seed, args.fresh_kernels, args.param)


if __name__ == "__main__":
    main()
