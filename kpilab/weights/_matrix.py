"""Shared plumbing of the weighting methods: the data matrix, directions, min-max, fingerprints.

Every method receives a *data matrix*: rows are units (by default agent x
period rows of the panel), columns are indicator codes. This module validates
it once, applies the NaN policy, aligns directions and records the sha256
fingerprint of the matrix actually used, so a weight set can always be traced
back to its data.
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from kpilab.errors import DataError, FrameworkError, InsufficientDataError, ParameterError, format_ids
from kpilab.health.matrix import constant_columns

__all__ = [
    "WeightWarning",
    "NAN_POLICIES",
    "as_matrix",
    "check_directions",
    "aligned",
    "minmax_aligned",
    "fingerprint",
    "constant_columns",
]

NAN_POLICIES = ("drop_rows", "raise")
DIRECTIONS = ("higher", "lower", "band")


class WeightWarning(UserWarning):
    """A weighting method changed something the user should know about (e.g. a constant indicator)."""


def as_matrix(
    X: pd.DataFrame | np.ndarray,
    *,
    nan_policy: str = "drop_rows",
    min_rows: int = 2,
    caller: str = "weights",
    notices: list[str] | None = None,
) -> pd.DataFrame:
    """Validate a data matrix and apply the NaN policy.

    Parameters
    ----------
    X : DataFrame or 2-D array
        Rows are units, columns indicator codes (an array gets ``x0, x1, ...``).
    nan_policy : {"drop_rows", "raise"}
        ``drop_rows`` drops every row with a missing value (complete cases, as
        COINr's ``get_PCA``) and reports how many in ``notices``; ``raise``
        raises :class:`DataError` naming the indicator with most NaNs.
    min_rows : int
        Fewest complete rows the method needs.

    Raises
    ------
    DataError
        Non-numeric or infinite values, duplicated or missing column names, NaNs
        under ``raise``.
    InsufficientDataError
        Fewer than ``min_rows`` complete rows (names the indicator with most NaNs).
    """
    if nan_policy not in NAN_POLICIES:
        raise ParameterError(
            f"The 'nan_policy' parameter of {caller} must be one of {', '.join(map(repr, NAN_POLICIES))}. "
            f"Got {nan_policy!r} instead."
        )
    if isinstance(X, np.ndarray):
        if X.ndim != 2:
            raise DataError(f"{caller}: the data matrix must be 2-D (units x indicators), got shape {X.shape}.")
        X = pd.DataFrame(X, columns=[f"x{j}" for j in range(X.shape[1])])
    if not isinstance(X, pd.DataFrame):
        raise DataError(f"{caller}: the data matrix must be a DataFrame or 2-D array, got {type(X).__name__}.")
    if X.shape[1] == 0:
        raise DataError(f"{caller}: the data matrix has no indicator columns.")
    cols = [str(c) for c in X.columns]
    dup = sorted({c for c in cols if cols.count(c) > 1})
    if dup:
        raise DataError(f"{caller}: indicator column(s) {', '.join(dup)} appear more than once.")
    non_numeric = [str(c) for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
    if non_numeric:
        raise DataError(
            f"{caller}: indicator column(s) {', '.join(non_numeric)} are not numeric; "
            "pass only indicator values (unit ids belong in the index)."
        )
    X = X.astype(float)
    X.columns = cols
    inf = ~np.isfinite(X.to_numpy()) & X.notna().to_numpy()
    if inf.any():
        bad = [c for c, k in zip(cols, inf.any(axis=0), strict=True) if k]
        raise DataError(f"{caller}: indicator(s) {', '.join(bad)} hold infinite values; fix or drop them.")
    nan_counts = X.isna().sum()
    if nan_counts.any():
        worst = str(nan_counts.idxmax())
        worst = "the outcome" if worst == "__outcome__" else worst
        detail = f"{worst if worst == 'the outcome' else repr(worst)} has the most ({int(nan_counts.max())} of {len(X)} rows)"
        if nan_policy == "raise":
            rows = X.index[X.isna().any(axis=1)]
            raise DataError(
                f"{caller}: {len(rows)} row(s) have missing values (first: {format_ids(rows)}); indicator "
                f"{detail}. Drop or impute them, or use nan_policy='drop_rows'."
            )
        keep = X.notna().all(axis=1)
        n_drop = int((~keep).sum())
        X = X.loc[keep]
        if notices is not None:
            notices.append(
                f"Dropped {n_drop} row(s) with missing values (nan_policy='drop_rows'); indicator {detail}."
            )
        if len(X) < min_rows:
            raise InsufficientDataError(
                f"{caller}: only {len(X)} complete row(s) remain after dropping rows with missing values; "
                f"at least {min_rows} are needed. Indicator {detail}: exclude it or impute it."
            )
    if len(X) < min_rows:
        raise InsufficientDataError(
            f"{caller}: the data matrix has {len(X)} row(s); at least {min_rows} units are needed to weight "
            "indicators by their data."
        )
    return X


def check_directions(
    columns: list[str], directions: Mapping[str, str] | None, *, caller: str = "weights"
) -> dict[str, str]:
    """Direction per column; missing entries default to ``higher``. Unknown values and codes raise.

    Raises
    ------
    FrameworkError
        A direction other than higher/lower/band, or a direction for an indicator not in the matrix
        (named, with the known codes: a misspelt key would otherwise leave its indicator ``higher``).
    """
    directions = dict(directions or {})
    stray = [str(c) for c in directions if c not in columns]
    if stray:
        raise FrameworkError(
            f"{caller}: a direction was given for {', '.join(map(repr, stray))}, which is not an indicator of the "
            f"data matrix; the known codes are {', '.join(map(str, columns))}. Check the spelling."
        )
    bad = {c: d for c, d in directions.items() if d not in DIRECTIONS}
    if bad:
        code, d = next(iter(bad.items()))
        raise FrameworkError(
            f"{caller}: unknown direction {d!r} for indicator {code!r}; use 'higher', 'lower' or 'band'."
        )
    return {c: directions.get(c, "higher") for c in columns}


def aligned(
    X: pd.DataFrame, directions: Mapping[str, str], bands: Mapping[str, tuple[float, float]] | None = None
) -> pd.DataFrame:
    """Higher-is-better view: ``lower`` columns negated, ``band`` columns minus the distance to the band."""
    from kpilab.framework import align_direction

    out = X.copy()
    for c in X.columns:
        d = directions.get(c, "higher")
        out[c] = align_direction(X[c], d, (bands or {}).get(c))
    return out


def minmax_aligned(
    X: pd.DataFrame,
    directions: Mapping[str, str],
    bands: Mapping[str, tuple[float, float]] | None = None,
    scale: float = 1.0,
) -> pd.DataFrame:
    r"""Direction-aware min-max normalisation to ``[0, scale]``.

    .. math::

        x'_{ij} = \frac{x_{ij} - \min_i x_{ij}}{\max_i x_{ij} - \min_i x_{ij}} \ \text{(higher)}, \qquad
        x'_{ij} = \frac{\max_i x_{ij} - x_{ij}}{\max_i x_{ij} - \min_i x_{ij}} \ \text{(lower)}

    ``band`` columns are first turned into minus their distance to the band.
    A constant column becomes all NaN (no information; callers handle it).
    """
    A = aligned(X, directions, bands)
    lo, hi = A.min(), A.max()
    rng = (hi - lo).replace(0.0, np.nan)
    rng[constant_columns(A)] = np.nan  # equal up to rounding counts as constant
    return (A - lo) / rng * scale


def warn_constant(cols: list[str], caller: str, notices: list[str] | None) -> None:
    if not cols:
        return
    msg = f"{caller}: indicator(s) {', '.join(cols)} are constant in the data and get weight 0."
    warnings.warn(msg, WeightWarning, stacklevel=3)
    if notices is not None:
        notices.append(msg)


def varying_columns(X: pd.DataFrame, caller: str, notices: list[str] | None, min_count: int = 1) -> list[str]:
    """Columns of ``X`` that vary; constant ones are warned about (they get weight 0).

    Raises :class:`DataError` when fewer than ``min_count`` columns vary.
    """
    const = constant_columns(X)
    warn_constant(const, caller, notices)
    keep = [c for c in X.columns if c not in const]
    if len(keep) < min_count:
        if not keep:
            raise DataError(f"{caller}: every indicator is constant over the {len(X)} rows; "
                            "no data-driven weights exist.")
        raise DataError(f"{caller} needs at least {min_count} indicators that vary; got {', '.join(keep)}.")
    return keep


def fingerprint(X: pd.DataFrame | np.ndarray | None) -> str:
    """sha256 of the matrix used (column names, then float64 values in C order, NaN-safe)."""
    if X is None:
        return ""
    h = hashlib.sha256()
    if isinstance(X, pd.DataFrame):
        h.update("\x1f".join(map(str, X.columns)).encode())
        arr = X.to_numpy(dtype=float)
    else:
        arr = np.asarray(X, dtype=float)
    h.update(str(arr.shape).encode())
    h.update(np.ascontiguousarray(arr).tobytes())
    return h.hexdigest()


def as_series(weights: Any, name: str = "weight") -> pd.Series:
    """A weight vector as a float Series indexed by indicator code (validated, not normalised)."""
    if hasattr(weights, "weights") and isinstance(weights.weights, pd.Series):
        weights = weights.weights
    if isinstance(weights, Mapping):
        weights = pd.Series(dict(weights), dtype=float)
    if not isinstance(weights, pd.Series):
        raise ParameterError(f"Weights must be a Series or mapping indexed by indicator code, got {type(weights).__name__}.")
    s = weights.astype(float)
    s.index = s.index.map(str)
    s.index.name = "indicator"
    bad = s[~np.isfinite(s) | (s < 0)]
    if len(bad):
        raise ParameterError(f"Weights must be finite and >= 0; {format_ids(bad.index)} are {bad.tolist()}.")
    if s.sum() <= 0:
        raise ParameterError("Weights must not all be zero.")
    s.name = name
    return s
