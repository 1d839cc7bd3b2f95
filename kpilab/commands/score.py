"""``kpilab score --panel FILE --out DIR``: scores, grades, tiers and scorecards with their uncertainty."""

from __future__ import annotations

import argparse

from kpilab.commands._scoring_inputs import (
    add_scoring_inputs,
    read_scoring_inputs,
    scoring_inputs,
    write_outputs,
)
from kpilab.errors import ParameterError

NAME = "score"
HELP = "Score agents: normalise, aggregate by role, grade, tier, scorecards and grade uncertainty."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_scoring_inputs(parser)
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
    from kpilab.outputs import prepare_output
    from kpilab.scoring import score

    target = prepare_output(args.out, kind="dir", inputs=scoring_inputs(args))  # before any computation
    fw, weights = read_scoring_inputs(args)
    res = score(
        args.panel, fw, weights=weights, roles=args.agents, normalise=args.normalise,
        aggregate=_aggregate(args.aggregate), min_coverage=args.min_coverage, draws=args.draws, seed=args.seed,
        estimate=args.estimate,
    )
    write_outputs("score", args.out, target, {"scores.csv": res.scores, "scorecard.csv": res.scorecard,
                                              "grades_by_team.csv": res.grades_by_team},
                  res.provenance(), "score.json", res.summary())
    return 0
