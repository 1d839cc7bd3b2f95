"""Two-way (agent and period) fixed-effect designs as sparse matrices, shared by TWFE and imputation."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = ["fe_design", "FEProjector"]


def fe_design(ii: np.ndarray, tt: np.ndarray, units: np.ndarray, periods: np.ndarray) -> sp.csr_matrix:
    """Sparse dummies: one column per agent in ``units``, one per period in ``periods[1:]`` (first absorbed).

    Rows whose agent or period is not among the columns get no dummy for it.
    """
    ucol = np.full(int(max(ii.max(initial=0), units.max(initial=0))) + 1, -1)
    ucol[units] = np.arange(len(units))
    pcol = np.full(int(max(tt.max(initial=0), periods.max(initial=0))) + 1, -1)
    pcol[periods[1:]] = len(units) + np.arange(len(periods) - 1)
    rows = np.arange(len(ii))
    cu, cp = ucol[ii], pcol[tt]
    r = np.concatenate([rows[cu >= 0], rows[cp >= 0]])
    c = np.concatenate([cu[cu >= 0], cp[cp >= 0]])
    return sp.csr_matrix((np.ones(len(r)), (r, c)), shape=(len(ii), len(units) + len(periods) - 1))


class FEProjector:
    """Least squares on a fixed-effect design ``Z``: coefficients and residuals without dense dummies.

    The normal equations are small (agents + periods), so :math:`(Z^\\top Z)^{+}` is formed once
    (pseudo-inverse: a disconnected design keeps the minimum-norm solution).
    """

    def __init__(self, Z: sp.csr_matrix) -> None:
        self.Z = Z
        self.ztz_pinv = np.linalg.pinv((Z.T @ Z).toarray())

    def coef(self, v: np.ndarray) -> np.ndarray:
        """:math:`(Z^\\top Z)^{+} Z^\\top v`."""
        return self.ztz_pinv @ (self.Z.T @ v)

    def resid(self, v: np.ndarray) -> np.ndarray:
        """:math:`v - Z (Z^\\top Z)^{+} Z^\\top v`."""
        return v - self.Z @ self.coef(v)
