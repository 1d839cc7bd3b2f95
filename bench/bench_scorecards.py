"""Benchmark the per-agent scorecards (run by hand: ``.venv/bin/python bench/bench_scorecards.py``).

Target (issue 11): rendering after the notebooks ran in under 10 s for 500 agents. Builds a run
folder with ``tables/scores.csv`` and ``tables/scorecard.csv`` for 500 agents x 12 months x 20
indicators (the shape notebook 04 writes) and times :func:`kpilab.report.scorecards.write_scorecards`.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from kpilab.report.scorecards import write_scorecards


def make_run(root: Path, agents: int, periods: int, indicators: int, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    (root / "tables").mkdir(parents=True)
    months = pd.date_range("2025-01-01", periods=periods, freq="MS").strftime("%Y-%m-%d")
    ids = [f"A{i:04d}" for i in range(agents)]
    idx = rng.uniform(20, 95, size=(agents, periods))
    scores = pd.DataFrame({
        "unit_id": np.repeat(ids, periods), "period": np.tile(months, agents),
        "role": "front_line", "team": np.repeat([f"T{i // 12:02d}" for i in range(agents)], periods),
        "index": idx.ravel(), "satisfaction": idx.ravel() + 3, "timeliness": idx.ravel() - 3,
        "grade": np.where(idx.ravel() > 60, "C", "D"), "tier": "junior", "streak": 2, "tier_since": months[0],
        "reason": None, "score_low": idx.ravel() - 5, "score_high": idx.ravel() + 5, "p_grade": 0.8,
        "grade_settled": True})
    scores.to_csv(root / "tables" / "scores.csv", index=False)
    n = agents * periods * indicators
    card = pd.DataFrame({
        "unit_id": np.repeat(ids, periods * indicators), "period": np.tile(np.repeat(months, indicators), agents),
        "role": "front_line", "indicator": np.tile([f"ind{j:02d}" for j in range(indicators)], agents * periods),
        "pillar": np.tile(["satisfaction", "timeliness"] * (indicators // 2), agents * periods),
        "value": rng.uniform(0, 1, n), "n": 50, "target": 0.9, "score": rng.uniform(0, 100, n),
        "weight": 1 / indicators, "flag": None})
    card["points_lost"] = card["weight"] * (100 - card["score"])
    card.to_csv(root / "tables" / "scorecard.csv", index=False)
    pd.DataFrame({"code": [f"ind{j:02d}" for j in range(indicators)],
                  "name": [f"Indicator number {j}" for j in range(indicators)],
                  "unit": ["share", "seconds", "score 1-5", "contacts"] * (indicators // 4)}).to_csv(
        root / "tables" / "framework_indicators.csv", index=False)
    return root


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--agents", type=int, default=500)
    ap.add_argument("--periods", type=int, default=12)
    ap.add_argument("--indicators", type=int, default=20)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run = make_run(Path(tmp) / "run", args.agents, args.periods, args.indicators)
        t0, c0 = time.perf_counter(), time.process_time()
        pages = write_scorecards(run, {"parameters": {"period": "month"}})
        dt, cpu = time.perf_counter() - t0, time.process_time() - c0
        size = sum(p.stat().st_size for p in pages)
        print(f"{len(pages) - 1} agents x {args.periods} periods x {args.indicators} indicators: "
              f"{dt:.2f} s wall, {cpu:.2f} s CPU for {len(pages)} pages ({size / 1e6:.1f} MB, {size / len(pages) / 1e3:.0f} kB per page)")


if __name__ == "__main__":
    main()
