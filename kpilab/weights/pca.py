r"""PCA / factor-analysis weights as the OECD/JRC Handbook (2008, step 6) describes them.

Steps, on the correlation matrix :math:`R` of the indicators (standardised data):

1. Principal components: eigenvalues :math:`\lambda_1 \ge \dots \ge \lambda_p` and loadings
   :math:`a_{jf} = v_{jf}\sqrt{\lambda_f}`.
2. Retain the leading factors with :math:`\lambda_f > 1` *and* a share
   :math:`\lambda_f / p > 10\%`; if their cumulative share is below 60 %, add
   the next factors until it is reached (recorded as a notice). At least one
   factor is kept; ``n_factors`` overrides the rule.
3. Varimax rotation of the retained loadings (Kaiser 1958; Kaiser row
   normalisation by default, as in R's ``varimax`` and SPSS): :math:`L = A T`.
4. Squared loadings scaled to unity within each factor:
   :math:`s_{jf} = L_{jf}^2 / V_f`, :math:`V_f = \sum_j L_{jf}^2` (the rotated
   factor's explained variance); factor share :math:`\pi_f = V_f / \sum_g V_g`.
5. Each indicator goes to the factor where its squared rotated loading is
   largest, :math:`f(j) = \arg\max_f L_{jf}^2`, and

   .. math:: w_j \propto s_{j f(j)} \, \pi_{f(j)}, \qquad \sum_j w_j = 1 .

   (Since :math:`s_{jf}\pi_f = L_{jf}^2 / \sum_g V_g`, this equals
   :math:`w_j \propto \max_f L_{jf}^2`.)

Squared loadings do not depend on the sign of an indicator, so directions do
not change PCA weights. COINr's ``get_PCA`` instead returns raw PC1 loadings
(signed, arbitrary sign); that is *not* the Handbook method.

References
----------
.. [1] Nardo, M., Saisana, M., Saltelli, A., Tarantola, S., Hoffman, A., Giovannini, E. (2008).
   Handbook on Constructing Composite Indicators: Methodology and User Guide. OECD/JRC, pp. 89-91.
.. [2] Kaiser, H. F. (1958). The varimax criterion for analytic rotation in factor analysis.
   Psychometrika 23, 187-200.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from kpilab._validation import Interval, Options
from kpilab.weights._base import BaseWeights
from kpilab.weights._matrix import NAN_POLICIES, varying_columns

__all__ = ["PCAWeights", "varimax", "pca_weights", "kmo", "bartlett_sphericity"]


def varimax(
    loadings: np.ndarray, *, normalize: bool = True, tol: float = 1e-14, max_iter: int = 5000
) -> tuple[np.ndarray, np.ndarray]:
    r"""Varimax rotation (Kaiser's criterion, SVD iteration as in R ``stats::varimax``).

    Maximises :math:`\sum_f \left[\frac1p \sum_j L_{jf}^4 - (\frac1p \sum_j L_{jf}^2)^2\right]`
    over orthogonal :math:`T`, :math:`L = A T`.

    Parameters
    ----------
    loadings : (p, k) array
    normalize : bool, default True
        Kaiser normalisation: rows scaled to unit length before rotating, then scaled back.

    Returns
    -------
    rotated : (p, k) array
    T : (k, k) rotation matrix
    """
    A = np.asarray(loadings, dtype=float)
    p, k = A.shape
    if k < 2:
        return A.copy(), np.eye(k)
    h = np.sqrt((A**2).sum(axis=1)) if normalize else np.ones(p)
    h = np.where(h == 0, 1.0, h)
    L = A / h[:, None]
    T = np.eye(k)
    d = 0.0
    for _ in range(max_iter):
        Z = L @ T
        B = L.T @ (Z**3 - Z @ np.diag((Z**2).sum(axis=0)) / p)
        u, s, vt = np.linalg.svd(B)
        T = u @ vt
        d_old, d = d, s.sum()
        if d_old != 0 and d < d_old * (1 + tol):
            break
    return (L @ T) * h[:, None], T


def kmo(R: np.ndarray) -> float:
    r"""Kaiser-Meyer-Olkin measure of sampling adequacy from a correlation matrix.

    .. math:: \mathrm{KMO} = \frac{\sum_{j \ne k} r_{jk}^2}{\sum_{j \ne k} r_{jk}^2 + \sum_{j \ne k} q_{jk}^2}

    with :math:`q_{jk}` the partial correlations (from :math:`R^{-1}`; pseudo-inverse when singular).
    """
    Ri = np.linalg.pinv(R)
    d = np.sqrt(np.abs(np.diag(Ri)))
    Q = -Ri / np.outer(d, d)
    off = ~np.eye(len(R), dtype=bool)
    r2, q2 = (R[off] ** 2).sum(), (Q[off] ** 2).sum()
    return float(r2 / (r2 + q2))


def bartlett_sphericity(R: np.ndarray, n: int) -> tuple[float, float]:
    r"""Bartlett's test that :math:`R` is the identity: :math:`\chi^2 = -(n - 1 - (2p+5)/6)\ln|R|`,
    df :math:`p(p-1)/2`. Returns (statistic, p-value)."""
    p = len(R)
    sign, logdet = np.linalg.slogdet(R)
    if sign <= 0:
        return float("inf"), 0.0
    chi2 = -(n - 1 - (2 * p + 5) / 6) * logdet
    return float(chi2), float(stats.chi2.sf(chi2, p * (p - 1) / 2))


class PCAWeights(BaseWeights):
    """Handbook PCA/FA weights (module docstring has the formula).

    Parameters
    ----------
    min_eigenvalue : float, default 1.0
    min_share : float, default 0.10
        Each retained factor explains more than this share of total variance.
    min_cumulative : float, default 0.60
        Retained factors together explain at least this share (factors are added until they do).
    n_factors : int or None
        Force the number of factors (overrides the three rules).
    rotation : {"varimax", "none"}
    kaiser_normalize : bool, default True
    nan_policy : {"drop_rows", "raise"}

    Attributes
    ----------
    weights_ : Series
    diagnostics_ : dict
        ``eigenvalues``, ``n_factors``, ``explained`` (cumulative share of the retained factors),
        ``kmo``, ``bartlett_p``.
    result_.tables["loadings"] : DataFrame
        ``indicator, factor, loading, scaled_squared, assigned`` (rotated).
    """

    method = "pca"
    _parameter_constraints = {
        "min_eigenvalue": Interval(0, None),
        "min_share": Interval(0, 1),
        "min_cumulative": Interval(0, 1),
        "n_factors": (Interval(1, None, integer=True), None),
        "rotation": Options("varimax", "none"),
        "kaiser_normalize": Options(True, False),
        "nan_policy": Options(*NAN_POLICIES),
    }
    _min_rows = 3

    def __init__(
        self,
        min_eigenvalue: float = 1.0,
        min_share: float = 0.10,
        min_cumulative: float = 0.60,
        n_factors: int | None = None,
        rotation: str = "varimax",
        kaiser_normalize: bool = True,
        nan_policy: str = "drop_rows",
    ) -> None:
        self.min_eigenvalue = min_eigenvalue
        self.min_share = min_share
        self.min_cumulative = min_cumulative
        self.n_factors = n_factors
        self.rotation = rotation
        self.kaiser_normalize = kaiser_normalize
        self.nan_policy = nan_policy

    def _compute(self, X, directions, bands, y, notices):  # type: ignore[override]
        keep = varying_columns(X, "PCAWeights", notices, min_count=2)
        A = X[keep].to_numpy(dtype=float)
        R = np.corrcoef(A, rowvar=False)
        p = len(keep)
        eigval, eigvec = np.linalg.eigh(R)
        order = np.argsort(eigval)[::-1]
        eigval, eigvec = eigval[order], eigvec[:, order]
        eigval = np.clip(eigval, 0.0, None)
        share = eigval / p
        if self.n_factors is not None:
            k = min(int(self.n_factors), p)
        else:
            ok = (eigval > self.min_eigenvalue) & (share > self.min_share)
            k = 0
            while k < p and ok[k]:
                k += 1
            k = max(k, 1)
            k0 = k
            while k < p and share[:k].sum() < self.min_cumulative:
                k += 1
            if k > k0:
                notices.append(
                    f"PCAWeights: {k0} factor(s) pass eigenvalue > {self.min_eigenvalue:g} and share > "
                    f"{self.min_share:.0%} but explain {share[:k0].sum():.0%}; added {k - k0} to reach "
                    f"{self.min_cumulative:.0%} (cumulative {share[:k].sum():.0%})."
                )
        loadings = eigvec[:, :k] * np.sqrt(eigval[:k])
        if self.rotation == "varimax" and k > 1:
            L, _ = varimax(loadings, normalize=self.kaiser_normalize)
        else:
            L = loadings
        # sign and order conventions: positive column sums, factors by explained variance
        L = L * np.where(L.sum(axis=0) < 0, -1.0, 1.0)
        V = (L**2).sum(axis=0)
        ordf = np.argsort(V)[::-1]
        L, V = L[:, ordf], V[ordf]
        S = L**2 / V
        pi = V / V.sum()
        assign = (L**2).argmax(axis=1)
        w = S[np.arange(p), assign] * pi[assign]
        weights = pd.Series(w / w.sum(), index=keep)
        names = [f"F{f + 1}" for f in range(k)]
        rows = []
        for j, code in enumerate(keep):
            for f in range(k):
                rows.append(
                    {"indicator": code, "factor": names[f], "loading": L[j, f], "scaled_squared": S[j, f],
                     "assigned": bool(assign[j] == f)}
                )
        stat, pval = bartlett_sphericity(R, len(X))
        diag: dict[str, Any] = {
            "n_factors": k,
            "eigenvalues": eigval.tolist(),
            "explained": float(share[:k].sum()),
            "factor_share": dict(zip(names, pi.tolist(), strict=True)),
            "kmo": kmo(R),
            "bartlett_chi2": stat,
            "bartlett_p": pval,
        }
        if diag["kmo"] < 0.5:
            notices.append(f"PCAWeights: KMO = {diag['kmo']:.2f} < 0.5; the data are poorly suited to factor analysis.")
        return weights, diag, {"loadings": pd.DataFrame(rows)}, None


def pca_weights(X: pd.DataFrame | np.ndarray, **params: Any) -> pd.Series:
    """Handbook PCA/FA weights (see :class:`PCAWeights`)."""
    return PCAWeights(**params).fit(X).weights_
