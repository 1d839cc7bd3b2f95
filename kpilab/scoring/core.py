r"""``score()``: panel -> normalised indicators -> pillar scores -> index -> grade, tier, scorecard, uncertainty."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kpilab.errors import DataError, ParameterError
from kpilab.framework import Framework, load_framework
from kpilab.scoring.aggregate import _aggregate_arrays, _structure, _weight_matrix, parse_methods
from kpilab.scoring.grades import assign_tiers, exempt_periods, grade_index, grade_scores
from kpilab.scoring.normalise import (
    RELATIVE_METHODS,
    apply_normalisation,
    fit_normalisation,
    linear_form,
    resolve_specs,
)
from kpilab.scoring.result import SCORECARD_COLUMNS, TEAM_COLUMNS, ScoreResult
from kpilab.scoring.uncertainty import cell_distributions, draw_scores, summarise_draws

__all__ = ["score", "role_weight_table", "read_weights", "ScoringWarning"]

_WIDE_COLS = ("value", "numerator", "denominator", "n", "ci_low", "ci_high")


class ScoringWarning(UserWarning):
    """A scoring result that needs a human look (e.g. E grades driven by small samples)."""


# ------------------------------------------------------------------ weights
def _as_series(w: Any, framework: Framework, codes: list[str], label: str) -> tuple[pd.Series, str]:
    if hasattr(w, "weights") and hasattr(w, "method") and isinstance(w.weights, pd.Series):  # a WeightResult
        return w.weights.astype(float), f"{label}{w.method}"  # (duck-typed: importing kpilab.weights is slow)
    if isinstance(w, pd.Series):
        s = w.astype(float)
        s.index = s.index.map(str)
        return s, f"{label}{s.name or 'weights'}"
    if isinstance(w, str):
        if w == "equal":
            s = pd.Series(1.0 / len(codes), index=codes)
        else:
            s = framework.weight_set(w, indicators=codes)  # indicators outside the set get weight 0
        s.attrs["kpilab_strict"] = False
        return s, f"{label}{w}"
    raise ParameterError(f"Weights must be a WeightResult, a Series, or a framework weight set name. "
                         f"Got {type(w).__name__}.")


def _move_weight_within_pillar(w: pd.Series, dropped: list[str], framework: Framework) -> pd.Series:
    """``w`` without ``dropped``; each dropped weight goes to the rest of its pillar in proportion.

    A pillar keeps its total weight when one of its indicators cannot be scored, as
    with a missing value (OECD/JRC 2008, step 6: re-weighting within the group); only a
    pillar left empty hands its weight to the others (renormalisation).
    """
    w = w.astype(float).copy()
    attrs = dict(w.attrs)
    pillar = {c: (framework.indicator(c).pillar if c in framework.codes else "other") for c in w.index}
    for c in dropped:
        if c not in w.index:
            continue
        lost = w.pop(c)
        mates = [m for m in w.index if pillar.get(m) == pillar.get(c) and m not in dropped]
        if mates and w[mates].sum() > 0:
            w[mates] *= (w[mates].sum() + lost) / w[mates].sum()
        elif mates:
            w[mates] = lost / len(mates)
    total = w.sum()
    out = w / total if total > 0 else w
    out.attrs = attrs
    return out


def role_weight_table(
    framework: Framework, roles: list[str], codes: list[str], role_map: Mapping[str, Any] | None = None,
) -> tuple[dict[str, pd.Series], dict[str, str], list[str]]:
    """Weights for each role: ``role_map`` (role -> set name, Series or WeightResult) or the framework's ``role_weights``.

    Returns ``({role: weights}, {role: source}, notices)``.

    Raises
    ------
    ParameterError
        A role without a weight set and no ``default`` entry (lists the roles).
    """
    mapping = dict(role_map if role_map is not None else framework.role_weights)
    unmapped = sorted({r for r in roles if r not in mapping})
    notices = []
    if unmapped == [""] and "default" not in mapping:
        raise ParameterError(
            "No roles known (no agents table with a 'role' column, or agents without a role) and the framework's "
            "role_weights has no 'default' entry: pass the agents table (roles=, --agents), one weight set "
            "(weights=, --weight-set), or add 'default' to role_weights."
        )
    if unmapped and "default" not in mapping:
        raise ParameterError(
            f"Role(s) {', '.join(map(repr, unmapped))} have no weight set: add them to 'role_weights:' in the "
            f"framework (mapped roles: {', '.join(k for k in mapping if k != 'default') or 'none'}), add a "
            "'default' entry, or pass one weight set for everyone."
        )
    out, src = {}, {}
    for r in dict.fromkeys(roles):
        key = r if r in mapping else "default"
        out[r], src[r] = _as_series(mapping[key], framework, codes, "")
    if unmapped:
        named = [r or "(agents without a role)" for r in unmapped]
        notices.append(f"role(s) {', '.join(named)} have no entry in role_weights and were scored with the "
                       f"default weight set ({src[unmapped[0]]}).")
    return out, src, notices


def read_weights(path: str | Path, column: str | None = None) -> pd.Series:
    """Indicator weights from a table: ``indicator, weight`` (``kpilab weights --out``) or one column per set.

    Notebook 03 writes ``tables/weights.csv`` with ``indicator, pillar`` and one
    column per weight set; pick a set with ``column``. Returns a Series indexed
    by indicator, named after the column, with the zero or missing weights kept as 0.
    """
    p = Path(path)
    if not p.is_file():
        raise DataError(f"Weights file {p} does not exist.")
    df = pd.read_parquet(p) if p.suffix.lower() == ".parquet" else pd.read_csv(p)
    if "indicator" not in df.columns:
        raise DataError(f"Weights file {p} needs an 'indicator' column (it has {', '.join(map(str, df.columns))}).")
    sets = [c for c in df.columns if c not in ("indicator", "pillar") and pd.api.types.is_numeric_dtype(df[c])]
    col = column or ("weight" if "weight" in df.columns else (sets[0] if len(sets) == 1 else None))
    if col is None or col not in df.columns:
        raise ParameterError(f"Weights file {p}: choose one weight column ({', '.join(sets)}); got {column!r}.")
    return df.set_index("indicator")[col].astype(float).fillna(0.0).rename(col)


# ------------------------------------------------------------------- helpers
def _roles_frame(roles: Any, units: list[str]) -> pd.DataFrame:
    """unit_id -> role, team from an agents table, a Series or a mapping."""
    df = pd.DataFrame({"unit_id": units})
    if roles is None:
        df["role"], df["team"] = "", ""
        return df
    if isinstance(roles, (str, Path)):
        p = Path(roles)
        if not p.is_file():
            raise DataError(f"Agents table {p} does not exist.")
        roles = pd.read_parquet(p) if p.suffix.lower() == ".parquet" else pd.read_csv(p, dtype=str)
    if isinstance(roles, pd.DataFrame):
        t = roles.copy()
        idc = "unit_id" if "unit_id" in t.columns else "agent_id" if "agent_id" in t.columns else None
        if idc is None:
            raise DataError("The agents table needs an 'agent_id' (or 'unit_id') column.")
        t = t.rename(columns={idc: "unit_id"})
        t["unit_id"] = t["unit_id"].astype(str)
        cols = [c for c in ("role", "team") if c in t.columns]
        df = df.merge(t[["unit_id", *cols]].drop_duplicates("unit_id"), on="unit_id", how="left")
    else:
        m = pd.Series(roles)
        m.index = m.index.map(str)
        df["role"] = df["unit_id"].map(m)
    for c in ("role", "team"):
        if c not in df.columns:
            df[c] = ""
        df[c] = df[c].fillna("").astype(str)
    return df


def _read(panel: Any) -> pd.DataFrame:
    from kpilab.panel import read_panel

    return read_panel(panel)


def _scatter(long: pd.DataFrame, col: str, rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Wide (unit-period x indicator) array of one long column (the panel's keys are unique)."""
    if col == "flag":
        out = np.full(shape, "", dtype=object)
        if col in long.columns:
            out[rows, cols] = long[col].fillna("").astype(str).to_numpy()
        return out
    out = np.full(shape, np.nan)
    if col in long.columns:
        out[rows, cols] = long[col].to_numpy(dtype=float)
    return out


# ---------------------------------------------------------------------- main
@dataclass(frozen=True)
class PanelArrays:
    """A long panel laid out as (unit-period rows) x (indicators) arrays, as the scoring steps need it.

    Attributes
    ----------
    codes : list of str
        Indicators scored (column order); ``const`` those left out because they are constant.
    long : DataFrame
        The panel rows used (unit level and indicators selected).
    raw : dict of arrays
        ``value, numerator, denominator, n, ci_low, ci_high`` per cell (NaN where absent).
    flags, shrunk, values : arrays
        Cell flags; ``value_shrunk`` (or None); the estimate scored (shrunk where available).
    estimate : str
        ``value`` or ``value_shrunk``: which column ``values`` comes from.
    units, periods : arrays of str
        The row labels.
    """

    codes: list[str]
    const: list[str]
    long: pd.DataFrame
    raw: dict[str, np.ndarray]
    flags: np.ndarray
    shrunk: np.ndarray | None
    values: np.ndarray
    estimate: str
    units: np.ndarray
    periods: np.ndarray


def panel_arrays(
    panel: Any, fw: Framework, *, unit_level: str = "agent", indicators: list[str] | None = None,
    normalise: str | None = None, overrides: Mapping[str, Any] | None = None,
    normalise_params: Mapping[str, Any] | None = None, estimate: str = "auto", notices: list[str] | None = None,
) -> PanelArrays:
    """Select the scored indicators of a panel and scatter its cells into arrays (shared by scoring and robustness).

    With ``indicators=None`` the framework's scored indicators present in the panel are used, and one that is
    constant across the panel under a relative rule (min-max, z-score, rank) is left out with a notice (its
    weight then stays in its pillar, see :func:`_move_weight_within_pillar`); an explicit list is used as given.

    Raises
    ------
    DataError
        No rows at ``unit_level``, indicators absent from the panel, nothing left to score,
        ``estimate='value_shrunk'`` without a ``value_shrunk`` column.
    """
    notices = notices if notices is not None else []
    long = _read(panel)
    long = long[long["unit_level"] == unit_level]
    if long.empty:
        raise DataError(f"The panel has no rows at unit level {unit_level!r}.")
    present = list(long["indicator"].unique())
    if indicators is None:
        codes = [c for c in fw.scored() if c in present]
        ignored = sorted(set(present) - set(codes) - set(fw.outcomes()))
        if ignored:
            notices.append(f"indicator(s) {', '.join(ignored)} are not scored indicators of the framework and "
                           "were left out.")
    else:
        absent = [c for c in indicators if c not in present]
        if absent:
            raise DataError(f"Indicator(s) {', '.join(absent)} are not in the panel.")
        codes = list(indicators)
    if not codes:
        raise DataError(f"No scored indicator of framework {fw.name!r} is in the panel (it has {', '.join(present)}).")
    const: list[str] = []
    if indicators is None:
        # Real exports often hold an indicator with one value for everyone (e.g. a survey response rate of 1
        # when only responses are exported). A relative rule cannot score it and it tells agents apart on
        # nothing, so the default selection leaves it out loudly; an explicit list still raises.
        early = resolve_specs(codes, normalise, framework=fw, overrides=overrides, params=normalise_params)
        spread = long[long["indicator"].isin(codes)].groupby("indicator")["value"].agg(["min", "max"])
        const = [c for c in codes if early[c].method in RELATIVE_METHODS and c in spread.index
                 and np.isclose(spread.at[c, "min"], spread.at[c, "max"], rtol=1e-12, atol=0.0)]
        if const:
            codes = [c for c in codes if c not in const]
            notices.append(f"indicator(s) {', '.join(const)} have the same value for every unit and period: a "
                           "relative rule (min-max, z-score, rank) cannot score them, so they were left out and "
                           "their weight renormalised within the pillar.")
            if not codes:
                raise DataError("Every scored indicator in the panel is constant; nothing can be scored.")
    long = long[long["indicator"].isin(codes)]
    index = pd.MultiIndex.from_frame(long[["unit_id", "period"]].drop_duplicates().sort_values(["unit_id", "period"]))
    rows = index.get_indexer(pd.MultiIndex.from_frame(long[["unit_id", "period"]]))
    cols = pd.Index(codes).get_indexer(long["indicator"])
    raw = {c: _scatter(long, c, rows, cols, (len(index), len(codes))) for c in _WIDE_COLS}
    flags = _scatter(long, "flag", rows, cols, (len(index), len(codes)))
    use_col = "value_shrunk" if (estimate == "value_shrunk" or (estimate == "auto" and "value_shrunk" in long)) \
        else "value"
    if use_col not in long.columns:
        raise DataError("estimate='value_shrunk' but the panel has no value_shrunk column (compute it with "
                        "shrinkage=True).")
    shrunk = _scatter(long, "value_shrunk", rows, cols, raw["value"].shape) if use_col == "value_shrunk" else None
    values = np.where(np.isnan(shrunk), raw["value"], shrunk) if shrunk is not None else raw["value"]
    return PanelArrays(codes, const, long, raw, flags, shrunk, values, use_col, index.get_level_values("unit_id").astype(str)
                       .to_numpy(), index.get_level_values("period").astype(str).to_numpy())


def score(
    panel: Any,
    framework: Framework | str | Path | Mapping[str, Any] | None = None,
    *,
    weights: Any = None,
    roles: Any = None,
    normalise: str | None = None,
    normalise_params: Mapping[str, Any] | None = None,
    overrides: Mapping[str, Mapping[str, Any] | str] | None = None,
    aggregate: str | Mapping[str, str] = "arithmetic",
    min_coverage: float = 2 / 3,
    indicators: list[str] | None = None,
    draws: int = 1000,
    seed: int | None = 0,
    estimate: str = "auto",
    unit_level: str = "agent",
    interval_level: float = 0.95,
    settled: float = 0.8,
    period_length: str | None = None,
    small_n_e_share: float = 0.10,
    progress: bool = True,
) -> ScoreResult:
    r"""Score every unit and period: normalise, aggregate by role, grade, tier and quantify uncertainty.

    Parameters
    ----------
    panel : DataFrame or path
        Long indicator panel (or a wide table: then no counts, so no uncertainty).
    framework : Framework, path, mapping or None
        Directions, targets, floors, pillars, weight sets, ``role_weights``,
        grades, tiers, exemptions, ``normalise`` spec; default kpilab's.
    weights : None, str, Series, WeightResult or mapping
        ``None``/``"roles"``: each unit's role weight set (framework
        ``role_weights``; units without a role use its ``default`` entry); a
        framework weight set name or ``"equal"``; indicator weights (Series or
        :class:`~kpilab.weights.WeightResult`) for everyone; or ``{role: weights}``.
    roles : DataFrame, Series, mapping or path, optional
        Agents table (``agent_id``, ``role``, ``team``) or ``unit_id -> role``.
    normalise : str, optional
        Global normalisation method (default: the framework's ``normalise:``, else minmax).
    normalise_params : mapping, optional
        Global method parameters (``lower``, ``upper``, ``mean``, ``sd``, ``distance``).
    overrides : mapping, optional
        Per-indicator exceptions ``{code: {"method": ..., ...}}`` on top of the framework's.
    aggregate : str or mapping, default "arithmetic"
        Method for both levels or ``{"pillar": ..., "index": ...}``.
    min_coverage : float, default 2/3
        Share of a pillar's weight that must have data.
    indicators : list of str, optional
        Indicators to score (default: the framework's scored indicators in the panel).
    draws : int, default 1000
        Simulated data sets for the uncertainty of scores and grades (0: off).
    seed : int, optional
        Seed of the draws.
    estimate : {"auto", "value", "value_shrunk"}
        Value scored: ``auto`` uses ``value_shrunk`` when the panel has it.
    unit_level : str, default "agent"
    interval_level : float, default 0.95
        Level of the panel's intervals (to recover standard errors).
    settled : float, default 0.8
        ``grade_settled`` when the reported grade has at least this probability.
    period_length : str, optional
        day, week, month or quarter (inferred from the period labels).
    small_n_e_share : float, default 0.10
        Warn when more than this share of graded rows is E only because of small-n cells.
    progress : bool, default True
        Show a progress bar for the draws.

    Returns
    -------
    ScoreResult

    Raises
    ------
    ParameterError
        Bad method, missing target/floor/band, bad weights, a role without a
        weight set, zero scores under a geometric mean.
    DataError
        No rows at ``unit_level``, no scored indicators.

    Notes
    -----
    Points lost on indicator :math:`i` are :math:`e_{ui}(100 - s_{ui})` with the
    effective weight :math:`e_{ui}` (pillar weight times within-pillar weight
    over the available indicators), so :math:`I_u + \sum_i e_{ui}(100 - s_{ui}) = 100`
    for arithmetic aggregation on 0-100 scores.

    Target relief: an exemption with ``target_relief: {code: r}`` relaxes the
    target of every period it overlaps by the share :math:`r` of its value:
    :math:`t(1 - r)` for ``higher``, :math:`t(1 + r)` for ``lower`` indicators.

    References
    ----------
    .. [1] OECD/JRC (2008). *Handbook on Constructing Composite Indicators*.
    .. [2] Saisana, M., Saltelli, A. and Tarantola, S. (2005). Uncertainty and sensitivity
       analysis techniques as tools for the quality assessment of composite indicators.
       *J. R. Stat. Soc. A* 168(2), 307-323.
    """
    fw = framework if isinstance(framework, Framework) else load_framework(framework)
    if not isinstance(draws, (int, np.integer)) or isinstance(draws, bool) or draws < 0:
        raise ParameterError(f"The 'draws' parameter must be an integer >= 0. Got {draws!r} instead.")
    if estimate not in ("auto", "value", "value_shrunk"):
        raise ParameterError(f"The 'estimate' parameter must be 'auto', 'value' or 'value_shrunk'. Got {estimate!r}.")
    methods = parse_methods(aggregate)
    if draws and "copeland" in methods.values():
        raise ParameterError("Copeland aggregation ranks units against each other and has no per-unit draws; "
                             "use draws=0 with it, or another aggregation method.")
    notices: list[str] = []
    arr = panel_arrays(panel, fw, unit_level=unit_level, indicators=indicators, normalise=normalise,
                       overrides=overrides, normalise_params=normalise_params, estimate=estimate, notices=notices)
    codes, const, long, raw, flags, shrunk, values = (arr.codes, arr.const, arr.long, arr.raw, arr.flags,
                                                      arr.shrunk, arr.values)
    units, periods = list(arr.units), list(arr.periods)
    n_units, n_ind = len(units), len(codes)

    specs = resolve_specs(codes, normalise, framework=fw, overrides=overrides, params=normalise_params)

    # roles and weights
    rt = _roles_frame(roles, list(dict.fromkeys(units)))
    role_of = dict(zip(rt["unit_id"], rt["role"], strict=True))
    team_of = dict(zip(rt["unit_id"], rt["team"], strict=True))
    row_role = np.array([role_of.get(u, "") for u in units], dtype=object)
    if weights is None or (isinstance(weights, str) and weights == "roles"):
        if roles is None and weights == "roles":
            raise ParameterError("weights='roles' needs roles= (the agents table with agent_id and role).")
        per_role, src, n = role_weight_table(fw, list(dict.fromkeys(row_role)), codes)
        notices += n
        wsource = "roles: " + ", ".join(f"{r or '(no role)'} -> {s}" for r, s in src.items())
    elif isinstance(weights, Mapping) and not isinstance(weights, pd.Series):
        per_role, src, n = role_weight_table(fw, list(dict.fromkeys(row_role)), codes, role_map=weights)
        notices += n
        wsource = "roles: " + ", ".join(f"{r or '(no role)'} -> {s}" for r, s in src.items())
    else:
        w, wsource = _as_series(weights, fw, codes, "")
        per_role = {r: w for r in dict.fromkeys(row_role)}
    if const:
        per_role = {r: _move_weight_within_pillar(w, const, fw) for r, w in per_role.items()}
    for r, w in per_role.items():
        dropped = w.attrs.get("dropped") if hasattr(w, "attrs") else None
        if dropped:
            notices.append(f"weight set for role {r or '(none)'}: {', '.join(dropped)} not in the panel; the "
                           "remaining weights were renormalised.")
    wframe = pd.DataFrame({r: w for r, w in per_role.items()}).T.fillna(0.0) if per_role else pd.DataFrame()
    for w in per_role.values():  # explicit weights must name every scored indicator, and only those
        strict = w.attrs.get("kpilab_strict", True)
        _weight_matrix(w if strict else w.reindex(codes).fillna(0.0), codes, pd.RangeIndex(1))
    role_vec = {r: w.reindex(codes).fillna(0.0).to_numpy(dtype=float) for r, w in per_role.items()}
    role_keys = list(role_vec)
    W = np.vstack([role_vec[r] for r in role_keys])[[role_keys.index(r) for r in row_role]] if role_keys else \
        np.zeros((0, n_ind))
    W = _weight_matrix(pd.DataFrame(W, columns=codes), codes, pd.RangeIndex(n_units))

    # relief, bounds
    pillars = {c: (fw.indicator(c).pillar if c in fw.codes else "other") for c in codes}
    targets = np.full((n_units, n_ind), np.nan)
    relief = np.zeros((n_units, n_ind))
    relief_rows = []
    ex = fw.exemptions
    period_list = sorted(set(periods))
    covered_map: dict[tuple[str, str], bool] = {}
    if ex:
        by_team = {t: exempt_periods(period_list, ex, team=t or None, period_length=period_length)
                   for t in set(team_of.values()) | {""}}
        for k, (u, p) in enumerate(zip(units, periods, strict=True)):
            hits = by_team[team_of.get(u, "")][p]
            covered_map[(u, p)] = bool(hits)
            for h in hits:
                for code, r in ex[h].target_relief.items():
                    if code in codes:
                        j = codes.index(code)
                        relief[k, j] = max(relief[k, j], r)
        for t, per in by_team.items():
            for p, hits in per.items():
                for h in hits:
                    for code, r in ex[h].target_relief.items():
                        relief_rows.append({"period": p, "team": t, "indicator": code, "relief": r,
                                            "reason": ex[h].reason})
    fitted = {}
    for j, c in enumerate(codes):
        sp = specs[c]
        if sp.target is not None:
            sign = -1.0 if sp.direction == "higher" else 1.0
            targets[:, j] = sp.target * (1 + sign * relief[:, j]) if sp.direction != "band" else sp.target
        if relief[:, j].any() and (sp.method in RELATIVE_METHODS or sp.direction == "band"):
            notices.append(f"target relief for {c} has no effect: it is scored with {sp.method} "
                           f"({sp.direction}).")
        f = dict(fit_normalisation(values[:, j], sp))
        if sp.method in ("target", "goalposts", "threshold") and sp.direction != "band" and relief[:, j].any():
            f["target"] = targets[:, j]
        fitted[c] = f
    if "zscore" in {s.method for s in specs.values()} or "rank" in {s.method for s in specs.values()}:
        notices.append("zscore/rank scores are not 0-100 points: grades, tiers and points lost assume points.")

    def normalise_values(v: np.ndarray) -> np.ndarray:
        out = np.empty(v.shape)
        for j, c in enumerate(codes):
            out[..., j] = apply_normalisation(v[..., j], specs[c], fitted[c])
        return out

    S = normalise_values(values)
    for j, c in enumerate(codes):  # a target or floor that nobody (or everybody) reaches says little
        col = S[:, j][~np.isnan(S[:, j])]
        if specs[c].method in ("goalposts", "target", "threshold") and col.size >= 10:
            if np.mean(col <= 0) >= 0.9:
                notices.append(f"{c}: {np.mean(col <= 0):.0%} of rows score 0 (median value "
                               f"{np.nanmedian(values[:, j]):.4g} against target {specs[c].target:g}"
                               + (f", floor {specs[c].floor:g}" if specs[c].floor is not None else "")
                               + "); the target may not fit this centre.")
            elif np.mean(col >= 100) >= 0.9:
                notices.append(f"{c}: {np.mean(col >= 100):.0%} of rows score 100 (target {specs[c].target:g} is "
                               "met almost everywhere and does not separate agents).")
    plist = list(dict.fromkeys(pillars[c] for c in codes))
    pillar_of = np.array([plist.index(pillars[c]) for c in codes])
    st = _structure(~np.isnan(S), W, pillar_of, plist, min_coverage)
    groups = np.array(periods)
    pil, idx = _aggregate_arrays(S, st, methods, groups)

    # scores table
    scores = pd.DataFrame({"unit_id": units, "period": periods, "role": row_role.astype(str),
                           "team": [team_of.get(u, "") for u in units], "index": idx})
    for p, name in enumerate(plist):
        scores[name] = pil[:, p]
    scores["grade"] = grade_scores(idx, fw) if fw.grades else ""
    if fw.tiers:
        cov_series = pd.Series(covered_map, dtype=bool)
        scores = assign_tiers(scores, fw, covered=cov_series, periods=period_list)
    else:
        scores["tier"], scores["streak"], scores["tier_since"] = "", 0, ""
    scores["coverage"] = st.coverage
    scores["reason"] = st.reason
    glabels = [g.grade for g in fw.grades]
    gmins = [g.min for g in fw.grades]

    # uncertainty
    dist = None
    if draws:
        kinds = None
        if "kind" in long.columns:
            kk = long.drop_duplicates("indicator").set_index("indicator")["kind"]
            kinds = {j: str(kk.get(c)) for j, c in enumerate(codes) if pd.notna(kk.get(c))}
        dist = cell_distributions(raw["value"], raw["numerator"], raw["denominator"], raw["n"], raw["ci_low"],
                                  raw["ci_high"], kinds=kinds, shrunk=shrunk, level=interval_level)
        counts = dist.counts()
        fixed_codes = [c for j, c in enumerate(codes) if (dist.kind[:, j] == "fixed").any()]
        if fixed_codes:
            notices.append(f"no counts or interval for {', '.join(fixed_codes)} (some or all cells): held fixed "
                           "in the draws.")

        def normalise_column(j: int, v: np.ndarray) -> np.ndarray:
            return apply_normalisation(v, specs[codes[j]], fitted[codes[j]])

        linear = [linear_form(specs[c], fitted[c]) for c in codes]
        idx_draws = draw_scores(dist, normalise_column, st, methods, linear=linear, draws=draws, seed=seed,
                                progress=progress)
        unc = summarise_draws(idx_draws, gmins, glabels, scores["grade"].to_numpy(), settled=settled)
    else:
        counts = {}
        nanv = np.full(n_units, np.nan)
        unc = {"score_low": nanv, "score_high": nanv, **{f"p_{g}": nanv for g in glabels}, "p_grade": nanv,
               "grade_settled": np.zeros(n_units, dtype=bool)}
    for k in ("score_low", "score_high", "p_grade", "grade_settled"):
        scores[k] = unc[k]
    for g in glabels:
        scores[f"p_{g}"] = unc[f"p_{g}"]
    scores.loc[scores["index"].isna(), "grade_settled"] = False
    order = ["unit_id", "period", "role", "team", "index", *plist, "grade", "tier", "streak", "tier_since",
             "coverage", "reason", "score_low", "score_high", "p_grade", "grade_settled",
             *[f"p_{g}" for g in glabels]]
    scores = scores[order].reset_index(drop=True)

    # scorecard
    eff = st.effective
    lost = eff * (100 - np.nan_to_num(S))
    lost = np.where(np.isnan(S), 0.0, lost)
    slo = normalise_values(raw["ci_low"])
    shi = normalise_values(raw["ci_high"])
    s_lo, s_hi = np.fmin(slo, shi), np.fmax(slo, shi)
    sc = pd.DataFrame({
        "unit_id": np.repeat(units, n_ind), "period": np.repeat(periods, n_ind), "role": np.repeat(row_role.astype(str), n_ind),
        "indicator": np.tile(codes, n_units), "pillar": np.tile([pillars[c] for c in codes], n_units),
        "value": raw["value"].ravel(), "n": raw["n"].ravel(), "ci_low": raw["ci_low"].ravel(),
        "ci_high": raw["ci_high"].ravel(), "flag": pd.Series(flags.ravel()).fillna("").astype(str).to_numpy(),
        "estimate": values.ravel(), "target": targets.ravel(), "relief": relief.ravel(), "score": S.ravel(),
        "score_low": s_lo.ravel(), "score_high": s_hi.ravel(), "weight": eff.ravel(), "points_lost": lost.ravel(),
    })
    prev = sc.sort_values(["unit_id", "indicator", "period"]).groupby(["unit_id", "indicator"])["score"].diff()
    sc["change"] = prev.reindex(sc.index)
    sc = sc[sc["value"].notna() | (sc["weight"] > 0)][SCORECARD_COLUMNS].reset_index(drop=True)

    # small-n E grades and the team grade mix
    small = np.vectorize(lambda f: "small_n" in str(f))(flags) if flags.size else np.zeros((n_units, n_ind), bool)
    small_e = np.zeros(n_units, dtype=bool)
    if fw.grades and small.any():
        S2 = np.where(small, np.nan, S)
        st2 = _structure(~np.isnan(S2), W, pillar_of, plist, min_coverage)
        _, idx2 = _aggregate_arrays(S2, st2, methods, groups)
        worst = len(glabels) - 1
        g2 = grade_index(idx2, gmins)  # -1: no score at all without the small-n cells
        small_e = (grade_index(idx, gmins) == worst) & (g2 < worst) & small.any(axis=1)
    graded = scores["grade"] != ""
    share_e = small_e.sum() / max(1, graded.sum())
    if share_e > small_n_e_share:
        msg = (f"{share_e:.0%} of graded agent-periods ({int(small_e.sum())}) are graded {glabels[-1]} only "
               f"because of indicators with fewer than {fw.min_n} observations (flag small_n): without those "
               f"cells they would grade higher or not be scored. Check grade_settled and the scorecards before "
               "acting on them.")
        warnings.warn(msg, ScoringWarning, stacklevel=2)
        notices.append(msg)
    team_tab = _grades_by_team(scores, glabels, small_e)

    wtab = wframe.rename_axis("role").reset_index().melt(id_vars="role", var_name="indicator", value_name="weight") \
        if len(wframe) else pd.DataFrame(columns=["role", "indicator", "weight"])
    wtab["pillar"] = wtab["indicator"].map(pillars)
    wtab = wtab[["role", "indicator", "pillar", "weight"]]
    spec_tab = pd.DataFrame([{"indicator": c, "method": s.method, "direction": s.direction, "target": s.target,
                              "floor": s.floor, "params": ";".join(f"{k}={v}" for k, v in s.params.items())}
                             for c, s in specs.items()])
    relief_tab = pd.DataFrame(relief_rows, columns=["period", "team", "indicator", "relief", "reason"])
    params = {
        "normalise": normalise or (fw.normalise or {}).get("method", "minmax"),
        "normalise_params": dict(normalise_params or {}), "overrides": {k: dict(v) if isinstance(v, Mapping) else v
                                                                         for k, v in (overrides or {}).items()},
        "specs": {c: s.describe() for c, s in specs.items()}, "aggregate": methods, "weights": wsource,
        "min_coverage": min_coverage, "draws": int(draws), "seed": seed, "estimate": arr.estimate,
        "unit_level": unit_level, "interval_level": interval_level, "settled": settled,
        "framework": fw.name, "indicators": codes, "cell_distributions": counts,
        "bounds": "normalisation bounds learnt once from the nominal values and held fixed across draws",
    }
    return ScoreResult(scores=scores, scorecard=sc, grades_by_team=team_tab, weights=wtab, specs=spec_tab,
                       relief=relief_tab, params=params, notices=tuple(dict.fromkeys(notices)),
                       pillars=tuple(plist), grade_labels=tuple(glabels), grade_mins=tuple(gmins))


def _grades_by_team(scores: pd.DataFrame, glabels: list[str], small_e: np.ndarray) -> pd.DataFrame:
    """Agents per grade in each period and team: count, share, expected count from the grade probabilities."""
    df = scores.assign(small_n_e=small_e)
    df = df[df["grade"] != ""]
    if df.empty:
        return pd.DataFrame(columns=TEAM_COLUMNS)
    keys = ["period", "team"]
    groups = df.groupby(keys, sort=True)
    size = groups.size()
    # one row per (period, team) that has graded agents, times every grade label
    full = pd.MultiIndex.from_tuples([(*k, lab) for k in size.index for lab in glabels], names=[*keys, "grade"])
    by_grade = df.groupby([*keys, "grade"], sort=False)
    agents = by_grade.size().reindex(full, fill_value=0)
    small = by_grade["small_n_e"].sum().reindex(full, fill_value=0)
    expected = pd.Series(np.nan, index=full)
    for lab in glabels:
        pcol = f"p_{lab}"
        if pcol in df:
            exp = groups[pcol].sum(min_count=1)
            at = np.flatnonzero(full.get_level_values("grade") == lab)
            expected.iloc[at] = exp.reindex(full[at].droplevel("grade")).to_numpy()
    out = pd.DataFrame({"agents": agents.astype(int).to_numpy(),
                        "share": agents.to_numpy() / size.reindex(full.droplevel("grade")).to_numpy(),
                        "expected_agents": expected.to_numpy(), "small_n_e": small.astype(int).to_numpy()},
                       index=full).reset_index()
    return out[TEAM_COLUMNS]
