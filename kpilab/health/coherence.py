"""Statistical coherence of the equal-weight composite, and the rank impact of removing each indicator.

The composite used here is the plain audit composite of the OECD/JRC handbook
and COINr: direction-aware min-max normalisation to 0-100, the arithmetic
mean of a pillar's indicators, and the arithmetic mean of the pillars (equal
weights at each level; a unit's missing values are skipped).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd

from kpilab.framework import align_direction

__all__ = [
    "COHERENCE_COLUMNS",
    "PILLAR_COLUMNS",
    "PCA_COLUMNS",
    "IMPACT_COLUMNS",
    "normalise_minmax",
    "composite",
    "cronbach_alpha",
    "pca_eigen",
    "coherence_tables",
    "remove_one_impact",
]

COHERENCE_COLUMNS = ["level", "code", "parent", "r", "n", "flag"]
PILLAR_COLUMNS = ["pillar", "n_indicators", "n_complete", "cronbach_alpha", "pc1_share", "pc1_eigenvalue", "flag"]
PCA_COLUMNS = ["pillar", "component", "eigenvalue", "share", "cumulative"]
IMPACT_COLUMNS = ["indicator", "pillar", "mean_abs_rank_shift", "max_abs_rank_shift", "n_units", "flag"]


def normalise_minmax(
    df: pd.DataFrame, directions: Mapping[str, str], bands: Mapping[str, tuple[float, float]] | None = None
) -> pd.DataFrame:
    r"""Direction-aware min-max normalisation to 0-100 (100 = best unit).

    .. math::

        y = 100\,\frac{a - \min a}{\max a - \min a},\quad a = \text{align\_direction}(x)

    A constant column becomes NaN (it carries no information about the units).
    """
    bands = bands or {}
    out = pd.DataFrame(index=df.index)
    for c in df.columns:
        a = align_direction(pd.to_numeric(df[c], errors="coerce").astype(float), directions[c], bands.get(c))
        lo, hi = a.min(), a.max()
        out[c] = (a - lo) / (hi - lo) * 100 if hi > lo else np.nan
    return out


def composite(norm: pd.DataFrame, pillars: Mapping[str, str]) -> tuple[pd.DataFrame, pd.Series]:
    """Equal-weight pillar scores (mean of the pillar's normalised indicators) and index (mean of pillars)."""
    groups: dict[str, list[int]] = {}
    for j, c in enumerate(norm.columns):
        groups.setdefault(pillars.get(c, "all"), []).append(j)
    arr = norm.to_numpy(dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a unit with no value in a pillar -> NaN
        pil_arr = np.column_stack([np.nanmean(arr[:, idx], axis=1) for idx in groups.values()]) if groups else \
            np.empty((len(norm), 0))
        idx_arr = np.nanmean(pil_arr, axis=1) if pil_arr.shape[1] else np.full(len(norm), np.nan)
    pil = pd.DataFrame(pil_arr, index=norm.index, columns=list(groups))
    return pil, pd.Series(idx_arr, index=norm.index, name="index")


def cronbach_alpha(df: pd.DataFrame) -> float:
    r"""Cronbach's alpha from the pairwise-complete covariance matrix (COINr ``get_cronbach``).

    .. math::

        \alpha = \frac{k^2\,\overline{\sigma_{ij}}_{i \ne j}}{\sum_{i,j} \sigma_{ij}}
               = \frac{k}{k-1}\left(1 - \frac{\sum_i \sigma_i^2}{\sigma^2_{\text{total}}}\right)

    (the two forms agree on complete data). NaN for fewer than two indicators.

    Alpha is negative when the items' covariances are negative on average. The model behind
    alpha (items measuring one common true score, so non-negative covariances) then does not
    hold and the number is no reliability score: :func:`coherence_tables` flags it
    ``negative_alpha`` and the review explains it in words instead of printing it as a score.

    References
    ----------
    .. [1] Cronbach, L. J. (1951). Coefficient alpha and the internal structure of tests.
       Psychometrika 16, 297-334.
    .. [2] COINr ``get_cronbach`` (R/correlations.R): ``k^2 * mean(off-diagonal cov) / sum(cov)``.
    """
    k = df.shape[1]
    if k < 2:
        return float("nan")
    cov = df.cov().to_numpy()
    total = np.nansum(cov)
    if not np.isfinite(total) or total == 0 or np.isnan(cov).any():
        return float("nan")
    off = cov[~np.eye(k, dtype=bool)]
    return float(k * k * off.mean() / total)


def pca_eigen(df: pd.DataFrame) -> tuple[np.ndarray, int]:
    """Eigenvalues (descending) of the correlation matrix of the complete cases, and how many cases.

    This is PCA on standardised data (R ``prcomp(center=TRUE, scale.=TRUE)``, as COINr
    ``get_PCA``); the share of the first component is ``eigenvalues[0] / k``.
    """
    data = df.dropna()
    n = len(data)
    if df.shape[1] == 0 or n < 3:
        return np.array([]), n
    if df.shape[1] == 1:
        return np.array([1.0]), n
    if (data.std(ddof=1) == 0).any():
        return np.array([]), n
    corr = np.corrcoef(data.to_numpy(dtype=float), rowvar=False)
    eig = np.sort(np.linalg.eigvalsh(corr))[::-1]
    return np.clip(eig, 0, None), n


def _n_units(mask: np.ndarray, units: pd.Index | np.ndarray | None) -> int:
    return int(mask.sum()) if units is None else int(pd.Index(np.asarray(units)[mask]).nunique())


def coherence_tables(
    norm: pd.DataFrame,
    pillars: Mapping[str, str],
    *,
    alpha_min: float = 0.7,
    pc1_min: float = 0.6,
    units: pd.Index | np.ndarray | None = None,
    min_units: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Indicator-to-pillar and pillar-to-index correlations, Cronbach's alpha and PCA per pillar.

    Parameters
    ----------
    norm : DataFrame
        Normalised (0-100, higher is better) indicators, one column each.
    pillars : mapping
        Indicator -> pillar; indicators without a pillar form the pillar ``all``.
    units : array, optional
        Unit id of each row (with unit-period rows), so ``min_units`` counts units.
    min_units : int
        A correlation, alpha or PCA resting on fewer units is not computed (NaN, flag
        ``too_few_units``).

    Returns
    -------
    coherence : DataFrame
        Columns :data:`COHERENCE_COLUMNS`: ``level`` is ``indicator`` (``parent`` = its pillar) or
        ``pillar`` (``parent`` = ``index``); ``r`` is the Pearson correlation (COINr's default)
        between the element and its parent in the equal-weight composite; ``flag`` is
        ``too_few_units`` when ``r`` is not computed for that reason.
    pillars_table : DataFrame
        Columns :data:`PILLAR_COLUMNS`; ``flag`` notes ``low_alpha`` (0 <= alpha < 0.7, Nunnally),
        ``negative_alpha`` (the items are negatively correlated on average), ``weak_pc1`` (first
        component explains < 60 % of the variance), ``too_few_units``.
    pca : DataFrame
        Columns :data:`PCA_COLUMNS`, one row per pillar and component.
    """
    pil, index = composite(norm, pillars)
    rows = []
    for c in norm.columns:
        p = pillars.get(c, "all")
        ok = norm[c].notna() & pil[p].notna()
        few = _n_units(ok.to_numpy(), units) < min_units
        r = norm.loc[ok, c].corr(pil.loc[ok, p]) if ok.sum() > 2 and not few else np.nan
        rows.append(["indicator", c, p, r, int(ok.sum()), "too_few_units" if few else ""])
    for p in pil.columns:
        ok = pil[p].notna() & index.notna()
        few = _n_units(ok.to_numpy(), units) < min_units
        r = pil.loc[ok, p].corr(index[ok]) if ok.sum() > 2 and pil.shape[1] > 1 and not few else np.nan
        rows.append(["pillar", p, "index", r, int(ok.sum()), "too_few_units" if few else ""])
    coh = pd.DataFrame(rows, columns=COHERENCE_COLUMNS)
    prow, pca_rows = [], []
    for p in pil.columns:
        cols = [c for c in norm.columns if pillars.get(c, "all") == p]
        sub = norm[cols].dropna(axis=1, how="all")
        complete = sub.notna().all(axis=1).to_numpy() if sub.shape[1] else np.zeros(len(sub), dtype=bool)
        flags = []
        if _n_units(complete, units) < min_units:
            alpha, eig, n_complete = float("nan"), np.array([]), int(complete.sum())
            flags.append("too_few_units")
        else:
            alpha = cronbach_alpha(sub)
            eig, n_complete = pca_eigen(sub)
        k = len(eig)
        share = eig / eig.sum() if k else eig
        if not np.isnan(alpha) and alpha < 0:
            flags.append("negative_alpha")
        elif not np.isnan(alpha) and alpha < alpha_min:
            flags.append("low_alpha")
        if k > 1 and share[0] < pc1_min:
            flags.append("weak_pc1")
        if len(cols) < 2:
            flags.append("single_indicator")
        prow.append(
            [p, len(cols), n_complete, alpha, float(share[0]) if k else np.nan, float(eig[0]) if k else np.nan,
             ";".join(flags)]
        )
        cum = np.cumsum(share)
        for i in range(k):
            pca_rows.append([p, i + 1, float(eig[i]), float(share[i]), float(cum[i])])
    return coh, pd.DataFrame(prow, columns=PILLAR_COLUMNS), pd.DataFrame(pca_rows, columns=PCA_COLUMNS)


def remove_one_impact(
    norm: pd.DataFrame,
    pillars: Mapping[str, str],
    *,
    units: pd.Index | np.ndarray | None = None,
    min_units: int = 0,
) -> pd.DataFrame:
    r"""Mean absolute shift of units' ranks in the equal-weight composite when each indicator is dropped.

    The analogue of COINr ``remove_elements`` (``MeanAbsDiff``): for each indicator ``j``

    .. math::

        \Delta_j = \frac{1}{n}\sum_u \left|\operatorname{rank}_u(\text{index}) -
        \operatorname{rank}_u(\text{index}_{-j})\right|

    with ranks 1 = best and ties sharing the lowest rank (R ``rank(ties.method = "min")``).
    A pillar left empty by the removal drops out of the index. With fewer than ``min_units``
    units (``units``: unit id of each row) the shifts are not computed (NaN, flag ``too_few_units``).

    Returns
    -------
    DataFrame
        Columns :data:`IMPACT_COLUMNS`, largest impact first.
    """
    _, base = composite(norm, pillars)
    base_rank = base.rank(ascending=False, method="min")
    n_base = _n_units(base.notna().to_numpy(), units)
    rows = []
    for c in norm.columns:
        rest = norm.drop(columns=c)
        if n_base < min_units:
            rows.append([c, pillars.get(c, "all"), np.nan, np.nan, n_base, "too_few_units"])
            continue
        if rest.shape[1] == 0:
            rows.append([c, pillars.get(c, "all"), np.nan, np.nan, 0, ""])
            continue
        _, idx = composite(rest, pillars)
        rk = idx.rank(ascending=False, method="min")
        d = (rk - base_rank).abs().dropna()
        rows.append([c, pillars.get(c, "all"), float(d.mean()) if len(d) else np.nan,
                     float(d.max()) if len(d) else np.nan, int(len(d)), ""])
    out = pd.DataFrame(rows, columns=IMPACT_COLUMNS)
    return out.sort_values("mean_abs_rank_shift", ascending=False, na_position="last").reset_index(drop=True)
