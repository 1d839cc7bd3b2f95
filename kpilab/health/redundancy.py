"""Redundant pairs, variance inflation factors and conflicting indicators."""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd
from statsmodels.stats.outliers_influence import variance_inflation_factor
from statsmodels.tools.tools import add_constant

__all__ = [
    "REDUNDANCY_COLUMNS",
    "VIF_COLUMNS",
    "CONFLICT_COLUMNS",
    "redundant_pairs",
    "vif_table",
    "conflicting_pairs",
    "pair_unit_counts",
]

REDUNDANCY_COLUMNS = [
    "indicator_a",
    "indicator_b",
    "r",
    "n",
    "pillar_a",
    "pillar_b",
    "same_pillar",
    "keep",
    "drop",
    "reason",
]
VIF_COLUMNS = ["indicator", "vif", "n", "flag"]
CONFLICT_COLUMNS = ["indicator_a", "indicator_b", "r_aligned", "n", "pillar_a", "pillar_b", "reason"]


def pair_unit_counts(X: pd.DataFrame, units: pd.Index | np.ndarray | None = None) -> pd.DataFrame:
    """Units with at least one row holding both indicators, for every pair (diagonal: units with a value).

    With one row per unit this is the usual pairwise-complete count; with unit-period rows it
    counts agents, not agent-months, so the minimum-sample rule is about units everywhere.
    """
    present = X.notna().to_numpy(dtype=float)
    cols = X.columns
    if units is None:
        counts = present.T @ present
    else:
        codes, uniq = pd.factorize(pd.Series(np.asarray(units)), sort=True)
        if len(uniq) == len(codes):
            counts = present.T @ present
        else:
            counts = np.zeros((X.shape[1], X.shape[1]))
            for g in range(len(uniq)):
                p = present[codes == g]
                counts += (p.T @ p) > 0
    return pd.DataFrame(counts, index=cols, columns=cols).astype(int)


def _pairs(corr: pd.DataFrame) -> list[tuple[str, str, float]]:
    cols = list(corr.columns)
    vals = corr.to_numpy()
    out = []
    for i in range(len(cols)):
        for j in range(i + 1, len(cols)):
            out.append((cols[i], cols[j], float(vals[i, j])))
    return out


def redundant_pairs(
    corr: pd.DataFrame,
    counts: pd.DataFrame,
    *,
    threshold: float = 0.9,
    pillars: Mapping[str, str] | None = None,
    relevance: Mapping[str, float] | None = None,
    coverage: Mapping[str, float] | None = None,
    outcome: str = "the outcome",
    min_units: int = 0,
) -> pd.DataFrame:
    """Pairs of indicators with ``|r| > threshold`` and which one to keep.

    Pairs observed on fewer than ``min_units`` units (``counts``) are not judged.

    The recommendation keeps the indicator more strongly related to the outcome (larger
    ``|r|``; differences under 0.02 count as a tie), then the one with better coverage, then
    the first in alphabetical order. Pairs inside one pillar are listed first (COINr's
    ``get_corr_flags`` looks within groups; across pillars a high correlation is reported
    too because it double-counts the same behaviour in the index).

    Returns
    -------
    DataFrame
        Columns :data:`REDUNDANCY_COLUMNS`, sorted by ``same_pillar`` then ``|r|`` descending.
    """
    pillars = pillars or {}
    relevance = relevance or {}
    coverage = coverage or {}
    rows = []
    for a, b, r in _pairs(corr):
        if np.isnan(r) or abs(r) <= threshold or counts.loc[a, b] < min_units:
            continue
        ra, rb = abs(relevance.get(a, np.nan)), abs(relevance.get(b, np.nan))
        ca, cb = coverage.get(a, np.nan), coverage.get(b, np.nan)
        if not np.isnan(ra) and not np.isnan(rb) and abs(ra - rb) >= 0.02:
            keep, why = (a, b) if ra > rb else (b, a)
            reason = (
                f"{keep} and {why} move together (r = {r:.2f}); keep {keep}, which relates more strongly to "
                f"{outcome} (|r| {max(ra, rb):.2f} vs {min(ra, rb):.2f}), and merge or drop {why}."
            )
        elif not np.isnan(ca) and not np.isnan(cb) and abs(ca - cb) > 1e-9:
            keep, why = (a, b) if ca > cb else (b, a)
            reason = (
                f"{keep} and {why} move together (r = {r:.2f}) and relate equally to {outcome}; keep {keep}, "
                f"which has better coverage ({max(ca, cb):.0%} vs {min(ca, cb):.0%})."
            )
        else:
            keep, why = sorted((a, b))
            reason = (
                f"{a} and {b} move together (r = {r:.2f}) with the same outcome relevance and coverage; "
                f"keep one (here {keep}) and merge or drop the other."
            )
        pa, pb = pillars.get(a, ""), pillars.get(b, "")
        rows.append([a, b, r, int(counts.loc[a, b]), pa, pb, bool(pa and pa == pb), keep, why, reason])
    out = pd.DataFrame(rows, columns=REDUNDANCY_COLUMNS)
    if len(out):
        out = (
            out.assign(_abs=out["r"].abs())
            .sort_values(["same_pillar", "_abs"], ascending=[False, False])
            .drop(columns="_abs")
            .reset_index(drop=True)
        )
    return out


def vif_table(
    df: pd.DataFrame,
    vif_flag: float = 10.0,
    *,
    units: pd.Index | np.ndarray | None = None,
    min_units: int = 0,
) -> pd.DataFrame:
    r"""Variance inflation factor of each indicator on the others (complete cases, with a constant).

    .. math::

        \mathrm{VIF}_j = \frac{1}{1 - R_j^2}

    where :math:`R_j^2` is from regressing indicator ``j`` on all the others and a constant
    (``statsmodels.stats.outliers_influence.variance_inflation_factor`` on ``add_constant(X)``); computed
    as the diagonal of the inverse correlation matrix, which is the same number, falling back to
    statsmodels' regressions when that matrix is (nearly) singular.
    Flags ``high_vif`` above ``vif_flag`` (10, a common rule of thumb); ``too_few_rows`` when the
    complete cases do not exceed the number of indicators + 1 (NaN VIF); ``too_few_units`` when
    the complete cases come from fewer than ``min_units`` units (``units``: unit id of each row).

    References
    ----------
    .. [1] Kutner, M. H. et al. (2005). Applied Linear Statistical Models, 5th ed., sec. 10.5.
    """
    data = df.apply(pd.to_numeric, errors="coerce").dropna()
    cols = list(df.columns)
    n = len(data)
    complete = df.apply(pd.to_numeric, errors="coerce").notna().all(axis=1).to_numpy()
    n_units = n if units is None else int(pd.Index(np.asarray(units)[complete]).nunique())
    if n_units < min_units:
        return pd.DataFrame([[c, np.nan, n, "too_few_units"] for c in cols], columns=VIF_COLUMNS)
    if len(cols) < 2 or n <= len(cols) + 1:
        flag = "single_indicator" if len(cols) < 2 else "too_few_rows"
        return pd.DataFrame(
            [[c, np.nan if len(cols) >= 2 else 1.0, n, flag] for c in cols], columns=VIF_COLUMNS
        )
    arr = data.to_numpy(dtype=float)
    vifs = None
    if (arr.std(axis=0) > 0).all():
        # with a constant in the model, VIF_j is the j-th diagonal element of the inverse correlation matrix
        try:
            inv = np.linalg.inv(np.corrcoef(arr, rowvar=False))
            vifs = np.diag(inv).copy()
            if not np.isfinite(vifs).all() or (vifs < 1 - 1e-8).any() or np.linalg.cond(inv) > 1e12:
                vifs = None
        except np.linalg.LinAlgError:
            vifs = None
    if vifs is None:  # (near-)singular: statsmodels' regression form reports inf where R^2 = 1
        exog = add_constant(arr, has_constant="add")
        with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # statsmodels warns about the conditioning we handle below
            vifs = np.array([float(variance_inflation_factor(exog, j + 1)) for j in range(len(cols))])
    rows = []
    for c, v in zip(cols, vifs, strict=True):
        # R^2 = 1 up to rounding (VIF ~ 1e15): an exact linear combination of the others
        v = float(v) if np.isfinite(v) and 0 <= v < 1e12 else float("inf")
        rows.append([c, v, n, "high_vif" if v > vif_flag else ""])
    return pd.DataFrame(rows, columns=VIF_COLUMNS)


def conflicting_pairs(
    corr_aligned: pd.DataFrame,
    counts: pd.DataFrame,
    *,
    threshold: float = -0.4,
    pillars: Mapping[str, str] | None = None,
    min_units: int = 0,
) -> pd.DataFrame:
    """Pairs whose direction-aligned values correlate below ``threshold`` (they pull against each other).

    Pairs observed on fewer than ``min_units`` units (``counts``) are not judged.

    ``corr_aligned`` is the correlation of values turned so that higher is better for every
    indicator (:func:`kpilab.framework.align_direction`): a strongly negative entry means that
    doing well on one goes with doing badly on the other (e.g. contacts per day vs CSAT), so
    a scorecard rewarding both sends agents mixed signals. COINr's ``plot_corr`` marks r < -0.4.

    Returns
    -------
    DataFrame
        Columns :data:`CONFLICT_COLUMNS`, most negative first.
    """
    pillars = pillars or {}
    rows = []
    for a, b, r in _pairs(corr_aligned):
        if np.isnan(r) or r >= threshold or counts.loc[a, b] < min_units:
            continue
        reason = (
            f"Doing better on {a} goes with doing worse on {b} (r = {r:.2f} after turning both so that "
            f"higher is better): rewarding both pulls agents in opposite directions."
        )
        rows.append([a, b, r, int(counts.loc[a, b]), pillars.get(a, ""), pillars.get(b, ""), reason])
    out = pd.DataFrame(rows, columns=CONFLICT_COLUMNS)
    return out.sort_values("r_aligned").reset_index(drop=True) if len(out) else out
