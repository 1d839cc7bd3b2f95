"""``kpilab churn fit --data FILE --target COLUMN [--id COLUMN] --out DIR`` and
``kpilab churn score --model DIR --data FILE --out FILE``: a cross-validated churn-warning model."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "churn"
HELP = "Churn-warning model: fit and compare calibrated pipelines by cross-validation (churn fit), apply it (churn score)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="churn_action", metavar="ACTION", required=True)
    fit = sub.add_parser("fit", help="fit, compare (logistic, gradient boosting) and save a churn model",
                         description="Fit churn-warning models, evaluate them out of fold and save the best.")
    fit.add_argument("--data", required=True, help="customer CSV (one row per customer; features, target, id)")
    fit.add_argument("--target", required=True, help="churn column (yes/no, true/false or 1/0)")
    fit.add_argument("--id", dest="id_column", default=None, help="customer id column (not a feature)")
    fit.add_argument("--exclude", action="append", default=[], metavar="COLUMN",
                     help="column kept out of the features (repeatable), e.g. TotalCharges (~ tenure x charges)")
    fit.add_argument("--model", action="append", choices=["logistic", "gradient_boosting"], default=None,
                     help="model to compare (repeatable; default both)")
    fit.add_argument("--cv", type=int, default=5, help="cross-validation folds (default 5)")
    fit.add_argument("--calibration", choices=["sigmoid", "isotonic"], default="sigmoid",
                     help="probability calibration (default sigmoid)")
    fit.add_argument("--seed", type=int, default=0, help="seed of folds, bootstrap and boosting (default 0)")
    fit.add_argument("--out", required=True, help="output folder (metrics, calibration, lift, predictions, model)")
    score = sub.add_parser("score", help="apply a fitted churn model to customers (id, churn_risk)",
                           description="Write one row per customer with its id and calibrated churn_risk.")
    score.add_argument("--model", required=True, help="folder written by 'kpilab churn fit'")
    score.add_argument("--data", required=True, help="customer CSV with the model's feature columns")
    score.add_argument("--out", required=True, help="output CSV (id, churn_risk)")


def _read(path_arg: str):
    import pandas as pd

    from kpilab.errors import InputFileError

    path = Path(path_arg)
    if not path.is_file():
        raise InputFileError(f"--data {path}: no such file; give the customer CSV.")
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise InputFileError(f"--data {path}: cannot be read as CSV ({' '.join(str(exc).split())}).") from exc


def run(args: argparse.Namespace) -> int:
    if args.churn_action == "score":
        return _score(args)
    return _fit(args)


def _score(args: argparse.Namespace) -> int:
    from kpilab.customers.churn import score_churn
    from kpilab.outputs import prepare_output

    prepare_output(args.out, kind="file", inputs=[args.data, args.model])
    risk = score_churn(args.model, _read(args.data))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    risk.to_csv(out, index=False)
    print(f"kpilab churn score: {len(risk)} customers, mean churn_risk {risk['churn_risk'].mean():.3f}")
    print(f"wrote {out}")
    return 0


def _fit(args: argparse.Namespace) -> int:

    from kpilab.customers.churn import MODELS, fit_churn
    from kpilab.outputs import prepare_output

    prepare_output(args.out, kind="dir", inputs=[args.data])
    data = _read(args.data)
    res = fit_churn(data, args.target, id_column=args.id_column, exclude=tuple(args.exclude),
                    models=tuple(args.model or MODELS), cv=args.cv, seed=args.seed, calibration=args.calibration)
    paths = res.save(args.out)
    print(f"kpilab churn fit: {res.summary()}")
    for p in paths:
        print(f"wrote {p}")
    return 0
