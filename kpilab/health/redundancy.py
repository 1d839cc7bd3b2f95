"""Redundancy clusters and pairs, variance inflation factors and conflicting indicators."""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd
from statsmodels.stats.outliers_influence import variance_inflation_factor
from statsmodels.tools.tools import add_constant

from kpilab.errors import DataError

__all__ = [
    "REDUNDANCY_COLUMNS",
    "CLUSTER_COLUMNS",
    "redundancy_clusters",
    "reconcile_pairs",
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


# ----------------------------------------------------------------------------- clusters
CLUSTER_COLUMNS = ["cluster", "indicator", "representative", "max_abs_r", "reason"]

#: Decision order used to prefer a representative: a kept indicator before one under review before a pruned one.
_DECISION_RANK = {"keep": 0, "review": 1, "prune": 2}


def _fmt_r(x: float) -> str:
    return "not computed" if x is None or not np.isfinite(x) else f"{x:.2f}"


def redundancy_clusters(
    corr: pd.DataFrame,
    counts: pd.DataFrame | None = None,
    *,
    threshold: float = 0.9,
    relevance: Mapping[str, float] | None = None,
    coverage: Mapping[str, float] | None = None,
    small_n: Mapping[str, int] | None = None,
    decisions: Mapping[str, str] | None = None,
    outcome: str = "the outcome",
    min_units: int = 0,
    tie: float = 0.02,
) -> pd.DataFrame:
    r"""Group indicators that measure the same thing and name one representative per group.

    Indicators are clustered hierarchically on the distance :math:`d_{ij} = 1 - |r_{ij}|` with
    **complete linkage** (``scipy.cluster.hierarchy.linkage(..., method="complete")``) and the tree
    is cut just below :math:`1 - t` (``fcluster(..., criterion="distance")``). Complete linkage
    merges two groups at the *largest* distance between their members, so after the cut **every
    pair inside a cluster has** :math:`|r| > t`: each member is a near-copy of each other member.
    Single linkage would chain (a ~ b and b ~ c puts a with c even when a and c are unrelated) and
    average linkage would admit pairs below the threshold; both could then advise dropping an
    indicator that duplicates nothing kept. Pairs with a missing correlation or observed on fewer
    than ``min_units`` units (``counts``) get :math:`d = 1` (no evidence of redundancy).

    The representative of each cluster is, first match wins (Saisana & Tarantola's advice to keep
    the indicator that best serves the index's purpose, OECD/JRC Handbook step 4):

    1. the best health decision (``keep`` before ``review`` before ``prune``), so the redundancy
       advice never contradicts the keep/review/prune decisions;
    2. the strongest link with the outcome (:math:`|r|`; differences under ``tie`` count as a tie);
    3. the better coverage (share of units with a value);
    4. the fewest ``small_n`` cells (fewer values resting on too few observations);
    5. the first code in alphabetical order.

    Indicators are sorted by code before clustering, so the result does not depend on the order of
    the rows and columns of ``corr``.

    Parameters
    ----------
    corr : DataFrame
        Square indicator-by-indicator correlation matrix.
    counts : DataFrame, optional
        Units behind each pair (:func:`pair_unit_counts`); with ``min_units``.
    threshold : float, default 0.9
        :math:`t`: pairs with :math:`|r| > t` are redundant.
    relevance, coverage, small_n, decisions : mapping, optional
        Per indicator: outcome correlation, coverage share, number of ``small_n`` cells, health
        decision.
    outcome : str
        Name of the outcome in the reasons.
    min_units : int
        Pairs seen on fewer units are not judged.
    tie : float, default 0.02
        Outcome links closer than this count as equal.

    Returns
    -------
    DataFrame
        :data:`CLUSTER_COLUMNS`, one row per indicator: ``cluster`` (1, 2, ...; larger clusters
        first), ``representative`` (exactly one True per cluster), ``max_abs_r`` (largest
        :math:`|r|` with another member; NaN for a cluster of one) and ``reason`` in words.

    References
    ----------
    .. [1] OECD/JRC (2008). Handbook on Constructing Composite Indicators, step 4 (multivariate
       analysis: indicators that are too strongly correlated double-count the same dimension).
    .. [2] Everitt, B. S., Landau, S., Leese, M., Stahl, D. (2011). Cluster Analysis, 5th ed.,
       sec. 4.2 (complete linkage: every pair within a cluster is within the cut distance).
    """
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform

    relevance = relevance or {}
    coverage = coverage or {}
    small_n = small_n or {}
    decisions = decisions or {}
    codes = sorted(map(str, corr.columns))
    if set(map(str, corr.index)) != set(codes) or corr.shape[0] != corr.shape[1]:
        raise DataError("redundancy_clusters needs a square correlation matrix with the same indicators on both axes.")
    absr = corr.loc[codes, codes].abs().to_numpy(dtype=float)
    if counts is not None and min_units:
        absr = np.where(counts.loc[codes, codes].to_numpy() < min_units, np.nan, absr)
    absr = np.where(np.isfinite(absr), np.clip(absr, 0.0, 1.0), 0.0)
    np.fill_diagonal(absr, 1.0)
    dist = 1.0 - absr
    dist = (dist + dist.T) / 2  # exact symmetry for squareform
    np.fill_diagonal(dist, 0.0)
    k = len(codes)
    if k == 0:
        return pd.DataFrame(columns=CLUSTER_COLUMNS)
    if k == 1:
        labels = np.array([1])
    else:
        Z = linkage(squareform(dist, checks=False), method="complete")
        # fcluster keeps merges at distance <= cut; just below 1 - t gives |r| > t strictly
        labels = fcluster(Z, t=np.nextafter(1.0 - threshold, -np.inf), criterion="distance")

    def rel(c: str) -> float:
        v = relevance.get(c, np.nan)
        return abs(float(v)) if v is not None and np.isfinite(v) else -1.0

    def cov(c: str) -> float:
        v = coverage.get(c, np.nan)
        return float(v) if v is not None and np.isfinite(v) else -1.0

    groups: dict[int, list[str]] = {}
    for c, lab in zip(codes, labels, strict=True):
        groups.setdefault(int(lab), []).append(c)
    rows = []
    order = sorted(groups.values(), key=lambda g: (-len(g), g[0]))
    pos = {c: i for i, c in enumerate(codes)}
    for num, members in enumerate(order, start=1):
        # rule 1 then rule 2 with ties: candidates within `tie` of the best link among the best decision
        best_dec = min(_DECISION_RANK.get(decisions.get(c, "keep"), 0) for c in members)
        cands = [c for c in members if _DECISION_RANK.get(decisions.get(c, "keep"), 0) == best_dec]
        by_decision = len(cands) < len(members)
        top = max(rel(c) for c in cands)
        near = [c for c in cands if rel(c) >= top - tie] if top >= 0 else cands
        cbest = max(cov(c) for c in near)
        near2 = [c for c in near if cov(c) >= cbest - 1e-9]
        sbest = min(int(small_n.get(c, 0)) for c in near2)
        near3 = [c for c in near2 if int(small_n.get(c, 0)) == sbest]
        rep = sorted(near3)[0]
        if len(cands) == 1:
            step = ""
        elif len(near) < len(cands):
            step = "relevance"
        elif len(near2) < len(near):
            step = "coverage"
        elif len(near3) < len(near2):
            step = "small_n"
        else:
            step = "alphabetical"
        for c in members:
            others = [pos[o] for o in members if o != c]
            mx = float(absr[pos[c], others].max()) if others else np.nan
            if len(members) == 1:
                reason = f"No other indicator moves with it (|r| > {threshold:g}); it stands on its own."
            elif c == rep:
                peers = ", ".join(o for o in cands if o != rep)
                why = {
                    "": "",
                    "relevance": f"it relates most strongly to {outcome} (|r| {_fmt_r(rel(rep))})",
                    "coverage": f"it relates to {outcome} as strongly as {peers} and has the best coverage "
                                f"({cov(rep):.0%})",
                    "small_n": f"it relates to {outcome} as strongly as {peers}, with the same coverage, and has "
                               f"the fewest small-sample cells ({sbest})",
                    "alphabetical": f"it relates to {outcome} as strongly as {peers}, with the same coverage and "
                                    "small-sample cells, and comes first alphabetically",
                }[step]
                if by_decision:
                    lead = f"it has the best health decision ({decisions.get(rep, 'keep')})"
                    why = f"{lead}; {why}" if why else lead
                rest = ", ".join(o for o in members if o != c)
                verb = "moves" if len(members) == 2 else "move"
                reason = (f"Represents cluster {num} ({rest} {verb} with it, |r| > {threshold:g} for every pair): "
                          f"{why}.")
            else:
                reason = (f"Measures the same as {rep} (|r| = {absr[pos[c], pos[rep]]:.2f}); {rep} represents "
                          f"cluster {num}, so merge or drop {c} to avoid counting the same behaviour twice.")
            rows.append([num, c, c == rep, mx, reason])
    return pd.DataFrame(rows, columns=CLUSTER_COLUMNS)


def reconcile_pairs(pairs: pd.DataFrame, clusters: pd.DataFrame) -> pd.DataFrame:
    """Rewrite the ``keep``/``drop`` advice of :func:`redundant_pairs` so it follows the clusters.

    Pairwise advice alone can contradict itself (a keeps over b, b over c, c over a) and the health
    decisions. Here a pair inside one cluster keeps the cluster's representative (``keep`` empty when
    neither member is it: both give way to it); a pair split across two clusters (complete linkage
    put each member with indicators it is closer to) keeps both, and the reason says so.

    Parameters
    ----------
    pairs : DataFrame
        :data:`REDUNDANCY_COLUMNS`.
    clusters : DataFrame
        :data:`CLUSTER_COLUMNS` covering every indicator of ``pairs``.

    Returns
    -------
    DataFrame
        ``pairs`` with ``keep``, ``drop`` and ``reason`` consistent with ``clusters``.
    """
    out = pairs.copy()
    if out.empty:
        return out
    cl = clusters.set_index("indicator")
    rep_of = {int(k): g.loc[g["representative"], "indicator"].iloc[0] for k, g in clusters.groupby("cluster")}
    keep, drop, reason = [], [], []
    for rec in out.itertuples(index=False):
        a, b = rec.indicator_a, rec.indicator_b
        ka, kb = int(cl.loc[a, "cluster"]), int(cl.loc[b, "cluster"])
        if ka == kb:
            rep = rep_of[ka]
            if rep in (a, b):
                other = b if rep == a else a
                keep.append(rep)
                drop.append(other)
                reason.append(f"{a} and {b} move together (r = {rec.r:.2f}); keep {rep}, the representative of "
                              f"redundancy cluster {ka}, and merge or drop {other}.")
            else:
                keep.append("")
                drop.append(f"{a};{b}")
                reason.append(f"{a} and {b} move together (r = {rec.r:.2f}); both belong to redundancy cluster "
                              f"{ka}, represented by {rep}, so both give way to it.")
        else:
            keep.append(f"{a};{b}")
            drop.append("")
            reason.append(
                f"{a} and {b} move together (r = {rec.r:.2f}) but each sits in a different redundancy cluster "
                f"({ka}: {rep_of[ka]}; {kb}: {rep_of[kb]}) because it moves even more closely with other "
                "indicators; the cluster representatives decide, so no separate advice is given for this pair."
            )
    out["keep"], out["drop"], out["reason"] = keep, drop, reason
    return out
