"""Benchmark of the contact-centre simulator: wall time and peak memory.

Run by hand: ``.venv/bin/python bench/bench_simulate.py`` (optionally
``--configs 60x12 500x12`` and ``--realism clean messy``). Each configuration
runs in its own process so the peak RSS (``resource.getrusage``) is its own.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time


def _one(agents: int, months: int, realism: str = "clean") -> dict:
    from kpilab.simulate import simulate, write_simulation

    t0 = time.perf_counter()
    sim = simulate(agents=agents, months=months, seed=42, realism=realism)
    t1 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        write_simulation(sim, f"{tmp}/out")
    t2 = time.perf_counter()
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "config": f"{agents}x{months}" + ("" if realism == "clean" else f" {realism}"),
        "contacts": len(sim.tables["contacts"]),
        "simulate_s": round(t1 - t0, 2),
        "write_s": round(t2 - t1, 2),
        "cpu_user_s": round(ru.ru_utime, 2),
        "cpu_sys_s": round(ru.ru_stime, 2),
        "peak_rss_mb": round(ru.ru_maxrss / 1024, 0),  # Linux: KiB
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--configs", nargs="+", default=["60x12", "500x12"], help="AGENTSxMONTHS")
    parser.add_argument("--realism", nargs="+", default=["clean"], help="clean and/or messy")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        cfg, realism = args.one.split(":")
        a, m = map(int, cfg.split("x"))
        print(json.dumps(_one(a, m, realism)))
        return
    rows = []
    for cfg in args.configs:
        for realism in args.realism:
            out = subprocess.run([sys.executable, __file__, "--one", f"{cfg}:{realism}"], check=True,
                                 capture_output=True, text=True)
            rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    cols = list(rows[0])
    print("  ".join(f"{c:>12}" for c in cols))
    for r in rows:
        print("  ".join(f"{r[c]:>12,}" if isinstance(r[c], (int, float)) else f"{r[c]:>12}" for c in cols))


if __name__ == "__main__":
    main()
