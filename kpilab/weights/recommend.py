"""One recommended scorecard: which indicators are weighted, which weight set, and why.

The health review decides which indicators earn their place (keep / review / prune, with one
representative per redundancy cluster); the weight sets are then computed **on the scorecard
indicators only** (kept and under-review indicators; pruned ones and the non-representatives of
redundancy clusters are left out, so a near-copy such as cost per contact next to AHT does not
count the same behaviour twice). :func:`recommend_weights` picks one set by a fixed rule and says
how far the alternatives agree.

Rule (:func:`recommend_weights`)
--------------------------------
With ``R`` the role template (judgement: the framework weight set the managers signed off),
``D`` the data-driven set it is blended with (CRITIC by default) and :math:`\\rho(R, D)` the
Spearman correlation of the agents' rankings under the two sets:

1. :math:`\\rho \\ge` ``min_agreement`` (0.8) and the blend ``B`` exists: recommend ``B``. The
   two views agree on who is strong, so the blend keeps the managers' priorities and adds what the
   data show (OECD/JRC Handbook, step 6: combine participatory and statistical weights when they
   are compatible).
2. :math:`\\rho <` ``min_agreement``: recommend ``R``. The data-driven set would reorder agents
   in ways nobody chose; a blend would hide the disagreement, which needs a person's look first.
3. No role template: the blend if any, else ``D``, else the first set computed.

``agreement`` reports :math:`\\rho` between the recommended set and every other set.

References
----------
.. [1] OECD/JRC (2008). Handbook on Constructing Composite Indicators, sections 6 (weighting:
   participatory and statistical methods) and 7 (uncertainty of the ranking).
.. [2] Spearman, C. (1904). The proof and measurement of association between two things.
   American Journal of Psychology 15(1), 72-101.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kpilab.errors import DataError, ParameterError
from kpilab.weights.result import WeightResult

__all__ = [
    "RECOMMENDED_COLUMNS",
    "Recommendation",
    "scorecard_indicators",
    "restrict_weights",
    "recommend_weights",
    "read_recommendation",
    "ScoringWeights",
    "scoring_weights",
    "note_scores_weights",
]

#: Columns of ``tables/recommended_weights.csv``.
RECOMMENDED_COLUMNS = ["indicator", "pillar", "weight", "method"]


def scorecard_indicators(
    decisions: pd.DataFrame, available: Iterable[str] | None = None
) -> tuple[list[str], dict[str, str]]:
    """Indicators the recommended scorecard weights, and why each other one is left out.

    Parameters
    ----------
    decisions : DataFrame
        The health review's decisions (``indicator, decision, reason``; redundancy already
        applied by :func:`kpilab.health.review.audit_checks`).
    available : iterable of str, optional
        Indicators that can be weighted (e.g. the columns of the weighting matrix); an indicator
        with a ``keep`` or ``review`` decision that is not available is left out with that reason.

    Returns
    -------
    (scorecard, excluded)
        ``scorecard``: ``keep`` and ``review`` indicators, in the decisions' order (``review`` ones
        stay in until a person decides, as :class:`kpilab.health.IndicatorPruner` does);
        ``excluded``: ``{indicator: reason}``.

    Raises
    ------
    DataError
        ``decisions`` lacks ``indicator``/``decision``, or no indicator is left.
    """
    missing = {"indicator", "decision"} - set(decisions.columns)
    if missing:
        raise DataError(f"The decisions table lacks column(s) {', '.join(sorted(missing))}; pass the health "
                        "review's decisions (tables/decisions.csv).")
    avail = None if available is None else set(map(str, available))
    scorecard: list[str] = []
    excluded: dict[str, str] = {}
    for rec in decisions.itertuples(index=False):
        code, dec = str(rec.indicator), str(rec.decision)
        reason = str(getattr(rec, "reason", "") or "")
        if dec == "prune":
            excluded[code] = reason or "pruned by the health review"
        elif avail is not None and code not in avail:
            excluded[code] = "no agent-level values to weight in this period"
        else:
            scorecard.append(code)
    if not scorecard:
        raise DataError("Every reviewed indicator was pruned or has no values, so there is no scorecard to weight; "
                        "lower the threshold or check the data (tables/decisions.csv gives each reason).")
    return scorecard, excluded


def restrict_weights(result: WeightResult, indicators: Iterable[str]) -> WeightResult:
    """``result`` with only ``indicators`` weighted, renormalised (e.g. AHP judgements naming pruned indicators).

    The dropped indicators are listed in a notice.

    Raises
    ------
    DataError
        None of ``indicators`` has a positive weight in ``result``.
    """
    import dataclasses

    keep = [str(c) for c in indicators]
    w = result.weights.reindex(keep).fillna(0.0).astype(float)
    if w.sum() <= 0:
        raise DataError(f"The {result.method} weight set puts no weight on the scorecard indicators "
                        f"({', '.join(keep)}); it cannot be used for this scorecard.")
    gone = [c for c in result.weights.index if c not in keep and result.weights[c] > 0]
    notices = tuple(result.notices) + ((f"Left out (not in the scorecard): {', '.join(map(str, gone))}; the other "
                                        "weights renormalised.",) if gone else ())
    w.index.name = "indicator"
    return dataclasses.replace(result, weights=w / w.sum(), notices=notices)


def _spearman(agreement: pd.DataFrame | None, a: str, b: str) -> float:
    if agreement is None or agreement.empty:
        return float("nan")
    m = ((agreement["set_a"] == a) & (agreement["set_b"] == b)) | ((agreement["set_a"] == b) & (agreement["set_b"] == a))
    vals = agreement.loc[m, "spearman"]
    return float(vals.iloc[0]) if len(vals) else float("nan")


@dataclass(frozen=True)
class Recommendation:
    """The recommended weight set for the scorecard, with the reason and the alternatives' agreement.

    Attributes
    ----------
    weights : Series
        Indicator -> weight (sums to 1), scorecard indicators only.
    pillars : dict
        Indicator -> pillar.
    method : str
        Name of the recommended set (e.g. ``blend_front_line_critic`` or ``front_line``).
    reason : str
        Why it was chosen, with the numbers.
    agreement : dict
        Other set -> Spearman correlation of the agents' rankings with the recommended set
        (NaN when not computed).
    decisions : dict
        ``{"keep": [...], "review": [...], "prune": [...]}`` from the health review.
    excluded : dict
        Indicator -> why it is not weighted.
    context : dict
        ``outcome, threshold, period_start, period_end`` of the review.
    scores_weights : str
        What notebook 04 scored with (filled in by it; empty until then).
    """

    weights: pd.Series
    pillars: Mapping[str, str]
    method: str
    reason: str
    agreement: Mapping[str, float]
    decisions: Mapping[str, list[str]]
    excluded: Mapping[str, str] = field(default_factory=dict)
    context: Mapping[str, Any] = field(default_factory=dict)
    scores_weights: str = ""

    def to_frame(self) -> pd.DataFrame:
        """``tables/recommended_weights.csv``: :data:`RECOMMENDED_COLUMNS`, largest weight first."""
        w = self.weights.sort_values(ascending=False, kind="stable")
        return pd.DataFrame({"indicator": w.index.astype(str), "pillar": [self.pillars.get(c, "") for c in w.index],
                             "weight": w.to_numpy(dtype=float), "method": self.method})

    def to_json(self) -> dict[str, Any]:
        """``tables/recommendation.json`` (the run-folder contract)."""
        ctx = dict(self.context)
        return {
            "outcome": ctx.get("outcome", ""),
            "threshold": ctx.get("threshold"),
            "period_start": ctx.get("period_start", ""),
            "period_end": ctx.get("period_end", ""),
            "kept": list(self.decisions.get("keep", [])),
            "pruned": list(self.decisions.get("prune", [])),
            "review": list(self.decisions.get("review", [])),
            "scorecard": list(self.weights.index.astype(str)),
            "excluded": dict(self.excluded),
            "weights_method": self.method,
            "weights_reason": self.reason,
            "agreement": {k: (None if v is None or not np.isfinite(v) else round(float(v), 4))
                          for k, v in self.agreement.items()},
            "scores_weights": self.scores_weights,
        }

    def summary(self) -> str:
        """Plain-text summary: the set, the reason, the weights and the agreement."""
        lines = [f"Recommended weights: {self.method} on {len(self.weights)} indicators.", self.reason, ""]
        lines += [f"  {r.indicator:<24} {r.pillar:<14} {r.weight:6.1%}" for r in self.to_frame().itertuples()]
        if self.agreement:
            lines.append("")
            lines.append("Agreement of the agents' rankings with the other sets (Spearman): " + ", ".join(
                f"{k} {v:.2f}" if np.isfinite(v) else f"{k} not computed" for k, v in self.agreement.items()))
        if self.excluded:
            lines.append(f"Not weighted: {', '.join(self.excluded)}.")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def save(self, run_dir: str | Path) -> list[Path]:
        """Write ``tables/recommended_weights.csv`` and ``tables/recommendation.json`` under ``run_dir``."""
        tables = Path(run_dir) / "tables"
        tables.mkdir(parents=True, exist_ok=True)
        csv = tables / "recommended_weights.csv"
        self.to_frame().to_csv(csv, index=False)
        js = tables / "recommendation.json"
        js.write_text(json.dumps(self.to_json(), indent=2), encoding="utf-8")
        return [csv, js]


def recommend_weights(
    results: Mapping[str, WeightResult | pd.Series],
    agreement: pd.DataFrame | None = None,
    *,
    role: str | None = "front_line",
    data_set: str | None = "critic",
    blend: str | None = None,
    min_agreement: float = 0.8,
    decisions: pd.DataFrame | None = None,
    excluded: Mapping[str, str] | None = None,
    context: Mapping[str, Any] | None = None,
) -> Recommendation:
    r"""Pick the recommended weight set by the module's rule.

    Parameters
    ----------
    results : mapping name -> WeightResult or Series
        Weight sets computed on the scorecard indicators (notebook 03's ``results``).
    agreement : DataFrame, optional
        :attr:`kpilab.weights.compare.WeightComparison.agreement` of these sets
        (``set_a, set_b, spearman``).
    role : str, optional
        Name of the role-template set in ``results``.
    data_set : str, optional
        Name of the data-driven set the role template is blended with.
    blend : str, optional
        Name of the blended set (default ``blend_<role>_<data_set>``, or its ``_constrained`` form).
    min_agreement : float, default 0.8
        Spearman :math:`\rho(R, D)` at or above which the two views count as agreeing.
    decisions : DataFrame, optional
        The health review's decisions, for the keep/review/prune lists.
    excluded : mapping, optional
        Indicator -> why it is not weighted (from :func:`scorecard_indicators`).
    context : mapping, optional
        ``outcome, threshold, period_start, period_end``.

    Returns
    -------
    Recommendation

    Raises
    ------
    ParameterError
        No weight set given, or ``min_agreement`` outside [0, 1].
    """
    if not results:
        raise ParameterError("recommend_weights needs at least one weight set; notebook 03 computed none.")
    if not 0 <= min_agreement <= 1:
        raise ParameterError(f"The 'min_agreement' parameter of recommend_weights must be in [0, 1]. Got {min_agreement!r}.")
    names = list(results)
    if blend is None and role and data_set:
        for cand in (f"blend_{role}_{data_set}_constrained", f"blend_{role}_{data_set}"):
            if cand in results:
                blend = cand
                break
    has_r = bool(role) and role in results
    has_d = bool(data_set) and data_set in results
    has_b = bool(blend) and blend in results
    rho = _spearman(agreement, role, data_set) if has_r and has_d else float("nan")
    if has_r and has_d and has_b and np.isfinite(rho) and rho >= min_agreement:
        chosen = blend
        reason = (f"The role template ({role}) and the data-driven set ({data_set}) rank the agents alike "
                  f"(Spearman {rho:.2f}, at least {min_agreement:g}), so their blend is recommended: it keeps the "
                  "managers' priorities and adds what the data show.")
    elif has_r and has_d and np.isfinite(rho):
        chosen = role
        reason = (f"The role template ({role}) and the data-driven set ({data_set}) rank the agents differently "
                  f"(Spearman {rho:.2f}, below {min_agreement:g}), so the role template is recommended as it is; "
                  "a blend would hide the disagreement. Look at the agents who move most before weighting "
                  "towards the data.")
    elif has_r:
        chosen = role
        why = f"the data-driven set ({data_set}) could not be computed" if data_set and not has_d else \
            "the rank agreement could not be computed" if has_d else "no data-driven set was asked for"
        reason = f"The role template ({role}) is recommended: {why}, so there is nothing to check it against."
    else:
        chosen = blend if has_b else data_set if has_d else names[0]
        reason = (f"No role template{f' ({role})' if role else ''} is available, so the {chosen} set is "
                  "recommended; agree a role template with the managers for the next review.")
    res = results[chosen]
    w = res.weights if isinstance(res, WeightResult) else pd.Series(res, dtype=float)
    w = w[w > 0].astype(float)
    w = w / w.sum()
    w.index = w.index.astype(str)
    w.index.name = "indicator"
    pillars: dict[str, str] = {}
    for r in results.values():
        if isinstance(r, WeightResult):
            pillars.update({str(k): str(v) for k, v in r.pillars.items()})
    agree = {n: _spearman(agreement, chosen, n) for n in names if n != chosen}
    dec_lists: dict[str, list[str]] = {"keep": [], "review": [], "prune": []}
    if decisions is not None:
        for k in dec_lists:
            dec_lists[k] = [str(c) for c in decisions.loc[decisions["decision"] == k, "indicator"]]
    return Recommendation(weights=w.rename(chosen), pillars=pillars, method=chosen, reason=reason, agreement=agree,
                          decisions=dec_lists, excluded=dict(excluded or {}), context=dict(context or {}))


def read_recommendation(run_dir: str | Path) -> tuple[pd.Series, dict[str, Any]] | None:
    """The recommended weights and ``recommendation.json`` of a run folder, or None when notebook 03 wrote none."""
    tables = Path(run_dir) / "tables"
    csv, js = tables / "recommended_weights.csv", tables / "recommendation.json"
    if not csv.is_file() or not js.is_file():
        return None
    df = pd.read_csv(csv)
    if not set(RECOMMENDED_COLUMNS) <= set(df.columns):
        raise DataError(f"{csv} lacks column(s) {', '.join(sorted(set(RECOMMENDED_COLUMNS) - set(df.columns)))}; "
                        "re-run notebook 03.")
    w = df.set_index("indicator")["weight"].astype(float)
    return w, json.loads(js.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class ScoringWeights:
    """The weights notebooks 04 and 05 score with (see :func:`scoring_weights`).

    Attributes
    ----------
    weights : Series, str or None
        Indicator weights for everyone, a framework weight set name, or None (each agent's role template):
        what :func:`kpilab.scoring.score` takes as ``weights``.
    indicators : list of str or None
        The indicators scored (the weighted ones for a Series; None: the framework's).
    used : str
        Short name of what was used (``blend_front_line_critic``, ``roles``, ``critic``...).
    description : str
        The same in words.
    notice : str
        Why the request could not be followed as asked (empty when it was).
    """

    weights: Any
    indicators: list[str] | None
    used: str
    description: str
    notice: str = ""


def scoring_weights(weights: str, run_dir: str | Path, framework: Any) -> ScoringWeights:
    """Resolve the ``weights`` parameter of notebooks 04 and 05.

    ``recommended`` (the default) takes ``tables/recommended_weights.csv`` written by notebook 03 in
    ``run_dir``, falling back to the role templates with a notice when notebook 03 wrote none;
    ``roles`` (or empty) is each agent's role template; a framework weight set name is that set for
    everyone; anything else is a column of notebook 03's ``tables/weights.csv``.

    Raises
    ------
    DataError, ParameterError
        As :func:`kpilab.scoring.read_weights` for an unknown column.
    """
    from kpilab.scoring import read_weights

    run_dir = Path(run_dir)
    notice = ""
    if weights == "recommended":
        rec = read_recommendation(run_dir)
        if rec is not None:
            w, meta = rec
            method = str(meta.get("weights_method", "recommended"))
            return ScoringWeights(w.rename(method), list(w.index), method,
                                  f"the recommended weights of notebook 03 ({method}, {len(w)} indicators)")
        notice = ("Notebook 03 wrote no recommended weights in this run folder (tables/recommended_weights.csv), "
                  "so each agent's role template is used instead.")
    if weights in ("", "roles", "recommended"):
        return ScoringWeights(None, None, "roles", "each agent's role template (framework role_weights)", notice)
    if weights in framework.weight_sets:
        return ScoringWeights(weights, None, weights, f"the framework weight set {weights!r} for everyone")
    w = read_weights(run_dir / "tables" / "weights.csv", weights)
    return ScoringWeights(w, list(w.index), weights, f"the {weights!r} set of notebook 03 (tables/weights.csv)")


def note_scores_weights(run_dir: str | Path, used: str) -> Path | None:
    """Record in ``tables/recommendation.json`` what notebook 04 scored with (``scores_weights``).

    Returns the file, or None when notebook 03 wrote no recommendation.
    """
    js = Path(run_dir) / "tables" / "recommendation.json"
    if not js.is_file():
        return None
    data = json.loads(js.read_text(encoding="utf-8"))
    data["scores_weights"] = used
    js.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return js
