"""``kpilab weights --panel FILE --method NAME --out FILE``: calibrate one weight set."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from kpilab.errors import ParameterError
from kpilab.framework import load_framework, parse_direction_overrides
from kpilab.health.matrix import MIN_UNITS

NAME = "weights"
HELP = "Calibrate indicator weights (equal, a framework set, entropy, CRITIC, PCA, regression, AHP, ...)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--panel", help="long panel or wide table (.csv or .parquet); not needed for ahp or --set")
    parser.add_argument(
        "--method", required=True,
        help="equal, entropy, critic, std, variance, pca, regression, optimised, ahp, set, "
             "or the name of a framework weight set (e.g. front_line)",
    )
    parser.add_argument("--set", dest="set_name", help="framework weight set name (with --method set)")
    parser.add_argument("--outcome", help="outcome indicator code (regression), e.g. retention_rate")
    parser.add_argument("--pairwise", help="AHP pairwise comparison matrix (.csv or .yaml)")
    parser.add_argument("--framework", help="framework YAML (default: kpilab's contact-centre framework)")
    parser.add_argument("--direction", action="append", default=[], metavar="CODE=higher|lower",
                        help="add or override an indicator's direction (repeatable)")
    parser.add_argument("--unit-level", default=None,
                        help="unit level of the panel rows to use (default: the only level, or agent)")
    parser.add_argument("--min-units", type=int, default=MIN_UNITS,
                        help=f"fewest units data-driven weights are computed from (default {MIN_UNITS})")
    parser.add_argument("--nan-policy", choices=["drop_rows", "raise"], default="drop_rows",
                        help="rows with missing values: drop them (default) or stop")
    parser.add_argument("--normalisation", choices=["minmax", "sum"], default="minmax", help="entropy normalisation")
    parser.add_argument("--estimator", choices=["ridge", "ols", "nnls"], default="ridge",
                        help="regression estimator (default ridge: KPI sets are collinear, OLS weights are unstable)")
    parser.add_argument("--ridge-alpha", default="cv",
                        help="ridge penalty, or cv (default): chosen by cross-validation over units")
    parser.add_argument("--negative", choices=["zero", "keep_abs", "error"], default="zero",
                        help="regression: what to do with negative coefficients")
    parser.add_argument("--insignificant", choices=["keep", "zero"], default="keep",
                        help="regression: keep or zero coefficients with p > alpha")
    parser.add_argument("--n-boot", type=int, default=200, help="regression bootstrap resamples (0: none)")
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    parser.add_argument("--constraint", action="append", default=[], metavar="CODE>=0.1",
                        help="bound an indicator or pillar weight (repeatable), e.g. qa_score>=0.1, satisfaction<=60%%")
    parser.add_argument("--out", required=True, help="output CSV (or .parquet): indicator, weight, pillar, method, ...")


def run(args: argparse.Namespace) -> int:
    from kpilab.outputs import prepare_output
    from kpilab.panel import write_table
    from kpilab.weights import calibrate_weights, constrain_weights

    prepare_output(args.out, kind="file", inputs=[args.panel, args.pairwise, args.framework], companions=[".json"])
    fw = load_framework(args.framework)
    method = args.method
    if method == "set":
        if not args.set_name:
            raise ParameterError(f"--method set needs --set NAME (one of {', '.join(fw.weight_sets)}).")
        method = f"set:{args.set_name}"
    params: dict = {}
    key = method.lower()
    if key == "entropy":
        params["normalisation"] = args.normalisation
    elif key == "regression":
        params.update(estimator=args.estimator, negative=args.negative, insignificant=args.insignificant,
                      n_boot=args.n_boot, random_state=args.seed)
        if args.estimator == "ridge":
            params["ridge_alpha"] = _ridge_alpha(args.ridge_alpha)
    needs_data = key not in ("ahp",) and not key.startswith("set:") and key not in fw.weight_sets
    if needs_data and not args.panel:
        raise ParameterError(f"--method {args.method} needs --panel FILE.")
    kwargs = {} if key == "ahp" else {"nan_policy": args.nan_policy, "min_units": args.min_units}
    res = calibrate_weights(
        args.panel if args.panel else None,
        method,
        directions=parse_direction_overrides(args.direction),
        outcome=args.outcome,
        framework=fw,
        pairwise=args.pairwise,
        unit_level=args.unit_level,
        **kwargs,
        **params,
    )
    base = res
    if args.constraint:
        res = constrain_weights(res, args.constraint)
    out = write_table(res.to_frame(), Path(args.out))
    d = base.diagnostics
    print(f"kpilab weights: {res.method} weights for {len(res.weights)} indicators"
          + (f" from {res.n_rows} rows" if res.n_rows else ""))
    if "cr" in d:
        verdict = "consistent" if d["consistent"] else "INCONSISTENT (>= 0.1)"
        print(f"consistency ratio CR = {d['cr']:.3f} ({verdict}); lambda_max = {d['lambda_max']:.3f}")
    if "estimator" in d:
        how = (f", penalty {d['ridge_alpha']:.3g} ({d['ridge_alpha_from']})" if d["estimator"] == "ridge" else "")
        print(f"regression estimator: {d['estimator']}{how}")
    if "r_squared" in d:
        print(f"R-squared = {d['r_squared']:.3f} (adjusted {d['adj_r_squared']:.3f}, n = {d['n']})")
    if res is not base:
        print(f"constrained ({'; '.join(res.params['constraints'])}): moved the weights by "
              f"{res.diagnostics['distance']:.3f} (Euclidean distance)")
    for row in res.to_frame().sort_values("weight", ascending=False).itertuples():
        ci = "" if row.ci_low != row.ci_low else f"  [{row.ci_low:.3f}, {row.ci_high:.3f}]"
        print(f"  {row.indicator:<24s} {row.weight:6.3f}{ci}")
    for note in base.notices:
        print(f"note: {note}")
    print(f"wrote {out}")
    prov = out.with_suffix(".json")
    prov.write_text(json.dumps(res.provenance(), indent=2, default=str), encoding="utf-8")
    print(f"wrote {prov}")
    return 0


def _ridge_alpha(text: str) -> float | str:
    if text == "cv":
        return "cv"
    try:
        return float(text)
    except ValueError:
        raise ParameterError(f"--ridge-alpha must be a positive number or 'cv'. Got {text!r}.") from None
