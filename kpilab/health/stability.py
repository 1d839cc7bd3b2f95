"""Stability over time: outcome correlations per period and their trend, rank stability, changed decisions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from kpilab.errors import DataError
from kpilab.health.relevance import outcome_correlations

__all__ = [
    "STABILITY_COLUMNS",
    "TREND_COLUMNS",
    "CHANGE_COLUMNS",
    "period_stability",
    "correlation_trend",
    "load_previous_decisions",
    "decision_changes",
]

STABILITY_COLUMNS = ["indicator", "period", "n", "r", "ci_low", "ci_high", "rank_rho_prev", "n_rank", "flag"]
TREND_COLUMNS = ["indicator", "n_periods", "mean_r", "sd_r", "slope", "slope_p", "mean_rank_rho", "flag"]
CHANGE_COLUMNS = ["indicator", "decision_previous", "decision", "r_previous", "r", "changed", "note"]


def period_stability(
    rows: pd.DataFrame,
    outcome: str,
    indicators: list[str],
    *,
    method: str = "spearman",
    alpha: float = 0.05,
    min_units: int = 0,
) -> pd.DataFrame:
    """Outcome correlation of each indicator within each period, and period-to-period rank stability.

    Parameters
    ----------
    rows : DataFrame
        Unit-period rows, index ``(unit_id, period)``.

    Returns
    -------
    DataFrame
        Columns :data:`STABILITY_COLUMNS`: ``r`` (with Fisher CI) is the within-period correlation
        with the outcome; ``rank_rho_prev`` is the Spearman correlation of the units' values in
        this period with their values in the previous period (units present in both;
        ``n_rank`` of them): how far an indicator ranks the same agents the same way month to month.
        A correlation resting on fewer than ``min_units`` units is not computed (NaN; ``flag``
        ``too_few_units``).
    """
    periods = sorted(rows.index.get_level_values("period").unique())
    parts = []
    prev = None
    for per in periods:
        sub = rows.xs(per, level="period")
        if outcome in sub.columns:
            res = outcome_correlations(sub[indicators], sub[outcome], method=method, ci="fisher", alpha=alpha)
        else:
            res = pd.DataFrame({"indicator": indicators, "n": 0, "r": np.nan, "ci_low": np.nan, "ci_high": np.nan})
        res = res[["indicator", "n", "r", "ci_low", "ci_high"]].copy()
        res.insert(1, "period", per)
        few = res["n"].to_numpy() < min_units
        res.loc[few, ["r", "ci_low", "ci_high"]] = np.nan
        rho, nr = [], []
        if prev is not None:
            common = sub.index.intersection(prev.index)
            cur_v = sub.loc[common, indicators].to_numpy(dtype=float)
            prev_v = prev.loc[common, indicators].to_numpy(dtype=float)
        for j, _c in enumerate(indicators):
            if prev is None:
                rho.append(np.nan)
                nr.append(0)
                continue
            ok = ~np.isnan(cur_v[:, j]) & ~np.isnan(prev_v[:, j])
            a, b = prev_v[ok, j], cur_v[ok, j]
            nr.append(int(ok.sum()))
            if ok.sum() >= max(3, min_units) and np.ptp(a) > 0 and np.ptp(b) > 0:
                rho.append(float(stats.spearmanr(a, b).statistic))
            else:
                rho.append(np.nan)
        res["rank_rho_prev"], res["n_rank"] = rho, nr
        res["flag"] = np.where(few, "too_few_units", "")
        parts.append(res)
        prev = sub
    if not parts:
        return pd.DataFrame(columns=STABILITY_COLUMNS)
    return pd.concat(parts, ignore_index=True)[STABILITY_COLUMNS]


def correlation_trend(stab: pd.DataFrame, threshold: float = 0.3) -> pd.DataFrame:
    """Per indicator: mean and spread of the per-period correlations and their linear trend.

    ``slope`` is the OLS slope of ``r`` on the period's position (0, 1, 2, ...), in correlation
    units per period, with its p-value (``scipy.stats.linregress``; needs 3+ periods). ``flag``:
    ``drifting`` (slope p < 0.05), ``sign_flip`` (some period above +threshold and another below
    -threshold).
    """
    rows = []
    for code, g in stab.groupby("indicator", sort=False):
        g = g.sort_values("period")
        pos = np.arange(len(g), dtype=float)
        ok = g["r"].notna().to_numpy()
        r = g["r"].to_numpy(dtype=float)
        slope = slope_p = np.nan
        if ok.sum() >= 3 and np.ptp(r[ok]) > 0:
            lr = stats.linregress(pos[ok], r[ok])
            slope, slope_p = float(lr.slope), float(lr.pvalue)
        flags = []
        if not np.isnan(slope_p) and slope_p < 0.05:
            flags.append("drifting")
        if ok.any() and np.nanmax(r) > threshold and np.nanmin(r) < -threshold:
            flags.append("sign_flip")
        rows.append(
            [code, int(ok.sum()), float(np.nanmean(r)) if ok.any() else np.nan,
             float(np.nanstd(r, ddof=1)) if ok.sum() > 1 else np.nan, slope, slope_p,
             float(g["rank_rho_prev"].mean()) if g["rank_rho_prev"].notna().any() else np.nan, ";".join(flags)]
        )
    return pd.DataFrame(rows, columns=TREND_COLUMNS)


def load_previous_decisions(previous: Any) -> pd.DataFrame:
    """A previous review's decisions: a HealthReview, a DataFrame, a decisions.csv or a folder holding one.

    A folder may hold ``decisions.csv`` directly (``kpilab health --out DIR``) or under
    ``tables/`` (a notebook run folder).
    """
    if hasattr(previous, "decisions") and isinstance(previous.decisions, pd.DataFrame):
        return previous.decisions
    if isinstance(previous, pd.DataFrame):
        df = previous
    else:
        path = Path(previous)
        if path.is_dir():
            for cand in (path / "decisions.csv", path / "tables" / "decisions.csv"):
                if cand.is_file():
                    path = cand
                    break
            else:
                raise DataError(
                    f"Previous review folder {path} holds no decisions.csv (looked in it and in its tables/ "
                    "folder). Pass the output folder of an earlier `kpilab health` run or notebook 02."
                )
        if not path.is_file():
            raise DataError(f"Previous review {path} does not exist.")
        df = pd.read_csv(path)
    missing = [c for c in ("indicator", "decision") if c not in df.columns]
    if missing:
        raise DataError(
            f"The previous review's decisions table lacks column(s) {', '.join(missing)}; it needs "
            "'indicator' and 'decision' (as written by kpilab health)."
        )
    return df


def decision_changes(current: pd.DataFrame, previous: pd.DataFrame) -> pd.DataFrame:
    """Which decisions changed since the previous review (indicators in either review).

    Returns
    -------
    DataFrame
        Columns :data:`CHANGE_COLUMNS`; ``decision_previous`` or ``decision`` is empty for an
        indicator present in one review only.
    """
    prev = previous.set_index("indicator")
    cur = current.set_index("indicator")
    codes = list(cur.index) + [c for c in prev.index if c not in cur.index]
    rows = []
    for c in codes:
        dp = str(prev.at[c, "decision"]) if c in prev.index else ""
        dc = str(cur.at[c, "decision"]) if c in cur.index else ""
        rp = float(prev.at[c, "r"]) if c in prev.index and "r" in prev.columns else np.nan
        rc = float(cur.at[c, "r"]) if c in cur.index else np.nan
        if not dp:
            note = "new indicator: not in the previous review"
        elif not dc:
            note = "no longer in the panel"
        elif dp == dc:
            note = "unchanged"
        else:
            note = f"was {dp}, now {dc}"
        rows.append([c, dp, dc, rp, rc, dp != dc, note])
    return pd.DataFrame(rows, columns=CHANGE_COLUMNS)
