"""The indicator health review: one call, one result object, one decision per indicator.

:func:`health_review` takes a long panel (or a wide table), correlates every
indicator with a chosen outcome and decides ``keep``, ``prune`` or ``review``
with a plain-language reason, then adds the composite-indicator audit checks
(data quality, redundancy, conflicts, coherence, stability, remove-one impact).

Unit of analysis
----------------
Agents are measured every period, so agent-period rows are repeated measures:
treating 60 agents x 6 months as 360 independent observations narrows the
intervals about sqrt(6)-fold when indicators mostly differ between agents.
The default (``level="unit"``) therefore correlates one value per unit over
the selected periods (pooled ratio sum(numerator) / sum(denominator) when the
panel carries the counts, else the mean), so ``n`` is the number of units.
``level="row"`` uses the unit-period rows; pair it with ``ci="bootstrap"``,
which then resamples whole units (cluster bootstrap), for honest intervals.
``within_period=True`` removes period effects first: the values are centred
within each period before the per-unit means (unit level), or period dummies
are partialled out (row level, with the degrees of freedom this costs).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from kpilab._validation import Interval, Options, check_params
from kpilab.errors import DataError, InsufficientDataError, ParameterError, SchemaError, format_ids
from kpilab.framework import Framework, align_direction, load_framework, resolve_directions
from kpilab.health.coherence import coherence_tables, normalise_minmax, remove_one_impact
from kpilab.health.quality import indicator_quality
from kpilab.health.redundancy import conflicting_pairs, redundant_pairs, vif_table
from kpilab.health.relevance import correlation_matrix, outcome_correlations
from kpilab.health.stability import (
    correlation_trend,
    decision_changes,
    load_previous_decisions,
    period_stability,
)
from kpilab.panel import read_panel, to_wide, wide_to_long

__all__ = [
    "DECISION_COLUMNS",
    "HealthReview",
    "health_review",
    "decide",
    "IndicatorPruner",
    "prepare_wide",
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

_CONSTRAINTS = {
    "threshold": Interval(0, 1, closed="neither"),
    "method": Options("spearman", "pearson", "kendall"),
    "ci": Options("fisher", "bootstrap"),
    "n_boot": Interval(10, None, integer=True),
    "level": Options("unit", "row"),
    "within_period": Options(True, False),
    "redundancy_threshold": Interval(0, 1, closed="right"),
    "conflict_threshold": Interval(-1, 0, closed="both"),
    "min_coverage": Interval(0, 1),
    "min_n": Interval(4, None, integer=True),
    "alpha": Interval(0, 1, closed="neither"),
}


# ----------------------------------------------------------------------------- input
def _is_long(df: pd.DataFrame) -> bool:
    return "indicator" in df.columns and "value" in df.columns


def prepare_wide(
    source: str | Path | pd.DataFrame, *, unit_level: str | None = None
) -> tuple[pd.DataFrame, pd.DataFrame | None, pd.DataFrame | None]:
    """Unit-period rows (index ``unit_id, period``), one column per indicator, plus numerators/denominators.

    Accepts a long panel (file or DataFrame), a wide CSV/Parquet file, or a wide DataFrame
    (``unit_id`` column or index level, optional ``period``). A long panel mixing unit levels
    uses ``unit_level`` (default ``agent`` when present).

    Raises
    ------
    SchemaError
        Duplicated unit-period rows (naming the first ones), missing ``unit_id``, non-numeric columns.
    """
    if isinstance(source, pd.DataFrame) and not _is_long(source):
        df = source
        if "unit_id" not in df.columns and "unit_id" in (df.index.names or []):
            df = df.reset_index()
        if "unit_id" not in df.columns:
            raise SchemaError(
                "A wide indicator table needs a 'unit_id' column (or index level), an optional 'period' "
                "column and one numeric column per indicator.",
                table="wide panel",
                column="unit_id",
            )
        key = ["unit_id", "period"] if "period" in df.columns else ["unit_id"]
        dup = df.duplicated(key, keep=False)
        if dup.any():
            ids = df.loc[dup, key].astype(str).drop_duplicates().agg("/".join, axis=1)
            raise SchemaError(
                f"Table 'wide panel' has {int(dup.sum())} rows with a duplicated ({', '.join(key)}) key "
                f"(first: {format_ids(ids)}). Each unit and period must appear once; aggregate or remove "
                "the duplicates.",
                table="wide panel",
                column="unit_id",
                n_rows=int(dup.sum()),
                example_ids=ids.head(5),
            )
        long = wide_to_long(df.drop(columns=[c for c in ("unit_level",) if c in df.columns]))
    else:
        long = read_panel(source)
    levels = sorted(long["unit_level"].astype(str).unique())
    auto = False
    if unit_level is None and len(levels) > 1:
        unit_level = "agent" if "agent" in levels else None
        auto = True
        if unit_level is None:
            raise DataError(f"The panel mixes unit levels {levels}; pass unit_level= to choose one.")
    wide = to_wide(long, unit_level=unit_level)
    if auto:
        wide.attrs["notice"] = f"The panel mixes unit levels {', '.join(levels)}; the agent rows were reviewed."
    num = den = None
    if long["numerator"].notna().any() and long["denominator"].notna().any():
        num = to_wide(long, "numerator", unit_level=unit_level)
        den = to_wide(long, "denominator", unit_level=unit_level)
    return wide, num, den


def _filter_periods(wide: pd.DataFrame, start: str | None, end: str | None) -> pd.DataFrame:
    if not start and not end:
        return wide
    per = pd.Series(wide.index.get_level_values("period"), index=wide.index)
    dates = pd.to_datetime(per, errors="coerce", format="%Y-%m-%d")
    if dates.isna().any():
        bad = per[dates.isna()].unique()
        raise DataError(
            f"Cannot filter by period: period value(s) {format_ids(bad)} are not YYYY-MM-DD dates."
        )
    keep = pd.Series(True, index=wide.index)
    for val, op, name in ((start, "ge", "period_start"), (end, "le", "period_end")):
        if val:
            try:
                bound = pd.Timestamp(val)
            except ValueError:
                raise ParameterError(f"The {name!r} parameter must be a 'YYYY-MM-DD' date or ''. Got {val!r}.") from None
            keep &= getattr(dates, op)(bound)
    out = wide[keep.to_numpy()]
    if out.empty:
        raise DataError(
            f"No panel rows between period_start={start or '-'} and period_end={end or '-'}; the panel covers "
            f"{per.min()} to {per.max()}."
        )
    return out


def _aggregate_units(
    wide: pd.DataFrame, num: pd.DataFrame | None, den: pd.DataFrame | None, cols: list[str], centred: bool
) -> pd.DataFrame:
    """One row per unit: pooled ratio (sum num / sum den) when the value is that ratio, else the mean."""
    vals = wide[cols]
    means = vals.groupby(level="unit_id", sort=True).mean()
    if centred or num is None or den is None:
        means.index.name = "unit_id"
        return means
    rc = [c for c in cols if c in num.columns and c in den.columns]
    if rc:
        v, nu, de = vals[rc], num[rc].reindex(vals.index), den[rc].reindex(vals.index)
        has = v.notna()
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = nu / de
        ok = (~has | (nu.notna() & de.notna() & (de > 0))).all()
        close = (~has | pd.DataFrame(np.isclose(v, ratio, rtol=1e-6, atol=1e-9), index=v.index, columns=rc)).all()
        use = [c for c in rc if bool(ok[c]) and bool(close[c]) and bool(has[c].any())]
        if use:
            s_num = nu[use].where(has[use]).groupby(level="unit_id", sort=True).sum(min_count=1)
            s_den = de[use].where(has[use]).groupby(level="unit_id", sort=True).sum(min_count=1)
            means[use] = s_num / s_den
    means.index.name = "unit_id"
    return means


# ----------------------------------------------------------------------------- decisions
def _label(code: str) -> str:
    return code.replace("_", " ")


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
    min_n: int = 10,
    min_coverage: float = 0.65,
    directions: Mapping[str, str] | None = None,
    outcome: str = "the outcome",
    outcome_direction: str = "higher",
    n_units: Mapping[str, int] | None = None,
    alpha: float = 0.05,
) -> pd.DataFrame:
    r"""``keep``, ``prune`` or ``review`` for each indicator, with the reason in plain words.

    Rules, first match wins:

    1. no value at all, or coverage below ``min_coverage`` -> ``prune`` (too patchy to score people on);
    2. constant -> ``prune`` (cannot tell units apart);
    3. fewer than ``min_n`` units with both values, or no correlation -> ``review``;
    4. the whole :math:`(1-\alpha)` interval inside :math:`(-t, t)` -> ``prune`` (weak link);
    5. the whole interval beyond :math:`\pm t` -> ``keep``, unless the sign contradicts the framework's
       directions (significantly) -> ``review``;
    6. otherwise the interval straddles the threshold -> ``review``.

    ``sign_conflict`` is True when the interval excludes 0 and the correlation's sign is opposite
    to the product of the indicator's and the outcome's directions (``band`` indicators are not
    checked: their link with the outcome need not be monotone).

    Returns
    -------
    DataFrame
        Columns :data:`DECISION_COLUMNS` (``pillar`` empty and ``redundant_with`` empty: the
        caller fills them).
    """
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
        dsign = {"higher": 1, "lower": -1}.get(d, 0)
        expected = dsign * out_sign
        sign_conflict = bool(
            expected != 0 and not np.isnan(r) and not np.isnan(lo) and (lo > 0 or hi < 0) and r * expected < 0
        )
        rtxt = f"r = {r:.2f} ({pct} interval {lo:.2f} to {hi:.2f}, {nu} units)" if not np.isnan(r) else ""
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
        elif nu < min_n or rec.flag == "too_few_pairs":
            dec, reason = (
                "review",
                f"Only {nu} units have both this indicator and {oname}; at least {min_n} are needed to judge "
                "the link, so decide after more data comes in.",
            )
        elif np.isnan(r) or np.isnan(lo) or np.isnan(hi):
            why = {"outcome_constant": f"{oname} does not vary among these units"}.get(rec.flag, "it could not be computed")
            dec, reason = "review", f"No correlation with {oname}: {why}."
        elif lo > -threshold and hi < threshold:
            dec, reason = (
                "prune",
                f"Weak link with {oname}: {rtxt}, entirely below {threshold:g} in size. Agents who do well on it "
                f"do not keep more customers, so it adds effort without steering the outcome.",
            )
        elif lo >= threshold or hi <= -threshold:
            if sign_conflict:
                dec, reason = (
                    "review",
                    f"Strong link with {oname} ({rtxt}) but in the wrong direction: the framework says "
                    f"{'higher' if dsign > 0 else 'lower'} is better, yet better values go with lower {oname}. "
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
    outcome, method, threshold, ci, n_boot, level, within_period, controls, redundancy_threshold,
    conflict_threshold, min_coverage, min_n, alpha, random_state
        The options used.
    n_units, n_rows : int
        Units and unit-period rows analysed.
    periods : tuple of str
        Periods covered.
    decisions : DataFrame
        :data:`DECISION_COLUMNS`, one row per indicator.
    correlations : DataFrame
        Outcome correlations (:data:`kpilab.health.relevance.CORRELATION_COLUMNS`).
    quality, treated_points : DataFrame
        Data quality and the points changed by the outlier treatment.
    redundancy, vif, conflicts : DataFrame
        Redundant pairs, variance inflation factors, conflicting pairs.
    coherence, pillars, pca, impact : DataFrame
        Composite coherence, per-pillar alpha/PCA, eigenvalues, remove-one rank impact.
    stability, trend : DataFrame
        Per-period correlations and rank stability; their trend per indicator (empty with one period).
    changes : DataFrame or None
        Decision changes since ``previous``.
    corr_matrix, corr_counts : DataFrame
        Indicator-by-indicator correlation matrix (``method``) and pair counts.
    notices : tuple of str
        What was excluded or assumed, in words.
    """

    outcome: str
    method: str
    threshold: float
    ci: str
    n_boot: int
    level: str
    within_period: bool
    controls: tuple[str, ...]
    redundancy_threshold: float
    conflict_threshold: float
    min_coverage: float
    min_n: int
    alpha: float
    random_state: int | None
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
    notices: tuple[str, ...] = ()

    # -- tables
    def to_frame(self) -> pd.DataFrame:
        """The decisions table (what ``decisions.csv`` holds)."""
        return self.decisions.copy()

    def options(self) -> dict[str, Any]:
        """The options used, for run logs."""
        return {
            k: getattr(self, k)
            for k in (
                "outcome", "method", "threshold", "ci", "n_boot", "level", "within_period", "controls",
                "redundancy_threshold", "conflict_threshold", "min_coverage", "min_n", "alpha", "random_state",
            )
        }

    def counts(self) -> dict[str, int]:
        vc = self.decisions["decision"].value_counts()
        return {k: int(vc.get(k, 0)) for k in ("keep", "review", "prune")}

    def summary(self) -> str:
        """Plain-text summary: options, counts and the decisions table."""
        c = self.counts()
        span = f"{self.periods[0]} to {self.periods[-1]}" if self.periods else "-"
        lines = [
            f"Indicator health review: outcome {self.outcome}, {self.method} correlation, threshold |r| >= "
            f"{self.threshold:g}, {1 - self.alpha:.0%} {self.ci} intervals",
            f"{self.n_units} units, {self.n_rows} unit-period rows, periods {span}, level={self.level}"
            + (", within-period" if self.within_period else "")
            + (f", controls: {', '.join(self.controls)}" if self.controls else ""),
            f"keep {c['keep']}, review {c['review']}, prune {c['prune']}; "
            f"{len(self.redundancy)} redundant pair(s), {len(self.conflicts)} conflicting pair(s)",
            "",
        ]
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
            f"{'units' if self.level == 'unit' else 'unit-periods'} "
            f"({len(self.periods)} period{'s' if len(self.periods) != 1 else ''}). An indicator earns its place when "
            f"its link with {oname} is clearly at least {self.threshold:g} in size (a correlation; 0 = no link, "
            f"1 = perfect). Verdict: **keep {c['keep']}**, **review {c['review']}**, **prune {c['prune']}**.",
        ]
        for dec, title in (("keep", "Keep"), ("review", "Needs a closer look"), ("prune", "Drop from the scorecard")):
            sub = d[d["decision"] == dec]
            if len(sub):
                parts.append(f"**{title}**")
                parts += [f"- *{row.indicator}*: {row.reason}" for row in sub.itertuples()]
        if len(self.redundancy):
            parts.append("**Indicators that measure the same thing**")
            parts += [f"- {row.reason}" for row in self.redundancy.itertuples()]
        if len(self.conflicts):
            parts.append("**Indicators that pull against each other**")
            parts += [f"- {row.reason}" for row in self.conflicts.itertuples()]
        if len(self.pillars):
            sent = []
            for row in self.pillars.itertuples():
                if np.isnan(row.cronbach_alpha):
                    continue
                verdict = "hang together well" if row.cronbach_alpha >= 0.7 else "do not hang together well"
                sent.append(
                    f"- The {row.pillar} indicators {verdict} (Cronbach's alpha {row.cronbach_alpha:.2f}; 0.7 or "
                    f"more is the usual bar); the main common pattern explains {row.pc1_share:.0%} of their variation."
                )
            if sent:
                parts.append("**Do the pillars hang together?**")
                parts += sent
        if len(self.impact) and self.impact["mean_abs_rank_shift"].notna().any():
            top = self.impact.iloc[0]
            parts.append(
                f"Dropping a single indicator moves agents' overall ranks by {self.impact['mean_abs_rank_shift'].min():.1f}"
                f" to {self.impact['mean_abs_rank_shift'].max():.1f} places on average; dropping {top['indicator']} "
                "moves them most (an indicator that differs from the others moves ranks more, whether or not it "
                "matters to customers)."
            )
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


# ----------------------------------------------------------------------------- entry point
def health_review(
    panel_or_wide: str | Path | pd.DataFrame,
    outcome: str = "retention_rate",
    *,
    framework: Framework | str | Path | Mapping[str, Any] | None = None,
    directions: Mapping[str, str] | None = None,
    indicators: Sequence[str] | None = None,
    threshold: float = 0.3,
    method: str = "spearman",
    ci: str = "fisher",
    n_boot: int = 2000,
    level: str = "unit",
    within_period: bool = False,
    controls: Iterable[str] | None = None,
    redundancy_threshold: float = 0.9,
    conflict_threshold: float = -0.4,
    min_coverage: float = 0.65,
    min_n: int = 10,
    alpha: float = 0.05,
    period_start: str | None = None,
    period_end: str | None = None,
    unit_level: str | None = None,
    previous: Any = None,
    random_state: int | None = 0,
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
        Direction overrides ``{code: "higher"|"lower"}``; an indicator with no known direction is an
        error naming it.
    indicators : list of str, optional
        Indicators to review (default: every column but the outcome, the controls and the
        framework's other outcomes).
    threshold : float, default 0.3
        Minimum |r| with the outcome (the source articles' rule).
    method : {"spearman", "pearson", "kendall"}
    ci : {"fisher", "bootstrap"}
        Interval type; the bootstrap resamples units (whole units when ``level="row"``).
    n_boot : int
    level : {"unit", "row"}
        Correlate per-unit values over the periods (default) or unit-period rows (see module notes).
    within_period : bool
        Remove period effects first.
    controls : list of str, optional
        Mix variables in the panel (channel share, queue share) to partial out.
    redundancy_threshold, conflict_threshold : float
        |r| above which a pair is redundant; direction-aligned r below which a pair conflicts.
    min_coverage : float
        Share of units with a value below which an indicator is pruned (0.65, COINr).
    min_n : int
        Fewer units than this -> ``review``.
    alpha : float
        1 - confidence level.
    period_start, period_end : str, optional
        ``YYYY-MM-DD`` bounds on the period (inclusive); empty = all.
    previous : HealthReview, DataFrame, decisions.csv or folder, optional
        An earlier review, to list the decisions that changed.
    random_state : int
        Seed of the bootstrap.

    Returns
    -------
    HealthReview

    Raises
    ------
    DataError
        The outcome is absent, empty or constant; no indicator left to review.
    FrameworkError
        An indicator has no known direction.
    SchemaError
        Duplicated unit-period rows.

    Notes
    -----
    Decision rule (:func:`decide`): with the :math:`(1-\alpha)` interval :math:`[l, u]` of the
    correlation and threshold :math:`t`, ``prune`` when :math:`-t < l \le u < t`, ``keep`` when
    :math:`l \ge t` or :math:`u \le -t` (and the sign agrees with the framework's directions),
    ``review`` otherwise; constant, empty or patchy indicators are pruned first, and fewer than
    ``min_n`` units give ``review``. The composite checks follow the OECD/JRC handbook [1]_ and
    COINr [2]_; the 0.3 rule is the source articles' quarterly "indicator health diagnosis".

    References
    ----------
    .. [1] OECD/JRC (2008). Handbook on Constructing Composite Indicators: Methodology and User Guide.
    .. [2] Becker, W. et al. (2022). COINr: an R package for developing composite indicators.
       Journal of Open Source Software 7(78), 4567.

    Examples
    --------
    >>> review = health_review("outputs/run/panel.parquet", "retention_rate")  # doctest: +SKIP
    >>> print(review.summary())  # doctest: +SKIP
    >>> review.decisions.query("decision == 'prune'")[["indicator", "r", "reason"]]  # doctest: +SKIP
    """
    check_params(locals(), _CONSTRAINTS, caller="health_review")
    notices: list[str] = []
    fw = framework if isinstance(framework, Framework) else load_framework(framework)
    wide, num, den = prepare_wide(panel_or_wide, unit_level=unit_level)
    if wide.attrs.get("notice"):
        notices.append(wide.attrs["notice"])
    wide = _filter_periods(wide, period_start, period_end)
    controls = list(controls or [])
    if outcome not in wide.columns:
        raise DataError(
            f"The outcome {outcome!r} is not in the panel; it has {', '.join(map(str, wide.columns))}. "
            "Choose one of these as the outcome (outcome= in Python and notebooks, --outcome on the command "
            "line), or add an outcome column such as contacts.retained to the data."
        )
    missing_ctrl = [c for c in controls if c not in wide.columns]
    if missing_ctrl:
        raise DataError(f"Control variable(s) {', '.join(missing_ctrl)} are not in the panel.")
    if indicators is None:
        other_outcomes = set(fw.outcomes()) - {outcome}
        indicators = [c for c in wide.columns if c != outcome and c not in controls and c not in other_outcomes]
        skipped = [c for c in wide.columns if c in other_outcomes]
        if skipped:
            notices.append(f"Other outcome column(s) {', '.join(skipped)} were not reviewed as indicators.")
    else:
        indicators = list(indicators)
        absent = [c for c in indicators if c not in wide.columns]
        if absent:
            raise DataError(f"Indicator(s) {', '.join(absent)} are not in the panel.")
        if outcome in indicators:
            raise ParameterError(f"The outcome {outcome!r} cannot also be one of the indicators reviewed.")
    if not indicators:
        raise DataError("The panel holds no indicator besides the outcome; nothing to review.")
    dirs = resolve_directions(indicators, fw, directions)
    known_out = dict(fw.directions())
    known_out.update(directions or {})
    outcome_direction = known_out.get(outcome, "higher")
    if outcome not in known_out:
        notices.append(f"No direction is known for the outcome {outcome}; higher is assumed to be better.")
    bands = {c: fw.indicator(c).band for c in indicators if c in fw.codes and fw.indicator(c).band is not None}
    pillar_of = {c: (fw.indicator(c).pillar if c in fw.codes else "other") for c in indicators}

    cols = indicators + [outcome] + [c for c in controls if c not in indicators]
    rows = wide[cols].astype(float)
    periods = tuple(sorted(map(str, rows.index.get_level_values("period").unique())))
    yrows = rows[outcome]
    if yrows.notna().sum() == 0:
        raise DataError(f"The outcome {outcome!r} has no value in the selected rows; nothing to correlate with.")

    # analysis table
    if within_period:
        centred = rows - rows.groupby(level="period").transform("mean")
    else:
        centred = rows
    ctrl_df = None
    clusters = None
    if level == "unit":
        data = _aggregate_units(centred, num, den, cols, centred=within_period)
        if controls:
            ctrl_df = data[controls]
    else:
        data = centred.copy()
        clusters = data.index.get_level_values("unit_id").to_numpy()
        parts = []
        if controls:
            parts.append(data[controls])
        if within_period and len(periods) > 1:
            # partial out period dummies (centring alone would not charge the degrees of freedom)
            data = rows.copy()
            dummies = pd.get_dummies(data.index.get_level_values("period"), drop_first=True, dtype=float)
            dummies.index = data.index
            parts.append(dummies)
        if parts:
            ctrl_df = pd.concat(parts, axis=1)
    y = data[outcome]
    yok = y.dropna()
    if yok.nunique() <= 1:
        raise InsufficientDataError(
            f"The outcome {outcome!r} has the same value ({yok.iloc[0]:g}) for every unit with a value, so no "
            "indicator can be related to it; check the outcome data or choose another outcome."
        )
    units_all = data.index.get_level_values("unit_id")
    n_units_total = int(pd.Index(units_all).nunique())
    if n_units_total < min_n:
        notices.append(
            f"Only {n_units_total} units are in the panel (at least {min_n} are needed to judge a link); every "
            "indicator with a usable link is marked review."
        )
    X = data[indicators]
    corr = outcome_correlations(
        X, y, method=method, ci=ci, n_boot=n_boot, alpha=alpha, controls=ctrl_df,
        clusters=clusters, random_state=random_state, outcome_name=outcome,
    )
    # units behind each pair
    yv = y.notna().to_numpy().copy()
    if ctrl_df is not None:
        yv &= ctrl_df.notna().all(axis=1).to_numpy()
    n_units = {c: int(pd.Index(units_all[yv & X[c].notna().to_numpy()]).nunique()) for c in indicators}
    quality, treated, points = indicator_quality(X, min_coverage=min_coverage)
    decisions = decide(
        corr, quality, threshold=threshold, min_n=min_n, min_coverage=min_coverage, directions=dirs,
        outcome=outcome, outcome_direction=outcome_direction, n_units=n_units, alpha=alpha,
    )
    decisions["pillar"] = decisions["indicator"].map(pillar_of)

    # redundancy and conflicts (pairwise on the analysis table)
    cmat, ccount = correlation_matrix(X, method=method)
    rel = dict(zip(corr["indicator"], corr["r"], strict=True))
    cov = dict(zip(quality["indicator"], quality["coverage"], strict=True))
    redundancy = redundant_pairs(
        cmat, ccount, threshold=redundancy_threshold, pillars=pillar_of, relevance=rel, coverage=cov, outcome=outcome
    )
    red_with: dict[str, list[str]] = {}
    dup_of: dict[str, list[str]] = {}
    for rec in redundancy.itertuples():
        red_with.setdefault(rec.indicator_a, []).append(rec.indicator_b)
        red_with.setdefault(rec.indicator_b, []).append(rec.indicator_a)
        dup_of.setdefault(rec.drop, []).append(f"{rec.keep} (r = {rec.r:.2f})")
    for code, others in dup_of.items():
        m = decisions["indicator"] == code
        if decisions.loc[m, "decision"].iloc[0] != "prune":
            decisions.loc[m, "reason"] = decisions.loc[m, "reason"] + (
                f" It largely duplicates {', '.join(others)}; the redundancy check suggests keeping "
                f"{'that one' if len(others) == 1 else 'those'} and merging or dropping this one."
            )
    decisions["redundant_with"] = decisions["indicator"].map(lambda c: ";".join(red_with.get(c, [])))
    if any(d == "band" for d in dirs.values()):
        aligned = pd.DataFrame({c: align_direction(X[c], dirs[c], bands.get(c)) for c in indicators}, index=X.index)
        amat, _ = correlation_matrix(aligned, method=method)
    else:
        s = np.array([1.0 if dirs[c] == "higher" else -1.0 for c in indicators])
        amat = cmat * np.outer(s, s)
    conflicts = conflicting_pairs(amat, ccount, threshold=conflict_threshold, pillars=pillar_of)
    usable = quality.loc[~quality["constant"] & ~quality["low_coverage"] & (quality["n"] > 0), "indicator"].tolist()
    vif = vif_table(X[usable]) if usable else pd.DataFrame(columns=["indicator", "vif", "n", "flag"])

    # coherence and remove-one on the outlier-treated, normalised values
    scored = [c for c in indicators if c in usable]
    norm = normalise_minmax(treated[scored], dirs, bands) if scored else pd.DataFrame(index=X.index)
    coherence, pillars_tab, pca = coherence_tables(norm, pillar_of)
    impact = remove_one_impact(norm, pillar_of) if scored else pd.DataFrame(
        columns=["indicator", "pillar", "mean_abs_rank_shift", "max_abs_rank_shift", "n_units"]
    )

    # stability over periods (always on unit-period rows)
    if len(periods) > 1:
        stab = period_stability(rows, outcome, indicators, method="pearson" if method == "pearson" else "spearman",
                                alpha=alpha)
        trend = correlation_trend(stab, threshold)
    else:
        stab = pd.DataFrame(columns=["indicator", "period", "n", "r", "ci_low", "ci_high", "rank_rho_prev", "n_rank"])
        trend = pd.DataFrame(columns=["indicator", "n_periods", "mean_r", "sd_r", "slope", "slope_p",
                                      "mean_rank_rho", "flag"])
    changes = decision_changes(decisions, load_previous_decisions(previous)) if previous is not None else None
    if level == "row" and ci == "fisher":
        notices.append(
            "Correlations use unit-period rows with Fisher intervals, which treat repeated months of one agent as "
            "independent (intervals too narrow); prefer level='unit' or ci='bootstrap' (cluster bootstrap)."
        )
    elif level == "row":
        notices.append(
            "Intervals come from a cluster bootstrap over units; the p-values still treat the unit-period rows "
            "as independent, so read the intervals, not the p-values."
        )
    if len(points):
        notices.append(
            f"{len(points)} extreme value(s) in {points['indicator'].nunique()} indicator(s) were winsorised or "
            "log-transformed for the composite checks (see treated_points); correlations use the raw values."
        )
    return HealthReview(
        outcome=outcome, method=method, threshold=threshold, ci=ci, n_boot=n_boot, level=level,
        within_period=within_period, controls=tuple(controls), redundancy_threshold=redundancy_threshold,
        conflict_threshold=conflict_threshold, min_coverage=min_coverage, min_n=min_n, alpha=alpha,
        random_state=random_state, n_units=n_units_total, n_rows=len(rows), periods=periods,
        decisions=decisions, correlations=corr, quality=quality, treated_points=points, redundancy=redundancy,
        vif=vif, conflicts=conflicts, coherence=coherence, pillars=pillars_tab, pca=pca, impact=impact,
        stability=stab, trend=trend, changes=changes, corr_matrix=cmat, corr_counts=ccount, notices=tuple(notices),
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
        "threshold": _CONSTRAINTS["threshold"],
        "method": _CONSTRAINTS["method"],
        "ci": _CONSTRAINTS["ci"],
        "n_boot": _CONSTRAINTS["n_boot"],
        "min_coverage": _CONSTRAINTS["min_coverage"],
        "min_n": _CONSTRAINTS["min_n"],
        "alpha": _CONSTRAINTS["alpha"],
    }

    def __init__(
        self,
        threshold: float = 0.3,
        *,
        method: str = "spearman",
        ci: str = "fisher",
        n_boot: int = 2000,
        min_coverage: float = 0.65,
        min_n: int = 10,
        alpha: float = 0.05,
        directions: Mapping[str, str] | None = None,
        random_state: int | None = 0,
    ) -> None:
        self.threshold = threshold
        self.method = method
        self.ci = ci
        self.n_boot = n_boot
        self.min_coverage = min_coverage
        self.min_n = min_n
        self.alpha = alpha
        self.directions = directions
        self.random_state = random_state

    def fit(self, X: pd.DataFrame, y: pd.Series | np.ndarray) -> IndicatorPruner:
        check_params(vars(self), self._parameter_constraints, caller="IndicatorPruner")
        for attr in ("correlations_", "decisions_", "support_"):
            self.__dict__.pop(attr, None)
        if not isinstance(X, pd.DataFrame):
            X = pd.DataFrame(np.asarray(X, dtype=float), columns=[f"x{i}" for i in range(np.shape(X)[1])])
        y = pd.Series(np.asarray(y, dtype=float), index=X.index, name=getattr(y, "name", None) or "outcome")
        if y.dropna().nunique() <= 1:
            raise InsufficientDataError("The outcome y is constant or empty; no indicator can be related to it.")
        corr = outcome_correlations(X, y, method=self.method, ci=self.ci, n_boot=self.n_boot, alpha=self.alpha,
                                    random_state=self.random_state)
        quality, _, _ = indicator_quality(X, min_coverage=self.min_coverage)
        self.decisions_ = decide(corr, quality, threshold=self.threshold, min_n=self.min_n,
                                 min_coverage=self.min_coverage, directions=self.directions or {},
                                 outcome=str(y.name), alpha=self.alpha)
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
