"""``kpilab robustness --panel FILE --out DIR``: Monte Carlo rank/grade uncertainty and Sobol' sensitivity."""

from __future__ import annotations

import argparse

from kpilab.commands._scoring_inputs import (
    add_scoring_inputs,
    read_scoring_inputs,
    scoring_inputs,
    write_outputs,
)
from kpilab.errors import ParameterError

NAME = "robustness"
HELP = ("Robustness of ranks and grades: Monte Carlo over weights, normalisation, aggregation, indicator "
        "exclusion and measurement noise; Sobol' sensitivity indices (SALib).")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_scoring_inputs(parser)
    parser.add_argument("--normalise", help="nominal normalisation (default: the framework's, else minmax)")
    parser.add_argument("--aggregate", default="arithmetic", help="nominal aggregation (default arithmetic)")
    parser.add_argument("--draws", type=int, default=10_000, help="Monte Carlo draws (default 10000)")
    parser.add_argument("--sobol", type=int, default=1024,
                        help="Saltelli base sample size N, a power of 2 (default 1024; 0 skips the sensitivity "
                             "analysis)")
    parser.add_argument("--sobol-output", default="mean_abs_shift",
                        help="output analysed: mean_abs_shift (default) or unit:<unit_id> (that unit's rank)")
    parser.add_argument("--seed", type=int, default=0, help="seed (same seed, identical results)")
    parser.add_argument("--period", default="latest", help="latest (default), all (ranks within each period) or a "
                                                           "period label")
    parser.add_argument("--weight-noise", default="uniform", choices=["uniform", "dirichlet", "sets", "none"],
                        help="how weights vary: uniform +-range (default), dirichlet, a choice among "
                             "--weight-sets, or none")
    parser.add_argument("--weight-range", type=float, default=0.25, help="uniform half-width (default 0.25 = +-25 %%)")
    parser.add_argument("--concentration", type=float, help="Dirichlet concentration (default matched to the range)")
    parser.add_argument("--weight-sets", help="comma-separated framework weight sets for --weight-noise sets")
    parser.add_argument("--normalisations", default="minmax,zscore,goalposts",
                        help="comma-separated methods drawn from, or 'none' (default minmax,zscore,goalposts; a "
                             "method needing targets leaves the list when the framework has none)")
    parser.add_argument("--aggregations", default="arithmetic,geometric",
                        help="comma-separated methods drawn from, or 'none' (default arithmetic,geometric)")
    parser.add_argument("--exclude", type=float, default=0.5,
                        help="probability that a draw drops one indicator (default 0.5; 0: off)")
    parser.add_argument("--no-noise", action="store_true", help="switch measurement noise off")
    parser.add_argument("--threads", type=int, default=2, help="worker threads (default 2)")
    parser.add_argument("--out", required=True, help="output folder: rank_intervals.csv, grade_probabilities.csv, "
                                                     "sensitivity.csv, draws_meta.json")


def _methods(text: str, name: str) -> list[str] | None:
    if text.strip().lower() == "none":
        return None
    items = [t.strip() for t in text.split(",") if t.strip()]
    if not items:
        raise ParameterError(f"--{name} must list methods separated by commas, or 'none'. Got {text!r}.")
    return items


def run(args: argparse.Namespace) -> int:
    from kpilab.outputs import prepare_output
    from kpilab.robustness import Uncertainty, robustness

    target = prepare_output(args.out, kind="dir", inputs=scoring_inputs(args))
    fw, weights = read_scoring_inputs(args)
    sets = [s.strip() for s in (args.weight_sets or "").split(",") if s.strip()]
    unc = Uncertainty(
        weights=None if args.weight_noise == "none" else args.weight_noise, weight_range=args.weight_range,
        concentration=args.concentration, weight_sets=sets,
        normalisations=_methods(args.normalisations, "normalisations"),
        aggregations=_methods(args.aggregations, "aggregations"), exclude=args.exclude, noise=not args.no_noise,
    )
    res = robustness(args.panel, fw, weights=weights, roles=args.agents, normalise=args.normalise,
                     aggregate=args.aggregate, uncertainty=unc, draws=args.draws, sobol=args.sobol,
                     sobol_output=args.sobol_output, seed=args.seed, period=args.period, threads=args.threads,
                     progress=False)
    write_outputs("robustness", args.out, target, {"rank_intervals.csv": res.ranks,
                                                   "grade_probabilities.csv": res.grades,
                                                   "sensitivity.csv": res.sensitivity},
                  res.provenance(), "draws_meta.json", res.summary())
    return 0
