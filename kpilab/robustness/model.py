r"""The composite score as a vectorised function of the uncertain inputs.

:class:`Model` holds the nominal build (the same steps and helpers as
:func:`kpilab.scoring.score`: :func:`~kpilab.scoring.normalise.resolve_specs`,
:func:`~kpilab.scoring.normalise.fit_normalisation` /
:func:`~kpilab.scoring.normalise.apply_normalisation` /
:func:`~kpilab.scoring.normalise.linear_form`, the coverage rules of
:mod:`kpilab.scoring.aggregate` and the cell distributions of
:mod:`kpilab.scoring.uncertainty`) and :meth:`Model.evaluate` scores and ranks
many runs at once: runs that share a normalisation and an aggregation method
are processed as a ``(draws, units, indicators)`` stack in chunks of at most
``max_cells`` values, in threads, never one rebuild per draw.

Conventions
-----------
* Normalisation bounds (min, max, mean, sd, reference ranks) are learnt once
  per method from the nominal values of every period and held fixed, as in the
  scoring step: measurement noise moves only a unit's own values.
* An aggregation that needs positive scores (geometric, harmonic) gets each
  indicator's scores mapped to [1, 100] first, :math:`s' = 1 + 99 (s - L)/(H - L)`
  with the method's score range :math:`[L, H]` ([0, 100] for points; the nominal
  range for z-scores), as COINr advises; the index is mapped back to points.
* An excluded indicator gets weight 0: its pillar renormalises over the rest
  (a pillar left empty drops out and the pillar weights renormalise).
* Measurement noise is independent across units and indicators (ranks depend
  on the joint distribution, so the scoring step's common random numbers,
  shared by all units, cannot be used). Fresh normals for every cell of every
  draw would cost more than the rest of the model, so the normals come from a
  pool :math:`Z_{k,i,u}` of :math:`K \ge 64` independent standard normal rows per
  indicator (at least :math:`2^{18}` values per indicator), read with a random
  row and a random cyclic shift per draw and indicator (rotation sampling):
  :math:`z_{d,i,u} = Z_{k_{di},\,i,\,(u + s_{di}) \bmod U}`. Within a draw the units
  get distinct pool values (independent); across draws a unit's values are
  draws with replacement from the :math:`KU` pool values. The row and shift are
  a hash (SplitMix64) of the draw's ``noise`` input, so a draw's noise depends on
  that input alone: results are identical for the same seed whatever the
  chunking or the number of threads, and the Sobol' design sees one input.
  Proportions use the scoring step's Cornish-Fisher logit transform of
  :math:`z`; cells whose beta shape is below 1.5 the exact beta quantile at
  :math:`\Phi(z)`, stratified in 256 equal-probability bins.
* Ranks: 1 is the best, ties get the average rank, units are ranked within
  their period; a unit without a score in a draw has no rank in it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import special

from kpilab.errors import ParameterError
from kpilab.robustness.inputs import Plan
from kpilab.scoring.aggregate import _aggregate_arrays, _structure
from kpilab.scoring.grades import grade_index
from kpilab.scoring.normalise import NormSpec, apply_normalisation
from kpilab.scoring.uncertainty import CellDistributions, _beta_part, _Column, _columns, _normal_part

__all__ = ["Model", "Variant", "Evaluation", "average_ranks"]

_POWER = ("arithmetic", "geometric", "harmonic")
_POSITIVE = ("geometric", "harmonic")
_EDGE_LEVELS = 256
_POOL_VALUES = 1 << 18


def _splitmix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser (Steele, Lea & Flood 2014) on uint64 arrays: a cheap, well-mixed hash."""
    with np.errstate(over="ignore"):  # arithmetic modulo 2**64 is the point
        x = np.asarray(x, dtype=np.uint64) + np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def average_ranks(x: np.ndarray) -> np.ndarray:
    """Ranks along the last axis, 1 = highest value, ties averaged, NaN stays NaN (float32).

    Examples
    --------
    >>> average_ranks(np.array([[3.0, 1.0, 3.0, np.nan]])).tolist()
    [[1.5, 3.0, 1.5, nan]]
    """
    x = np.asarray(x)
    n = x.shape[-1]
    order = np.argsort(-x, axis=-1)  # NaN sorts last; ties are averaged, so stability is not needed
    xs = np.take_along_axis(x, order, axis=-1)
    pos = np.broadcast_to(np.arange(n), xs.shape)
    new = np.ones(xs.shape, dtype=bool)
    new[..., 1:] = xs[..., 1:] != xs[..., :-1]
    start = np.maximum.accumulate(np.where(new, pos, 0), axis=-1)
    last = np.ones(xs.shape, dtype=bool)
    last[..., :-1] = new[..., 1:]
    end = np.flip(np.minimum.accumulate(np.flip(np.where(last, pos, n), axis=-1), axis=-1), axis=-1)
    avg = ((start + end) / 2 + 1).astype(np.float32)
    out = np.empty(x.shape, dtype=np.float32)
    np.put_along_axis(out, order, avg, axis=-1)
    out[np.isnan(x)] = np.nan
    return out


@dataclass(frozen=True)
class Variant:
    """One normalisation method resolved for every indicator.

    Attributes
    ----------
    name : str
    specs : dict of NormSpec
    fitted : dict
        Bounds learnt from the nominal values (all periods).
    linear : list
        :func:`~kpilab.scoring.normalise.linear_form` per indicator (None: not linear).
    low, high : ndarray (I,)
        Score range of each indicator (for the map to [1, 100]).
    points : bool
        Whether the scores are 0-100 points (grades apply).
    scores : ndarray (U, I)
        Nominal scores of the analysed rows (NaN: no value).
    fallback : list of str
        Indicators that keep their nominal spec because they lack what the method needs.
    """

    name: str
    specs: dict[str, NormSpec]
    fitted: dict[str, Any]
    linear: list[Any]
    low: np.ndarray
    high: np.ndarray
    points: bool
    scores: np.ndarray
    fallback: list[str] = field(default_factory=list)


@dataclass
class Evaluation:
    """What :meth:`Model.evaluate` returns for ``n`` runs of ``U`` units.

    Attributes
    ----------
    ranks : ndarray (n, U) float32 or None
        Rank of each unit in each run (kept when asked).
    abs_shift : ndarray (n,)
        Mean absolute rank shift against the nominal ranks (units ranked in both).
    unit_ranks : ndarray (n, m)
        Ranks of the units asked for (``track``).
    grade_counts : ndarray (G, U)
        Runs in each grade, over the runs whose scores are points.
    graded : ndarray (U,)
        Runs on the points scale in which the unit has a score.
    top, bottom, scored : ndarray (U,)
        Runs in the top decile, the bottom decile, and with a rank at all.
    abs_dev : ndarray (U,)
        Sum over runs of ``|rank - nominal rank|`` (0 without nominal ranks).
    """

    ranks: np.ndarray | None
    abs_shift: np.ndarray
    unit_ranks: np.ndarray
    grade_counts: np.ndarray
    graded: np.ndarray
    top: np.ndarray
    bottom: np.ndarray
    scored: np.ndarray
    abs_dev: np.ndarray


@dataclass
class Model:
    """The nominal build of the analysed rows and everything the runs need.

    Attributes
    ----------
    codes : list of str
        Scored indicators.
    unit_ids, periods : ndarray of str (U,)
        Analysed rows (units with a nominal score).
    pillar_of : ndarray (I,), pillars : list of str
    min_coverage : float
    avail : ndarray (U, I) bool
        Cells with a value (the nominal missing pattern).
    role_of : ndarray (U,) int
        Row of each unit's role in the weight arrays.
    variants : list of Variant
        Position 0: the nominal normalisation; then the uncertain list.
    aggregations : list of dict
        ``{"pillar": ..., "index": ...}``; position 0 nominal, then the list.
    dist : CellDistributions or None
        Sampling distributions of the analysed cells (None: no noise).
    grade_mins : list of float
    seed : int
    """

    codes: list[str]
    unit_ids: np.ndarray
    periods: np.ndarray
    pillar_of: np.ndarray
    pillars: list[str]
    min_coverage: float
    avail: np.ndarray
    role_of: np.ndarray
    variants: list[Variant]
    aggregations: list[dict[str, str]]
    dist: CellDistributions | None
    grade_mins: list[float]
    seed: int = 0
    _cache: dict[Any, Any] = field(default_factory=dict, repr=False)

    # ------------------------------------------------------------------ setup
    def __post_init__(self) -> None:
        key = np.concatenate([self.role_of[:, None], self.avail.astype(np.int64)], axis=1)
        pats, inv = np.unique(key, axis=0, return_inverse=True)
        self._pat_role = pats[:, 0].astype(int)
        self._pat_avail = pats[:, 1:].astype(bool)
        self._pat = inv.reshape(-1)
        groups = {}
        for p in dict.fromkeys(self.periods.tolist()):
            groups[p] = np.flatnonzero(self.periods == p)
        self._groups = list(groups.values())
        self._cols: list[_Column] | None = _columns(self.dist) if self.dist is not None else None
        self._edge: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        if self._cols is not None:
            for j, c in enumerate(self._cols):
                if c.edge.size:
                    ab = np.stack([c.a_e, c.b_e], axis=1)
                    uniq, idx = np.unique(ab, axis=0, return_inverse=True)
                    q = (np.arange(_EDGE_LEVELS) + 0.5) / _EDGE_LEVELS
                    tab = special.betaincinv(uniq[:, :1], uniq[:, 1:], q[None, :])
                    self._edge[j] = ((tab[idx.reshape(-1)] * c.scale_e[:, None]).astype(np.float32),
                                     np.arange(c.edge.size)[None, :])

    @property
    def n_units(self) -> int:
        """Analysed rows."""
        return len(self.unit_ids)

    # --------------------------------------------------------------- weights
    def _weights(self, W: np.ndarray, excluded: np.ndarray) -> Any:
        """Aggregation structure per run and pattern: ``_Structure`` with arrays (d * P, ...)."""
        d = W.shape[0]
        wp = W[:, self._pat_role, :].copy()  # (d, P, I)
        hit = np.flatnonzero(excluded >= 0)
        if hit.size:
            wp[hit, :, excluded[hit]] = 0.0
        n_p, n_i = self._pat_avail.shape
        avail = np.broadcast_to(self._pat_avail, (d, n_p, n_i)).reshape(-1, n_i)
        return _structure(avail, wp.reshape(-1, n_i), self.pillar_of, self.pillars, self.min_coverage)

    # ----------------------------------------------------------------- scores
    def _shift(self, v: Variant, positive: bool) -> tuple[np.ndarray, np.ndarray] | None:
        if not positive:
            return None
        span = np.where(v.high > v.low, v.high - v.low, 1.0)
        beta = 99.0 / span
        return (1.0 - beta * v.low), beta

    def _fused(self, vi: int, j: int, shift: tuple[np.ndarray, np.ndarray] | None
               ) -> tuple[np.ndarray, np.ndarray, float, float] | None:
        """(c0, c1, lo, hi): score = clip(c0 + c1 z) for a column of normal cells under a linear method.

        With ``shift`` (the map to [1, 100]) folded in: ``alpha + beta clip(a + b x)`` is
        ``clip(alpha + beta a + beta b x)`` with the bounds mapped, then capped at [1, 100].
        """
        key = ("fused", vi, j, shift is not None)
        if key not in self._cache:
            v = self.variants[vi]
            lin = v.linear[j]
            c = self._cols[j]
            if lin is None or c.dense != "normal" or c.patch.size or c.edge.size:
                self._cache[key] = None
            else:
                a, b, lo, hi = lin
                a = np.broadcast_to(np.asarray(a, dtype=float), c.centre.shape)
                b = np.broadcast_to(np.asarray(b, dtype=float), c.centre.shape)
                c0, c1 = a + b * c.centre.astype(float), b * c.se.astype(float)
                if shift is not None:
                    al, be = float(shift[0][j]), float(shift[1][j])
                    c0, c1 = al + be * c0, be * c1
                    lo = max(al + be * lo, 1.0) if np.isfinite(lo) else 1.0
                    hi = min(al + be * hi, 100.0) if np.isfinite(hi) else 100.0
                self._cache[key] = (c0.astype(np.float32), c1.astype(np.float32), lo, hi)
        return self._cache[key]

    # ------------------------------------------------------------------ noise
    def _pool(self) -> tuple[Any, Any]:
        """Sliding windows over the doubled normal pool (and its 256 probability strata)."""
        if "pool" not in self._cache:
            n_i, n_u = len(self.codes), self.n_units
            k = max(64, -(-_POOL_VALUES // n_u))
            g = np.random.Generator(np.random.PCG64(np.random.SeedSequence([int(self.seed), 0x5EED])))
            z = g.standard_normal((k, n_i, n_u), dtype=np.float32)
            z2 = np.concatenate([z, z], axis=2)
            strata = None
            if self._edge:
                st = np.minimum((special.ndtr(z) * _EDGE_LEVELS).astype(np.uint8), _EDGE_LEVELS - 1)
                strata = np.lib.stride_tricks.sliding_window_view(np.concatenate([st, st], axis=2), n_u, axis=2)
            self._cache["pool"] = (np.lib.stride_tricks.sliding_window_view(z2, n_u, axis=2), strata, k)
        return self._cache["pool"]

    def _rotation(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pool row ``(d, I)`` and cyclic shift ``(d, I)`` of each draw and indicator, hashed from its key."""
        _, _, k = self._pool()
        n_i = len(self.codes)
        base = _splitmix64(np.uint64(self.seed) ^ np.uint64(0x0B5E55ED))
        h = _splitmix64(_splitmix64(keys.astype(np.uint64) ^ base)[:, None] + np.arange(n_i, dtype=np.uint64))
        return (h % np.uint64(k)).astype(np.int64), ((h >> np.uint64(24)) % np.uint64(self.n_units)).astype(np.int64)

    def _column_draws(self, vi: int, j: int, rows: np.ndarray, shifts: np.ndarray,
                      shift: tuple[np.ndarray, np.ndarray] | None) -> np.ndarray:
        """Scores ``(d, U)`` float32 of indicator ``j`` under variant ``vi`` (mapped to [1, 100] with ``shift``)."""
        v = self.variants[vi]
        windows, strata, _ = self._pool()
        z = windows[rows, j, shifts]  # (d, U) copy
        fused = self._fused(vi, j, shift)
        if fused is not None:
            c0, c1, lo, hi = fused
            z *= c1[None, :]
            z += c0[None, :]
            if np.isfinite(lo) or np.isfinite(hi):
                np.clip(z, lo, hi, out=z)
            return z
        c = self._cols[j]
        if c.dense == "beta":
            x = _beta_part(c, z)
            if c.patch.size:
                x[:, c.patch] = _normal_part(c, z[:, c.patch], c.patch)
        else:
            x = _normal_part(c, z)
            if c.patch.size:
                x[:, c.patch] = _beta_part(c, z[:, c.patch], c.patch)
        if c.edge.size:
            tab, erows = self._edge[j]
            x[:, c.edge] = tab[erows, strata[rows, j, shifts][:, c.edge]]
        lin = v.linear[j]
        if lin is not None:
            a, b, lo, hi = lin
            s = (np.asarray(b, dtype=np.float32) * x + np.asarray(a, dtype=np.float32)).astype(np.float32)
            if np.isfinite(lo) or np.isfinite(hi):
                np.clip(s, lo, hi, out=s)
        else:
            code = self.codes[j]
            s = apply_normalisation(x.astype(float), v.specs[code], v.fitted[code]).astype(np.float32)
        if shift is not None:
            s *= np.float32(shift[1][j])
            s += np.float32(shift[0][j])
            np.clip(s, 1.0, 100.0, out=s)
        return s

    def index_block(self, W: np.ndarray, vi: int, ai: int, excluded: np.ndarray,
                    keys: np.ndarray | None) -> tuple[np.ndarray, bool]:
        """Index ``(d, U)`` of ``d`` runs sharing normalisation ``vi`` and aggregation ``ai``; and whether it is points."""
        v = self.variants[vi]
        methods = self.aggregations[ai]
        # the nominal aggregation (position 0) follows the scoring step exactly (zero scores are refused there)
        positive = ai > 0 and any(m in _POSITIVE for m in methods.values())
        shift = self._shift(v, positive)
        st = self._weights(W, excluded)
        d = W.shape[0]
        n_p = self._pat_avail.shape[0]
        n_u, n_i = self.avail.shape
        noisy = keys is not None
        if noisy:
            rows, shifts = self._rotation(keys)
        fast = methods["pillar"] == methods["index"] and methods["pillar"] in _POWER
        single = n_p == 1

        def column(j: int) -> np.ndarray:
            if not noisy:
                s = v.scores[:, j][None, :]
                if shift is not None:
                    s = np.clip(s * shift[1][j] + shift[0][j], 1.0, 100.0)
            else:
                s = self._column_draws(vi, j, rows[:, j], shifts[:, j], shift)
            if not self.avail[:, j].all():
                s = np.where(self.avail[None, :, j], s, 1.0)
            return s

        if fast:
            pm = methods["pillar"]
            dtype = np.float32 if noisy else np.float64
            eff = st.effective.reshape(d, n_p, n_i).astype(dtype)
            acc = np.zeros((d, n_u), dtype=dtype)
            for j in range(n_i):
                e = eff[:, 0, j][:, None] if single else eff[:, self._pat, j]
                if not e.any():
                    continue
                s = column(j)
                if pm == "geometric":
                    g = np.log(s, out=s) if noisy else np.log(s)
                elif pm == "harmonic":
                    g = np.reciprocal(s, out=s) if noisy else 1.0 / s
                else:
                    g = s
                if noisy:
                    g = np.multiply(g, e, out=g if g.shape == acc.shape else None)
                    acc += g
                else:
                    acc += e * g
            index = acc if pm == "arithmetic" else (np.exp(acc) if pm == "geometric" else 1.0 / acc)
            ok = st.index_ok.reshape(d, n_p)[:, self._pat]
        else:
            S = np.empty((d, n_u, n_i))
            for j in range(n_i):
                S[..., j] = column(j)

            def per_unit(a: np.ndarray) -> np.ndarray:
                return a.reshape(d, n_p, *a.shape[1:])[:, self._pat]

            stk = dataclasses.replace(st, within=per_unit(st.within), pillar_w=per_unit(st.pillar_w),
                                      pillar_ok=per_unit(st.pillar_ok), index_ok=per_unit(st.index_ok))
            if "copeland" in methods.values():
                raise ParameterError("Copeland aggregation ranks units against each other and cannot be redrawn; "
                                     "leave it out of 'aggregations' and of the nominal 'aggregate'.")
            _, index = _aggregate_arrays(S, stk, methods)
            ok = stk.index_ok
        index = np.asarray(index, dtype=np.float32 if noisy else np.float64)  # float32 sorts faster
        if shift is not None and v.points:
            index = (index - 1.0) / 0.99
        return np.where(ok, index, np.nan), v.points

    # ---------------------------------------------------------------- ranking
    def rank(self, index: np.ndarray) -> np.ndarray:
        """Ranks ``(d, U)`` within each period (1 = best)."""
        if len(self._groups) == 1:
            return average_ranks(index)
        out = np.empty(index.shape, dtype=np.float32)
        for g in self._groups:
            out[:, g] = average_ranks(index[:, g])
        return out

    def deciles(self, ranks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Top-decile and bottom-decile membership ``(d, U)`` (rank <= n/10, rank > n - n/10 in the period)."""
        top = np.zeros(ranks.shape, dtype=bool)
        bottom = np.zeros(ranks.shape, dtype=bool)
        for g in self._groups:
            r = ranks[:, g]
            n = np.sum(~np.isnan(r), axis=1, keepdims=True)
            top[:, g] = r <= n / 10
            bottom[:, g] = r > n - n / 10
        return top, bottom

    # --------------------------------------------------------------- evaluate
    def evaluate(self, plan: Plan, nominal_ranks: np.ndarray | None, *, keep_ranks: bool = False,
                 track: np.ndarray | None = None, max_cells: int = 4_000_000, threads: int = 2,
                 progress: bool = True, desc: str = "robustness draws") -> Evaluation:
        """Score and rank every run of ``plan``, in chunks and threads.

        Parameters
        ----------
        plan : Plan
        nominal_ranks : ndarray (U,) or None
            For the mean absolute rank shift (None: shift not computed).
        keep_ranks : bool
            Keep the ``(n, U)`` rank array (float32).
        track : ndarray of int, optional
            Units whose rank in every run is returned.
        max_cells : int
            Values per ``(draws x units x indicators)`` chunk (bounds memory).
        threads : int
            Worker threads (numpy releases the GIL).
        progress : bool
            tqdm progress bar.
        """
        from tqdm import tqdm

        n = plan.weights.shape[0]
        n_u = self.n_units
        chunk = max(1, min(n, max_cells // max(1, n_u * len(self.codes))))
        combo = plan.norm.astype(np.int64) * len(self.aggregations) + plan.agg
        order = np.argsort(combo, kind="stable")
        tasks = []
        for c in np.unique(combo):
            ids = order[combo[order] == c]
            tasks += [ids[k:k + chunk] for k in range(0, len(ids), chunk)]
        track = np.zeros(0, dtype=int) if track is None else np.asarray(track, dtype=int)
        n_g = len(self.grade_mins)
        ranks_all = np.empty((n, n_u), dtype=np.float32) if keep_ranks else None
        out = Evaluation(ranks_all, np.full(n, np.nan), np.empty((n, track.size), dtype=np.float32),
                         np.zeros((n_g, n_u), dtype=np.int64), np.zeros(n_u, dtype=np.int64),
                         np.zeros(n_u, dtype=np.int64), np.zeros(n_u, dtype=np.int64), np.zeros(n_u, dtype=np.int64),
                         np.zeros(n_u))

        def work(ids: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
            vi, ai = int(plan.norm[ids[0]]), int(plan.agg[ids[0]])
            keys = None if plan.noise_key is None else plan.noise_key[ids]
            index, points = self.index_block(plan.weights[ids], vi, ai, plan.excluded[ids], keys)
            r = self.rank(index)
            top, bottom = self.deciles(r)
            res = {"top": top.sum(axis=0), "bottom": bottom.sum(axis=0), "scored": (~np.isnan(r)).sum(axis=0),
                   "track": r[:, track]}
            if nominal_ranks is not None:
                with np.errstate(all="ignore"):
                    dev = np.abs(r - nominal_ranks[None, :])
                    res["shift"] = np.nanmean(dev, axis=1)
                    res["dev"] = np.nansum(dev, axis=0, dtype=np.float64)
            if points and n_g:
                gi = grade_index(index, self.grade_mins)
                res["grades"] = np.stack([(gi == k).sum(axis=0) for k in range(n_g)])
                res["graded"] = (gi >= 0).sum(axis=0)
            if ranks_all is not None:
                ranks_all[ids] = r
            return ids, res

        with tqdm(total=n, desc=desc, unit="draw", disable=not progress, leave=False) as bar, \
                ThreadPoolExecutor(max_workers=max(1, threads)) as ex:
            for ids, res in (ex.map(work, tasks) if threads > 1 else map(work, tasks)):
                out.top += res["top"]
                out.bottom += res["bottom"]
                out.scored += res["scored"]
                out.unit_ranks[ids] = res["track"]
                if "shift" in res:
                    out.abs_shift[ids] = res["shift"]
                    out.abs_dev += res["dev"]
                if "grades" in res:
                    out.grade_counts += res["grades"]
                    out.graded += res["graded"]
                bar.update(len(ids))
        return out


def variant_range(spec: NormSpec, fitted: Mapping[str, Any], lin: Any, nominal: np.ndarray) -> tuple[float, float]:
    """Score range ``[L, H]`` of one indicator under a method (for the map to [1, 100])."""
    if lin is not None and np.isfinite(lin[2]) and np.isfinite(lin[3]):
        return float(lin[2]), float(lin[3])
    if spec.method == "rank":
        return 1.0, float(len(fitted["sorted"]))
    if spec.method == "zscore":
        col = nominal[~np.isnan(nominal)]
        return (float(col.min()), float(col.max())) if col.size else (0.0, 1.0)
    if spec.method == "minmax":
        lo, hi = spec.params.get("lower", 0.0), spec.params.get("upper", 100.0)
        return float(min(lo, hi)), float(max(lo, hi))
    return 0.0, 100.0
