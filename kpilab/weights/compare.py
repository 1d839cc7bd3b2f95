r"""Side-by-side comparison of weight sets: scores, ranks, agreement, influence, rank movers.

Scoring (the simple form the scoring step extends): each indicator is
min-max normalised to 0-100 in the direction of "better",

.. math:: s_{ij} = 100\,x'_{ij}, \qquad S_i = \frac{\sum_j w_j s_{ij}}{\sum_{j: s_{ij}\ \mathrm{known}} w_j}

(weighted arithmetic mean; a missing value drops out and the unit's other
weights are renormalised, as COINr's ``a_amean``). A constant indicator scores
50 for everyone. Ranks: 1 = best, ties share the lowest rank.

Agreement between two rankings: Spearman's :math:`\rho`, Kendall's
:math:`\tau_b` (scipy) and the top-:math:`k` overlap
:math:`|T_a \cap T_b| / k`.

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
from kpilab.weights._matrix import as_series, check_directions, minmax_aligned
from kpilab.weights.result import WeightResult

__all__ = ["composite_scores", "compare_weight_sets", "WeightComparison", "influence", "unit_means", "describe_weights"]


def _normalised(X: pd.DataFrame, directions: Mapping[str, str] | None, bands: Mapping[str, tuple[float, float]] | None) -> pd.DataFrame:
    dirs = check_directions(list(X.columns), directions, caller="composite_scores")
    S = minmax_aligned(X.astype(float), dirs, bands, scale=100.0)
    const = [c for c in X.columns if X[c].nunique(dropna=True) <= 1]
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


def influence(S: pd.DataFrame, score: pd.Series) -> pd.DataFrame:
    """``indicator, r, influence`` of normalised indicators ``S`` on a composite ``score``."""
    rows = []
    for c in S.columns:
        ok = S[c].notna() & score.notna()
        x, y = S.loc[ok, c].to_numpy(), score[ok].to_numpy()
        r = float(np.corrcoef(x, y)[0, 1]) if ok.sum() > 2 and np.ptp(x) > 0 and np.ptp(y) > 0 else np.nan
        rows.append({"indicator": c, "r": r})
    df = pd.DataFrame(rows)
    r2 = df["r"].fillna(0.0) ** 2
    df["influence"] = r2 / r2.sum() if r2.sum() > 0 else np.nan
    return df


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
        ``set_a, set_b, spearman, kendall_tau, top_overlap, n``.
    influence : DataFrame
        ``set, indicator, weight, r, influence, gap`` (gap = influence - weight).
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
        for r in ag.itertuples():
            other = r.set_b if r.set_a == self.reference else r.set_a
            level = ("almost the same" if r.spearman >= 0.95 else "similar" if r.spearman >= 0.8
                     else "noticeably different" if r.spearman >= 0.5 else "very different")
            out.append(
                f"{other!r} gives {level} rankings (Spearman {r.spearman:.2f}, Kendall {r.kendall_tau:.2f}); "
                f"{r.top_overlap:.0%} of the top {self.top_n} are the same units."
            )
        if not self.agreement.empty:
            worst = self.agreement.sort_values("spearman").iloc[0]
            out.append(f"The least similar pair is {worst.set_a!r} and {worst.set_b!r} (Spearman {worst.spearman:.2f}).")
        for s in sets:
            inf = self.influence[self.influence["set"] == s]
            if inf["gap"].notna().any():
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
    reference : str, optional
        Set the ranks are compared with (default: the first).
    """
    check_params({"top_n": top_n}, {"top_n": Interval(1, None, integer=True)}, caller="compare_weight_sets")
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
    k = min(top_n, len(X))
    rows = []
    for a, b in combinations(names, 2):
        ok = scores[a].notna() & scores[b].notna()
        sa, sb = scores.loc[ok, a], scores.loc[ok, b]
        rho = stats.spearmanr(sa, sb).statistic if ok.sum() > 2 else np.nan
        tau = stats.kendalltau(sa, sb).statistic if ok.sum() > 2 else np.nan
        top_a = set(sa.sort_values(ascending=False).index[:k])
        top_b = set(sb.sort_values(ascending=False).index[:k])
        rows.append({"set_a": a, "set_b": b, "spearman": float(rho), "kendall_tau": float(tau),
                     "top_overlap": len(top_a & top_b) / k, "n": int(ok.sum())})
    agreement = pd.DataFrame(rows, columns=["set_a", "set_b", "spearman", "kendall_tau", "top_overlap", "n"])
    inf_rows = []
    for n, w in ws.items():
        df = influence(S[list(w.index)], scores[n])
        df.insert(0, "set", n)
        df["weight"] = df["indicator"].map(w).astype(float)
        inf_rows.append(df)
    infl = pd.concat(inf_rows, ignore_index=True)
    infl["gap"] = infl["influence"] - infl["weight"]
    infl = infl[["set", "indicator", "weight", "r", "influence", "gap"]]
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
                            movers=movers, reference=reference, top_n=k)


def unit_means(X: pd.DataFrame, level: str = "unit_id") -> pd.DataFrame:
    """One row per unit: the mean of each indicator over the unit's rows (periods), NaNs skipped.

    Weights are usually calibrated on unit x period rows; agents are ranked on their average.
    A frame without a ``unit_id`` index level is returned unchanged.
    """
    names = list(X.index.names)
    if level not in names:
        return X
    return X.groupby(level=level).mean()


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
        if "r_squared" in d:
            s += f". The indicators explain {d['r_squared']:.0%} of the outcome's variation (R-squared)"
        if "cr" in d:
            s += (f". Consistency ratio {d['cr']:.3f}: "
                  + ("the judgements are consistent" if d["consistent"] else "inconsistent, revise the judgements"))
        if "n_factors" in d:
            s += f". {d['n_factors']} factor(s) retained, explaining {d['explained']:.0%} of the variance"
        out.append(s + ".")
    return out
