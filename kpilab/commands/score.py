"""``kpilab score --panel FILE --out DIR``: scores, grades, tiers and scorecards with their uncertainty."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from kpilab.errors import ParameterError
from kpilab.framework import load_framework

NAME = "score"
HELP = "Score agents: normalise, aggregate by role, grade, tier, scorecards and grade uncertainty."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--panel", required=True, help="long panel or wide table (.csv or .parquet)")
    parser.add_argument("--framework", help="framework YAML (default: kpilab's contact-centre framework)")
    parser.add_argument("--agents", help="agents table (agent_id, role, team; .csv or .parquet): role weights, teams")
    src = parser.add_mutually_exclusive_group()
    src.add_argument("--weights", help="weights CSV: 'indicator, weight' (kpilab weights --out), or a table with one "
                                       "column per set (pick it with --weights-column)")
    src.add_argument("--weight-set", help="framework weight set for everyone (default: each agent's role set)")
    parser.add_argument("--weights-column", help="column of --weights to use when it holds several sets")
    parser.add_argument("--normalise", help="global method: minmax, zscore, rank, percentile, target, goalposts, "
                                            "band, threshold (default: the framework's, else minmax)")
    parser.add_argument("--aggregate", default="arithmetic",
                        help="arithmetic, geometric, harmonic, median, copeland, or pillar=X,index=Y")
    parser.add_argument("--min-coverage", type=float, default=2 / 3,
                        help="share of a pillar's weight that must have data (default 2/3)")
    parser.add_argument("--draws", type=int, default=1000, help="draws for the grade uncertainty (0: off)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the draws")
    parser.add_argument("--estimate", choices=["auto", "value", "value_shrunk"], default="auto",
                        help="value scored (auto: value_shrunk when the panel has it)")
    parser.add_argument("--out", required=True, help="output folder: scores.csv, scorecard.csv, grades_by_team.csv")


def _aggregate(text: str) -> str | dict[str, str]:
    if "=" not in text:
        return text.strip()
    out = {}
    for part in text.split(","):
        level, sep, method = part.partition("=")
        if not sep:
            raise ParameterError(f"--aggregate {text!r} must look like 'median' or 'pillar=median,index=arithmetic'.")
        out[level.strip()] = method.strip()
    return out


def run(args: argparse.Namespace) -> int:
    from kpilab.panel import write_table
    from kpilab.scoring import read_weights, score

    fw = load_framework(args.framework)
    weights = None
    if args.weights:
        weights = read_weights(args.weights, args.weights_column)
    elif args.weight_set:
        weights = args.weight_set
    res = score(
        args.panel, fw, weights=weights, roles=args.agents, normalise=args.normalise,
        aggregate=_aggregate(args.aggregate), min_coverage=args.min_coverage, draws=args.draws, seed=args.seed,
        estimate=args.estimate,
    )
    out = Path(args.out)
    written = [
        write_table(res.scores, out / "scores.csv"),
        write_table(res.scorecard, out / "scorecard.csv"),
        write_table(res.grades_by_team, out / "grades_by_team.csv"),
    ]
    prov = out / "score.json"
    prov.write_text(json.dumps(res.provenance(), indent=2, default=str), encoding="utf-8")
    print(f"kpilab score: {res.summary()}")
    for p in [*written, prov]:
        print(f"wrote {p}")
    return 0
