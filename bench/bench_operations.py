"""Benchmark: the data-overview (notebook 00) and operations (notebook 06) functions on a data folder.

Each step runs in its own Python process (so its peak memory is its own) on a simulated folder
(``kpilab simulate --agents N --months 3 --out DIR``, made once and reused) and prints wall seconds,
CPU seconds (user + system) and peak resident memory (MB), then the in-process breakdown the step
printed (opening and validating the tables, the query, the pandas post-processing).

Issue 12 targets the whole review pipeline: under 60 s at 500 agents, under 5 minutes at 5,000 agents
on two cores, peak under 2 GB per process. Usage::

    .venv/bin/python bench/bench_operations.py                 # 500 agents x 3 months, simulated once
    .venv/bin/python bench/bench_operations.py --data /tmp/sim500
    .venv/bin/python bench/bench_operations.py --data /tmp/sim5000 --steps weekday_hour_profile,staffing
    # the code before issue 12 part 2, from a copy of an earlier commit's kpilab/ (git archive <rev> kpilab):
    .venv/bin/python bench/bench_operations.py --data /tmp/sim500 --pythonpath /tmp/old

With ``--pythonpath`` the steps use the old API (every table loaded into pandas, as the notebooks did).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# each step: code run in a fresh process; ``path`` is the data folder, ``T`` times a labelled block
_PRELUDE = """
import json, sys, time
T0 = time.perf_counter()
LOG = []
class T:
    def __init__(self, label): self.label = label
    def __enter__(self): self.t = time.perf_counter(); self.c = time.process_time()
    def __exit__(self, *a): LOG.append((self.label, time.perf_counter() - self.t, time.process_time() - self.c))
path = sys.argv[1]
"""
_NEW = {
    "overview": """
with T('import'):
    from kpilab import overview
    from kpilab.operations import open_tables
    from kpilab.review_period import review_period
with T('open + period counts'):
    tables = open_tables(path, scope=review_period('', '', 'month', history=3))
    rows = tables.period_rows()
with T('data_inventory'):
    overview.data_inventory(tables)
with T('validation_summary'):
    overview.validation_summary(tables)
with T('channel_overview'):
    overview.channel_overview(tables)
with T('agent_overview'):
    overview.agent_overview(tables)
with T('ticket_overview'):
    overview.ticket_overview(tables)
""",
    "weekday_hour_profile": """
with T('import'):
    from kpilab.operations import open_tables, weekday_hour_profile
with T('open'):
    data = open_tables(path)
with T('weekday_hour_profile'):
    weekday_hour_profile(data)
""",
    "qa_sample": """
with T('import'):
    from kpilab.operations import open_tables, qa_sample
with T('open'):
    data = open_tables(path)
with T('qa_sample'):
    qa_sample(data, '2025-03-31', rate=0.05)
""",
    "triangulate": """
with T('import'):
    from kpilab.operations import open_tables, triangulate
with T('open'):
    data = open_tables(path)
with T('triangulate'):
    triangulate(data, keep_sources=False)
""",
    "staffing": """
with T('import'):
    from kpilab.operations import open_tables, staffing_from_contacts
with T('open'):
    data = open_tables(path)
with T('staffing_from_contacts'):
    staffing_from_contacts(data)
""",
    "operations": """
with T('import'):
    from kpilab.operations import open_tables, qa_sample, staffing_from_contacts, triangulate, weekday_hour_profile
with T('open'):
    data = open_tables(path)
with T('weekday_hour_profile'):
    weekday_hour_profile(data)
with T('qa_sample'):
    qa_sample(data, '2025-03-31', rate=0.05)
with T('triangulate'):
    triangulate(data, keep_sources=False)
with T('staffing_from_contacts'):
    staffing_from_contacts(data)
""",
}
# the same steps as the notebooks ran them before: every table in pandas
_OLD = {
    "overview": """
with T('import'):
    from kpilab import overview
    from kpilab.ingest import load_tables
    from kpilab.review_period import review_period
with T('open + period counts'):
    tables, rows = review_period('', '', 'month', history=3).filter_tables(load_tables(path))
with T('data_inventory'):
    overview.data_inventory(tables)
with T('validation_summary'):
    overview.validation_summary(tables)
with T('channel_overview'):
    overview.channel_overview(tables['contacts'])
with T('agent_overview'):
    overview.agent_overview(tables)
with T('ticket_overview'):
    overview.ticket_overview(tables['tickets'])
""",
    "weekday_hour_profile": """
with T('import'):
    from kpilab.operations import weekday_hour_profile
with T('weekday_hour_profile'):
    weekday_hour_profile(path)
""",
    "qa_sample": """
with T('import'):
    from kpilab.operations import qa_sample
with T('qa_sample'):
    qa_sample(path, '2025-03-31', rate=0.05)
""",
    "triangulate": """
with T('import'):
    from kpilab.operations import triangulate
with T('triangulate'):
    triangulate(path)
""",
    "staffing": """
with T('import'):
    from kpilab.operations import staffing_from_contacts
with T('staffing_from_contacts'):
    staffing_from_contacts(path)
""",
    "operations": """
with T('import'):
    from kpilab.operations import qa_sample, staffing_from_contacts, triangulate, weekday_hour_profile
with T('weekday_hour_profile'):
    weekday_hour_profile(path)
with T('qa_sample'):
    qa_sample(path, '2025-03-31', rate=0.05)
with T('triangulate'):
    triangulate(path)
with T('staffing_from_contacts'):
    staffing_from_contacts(path)
""",
}
_EPILOGUE = """
print(json.dumps(LOG))
"""


def _step(code: str, data: str, pythonpath: str | None) -> tuple[float, float, float, list, str]:
    """Run one step in a new process: (wall s, CPU s, peak RSS MB, breakdown, stderr tail)."""
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath + os.pathsep + env.get("PYTHONPATH", "")
    import tempfile

    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-c", _PRELUDE + code + _EPILOGUE, data], stdout=out, stderr=err,
                                cwd=ROOT if not pythonpath else "/", env=env, text=True)
        _, status, ru = os.wait4(proc.pid, 0)  # this child's own CPU time and peak RSS
        wall = time.perf_counter() - t0
        out.seek(0), err.seek(0)
        stdout, stderr = out.read(), err.read()
    if os.waitstatus_to_exitcode(status) != 0:
        return wall, float("nan"), float("nan"), [], stderr.strip().splitlines()[-1] if stderr.strip() else "failed"
    import json

    log = json.loads(stdout.strip().splitlines()[-1])
    return wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024, log, ""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=None, help="data folder (default: 500 agents x 3 months simulated once into "
                    "the temporary folder and reused)")
    ap.add_argument("--steps", default=",".join(_NEW), help=f"comma-separated, among {', '.join(_NEW)}")
    ap.add_argument("--pythonpath", default=None, help="run an older kpilab (a folder holding kpilab/)")
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    steps = _OLD if args.pythonpath else _NEW
    if args.data is None:
        import tempfile

        args.data = str(Path(tempfile.gettempdir()) / "kpilab-bench-operations-500x3")
        t0 = time.perf_counter()
        subprocess.run([str(Path(sys.executable).with_name("kpilab")), "simulate", "--agents", "500", "--months", "3",
                        "--reuse", "--out", args.data], check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
        print(f"simulated (or reused) {args.data} in {time.perf_counter() - t0:.1f} s")
    print(f"data {args.data}, {'old code from ' + args.pythonpath if args.pythonpath else 'this checkout'}")
    print(f"{'step':24s} {'wall s':>8s} {'cpu s':>8s} {'peak MB':>8s}")
    for name in args.steps.split(","):
        for _ in range(args.repeat):
            wall, cpu, rss, log, err = _step(steps[name], args.data, args.pythonpath)
            print(f"{name:24s} {wall:8.1f} {cpu:8.1f} {rss:8.0f}" + (f"  FAILED: {err}" if err else ""))
            for label, w, c in log:
                print(f"    {label:34s} {w:7.2f} s wall {c:7.2f} s cpu")


if __name__ == "__main__":
    main()
