r"""Objective (data-driven) weights: equal, entropy, CRITIC, standard deviation, variance.

All methods except ``normalisation="sum"`` entropy start from the
direction-aware min-max normalisation of each indicator :math:`j` over the
:math:`m` rows:

.. math::

    x'_{ij} = \frac{x_{ij} - \min_i x_{ij}}{\max_i x_{ij} - \min_i x_{ij}} \ (\text{higher is better}),
    \qquad
    x'_{ij} = \frac{\max_i x_{ij} - x_{ij}}{\max_i x_{ij} - \min_i x_{ij}} \ (\text{lower is better}),

so they are invariant to any positive affine rescaling of an indicator.
A ``band`` indicator is first replaced by minus its distance to the band.
An indicator that is constant over the rows carries no information: it gets
weight 0 and a :class:`~kpilab.weights.WeightWarning`.

Known defects of other libraries this module avoids (see
``shared/domain/composite-indicators.md``): pymcdm's entropy ignores the
direction and (<= 1.3.1) gives *any* column with a zero entropy 0 (maximal
weight), so min-max data always yields equal weights; pyDecision takes
``abs()`` of the data; scikit-criteria returns NaN on negative values. Here
:math:`0 \ln 0 = 0` is applied term by term (``scipy.special.xlogy``),
negative data under ``normalisation="sum"`` raise, and the direction is applied
before normalising.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import xlogy

from kpilab._validation import Options
from kpilab.errors import DataError, InsufficientDataError
from kpilab.weights._base import BaseWeights
from kpilab.weights._matrix import (
    NAN_POLICIES,
    minmax_aligned,
    varying_columns,
)

__all__ = [
    "EqualWeights",
    "EntropyWeights",
    "CRITICWeights",
    "StdWeights",
    "VarianceWeights",
    "equal_weights",
    "entropy_weights",
    "critic_weights",
    "std_weights",
    "variance_weights",
]

_Out = tuple[pd.Series, dict[str, Any], dict[str, pd.DataFrame], None]


def _informative(X: pd.DataFrame, caller: str, notices: list[str]) -> list[str]:
    keep = varying_columns(X, caller, notices)
    return keep


class EqualWeights(BaseWeights):
    r"""Equal weights over the :math:`n` indicators (columns) of ``X``.

    .. math:: w_j = \frac{1}{n}

    The data values are not used (a matrix with a single row is fine); the
    columns define the indicators.

    References
    ----------
    .. [1] OECD/JRC (2008). Handbook on Constructing Composite Indicators, step 6.
    """

    method = "equal"
    _parameter_constraints = {"nan_policy": Options(*NAN_POLICIES)}
    _min_rows = 0
    _uses_values = False

    def __init__(self, nan_policy: str = "drop_rows") -> None:
        self.nan_policy = nan_policy

    def _compute(self, X, directions, bands, y, notices) -> _Out:  # type: ignore[override]
        return pd.Series(1.0 / X.shape[1], index=X.columns), {}, {}, None


class EntropyWeights(BaseWeights):
    r"""Shannon entropy weights.

    .. math::

        p_{ij} = \frac{x'_{ij}}{\sum_i x'_{ij}}, \quad
        E_j = -\frac{1}{\ln m} \sum_i p_{ij} \ln p_{ij} \ (0 \ln 0 = 0), \quad
        d_j = 1 - E_j, \quad w_j = \frac{d_j}{\sum_k d_k}

    Parameters
    ----------
    normalisation : {"minmax", "sum"}, default "minmax"
        ``minmax``: :math:`x'` is the direction-aware min-max value (default).
        ``sum``: :math:`p_{ij} = x_{ij} / \sum_i x_{ij}` on the raw values, which
        must be >= 0 (the pymcdm convention; directions are not used because the
        entropy of :math:`x/\sum x` does not depend on which end is better).
        Zeros are allowed and contribute :math:`0 \ln 0 = 0`.
    nan_policy : {"drop_rows", "raise"}

    Attributes
    ----------
    weights_ : Series
    diagnostics_ : dict
        ``entropy`` and ``divergence`` (:math:`E_j`, :math:`d_j`) per indicator.

    References
    ----------
    .. [1] Shannon, C. E. (1948). A mathematical theory of communication. Bell System
       Technical Journal 27, 379-423.
    .. [2] Zeleny, M. (1982). Multiple Criteria Decision Making. McGraw-Hill (entropy weights).
    .. [3] Kizielewicz, B., Shekhovtsov, A., Salabun, W. (2023). pymcdm. SoftwareX 22, 101368.
    """

    method = "entropy"
    _parameter_constraints = {"normalisation": Options("minmax", "sum"), "nan_policy": Options(*NAN_POLICIES)}

    def __init__(self, normalisation: str = "minmax", nan_policy: str = "drop_rows") -> None:
        self.normalisation = normalisation
        self.nan_policy = nan_policy

    def _compute(self, X, directions, bands, y, notices) -> _Out:  # type: ignore[override]
        caller = "EntropyWeights"
        m = len(X)
        if self.normalisation == "sum":
            neg = X.columns[(X < 0).any()].tolist()
            if neg:
                rows = X.index[(X[neg[0]] < 0).to_numpy()]
                raise DataError(
                    f"{caller}(normalisation='sum'): indicator(s) {', '.join(neg)} have negative values "
                    f"(e.g. {neg[0]!r} in {len(rows)} rows); p = x / sum(x) needs x >= 0. "
                    "Use normalisation='minmax'."
                )
            keep = _informative(X, caller, notices)
            Z = X[keep]
            flipped = [c for c in keep if directions.get(c) != "higher"]
            if flipped:
                notices.append(
                    f"{caller}(normalisation='sum') uses raw values: the direction of {', '.join(flipped)} "
                    "does not change entropy weights."
                )
        else:
            keep = _informative(X, caller, notices)
            Z = minmax_aligned(X[keep], directions, bands)
        A = Z.to_numpy(dtype=float)
        P = A / A.sum(axis=0)
        E = -xlogy(P, P).sum(axis=0) / np.log(m)
        d = 1.0 - E
        d = np.where(np.abs(d) < 1e-15, 0.0, d)
        if d.sum() <= 0:
            raise DataError(f"{caller}: every indicator has maximal entropy (evenly spread values); weights are undefined.")
        w = pd.Series(d / d.sum(), index=keep)
        diag = {
            "entropy": pd.Series(E, index=keep).reindex(X.columns).to_dict(),
            "divergence": pd.Series(d, index=keep).reindex(X.columns).fillna(0.0).to_dict(),
        }
        return w, diag, {}, None


class CRITICWeights(BaseWeights):
    r"""CRITIC weights (CRiteria Importance Through Intercriteria Correlation).

    .. math::

        C_j = \sigma_j \sum_{k} (1 - r_{jk}), \qquad w_j = \frac{C_j}{\sum_k C_k}

    with :math:`\sigma_j` the sample standard deviation (ddof 1) of the
    direction-aware min-max values :math:`x'_{\cdot j}` and :math:`r_{jk}` their
    Pearson correlation. Constant indicators are removed before the correlations
    (weight 0). With a single informative indicator it gets weight 1.

    References
    ----------
    .. [1] Diakoulaki, D., Mavrotas, G., Papayannakis, L. (1995). Determining objective
       weights in multiple criteria problems: the CRITIC method. Computers & Operations
       Research 22(7), 763-770.
    """

    method = "critic"
    _parameter_constraints = {"nan_policy": Options(*NAN_POLICIES)}
    _min_rows = 3

    def __init__(self, nan_policy: str = "drop_rows") -> None:
        self.nan_policy = nan_policy

    def _compute(self, X, directions, bands, y, notices) -> _Out:  # type: ignore[override]
        caller = "CRITICWeights"
        keep = _informative(X, caller, notices)
        if len(keep) == 1:
            notices.append(f"{caller}: only {keep[0]!r} varies; it gets weight 1.")
            return pd.Series(1.0, index=keep), {}, {}, None
        A = minmax_aligned(X[keep], directions, bands).to_numpy(dtype=float)
        sigma = A.std(axis=0, ddof=1)
        R = np.corrcoef(A, rowvar=False)
        C = sigma * (1.0 - R).sum(axis=1)
        if C.sum() <= 0:
            raise DataError(f"{caller}: the indicators {', '.join(keep)} are perfectly correlated; CRITIC is undefined.")
        w = pd.Series(C / C.sum(), index=keep)
        diag = {"sigma": dict(zip(keep, sigma.tolist(), strict=True)), "information": dict(zip(keep, C.tolist(), strict=True))}
        corr = pd.DataFrame(R, index=keep, columns=keep)
        return w, diag, {"correlation": corr}, None


class _SpreadWeights(BaseWeights):
    _parameter_constraints = {"nan_policy": Options(*NAN_POLICIES)}
    _power = 1

    def __init__(self, nan_policy: str = "drop_rows") -> None:
        self.nan_policy = nan_policy

    def _compute(self, X, directions, bands, y, notices) -> _Out:  # type: ignore[override]
        keep = _informative(X, type(self).__name__, notices)
        A = minmax_aligned(X[keep], directions, bands).to_numpy(dtype=float)
        s = A.std(axis=0, ddof=1) ** self._power
        return pd.Series(s / s.sum(), index=keep), {"spread": dict(zip(keep, s.tolist(), strict=True))}, {}, None


class StdWeights(_SpreadWeights):
    r"""Standard-deviation weights on min-max normalised data.

    .. math:: w_j = \sigma_j / \sum_k \sigma_k, \quad \sigma_j = \mathrm{sd}(x'_{\cdot j}), \ \text{ddof}=1

    Unlike pymcdm's ``standard_deviation_weights`` (raw data, scale-dependent)
    the data are min-max normalised first, so the weights are scale-free.

    References
    ----------
    .. [1] Wang, Y.-M., Luo, Y. (2010). Integration of correlations with standard deviations
       for determining attribute weights in multiple attribute decision making.
       Mathematical and Computer Modelling 51, 1-12.
    """

    method = "std"
    _power = 1


class VarianceWeights(_SpreadWeights):
    r"""Variance weights on min-max normalised data (as pymcdm's ``variance_weights``).

    .. math:: w_j = \sigma_j^2 / \sum_k \sigma_k^2, \quad \text{ddof}=1

    References
    ----------
    .. [1] Kizielewicz, B., Shekhovtsov, A., Salabun, W. (2023). pymcdm. SoftwareX 22, 101368.
    """

    method = "variance"
    _power = 2


# ------------------------------------------------------------ function forms
def equal_weights(indicators: Iterable[str] | pd.DataFrame) -> pd.Series:
    """Equal weights over ``indicators`` (codes, or the columns of a DataFrame)."""
    codes = list(indicators.columns) if isinstance(indicators, pd.DataFrame) else [str(c) for c in indicators]
    if not codes:
        raise InsufficientDataError("equal_weights: no indicators given.")
    s = pd.Series(1.0 / len(codes), index=pd.Index(codes, name="indicator"), name="weight")
    return s


def entropy_weights(X: pd.DataFrame | np.ndarray, directions: dict[str, str] | None = None, *,
                    normalisation: str = "minmax", nan_policy: str = "drop_rows") -> pd.Series:
    """Entropy weights (see :class:`EntropyWeights`)."""
    return EntropyWeights(normalisation=normalisation, nan_policy=nan_policy).fit(X, directions).weights_


def critic_weights(X: pd.DataFrame | np.ndarray, directions: dict[str, str] | None = None, *,
                   nan_policy: str = "drop_rows") -> pd.Series:
    """CRITIC weights (see :class:`CRITICWeights`)."""
    return CRITICWeights(nan_policy=nan_policy).fit(X, directions).weights_


def std_weights(X: pd.DataFrame | np.ndarray, directions: dict[str, str] | None = None, *,
                nan_policy: str = "drop_rows") -> pd.Series:
    """Standard-deviation weights (see :class:`StdWeights`)."""
    return StdWeights(nan_policy=nan_policy).fit(X, directions).weights_


def variance_weights(X: pd.DataFrame | np.ndarray, directions: dict[str, str] | None = None, *,
                     nan_policy: str = "drop_rows") -> pd.Series:
    """Variance weights (see :class:`VarianceWeights`)."""
    return VarianceWeights(nan_policy=nan_policy).fit(X, directions).weights_
