"""``kpilab churn``: the customer-value commands of issue 15.

``fit --data FILE --target COLUMN [--id COLUMN] --out DIR`` and ``score --model DIR --data FILE --out FILE``
(a cross-validated churn-warning model); ``rfm``, ``tiers`` and ``service-link`` (RFM classes, the
per-tier panel scored against each tier's targets, churn on the service received) over a data folder
and a customers table; ``accuracy`` (precision and recall of last quarter's warnings)."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "churn"
HELP = ("Customer value: churn-warning model (fit, score), its accuracy, RFM classes, value tiers with their own "
        "targets, and the service -> churn link.")


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

    def _customer_inputs(p: argparse.ArgumentParser) -> None:
        p.add_argument("--data", required=True, help="folder of canonical tables (contacts with customer_id)")
        p.add_argument("--customers", required=True,
                       help="customers table (CSV or Parquet with customer_id ...) or its column-mapping YAML")
        p.add_argument("--min-match", type=float, default=0.5,
                       help="smallest share of contacts whose customer must be known (default 0.5)")

    rfm = sub.add_parser("rfm", help="RFM scores, the 8 classes and named segments, with churn per class",
                         description="Recency and frequency of contacts, monetary value from the customers table.")
    _customer_inputs(rfm)
    rfm.add_argument("--bins", type=int, default=5, help="quantile classes per score (default 5)")
    rfm.add_argument("--out", required=True, help="output folder (rfm_customers.csv, rfm_classes.csv, rfm.png)")
    tiers = sub.add_parser("tiers", help="indicator panel per customer tier, scored against each tier's targets",
                           description="Needs a framework with customer_tiers (see "
                                       "data/framework_customer_tiers_example.yaml).")
    _customer_inputs(tiers)
    tiers.add_argument("--framework", required=True, help="framework YAML with customer_tiers")
    tiers.add_argument("--period", default="month", choices=["day", "week", "month", "quarter"])
    tiers.add_argument("--risk", default=None, help="CSV written by 'kpilab churn score' (id, churn_risk): "
                                                     "joined to the customers for churn_risk targets")
    tiers.add_argument("--out", required=True,
                       help="output folder (tier_panel.csv, tier_targets.csv, tier_sizes.csv, accounting.csv)")
    link = sub.add_parser("service-link", help="logistic model of churn on the service received (odds ratios)",
                          description="Odds ratios of churn for first-contact resolution, waits, CSAT and the "
                                      "number of contacts, errors clustered by the agent of the first contact.")
    _customer_inputs(link)
    link.add_argument("--covariate", action="append", default=None, metavar="NAME",
                      help="first_contact_resolved, mean_wait_min, mean_csat, n_contacts (repeatable; default: "
                           "those known for at least half the customers)")
    link.add_argument("--fcr-method", choices=["repeat_contact", "agent_flag"], default="repeat_contact")
    link.add_argument("--out", required=True, help="output folder (odds_ratios.csv, service_customers.csv, "
                                                   "accounting.csv, odds_ratios.png)")
    acc = sub.add_parser("accuracy", help="precision and recall of last quarter's warnings against churn",
                         description="Churn-warning accuracy, overall and per --by group, with Wilson intervals.")
    acc.add_argument("--warnings", required=True, help="CSV: customer_id and warned (yes/no) or churn_risk")
    acc.add_argument("--outcomes", required=True, help="CSV: customer_id, churned (this quarter)")
    acc.add_argument("--threshold", type=float, default=None, help="churn_risk at or above which a customer was warned")
    acc.add_argument("--by", default=None, help="group column of the warnings (manager, team, tier)")
    acc.add_argument("--out", required=True, help="output CSV")


def _read(path_arg: str, flag: str = "--data"):
    import pandas as pd

    from kpilab.errors import InputFileError

    path = Path(path_arg)
    if not path.is_file():
        raise InputFileError(f"{flag} {path}: no such file; give the customer CSV.")
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise InputFileError(f"{flag} {path}: cannot be read as CSV ({' '.join(str(exc).split())}).") from exc


def run(args: argparse.Namespace) -> int:
    return {"score": _score, "fit": _fit, "rfm": _rfm, "tiers": _tiers, "service-link": _service_link,
            "accuracy": _accuracy}[args.churn_action](args)


def _customers(path_arg: str):
    """The customers table from a CSV/Parquet file or a column-mapping YAML."""
    from kpilab.customers.table import load_customers

    return load_customers(path_arg)


def _data_dir(arg: str) -> Path:
    from kpilab.errors import InputFileError

    path = Path(arg)
    if not path.is_dir():
        raise InputFileError(f"--data {path}: not a folder; give the folder of canonical tables.")
    return path


def _write(out: Path, frames: dict) -> list[Path]:
    paths = []
    for name, frame in frames.items():
        p = out / f"{name}.csv"
        frame.to_csv(p, index=False)
        paths.append(p)
    return paths


def _rfm(args: argparse.Namespace) -> int:
    from kpilab.customers import rfm
    from kpilab.customers.plots import plot_rfm
    from kpilab.ingest import load_tables
    from kpilab.outputs import prepare_output
    from kpilab.plots import save_figure

    prepare_output(args.out, kind="dir", inputs=[args.data, args.customers], protect=[args.data])
    tables = load_tables(_data_dir(args.data))
    if "contacts" not in tables:
        from kpilab.errors import DataError

        raise DataError(f"--data {args.data}: no contacts table; RFM recency and frequency come from the contacts.")
    res = rfm(tables["contacts"], _customers(args.customers), n_bins=args.bins, min_match=args.min_match)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    paths = _write(out, {"rfm_customers": res.customers, "rfm_classes": res.to_frame()})
    paths.append(save_figure(plot_rfm(res), out / "rfm.png"))
    print(f"kpilab churn rfm: {res.summary()}")
    for p in paths:
        print(f"wrote {p}")
    return 0


def _tiers(args: argparse.Namespace) -> int:
    from kpilab.customers import score_tiers, tier_panel
    from kpilab.framework import load_framework
    from kpilab.outputs import prepare_output

    prepare_output(args.out, kind="dir", inputs=[args.data, args.customers, args.framework], protect=[args.data])
    fw = load_framework(args.framework)
    customers = _customers(args.customers)
    if args.risk:
        risk = _read(args.risk, "--risk")
        if not {"id", "churn_risk"} <= set(risk.columns):
            from kpilab.errors import SchemaError

            raise SchemaError(f"--risk {args.risk}: needs columns id and churn_risk (written by 'kpilab churn "
                              "score').", column="churn_risk")
        risk = risk.rename(columns={"id": "customer_id"})[["customer_id", "churn_risk"]]
        customers = customers.drop(columns=[c for c in ("churn_risk",) if c in customers.columns]).merge(
            risk.assign(churn_risk=risk["churn_risk"].astype(float)), on="customer_id", how="left")
    res = tier_panel(_data_dir(args.data), customers, fw, period=args.period, min_match=args.min_match)
    scores = score_tiers(res, fw)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    paths = _write(out, {"tier_panel": res.panel, "tier_targets": scores.targets, "tier_scores": scores.by_tier(),
                         "tier_sizes": res.sizes, "tier_assignment": res.assignment, "accounting": res.accounting})
    print(f"kpilab churn tiers: {res.summary()}\n{scores.summary()}")
    for p in paths:
        print(f"wrote {p}")
    return 0


def _service_link(args: argparse.Namespace) -> int:
    from kpilab.customers import customer_service, service_link
    from kpilab.customers.plots import plot_odds_ratios
    from kpilab.errors import DataError
    from kpilab.ingest import load_tables
    from kpilab.outputs import prepare_output
    from kpilab.plots import save_figure

    prepare_output(args.out, kind="dir", inputs=[args.data, args.customers], protect=[args.data])
    tables = load_tables(_data_dir(args.data))
    if "contacts" not in tables:
        raise DataError(f"--data {args.data}: no contacts table; the service measures come from the contacts.")
    service = customer_service(tables["contacts"], _customers(args.customers), tables.get("surveys"),
                               fcr_method=args.fcr_method, min_match=args.min_match)
    res = service_link(service, covariates=args.covariate)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    paths = _write(out, {"odds_ratios": res.table, "service_customers": service, "accounting": res.accounting})
    paths.append(save_figure(plot_odds_ratios(res.table), out / "odds_ratios.png"))
    print(f"kpilab churn service-link: {res.summary()}")
    for p in paths:
        print(f"wrote {p}")
    return 0


def _accuracy(args: argparse.Namespace) -> int:
    from kpilab.customers import warning_accuracy
    from kpilab.outputs import prepare_output

    prepare_output(args.out, kind="file", inputs=[args.warnings, args.outcomes])
    t = warning_accuracy(_read(args.warnings, "--warnings"), _read(args.outcomes, "--outcomes"),
                         threshold=args.threshold, by=args.by)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    t.to_csv(out, index=False)
    a = t.iloc[0]
    ex = ", ".join(f"{k} {v}" for k, v in t.attrs["excluded"].items() if v)
    print(f"kpilab churn accuracy ({t.attrs['basis']}): precision {a['precision']:.1%} of {a['n_warned']} warned, "
          f"recall {a['recall']:.1%} of {a['n_churned']} churned" + (f"; left out: {ex}" if ex else ""))
    print(f"wrote {out}")
    return 0


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
