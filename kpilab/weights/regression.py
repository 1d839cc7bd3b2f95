r"""Regression weights: how much each indicator explains of an outcome.

Each indicator is direction-aligned (higher is better) and standardised
(z-score, ddof 1), the outcome too; then

.. math:: z_y = \sum_j \beta_j z_{x_j} + \varepsilon

is fitted by

* ``estimator="ridge"`` (default): :math:`\hat\beta = (Z^\top Z + \lambda n I)^{-1} Z^\top z_y`,
  with :math:`\lambda` chosen by K-fold cross-validation over units
  (``ridge_alpha="cv"``, default; or a fixed number);
* ``estimator="ols"``: statsmodels OLS with heteroskedasticity-robust (HC3)
  standard errors; p-values from them;
* ``estimator="nnls"``: non-negative least squares (scipy ``nnls``), which never
  gives a negative coefficient.

Why ridge with a cross-validated penalty is the default
---------------------------------------------------------
Contact-centre KPI sets are collinear by construction (cost per contact is
handle time times a rate; CSAT and its top-2 share; FCR from two sources): on
the simulated demo centre the largest VIF is about 19,000. OLS then splits
the explained variance between near-copies arbitrarily (aht 59.7 % of the
weight with OLS, 1.6 % with a small ridge penalty, on the same data) and its
weights are not reproducible. NNLS never gives a negative weight but, faced
with near-copies, also puts all the weight on one of them (a corner solution)
and which one is an accident of the sample. Ridge shrinks near-copies towards
sharing their weight (the grouping effect, Hoerl and Kennard 1970; Zou and
Hastie 2005), and choosing :math:`\lambda` by cross-validation lets the data
set how much shrinkage the collinearity needs instead of a fixed guess. The
folds hold out whole units, so agent-month rows of one agent never sit on
both sides of a fold. The CLI (``kpilab weights --method regression``) and
notebook 03 use this same default, and the result says which estimator and
penalty were used.

Policy, applied in this order and recorded in the result:

* ``insignificant``: ``"keep"`` (default) or ``"zero"``: a coefficient with
  p-value > ``1 - confidence`` (OLS) or whose bootstrap percentile interval at
  level ``confidence`` covers 0 (ridge, nnls) is set to 0;
* ``negative``: ``"zero"`` (default: an indicator that works against the
  outcome gets no weight), ``"keep_abs"`` (use :math:`|\beta_j|`) or
  ``"error"`` (raise, naming the indicators);

then :math:`w_j = \beta^+_j / \sum_k \beta^+_k`. Bootstrap intervals resample
units (all rows of a unit together when the rows carry a ``unit_id`` index
level, otherwise rows), refit and re-apply the policy; ``ci_low``/``ci_high``
are percentile intervals at level ``confidence``. R-squared is that of the
fitted model on the standardised data.

References
----------
.. [1] Saisana, M., Tarantola, S. (2002). State-of-the-art report on current methodologies and
   practices for composite indicator development. EUR 20408 EN, JRC (multiple linear regression weights).
.. [2] MacKinnon, J. G., White, H. (1985). Some heteroskedasticity-consistent covariance matrix
   estimators with improved finite sample properties. Journal of Econometrics 29, 305-325 (HC3).
.. [3] Hoerl, A. E., Kennard, R. W. (1970). Ridge regression. Technometrics 12, 55-67.
.. [4] Lawson, C. L., Hanson, R. J. (1974). Solving Least Squares Problems. Prentice-Hall (NNLS).
.. [5] Hastie, T., Tibshirani, R., Friedman, J. (2009). The Elements of Statistical Learning, 2nd ed.,
   sec. 3.4.1 (ridge via the SVD) and 7.10 (K-fold cross-validation).
.. [6] Zou, H., Hastie, T. (2005). Regularization and variable selection via the elastic net. JRSS-B 67,
   301-320 (grouping effect of the L2 penalty).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy.optimize import nnls

from kpilab._validation import Interval, Options
from kpilab.errors import DataError
from kpilab.weights._base import BaseWeights
from kpilab.weights._matrix import NAN_POLICIES, aligned, varying_columns

__all__ = ["RegressionWeights", "regression_weights", "ridge_cv", "RIDGE_GRID"]


def _standardise(A: np.ndarray) -> np.ndarray:
    sd = A.std(axis=0, ddof=1)
    sd = np.where(sd == 0, 1.0, sd)
    return (A - A.mean(axis=0)) / sd


class RegressionWeights(BaseWeights):
    """Weights from a regression of the outcome on the standardised, direction-aligned indicators.

    Parameters
    ----------
    estimator : {"ridge", "ols", "nnls"}, default "ridge"
        See the module notes for why ridge is the default.
    ridge_alpha : float or "cv", default "cv"
        Ridge penalty :math:`\\lambda` (per row, on standardised data), or ``"cv"``: the value of
        :data:`RIDGE_GRID` with the smallest mean squared error in ``cv_folds``-fold
        cross-validation whose folds hold out whole units.
    cv_folds : int, default 5
        Folds for ``ridge_alpha="cv"`` (fewer when there are fewer units).
    negative : {"zero", "keep_abs", "error"}, default "zero"
    insignificant : {"keep", "zero"}, default "keep"
    confidence : float, default 0.95
        Interval level; a coefficient is "insignificant" at level ``1 - confidence``.
    cov_type : str, default "HC3"
        statsmodels covariance type for OLS p-values ("HC3", "HC1", "nonrobust").
    n_boot : int, default 200
        Bootstrap replicates for the weight intervals (0: no intervals).
    random_state : int or None, default 0
    nan_policy : {"drop_rows", "raise"}

    Attributes
    ----------
    weights_ : Series
    diagnostics_ : dict
        ``r_squared``, ``adj_r_squared``, ``n``, ``estimator``, ``ridge_alpha`` and
        ``ridge_alpha_from`` (ridge), ``max_vif``, ``condition_number``.
    result_.tables["coefficients"] : DataFrame
        ``indicator, coef, std_err, p_value, vif, policy`` (``policy``: kept / negative_zeroed /
        negative_abs / insignificant_zeroed).
    result_.intervals : DataFrame
        ``indicator, ci_low, ci_high`` (bootstrap, weights scale).

    Use ``fit(X, directions, y=outcome)``.
    """

    method = "regression"
    _parameter_constraints = {
        "estimator": Options("ridge", "ols", "nnls"),
        "ridge_alpha": (Interval(0, None, closed="neither"), Options("cv")),
        "cv_folds": Interval(2, None, integer=True),
        "negative": Options("zero", "keep_abs", "error"),
        "insignificant": Options("keep", "zero"),
        "confidence": Interval(0, 1, closed="neither"),
        "cov_type": Options("HC3", "HC2", "HC1", "HC0", "nonrobust"),
        "n_boot": Interval(0, None, integer=True),
        "random_state": (Interval(0, None, integer=True), None),
        "nan_policy": Options(*NAN_POLICIES),
    }
    _min_rows = 3

    def __init__(
        self,
        estimator: str = "ridge",
        ridge_alpha: float | str = "cv",
        cv_folds: int = 5,
        negative: str = "zero",
        insignificant: str = "keep",
        confidence: float = 0.95,
        cov_type: str = "HC3",
        n_boot: int = 200,
        random_state: int | None = 0,
        nan_policy: str = "drop_rows",
    ) -> None:
        self.estimator = estimator
        self.ridge_alpha = ridge_alpha
        self.cv_folds = cv_folds
        self.negative = negative
        self.insignificant = insignificant
        self.confidence = confidence
        self.cov_type = cov_type
        self.n_boot = n_boot
        self.random_state = random_state
        self.nan_policy = nan_policy

    # ------------------------------------------------------------ estimation
    def _coef(self, Z: np.ndarray, zy: np.ndarray, lam: float = 0.1) -> np.ndarray:
        if self.estimator == "ols":
            G = Z.T @ Z
            if np.linalg.cond(G) < 1e8:  # normal equations: fast and accurate when well conditioned
                return np.linalg.solve(G, Z.T @ zy)
            return np.linalg.lstsq(Z, zy, rcond=None)[0]
        if self.estimator == "ridge":
            n, p = Z.shape
            return np.linalg.solve(Z.T @ Z + lam * n * np.eye(p), Z.T @ zy)
        return nnls(Z, zy)[0]

    def _policy(self, beta: np.ndarray, insignificant: np.ndarray, codes: list[str]) -> tuple[np.ndarray, list[str]]:
        b = beta.copy()
        tags = ["kept"] * len(b)
        if self.insignificant == "zero":
            for j in np.flatnonzero(insignificant):
                b[j] = 0.0
                tags[j] = "insignificant_zeroed"
        neg = np.flatnonzero(b < 0)
        if len(neg):
            if self.negative == "error":
                names = ", ".join(f"{codes[j]} ({beta[j]:+.3f})" for j in neg)
                raise DataError(
                    f"RegressionWeights: negative coefficient(s) for {names} after aligning directions; "
                    "these indicators work against the outcome. Check their direction, drop them, or use "
                    "negative='zero' or 'keep_abs'."
                )
            for j in neg:
                if self.negative == "zero":
                    b[j] = 0.0
                    tags[j] = "negative_zeroed"
                else:
                    b[j] = -b[j]
                    tags[j] = "negative_abs"
        return b, tags

    def _compute(self, X, directions, bands, y, notices):  # type: ignore[override]
        if y is None:
            raise DataError("RegressionWeights needs an outcome: fit(X, directions, y=outcome).")
        if np.ptp(y.to_numpy()) == 0:
            raise DataError("RegressionWeights: the outcome is constant over the rows; nothing to explain.")
        codes = varying_columns(X, "RegressionWeights", notices)
        const = [c for c in X.columns if c not in codes]
        if len(X) <= len(codes) + 1:
            raise DataError(
                f"RegressionWeights: {len(X)} rows for {len(codes)} indicators; OLS needs more rows than "
                "indicators + 1. Use fewer indicators or more units/periods."
            )
        A = aligned(X[codes], directions, bands).to_numpy(dtype=float)
        Z = _standardise(A)
        zy = _standardise(y.to_numpy(dtype=float)[:, None])[:, 0]
        groups = _groups(X.index)
        lam, lam_from, cv_table = 0.0, "", None
        if self.estimator == "ridge":
            if self.ridge_alpha == "cv":
                lam, cv_table, k = ridge_cv(A, y.to_numpy(dtype=float), groups, folds=self.cv_folds,
                                            random_state=self.random_state)
                lam_from = f"{k}-fold cross-validation over units"
                if lam in (RIDGE_GRID[0], RIDGE_GRID[-1]):
                    notices.append(f"RegressionWeights: the cross-validated ridge penalty ({lam:.3g}) is at the edge "
                                   "of the grid searched; the weights may need a wider grid.")
            else:
                lam, lam_from = float(self.ridge_alpha), "given"
        n, p = Z.shape
        corr = np.corrcoef(Z, rowvar=False) if p > 1 else np.ones((1, 1))
        try:
            vif = np.diag(np.linalg.inv(corr)) if p > 1 else np.ones(1)
        except np.linalg.LinAlgError:
            vif = np.full(p, np.inf)
        cond = float(np.linalg.cond(Z))
        std_err = np.full(p, np.nan)
        pvals = np.full(p, np.nan)
        if self.estimator == "ols":
            fit = sm.OLS(zy, sm.add_constant(Z, has_constant="add")).fit(cov_type=self.cov_type)
            beta = np.asarray(fit.params[1:])
            std_err, pvals = np.asarray(fit.bse[1:]), np.asarray(fit.pvalues[1:])
            r2, adj = float(fit.rsquared), float(fit.rsquared_adj)
            if np.nanmax(vif) > 10:
                notices.append(
                    f"RegressionWeights: collinear indicators (max VIF {np.nanmax(vif):.1f} > 10, "
                    f"{codes[int(np.nanargmax(vif))]}); OLS coefficients are unstable, consider estimator='ridge' "
                    "or 'nnls'."
                )
        else:
            beta = self._coef(Z, zy, lam)
            resid = zy - Z @ beta
            r2 = float(1 - (resid**2).sum() / (zy**2).sum())
            adj = float(1 - (1 - r2) * (n - 1) / (n - p - 1))
        # bootstrap
        rng = np.random.default_rng(self.random_state)
        boot_w = np.full((self.n_boot, p), np.nan)
        boot_b = np.full((self.n_boot, p), np.nan)
        uniq, codes_g = np.unique(groups, return_inverse=True)
        order = np.argsort(codes_g, kind="stable")
        starts = np.searchsorted(codes_g[order], np.arange(len(uniq) + 1))
        for b in range(self.n_boot):
            if len(uniq) == n:  # one row per unit: plain row bootstrap
                idx = rng.integers(0, n, size=n)
            else:  # cluster bootstrap: whole units
                pick = rng.integers(0, len(uniq), size=len(uniq))
                idx = np.concatenate([order[starts[g]:starts[g + 1]] for g in pick])
            Zb, yb = _standardise(A[idx]), _standardise(y.to_numpy(dtype=float)[idx][:, None])[:, 0]
            try:
                bb = self._coef(Zb, yb, lam)
            except np.linalg.LinAlgError:
                continue
            boot_b[b] = bb
        alpha = 1 - self.confidence
        lo_q, hi_q = 100 * alpha / 2, 100 * (1 - alpha / 2)
        if self.estimator == "ols":
            insig = pvals > alpha
        elif self.n_boot > 0:
            lo_b, hi_b = np.nanpercentile(boot_b, [lo_q, hi_q], axis=0)
            insig = (lo_b <= 0) & (hi_b >= 0)
        else:
            insig = np.zeros(p, dtype=bool)
            if self.insignificant == "zero":
                notices.append("RegressionWeights: insignificant='zero' needs n_boot > 0 with ridge/nnls; kept all.")
        bpos, tags = self._policy(beta, insig, codes)
        if bpos.sum() <= 0:
            raise DataError(
                "RegressionWeights: no indicator has a positive (significant) coefficient on the outcome, so "
                "no weights follow. Check directions, or use insignificant='keep' / negative='keep_abs'."
            )
        w = bpos / bpos.sum()
        intervals = None
        if self.n_boot > 0:
            for b in range(self.n_boot):
                if np.isnan(boot_b[b]).any():
                    continue
                bb = boot_b[b].copy()
                bb[np.asarray(tags) == "insignificant_zeroed"] = 0.0
                bb = np.where(bb < 0, 0.0 if self.negative != "keep_abs" else -bb, bb)
                if bb.sum() > 0:
                    boot_w[b] = bb / bb.sum()
            lo, hi = np.nanpercentile(boot_w, [lo_q, hi_q], axis=0)
            intervals = pd.DataFrame({"indicator": codes, "ci_low": lo, "ci_high": hi})
            intervals = pd.concat(
                [intervals, pd.DataFrame({"indicator": const, "ci_low": 0.0, "ci_high": 0.0})], ignore_index=True
            ) if const else intervals
        coef = pd.DataFrame(
            {"indicator": codes, "coef": beta, "std_err": std_err, "p_value": pvals, "vif": vif, "policy": tags}
        )
        diag: dict[str, Any] = {
            "r_squared": r2,
            "adj_r_squared": adj,
            "n": n,
            "estimator": self.estimator,
            **({"ridge_alpha": lam, "ridge_alpha_from": lam_from} if self.estimator == "ridge" else {}),
            "max_vif": float(np.nanmax(vif)),
            "condition_number": cond,
            "bootstrap_units": int(len(uniq)),
        }
        tables = {"coefficients": coef}
        if cv_table is not None:
            tables["ridge_cv"] = cv_table
        return pd.Series(w, index=codes), diag, tables, intervals


#: Ridge penalties searched by ``ridge_alpha="cv"`` (per row, standardised data).
RIDGE_GRID = np.logspace(-4, 2, 25)


def ridge_cv(
    A: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray,
    *,
    folds: int = 5,
    grid: np.ndarray = RIDGE_GRID,
    random_state: int | None = 0,
) -> tuple[float, pd.DataFrame, int]:
    r"""Ridge penalty with the smallest K-fold cross-validated mean squared error, folds by unit.

    Units (``groups``) are dealt to ``K = min(folds, units)`` folds at random; for each fold the
    training rows are standardised on their own means and standard deviations, the test rows
    with the same, and for every penalty of ``grid`` at once (SVD :math:`Z = U S V^	op`)

    .. math:: \hateta_\lambda = V \operatorname{diag}\!\left(rac{s_j}{s_j^2 + \lambda n}
ight) U^	op z_y

    is scored on the held-out units. Returns the penalty with the lowest mean squared error
    over all held-out rows, the table ``alpha, cv_mse`` and ``K``.

    Raises
    ------
    DataError
        Fewer than 3 units.
    """
    uniq, codes = np.unique(groups, return_inverse=True)
    if len(uniq) < 3:
        raise DataError(f"RegressionWeights: ridge_alpha='cv' needs at least 3 units, got {len(uniq)}; give "
                        "ridge_alpha a number.")
    k = int(min(folds, len(uniq)))
    rng = np.random.default_rng(random_state)
    fold_of_unit = np.empty(len(uniq), dtype=int)
    fold_of_unit[rng.permutation(len(uniq))] = np.arange(len(uniq)) % k
    fold = fold_of_unit[codes]
    sse = np.zeros(len(grid))
    for f in range(k):
        tr, te = fold != f, fold == f
        mu, sd = A[tr].mean(axis=0), A[tr].std(axis=0, ddof=1)
        sd = np.where(sd > 0, sd, 1.0)
        ym, ys = y[tr].mean(), y[tr].std(ddof=1) or 1.0
        Ztr, Zte = (A[tr] - mu) / sd, (A[te] - mu) / sd
        ztr, zte = (y[tr] - ym) / ys, (y[te] - ym) / ys
        U, sv, Vt = np.linalg.svd(Ztr, full_matrices=False)
        uty = U.T @ ztr
        n_tr = int(tr.sum())
        shrink = sv[None, :] / (sv[None, :] ** 2 + grid[:, None] * n_tr)  # (alphas, p)
        betas = (shrink * uty[None, :]) @ Vt  # (alphas, p)
        resid = zte[None, :] - betas @ Zte.T
        sse += (resid**2).sum(axis=1)
    mse = sse / len(y)
    best = float(grid[int(np.argmin(mse))])
    return best, pd.DataFrame({"alpha": grid, "cv_mse": mse}), k


def _groups(index: pd.Index) -> np.ndarray:
    if isinstance(index, pd.MultiIndex) and "unit_id" in index.names:
        return np.asarray(index.get_level_values("unit_id").astype(str))
    if index.name == "unit_id" or index.is_unique:  # the row labels identify the units (order-free)
        return np.asarray(index.astype(str))
    return np.arange(len(index))


def regression_weights(
    X: pd.DataFrame, y: pd.Series | np.ndarray, directions: dict[str, str] | None = None, **params: Any
) -> pd.Series:
    """Regression weights (see :class:`RegressionWeights`)."""
    return RegressionWeights(**params).fit(X, directions, y=y).weights_
