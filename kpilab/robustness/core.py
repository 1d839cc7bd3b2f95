r"""``robustness()``: Monte Carlo uncertainty and Sobol' sensitivity of ranks and grades."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from kpilab.errors import DataError, ParameterError
from kpilab.framework import Framework, load_framework
from kpilab.robustness.inputs import Uncertainty, make_design
from kpilab.robustness.model import Model, Variant, variant_range
from kpilab.robustness.result import GRADE_COLUMNS, RANK_COLUMNS, RobustnessResult
from kpilab.robustness.sensitivity import SENSITIVITY_COLUMNS, check_sobol_n, sobol_indices
from kpilab.scoring.aggregate import _aggregate_arrays, _structure, _weight_matrix, parse_methods
from kpilab.scoring.core import (
    _WIDE_COLS,
    _as_series,
    _move_weight_within_pillar,
    _roles_frame,
    panel_arrays,
    role_weight_table,
)
from kpilab.scoring.grades import grade_scores
from kpilab.scoring.normalise import (
    apply_normalisation,
    fit_normalisation,
    linear_form,
    resolve_specs,
)
from kpilab.scoring.uncertainty import cell_distributions

__all__ = ["robustness"]



def _rank_quantiles(R: np.ndarray, qs: list[float], threads: int) -> np.ndarray:
    """Quantiles ``(len(qs), U)`` of the rank draws ``R (D, U)`` over draws, in unit blocks and threads."""
    from concurrent.futures import ThreadPoolExecutor

    out = np.empty((len(qs), R.shape[1]))

    def block(k: int) -> None:
        blk = np.ascontiguousarray(R[:, k:k + 512].T)  # (units, draws): partition along contiguous rows
        with np.errstate(all="ignore"):
            q = np.nanquantile(blk, qs, axis=1) if np.isnan(blk).any() else np.quantile(blk, qs, axis=1)
        out[:, k:k + 512] = q

    with ThreadPoolExecutor(max_workers=max(1, threads)) as ex:
        list(ex.map(block, range(0, R.shape[1], 512)))
    return out


def _check_int(name: str, v: Any, low: int, what: str) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < low:
        raise ParameterError(f"The {name!r} parameter must be {what}. Got {v!r} instead.")
    return int(v)


def robustness(
    panel: Any,
    framework: Framework | str | Mapping[str, Any] | None = None,
    *,
    weights: Any = None,
    roles: Any = None,
    normalise: str | None = None,
    aggregate: str | Mapping[str, str] = "arithmetic",
    overrides: Mapping[str, Mapping[str, Any] | str] | None = None,
    min_coverage: float = 2 / 3,
    indicators: list[str] | None = None,
    unit_level: str = "agent",
    period: str = "latest",
    estimate: str = "auto",
    uncertainty: Uncertainty | None = None,
    draws: int = 10_000,
    sobol: int = 1024,
    sobol_output: str = "mean_abs_shift",
    seed: int = 0,
    interval: tuple[float, float] = (0.05, 0.95),
    shift_places: int | None = None,
    interval_level: float = 0.95,
    max_cells: int = 4_000_000,
    threads: int = 2,
    progress: bool = True,
) -> RobustnessResult:
    r"""Would a unit's rank or grade change if the design choices had been made differently?

    Propagates the uncertain inputs of :class:`~kpilab.robustness.Uncertainty`
    (weights, normalisation method, aggregation method, exclusion of one
    indicator, each unit's measurement noise) through the scoring step's own
    normalisation and aggregation, ``draws`` times, and apportions the variance
    of a chosen output to the inputs with Sobol' indices (SALib).

    Parameters
    ----------
    panel : DataFrame or path
        Long indicator panel, or a wide table (then no counts: no measurement noise).
    framework : Framework, path, mapping or None
        Directions, targets, floors, pillars, weight sets, grades (default kpilab's).
    weights : None, str, Series, WeightResult or mapping
        Nominal weights, as in :func:`~kpilab.scoring.score`: ``None``/``"roles"``
        (each unit's role set), a framework set name or ``"equal"``, indicator
        weights for everyone, or ``{role: weights}``.
    roles : DataFrame, Series, mapping or path, optional
        Agents table (``agent_id``, ``role``) for role weights.
    normalise : str, optional
        Nominal normalisation (default the framework's, else minmax).
    aggregate : str or mapping, default "arithmetic"
        Nominal aggregation.
    overrides : mapping, optional
        Per-indicator normalisation exceptions (kept in every draw).
    min_coverage : float, default 2/3
        Share of a pillar's weight that must have data.
    indicators : list of str, optional
        Indicators to score (default the framework's scored indicators in the panel).
    unit_level : str, default "agent"
    period : str, default "latest"
        Period analysed: ``"latest"``, ``"all"`` (ranks within each period) or a label.
    estimate : {"auto", "value", "value_shrunk"}
        Value scored (``auto``: ``value_shrunk`` when the panel has it).
    uncertainty : Uncertainty, optional
        The uncertain inputs (default: weights +-25 %, minmax/zscore/goalposts,
        arithmetic/geometric, one indicator dropped with probability 0.5,
        measurement noise).
    draws : int, default 10000
        Monte Carlo draws (at least 1).
    sobol : int, default 1024
        Saltelli base sample size :math:`N`, a power of 2 (0: no sensitivity analysis);
        the model runs :math:`N(k + 2)` times for :math:`k` inputs.
    sobol_output : str, default "mean_abs_shift"
        Output analysed: ``mean_abs_shift`` (mean absolute rank shift against the
        nominal ranking) or ``unit:<unit_id>`` (that unit's rank).
    seed : int, default 0
        Seed of everything random; the same seed gives identical results.
    interval : (float, float), default (0.05, 0.95)
        Quantiles of the rank interval.
    shift_places : int, optional
        Places a rank must be able to move (within the interval) to count as
        unstable in the summary; default :math:`\max(5, \lceil 0.05 N \rceil)`.
    interval_level : float, default 0.95
        Level of the panel's intervals (to recover standard errors).
    max_cells : int, default 4,000,000
        Values per chunk of the ``(draws x units x indicators)`` stack.
    threads : int, default 2
    progress : bool, default True

    Returns
    -------
    RobustnessResult

    Raises
    ------
    ParameterError
        Zero draws, a perturbation of 100 % or more, an empty method list, a
        Sobol' size that is not a power of 2, an unknown unit for ``sobol_output``.
    DataError
        No rows at ``unit_level``, no scored indicator, an unknown period.

    See Also
    --------
    kpilab.scoring.score : the nominal scores and their grade uncertainty.

    Notes
    -----
    For draw :math:`d` with inputs :math:`\theta_d`, unit :math:`u` gets the index
    :math:`I_u(\theta_d)` and the rank :math:`r_{ud}` (1 = best, within its period).
    Reported per unit: the nominal rank :math:`r_u^0`, the median and the
    ``interval`` quantiles of :math:`r_{ud}`, the mean absolute shift
    :math:`\frac1D\sum_d |r_{ud} - r^0_u|`, the probabilities of the top and bottom
    deciles and of each grade (over the draws whose scores are 0-100 points, so
    not z-scores). The default Sobol' output is
    :math:`\bar R_s(\theta) = \frac1N \sum_u |r_u(\theta) - r^0_u|`, the statistic of
    Saisana, Saltelli & Tarantola (2005).

    References
    ----------
    .. [1] Saisana, M., Saltelli, A. and Tarantola, S. (2005). Uncertainty and sensitivity
       analysis techniques as tools for the quality assessment of composite indicators.
       *J. R. Stat. Soc. A* 168(2), 307-323.
    .. [2] OECD/JRC (2008). *Handbook on Constructing Composite Indicators: Methodology and
       User Guide*, step 7. OECD Publishing.
    .. [3] Saltelli, A. (2002). Making best use of model evaluations to compute sensitivity
       indices. *Computer Physics Communications* 145(2), 280-297.
    .. [4] Saltelli, A. et al. (2010). Variance based sensitivity analysis of model output.
       *Computer Physics Communications* 181(2), 259-270.
    .. [5] Jansen, M. J. W. (1999). Analysis of variance designs for model output.
       *Computer Physics Communications* 117(1-2), 35-43.
    .. [6] Becker, W. et al. (2022). COINr. *JOSS* 7(78), 4567 (``get_sensitivity``).
    """
    t_start = time.perf_counter()
    spec = uncertainty if uncertainty is not None else Uncertainty()
    if not isinstance(spec, Uncertainty):
        raise ParameterError(f"The 'uncertainty' parameter must be an Uncertainty. Got {type(spec).__name__}.")
    spec.check()
    draws = _check_int("draws", draws, 1, "an integer >= 1 (Monte Carlo draws)")
    sobol = check_sobol_n(sobol)
    seed = _check_int("seed", seed, 0, "an integer >= 0")
    threads = _check_int("threads", threads, 1, "an integer >= 1")
    max_cells = _check_int("max_cells", max_cells, 1, "an integer >= 1")
    if not (len(interval) == 2 and 0 <= interval[0] < interval[1] <= 1):
        raise ParameterError(f"The 'interval' parameter must be two quantiles 0 <= lo < hi <= 1. Got {interval!r}.")
    if estimate not in ("auto", "value", "value_shrunk"):
        raise ParameterError(f"The 'estimate' parameter must be 'auto', 'value' or 'value_shrunk'. Got {estimate!r}.")
    if not (sobol_output == "mean_abs_shift" or (isinstance(sobol_output, str) and sobol_output.startswith("unit:"))):
        raise ParameterError(f"The 'sobol_output' parameter must be 'mean_abs_shift' or 'unit:<unit_id>'. "
                             f"Got {sobol_output!r} instead.")
    fw = framework if isinstance(framework, Framework) else load_framework(framework)
    nominal_methods = parse_methods(aggregate)
    notices: list[str] = []

    # ------------------------------------------------------------ panel -> arrays (as score() does)
    arr = panel_arrays(panel, fw, unit_level=unit_level, indicators=indicators, normalise=normalise,
                       overrides=overrides, estimate=estimate, notices=notices)
    codes, const, long, raw, shrunk, values = arr.codes, arr.const, arr.long, arr.raw, arr.shrunk, arr.values
    units, periods = arr.units, arr.periods
    n_ind = len(codes)
    if any(e.target_relief for e in fw.exemptions):
        notices.append("target relief of the framework's exemptions is not applied here (robustness compares "
                       "design choices on the unrelieved targets).")

    # ------------------------------------------------------------ nominal weights per role
    rt = _roles_frame(roles, list(dict.fromkeys(units)))
    role_of = dict(zip(rt["unit_id"], rt["role"], strict=True))
    row_role = np.array([role_of.get(u, "") for u in units], dtype=object)
    role_keys = list(dict.fromkeys(row_role))
    if weights is None or (isinstance(weights, str) and weights == "roles"):
        if roles is None and weights == "roles":
            raise ParameterError("weights='roles' needs roles= (the agents table with agent_id and role).")
        per_role, src, n = role_weight_table(fw, role_keys, codes)
        notices += n
        wsource = "roles: " + ", ".join(f"{r or '(no role)'} -> {s}" for r, s in src.items())
    elif isinstance(weights, Mapping) and not isinstance(weights, pd.Series):
        per_role, src, n = role_weight_table(fw, role_keys, codes, role_map=weights)
        notices += n
        wsource = "roles: " + ", ".join(f"{r or '(no role)'} -> {s}" for r, s in src.items())
    else:
        w, wsource = _as_series(weights, fw, codes, "")
        per_role = {r: w for r in role_keys}
    if const:
        per_role = {r: _move_weight_within_pillar(w, const, fw) for r, w in per_role.items()}
    for w in per_role.values():
        strict = w.attrs.get("kpilab_strict", True)
        _weight_matrix(w if strict else w.reindex(codes).fillna(0.0), codes, pd.RangeIndex(1))
    Wnom = np.vstack([per_role[r].reindex(codes).fillna(0.0).to_numpy(dtype=float) for r in role_keys])
    Wnom = Wnom / Wnom.sum(axis=1, keepdims=True)
    role_idx = np.array([role_keys.index(r) for r in row_role])

    # ------------------------------------------------------------ nominal build on every row
    pillars = {c: (fw.indicator(c).pillar if c in fw.codes else "other") for c in codes}
    plist = list(dict.fromkeys(pillars[c] for c in codes))
    pillar_of = np.array([plist.index(pillars[c]) for c in codes])
    nom_specs = resolve_specs(codes, normalise, framework=fw, overrides=overrides)
    nom_fit = {c: fit_normalisation(values[:, j], nom_specs[c]) for j, c in enumerate(codes)}
    S_all = np.column_stack([apply_normalisation(values[:, j], nom_specs[c], nom_fit[c]) for j, c in enumerate(codes)])
    st_all = _structure(~np.isnan(S_all), Wnom[role_idx], pillar_of, plist, min_coverage)
    _, idx_all = _aggregate_arrays(S_all, st_all, nominal_methods, periods)

    # analysed rows: the period asked for, units with a nominal score
    all_periods = sorted(set(periods))
    if period == "latest":
        keep_p = {all_periods[-1]}
    elif period == "all":
        keep_p = set(all_periods)
    elif period in all_periods:
        keep_p = {period}
    else:
        raise DataError(f"The 'period' parameter must be 'latest', 'all' or a period of the panel "
                        f"({', '.join(all_periods[-5:])}{' ...' if len(all_periods) > 5 else ''}). Got {period!r}.")
    in_p = np.isin(periods, list(keep_p))
    sel = np.flatnonzero(in_p & ~np.isnan(idx_all))
    unscored = int((in_p & np.isnan(idx_all)).sum())
    if unscored:
        notices.append(f"{unscored} unit(s) have no nominal score (insufficient coverage) and are not ranked.")
    if sel.size < 2:
        raise DataError(f"Only {sel.size} unit(s) with a score in period(s) {', '.join(sorted(keep_p))}: "
                        "ranks need at least two.")

    # ------------------------------------------------------------ normalisation variants
    def variant(name: str, method: str | None) -> Variant | None:
        if method is None:
            specs = nom_specs
            fallback: list[str] = []
        else:
            specs, fallback = {}, []
            try:
                specs = resolve_specs(codes, method, framework=fw, overrides=overrides)
            except ParameterError:
                for c in codes:  # indicators that lack what the method needs keep their nominal spec
                    try:
                        specs[c] = resolve_specs([c], method, framework=fw, overrides=overrides)[c]
                    except ParameterError:
                        specs[c], _ = nom_specs[c], fallback.append(c)
        fitted = {}
        for j, c in enumerate(codes):
            try:
                fitted[c] = fit_normalisation(values[:, j], specs[c])
            except ParameterError as exc:  # e.g. constant under a relative method: keep the nominal spec
                if method is None:
                    raise
                notices.append(f"under {method!r}, {c} keeps its nominal normalisation: {exc}")
                specs[c] = nom_specs[c]
                fitted[c] = nom_fit[c]
        scores = np.column_stack([apply_normalisation(values[sel, j], specs[c], fitted[c])
                                  for j, c in enumerate(codes)])
        lin = [linear_form(specs[c], fitted[c]) for c in codes]
        rng_ = [variant_range(specs[c], fitted[c], lin[j], scores[:, j]) for j, c in enumerate(codes)]
        low, high = np.array([r[0] for r in rng_]), np.array([r[1] for r in rng_])
        points = all(specs[c].method not in ("zscore", "rank") for c in codes) and bool(
            np.all(low == 0) and np.all(high == 100))
        return Variant(name, specs, fitted, lin, low, high, points, scores, fallback)

    nominal_name = normalise or (fw.normalise or {}).get("method", "minmax")
    variants = [variant(f"{nominal_name} (nominal)", None)]
    norm_list: list[str] = []
    for m in (spec.normalisations or ()):
        v = variant(m, m)
        if v is None:
            continue
        uses = [c for c in codes if c not in v.fallback and v.specs[c].method == m]
        if v.fallback and not uses:
            notices.append(f"normalisation {m!r} left the draw list: it needs targets (and floors) that the "
                           f"framework does not give ({', '.join(v.fallback[:5])}{' ...' if len(v.fallback) > 5 else ''}).")
            continue
        if v.fallback:
            notices.append(f"under {m!r}, {', '.join(v.fallback)} keep their nominal normalisation (the framework "
                           f"gives them no target or floor).")
        variants.append(v)
        norm_list.append(m)
    agg_list = [parse_methods(a) for a in (spec.aggregations or ())]
    for a in [nominal_methods, *agg_list]:
        if "copeland" in a.values():
            raise ParameterError("Copeland aggregation ranks units against each other and cannot be redrawn; "
                                 "leave it out of 'aggregations' and of the nominal 'aggregate'.")
    agg_names = [a["pillar"] if a["pillar"] == a["index"] else f"pillar={a['pillar']},index={a['index']}"
                 for a in agg_list]

    # ------------------------------------------------------------ measurement noise
    dist = None
    noise = bool(spec.noise)
    if noise:
        kinds = None
        if "kind" in long.columns:
            kk = long.drop_duplicates("indicator").set_index("indicator")["kind"]
            kinds = {j: str(kk.get(c)) for j, c in enumerate(codes) if pd.notna(kk.get(c))}
        d_all = cell_distributions(*(raw[c][sel] for c in _WIDE_COLS), kinds=kinds,
                                   shrunk=None if shrunk is None else shrunk[sel], level=interval_level)
        counts = d_all.counts()
        if counts.get("beta", 0) + counts.get("normal", 0) == 0:
            noise = False
            notices.append("measurement noise is off: the panel carries no counts or intervals (a wide table?).")
        else:
            dist = d_all
            fixed = [c for j, c in enumerate(codes) if (d_all.kind[:, j] == "fixed").any()]
            if fixed:
                notices.append(f"no counts or interval for {', '.join(fixed)} (some or all cells): held fixed "
                               "in the noise draws.")

    # ------------------------------------------------------------ named weight sets
    set_w, set_names = None, []
    if spec.weights == "sets":
        items = spec.weight_sets.items() if isinstance(spec.weight_sets, Mapping) else \
            [(s if isinstance(s, str) else getattr(s, "name", f"set{k}"), s) for k, s in enumerate(spec.weight_sets)]
        vecs = []
        for name, s in items:
            ser, _ = _as_series(s, fw, codes, "")
            ser = ser.reindex(codes).fillna(0.0)
            if ser.sum() <= 0:
                raise ParameterError(f"Weight set {name!r} puts no weight on the scored indicators.")
            vecs.append(ser.to_numpy(dtype=float) / ser.sum())
            set_names.append(str(name))
        set_w = np.broadcast_to(np.array(vecs)[:, None, :], (len(vecs), len(role_keys), n_ind)).copy()

    design = make_design(spec, codes, Wnom, set_weights=set_w, set_names=set_names, norm_names=norm_list,
                         agg_names=agg_names, noise=noise)
    model = Model(codes, units[sel], periods[sel], pillar_of, plist, min_coverage, ~np.isnan(values[sel]),
                  role_idx[sel], variants, [nominal_methods, *agg_list], dist,
                  [g.min for g in fw.grades], seed)

    # ------------------------------------------------------------ nominal
    nom_index, _ = model.index_block(Wnom[None], 0, 0, np.full(1, -1), None)
    nom_index = nom_index[0]
    if not np.allclose(nom_index, idx_all[sel], rtol=1e-9, atol=1e-9):  # pragma: no cover - internal check
        raise RuntimeError("robustness: the nominal index differs from the scoring step's; please report this.")
    nom_ranks = model.rank(nom_index[None])[0]
    nom_top, nom_bottom = model.deciles(nom_ranks[None])
    track = np.zeros(0, dtype=int)
    if sobol_output.startswith("unit:"):
        uid = sobol_output[5:]
        hit = np.flatnonzero(model.unit_ids == uid)
        if hit.size == 0:
            raise ParameterError(f"sobol_output names unit {uid!r}, which has no nominal score in the analysed "
                                 f"period(s) (e.g. {', '.join(model.unit_ids[:3])}).")
        track = hit[-1:]

    # ------------------------------------------------------------ Monte Carlo
    t_mc = time.perf_counter()
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    u = rng.random((draws, design.k)) if design.k else np.zeros((draws, 0))
    ev = model.evaluate(design.decode(u), nom_ranks, keep_ranks=True, max_cells=max_cells, threads=threads,
                        progress=progress)
    mc_seconds = time.perf_counter() - t_mc
    quant = np.round(_rank_quantiles(ev.ranks, [interval[0], 0.5, interval[1]], threads), 6)
    ev.ranks = None
    with np.errstate(all="ignore"):
        mean_shift = np.where(ev.scored > 0, ev.abs_dev / np.maximum(ev.scored, 1), np.nan)
    n_period = pd.Series(model.periods).map(pd.Series(model.periods).value_counts()).to_numpy()
    scored = np.maximum(ev.scored, 1)
    grades = [g.grade for g in fw.grades]
    rank_tab = pd.DataFrame({
        "unit_id": model.unit_ids, "period": model.periods, "n_units": n_period, "nominal_score": nom_index,
        "nominal_rank": nom_ranks.astype(float), "median_rank": quant[1], "rank_p05": quant[0], "rank_p95": quant[2],
        "rank_width": quant[2] - quant[0], "mean_abs_shift": mean_shift,
        "max_shift": np.maximum(nom_ranks - quant[0], quant[2] - nom_ranks),
        "p_top_decile": ev.top / scored, "p_bottom_decile": ev.bottom / scored,
        "nominal_top_decile": nom_top[0], "nominal_bottom_decile": nom_bottom[0],
        "p_scored": ev.scored / draws,
    })[RANK_COLUMNS]
    graded = ev.graded
    with np.errstate(all="ignore"):
        probs = {f"p_{g}": np.where(graded > 0, ev.grade_counts[k] / np.maximum(graded, 1), np.nan)
                 for k, g in enumerate(grades)}
    nominal_grade = grade_scores(nom_index, fw) if (fw.grades and variants[0].points) else np.full(sel.size, "")
    grade_tab = pd.DataFrame({"unit_id": model.unit_ids, "period": model.periods, "nominal_grade": nominal_grade,
                              **probs, "n_draws": graded})
    grade_tab = grade_tab[[*GRADE_COLUMNS[:3], *probs, "n_draws"]]
    if fw.grades and not graded.any():
        notices.append("no draw scores on the 0-100 points scale (z-scores or ranks only): grade probabilities "
                       "are not defined.")
    elif fw.grades and any(not v.points for v in variants[1:]):
        notices.append("grade probabilities use only the draws whose scores are points (not z-scores or ranks).")

    # ------------------------------------------------------------ Sobol
    sens = pd.DataFrame(columns=SENSITIVITY_COLUMNS)
    sobol_seconds = 0.0
    if sobol and design.k:
        t_s = time.perf_counter()

        def f(x: np.ndarray) -> np.ndarray:
            e = model.evaluate(design.decode(x), nom_ranks, track=track, max_cells=max_cells, threads=threads,
                               progress=progress, desc="sobol runs")
            return e.abs_shift if track.size == 0 else e.unit_ranks[:, 0].astype(float)

        sens = sobol_indices(f, design.names, sobol, groups=design.groups, seed=seed, output=sobol_output)
        sobol_seconds = time.perf_counter() - t_s
    elif sobol:
        notices.append("no uncertain inputs: the sensitivity analysis was skipped.")

    shift_places = shift_places if shift_places is not None else max(5, int(np.ceil(0.05 * sel.size)))
    params = {
        "uncertainty": spec.describe(), "draws": draws, "sobol": sobol, "sobol_output": sobol_output, "seed": seed,
        "interval": list(interval), "shift_places": shift_places, "period": period,
        "periods": sorted(keep_p), "normalise": nominal_name, "aggregate": nominal_methods, "weights": wsource,
        "min_coverage": min_coverage, "estimate": arr.estimate, "unit_level": unit_level, "framework": fw.name,
        "indicators": codes, "inputs": design.names, "input_groups": design.groups,
        "normalisations": norm_list, "aggregations": agg_names, "weight_sets": set_names,
        "dirichlet_concentration": design.concentration, "noise": noise,
        "cell_distributions": dist.counts() if dist is not None else {},
        "sample_design": {"monte_carlo": f"{draws} independent uniform draws of the {design.k} inputs "
                                         "(numpy PCG64, SeedSequence(seed))",
                          "sobol": (f"SALib Saltelli/Sobol' sequence (scrambled), N = {sobol}, "
                                    f"N(k + 2) = {sobol * (design.k + 2)} runs, first-order and total indices, "
                                    "200 bootstrap resamples, 95 % intervals") if sobol and design.k else "none"},
        "bounds": "normalisation bounds learnt once per method from the nominal values and held fixed",
        "max_cells": max_cells, "threads": threads,
        "seconds": {"monte_carlo": round(mc_seconds, 3), "sobol": round(sobol_seconds, 3),
                    "total": round(time.perf_counter() - t_start, 3)},
    }
    return RobustnessResult(ranks=rank_tab, grades=grade_tab, sensitivity=sens, params=params,
                            notices=tuple(dict.fromkeys(notices)), grade_labels=tuple(grades),
                            input_names=tuple(design.names), input_groups=tuple(design.groups))
