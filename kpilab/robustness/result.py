"""The robustness result: rank intervals, grade probabilities and Sobol' indices, with the options used."""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["RobustnessResult", "RANK_COLUMNS", "GRADE_COLUMNS"]

#: Column order of :attr:`RobustnessResult.ranks` (``rank_intervals.csv``).
RANK_COLUMNS = ["unit_id", "period", "n_units", "nominal_score", "nominal_rank", "median_rank", "rank_p05",
                "rank_p95", "rank_width", "mean_abs_shift", "max_shift", "p_top_decile", "p_bottom_decile",
                "nominal_top_decile", "nominal_bottom_decile", "p_scored"]
#: Leading columns of :attr:`RobustnessResult.grades`; then ``p_<grade>`` per grade and ``n_draws``.
GRADE_COLUMNS = ["unit_id", "period", "nominal_grade"]


@dataclass(frozen=True)
class RobustnessResult:
    """Monte Carlo rank and grade uncertainty and Sobol' sensitivity of a composite score.

    Attributes
    ----------
    ranks : DataFrame
        One row per analysed unit and period (:data:`RANK_COLUMNS`): ``n_units``
        ranked in the period; ``nominal_score`` and ``nominal_rank`` (1 = best, ties
        averaged); ``median_rank``, ``rank_p05`` and ``rank_p95`` (the ``interval``
        quantiles over the draws, 5 % and 95 % by default); ``rank_width`` =
        ``rank_p95 - rank_p05``; ``mean_abs_shift`` (mean over draws of
        ``|rank - nominal_rank|``); ``max_shift`` (largest move from the nominal
        rank to either end of the interval); ``p_top_decile`` / ``p_bottom_decile``
        (share of draws with rank <= n/10, > n - n/10); ``nominal_top_decile`` /
        ``nominal_bottom_decile`` (bool); ``p_scored`` (share of draws in which
        the unit has a score).
    grades : DataFrame
        ``unit_id, period, nominal_grade, p_<grade>..., n_draws``: share of the
        draws in each grade, over the ``n_draws`` draws whose scores are 0-100
        points (z-score draws have no grade).
    sensitivity : DataFrame
        ``output, input, group, S1, S1_conf, ST, ST_conf, n_base, n_runs, flag``
        (see :func:`~kpilab.robustness.sensitivity.sobol_indices`); empty when
        the analysis was skipped.
    params : dict
        Every option used, the sample design, the inputs and timings (``draws_meta.json``).
    notices : tuple of str
        What was dropped, defaulted or approximated, in words.
    grade_labels : tuple of str
    input_names, input_groups : tuple of str
        The uncertain inputs and their kind.
    """

    ranks: pd.DataFrame
    grades: pd.DataFrame
    sensitivity: pd.DataFrame
    params: Mapping[str, Any] = field(default_factory=dict)
    notices: tuple[str, ...] = ()
    grade_labels: tuple[str, ...] = ()
    input_names: tuple[str, ...] = ()
    input_groups: tuple[str, ...] = ()

    # ----------------------------------------------------------------- tables
    def to_frame(self) -> pd.DataFrame:
        """The rank-interval table joined with the grade probabilities (one row per unit and period)."""
        return self.ranks.merge(self.grades.drop(columns=["n_draws"]), on=["unit_id", "period"], how="left")

    def group_shares(self) -> pd.DataFrame:
        """Sobol' indices summed by kind of input: ``group, S1_sum, ST_sum, inputs``.

        ``S1_sum`` (negative estimates counted as 0) is the share of the output
        variance the inputs of that kind explain on their own, a lower bound of
        the group's closed first-order index; ``ST_sum`` counts interactions once
        per input, so it can exceed the group's total index.
        """
        s = self.sensitivity
        if s.empty or s["S1"].isna().all():
            return pd.DataFrame(columns=["group", "S1_sum", "ST_sum", "inputs"])
        g = s.assign(S1c=s["S1"].clip(lower=0), STc=s["ST"].clip(lower=0)).groupby("group", sort=False)
        out = pd.DataFrame({"S1_sum": g["S1c"].sum(), "ST_sum": g["STc"].sum(), "inputs": g.size()})
        return out.sort_values("S1_sum", ascending=False).rename_axis("group").reset_index()

    def provenance(self) -> dict[str, Any]:
        """JSON-friendly record of the options, sample design and notices (``draws_meta.json``)."""
        import importlib.metadata as md

        versions = {}
        for pkg in ("kpilab", "numpy", "pandas", "scipy", "SALib"):
            try:
                versions[pkg] = md.version(pkg)
            except md.PackageNotFoundError:
                versions[pkg] = None
        return json.loads(json.dumps({"step": "robustness", "params": dict(self.params), "versions": versions,
                                      "notices": list(self.notices)}, default=str))

    # ------------------------------------------------------------------- text
    def summary(self) -> str:
        """Plain text: options, how many ranks move, decile and grade stability, what drives the variance."""
        p = self.params
        r = self.ranks
        k = int(p.get("shift_places", 5))
        lo, hi = (p.get("interval") or [0.05, 0.95])
        cover = int(round((hi - lo) * 100))
        moving = int((r["max_shift"] > k).sum())
        lines = [
            f"Robustness: {len(r)} units in {r['period'].nunique()} period(s), {p.get('draws')} Monte Carlo draws "
            f"of {len(self.input_names)} uncertain inputs ({', '.join(dict.fromkeys(self.input_groups)) or 'none'})",
            f"The ranks of {moving} of {len(r)} units can move by more than {k} places within their {cover} % "
            f"interval; median interval width {r['rank_width'].median():.1f} places, mean absolute shift "
            f"{r['mean_abs_shift'].mean():.1f} places.",
        ]
        top = r[r["nominal_top_decile"]]
        if len(top):
            lines.append(f"Nominal top decile: {len(top)} units, {int((top['p_top_decile'] >= 0.9).sum())} stay in "
                         f"it in at least 90 % of the draws.")
        g = self.grades
        pcols = [f"p_{x}" for x in self.grade_labels if f"p_{x}" in g.columns]
        if pcols and g["n_draws"].gt(0).any():
            gg = g[g["nominal_grade"] != ""]
            if len(gg):
                p_nom = np.array([row[f"p_{row['nominal_grade']}"] if f"p_{row['nominal_grade']}" in row else np.nan
                                  for _, row in gg.iterrows()], dtype=float)
                lines.append(f"Grades: the nominal grade holds in at least 80 % of the draws for "
                             f"{int(np.sum(p_nom >= 0.8))} of {len(gg)} units.")
        shares = self.group_shares()
        if len(shares):
            s = self.sensitivity.iloc[0]
            parts = ", ".join(f"{row.group} {row.S1_sum:.0%}" for row in shares.itertuples())
            lines.append(f"Sensitivity of {s['output']} (Sobol' N = {int(s['n_base'])}, {int(s['n_runs'])} runs): "
                         f"first-order shares {parts}; the rest is interactions.")
        lines.extend(f"Note: {n}" for n in self.notices)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        head = "<br>".join(html.escape(x) for x in self.summary().split("\n"))
        return f"<p>{head}</p>" + self.ranks.head(10).to_html(index=False, float_format="%.2f", na_rep="")
