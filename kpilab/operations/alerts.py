r"""Threshold alerts with intervals, seasonal (holiday) correction and control charts over a panel.

The articles push an improvement notice when abandonment passes 8 %. A threshold on a value
alone alarms on noise: a team with 14 calls and 2 abandons is "at 14 %". :func:`threshold_alerts`
therefore reads each cell's confidence interval: ``confirmed`` when the whole interval is past the
threshold, ``possible`` when only the value is. Thresholds come from the framework
(``Indicator.alert``; ``Framework.alerts`` for measures outside the panel such as occupancy).

Peak periods (the 11.11 festival) are not failures of the team: ``seasonal="last_year"`` compares
each period with the same period a year earlier (the value minus last year's excess over its own
level), ``seasonal="weekday"`` with the same weekday of the previous weeks, and cells inside an
exemption window (``exempted_share`` >= 0.5 or an ``exempted`` flag) get status ``exempted``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from kpilab.errors import DataError, ParameterError
from kpilab.framework import Alert, Framework, load_framework
from kpilab.operations.spc import D2, DEFAULT_RULES, imr_chart, p_chart, xbar_chart

__all__ = ["ALERT_COLUMNS", "seasonal_adjust", "threshold_alerts", "control_charts", "evaluate_alert"]

ALERT_COLUMNS = ["unit_id", "unit_level", "period", "indicator", "value", "ci_low", "ci_high", "threshold", "side",
                 "status", "rule", "value_raw", "seasonal"]
SEASONAL = (None, "last_year", "weekday")


def evaluate_alert(value, ci_low, ci_high, alert: Alert) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Status (``confirmed``/``possible``/``""``), side (``above``/``below``) and threshold per cell."""
    value, lo, hi = (np.asarray(a, dtype=float) for a in (value, ci_low, ci_high))
    status = np.full(len(value), "", dtype=object)
    side = np.full(len(value), "", dtype=object)
    thr = np.full(len(value), np.nan)
    for name, past, whole in (("above", value > (alert.above if alert.above is not None else np.inf),
                               lo > (alert.above if alert.above is not None else np.inf)),
                              ("below", value < (alert.below if alert.below is not None else -np.inf),
                               hi < (alert.below if alert.below is not None else -np.inf))):
        t = alert.above if name == "above" else alert.below
        status = np.where(past, np.where(whole, "confirmed", "possible"), status)
        side = np.where(past, name, side)
        thr = np.where(past, t, thr)
    return status, side, thr


def _exempted(rows: pd.DataFrame) -> np.ndarray:
    ex = np.zeros(len(rows), dtype=bool)
    if "exempted_share" in rows.columns:
        ex |= rows["exempted_share"].fillna(0).to_numpy(dtype=float) >= 0.5
    if "flag" in rows.columns:
        ex |= rows["flag"].fillna("").astype(str).str.contains("exempted").to_numpy()
    return ex


def seasonal_adjust(rows: pd.DataFrame, method: str | None, *, window_days: int = 28, weeks: int = 8) -> pd.DataFrame:
    r"""Add ``value_adj``, ``ci_low_adj``, ``ci_high_adj`` and ``seasonal`` (the component removed).

    Parameters
    ----------
    rows : pandas.DataFrame
        Panel rows of one unit and indicator (``period`` as ``YYYY-MM-DD``).
    method : {None, "last_year", "weekday"}
        ``last_year``: :math:`s_t = x_{t-1y} - \operatorname{median}\{x_u : |u - (t-1y)| \le w\}` (last
        year's excess over its own level around that date, exempted cells left out of the median);
        ``weekday`` (day periods): :math:`s_t` = median of the same weekday over the previous ``weeks``
        weeks minus the median of all days of those weeks. :math:`x^{adj}_t = x_t - s_t`; the interval
        moves with it. A period without a baseline keeps its value (``seasonal`` NaN).
    window_days, weeks : int
        Widths of the baselines.
    """
    out = rows.copy()
    out["seasonal"] = np.nan
    if method is not None:
        t = pd.to_datetime(out["period"])
        x = pd.Series(out["value"].to_numpy(dtype=float), index=t)
        ok = pd.Series(~_exempted(out), index=t)
        base = x[ok]
        s = np.full(len(out), np.nan)
        for i, ti in enumerate(t):
            if method == "last_year":
                t0 = ti - pd.DateOffset(years=1)
                if t0 not in x.index or not np.isfinite(x.loc[t0]).all():
                    continue
                w = base[(base.index >= t0 - pd.Timedelta(days=window_days))
                         & (base.index <= t0 + pd.Timedelta(days=window_days))]
                if len(w) >= 3:
                    s[i] = float(np.mean(x.loc[t0])) - float(w.median())
            else:
                w = base[(base.index < ti) & (base.index >= ti - pd.Timedelta(weeks=weeks))]
                same = w[w.index.day_of_week == ti.day_of_week]
                if len(same) >= 3:
                    s[i] = float(same.median()) - float(w.median())
        out["seasonal"] = s
    adj = out["seasonal"].fillna(0.0).to_numpy()
    out["value_adj"] = out["value"] - adj
    out["ci_low_adj"] = out["ci_low"] - adj
    out["ci_high_adj"] = out["ci_high"] - adj
    return out


def _alerts_of(framework: Framework) -> dict[str, Alert]:
    out = {i.code: i.alert for i in framework.indicators if i.alert is not None}
    out.update(framework.alerts)
    return out


def threshold_alerts(panel: pd.DataFrame, framework: Any = None, *, unit_levels=None, seasonal: str | None = None,
                     include_ok: bool = False, window_days: int = 28, weeks: int = 8) -> pd.DataFrame:
    """Evaluate the framework's threshold alerts on every unit and period of a long panel.

    Parameters
    ----------
    panel : pandas.DataFrame
        Long panel (``unit_id, unit_level, period, indicator, value, ci_low, ci_high`` ...); extra
        measures such as the staffing check's occupancy can be appended as rows.
    framework : Framework, path, mapping or None
        Where the thresholds come from (default framework when None).
    unit_levels : list of str, optional
        Levels to evaluate (default: all in the panel).
    seasonal : {None, "last_year", "weekday"}
        Seasonal correction (:func:`seasonal_adjust`) before comparing with the threshold.
    include_ok : bool, default False
        Keep cells without an alert (status ``ok``).

    Returns
    -------
    pandas.DataFrame
        * ``unit_id``, ``unit_level``, ``period``, ``indicator``
        * ``value``, ``ci_low``, ``ci_high`` - compared with the threshold (seasonally adjusted when asked)
        * ``threshold``, ``side`` (``above``/``below``)
        * ``status`` - ``confirmed`` (whole interval past the threshold), ``possible`` (value past it,
          interval not, or no interval), ``exempted`` (inside an exemption window), ``ok``
        * ``rule`` - ``threshold``, with ``; no_ci`` when the cell has no interval
        * ``value_raw``, ``seasonal`` - the unadjusted value and the seasonal component removed
    """
    if seasonal not in SEASONAL:
        raise ParameterError(f"The 'seasonal' parameter of threshold_alerts must be one of None, 'last_year', "
                             f"'weekday'. Got {seasonal!r} instead.")
    fw = framework if isinstance(framework, Framework) else load_framework(framework)
    alerts = _alerts_of(fw)
    need = {"unit_id", "unit_level", "period", "indicator", "value", "ci_low", "ci_high"}
    missing = need - set(panel.columns)
    if missing:
        raise DataError(f"The panel lacks column(s) {', '.join(sorted(missing))}: pass a long kpilab panel "
                        "(kpilab panel --out).")
    p = panel[panel["indicator"].isin(alerts)]
    if unit_levels is not None:
        p = p[p["unit_level"].isin(list(unit_levels))]
    frames = []
    for (unit, level, ind), rows in p.groupby(["unit_id", "unit_level", "indicator"], sort=True):
        rows = seasonal_adjust(rows.sort_values("period"), seasonal, window_days=window_days, weeks=weeks)
        status, side, thr = evaluate_alert(rows["value_adj"], rows["ci_low_adj"], rows["ci_high_adj"], alerts[ind])
        no_ci = ~np.isfinite(rows["ci_low_adj"].to_numpy(dtype=float))
        status = np.where((status == "confirmed") & no_ci, "possible", status)
        status = np.where(_exempted(rows) & (status != ""), "exempted", status)
        f = pd.DataFrame({
            "unit_id": unit, "unit_level": level, "period": rows["period"].to_numpy(), "indicator": ind,
            "value": rows["value_adj"].to_numpy(), "ci_low": rows["ci_low_adj"].to_numpy(),
            "ci_high": rows["ci_high_adj"].to_numpy(), "threshold": thr, "side": side,
            "status": np.where(status == "", "ok", status),
            "rule": np.where(no_ci, "threshold; no_ci", "threshold"),
            "value_raw": rows["value"].to_numpy(), "seasonal": rows["seasonal"].to_numpy()})
        frames.append(f if include_ok else f[f["status"] != "ok"])
    if not frames:
        return pd.DataFrame(columns=ALERT_COLUMNS)
    return pd.concat(frames, ignore_index=True)[ALERT_COLUMNS]


OVERDISPERSION = 2.0  # sigma_z above which period-to-period variation swamps the within-period sigma


def _overdispersion(z: pd.Series) -> float:
    """Laney's sigma_z: mean moving range of the standardised points / 1.128 (1 when limits fit)."""
    zz = z.dropna().to_numpy()
    return float(np.mean(np.abs(np.diff(zz))) / D2) if len(zz) > 1 else 1.0


def control_charts(panel: pd.DataFrame, indicators, *, unit_level: str = "centre", units=None, chart: str = "auto",
                   laney: bool | str = "auto", rules=DEFAULT_RULES, min_periods: int = 8, seasonal: str | None = None
                   ) -> pd.DataFrame:
    r"""Control charts of each indicator's trend per unit, with the run rules fired per point.

    Parameters
    ----------
    panel : pandas.DataFrame
        Long panel.
    indicators : list of str
        Indicators to chart.
    unit_level : str, default "centre"
        Level of the units charted; ``units`` restricts to some ids.
    chart : {"auto", "p", "xbar", "imr"}
        ``auto``: p-chart for proportions (kind ``proportion`` or numerator/denominator counts), X-bar for
        means with an interval (within-period SD recovered from the interval), I-MR otherwise.
    laney : bool or "auto"
        p' chart; ``auto`` uses it when Laney's :math:`\sigma_z` exceeds 2 (period-to-period variation
        at least twice what the denominators explain: plain p limits would flag nearly every point).
        Likewise ``chart="auto"`` falls back from X-bar to I-MR of the period means at that level.
    rules, min_periods :
        See :mod:`kpilab.operations.spc`.
    seasonal : {None, "last_year", "weekday"}
        Chart the seasonally adjusted values (:func:`seasonal_adjust`).

    Returns
    -------
    pandas.DataFrame
        ``unit_id, unit_level, indicator, period, value, n, center, lcl, ucl, z, chart, rule, signal, flag``;
        a unit with too few periods keeps its rows with NaN limits and ``flag = too_few_periods``.
    """
    from scipy.stats import norm

    p = panel[(panel["unit_level"] == unit_level) & panel["indicator"].isin(list(indicators))]
    if units is not None:
        p = p[p["unit_id"].isin(list(units))]
    frames = []
    for (unit, ind), rows in p.groupby(["unit_id", "indicator"], sort=True):
        rows = seasonal_adjust(rows.sort_values("period"), seasonal)
        kind = rows["kind"].iloc[0] if "kind" in rows.columns else ""
        has_counts = rows["denominator"].notna().all() and rows["numerator"].notna().all()
        use = chart if chart != "auto" else ("p" if (kind == "proportion" or (not kind and has_counts)) and
                                             seasonal is None else
                                             "xbar" if kind == "mean" and rows["ci_low"].notna().any() else "imr")
        try:
            if use == "p":
                c = p_chart(rows["numerator"], rows["denominator"], rows["period"], laney=laney is True, rules=rules,
                            min_periods=min_periods)
                if laney == "auto" and _overdispersion(c["z"]) > OVERDISPERSION:
                    c = p_chart(rows["numerator"], rows["denominator"], rows["period"], laney=True, rules=rules,
                                min_periods=min_periods)
            elif use == "xbar":
                z = float(norm.ppf(0.975))
                sd = (rows["ci_high"] - rows["ci_low"]) / (2 * z) * np.sqrt(rows["n"])
                c = xbar_chart(rows["value_adj"], rows["n"], sd, rows["period"], rules=rules, min_periods=min_periods)
                if chart == "auto" and _overdispersion(c["z"]) > OVERDISPERSION:
                    c = imr_chart(rows["value_adj"], rows["period"], n=rows["n"].to_numpy(), rules=rules,
                                  min_periods=min_periods)
            else:
                c = imr_chart(rows["value_adj"], rows["period"], n=rows["n"].to_numpy(), rules=rules,
                              min_periods=min_periods)
            c["flag"] = ""
        except DataError:
            c = pd.DataFrame({"period": rows["period"].to_numpy(), "value": rows["value_adj"].to_numpy(),
                              "n": rows["n"].to_numpy(), "center": np.nan, "lcl": np.nan, "ucl": np.nan, "z": np.nan,
                              "chart": use, "rule": "", "signal": False, "flag": "too_few_periods"})
        c.insert(0, "indicator", ind)
        c.insert(0, "unit_level", unit_level)
        c.insert(0, "unit_id", unit)
        frames.append(c)
    if not frames:
        raise DataError(f"No rows of {', '.join(indicators)} at unit level {unit_level!r} in the panel "
                        f"(levels present: {', '.join(sorted(panel['unit_level'].unique()))}).")
    return pd.concat(frames, ignore_index=True)
