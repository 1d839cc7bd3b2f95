r"""Grade uncertainty: re-score simulated draws of each unit's measured indicator values.

Every cell (unit, period, indicator) of the panel is an estimate from a finite
number of contacts, surveys or reviews. Its sampling distribution is

* a proportion (``numerator`` successes out of ``denominator`` = ``n``): the
  beta posterior under the Jeffreys prior, :math:`p \sim \mathrm{Beta}(k + \tfrac12, n - k + \tfrac12)`;
* a mean (or any value with an interval and ``n``): normal with the standard
  error recovered from the interval half-width,
  :math:`\mathrm{SE} = (\mathrm{ci\_high} - \mathrm{ci\_low}) / (2\,t_{1-\alpha/2,\,n-1})`;
* anything else (counts, ratios without an interval): held fixed.

Where the panel has a shrunken estimate (``value_shrunk``) and it is used, the
draws are centred on it with the same spread (proportions: a beta with mean
:math:`\hat p_s` and concentration :math:`n + 1`).

Each draw is normalised with the bounds learnt from the *nominal* data (min,
max, mean, sd, reference ranks held fixed), so only the unit's own measurement
noise moves its score, then aggregated with the same weights and missing-value
pattern. Reported per unit and period: the 5-95 % score interval, the
probability of each grade and whether the reported grade is settled.

Speed. Draws use *common random numbers across units*: one standard normal per
(draw, indicator) is shared by all units and turned into each unit's own
quantile. Every unit's draws are therefore exact independent draws from its own
distribution (independent across indicators and draws), while units are
dependent on each other, which no per-unit output uses. Proportions with
:math:`\min(a, b) \ge 1.5` use the Cornish-Fisher-corrected normal
approximation of :math:`\operatorname{logit} p` with its exact mean
:math:`\psi(a) - \psi(b)`, variance :math:`\psi'(a) + \psi'(b)` and skewness
:math:`(\psi''(a) - \psi''(b)) / (\psi'(a) + \psi'(b))^{3/2}` (quantile error
below 0.1 posterior sd, tested against scipy); cells with :math:`k = 0` or
:math:`k = n` are drawn exactly (``Generator.beta``).

References
----------
.. [1] Jeffreys, H. (1946). An invariant form for the prior probability in
   estimation problems. *Proc. R. Soc. Lond. A* 186, 453-461.
.. [2] Brown, L. D., Cai, T. T. and DasGupta, A. (2001). Interval estimation for a
   binomial proportion. *Statistical Science* 16(2), 101-133.
.. [3] Saisana, M., Saltelli, A. and Tarantola, S. (2005). Uncertainty and
   sensitivity analysis techniques as tools for the quality assessment of
   composite indicators. *J. R. Stat. Soc. A* 168(2), 307-323.
.. [4] Cornish, E. A. and Fisher, R. A. (1938). Moments and cumulants in the
   specification of distributions. *Rev. Int. Stat. Inst.* 5, 307-320.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special, stats

__all__ = ["CellDistributions", "cell_distributions", "draw_values", "draw_scores", "summarise_draws"]

_LOGIT_MIN_SHAPE = 1.5


@dataclass(frozen=True)
class CellDistributions:
    """Sampling distribution of every cell of a (units x indicators) table.

    Attributes
    ----------
    kind : ndarray of str, shape (n_units, n_ind)
        ``beta``, ``normal`` or ``fixed`` (``missing`` for NaN cells).
    centre : ndarray (n_units, n_ind)
        Nominal value.
    a, b : ndarray (n_units, n_ind)
        Beta shapes (beta cells).
    scale : ndarray (n_units, n_ind)
        value = scale * p for beta cells (1, or 100 for percentages).
    se : ndarray (n_units, n_ind)
        Standard error (normal cells).
    """

    kind: np.ndarray
    centre: np.ndarray
    a: np.ndarray
    b: np.ndarray
    scale: np.ndarray
    se: np.ndarray

    def counts(self) -> dict[str, int]:
        """Cells per kind."""
        k, c = np.unique(self.kind, return_counts=True)
        return {str(a): int(b) for a, b in zip(k, c, strict=True)}


def cell_distributions(
    value: np.ndarray,
    numerator: np.ndarray,
    denominator: np.ndarray,
    n: np.ndarray,
    ci_low: np.ndarray,
    ci_high: np.ndarray,
    *,
    kinds: Mapping[int, str] | None = None,
    shrunk: np.ndarray | None = None,
    level: float = 0.95,
) -> CellDistributions:
    """Decide each cell's sampling distribution from the panel's counts and intervals.

    Parameters
    ----------
    value, numerator, denominator, n, ci_low, ci_high : ndarray (n_units, n_ind)
        Wide panel columns.
    kinds : mapping, optional
        ``{column position: panel kind}`` when the panel says (``proportion``,
        ``mean``, ...); otherwise a column is a proportion when in every row
        ``0 <= numerator <= denominator = n``, the numerator is a whole number and
        ``value = s * numerator / denominator`` with ``s`` 1 or 100.
    shrunk : ndarray (n_units, n_ind), optional
        Shrunken estimates to centre the draws on.
    level : float
        Confidence level of the panel's intervals (kpilab's default 0.95).
    """
    n_units, n_ind = value.shape
    kind = np.full((n_units, n_ind), "fixed", dtype=object)
    a = np.full((n_units, n_ind), np.nan)
    b = np.full((n_units, n_ind), np.nan)
    scale = np.ones((n_units, n_ind))
    se = np.zeros((n_units, n_ind))
    centre = value.copy() if shrunk is None else np.where(np.isnan(shrunk), value, shrunk)
    for j in range(n_ind):
        v, k, d, nn = value[:, j], numerator[:, j], denominator[:, j], n[:, j]
        ok = ~np.isnan(v)
        if not ok.any():
            continue
        declared = (kinds or {}).get(j)
        s = _proportion_scale(v[ok], k[ok], d[ok], nn[ok]) if declared in (None, "proportion") else None
        if s is not None:
            kk, dd = k[ok], d[ok]
            if shrunk is None:
                aa, bb = kk + 0.5, dd - kk + 0.5
            else:
                p = np.clip(centre[ok, j] / s, 1e-9, 1 - 1e-9)
                aa, bb = p * (dd + 1), (1 - p) * (dd + 1)
            a[ok, j], b[ok, j], scale[ok, j] = aa, bb, s
            kind[ok, j] = "beta"
            continue
        lo, hi = ci_low[:, j], ci_high[:, j]
        has = ok & ~np.isnan(lo) & ~np.isnan(hi) & (hi >= lo)
        if has.any():
            df = np.where(nn[has] > 1, nn[has] - 1, np.inf)
            q = stats.t.ppf(0.5 + level / 2, df)
            se[has, j] = (hi[has] - lo[has]) / (2 * q)
            kind[has, j] = "normal"
    kind[np.isnan(value)] = "missing"
    return CellDistributions(kind, centre, a, b, scale, se)


def _proportion_scale(v: np.ndarray, k: np.ndarray, d: np.ndarray, n: np.ndarray) -> float | None:
    if np.isnan(k).any() or np.isnan(d).any() or (d <= 0).any():
        return None
    if not ((k >= 0) & (k <= d) & (np.abs(k - np.round(k)) < 1e-9)).all():
        return None
    if not np.isnan(n).any() and not np.allclose(n, d):
        return None
    ratio = k / d
    for s in (1.0, 100.0):
        if np.allclose(v, s * ratio, rtol=1e-6, atol=1e-9):
            return s
    return None


@dataclass(frozen=True)
class _Column:
    """Precomputed draw recipe for one indicator column (dense over its units, NaN rows stay NaN).

    ``dense`` is ``normal`` (value = centre + se z; se = 0 for fixed cells) or
    ``beta`` (value = scale expit(m + sd (z + g (z^2 - 1)/6))); the rows of the
    other kind are patched in afterwards (``patch_*``), and beta cells with a
    shape below 1.5 are drawn exactly (``edge_*``).
    """

    dense: str
    centre: np.ndarray
    se: np.ndarray
    half_m: np.ndarray  # m / 2, sd / 2: expit(x) = (1 + tanh(x / 2)) / 2 is cheaper than exp
    half_sd: np.ndarray
    g6: np.ndarray  # g / 6
    half_scale: np.ndarray
    patch: np.ndarray  # rows to overwrite with the other recipe
    edge: np.ndarray
    a_e: np.ndarray
    b_e: np.ndarray
    scale_e: np.ndarray


def _columns(dist: CellDistributions) -> list[_Column]:
    cols = []
    for j in range(dist.kind.shape[1]):
        k = dist.kind[:, j]
        beta = k == "beta"
        a, b = np.where(beta, dist.a[:, j], 2.0), np.where(beta, dist.b[:, j], 2.0)
        smooth = beta & (np.minimum(a, b) >= _LOGIT_MIN_SHAPE)
        edge = np.flatnonzero(beta & ~smooth)
        var = special.polygamma(1, a) + special.polygamma(1, b)
        m = np.where(smooth, special.digamma(a) - special.digamma(b), np.nan)
        g = (special.polygamma(2, a) - special.polygamma(2, b)) / var**1.5
        se = np.where(k == "normal", dist.se[:, j], 0.0)
        dense = "beta" if smooth.sum() > (~smooth & (k != "missing")).sum() else "normal"
        patch = np.flatnonzero(~smooth & (k != "missing")) if dense == "beta" else np.flatnonzero(smooth)
        miss = k == "missing"  # drawn as 0: their weight is 0 and the nominal pattern decides availability
        m = np.where(miss, 0.0, m)
        f32 = np.float32  # draws are float32: half the memory traffic; scores need ~6 significant digits
        cols.append(_Column(dense=dense, centre=np.where(miss, 0.0, dist.centre[:, j]).astype(f32),
                            se=se.astype(f32), half_m=(m / 2).astype(f32), half_sd=(np.sqrt(var) / 2).astype(f32),
                            g6=(g / 6).astype(f32), half_scale=(np.where(miss, 0.0, dist.scale[:, j]) / 2).astype(f32),
                            patch=patch, edge=edge, a_e=a[edge],
                            b_e=b[edge], scale_e=dist.scale[edge, j]))
    return cols


def _beta_part(col: _Column, zc: np.ndarray, rows: Any = slice(None)) -> np.ndarray:
    q = col.g6[rows][None, :] * (zc * zc - 1)
    q += zc
    q *= col.half_sd[rows][None, :]
    q += col.half_m[rows][None, :]
    np.tanh(q, out=q)
    q += 1.0
    q *= col.half_scale[rows][None, :]
    return q


def _normal_part(col: _Column, zc: np.ndarray, rows: Any = slice(None)) -> np.ndarray:
    out = col.se[rows][None, :] * zc
    out += col.centre[rows][None, :]
    return out


def _draw_column(col: _Column, z: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Draws ``(D, U)`` of one column from its common normals ``z`` ``(D,)``."""
    zc = z[:, None]
    if col.dense == "beta":
        out = _beta_part(col, zc)
        if col.patch.size:
            out[:, col.patch] = _normal_part(col, zc, col.patch)
    else:
        out = _normal_part(col, zc)
        if col.patch.size:
            out[:, col.patch] = _beta_part(col, zc, col.patch)
    if col.edge.size:
        out[:, col.edge] = col.scale_e[None, :] * rng.beta(col.a_e, col.b_e, size=(len(z), col.edge.size))
    return out


def draw_values(dist: CellDistributions, z: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Values of ``len(z)`` draws, shape ``(D, U, I)``, from common normals ``z`` of shape ``(D, I)``."""
    cols = _columns(dist)
    return np.stack([_draw_column(c, z[:, j], rng) for j, c in enumerate(cols)], axis=-1)


def draw_scores(
    dist: CellDistributions,
    normalise_column: Callable[[int, np.ndarray], np.ndarray],
    structure: Any,
    methods: Mapping[str, str],
    *,
    linear: list[tuple[Any, Any, float, float] | None] | None = None,
    draws: int = 1000,
    seed: int | None = 0,
    max_cells: int = 1_000_000,
    threads: int = 2,
    progress: bool = True,
) -> np.ndarray:
    r"""Index scores of ``draws`` simulated data sets, shape ``(draws, U)``.

    Parameters
    ----------
    dist : CellDistributions
    normalise_column : callable
        ``(j, values (d, U)) -> scores (d, U)`` with the nominal bounds held fixed.
    structure
        The aggregation structure of the nominal data (weights, coverage) from
        :mod:`kpilab.scoring.aggregate`; the missing-value pattern is the nominal one.
    methods : mapping
        ``{"pillar": ..., "index": ...}``.
    linear : list, optional
        Per column, ``(a, b, lo, hi)`` from :func:`kpilab.scoring.normalise.linear_form`
        when its normalisation is a capped linear map (then fused with the
        weighting), else None (``normalise_column`` is called).
    draws, seed : int
    max_cells : int
        Values per array per chunk of draws (bounds memory: chunks of
        ``max_cells // U`` draws).
    threads : int
        Indicator columns are drawn and scored in this many threads (numpy
        releases the GIL).
    progress : bool
        tqdm progress bar.

    Notes
    -----
    Arithmetic, geometric and harmonic pillar means are accumulated column by
    column (:math:`\sum_i v_i f(s_i)`, :math:`f` = identity, log, reciprocal), so
    the (draws x units x indicators) array is never built; the weighted median
    builds it one pillar at a time.
    """
    from concurrent.futures import ThreadPoolExecutor

    from tqdm.auto import tqdm

    from kpilab.scoring.aggregate import _combine

    st = structure
    cols = _columns(dist)
    n_units, n_ind = dist.centre.shape
    n_p = len(st.pillars)
    linear = linear or [None] * n_ind
    chunk = max(1, min(draws, max_cells // max(1, n_units)))
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    out = np.empty((draws, n_units))
    pm = methods["pillar"]
    separable = pm in ("arithmetic", "geometric", "harmonic")
    n_threads = max(1, min(threads, n_ind))
    groups = [list(range(n_ind))[k::n_threads] for k in range(n_threads)]
    fused = {}
    for j in range(n_ind):  # score = clip(a + b x) and weight w folded: w a + w b x, clipped to [w lo, w hi]
        if linear[j] is not None and pm == "arithmetic":
            a, b, lo, hi = linear[j]
            w = st.within[:, j]
            a, b = np.broadcast_to(a, w.shape).astype(np.float64), np.broadcast_to(b, w.shape).astype(np.float64)
            c = cols[j]
            simple = c.dense == "normal" and not c.patch.size and not c.edge.size
            f32 = np.float32
            fused[j] = ((a + b * c.centre).astype(f32), (b * c.se).astype(f32), lo, hi, simple, a.astype(f32),
                        b.astype(f32), w.astype(f32))

    def work(col_ids: list[int], z: np.ndarray, chunk_no: int) -> tuple[np.ndarray | None, dict[int, np.ndarray]]:
        d = z.shape[0]
        acc = np.zeros((n_p, d, n_units), dtype=np.float32 if pm == "arithmetic" else np.float64) \
            if separable else None
        kept: dict[int, np.ndarray] = {}
        for j in col_ids:
            crng = np.random.default_rng([0 if seed is None else seed, chunk_no, j])
            p = st.pillar_of[j]
            if j in fused:
                c0, c1, lo, hi, simple, a, b, w = fused[j]
                if simple:  # a + b (centre + se z) in two passes
                    f = c1[None, :] * z[:, j, None]
                    f += c0[None, :]
                else:
                    f = _draw_column(cols[j], z[:, j], crng)
                    f *= b[None, :]
                    f += a[None, :]
                if np.isfinite(lo) or np.isfinite(hi):
                    np.clip(f, lo, hi, out=f)
                f *= w[None, :]
                acc[p] += f
                continue
            s = normalise_column(j, _draw_column(cols[j], z[:, j], crng))
            w = st.within[:, j]
            if not separable:
                kept[j] = s
                continue
            used = w > 0
            if pm == "arithmetic":
                f = np.where(used[None, :], s, 0.0)
            else:
                if np.any(used[None, :] & ~(s > 0)):
                    raise_zero(pm)
                f = np.log(np.where(used[None, :], s, 1.0)) if pm == "geometric" else \
                    1.0 / np.where(used[None, :], s, 1.0)
            f *= w[None, :]
            acc[p] += f
        return acc, kept

    idx_w = np.where(st.pillar_ok, st.pillar_w, 0.0)
    with tqdm(total=draws, desc="score draws", unit="draw", disable=not progress, leave=False) as bar, \
            ThreadPoolExecutor(max_workers=n_threads) as ex:
        for chunk_no, start in enumerate(range(0, draws, chunk)):
            d = min(chunk, draws - start)
            z = rng.standard_normal((d, n_ind), dtype=np.float32)
            parts = [work(groups[0], z, chunk_no)] if n_threads == 1 else \
                list(ex.map(lambda g, z=z, c=chunk_no: work(g, z, c), groups))
            if separable:
                acc = parts[0][0]
                for part in parts[1:]:
                    acc += part[0]
                if pm == "geometric":
                    np.exp(acc, out=acc)
                elif pm == "harmonic":
                    with np.errstate(divide="ignore"):
                        np.reciprocal(acc, out=acc)
                if methods["index"] == "arithmetic":
                    index = np.zeros((d, n_units))
                    for p in range(n_p):
                        index += idx_w[None, :, p] * np.where(st.pillar_ok[None, :, p], acc[p], 0.0)
                else:
                    pil = np.where(st.pillar_ok, np.moveaxis(acc, 0, -1), np.nan)
                    index = _combine(pil, np.broadcast_to(idx_w, pil.shape), methods["index"], None)
            else:
                kept = {j: s for part in parts for j, s in part[1].items()}
                pil = np.empty((d, n_units, n_p))
                for p in range(n_p):
                    ids = np.flatnonzero(st.pillar_of == p)
                    sp = np.stack([kept[j] for j in ids], axis=-1)
                    pil[..., p] = _combine(sp, np.broadcast_to(st.within[:, ids], sp.shape), pm, None)
                pil = np.where(st.pillar_ok, pil, np.nan)
                index = _combine(pil, np.broadcast_to(idx_w, pil.shape), methods["index"], None)
            out[start:start + d] = np.where(st.index_ok, index, np.nan)
            bar.update(d)
    return out


def raise_zero(method: str) -> None:
    """The geometric/harmonic refusal, for scores that reach zero in the draws."""
    from kpilab.errors import ParameterError

    raise ParameterError(
        f"Aggregation method {method!r} needs strictly positive scores, but some simulated draws score zero or "
        "less (e.g. capped goalposts or targets). Normalise to [1, 100] (normalise='minmax' with lower=1) or "
        "use 'arithmetic'."
    )


def summarise_draws(
    index_draws: np.ndarray, grade_mins: list[float], grade_labels: list[str], reported: np.ndarray,
    *, interval: tuple[float, float] = (0.05, 0.95), settled: float = 0.8,
) -> dict[str, Any]:
    """Score interval, grade probabilities and ``grade_settled`` from index draws ``(D, n_units)``.

    Returns a dict of arrays: ``score_low``, ``score_high``, ``p_<grade>`` for
    each grade, ``p_grade`` (probability of the reported grade) and
    ``grade_settled`` (``p_grade >= settled``).
    """
    from kpilab.scoring.grades import grade_index

    ok = ~np.isnan(index_draws)
    with np.errstate(all="ignore"):
        lo, hi = np.nanquantile(np.where(ok, index_draws, np.nan), list(interval), axis=0) \
            if ok.any() else (np.full(index_draws.shape[1], np.nan),) * 2
    gi = grade_index(index_draws, grade_mins)
    n_ok = ok.sum(axis=0)
    out: dict[str, Any] = {"score_low": lo, "score_high": hi}
    probs = np.full((len(grade_labels), index_draws.shape[1]), np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        for k, g in enumerate(grade_labels):
            probs[k] = np.where(n_ok > 0, (gi == k).sum(axis=0) / n_ok, np.nan)
            out[f"p_{g}"] = probs[k]
    lab = {g: k for k, g in enumerate(grade_labels)}
    rk = np.array([lab.get(r, -1) for r in reported])
    p_rep = np.where(rk >= 0, probs[np.clip(rk, 0, None), np.arange(len(rk))], np.nan)
    out["p_grade"] = p_rep
    out["grade_settled"] = np.where(np.isnan(p_rep), False, p_rep >= settled)
    return out
