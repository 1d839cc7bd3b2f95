r"""Optimised weights: weights whose *influence* matches a target (COINr ``get_opt_weights`` analogue).

Nominal weights are not influence: an indicator correlated with the others
drives the composite more than its weight says. With the direction-aware
min-max data :math:`x'` and composite :math:`y(w) = \sum_j w_j x'_j`, let
:math:`r_j(w) = \mathrm{corr}(x'_j, y(w))` and the influence shares
:math:`s_j = r_j / \sum_k r_k`. The weights solve

.. math::

    \min_{w \ge 0,\ \sum w = 1} \ \frac1n \sum_j \left(t_j - s_j(w)\right)^2

for target shares :math:`t` (equal by default), by SLSQP from several starts
(equal weights and the inverse of the equal-weight influence). ``optype="infomax"``
instead maximises :math:`\sum_j r_j` (COINr's second option). The achieved
influences are in ``diagnostics_['influence']``; when the target is out of
reach (e.g. an indicator uncorrelated with all others), the closest solution is
returned with a notice.

References
----------
.. [1] Becker, W., Saisana, M., Paruolo, P., Vandecasteele, I. (2017). Weights and importance in
   composite indicators: closing the gap. Ecological Indicators 80, 12-22.
.. [2] Becker, W. COINr: ``get_opt_weights`` (R/weights.R, v1.1.14).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, stats

from kpilab._validation import InstanceOf, Interval, Options
from kpilab.errors import ParameterError
from kpilab.weights._base import BaseWeights
from kpilab.weights._matrix import (
    NAN_POLICIES,
    minmax_aligned,
    varying_columns,
)

__all__ = ["OptimisedWeights", "influence_shares"]


def _corr(Z: np.ndarray, y: np.ndarray, cortype: str) -> np.ndarray:
    if cortype == "spearman":
        Z = np.apply_along_axis(stats.rankdata, 0, Z)
        y = stats.rankdata(y)
    Zc = Z - Z.mean(axis=0)
    yc = y - y.mean()
    den = np.sqrt((Zc**2).sum(axis=0) * (yc**2).sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, Zc.T @ yc / den, 0.0)


def influence_shares(Z: np.ndarray, w: np.ndarray, cortype: str = "pearson") -> tuple[np.ndarray, np.ndarray]:
    """Correlations ``r_j`` of each column with ``Z @ w`` and the shares ``r / sum(r)``."""
    r = _corr(Z, Z @ w, cortype)
    tot = r.sum()
    return r, (r / tot if tot != 0 else np.full_like(r, np.nan))


class OptimisedWeights(BaseWeights):
    """Weights chosen so every indicator's correlation share with the composite meets a target.

    Parameters
    ----------
    target : mapping or None
        ``{code: share}`` target influences (normalised to sum 1); None: equal influence.
    optype : {"balance", "infomax"}
    cortype : {"pearson", "spearman"}
    tol : float, default 1e-10
        Optimiser tolerance.
    nan_policy : {"drop_rows", "raise"}

    Attributes
    ----------
    weights_ : Series
    diagnostics_ : dict
        ``influence`` (achieved shares), ``correlation`` (r_j), ``target``, ``objective``, ``converged``.
    """

    method = "optimised"
    _parameter_constraints = {
        "target": InstanceOf((Mapping,), optional=True),
        "optype": Options("balance", "infomax"),
        "cortype": Options("pearson", "spearman"),
        "tol": Interval(0, None, closed="neither"),
        "nan_policy": Options(*NAN_POLICIES),
    }
    _min_rows = 3

    def __init__(
        self,
        target: Mapping[str, float] | None = None,
        optype: str = "balance",
        cortype: str = "pearson",
        tol: float = 1e-10,
        nan_policy: str = "drop_rows",
    ) -> None:
        self.target = target
        self.optype = optype
        self.cortype = cortype
        self.tol = tol
        self.nan_policy = nan_policy

    def _compute(self, X, directions, bands, y, notices):  # type: ignore[override]
        codes = varying_columns(X, "OptimisedWeights", notices, min_count=2)
        Z = minmax_aligned(X[codes], directions, bands).to_numpy(dtype=float)
        n = len(codes)
        if self.target is None:
            t = np.full(n, 1.0 / n)
        else:
            unknown = sorted(set(self.target) - set(X.columns))
            if unknown:
                raise ParameterError(f"OptimisedWeights: target names unknown indicator(s) {', '.join(unknown)}.")
            t = np.array([float(self.target.get(c, 0.0)) for c in codes])
            if (t < 0).any() or t.sum() <= 0:
                raise ParameterError("OptimisedWeights: target shares must be >= 0 and not all zero.")
            t = t / t.sum()

        def obj(w: np.ndarray) -> float:
            r, s = influence_shares(Z, w, self.cortype)
            if self.optype == "infomax":
                return -float(r.sum())
            return float(np.mean((t - s) ** 2)) if np.isfinite(s).all() else 1e6

        cons = [{"type": "eq", "fun": lambda w: w.sum() - 1.0}]
        bounds = [(0.0, 1.0)] * n
        starts = [np.full(n, 1.0 / n)]
        _, s0 = influence_shares(Z, starts[0], self.cortype)
        if np.isfinite(s0).all() and (s0 > 0).all():
            inv = t / s0
            starts.append(inv / inv.sum())
        best = None
        for w0 in starts:
            res = optimize.minimize(obj, w0, method="SLSQP", bounds=bounds, constraints=cons,
                                    options={"ftol": self.tol, "maxiter": 1000})
            if best is None or res.fun < best.fun:
                best = res
        w = np.clip(best.x, 0.0, None)
        w = w / w.sum()
        r, s = influence_shares(Z, w, self.cortype)
        gap = float(np.max(np.abs(s - t)))
        if self.optype == "balance" and gap > 0.02:
            notices.append(
                f"OptimisedWeights: target influences not reached exactly (largest gap {gap:.3f} in share); "
                "returned the closest weights."
            )
        diag: dict[str, Any] = {
            "influence": dict(zip(codes, s.tolist(), strict=True)),
            "correlation": dict(zip(codes, r.tolist(), strict=True)),
            "target": dict(zip(codes, t.tolist(), strict=True)),
            "objective": float(best.fun),
            "converged": bool(best.success),
            "max_gap": gap,
        }
        return pd.Series(w, index=codes), diag, {}, None
