"""A churn-warning model: scikit-learn pipelines compared by cross-validation, calibrated, evaluated out of sample."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from kpilab.errors import DataError, InsufficientDataError, ParameterError, SchemaError

__all__ = ["fit_churn", "score_churn", "ChurnFitResult", "prepare_features", "MODELS"]

MODELS = ("logistic", "gradient_boosting")
_POSITIVE = {"yes", "true", "1", "churned", "churn", "y"}
_NEGATIVE = {"no", "false", "0", "active", "retained", "n"}
METRIC_COLUMNS = ["model", "roc_auc", "roc_auc_ci_low", "roc_auc_ci_high", "pr_auc", "brier", "base_rate",
                  "n", "n_positive", "selected"]
CALIBRATION_COLUMNS = ["model", "bin", "n", "mean_predicted", "observed_rate"]
LIFT_COLUMNS = ["model", "top_share", "n_flagged", "precision", "recall", "lift"]


def _target(y: pd.Series, name: str) -> pd.Series:
    if y.isna().any():
        raise DataError(f"churn: target column {name!r} has {int(y.isna().sum())} missing value(s); "
                        "drop or fill those rows first.")
    if pd.api.types.is_bool_dtype(y):
        yb = y.astype(int)
    else:
        txt = y.astype(str).str.strip().str.lower()
        yb = pd.Series(np.where(txt.isin(_POSITIVE), 1, np.where(txt.isin(_NEGATIVE), 0, -1)), index=y.index)
        if (yb < 0).any():
            raise DataError(f"churn: target column {name!r} must be yes/no, true/false or 1/0; got "
                            f"{sorted(txt[yb < 0].unique())[:3]}.")
    if yb.nunique() < 2:
        raise InsufficientDataError(f"churn: target column {name!r} has one class only "
                                    f"({int(yb.iloc[0])} for all {len(yb)} rows); a churn model needs churners "
                                    "and non-churners.")
    if min(yb.sum(), len(yb) - yb.sum()) < 10:
        raise InsufficientDataError(f"churn: target column {name!r} has {int(min(yb.sum(), len(yb) - yb.sum()))} "
                                    "row(s) in its smaller class; at least 10 are needed for cross-validation.")
    return yb.astype(int)


def prepare_features(df: pd.DataFrame, *, exclude: tuple[str, ...] = ()) -> pd.DataFrame:
    """Feature frame: numbers stored as text (blanks allowed) become floats; the rest stays categorical text.

    Parameters
    ----------
    df : pandas.DataFrame
        Feature columns only (no id, no target).
    exclude : tuple of str
        Columns to drop.

    Returns
    -------
    pandas.DataFrame
        Float columns for numbers (blank text -> NaN, imputed later by the
        median) and object columns for categories.
    """
    X = df.drop(columns=[c for c in exclude if c in df.columns]).copy()
    for c in X.columns:
        s = X[c]
        if pd.api.types.is_bool_dtype(s):
            X[c] = s.astype(float)
        elif pd.api.types.is_numeric_dtype(s):
            X[c] = s.astype(float)
        else:
            txt = s.astype("string").str.strip().replace("", pd.NA)
            num = pd.to_numeric(txt, errors="coerce")
            if txt.notna().any() and num[txt.notna()].notna().all():
                X[c] = num.astype(float)
            else:
                X[c] = txt.astype(object).where(txt.notna(), np.nan)
    return X


def _pipeline(kind: str, X: pd.DataFrame, seed: int):
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    num = [c for c in X.columns if pd.api.types.is_float_dtype(X[c])]
    cat = [c for c in X.columns if c not in num]
    pre = ColumnTransformer([
        ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), num),
        ("cat", make_pipeline(SimpleImputer(strategy="most_frequent"),
                              OneHotEncoder(handle_unknown="ignore", sparse_output=False)), cat),
    ])
    if kind == "logistic":
        clf = LogisticRegression(max_iter=2000, C=1.0)
    else:
        clf = HistGradientBoostingClassifier(max_iter=200, learning_rate=0.05, max_leaf_nodes=15,
                                             random_state=seed)
    return make_pipeline(pre, clf)


def _calibrated(kind: str, X: pd.DataFrame, seed: int, method: str):
    from sklearn.calibration import CalibratedClassifierCV

    return CalibratedClassifierCV(_pipeline(kind, X, seed), method=method, cv=3)


def _check_leaks(X: pd.DataFrame, y: pd.Series) -> None:
    n = len(X)
    for c in X.columns:
        s = X[c]
        if s.dtype == object and s.nunique() > 0.5 * n:
            raise DataError(f"churn: column {c!r} has {s.nunique()} distinct text values in {n} rows and looks "
                            "like an id; pass it as --id (or exclude it).")
        k = s.nunique(dropna=True)
        if 2 <= k <= min(20, n // 10):  # a category-like column: each value's rows all churn or all stay
            pure = y.groupby(s.astype(str)).agg(lambda v: v.nunique() == 1)
            if pure.all():
                raise DataError(f"churn: column {c!r} separates the target perfectly and looks derived from it "
                                "(leakage); exclude it.")


@dataclass(frozen=True)
class ChurnFitResult:
    """Result of :func:`fit_churn`.

    Attributes
    ----------
    metrics : pandas.DataFrame
        One row per model compared, columns ``model, roc_auc, roc_auc_ci_low,
        roc_auc_ci_high, pr_auc, brier, base_rate, n, n_positive, selected``,
        all out of fold (cross-validated, calibrated probabilities).
    calibration : pandas.DataFrame
        Columns ``model, bin, n, mean_predicted, observed_rate`` (deciles of
        predicted risk).
    lift : pandas.DataFrame
        Columns ``model, top_share, n_flagged, precision, recall, lift``
        for the customers with the highest predicted risk.
    predictions : pandas.DataFrame
        Columns ``id, target`` and one ``risk_<model>`` per model (out of fold).
    selected : str
        Model with the highest out-of-fold ROC AUC; refitted on all rows.
    model : object
        The fitted calibrated pipeline of ``selected``.
    features : list of str
        Columns used as features.
    options : dict
        ``target, id_column, exclude, cv, seed, calibration, n_boot``.
    """

    metrics: pd.DataFrame
    calibration: pd.DataFrame
    lift: pd.DataFrame
    predictions: pd.DataFrame
    selected: str
    model: object
    features: list
    options: dict = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """The model comparison (:attr:`metrics`)."""
        return self.metrics.copy()

    def summary(self) -> str:
        """One line per model for people."""
        o = self.options
        lines = [f"churn model for {o['target']!r}: {self.metrics['n'].iloc[0]} customers, "
                 f"{self.metrics['base_rate'].iloc[0]:.1%} churned, {o['cv']}-fold CV, "
                 f"{o['calibration']} calibration, seed {o['seed']}"]
        for _, r in self.metrics.iterrows():
            mark = " (selected)" if r["selected"] else ""
            lines.append(f"  {r['model']}: ROC AUC {r['roc_auc']:.3f} [{r['roc_auc_ci_low']:.3f}, "
                         f"{r['roc_auc_ci_high']:.3f}], PR AUC {r['pr_auc']:.3f}, Brier {r['brier']:.4f}{mark}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def save(self, out: str | Path) -> list[Path]:
        """Write ``metrics.csv``, ``calibration.csv``, ``lift.csv``, ``predictions.csv``, ``model.joblib``
        and ``model.json`` (metadata: features, options, selected model, library versions) into ``out``."""
        import joblib
        import sklearn

        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        paths = []
        for name, frame in (("metrics", self.metrics), ("calibration", self.calibration), ("lift", self.lift),
                            ("predictions", self.predictions)):
            p = out / f"{name}.csv"
            frame.to_csv(p, index=False)
            paths.append(p)
        p = out / "model.joblib"
        joblib.dump(self.model, p)
        paths.append(p)
        meta = {"selected": self.selected, "features": self.features, "options": self.options,
                "sklearn": sklearn.__version__,
                "metrics": json.loads(self.metrics.to_json(orient="records"))}
        p = out / "model.json"
        p.write_text(json.dumps(meta, indent=2, default=str) + "\n")
        paths.append(p)
        return paths


def fit_churn(data: pd.DataFrame, target: str, *, id_column: str | None = None, exclude: tuple[str, ...] = (),
              models: tuple[str, ...] = MODELS, cv: int = 5, seed: int = 0, calibration: str = "sigmoid",
              n_boot: int = 500, top_shares: tuple[float, ...] = (0.05, 0.1, 0.2)) -> ChurnFitResult:
    r"""Fit and evaluate churn-warning models by stratified cross-validation.

    Each model is a pipeline (median imputation and standard scaling of
    numbers, one-hot encoding of categories, then logistic regression or
    histogram gradient boosting) wrapped in ``CalibratedClassifierCV`` (3
    inner folds). Out-of-fold calibrated probabilities of ``cv`` outer folds
    give every metric; the model with the highest ROC AUC is refitted on all
    rows.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per customer: features, the target and optionally an id.
    target : str
        Churn column (yes/no, true/false or 1/0; positive = churned).
    id_column : str, optional
        Customer id column (kept out of the features).
    exclude : tuple of str
        Further columns kept out of the features (e.g. ``TotalCharges``,
        which is about tenure x monthly charges).
    models : tuple of str
        Among ``"logistic"``, ``"gradient_boosting"``.
    cv : int, default 5
        Outer folds (stratified, shuffled with ``seed``).
    seed : int, default 0
        Seed of folds, bootstrap and boosting: same seed, same result.
    calibration : {"sigmoid", "isotonic"}
        ``CalibratedClassifierCV`` method.
    n_boot : int, default 500
        Bootstrap resamples of the ROC AUC interval (percentile, 95 %).
    top_shares : tuple of float
        Shares of highest-risk customers for precision, recall and lift.

    Returns
    -------
    ChurnFitResult

    Raises
    ------
    SchemaError
        ``target`` or ``id_column`` not a column.
    InsufficientDataError
        The target has one class, or fewer than 10 rows in its smaller class.
    DataError
        Missing or unreadable target values, an id-like text column, or a
        feature that separates the target perfectly (leakage).
    ParameterError
        Unknown model, calibration method or ``cv < 2``.

    Notes
    -----
    With out-of-fold probabilities :math:`\hat p_i` and outcomes :math:`y_i`,
    the Brier score [1]_ is :math:`B = n^{-1}\sum_i (\hat p_i - y_i)^2`; ROC
    AUC is the probability that a random churner is ranked above a random
    non-churner; PR AUC is average precision. The calibration table bins
    customers into deciles of :math:`\hat p` and compares the mean prediction
    with the observed churn rate per bin, the grouping of the
    Hosmer-Lemeshow statistic [2]_. Lift at top share :math:`q` is the churn
    rate among the :math:`\lceil qn \rceil` highest risks divided by the base rate.

    References
    ----------
    .. [1] Brier, G. W. (1950). "Verification of forecasts expressed in terms
       of probability." *Monthly Weather Review* 78(1), 1-3.
    .. [2] Hosmer, D. W., and Lemeshow, S. (1980). "Goodness of fit tests for
       the multiple logistic regression model." *Communications in
       Statistics - Theory and Methods* 9(10), 1035-1057.
    """
    from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    bad = [m for m in models if m not in MODELS]
    if bad or not models:
        raise ParameterError(f"The 'models' parameter of fit_churn must be a non-empty subset of {MODELS}. "
                             f"Got {models!r} instead.")
    if calibration not in ("sigmoid", "isotonic"):
        raise ParameterError("The 'calibration' parameter of fit_churn must be 'sigmoid' or 'isotonic'. "
                             f"Got {calibration!r} instead.")
    if not isinstance(cv, int) or cv < 2:
        raise ParameterError(f"The 'cv' parameter of fit_churn must be an int >= 2. Got {cv!r} instead.")
    for col, what in ((target, "target"), (id_column, "id")):
        if col is not None and col not in data.columns:
            raise SchemaError(f"churn: {what} column {col!r} is not in the data (columns: "
                              f"{', '.join(map(str, data.columns[:10]))}{'...' if data.shape[1] > 10 else ''}).",
                              column=col)
    missing_ex = [c for c in exclude if c not in data.columns]
    if missing_ex:
        raise SchemaError(f"churn: excluded column(s) {', '.join(map(repr, missing_ex))} not in the data.")
    y = _target(data[target], target).reset_index(drop=True)
    drop = (target,) + ((id_column,) if id_column else ()) + tuple(exclude)
    X = prepare_features(data.reset_index(drop=True), exclude=drop)
    if X.shape[1] == 0:
        raise DataError("churn: no feature column left after removing the target, id and excluded columns.")
    _check_leaks(X, y)
    folds = StratifiedKFold(n_splits=cv, shuffle=True, random_state=seed)
    rng = np.random.default_rng(seed)
    n, yv = len(y), y.to_numpy()
    boot = [rng.integers(0, n, n) for _ in range(n_boot)]
    preds = pd.DataFrame({"id": data[id_column].to_numpy() if id_column else np.arange(n), "target": yv})
    mrows, crows, lrows = [], [], []
    for kind in models:
        p = cross_val_predict(_calibrated(kind, X, seed, calibration), X, yv, cv=folds, method="predict_proba")[:, 1]
        preds[f"risk_{kind}"] = p
        aucs = [roc_auc_score(yv[i], p[i]) for i in boot if 0 < yv[i].sum() < n]
        lo, hi = (np.percentile(aucs, [2.5, 97.5]) if aucs else (np.nan, np.nan))
        mrows.append({"model": kind, "roc_auc": roc_auc_score(yv, p), "roc_auc_ci_low": lo, "roc_auc_ci_high": hi,
                      "pr_auc": average_precision_score(yv, p), "brier": brier_score_loss(yv, p),
                      "base_rate": yv.mean(), "n": n, "n_positive": int(yv.sum())})
        bins = pd.qcut(pd.Series(p).rank(method="first"), 10, labels=False)
        for b, sub in pd.DataFrame({"p": p, "y": yv, "b": bins}).groupby("b"):
            crows.append({"model": kind, "bin": int(b) + 1, "n": len(sub), "mean_predicted": sub["p"].mean(),
                          "observed_rate": sub["y"].mean()})
        order = np.argsort(-p, kind="stable")
        for q in top_shares:
            k = int(np.ceil(q * n))
            hit = yv[order[:k]].sum()
            lrows.append({"model": kind, "top_share": q, "n_flagged": k, "precision": hit / k,
                          "recall": hit / yv.sum(), "lift": (hit / k) / yv.mean()})
    metrics = pd.DataFrame(mrows)
    best = str(metrics.loc[metrics["roc_auc"].idxmax(), "model"])
    metrics["selected"] = metrics["model"] == best
    final = _calibrated(best, X, seed, calibration).fit(X, yv)
    return ChurnFitResult(
        metrics=metrics[METRIC_COLUMNS], calibration=pd.DataFrame(crows, columns=CALIBRATION_COLUMNS),
        lift=pd.DataFrame(lrows, columns=LIFT_COLUMNS), predictions=preds, selected=best, model=final,
        features=list(X.columns),
        options={"target": target, "id_column": id_column, "exclude": list(exclude), "cv": cv, "seed": seed,
                 "calibration": calibration, "n_boot": n_boot, "models": list(models)})


def score_churn(model_dir: str | Path, data: pd.DataFrame) -> pd.DataFrame:
    """Apply a model saved by :meth:`ChurnFitResult.save` to new customers.

    Parameters
    ----------
    model_dir : path
        Folder with ``model.joblib`` and ``model.json``.
    data : pandas.DataFrame
        The model's feature columns (the target, if present, is ignored).

    Returns
    -------
    pandas.DataFrame
        Columns ``id`` (the fit's id column, else the row number) and
        ``churn_risk`` (calibrated probability of churn).

    Raises
    ------
    SchemaError
        The model folder is incomplete or feature columns are missing.
    """
    import joblib

    folder = Path(model_dir)
    meta_path, model_path = folder / "model.json", folder / "model.joblib"
    if not (meta_path.is_file() and model_path.is_file()):
        raise SchemaError(f"--model {folder}: needs model.json and model.joblib written by 'kpilab churn fit'.")
    meta = json.loads(meta_path.read_text())
    feats, id_col = meta["features"], meta["options"].get("id_column")
    missing = [c for c in feats if c not in data.columns]
    if missing:
        raise SchemaError(f"churn score: {len(missing)} feature column(s) of the model are missing "
                          f"({', '.join(map(repr, missing[:5]))}); give the columns the model was fitted on.")
    X = prepare_features(data.reset_index(drop=True)[feats])
    risk = joblib.load(model_path).predict_proba(X)[:, 1]
    ids = data[id_col].to_numpy() if id_col and id_col in data.columns else np.arange(len(data))
    return pd.DataFrame({"id": ids, "churn_risk": risk})
