"""The scoring result: scores, grades, tiers, scorecards and their uncertainty, with the options used."""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["ScoreResult", "SCORECARD_COLUMNS", "TEAM_COLUMNS"]

#: Column order of :attr:`ScoreResult.scorecard`.
SCORECARD_COLUMNS = ["unit_id", "period", "role", "indicator", "pillar", "value", "n", "ci_low", "ci_high", "flag",
                     "estimate", "target", "relief", "score", "score_low", "score_high", "weight", "points_lost",
                     "change"]
#: Column order of :attr:`ScoreResult.grades_by_team`.
TEAM_COLUMNS = ["period", "team", "grade", "agents", "share", "expected_agents", "small_n_e"]


@dataclass(frozen=True)
class ScoreResult:
    """Scores of every unit and period, with grades, tiers, scorecards and uncertainty.

    Attributes
    ----------
    scores : DataFrame
        One row per unit and period, columns ``unit_id, period, role, team, index,
        <one per pillar>, grade, tier, streak, tier_since, coverage, reason,
        score_low, score_high, p_grade, grade_settled, p_<grade>...``.
        ``index`` and pillar scores are 0-100 points (other scales for zscore/rank);
        ``coverage`` is the share of the unit's weight with data; ``reason`` is
        ``''`` or ``insufficient_coverage:<pillars>`` (then ``index`` is NaN);
        ``streak`` counts qualifying periods in a row for the tier given,
        ``tier_since`` is the first period of the current run in that tier;
        ``score_low``/``score_high`` the 5-95 % interval of the index over the
        draws, ``p_<grade>`` the share of draws in each grade, ``p_grade`` that of
        the reported grade and ``grade_settled`` whether it is at least
        ``settled`` (0.8). Uncertainty columns are NaN when ``draws = 0``.
    scorecard : DataFrame
        Long, one row per unit, period and indicator (:data:`SCORECARD_COLUMNS`):
        raw ``value``, ``n``, its interval ``ci_low``/``ci_high``, panel ``flag``,
        ``estimate`` (the value scored: raw or shrunken), ``target`` (after any
        relief), ``relief`` (share the target was relaxed, 0 if none), indicator
        ``score`` with ``score_low``/``score_high`` (the interval mapped to
        points), effective ``weight`` (share of the index), ``points_lost`` =
        weight x (100 - score) and ``change`` (score change in points since the
        unit's previous period).
    grades_by_team : DataFrame
        ``period, team, grade, agents, share, expected_agents, small_n_e``: the
        grade mix per team as it is (no forced distribution); ``expected_agents``
        sums the grade probabilities; ``small_n_e`` counts agents graded E who
        would not be E without their small-n indicators.
    weights : DataFrame
        ``role, indicator, pillar, weight``: the weight set used per role.
    specs : DataFrame
        ``indicator, method, direction, target, floor, params``: the normalisation of each indicator.
    relief : DataFrame
        ``period, team, indicator, relief, reason``: target relief applied.
    params : dict
        Every option used (normalisation, aggregation, weights source, min_coverage,
        draws, seed, estimate, interval level...), for the run log.
    notices : tuple of str
        What was dropped, defaulted or approximated, in words.
    """

    scores: pd.DataFrame
    scorecard: pd.DataFrame
    grades_by_team: pd.DataFrame
    weights: pd.DataFrame
    specs: pd.DataFrame
    relief: pd.DataFrame
    params: Mapping[str, Any] = field(default_factory=dict)
    notices: tuple[str, ...] = ()
    pillars: tuple[str, ...] = ()
    grade_labels: tuple[str, ...] = ()
    grade_mins: tuple[float, ...] = ()

    # ----------------------------------------------------------------- tables
    def to_frame(self) -> pd.DataFrame:
        """The scores table (one row per unit and period)."""
        return self.scores

    def agent_scorecard(self, unit_id: str, period: str | None = None) -> pd.DataFrame:
        """One unit's scorecard for a period (default its latest), largest points lost first."""
        sc = self.scorecard[self.scorecard["unit_id"] == str(unit_id)]
        if sc.empty:
            from kpilab.errors import DataError

            raise DataError(f"No scorecard rows for unit {unit_id!r}.")
        period = period or sorted(sc["period"].unique())[-1]
        return sc[sc["period"] == period].sort_values("points_lost", ascending=False).reset_index(drop=True)

    def provenance(self) -> dict[str, Any]:
        """JSON-friendly record of the options and notices (for ``run.json``)."""
        return json.loads(json.dumps({"step": "score", "params": dict(self.params), "notices": list(self.notices)},
                                     default=str))

    # ------------------------------------------------------------------- text
    def summary(self) -> str:
        """Plain-text summary: options, units, grade mix, settled share, tiers, notices."""
        p = self.params
        s = self.scores
        lines = [
            f"Scores: {s['unit_id'].nunique()} units x {s['period'].nunique()} periods "
            f"({int(s['index'].notna().sum())} scored, {int(s['index'].isna().sum())} not: insufficient coverage)",
            f"Normalisation: {p.get('normalise')}  Aggregation: {p.get('aggregate')}  "
            f"Weights: {p.get('weights')}  min_coverage: {p.get('min_coverage', 0):.3g}",
        ]
        graded = s[s["grade"] != ""]
        if len(graded):
            mix = graded["grade"].value_counts(normalize=True).reindex(list(self.grade_labels)).fillna(0)
            lines.append("Grade mix: " + ", ".join(f"{g} {v:.0%}" for g, v in mix.items()))
            tiers = graded["tier"].value_counts(normalize=True)
            lines.append("Tiers: " + ", ".join(f"{t} {v:.0%}" for t, v in tiers.items()))
        if p.get("draws", 0) and len(graded):
            settled = graded["grade_settled"].astype(bool).mean()
            width = (graded["score_high"] - graded["score_low"]).median()
            lines.append(f"Uncertainty ({p['draws']} draws): grade settled (p >= {p.get('settled', 0.8):g}) for "
                         f"{settled:.0%} of graded rows; median 5-95 % score interval width {width:.1f} points")
        lines.extend(f"Note: {n}" for n in self.notices)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        head = "<br>".join(html.escape(x) for x in self.summary().split("\n"))
        cols = [c for c in ["unit_id", "period", "role", "index", *self.pillars, "grade", "tier", "score_low",
                            "score_high", "p_grade"] if c in self.scores.columns]
        return f"<p>{head}</p>" + self.scores[cols].head(10).to_html(index=False, float_format="%.1f",
                                                                     na_rep="")


def _nan_to_none(v: Any) -> Any:
    return None if isinstance(v, float) and np.isnan(v) else v
