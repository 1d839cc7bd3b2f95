"""The indicator health review: one call, one result object, one decision per indicator.

:func:`health_review` takes a long panel (or a wide table), correlates every
indicator with a chosen outcome and decides ``keep``, ``prune`` or ``review``
with a plain-language reason, then adds the composite-indicator audit checks
(data quality, redundancy, conflicts, coherence, stability, remove-one impact).

It runs in three steps, each usable on its own:

1. prepare: :func:`kpilab.health.matrix.build_matrix` builds and checks the
   indicator matrix (shared with the weights), with :class:`MatrixOptions`;
2. relevance and decisions: :func:`review_relevance`, with :class:`RelevanceOptions`;
3. audit checks: :func:`audit_checks`, with :class:`AuditOptions`.

Unit of analysis
----------------
Agents are measured every period, so agent-period rows are repeated measures:
treating 60 agents x 6 months as 360 independent observations narrows the
intervals about sqrt(6)-fold when indicators mostly differ between agents.
The default (``unit_of_analysis="unit"``) therefore correlates one value per
unit over the selected periods, pooled by the panel's own rule
(:func:`kpilab.panel.pool_periods`: ratios from summed counts), so ``n`` is the
number of units. ``unit_of_analysis="row"`` uses the unit-period rows; pair it
with ``ci="bootstrap"``, which then resamples whole units (cluster bootstrap),
for honest intervals. ``within_period=True`` removes period effects first: the
values are centred within each period before the per-unit means (unit level),
or period dummies are partialled out (row level, with the degrees of freedom
this costs).

Minimum sample
--------------
Every statistic (correlations, decisions, redundancy, conflicts, VIF, Cronbach's
alpha, PCA, remove-one impact, per-period stability) needs at least
``min_units`` units (:data:`kpilab.health.matrix.MIN_UNITS`, 10). Below that it
is not computed: NaN and the flag ``too_few_units`` in the tidy tables, and
"not computed: 8 units, at least 10 needed" in the narrative.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from kpilab._validation import Interval, Options, check_params
from kpilab.errors import DataError, InsufficientDataError, ParameterError
from kpilab.framework import Framework
from kpilab.health.coherence import coherence_tables, normalise_minmax, remove_one_impact
from kpilab.health.matrix import MIN_UNITS, IndicatorMatrix, MatrixOptions, build_matrix
from kpilab.health.quality import indicator_quality
from kpilab.health.redundancy import (
    CLUSTER_COLUMNS,
    conflicting_pairs,
    pair_unit_counts,
    reconcile_pairs,
    redundancy_clusters,
    redundant_pairs,
    vif_table,
)
from kpilab.health.relevance import correlation_matrix, outcome_correlations
from kpilab.health.stability import (
    correlation_trend,
    decision_changes,
    load_previous_decisions,
    period_stability,
)

__all__ = [
    "DECISION_COLUMNS",
    "HealthReview",
    "health_review",
    "decide",
    "IndicatorPruner",
    "MatrixOptions",
    "RelevanceOptions",
    "AuditOptions",
    "RelevanceResult",
    "review_relevance",
    "audit_checks",
]

DECISION_COLUMNS = [
    "indicator",
    "r",
    "ci_low",
    "ci_high",
    "p_adj",
    "n",
    "decision",
    "reason",
    "pillar",
    "direction",
    "n_units",
    "coverage",
    "p_unc",
    "sign_conflict",
    "redundant_with",
]


# ----------------------------------------------------------------------------- options
@dataclass(frozen=True)
class RelevanceOptions:
    """How the outcome relevance is measured and turned into decisions (validated on creation).

    Parameters
    ----------
    threshold : float, default 0.3
        Minimum |r| with the outcome (the source articles' rule).
    method : {"spearman", "pearson", "kendall"}
    ci : {"fisher", "bootstrap"}
        Interval type; the bootstrap resamples units (whole units with unit-period rows).
    n_boot : int, default 2000
    confidence : float, default 0.95
        Confidence level of the intervals (the decision's significance level is ``1 - confidence``).
    min_coverage : float, default 0.65
        Share of units with a value below which an indicator is pruned (COINr).
    random_state : int or None, default 0
        Seed of the bootstrap.
    """

    threshold: float = 0.3
    method: str = "spearman"
    ci: str = "fisher"
    n_boot: int = 2000
    confidence: float = 0.95
    min_coverage: float = 0.65
    random_state: int | None = 0

    _constraints = {
        "threshold": Interval(0, 1, closed="neither"),
        "method": Options("spearman", "pearson", "kendall"),
        "ci": Options("fisher", "bootstrap"),
        "n_boot": Interval(10, None, integer=True),
        "confidence": Interval(0, 1, closed="neither"),
        "min_coverage": Interval(0, 1),
        "random_state": (Interval(0, None, integer=True), None),
    }

    def __post_init__(self) -> None:
        check_params(vars(self), self._constraints, caller="health_review")

    @property
    def alpha(self) -> float:
        """``1 - confidence``."""
        return 1 - self.confidence


@dataclass(frozen=True)
class AuditOptions:
    """Thresholds of the composite audit checks (validated on creation).

    Parameters
    ----------
    redundancy_threshold : float, default 0.9
        |r| above which two indicators are redundant.
    conflict_threshold : float, default -0.4
        Direction-aligned r below which two indicators conflict (COINr ``plot_corr``).
    vif_flag : float, default 10
        VIF above which an indicator is flagged ``high_vif``.
    alpha_min : float, default 0.7
        Cronbach's alpha below which a pillar is flagged ``low_alpha`` (Nunnally).
    """

    redundancy_threshold: float = 0.9
    conflict_threshold: float = -0.4
    vif_flag: float = 10.0
    alpha_min: float = 0.7

    _constraints = {
        "redundancy_threshold": Interval(0, 1, closed="right"),
        "conflict_threshold": Interval(-1, 0, closed="both"),
        "vif_flag": Interval(1, None),
        "alpha_min": Interval(0, 1),
    }

    def __post_init__(self) -> None:
        check_params(vars(self), self._constraints, caller="health_review")


#: Old keyword names still accepted by :func:`health_review` (deprecated): old -> new.
_DEPRECATED = {"level": "unit_of_analysis", "min_n": "min_units", "alpha": "confidence"}


def _split_options(
    kwargs: dict[str, Any],
    matrix: MatrixOptions | None,
    relevance: RelevanceOptions | None,
    audit: AuditOptions | None,
) -> tuple[MatrixOptions, RelevanceOptions, AuditOptions]:
    """Map flat keyword arguments onto the three option objects (old names with a DeprecationWarning)."""
    kwargs = dict(kwargs)
    for old, new in _DEPRECATED.items():
        if old in kwargs:
            warnings.warn(f"health_review({old}=...) is deprecated; use {new}=" + (" (= 1 - alpha)" if old == "alpha" else ""),
                          DeprecationWarning, stacklevel=3)
            val = kwargs.pop(old)
            kwargs[new] = 1 - val if old == "alpha" and isinstance(val, (int, float)) else val
    out = []
    for cls, given in ((MatrixOptions, matrix), (RelevanceOptions, relevance), (AuditOptions, audit)):
        names = {f.name for f in fields(cls)}
        mine = {k: kwargs.pop(k) for k in list(kwargs) if k in names}
        if given is not None:
            if not isinstance(given, cls):
                raise ParameterError(f"Expected a {cls.__name__}, got {type(given).__name__}.")
            out.append(cls(**{**vars(given), **mine}) if mine else given)
        else:
            out.append(cls(**mine))
    if kwargs:
        accepted = sorted({f.name for c in (MatrixOptions, RelevanceOptions, AuditOptions) for f in fields(c)})
        raise ParameterError(
            f"health_review got unexpected keyword argument(s) {', '.join(map(repr, kwargs))}; accepted options: "
            f"{', '.join(accepted)}."
        )
    return out[0], out[1], out[2]


# ----------------------------------------------------------------------------- decisions
def _label(code: str) -> str:
    return code.replace("_", " ")


def _better(direction: str, code: str) -> str:
    return {"higher": "higher", "lower": "lower"}.get(direction, "closer to its band")


def _units_to_settle(r: float, threshold: float, alpha: float) -> str:
    r"""A sentence on how many units would put the interval on one side of the threshold.

    Fisher's approximation: the interval around :math:`z = \operatorname{atanh} r` has half-width
    :math:`z_{1-\alpha/2}/\sqrt{n-3}`, so it clears ``threshold`` once
    :math:`n \ge (z_{1-\alpha/2} / |\operatorname{atanh}|r| - \operatorname{atanh} t|)^2 + 3`
    (rank correlations need somewhat more). Assumes the observed size holds.
    """
    gap = abs(np.arctanh(min(abs(r), 0.999)) - np.arctanh(threshold))
    if gap < 0.02:
        return " Its size is too close to the threshold for any realistic amount of data to settle it."
    need = int(np.ceil((stats.norm.ppf(1 - alpha / 2) / gap) ** 2 + 3))
    return f" If the link stays near r = {r:.2f}, about {need:,} units would settle it."


def decide(
    correlations: pd.DataFrame,
    quality: pd.DataFrame,
    *,
    threshold: float = 0.3,
    min_units: int = MIN_UNITS,
    min_coverage: float = 0.65,
    directions: Mapping[str, str] | None = None,
    outcome: str = "the outcome",
    outcome_direction: str = "higher",
    n_units: Mapping[str, int] | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    r"""``keep``, ``prune`` or ``review`` for each indicator, with the reason in plain words.

    Rules, first match wins:

    1. no value at all, or coverage below ``min_coverage`` -> ``prune`` (too patchy to score people on);
    2. constant -> ``prune`` (cannot tell units apart);
    3. fewer than ``min_units`` units with both values, or no correlation -> ``review``;
    4. the whole ``confidence`` interval inside :math:`(-t, t)` -> ``prune`` (weak link);
    5. the whole interval beyond :math:`\pm t` -> ``keep``, unless the sign contradicts the framework's
       directions (significantly) -> ``review``;
    6. otherwise the interval straddles the threshold -> ``review``.

    ``sign_conflict`` is True when the interval excludes 0 and the correlation's sign is opposite
    to the product of the indicator's and the outcome's directions. A ``band`` indicator's
    correlation is that of its direction-aligned value (minus the distance from the band), so it
    is expected to be positive like a ``higher`` indicator.

    Returns
    -------
    DataFrame
        Columns :data:`DECISION_COLUMNS` (``pillar`` empty and ``redundant_with`` empty: the
        caller fills them).
    """
    alpha = 1 - confidence
    directions = directions or {}
    n_units = n_units or {}
    q = quality.set_index("indicator")
    pct = f"{1 - alpha:.0%}"
    out_sign = {"higher": 1, "lower": -1}.get(outcome_direction, 0)
    oname = _label(outcome)
    rows = []
    for rec in correlations.itertuples(index=False):
        code = rec.indicator
        r, lo, hi, n = rec.r, rec.ci_low, rec.ci_high, int(rec.n)
        nu = int(n_units.get(code, n))
        qq = q.loc[code] if code in q.index else None
        cov = float(qq["coverage"]) if qq is not None else np.nan
        d = directions.get(code, "")
        dsign = {"higher": 1, "lower": -1, "band": 1}.get(d, 0)
        expected = dsign * out_sign
        sign_conflict = bool(
            expected != 0 and not np.isnan(r) and not np.isnan(lo) and (lo > 0 or hi < 0) and r * expected < 0
        )
        on = " for minus its distance from the band" if d == "band" else ""
        rtxt = f"r = {r:.2f}{on} ({pct} interval {lo:.2f} to {hi:.2f}, {nu} units)" if not np.isnan(r) else ""
        if qq is not None and int(qq["n"]) == 0:
            dec, reason = "prune", "No unit has a value for this indicator, so it cannot be scored; fix the data feed or drop it."
        elif qq is not None and cov < min_coverage:
            dec, reason = (
                "prune",
                f"Only {cov:.0%} of units have a value (at least {min_coverage:.0%} needed): too patchy to score "
                "people fairly; fix the data feed before using it.",
            )
        elif (qq is not None and bool(qq["constant"])) or rec.flag == "constant":
            val = qq["min"] if qq is not None else np.nan
            dec, reason = (
                "prune",
                f"Every unit has the same value ({val:g}), so it cannot tell good from weak performance.",
            )
        elif nu < min_units or rec.flag in ("too_few_pairs", "too_few_units"):
            dec, reason = (
                "review",
                f"Only {nu} unit{'s' if nu != 1 else ''} {'have' if nu != 1 else 'has'} both this indicator and "
                f"{oname}; at least {min_units} are needed to judge the link, so the correlation was not "
                "computed. Decide after more data comes in.",
            )
        elif np.isnan(r) or np.isnan(lo) or np.isnan(hi):
            why = {"outcome_constant": f"{oname} does not vary among these units"}.get(rec.flag, "it could not be computed")
            dec, reason = "review", f"No correlation with {oname}: {why}."
        elif lo > -threshold and hi < threshold:
            dec, reason = (
                "prune",
                f"Weak link with {oname}: {rtxt}, entirely below {threshold:g} in size. Agents who do well on it "
                f"do no better on {oname}, so it adds effort without steering the outcome.",
            )
        elif lo >= threshold or hi <= -threshold:
            if sign_conflict:
                dec, reason = (
                    "review",
                    f"Strong link with {oname} ({rtxt}) but in the wrong direction: the framework says "
                    f"{_better(d, code)} is better, yet better values go with lower {oname}. "
                    "Check the definition or the direction before keeping it.",
                )
            else:
                dec, reason = (
                    "keep",
                    f"Clear link with {oname}: {rtxt}, beyond {threshold:g} in size and in the expected direction.",
                )
        else:
            dec, reason = (
                "review",
                f"Unclear: {rtxt}; the interval spans {threshold:g}, so the data cannot yet tell whether the link "
                "is strong enough. Look again with more periods or units." + _units_to_settle(r, threshold, alpha),
            )
        if sign_conflict and dec != "review":
            reason += (
                f" Note: better values go with lower {oname}, against the framework's direction."
            )
        rows.append(
            [code, r, lo, hi, rec.p_adj, n, dec, reason, "", d, nu, cov, rec.p_unc, sign_conflict, ""]
        )
    return pd.DataFrame(rows, columns=DECISION_COLUMNS)


# ----------------------------------------------------------------------------- result
@dataclass(frozen=True)
class HealthReview:
    """Result of :func:`health_review` (options used + tidy tables).

    Attributes
    ----------
    outcome : str
    matrix_options, relevance_options, audit_options : MatrixOptions, RelevanceOptions, AuditOptions
        The options used (also readable as attributes: ``review.method``, ``review.threshold``...).
    controls : tuple of str
    n_units, n_rows : int
        Units and unit-period rows analysed.
    periods : tuple of str
        Periods covered.
    decisions : DataFrame
        :data:`DECISION_COLUMNS`, one row per indicator.
    correlations : DataFrame
        Outcome correlations (:data:`kpilab.health.relevance.CORRELATION_COLUMNS`); ``flag`` is
        ``too_few_units`` (and ``r`` NaN) when fewer than ``min_units`` units have both values.
    quality, treated_points : DataFrame
        Data quality and the points changed by the outlier treatment.
    redundancy, vif, conflicts : DataFrame
        Redundant pairs (their keep/drop advice follows ``clusters``), variance inflation factors,
        conflicting pairs.
    coherence, pillars, pca, impact : DataFrame
        Composite coherence, per-pillar alpha/PCA, eigenvalues, remove-one rank impact.
    stability, trend : DataFrame
        Per-period correlations and rank stability; their trend per indicator (empty with one period).
    changes : DataFrame or None
        Decision changes since ``previous``.
    corr_matrix, corr_counts : DataFrame
        Indicator-by-indicator correlation matrix (``method``) and pair counts.
    not_computed : dict
        Check -> why it was not computed (``{"conflicts": "not computed: 8 units, at least 10 needed"}``).
    matrix : IndicatorMatrix
        The checked data the review used.
    notices : tuple of str
        What was excluded or assumed, in words.
    clusters : DataFrame
        Redundancy clusters (:data:`kpilab.health.redundancy.CLUSTER_COLUMNS`), one row per indicator.
    """

    outcome: str
    matrix_options: MatrixOptions
    relevance_options: RelevanceOptions
    audit_options: AuditOptions
    controls: tuple[str, ...]
    n_units: int
    n_rows: int
    periods: tuple[str, ...]
    decisions: pd.DataFrame
    correlations: pd.DataFrame
    quality: pd.DataFrame
    treated_points: pd.DataFrame
    redundancy: pd.DataFrame
    vif: pd.DataFrame
    conflicts: pd.DataFrame
    coherence: pd.DataFrame
    pillars: pd.DataFrame
    pca: pd.DataFrame
    impact: pd.DataFrame
    stability: pd.DataFrame
    trend: pd.DataFrame
    changes: pd.DataFrame | None
    corr_matrix: pd.DataFrame = field(repr=False)
    corr_counts: pd.DataFrame = field(repr=False)
    not_computed: Mapping[str, str] = field(default_factory=dict)
    matrix: IndicatorMatrix | None = field(default=None, repr=False)
    notices: tuple[str, ...] = ()
    clusters: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=CLUSTER_COLUMNS))

    # -- the options, flat (read-only views of the option objects)
    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if name in _DEPRECATED:
            new = _DEPRECATED[name]
            val = getattr(self, new)
            return 1 - val if name == "alpha" else val
        for opts in ("matrix_options", "relevance_options", "audit_options"):
            o = self.__dict__.get(opts)
            if o is not None and hasattr(o, name):
                return getattr(o, name)
        raise AttributeError(f"HealthReview has no attribute {name!r}")

    # -- tables
    def to_frame(self) -> pd.DataFrame:
        """The decisions table (what ``decisions.csv`` holds)."""
        return self.decisions.copy()

    def options(self) -> dict[str, Any]:
        """The options used, for run logs (flat: matrix, relevance, audit)."""
        out: dict[str, Any] = {"outcome": self.outcome, "controls": self.controls}
        for o in (self.matrix_options, self.relevance_options, self.audit_options):
            out.update(vars(o))
        return out

    def counts(self) -> dict[str, int]:
        vc = self.decisions["decision"].value_counts()
        return {k: int(vc.get(k, 0)) for k in ("keep", "review", "prune")}

    def n_redundancy_clusters(self) -> int:
        """Clusters with at least two indicators."""
        if self.clusters.empty:
            return 0
        return int((self.clusters.groupby("cluster").size() > 1).sum())

    def summary(self) -> str:
        """Plain-text summary: options, counts and the decisions table."""
        c = self.counts()
        span = f"{self.periods[0]} to {self.periods[-1]}" if self.periods else "-"
        lines = [
            f"Indicator health review: outcome {self.outcome}, {self.method} correlation, threshold |r| >= "
            f"{self.threshold:g}, {self.confidence:.0%} {self.ci} intervals, at least {self.min_units} units per "
            "statistic",
            f"{self.n_units} units, {self.n_rows} unit-period rows, periods {span}, "
            f"unit_of_analysis={self.unit_of_analysis}"
            + (", within-period" if self.within_period else "")
            + (f", controls: {', '.join(self.controls)}" if self.controls else ""),
            f"keep {c['keep']}, review {c['review']}, prune {c['prune']}; "
            f"{self.n_redundancy_clusters()} redundancy cluster(s) of two or more, {len(self.conflicts)} conflicting "
            "pair(s)",
        ]
        lines += [f"{k}: {v}" for k, v in self.not_computed.items()]
        lines.append("")
        tab = self.decisions[["indicator", "r", "ci_low", "ci_high", "p_adj", "n", "decision"]].copy()
        lines.append(tab.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        if self.notices:
            lines += ["", "Notes:"] + [f"- {s}" for s in self.notices]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        c = self.counts()
        head = (
            f"<p><b>Indicator health review</b>: outcome <code>{self.outcome}</code>, {self.method}, threshold "
            f"{self.threshold:g}; keep {c['keep']}, review {c['review']}, prune {c['prune']}.</p>"
        )
        cols = ["indicator", "r", "ci_low", "ci_high", "p_adj", "n", "decision", "reason"]
        return head + self.decisions[cols].to_html(index=False, float_format=lambda v: f"{v:.3f}")

    def narrative(self) -> str:
        """The review in words a service manager can read (Markdown)."""
        oname = _label(self.outcome)
        c = self.counts()
        d = self.decisions
        parts = [
            f"We checked {len(d)} indicators against {oname} over {self.n_units} "
            f"{'units' if self.unit_of_analysis == 'unit' else 'units (unit-period rows)'} "
            f"({len(self.periods)} period{'s' if len(self.periods) != 1 else ''}). An indicator earns its place when "
            f"its link with {oname} is clearly at least {self.threshold:g} in size (a correlation; 0 = no link, "
            f"1 = perfect). Verdict: **keep {c['keep']}**, **review {c['review']}**, **prune {c['prune']}**.",
        ]
        for dec, title in (("keep", "Keep"), ("review", "Needs a closer look"), ("prune", "Drop from the scorecard")):
            sub = d[d["decision"] == dec]
            if len(sub):
                parts.append(f"**{title}**")
                parts += [f"- *{row.indicator}*: {row.reason}" for row in sub.itertuples()]
        nc = self.not_computed
        if "redundancy" in nc:
            parts.append(f"**Indicators that measure the same thing**: {nc['redundancy']}.")
        elif self.n_redundancy_clusters():
            parts.append("**Indicators that measure the same thing** (one representative per group stays in the "
                         "scorecard)")
            for _, g in self.clusters.groupby("cluster"):
                if len(g) > 1:
                    rep = g.loc[g["representative"], "indicator"].iloc[0]
                    others = ", ".join(f"*{c}*" for c in g.loc[~g["representative"], "indicator"])
                    why = g.loc[g["representative"], "reason"].iloc[0].split(": ", 1)[-1]
                    parts.append(f"- Keep *{rep}*, drop {others}: {why}")
        for key, title, table in (("conflicts", "Indicators that pull against each other", self.conflicts),):
            if key in nc:
                parts.append(f"**{title}**: {nc[key]}.")
            elif len(table):
                parts.append(f"**{title}**")
                parts += [f"- {row.reason}" for row in table.itertuples()]
        if "coherence" in nc:
            parts.append(f"**Do the pillars hang together?** {nc['coherence'].capitalize()}.")
        elif len(self.pillars):
            sent = []
            bar = self.audit_options.alpha_min
            for row in self.pillars.itertuples():
                if np.isnan(row.cronbach_alpha):
                    if "too_few_units" in row.flag:
                        sent.append(f"- The {row.pillar} pillar: Cronbach's alpha not computed: fewer than "
                                    f"{self.min_units} units have every indicator of the pillar.")
                    continue
                share = f"; the main common pattern explains {row.pc1_share:.0%} of their variation" \
                    if not np.isnan(row.pc1_share) else ""
                if row.cronbach_alpha < 0:
                    sent.append(
                        f"- The {row.pillar} indicators are negatively correlated with each other on average (after "
                        "turning each so that higher is better), which the reliability model behind Cronbach's alpha "
                        "rules out, so alpha is no score here: they do not measure one common thing. Check their "
                        f"directions, or split the pillar{share}."
                    )
                    continue
                verdict = "hang together well" if row.cronbach_alpha >= bar else "do not hang together well"
                sent.append(
                    f"- The {row.pillar} indicators {verdict} (Cronbach's alpha {row.cronbach_alpha:.2f}; {bar:g} or "
                    f"more is the usual bar){share}."
                )
            if sent:
                parts.append("**Do the pillars hang together?**")
                parts += sent
        if "impact" in nc:
            parts.append(f"Rank impact of dropping each indicator: {nc['impact']}.")
        elif len(self.impact) and self.impact["mean_abs_rank_shift"].notna().any():
            top = self.impact.iloc[0]
            parts.append(
                f"Dropping a single indicator moves agents' overall ranks by {self.impact['mean_abs_rank_shift'].min():.1f}"
                f" to {self.impact['mean_abs_rank_shift'].max():.1f} places on average; dropping {top['indicator']} "
                "moves them most (an indicator that differs from the others moves ranks more, whether or not it "
                "matters to customers)."
            )
        if "stability" in nc:
            parts.append(f"Stability of the links over time: {nc['stability']}.")
        if len(self.trend):
            drift = self.trend[self.trend["flag"].str.contains("drifting|sign_flip", regex=True)]
            if len(drift):
                parts.append(
                    "The link with the outcome changed over time for "
                    + ", ".join(drift["indicator"])
                    + ": re-check these next quarter."
                )
        if self.changes is not None:
            ch = self.changes[self.changes["changed"]]
            if len(ch):
                parts.append("**Changed since the previous review**")
                parts += [f"- *{row.indicator}*: {row.note}." for row in ch.itertuples()]
            else:
                parts.append("No decision changed since the previous review.")
        if self.notices:
            parts.append("**Notes on the data**")
            parts += [f"- {s}" for s in self.notices]
        return "\n\n".join(parts)

    # -- plots
    def plot_relevance(self, ax: Any = None) -> Any:
        """Forest plot of outcome correlations with intervals, coloured by decision."""
        from kpilab.health.plots import plot_relevance

        return plot_relevance(self, ax=ax)

    def plot_heatmap(self) -> Any:
        """Clustered correlation heat map of the indicators (a seaborn ClusterGrid's figure)."""
        from kpilab.health.plots import plot_heatmap

        return plot_heatmap(self)

    def plot_stability(self, ax: Any = None) -> Any:
        """Outcome correlation per period for each indicator."""
        from kpilab.health.plots import plot_stability

        return plot_stability(self, ax=ax)

    def plot_impact(self, ax: Any = None) -> Any:
        """Remove-one impact: mean absolute rank shift when each indicator is dropped."""
        from kpilab.health.plots import plot_impact

        return plot_impact(self, ax=ax)

    def save(self, out_dir: str | Path, *, figures: bool = True) -> list[Path]:
        """Write the tables (CSV) and figures (PNG) into ``out_dir``; return the paths written."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        paths = []
        tables = {
            "decisions": self.decisions,
            "correlations": self.correlations,
            "redundancy": self.redundancy,
            "redundancy_clusters": self.clusters,
            "coherence": self.coherence,
            "quality": self.quality,
            "treated_points": self.treated_points,
            "vif": self.vif,
            "conflicts": self.conflicts,
            "pillars": self.pillars,
            "pca": self.pca,
            "impact": self.impact,
            "stability": self.stability,
            "trend": self.trend,
        }
        if self.changes is not None:
            tables["changes"] = self.changes
        for name, df in tables.items():
            p = out / f"{name}.csv"
            df.to_csv(p, index=False)
            paths.append(p)
        if figures:
            import matplotlib.pyplot as plt

            from kpilab.plots import save_figure

            figs = {"relevance": self.plot_relevance().figure, "heatmap": self.plot_heatmap(),
                    "impact": self.plot_impact().figure}
            if len(self.stability) and len(self.periods) > 1:
                figs["stability"] = self.plot_stability().figure
            for name, fig in figs.items():
                paths.append(save_figure(fig, out / f"{name}.png"))
                plt.close(fig)
        return paths


# ----------------------------------------------------------------------------- step 2: relevance
@dataclass(frozen=True)
class RelevanceResult:
    """Output of :func:`review_relevance`: correlations, data quality and decisions.

    Attributes
    ----------
    correlations : DataFrame
        :data:`kpilab.health.relevance.CORRELATION_COLUMNS`.
    quality, treated, treated_points : DataFrame
        :func:`kpilab.health.quality.indicator_quality` on the matrix.
    decisions : DataFrame
        :data:`DECISION_COLUMNS` (``redundant_with`` filled by :func:`audit_checks`).
    n_units : dict
        Indicator -> units with both the indicator and the outcome.
    notices : tuple of str
    """

    correlations: pd.DataFrame
    quality: pd.DataFrame
    treated: pd.DataFrame = field(repr=False)
    treated_points: pd.DataFrame
    decisions: pd.DataFrame
    n_units: Mapping[str, int]
    notices: tuple[str, ...] = ()


def _band_aligned(df: pd.DataFrame, m: IndicatorMatrix) -> pd.DataFrame:
    """``df`` with each band indicator replaced by minus its distance from the band (0 inside it)."""
    out = df.copy()
    for c, (low, high) in m.bands.items():
        if c in out.columns:
            v = out[c].astype(float)
            out[c] = -(np.maximum(low - v, 0) + np.maximum(v - high, 0))
    return out


def _check_outcome(m: IndicatorMatrix) -> None:
    from kpilab.health.matrix import near_constant

    y = m.y
    ok = y.notna().to_numpy()
    if not ok.any():
        raise DataError(f"The outcome {m.outcome!r} has no value in the selected rows; nothing to correlate with.")
    n_with = m.units_with(ok)
    if n_with == 1:
        raise InsufficientDataError(
            f"Only 1 unit ({m.unit_ids[ok][0]}) has a value for the outcome {m.outcome!r}; relating indicators to it "
            f"needs at least {m.min_units} units. Add units or periods, or choose another outcome."
        )
    yok = y[ok].to_numpy(dtype=float)
    if near_constant(yok):
        raise InsufficientDataError(
            f"The outcome {m.outcome!r} has the same value ({yok[0]:g}) for all {n_with} units with a value, so no "
            "indicator can be related to it; check the outcome data or choose another outcome."
        )


def review_relevance(m: IndicatorMatrix, options: RelevanceOptions | None = None) -> RelevanceResult:
    """Step 2: each indicator's correlation with the outcome, its data quality, and the decision.

    ``band`` indicators are correlated through their direction-aligned value (minus the distance
    from the band), as the conflict check and the composite use them: the raw value of an
    indicator that is best in the middle of its range need not relate monotonically to the
    outcome. Correlations of indicators with fewer than ``min_units`` units are not computed
    (NaN, flag ``too_few_units``).

    Parameters
    ----------
    m : IndicatorMatrix
        From :func:`kpilab.health.matrix.build_matrix` with an outcome.
    options : RelevanceOptions, optional

    Returns
    -------
    RelevanceResult
    """
    o = options or RelevanceOptions()
    if m.y is None:
        raise ParameterError("review_relevance needs a matrix built with outcome=.")
    _check_outcome(m)
    notices: list[str] = []
    indicators = m.indicators
    unit_rows = m.options.unit_of_analysis == "unit"
    ctrl_df = m.controls
    clusters = None
    if not unit_rows:
        clusters = m.unit_ids.to_numpy()
        parts = [ctrl_df] if ctrl_df is not None else []
        if m.options.within_period and len(m.periods) > 1:
            # partial out period dummies (centring alone would not charge the degrees of freedom)
            dummies = pd.get_dummies(m.X.index.get_level_values("period"), drop_first=True, dtype=float)
            dummies.index = m.X.index
            parts.append(dummies)
        ctrl_df = pd.concat(parts, axis=1) if parts else None
    X = _band_aligned(m.X, m)
    if m.bands:
        notices.append(
            f"Band indicator(s) {', '.join(m.bands)} are related to {m.outcome} through minus their distance from "
            "the band (0 inside it), the direction-aligned value, not through the raw value."
        )
    corr = outcome_correlations(
        X, m.y, method=o.method, ci=o.ci, n_boot=o.n_boot, alpha=o.alpha, controls=ctrl_df,
        clusters=clusters, random_state=o.random_state, outcome_name=m.outcome,
    )
    yv = m.y.notna().to_numpy().copy()
    if ctrl_df is not None:
        yv &= ctrl_df.notna().all(axis=1).to_numpy()
    n_units = {c: m.units_with(yv & X[c].notna().to_numpy()) for c in indicators}
    few = corr["indicator"].map(n_units).lt(m.min_units) & corr["flag"].isin(["", "degenerate"])
    if few.any():
        corr.loc[few, ["r", "ci_low", "ci_high", "p_unc"]] = np.nan
        corr.loc[few, "flag"] = "too_few_units"
        from kpilab.health.relevance import bh_adjust

        corr["p_adj"] = bh_adjust(corr["p_unc"].to_numpy())
    quality, treated, points = indicator_quality(m.X, min_coverage=o.min_coverage)
    decisions = decide(
        corr, quality, threshold=o.threshold, min_units=m.min_units, min_coverage=o.min_coverage,
        directions=m.directions, outcome=m.outcome, outcome_direction=m.outcome_direction, n_units=n_units,
        confidence=o.confidence,
    )
    decisions["pillar"] = decisions["indicator"].map(m.pillars)
    if len(points):
        notices.append(
            f"{len(points)} extreme value(s) in {points['indicator'].nunique()} indicator(s) were winsorised or "
            "log-transformed for the composite checks (see treated_points); correlations use the raw values."
        )
    return RelevanceResult(correlations=corr, quality=quality, treated=treated, treated_points=points,
                           decisions=decisions, n_units=n_units, notices=tuple(notices))


# ----------------------------------------------------------------------------- step 3: audit
def audit_checks(
    m: IndicatorMatrix,
    relevance: RelevanceResult,
    options: AuditOptions | None = None,
    *,
    method: str = "spearman",
    threshold: float = 0.3,
    confidence: float = 0.95,
    small_n: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """Step 3: redundancy, conflicts, VIF, coherence, remove-one impact and stability over periods.

    Redundancy is judged by clusters (:func:`kpilab.health.redundancy.redundancy_clusters`): each
    cluster keeps one representative (best decision, then strongest outcome link, coverage, fewest
    ``small_n`` cells per ``small_n``) and every other member not already pruned becomes ``prune``
    with the reason, so the decisions table and the redundancy advice agree.

    Every check follows the matrix's ``min_units`` rule: below it the check is not computed,
    its table carries NaN and the flag ``too_few_units`` (or no rows, for the pair lists), and
    ``not_computed[check]`` says why in words.

    Returns
    -------
    dict
        ``redundancy, conflicts, vif, coherence, pillars, pca, impact, stability, trend,
        corr_matrix, corr_counts, clusters`` (DataFrames), ``not_computed`` (dict) and ``decisions``
        (a copy with ``redundant_with`` and the redundancy decisions filled in).
    """
    o = options or AuditOptions()
    indicators = m.indicators
    X = m.X
    quality = relevance.quality
    decisions = relevance.decisions.copy()
    nc: dict[str, str] = {}
    few = m.too_few_units()

    cmat, ccount = correlation_matrix(X, method=method)
    ucount = pair_unit_counts(X, m.unit_ids)
    rel = dict(zip(relevance.correlations["indicator"], relevance.correlations["r"], strict=True))
    cov = dict(zip(quality["indicator"], quality["coverage"], strict=True))
    if few:
        nc["redundancy"] = nc["conflicts"] = few
        redundancy = redundant_pairs(cmat.iloc[:0, :0], ccount.iloc[:0, :0])
        conflicts = conflicting_pairs(cmat.iloc[:0, :0], ccount.iloc[:0, :0])
    else:
        redundancy = redundant_pairs(cmat, ucount, threshold=o.redundancy_threshold, pillars=m.pillars, relevance=rel,
                                     coverage=cov, outcome=m.outcome or "the outcome", min_units=m.min_units)
        amat, _ = correlation_matrix(m.aligned(), method=method)
        conflicts = conflicting_pairs(amat, ucount, threshold=o.conflict_threshold, pillars=m.pillars,
                                      min_units=m.min_units)
    # redundancy as clusters: one representative each, preferring the best health decision, so the
    # redundancy advice and the keep/review/prune decision cannot disagree
    dec_of = dict(zip(decisions["indicator"], decisions["decision"], strict=True))
    clusters = redundancy_clusters(
        cmat, ucount, threshold=o.redundancy_threshold, relevance=rel, coverage=cov, small_n=small_n,
        decisions=dec_of, outcome=_label(m.outcome or "the outcome"), min_units=m.min_units,
    )
    if few:
        clusters["reason"] = f"Redundancy {few}."
    redundancy = reconcile_pairs(redundancy, clusters)
    red_with: dict[str, list[str]] = {}
    for _, g in clusters.groupby("cluster"):
        members = list(g["indicator"])
        for c in members:
            red_with[c] = [x for x in members if x != c]
        if len(members) < 2:
            continue
        for rec in g[~g["representative"]].itertuples():
            sel = decisions["indicator"] == rec.indicator
            if not sel.any() or decisions.loc[sel, "decision"].iloc[0] == "prune":
                continue
            before = decisions.loc[sel, "decision"].iloc[0]
            decisions.loc[sel, "reason"] = (
                f"Redundant: {rec.reason} On its own it would be {'kept' if before == 'keep' else 'reviewed'}: "
                + decisions.loc[sel, "reason"].iloc[0]
            )
            decisions.loc[sel, "decision"] = "prune"
    decisions["redundant_with"] = decisions["indicator"].map(lambda c: ";".join(red_with.get(c, [])))

    usable = quality.loc[~quality["constant"] & ~quality["low_coverage"] & (quality["n"] > 0), "indicator"].tolist()
    if few:
        nc["vif"] = few
    vif = vif_table(X[usable], vif_flag=o.vif_flag, units=m.unit_ids, min_units=m.min_units) if usable else \
        pd.DataFrame(columns=["indicator", "vif", "n", "flag"])

    # coherence and remove-one on the outlier-treated, normalised values
    scored = [c for c in indicators if c in usable]
    norm = normalise_minmax(relevance.treated[scored], m.directions, m.bands) if scored else pd.DataFrame(index=X.index)
    coherence, pillars_tab, pca = coherence_tables(norm, m.pillars, alpha_min=o.alpha_min, units=m.unit_ids,
                                                   min_units=m.min_units)
    impact = remove_one_impact(norm, m.pillars, units=m.unit_ids, min_units=m.min_units) if scored else \
        pd.DataFrame(columns=["indicator", "pillar", "mean_abs_rank_shift", "max_abs_rank_shift", "n_units", "flag"])
    if few:
        nc["coherence"] = nc["impact"] = few

    # stability over periods (always on unit-period rows; band indicators aligned as for relevance)
    if len(m.periods) > 1 and m.outcome:
        rows = _band_aligned(m.rows, m)
        stab = period_stability(rows, m.outcome, indicators, method="pearson" if method == "pearson" else "spearman",
                                alpha=1 - confidence, min_units=m.min_units)
        trend = correlation_trend(stab, threshold)
        if len(stab) and stab["flag"].eq("too_few_units").all():
            nc["stability"] = f"not computed: at most {int(stab['n'].max())} units in a period, at least {m.min_units} needed"
    else:
        stab = pd.DataFrame(columns=["indicator", "period", "n", "r", "ci_low", "ci_high", "rank_rho_prev", "n_rank",
                                     "flag"])
        trend = pd.DataFrame(columns=["indicator", "n_periods", "mean_r", "sd_r", "slope", "slope_p",
                                      "mean_rank_rho", "flag"])
    return {
        "decisions": decisions, "redundancy": redundancy, "conflicts": conflicts, "vif": vif, "coherence": coherence,
        "pillars": pillars_tab, "pca": pca, "impact": impact, "stability": stab, "trend": trend,
        "corr_matrix": cmat, "corr_counts": ccount, "not_computed": nc, "clusters": clusters,
    }


# ----------------------------------------------------------------------------- entry point
def _small_n_cells(panel: Any, m: IndicatorMatrix) -> dict[str, int]:
    """``small_n``-flagged cells per indicator in the reviewed unit-periods of a long panel ({} otherwise)."""
    if not isinstance(panel, pd.DataFrame) or not {"indicator", "flag", "unit_id", "period"} <= set(panel.columns):
        return {}
    p = panel
    if "unit_level" in p.columns and m.options.unit_level:
        p = p[p["unit_level"].astype(str) == m.options.unit_level]
    p = p[p["period"].astype(str).isin(set(map(str, m.periods)))]
    flagged = p[p["flag"].fillna("").astype(str).str.contains("small_n")]
    return {str(k): int(v) for k, v in flagged.groupby("indicator").size().items()}


def health_review(
    panel_or_wide: str | Path | pd.DataFrame,
    outcome: str = "retention_rate",
    *,
    framework: Framework | str | Path | Mapping[str, Any] | None = None,
    directions: Mapping[str, str] | None = None,
    indicators: Sequence[str] | None = None,
    controls: Iterable[str] | None = None,
    previous: Any = None,
    matrix: MatrixOptions | None = None,
    relevance: RelevanceOptions | None = None,
    audit: AuditOptions | None = None,
    **options: Any,
) -> HealthReview:
    r"""Review which indicators earn their place in the scorecard.

    Parameters
    ----------
    panel_or_wide : path or DataFrame
        Long panel (:data:`kpilab.panel.PANEL_COLUMNS`) or wide table (``unit_id``, optional
        ``period``, one column per indicator).
    outcome : str
        Indicator code of the outcome (e.g. ``retention_rate``).
    framework : Framework, path, mapping or None
        Source of directions, bands and pillars (default framework when None).
    directions : mapping, optional
        Direction overrides ``{code: "higher"|"lower"}``; an indicator with no known direction, or an
        override for a code not in the review, is an error naming it.
    indicators : list of str, optional
        Indicators to review (default: every column but the outcome, the controls and the
        framework's other outcomes).
    controls : list of str, optional
        Mix variables in the panel (channel share, queue share) to partial out.
    previous : HealthReview, DataFrame, decisions.csv or folder, optional
        An earlier review, to list the decisions that changed.
    matrix : MatrixOptions, optional
        ``unit_of_analysis`` ({"unit", "row"}), ``unit_level``, ``within_period``, ``period_start``,
        ``period_end``, ``min_units`` (fewest units any statistic is computed from, default 10).
    relevance : RelevanceOptions, optional
        ``threshold`` (0.3), ``method``, ``ci``, ``n_boot``, ``confidence`` (0.95), ``min_coverage``,
        ``random_state``.
    audit : AuditOptions, optional
        ``redundancy_threshold`` (0.9), ``conflict_threshold`` (-0.4), ``vif_flag``, ``alpha_min``.
    **options
        Any field of the three option objects by name (``threshold=0.4``, ``unit_of_analysis="row"``),
        overriding the objects. Deprecated names: ``level`` (now ``unit_of_analysis``), ``min_n``
        (now ``min_units``), ``alpha`` (now ``confidence = 1 - alpha``).

    Returns
    -------
    HealthReview

    Raises
    ------
    DataError
        The outcome is absent, empty or constant, or only one unit has it; infinite values; no
        indicator left to review.
    FrameworkError
        An indicator has no known direction; a direction is given for a code not in the review.
    SchemaError
        Duplicated unit-period rows.
    ParameterError
        An option out of range or unknown (naming it).

    Notes
    -----
    Decision rule (:func:`decide`): with the ``confidence`` interval :math:`[l, u]` of the
    correlation and threshold :math:`t`, ``prune`` when :math:`-t < l \le u < t`, ``keep`` when
    :math:`l \ge t` or :math:`u \le -t` (and the sign agrees with the framework's directions),
    ``review`` otherwise; constant, empty or patchy indicators are pruned first, and fewer than
    ``min_units`` units give ``review``. The composite checks follow the OECD/JRC handbook [1]_ and
    COINr [2]_; the 0.3 rule is the source articles' quarterly "indicator health diagnosis".

    References
    ----------
    .. [1] OECD/JRC (2008). Handbook on Constructing Composite Indicators: Methodology and User Guide.
    .. [2] Becker, W. et al. (2022). COINr: an R package for developing composite indicators.
       Journal of Open Source Software 7(78), 4567.

    Examples
    --------
    >>> review = health_review("outputs/run/panel.parquet", "retention_rate", threshold=0.3)  # doctest: +SKIP
    >>> print(review.summary())  # doctest: +SKIP
    >>> review.decisions.query("decision == 'prune'")[["indicator", "r", "reason"]]  # doctest: +SKIP
    """
    mopt, ropt, aopt = _split_options(options, matrix, relevance, audit)
    if ropt.method == "kendall" and (controls or (mopt.within_period and mopt.unit_of_analysis == "row")):
        raise ParameterError(
            "Partial correlations (controls= or within-period rows) are not defined for method='kendall'; "
            "use method='spearman' or 'pearson'."
        )
    m = build_matrix(panel_or_wide, outcome=outcome, framework=framework, directions=directions,
                     indicators=indicators, controls=controls, options=mopt)
    notices = list(m.notices)
    few = m.too_few_units()
    if few:
        notices.append(
            f"Only {m.n_units} unit{'s are' if m.n_units != 1 else ' is'} in the panel (at least {m.min_units} are "
            "needed for any statistic); every indicator with a usable link is marked review and the audit checks "
            f"are {few}."
        )
    rel = review_relevance(m, ropt)
    notices += rel.notices
    aud = audit_checks(m, rel, aopt, method=ropt.method, threshold=ropt.threshold, confidence=ropt.confidence,
                       small_n=_small_n_cells(panel_or_wide, m))
    changes = decision_changes(aud["decisions"], load_previous_decisions(previous)) if previous is not None else None
    if mopt.unit_of_analysis == "row" and ropt.ci == "fisher":
        notices.append(
            "Correlations use unit-period rows with Fisher intervals, which treat repeated months of one agent as "
            "independent (intervals too narrow); prefer unit_of_analysis='unit' or ci='bootstrap' (cluster "
            "bootstrap)."
        )
    elif mopt.unit_of_analysis == "row":
        notices.append(
            "Intervals come from a cluster bootstrap over units; the p-values still treat the unit-period rows "
            "as independent, so read the intervals, not the p-values."
        )
    return HealthReview(
        outcome=outcome, matrix_options=m.options, relevance_options=ropt, audit_options=aopt,
        controls=tuple(controls or ()), n_units=m.n_units, n_rows=len(m.rows), periods=m.periods,
        decisions=aud["decisions"], correlations=rel.correlations, quality=rel.quality,
        treated_points=rel.treated_points, redundancy=aud["redundancy"], vif=aud["vif"], conflicts=aud["conflicts"],
        coherence=aud["coherence"], pillars=aud["pillars"], pca=aud["pca"], impact=aud["impact"],
        stability=aud["stability"], trend=aud["trend"], changes=changes, corr_matrix=aud["corr_matrix"],
        corr_counts=aud["corr_counts"], not_computed=aud["not_computed"], matrix=m, notices=tuple(notices),
        clusters=aud["clusters"],
    )


# ----------------------------------------------------------------------------- sklearn-style
class IndicatorPruner:
    """Outcome-relevance pruner in the style of scikit-learn's ``VarianceThreshold``.

    ``fit(X, y)`` correlates each column of ``X`` with ``y`` and applies :func:`decide`;
    ``get_support()`` marks the columns not pruned (``keep`` and ``review``: a person decides
    the latter), ``transform(X)`` keeps them.

    Attributes
    ----------
    correlations_ : Series
        r per indicator.
    decisions_ : DataFrame
        :data:`DECISION_COLUMNS`.
    support_ : Series of bool
        Indicator -> not pruned.
    """

    _parameter_constraints = {
        **{k: v for k, v in RelevanceOptions._constraints.items() if k != "random_state"},
        "min_units": MatrixOptions._constraints["min_units"],
    }

    def __init__(
        self,
        threshold: float = 0.3,
        *,
        method: str = "spearman",
        ci: str = "fisher",
        n_boot: int = 2000,
        min_coverage: float = 0.65,
        min_units: int = MIN_UNITS,
        confidence: float = 0.95,
        directions: Mapping[str, str] | None = None,
        random_state: int | None = 0,
    ) -> None:
        self.threshold = threshold
        self.method = method
        self.ci = ci
        self.n_boot = n_boot
        self.min_coverage = min_coverage
        self.min_units = min_units
        self.confidence = confidence
        self.directions = directions
        self.random_state = random_state

    def fit(self, X: pd.DataFrame, y: pd.Series | np.ndarray) -> IndicatorPruner:
        check_params(vars(self), self._parameter_constraints, caller="IndicatorPruner")
        for attr in ("correlations_", "decisions_", "support_"):
            self.__dict__.pop(attr, None)
        if not isinstance(X, pd.DataFrame):
            X = pd.DataFrame(np.asarray(X, dtype=float), columns=[f"x{i}" for i in range(np.shape(X)[1])])
        y = pd.Series(np.asarray(y, dtype=float), index=X.index, name=getattr(y, "name", None) or "outcome")
        from kpilab.health.matrix import near_constant

        if y.notna().sum() <= 1 or near_constant(y.to_numpy()):
            raise InsufficientDataError("The outcome y is constant or empty; no indicator can be related to it.")
        corr = outcome_correlations(X, y, method=self.method, ci=self.ci, n_boot=self.n_boot, alpha=1 - self.confidence,
                                    random_state=self.random_state)
        quality, _, _ = indicator_quality(X, min_coverage=self.min_coverage)
        self.decisions_ = decide(corr, quality, threshold=self.threshold, min_units=self.min_units,
                                 min_coverage=self.min_coverage, directions=self.directions or {},
                                 outcome=str(y.name), confidence=self.confidence)
        self.correlations_ = pd.Series(corr["r"].to_numpy(), index=pd.Index(corr["indicator"], name="indicator"),
                                       name="r")
        self.support_ = pd.Series((self.decisions_["decision"] != "prune").to_numpy(), index=self.correlations_.index,
                                  name="support")
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "support_"):
            raise ParameterError("This IndicatorPruner is not fitted yet; call fit(X, y) first.")

    def get_support(self, indices: bool = False) -> np.ndarray:
        """Boolean mask (or integer indices) of the indicators not pruned."""
        self._check_fitted()
        mask = self.support_.to_numpy()
        return np.flatnonzero(mask) if indices else mask

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        self._check_fitted()
        return X.loc[:, list(self.support_.index[self.support_.to_numpy()])]

    def fit_transform(self, X: pd.DataFrame, y: pd.Series | np.ndarray) -> pd.DataFrame:
        return self.fit(X, y).transform(X)
