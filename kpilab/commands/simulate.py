"""``kpilab simulate``: write a synthetic contact centre with planted truth."""

from __future__ import annotations

import argparse
import time

from kpilab.simulate import (
    SimParams,
    check_simulation_params,
    manifest_matches,
    read_manifest,
    simulate,
    write_simulation,
)

NAME = "simulate"
HELP = "Simulate a contact centre with planted truth and write its canonical tables (Parquet)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True, help="output folder (created or updated in place)")
    parser.add_argument("--agents", type=int, default=60, help="number of agents, >= 2 (default 60)")
    parser.add_argument("--months", type=int, default=12, help="months to simulate, 1-36 (default 12)")
    parser.add_argument("--seed", type=int, default=42, help="random seed, >= 0 (default 42)")
    parser.add_argument("--start", default="2025-01-01", help="first day YYYY-MM-DD (default 2025-01-01)")
    parser.add_argument(
        "--realism",
        default="clean",
        help="clean (default) or messy: the defects of real exports (missing talk times, tz-aware "
        "Europe/London timestamps, duplicate rows, unknown abandon waits, e-mails in phone queues, "
        "negative durations, out-of-range survey codes), each listed in truth.json 'defects'",
    )
    parser.add_argument(
        "--training",
        action="store_true",
        help="add a staggered training programme with a planted effect on the QA score (training table, "
        "agents.trained_at and the true effects in truth.json 'training'); used by notebook 08",
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="skip the work when OUT already holds this simulation (same parameters, version and file hashes)",
    )


def run(args: argparse.Namespace) -> int:
    t0 = time.perf_counter()
    ts = check_simulation_params(args.agents, args.months, args.seed, args.start, args.realism)
    params = SimParams(args.agents, args.months, args.seed, str(ts.date()), args.realism, args.training)
    if args.reuse and manifest_matches(args.out, params):
        man = read_manifest(args.out) or {}
        rows = ", ".join(f"{k} {v:,}" for k, v in man.get("tables", {}).items())
        print(f"reused {args.out} (simulator {man.get('simulator_version')}, {rows})")
        print(f"elapsed {time.perf_counter() - t0:.1f} s")
        return 0
    sim = simulate(params.agents, params.months, params.seed, params.start, params.realism,
                   training=params.training)
    paths = write_simulation(sim, args.out)
    print(f"wrote {len(paths)} files to {args.out}:")
    for p in paths:
        stem = p.name.removesuffix(".parquet")
        table = sim.tables.get(stem)
        if table is None and stem == "training":
            table = getattr(sim, "training", None)
        rows = f"{len(table):>10,d} rows" if table is not None else ""
        print(f"  {p.name:<22} {rows}")
    if sim.truth["defects"]:
        rows = sum(d["count"] for d in sim.truth["defects"] if d["rows"] is not None)
        print(f"realism messy: {len(sim.truth['defects'])} defect entries ({rows:,d} rows) listed in truth.json")
    print(f"elapsed {time.perf_counter() - t0:.1f} s")
    return 0
