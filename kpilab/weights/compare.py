r"""Side-by-side comparison of weight sets: scores, ranks, agreement, influence, rank movers.

Scoring (the simple form the scoring step extends): each indicator is
min-max normalised to 0-100 in the direction of "better",

.. math:: s_{ij} = 100\,x'_{ij}, \qquad S_i = \frac{\sum_j w_j s_{ij}}{\sum_{j: s_{ij}\ \mathrm{known}} w_j}

(weighted arithmetic mean; a missing value drops out and the unit's other
weights are renormalised, as COINr's ``a_amean``). A constant indicator scores
50 for everyone. Ranks: 1 = best, ties share the lowest rank.

Agreement between two rankings: Spearman's :math:`\rho`, Kendall's
:math:`\tau_b` (scipy) and the top-:math:`k` overlap
:math:`|T_a \cap T_b| / k`. Like every statistic of the kit, the rank
correlations and influences need at least ``min_units`` units (10; NaN and
the flag ``too_few_units`` otherwise). The top-:math:`k` overlap needs more
than :math:`2k` units: with :math:`n \le 2k` two top groups of size :math:`k`
must share at least :math:`2k - n` units whatever the weights (all of them
when :math:`n \le k`), so the overlap is reported as not meaningful (NaN,
flag ``top_overlap_not_meaningful``).

Influence (nominal weight versus actual importance): each indicator's squared
Pearson correlation with the composite, normalised over the indicators,

.. math:: I_j = \frac{\mathrm{corr}(s_j, S)^2}{\sum_k \mathrm{corr}(s_k, S)^2}

(a first-order importance measure: Paruolo, Saisana & Saltelli 2013).

References
----------
.. [1] Paruolo, P., Saisana, M., Saltelli, A. (2013). Ratings and rankings: voodoo or science?
   Journal of the Royal Statistical Society A 176(3), 609-634.
.. [2] OECD/JRC (2008). Handbook on Constructing Composite Indicators, steps 5-7.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
import pandas as pd
from scipy import stats

from kpilab._validation import Interval, check_params
from kpilab.errors import DataError, ParameterError
from kpilab.health.matrix import MIN_UNITS, constant_columns, not_computed
from kpilab.weights._matrix import as_series, check_directions, minmax_aligned
from kpilab.weights.result import WeightResult

__all__ = ["composite_scores", "compare_weight_sets", "WeightComparison", "influence", "unit_means", "describe_weights"]


def _normalised(X: pd.DataFrame, directions: Mapping[str, str] | None, bands: Mapping[str, tuple[float, float]] | None) -> pd.DataFrame:
    dirs = check_directions(list(X.columns), {k: v for k, v in (directions or {}).items() if k in X.columns},
                            caller="composite_scores")
    S = minmax_aligned(X.astype(float), dirs, bands, scale=100.0)
    const = constant_columns(X.astype(float))
    for c in const:
        S[c] = np.where(X[c].notna(), 50.0, np.nan)
    return S


def _score(S: pd.DataFrame, w: pd.Series) -> pd.Series:
    A = S[w.index].to_numpy(dtype=float)
    W = np.where(np.isnan(A), 0.0, w.to_numpy()[None, :])
    den = W.sum(axis=1)
    num = np.nansum(np.where(np.isnan(A), 0.0, A) * W, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return pd.Series(np.where(den > 0, num / den, np.nan), index=S.index, name="score")


def _weights_for(X: pd.DataFrame, weights: pd.Series | WeightResult | Mapping[str, float], name: str) -> pd.Series:
    w = as_series(weights)
    absent = [c for c in w.index if c not in X.columns and w[c] > 0]
    if absent:
        raise DataError(f"Weight set {name!r} weights indicator(s) {', '.join(absent)} that are not in the data.")
    w = w[[c for c in w.index if c in X.columns]]
    return w / w.sum()


def composite_scores(
    X: pd.DataFrame,
    weights: pd.Series | WeightResult | Mapping[str, float],
    directions: Mapping[str, str] | None = None,
    *,
    bands: Mapping[str, tuple[float, float]] | None = None,
) -> pd.Series:
    """0-100 composite score per row of ``X`` (module docstring formula)."""
    w = _weights_for(X, weights, "weights")
    S = _normalised(X[list(w.index)], directions, bands)
    return _score(S, w)


def influence(S: pd.DataFrame, score: pd.Series, *, min_units: int = 0) -> pd.DataFrame:
    """``indicator, r, influence, flag`` of normalised indicators ``S`` on a composite ``score``.

    Fewer than ``min_units`` units: NaN and the flag ``too_few_units``.
    """
    rows = []
    for c in S.columns:
        ok = S[c].notna() & score.notna()
        x, y = S.loc[ok, c].to_numpy(), score[ok].to_numpy()
        few = int(ok.sum()) < min_units
        r = float(np.corrcoef(x, y)[0, 1]) if ok.sum() > 2 and not few and np.ptp(x) > 0 and np.ptp(y) > 0 else np.nan
        rows.append({"indicator": c, "r": r, "flag": "too_few_units" if few else ""})
    df = pd.DataFrame(rows)
    r2 = df["r"].fillna(0.0) ** 2
    df["influence"] = r2 / r2.sum() if r2.sum() > 0 else np.nan
    return df[["indicator", "r", "influence", "flag"]]


@dataclass(frozen=True)
class WeightComparison:
    """What several weight sets do to the same units.

    Attributes
    ----------
    weights : DataFrame
        ``indicator, pillar`` + one column per set (wide, for reading).
    scores, ranks : DataFrame
        One row per unit (the index of the data), one column per set.
    agreement : DataFrame
        ``set_a, set_b, spearman, kendall_tau, top_overlap, n, flag`` (``flag``: ``too_few_units``,
        ``top_overlap_not_meaningful``, ';'-joined; the flagged numbers are NaN).
    influence : DataFrame
        ``set, indicator, weight, r, influence, gap, flag`` (gap = influence - weight).
    movers : DataFrame
        ``unit, set, reference_rank, rank, change`` (positive = moved up vs the reference set), largest
        absolute change first.
    reference : str
        The set ranks are compared with (the first one unless given).
    top_n : int
    """

    weights: pd.DataFrame
    scores: pd.DataFrame
    ranks: pd.DataFrame
    agreement: pd.DataFrame
    influence: pd.DataFrame
    movers: pd.DataFrame
    reference: str
    top_n: int
    min_units: int = MIN_UNITS
    notices: tuple[str, ...] = field(default_factory=tuple)

    def to_frame(self) -> pd.DataFrame:
        """Tidy weights: ``set, indicator, pillar, weight, influence, r``."""
        return self.influence.merge(self.weights[["indicator", "pillar"]], on="indicator", how="left")[
            ["set", "indicator", "pillar", "weight", "influence", "r"]
        ]

    def narrative(self, n_movers: int = 3) -> list[str]:
        """Plain-language sentences for a service manager."""
        out = []
        sets = [c for c in self.scores.columns]
        out.append(
            f"{len(sets)} weight sets were compared on {len(self.scores)} units: {', '.join(sets)}; "
            f"ranks are compared with {self.reference!r}."
        )
        ag = self.agreement[(self.agreement["set_a"] == self.reference) | (self.agreement["set_b"] == self.reference)]
        n = len(self.scores)
        if n < self.min_units and len(ag):
            out.append(f"Rank agreement between the sets {not_computed(n, self.min_units)}.")
            ag = ag.iloc[:0]
        overlap_note = False
        for r in ag.itertuples():
            other = r.set_b if r.set_a == self.reference else r.set_a
            level = ("almost the same" if r.spearman >= 0.95 else "similar" if r.spearman >= 0.8
                     else "noticeably different" if r.spearman >= 0.5 else "very different")
            top = (f"; {r.top_overlap:.0%} of the top {self.top_n} are the same units" if not np.isnan(r.top_overlap)
                   else "")
            overlap_note |= np.isnan(r.top_overlap)
            out.append(f"{other!r} gives {level} rankings (Spearman {r.spearman:.2f}, Kendall {r.kendall_tau:.2f}){top}.")
        if overlap_note or (n <= 2 * self.top_n and len(self.agreement)):
            why = (f"a top {self.top_n} holds every one of them" if n <= self.top_n else
                   f"two top groups of {self.top_n} out of {n} share at least {2 * self.top_n - n} units whatever "
                   "the weights")
            out.append(f"The overlap of the top {self.top_n} is not meaningful with {n} units ({why}; it needs more "
                       f"than {2 * self.top_n} units).")
        if self.agreement["spearman"].notna().any():
            worst = self.agreement.sort_values("spearman").iloc[0]
            out.append(f"The least similar pair is {worst.set_a!r} and {worst.set_b!r} (Spearman {worst.spearman:.2f}).")
        for s in sets:
            inf = self.influence[self.influence["set"] == s]
            if inf["gap"].notna().any() and inf["influence"].notna().any():
                big = inf.loc[inf["gap"].abs().idxmax()]
                direction = "more" if big.gap > 0 else "less"
                out.append(
                    f"Under {s!r}, {big.indicator} drives the score {direction} than its weight says "
                    f"(weight {big.weight:.0%}, influence {big.influence:.0%})."
                )
        mv = self.movers.head(n_movers)
        for r in mv.itertuples():
            verb = "rises" if r.change > 0 else "falls"
            out.append(
                f"Unit {r.unit} {verb} {abs(int(r.change))} places under {r.set!r} "
                f"(rank {int(r.reference_rank)} -> {int(r.rank)})."
            )
        return out

    def summary(self) -> str:
        lines = ["Weight sets compared: " + ", ".join(self.scores.columns)]
        lines.append(self.weights.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        lines.append("")
        lines.append(self.agreement.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        lines.append("")
        lines.extend(self.narrative())
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


def compare_weight_sets(
    X: pd.DataFrame,
    sets: Mapping[str, pd.Series | WeightResult | Mapping[str, float]],
    directions: Mapping[str, str] | None = None,
    *,
    bands: Mapping[str, tuple[float, float]] | None = None,
    pillars: Mapping[str, str] | None = None,
    top_n: int = 10,
    reference: str | None = None,
    min_units: int = MIN_UNITS,
) -> WeightComparison:
    """Compare weight sets on the rows of ``X`` (one row per unit: aggregate periods first if needed).

    Parameters
    ----------
    X : DataFrame
        Units x indicators (raw values; normalised here, direction-aware).
    sets : mapping name -> weights
        At least one; indicators a set does not weight get 0.
    directions, bands : mapping, optional
    pillars : mapping, optional
        ``{indicator: pillar}`` for the weights table (taken from WeightResults when absent).
    top_n : int, default 10
        Size of the top group compared; the overlap needs more than ``2 * top_n`` units.
    reference : str, optional
        Set the ranks are compared with (default: the first).
    min_units : int, default 10
        Fewest units the rank correlations and influences are computed from.

    Raises
    ------
    FrameworkError
        A direction for a code that is not a column of ``X``.
    """
    check_params({"top_n": top_n, "min_units": min_units},
                 {"top_n": Interval(1, None, integer=True), "min_units": Interval(3, None, integer=True)},
                 caller="compare_weight_sets")
    check_directions([str(c) for c in X.columns], directions, caller="compare_weight_sets")
    if not sets:
        raise ParameterError("compare_weight_sets: give at least one weight set.")
    names = [str(n) for n in sets]
    reference = reference or names[0]
    if reference not in names:
        raise ParameterError(f"compare_weight_sets: reference {reference!r} is not one of {', '.join(names)}.")
    if len(X) < 2:
        raise DataError(f"compare_weight_sets: {len(X)} unit(s); ranking needs at least 2.")
    ws = {str(n): _weights_for(X, w, str(n)) for n, w in sets.items()}
    cols = list(dict.fromkeys(c for w in ws.values() for c in w.index))
    pillars = dict(pillars or {})
    for w in sets.values():
        for k, v in getattr(w, "pillars", {}).items():
            pillars.setdefault(k, v)
    S = _normalised(X[cols], directions, bands)
    scores = pd.DataFrame({n: _score(S, w) for n, w in ws.items()}, index=X.index)
    ranks = scores.rank(ascending=False, method="min")
    k = top_n
    rows = []
    for a, b in combinations(names, 2):
        ok = scores[a].notna() & scores[b].notna()
        n_ok = int(ok.sum())
        sa, sb = scores.loc[ok, a], scores.loc[ok, b]
        flags = []
        if n_ok < min_units:
            rho = tau = np.nan
            flags.append("too_few_units")
        else:
            rho = stats.spearmanr(sa, sb).statistic
            tau = stats.kendalltau(sa, sb).statistic
        if n_ok <= 2 * k:
            overlap = np.nan
            flags.append("top_overlap_not_meaningful")
        else:
            top_a = set(sa.sort_values(ascending=False).index[:k])
            top_b = set(sb.sort_values(ascending=False).index[:k])
            overlap = len(top_a & top_b) / k
        rows.append({"set_a": a, "set_b": b, "spearman": float(rho), "kendall_tau": float(tau),
                     "top_overlap": overlap, "n": n_ok, "flag": ";".join(flags)})
    agreement = pd.DataFrame(rows, columns=["set_a", "set_b", "spearman", "kendall_tau", "top_overlap", "n", "flag"])
    inf_rows = []
    for n, w in ws.items():
        df = influence(S[list(w.index)], scores[n], min_units=min_units)
        df.insert(0, "set", n)
        df["weight"] = df["indicator"].map(w).astype(float)
        inf_rows.append(df)
    infl = pd.concat(inf_rows, ignore_index=True)
    infl["gap"] = infl["influence"] - infl["weight"]
    infl = infl[["set", "indicator", "weight", "r", "influence", "gap", "flag"]]
    wt = pd.DataFrame({"indicator": cols, "pillar": [pillars.get(c, "") for c in cols]})
    for n, w in ws.items():
        wt[n] = wt["indicator"].map(w).fillna(0.0).astype(float)
    unit_labels = [
        "/".join(map(str, i)) if isinstance(i, tuple) else str(i) for i in X.index
    ]
    mv = []
    for n in names:
        if n == reference:
            continue
        mv.append(pd.DataFrame({"unit": unit_labels, "set": n, "reference_rank": ranks[reference].to_numpy(),
                                "rank": ranks[n].to_numpy()}))
    movers = (pd.concat(mv, ignore_index=True) if mv else
              pd.DataFrame(columns=["unit", "set", "reference_rank", "rank"]))
    movers["change"] = movers["reference_rank"] - movers["rank"]
    movers = movers.dropna(subset=["change"])
    movers = movers.reindex(movers["change"].abs().sort_values(ascending=False, kind="stable").index).reset_index(drop=True)
    return WeightComparison(weights=wt, scores=scores, ranks=ranks, agreement=agreement, influence=infl,
                            movers=movers, reference=reference, top_n=k, min_units=min_units)


def unit_means(X: pd.DataFrame, index_level: str = "unit_id") -> pd.DataFrame:
    """One row per unit: the plain mean of each indicator over the unit's rows (periods), NaNs skipped.

    .. deprecated::
        Averaging the periods' rates is not how the kit pools periods (ratios come from summed
        counts). Use :func:`kpilab.panel.pool_periods` on the panel, or
        ``weights_matrix(..., unit_of_analysis="unit")``; this warns and stays only for old code.

    A frame without an ``index_level`` index level is returned unchanged.
    """
    import warnings

    warnings.warn("unit_means averages rates over periods; use kpilab.panel.pool_periods (counts summed) or "
                  "weights_matrix(..., unit_of_analysis='unit').", DeprecationWarning, stacklevel=2)
    names = list(X.index.names)
    if index_level not in names:
        return X
    return X.groupby(level=index_level).mean()


def describe_weights(results: Mapping[str, WeightResult], n_top: int = 2) -> list[str]:
    """One plain-language sentence per weight set: what it stresses and its key diagnostic."""
    out = []
    for name, res in results.items():
        w = res.weights.sort_values(ascending=False)
        top = ", ".join(f"{c} ({v:.0%})" for c, v in w.head(n_top).items())
        zero = [c for c, v in w.items() if v < 0.005]
        src = f" from {res.n_rows} rows" if res.n_rows else ""
        if np.allclose(w.to_numpy(), 1 / len(w)):
            out.append(f"{name!r} ({res.method}) weighs all {len(w)} indicators equally ({1 / len(w):.1%} each).")
            continue
        s = f"{name!r} ({res.method}{src}) puts most weight on {top}"
        if zero:
            s += f" and (almost) none on {', '.join(zero)}"
        elif len(w) > n_top:
            s += f"; least on {w.index[-1]} ({w.iloc[-1]:.0%})"
        d = res.diagnostics
        if "estimator" in d:
            s += f". Estimator: {d['estimator']}" + (
                f" with penalty {d['ridge_alpha']:.3g} ({d['ridge_alpha_from']})" if d["estimator"] == "ridge" else "")
        if "r_squared" in d:
            s += f". The indicators explain {d['r_squared']:.0%} of the outcome's variation (R-squared)"
        if "cr" in d:
            s += (f". Consistency ratio {d['cr']:.3f}: "
                  + ("the judgements are consistent" if d["consistent"] else "inconsistent, revise the judgements"))
        if "n_factors" in d:
            s += f". {d['n_factors']} factor(s) retained, explaining {d['explained']:.0%} of the variance"
        out.append(s + ".")
    return out
