r"""Hierarchical aggregation: indicator scores -> pillar scores -> index.

The hierarchy comes from the framework (each indicator's ``pillar``). Each
level has its own method: weighted arithmetic (default), geometric, harmonic
or median means, or Copeland outranking (non-compensatory).

Missing values are handled inside each pillar: a unit's pillar score uses the
indicators it has, with their weights renormalised *within that pillar*, as
long as they carry at least ``min_coverage`` of the pillar's weight (COINr's
``dat_thresh``; default 2/3). A missing indicator never hands its weight to
another pillar. The index needs every weighted pillar; otherwise it is missing
with reason ``insufficient_coverage`` (naming the pillars).

All functions work on arrays with any leading axes (e.g. ``(draws, units,
indicators)``) so :mod:`kpilab.scoring.uncertainty` can aggregate simulated
draws with the same code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from kpilab.errors import ParameterError

__all__ = [
    "AGGREGATORS",
    "Aggregation",
    "weighted_arithmetic",
    "weighted_geometric",
    "weighted_harmonic",
    "weighted_median",
    "copeland",
    "aggregate",
    "parse_methods",
]

AGGREGATORS = ("arithmetic", "geometric", "harmonic", "median", "copeland")
_EPS = 1e-12


# --------------------------------------------------------------------- methods
def weighted_arithmetic(s: np.ndarray, w: np.ndarray) -> np.ndarray:
    r"""Weighted arithmetic mean over the last axis (weights already sum to 1; NaN scores have weight 0).

    Notes
    -----
    .. math:: y = \sum_i w_i s_i

    Fully compensatory: a point lost on one indicator is bought back by a point
    gained on another of equal weight.

    References
    ----------
    .. [1] OECD/JRC (2008). *Handbook on Constructing Composite Indicators*, section 6.2.

    Examples
    --------
    >>> float(weighted_arithmetic(np.array([50.0, 100.0]), np.array([0.5, 0.5])))
    75.0
    """
    return np.sum(np.where(w > 0, w * np.nan_to_num(s), 0.0), axis=-1)


def weighted_geometric(s: np.ndarray, w: np.ndarray) -> np.ndarray:
    r"""Weighted geometric mean over the last axis; refuses zero or negative scores.

    Notes
    -----
    .. math:: y = \prod_i s_i^{w_i} = \exp\Big(\sum_i w_i \ln s_i\Big)

    Partly compensatory: a low score costs more than a high score gains. A zero
    anywhere would zero the whole index, so zero and negative scores are
    refused; normalise to [1, 100] (``minmax`` with ``lower=1``) as COINr advises.

    References
    ----------
    .. [1] OECD/JRC (2008). *Handbook on Constructing Composite Indicators*, section 6.2.
    .. [2] Becker, W. et al. (2022). COINr (``a_gmean``). JOSS 7(78), 4567.

    Examples
    --------
    >>> round(float(weighted_geometric(np.array([25.0, 100.0]), np.array([0.5, 0.5]))), 6)
    50.0
    """
    used = w > 0
    if np.any(used & ~(np.nan_to_num(s, nan=1.0) > 0)):
        raise ParameterError(
            "Aggregation method 'geometric' needs strictly positive scores, but some indicator scores are zero "
            "or negative (a zero would zero the whole score). Normalise to [1, 100] instead, e.g. "
            "normalise='minmax' with lower=1 (as COINr advises), or aggregate with 'arithmetic'."
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.exp(np.sum(np.where(used, w * np.log(np.where(used, s, 1.0)), 0.0), axis=-1))


def weighted_harmonic(s: np.ndarray, w: np.ndarray) -> np.ndarray:
    r"""Weighted harmonic mean over the last axis; refuses zero or negative scores.

    Notes
    -----
    .. math:: y = \Big(\sum_i \frac{w_i}{s_i}\Big)^{-1}

    The least compensatory of the three power means.

    References
    ----------
    .. [1] Becker, W. et al. (2022). COINr (``a_hmean``). JOSS 7(78), 4567.

    Examples
    --------
    >>> round(float(weighted_harmonic(np.array([50.0, 100.0]), np.array([0.5, 0.5]))), 4)
    66.6667
    """
    used = w > 0
    if np.any(used & ~(np.nan_to_num(s, nan=1.0) > 0)):
        raise ParameterError(
            "Aggregation method 'harmonic' needs strictly positive scores, but some indicator scores are zero or "
            "negative. Normalise to [1, 100] instead (normalise='minmax' with lower=1), or use 'arithmetic'."
        )
    return 1.0 / np.sum(np.where(used, w / np.where(used, s, 1.0), 0.0), axis=-1)


def weighted_median(s: np.ndarray, w: np.ndarray) -> np.ndarray:
    r"""Weighted median over the last axis.

    Notes
    -----
    With scores sorted, :math:`s_{(1)} \le \dots \le s_{(k)}`, and their weights'
    running sum :math:`c_j`, the median is the first :math:`s_{(j)}` with
    :math:`c_j \ge 1/2`; when :math:`c_j = 1/2` exactly, the mean of
    :math:`s_{(j)}` and :math:`s_{(j+1)}`.

    References
    ----------
    .. [1] Becker, W. et al. (2022). COINr (``a_wmedian``, via ``matrixStats::weightedMedian``).

    Examples
    --------
    >>> float(weighted_median(np.array([10.0, 20.0, 90.0]), np.array([0.2, 0.5, 0.3])))
    20.0
    """
    used = w > 0
    key = np.where(used, np.nan_to_num(s), np.inf)
    order = np.argsort(key, axis=-1, kind="stable")
    ss = np.take_along_axis(key, order, axis=-1)
    ww = np.take_along_axis(np.where(used, w, 0.0), order, axis=-1)
    cum = np.cumsum(ww, axis=-1)
    tot = cum[..., -1:]
    half = 0.5 * tot
    j = np.argmax(cum >= half - _EPS, axis=-1)[..., None]
    first = np.take_along_axis(ss, j, axis=-1)
    exact = np.abs(np.take_along_axis(cum, j, axis=-1) - half) < _EPS
    nxt = np.take_along_axis(ss, np.minimum(j + 1, ss.shape[-1] - 1), axis=-1)
    nxt = np.where(np.isfinite(nxt), nxt, first)
    out = np.where(exact, (first + nxt) / 2, first)[..., 0]
    return np.where(tot[..., 0] > 0, out, np.nan)


def copeland(s: np.ndarray, w: np.ndarray, groups: np.ndarray | None = None) -> np.ndarray:
    r"""Copeland outranking score of each row (unit) against the other rows, rescaled to 0-100.

    Parameters
    ----------
    s : ndarray, shape (units, criteria)
        Criterion scores (NaN: missing; a pair is compared on the criteria both have).
    w : ndarray, shape (units, criteria)
        Criterion weights per unit (a pair uses the mean of its two rows' weights).
    groups : ndarray, shape (units,), optional
        Units are compared only within their group (e.g. period).

    Returns
    -------
    ndarray, shape (units,)

    Notes
    -----
    Unit :math:`j` outranks unit :math:`k` with weight

    .. math:: e_{jk} = \sum_i w_i \big(\mathbb{1}[s_{ji} > s_{ki}] + \tfrac12 \mathbb{1}[s_{ji} = s_{ki}]\big),

    and the Copeland score counts pairwise majority wins minus losses,

    .. math:: c_j = \sum_{k \ne j} \operatorname{sign}(e_{jk} - e_{kj}),
       \qquad y_j = 100\,\frac{c_j + (N - 1)}{2(N - 1)}.

    It is non-compensatory: how much better a unit is on one criterion does not
    matter, only on how many (weighted) criteria it is better. Scores are
    relative to the group, so they cannot be read as target attainment.

    References
    ----------
    .. [1] Munda, G. and Nardo, M. (2009). Noncompensatory/nonlinear composite
       indicators for ranking countries: a defensible setting. *Applied Economics*
       41(12), 1513-1523.
    .. [2] OECD/JRC (2008). *Handbook on Constructing Composite Indicators*, section 6.3.

    Examples
    --------
    >>> s = np.array([[3.0, 1.0], [2.0, 2.0], [1.0, 3.0]])
    >>> copeland(s, np.full((3, 2), 0.5)).tolist()
    [50.0, 50.0, 50.0]
    """
    s = np.asarray(s, dtype=float)
    w = np.asarray(w, dtype=float)
    if s.ndim != 2:
        raise ParameterError("Copeland aggregation works on one table of units at a time (no draws); "
                             "switch uncertainty off (draws=0) or use another aggregation method.")
    n = s.shape[0]
    out = np.full(n, np.nan)
    groups = np.zeros(n, dtype=int) if groups is None else pd.factorize(np.asarray(groups))[0]
    for g in np.unique(groups):
        idx = np.flatnonzero(groups == g)
        m = len(idx)
        if m < 2:
            out[idx] = 50.0 if m == 1 else np.nan
            continue
        diff = np.zeros((m, m))
        for i in range(s.shape[1]):
            col = s[idx, i]
            wi = np.where(w[idx, i] > 0, w[idx, i], 0.0)
            sgn = np.sign(col[:, None] - col[None, :])
            sgn = np.nan_to_num(sgn)
            diff += sgn * (wi[:, None] + wi[None, :]) / 2
        diff[np.abs(diff) < 1e-12] = 0.0
        c = np.sign(diff).sum(axis=1)
        has = (np.nan_to_num(w[idx]) > 0).any(axis=1)
        out[idx] = np.where(has, 100 * (c + (m - 1)) / (2 * (m - 1)), np.nan)
    return out


_FUNCS = {"arithmetic": weighted_arithmetic, "geometric": weighted_geometric,
          "harmonic": weighted_harmonic, "median": weighted_median}


def parse_methods(method: str | Mapping[str, str]) -> dict[str, str]:
    """``{"pillar": ..., "index": ...}`` from one name (both levels) or a mapping (missing level: arithmetic)."""
    if isinstance(method, str):
        m = {"pillar": method, "index": method}
    else:
        unknown = sorted(set(method) - {"pillar", "index"})
        if unknown:
            raise ParameterError(f"The 'aggregate' levels must be 'pillar' and/or 'index'. Got {unknown} instead.")
        m = {"pillar": method.get("pillar", "arithmetic"), "index": method.get("index", "arithmetic")}
    for level, name in m.items():
        if name not in AGGREGATORS:
            raise ParameterError(f"The 'aggregate' method ({level} level) must be one of "
                                 f"{', '.join(AGGREGATORS)}. Got {name!r} instead.")
    return m


def _combine(s: np.ndarray, w: np.ndarray, method: str, groups: np.ndarray | None) -> np.ndarray:
    if method == "copeland":
        return copeland(s, w, groups)
    return _FUNCS[method](s, w)


# ------------------------------------------------------------------ hierarchy
@dataclass(frozen=True)
class _Structure:
    """Per-unit weights split by pillar (computed once, reused for every draw)."""

    pillar_of: np.ndarray  # (I,) pillar index of each indicator
    pillars: list[str]
    within: np.ndarray  # (U, I) weight inside the pillar over available indicators (sums to 1 per pillar)
    pillar_w: np.ndarray  # (U, P) pillar weights (sum to 1 over pillars)
    pillar_cov: np.ndarray  # (U, P) share of the pillar's weight available
    pillar_ok: np.ndarray  # (U, P) pillar score defined
    index_ok: np.ndarray  # (U,)
    coverage: np.ndarray  # (U,) share of the unit's total weight available
    reason: np.ndarray  # (U,) '' or 'insufficient_coverage:<pillars>'
    effective: np.ndarray  # (U, I) pillar weight x within-pillar weight


def _structure(avail: np.ndarray, weights: np.ndarray, pillar_of: np.ndarray, pillars: list[str],
               min_coverage: float) -> _Structure:
    n_p = len(pillars)
    onehot = (pillar_of[:, None] == np.arange(n_p)[None, :]).astype(float)  # (I, P)
    w = np.where(np.isfinite(weights), weights, 0.0)
    pw = w @ onehot  # (U, P)
    aw = (w * avail) @ onehot
    with np.errstate(divide="ignore", invalid="ignore"):
        cov = np.where(pw > 0, aw / pw, np.nan)
        within = np.where(avail & (w > 0), w / (aw @ onehot.T), 0.0)
    within = np.nan_to_num(within)
    weighted = pw > 0
    pillar_ok = weighted & (cov >= min_coverage - 1e-9)
    index_ok = np.all(pillar_ok | ~weighted, axis=1) & weighted.any(axis=1)
    tot = pw.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        pillar_w = np.where(tot > 0, pw / tot, 0.0)
        coverage = np.where(tot[:, 0] > 0, aw.sum(axis=1) / tot[:, 0], np.nan)
    bad = weighted & ~pillar_ok
    reason = np.full(len(bad), "", dtype=object)
    rows = np.flatnonzero(bad.any(axis=1))
    if rows.size:  # one label per distinct pattern of failing pillars
        codes = bad[rows] @ (1 << np.arange(n_p))
        for c in np.unique(codes):
            label = "insufficient_coverage:" + "+".join(p for k, p in enumerate(pillars) if c >> k & 1)
            reason[rows[codes == c]] = label
    effective = within * (pillar_w @ onehot.T)
    return _Structure(pillar_of, pillars, within, pillar_w, cov, pillar_ok, index_ok, coverage, reason, effective)


def _aggregate_arrays(scores: np.ndarray, st: _Structure, methods: Mapping[str, str],
                      groups: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Pillar scores ``(..., U, P)`` and index ``(..., U)`` for scores ``(..., U, I)``."""
    n_p = len(st.pillars)
    pil = np.empty(scores.shape[:-1] + (n_p,))
    for p in range(n_p):
        cols = np.flatnonzero(st.pillar_of == p)
        wp = st.within[..., cols]  # (U, I), or stacked per draw (D, U, I)
        pil[..., p] = _combine(scores[..., cols], np.broadcast_to(wp, scores[..., cols].shape), methods["pillar"],
                               groups)
    pil = np.where(st.pillar_ok, pil, np.nan)
    idx_w = np.where(st.pillar_ok, st.pillar_w, 0.0)
    index = _combine(pil, np.broadcast_to(idx_w, pil.shape), methods["index"], groups)
    index = np.where(st.index_ok, index, np.nan)
    return pil, index


@dataclass(frozen=True)
class Aggregation:
    """Result of :func:`aggregate`.

    Attributes
    ----------
    table : DataFrame
        Same index as the scores; one column per pillar, then ``index``,
        ``coverage`` (share of the unit's weight with data, 0-1) and ``reason``
        (``''`` or ``insufficient_coverage:<pillars>``).
    effective_weights : DataFrame
        Per unit, each indicator's share of the index: pillar weight times its
        within-pillar weight renormalised over the available indicators (0 when
        missing). With arithmetic aggregation at both levels,
        ``index = sum(effective_weights * scores)``.
    methods : dict
        ``{"pillar": ..., "index": ...}``.
    min_coverage : float
    """

    table: pd.DataFrame
    effective_weights: pd.DataFrame
    methods: Mapping[str, str] = field(default_factory=dict)
    min_coverage: float = 2 / 3


def aggregate(
    scores: pd.DataFrame,
    weights: pd.Series | pd.DataFrame,
    pillars: Mapping[str, str],
    *,
    method: str | Mapping[str, str] = "arithmetic",
    min_coverage: float = 2 / 3,
    groups: Any = None,
) -> Aggregation:
    r"""Aggregate indicator scores to pillar scores and an index, following the hierarchy.

    Parameters
    ----------
    scores : DataFrame
        Normalised scores, one row per unit (and period), one column per indicator.
    weights : Series or DataFrame
        Indicator weights: one Series for every row (index = indicator codes), or
        a DataFrame aligned with ``scores`` (per-row weights, e.g. by role).
        Weights are normalised to sum to 1 per row.
    pillars : mapping
        ``{indicator: pillar}`` for every scored column.
    method : str or mapping, default "arithmetic"
        One of :data:`AGGREGATORS` for both levels, or ``{"pillar": ..., "index": ...}``.
    min_coverage : float, default 2/3
        Share of a pillar's weight that must have data for the pillar score to exist.
    groups : array-like, optional
        Comparison groups for Copeland (e.g. the period of each row).

    Returns
    -------
    Aggregation

    Raises
    ------
    ParameterError
        Missing weight for an indicator, weights for unknown indicators,
        negative or all-zero weights, unknown method, or zero/negative scores
        under the geometric or harmonic mean.

    Notes
    -----
    With indicator weights :math:`w_i`, pillar :math:`P` weight
    :math:`W_P = \sum_{i\in P} w_i`, availability :math:`a_{ui}` and
    within-pillar weights :math:`v_{ui} = w_i a_{ui} / \sum_{j\in P} w_j a_{uj}`,
    the arithmetic pillar score and index are

    .. math::

       y_{uP} = \sum_{i \in P} v_{ui} s_{ui}, \qquad
       I_u = \sum_P W_P\, y_{uP} \quad\text{if } \frac{\sum_{j\in P} w_j a_{uj}}{W_P} \ge c \;\forall P,

    so a missing indicator's weight stays inside its pillar.

    References
    ----------
    .. [1] OECD/JRC (2008). *Handbook on Constructing Composite Indicators*, sections 4 and 6.
    .. [2] Becker, W. et al. (2022). COINr (``Aggregate``, ``dat_thresh``). JOSS 7(78), 4567.

    Examples
    --------
    >>> s = pd.DataFrame({"a": [50.0, 100.0], "b": [100.0, np.nan], "c": [0.0, 20.0]})
    >>> w, pillars = pd.Series({"a": 0.25, "b": 0.25, "c": 0.5}), {"a": "p", "b": "p", "c": "q"}
    >>> aggregate(s, w, pillars).table[["p", "q", "index", "coverage"]].to_dict("list")
    {'p': [75.0, nan], 'q': [0.0, 20.0], 'index': [37.5, nan], 'coverage': [1.0, 0.75]}
    >>> aggregate(s, w, pillars, min_coverage=0.5).table[["p", "index"]].to_dict("list")
    {'p': [75.0, 100.0], 'index': [37.5, 60.0]}
    """
    if not 0 <= min_coverage <= 1:
        raise ParameterError(f"The 'min_coverage' parameter must be in [0, 1]. Got {min_coverage!r} instead.")
    methods = parse_methods(method)
    codes = [str(c) for c in scores.columns]
    W = _weight_matrix(weights, codes, scores.index)
    missing_p = [c for c in codes if c not in pillars]
    if missing_p:
        raise ParameterError(f"No pillar known for indicator(s) {', '.join(missing_p)}.")
    plist = list(dict.fromkeys(pillars[c] for c in codes))
    pillar_of = np.array([plist.index(pillars[c]) for c in codes])
    S = scores.to_numpy(dtype=float)
    st = _structure(~np.isnan(S), W, pillar_of, plist, min_coverage)
    g = None if groups is None else np.asarray(groups)
    pil, index = _aggregate_arrays(S, st, methods, g)
    table = pd.DataFrame(pil, index=scores.index, columns=plist)
    table["index"] = index
    table["coverage"] = st.coverage
    table["reason"] = st.reason
    eff = pd.DataFrame(st.effective, index=scores.index, columns=scores.columns)
    return Aggregation(table, eff, methods, min_coverage)


def _weight_matrix(weights: pd.Series | pd.DataFrame, codes: list[str], index: pd.Index) -> np.ndarray:
    """Validated per-row weight matrix (rows sum to 1) for the score columns ``codes``."""
    if isinstance(weights, pd.Series):
        w = weights.astype(float)
        w.index = w.index.map(str)
        frame = pd.DataFrame(np.broadcast_to(w.to_numpy(), (len(index), len(w))), index=index, columns=w.index)
    elif isinstance(weights, pd.DataFrame):
        frame = weights.astype(float).copy()
        frame.columns = frame.columns.map(str)
        if not frame.index.equals(index):
            frame = frame.reindex(index)
    else:
        raise ParameterError(f"The 'weights' parameter must be a Series or DataFrame. Got {type(weights).__name__}.")
    unknown = [c for c in frame.columns if c not in codes]
    if unknown:
        raise ParameterError(f"Weights given for unknown indicator(s) {', '.join(unknown)} (scored indicators: "
                             f"{', '.join(codes)}).")
    missing = [c for c in codes if c not in frame.columns]
    if missing:
        raise ParameterError(f"No weight given for indicator(s) {', '.join(missing)}; give every scored "
                             "indicator a weight (0 to leave it out).")
    W = frame[codes].to_numpy(dtype=float)
    if np.any(W < 0):
        bad = sorted({codes[j] for j in np.argwhere(W < 0)[:, 1]})
        raise ParameterError(f"Weights must be >= 0; negative for {', '.join(bad)}.")
    if np.any(~np.isfinite(W)):
        raise ParameterError("Weights must be finite (a row has no weights: is every unit's role mapped?).")
    tot = W.sum(axis=1, keepdims=True)
    if np.any(tot <= 0):
        raise ParameterError("Weights must not all be zero.")
    return W / tot
