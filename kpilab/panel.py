"""The indicator panel: the long table every analysis reads.

Long format (one row per unit, period and indicator)::

    unit_id, unit_level, period, indicator, value, numerator, denominator,
    n, ci_low, ci_high, flag

Ratios keep their counts so roll-ups sum counts instead of averaging
percentages; ``flag`` says why a value should not be trusted (``small_n``,
``no_ci``, ``exempted``...), empty when fine. Optional columns
(:data:`OPTIONAL_PANEL_COLUMNS`) may follow: ``kind`` and ``scale`` (how the
value was computed, so pooling never guesses; see
:mod:`kpilab.indicators.kinds`), ``exempted_share`` (share of the cell's rows
inside ``relax_target`` exemption windows) and ``value_shrunk``.

This module holds the format itself: validation, long <-> wide, and reading a
panel file that may be long or wide (a wide CSV has a ``unit_id`` first
column, an optional ``period`` column and one column per indicator).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from kpilab.errors import DataError, SchemaError, format_ids
from kpilab.levels import PERIODS, UNIT_LEVELS  # noqa: F401 - re-exported: the panel's vocabulary

__all__ = [
    "PANEL_COLUMNS",
    "OPTIONAL_PANEL_COLUMNS",
    "PooledPanel",
    "pool_periods",
    "UNIT_LEVELS",
    "PERIODS",
    "validate_panel",
    "to_wide",
    "wide_to_long",
    "read_panel",
    "write_table",
]

PANEL_COLUMNS = [
    "unit_id",
    "unit_level",
    "period",
    "indicator",
    "value",
    "numerator",
    "denominator",
    "n",
    "ci_low",
    "ci_high",
    "flag",
]
#: optional columns a panel may carry after :data:`PANEL_COLUMNS` (validated when present, kept on read/write)
OPTIONAL_PANEL_COLUMNS = ["kind", "scale", "exempted_share", "value_shrunk"]
_KINDS = ("proportion", "mean", "quantile", "ratio", "per_day", "count", "nps")
_KEY = ["unit_id", "unit_level", "period", "indicator"]


def validate_panel(panel: pd.DataFrame, *, name: str = "panel") -> pd.DataFrame:
    """Check a long panel: columns, types, unique keys. Returns it unchanged.

    The optional columns (:data:`OPTIONAL_PANEL_COLUMNS`) are checked when present:
    ``kind`` one of the indicator kinds (or empty), ``scale``, ``exempted_share`` and
    ``value_shrunk`` numeric.

    Raises
    ------
    SchemaError
        Missing columns, non-numeric values, an unknown kind, or duplicated
        (unit_id, unit_level, period, indicator) rows, with the first keys.
    """
    missing = [c for c in PANEL_COLUMNS if c not in panel.columns]
    if missing:
        raise SchemaError(
            f"Table {name!r} is not a long indicator panel: missing column(s) {', '.join(missing)}. "
            "A long panel has " + ", ".join(PANEL_COLUMNS) + ".",
            table=name,
            column=missing[0],
        )
    numeric = ["value", "numerator", "denominator", "n", "ci_low", "ci_high"]
    numeric += [c for c in ("scale", "exempted_share", "value_shrunk") if c in panel.columns]
    for col in numeric:
        if not pd.api.types.is_numeric_dtype(panel[col]) and panel[col].notna().any():
            raise SchemaError(
                f"Table {name!r}, column {col!r} must be numeric, got dtype {panel[col].dtype}.",
                table=name,
                column=col,
            )
    if "kind" in panel.columns:
        kinds = panel["kind"].astype(object)
        bad = kinds.notna() & (kinds != "") & ~kinds.isin(_KINDS)
        if bad.any():
            raise SchemaError(
                f"Table {name!r}, column 'kind': {int(bad.sum())} row(s) with an unknown kind "
                f"(first: {format_ids(kinds[bad].astype(str).unique())}); kinds are {', '.join(_KINDS)}. "
                "Drop the column to let pooling infer the kind, or fix the values.",
                table=name, column="kind", n_rows=int(bad.sum()),
            )
    dup = panel.duplicated(_KEY, keep=False)
    if dup.any():
        keys = panel.loc[dup, _KEY].drop_duplicates().astype(str).agg("/".join, axis=1)
        raise SchemaError(
            f"Table {name!r} has {int(dup.sum())} rows with a duplicated (unit_id, unit_level, period, "
            f"indicator) key (first: {format_ids(keys)}). Each unit, period and indicator must appear once.",
            table=name,
            column="unit_id",
            n_rows=int(dup.sum()),
            example_ids=keys.head(5),
        )
    return panel


def to_wide(
    panel: pd.DataFrame,
    value: str = "value",
    *,
    unit_level: str | None = None,
    indicators: list[str] | None = None,
) -> pd.DataFrame:
    """Wide view: rows (unit_id, period), one column per indicator.

    Parameters
    ----------
    panel : DataFrame
        Long panel.
    value : str, default "value"
        Which column to spread (``value``, ``value_shrunk``, ``n``...).
    unit_level : str, optional
        Keep only this unit level; required when the panel mixes levels.
    indicators : list of str, optional
        Keep and order these indicators.
    """
    validate_panel(panel)
    levels = panel["unit_level"].unique()
    if unit_level is None:
        if len(levels) > 1:
            raise DataError(
                f"The panel mixes unit levels {sorted(levels)}; pass unit_level= to choose one."
            )
    else:
        panel = panel[panel["unit_level"] == unit_level]
        if panel.empty:
            raise DataError(f"The panel has no rows at unit level {unit_level!r} (it has {sorted(levels)}).")
    wide = panel.pivot(index=["unit_id", "period"], columns="indicator", values=value)
    wide.columns.name = None
    if indicators is not None:
        absent = [c for c in indicators if c not in wide.columns]
        if absent:
            raise DataError(f"Indicator(s) {', '.join(absent)} are not in the panel; it has {', '.join(wide.columns)}.")
        wide = wide[indicators]
    return wide.sort_index()


@dataclass(frozen=True)
class PooledPanel:
    """One value per unit over all periods of a panel (see :func:`pool_periods`).

    Attributes
    ----------
    values : DataFrame
        Index ``unit_id``, one column per indicator.
    n : DataFrame
        Observations behind each value (summed over periods).
    method : dict
        ``{indicator: how it was pooled}``: ``pooled_ratio`` (scale x summed numerator /
        summed denominator), ``sum`` (counts), ``n_weighted_mean (approximation: ...)``
        (quantiles); with ``(kind inferred: ...)`` appended when the panel had no
        ``kind`` column.
    ci_low, ci_high : DataFrame
        Interval of each pooled value at the panel's level (NaN where the kind has no
        interval or it cannot be derived from the cells).
    """

    values: pd.DataFrame
    n: pd.DataFrame
    method: dict[str, str]
    ci_low: pd.DataFrame | None = None
    ci_high: pd.DataFrame | None = None

    def small_n(self, min_n: int) -> pd.Series:
        """Per unit, the indicators backed by fewer than ``min_n`` observations (';'-joined, '' if none)."""
        low = self.n.lt(min_n) & self.values.notna()
        return low.apply(lambda row: ";".join(c for c, v in row.items() if v), axis=1).rename("small_n")


_INFERRED = " (kind inferred: the panel has no kind column)"


def _infer_pool(g: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """The pre-``kind`` rule: pooled ratio when value = s * numerator / denominator (s 1 or 100) in every row,
    else the n-weighted mean of the period values (plain mean when n is unknown); no interval."""
    num, den, val = g["numerator"], g["denominator"], g["value"]
    ratio = num / den.where(den > 0)
    scale = next((k for k in (1.0, 100.0) if ratio.notna().all() and np.allclose(val, k * ratio, rtol=1e-6,
                                                                                  atol=1e-9)), None)
    n = g["n"].fillna(0)
    if scale is not None:
        sums = g.groupby("unit_id")[["numerator", "denominator"]].sum()
        value = scale * sums["numerator"] / sums["denominator"]
        method = "pooled_ratio"
    else:
        w = n.where(n > 0, 1.0) if g["n"].notna().all() else pd.Series(1.0, index=g.index)
        tmp = pd.DataFrame({"unit_id": g["unit_id"], "wv": w * val, "w": w})
        agg = tmp.groupby("unit_id")[["wv", "w"]].sum()
        value = agg["wv"] / agg["w"]
        method = "n_weighted_mean"
    out = pd.DataFrame({"value": value, "n": n.groupby(g["unit_id"]).sum(), "ci_low": np.nan, "ci_high": np.nan})
    return out, method + _INFERRED


def pool_periods(
    panel: pd.DataFrame, *, unit_level: str = "agent", indicators: list[str] | None = None, level: float = 0.95
) -> PooledPanel:
    r"""Collapse the periods of a long panel into one value per unit, by each indicator's kind.

    The rule comes from the panel's ``kind`` and ``scale`` columns (one definition per kind,
    :mod:`kpilab.indicators.kinds`), never from the values:

    * proportion, mean, ratio, per_day, nps: the summed counts,

      .. math:: v_u = s \, \frac{\sum_t \mathrm{num}_{ut}}{\sum_t \mathrm{den}_{ut}},

      never the average of the periods' rates (``shared/domain/kpi-standards.md`` rule 1);
      intervals: Wilson on the pooled counts (proportion), the exact t interval of the pooled
      sample (mean: each cell's sum of squares is recovered from its interval at ``level``),
      the NPS interval when promoters and detractors can be recovered from the cells;
    * count: the total :math:`\sum_t v_{ut}`;
    * quantile: the n-weighted mean of the period quantiles -- an approximation (quantiles do
      not pool from summaries), said so in :attr:`PooledPanel.method`; no interval.

    A panel without a ``kind`` column (older panels, wide tables) falls back to inference:
    the pooled ratio when ``value = s * numerator / denominator`` (s 1 or 100) in every row,
    else the n-weighted mean; the method then ends in ``(kind inferred: ...)`` and the
    intervals are NaN.

    Parameters
    ----------
    panel : DataFrame
        Long panel.
    unit_level : str
        Level to pool (default ``agent``).
    indicators : list of str, optional
        Indicators to keep (default all, sorted).
    level : float
        Confidence level the panel's intervals were computed at (``compute_panel(level=...)``,
        default 0.95); also the level of the pooled intervals.

    Returns
    -------
    PooledPanel
    """
    from kpilab.indicators.kinds import get_kind, pool_cells

    validate_panel(panel)
    df = panel[panel["unit_level"] == unit_level]
    if df.empty:
        raise DataError(f"The panel has no rows at unit level {unit_level!r}.")
    if indicators is not None:
        df = df[df["indicator"].isin(indicators)]
    df = df[df["value"].notna()]
    has_kind = "kind" in df.columns
    values, ns, lows, highs, method = {}, {}, {}, {}, {}
    for code, g in df.groupby("indicator", sort=False):
        kinds = g["kind"].replace("", np.nan).dropna().unique() if has_kind else []
        if len(kinds) > 1:
            raise DataError(f"Indicator {code!r} has rows of several kinds ({', '.join(map(str, kinds))}) in the "
                            "panel; pool panels of one definition at a time.")
        if len(kinds) == 1 and g["kind"].replace("", np.nan).notna().all():
            kind = get_kind(str(kinds[0]))
            # without a scale column the kind's own scale (NPS: points) is assumed
            g = g.assign(scale=g["scale"].astype(float) if "scale" in g.columns else kind.base_scale)
            res = pool_cells(g, kind.name, level)
            method[code] = kind.pooling
        else:
            res, method[code] = _infer_pool(g)
        values[code], ns[code] = res["value"], res["n"]
        lows[code], highs[code] = res["ci_low"], res["ci_high"]
    order = [c for c in (indicators or sorted(values)) if c in values]
    vals = pd.DataFrame(values)[order].sort_index()

    def frame(d: dict) -> pd.DataFrame:
        out = pd.DataFrame(d)[order].reindex(vals.index).astype(float)
        out.index.name = "unit_id"
        return out

    vals.index.name = "unit_id"
    return PooledPanel(vals, frame(ns), method, frame(lows), frame(highs))


def wide_to_long(wide: pd.DataFrame, unit_level: str = "agent") -> pd.DataFrame:
    """Long panel from a wide table (index or columns ``unit_id`` [, ``period``]).

    Counts and intervals are unknown in a wide table, so ``numerator``,
    ``denominator``, ``n``, ``ci_low`` and ``ci_high`` are NaN.
    """
    df = wide.reset_index() if wide.index.names[0] is not None else wide.copy()
    if "unit_id" not in df.columns:
        raise SchemaError(
            "A wide indicator table needs a 'unit_id' column (first column), an optional 'period' "
            "column and one numeric column per indicator.",
            table="wide panel",
            column="unit_id",
        )
    if "period" not in df.columns:
        df["period"] = "all"
    ind_cols = [c for c in df.columns if c not in ("unit_id", "period", "unit_level")]
    non_numeric = [c for c in ind_cols if not pd.api.types.is_numeric_dtype(df[c])]
    if non_numeric:
        raise SchemaError(
            f"Wide table: indicator column(s) {', '.join(map(str, non_numeric))} are not numeric.",
            table="wide panel",
            column=str(non_numeric[0]),
        )
    long = df.melt(id_vars=["unit_id", "period"], value_vars=ind_cols, var_name="indicator", value_name="value")
    long["unit_id"] = long["unit_id"].astype(str)
    long["period"] = long["period"].astype(str)
    long.insert(1, "unit_level", unit_level)
    for col in ("numerator", "denominator", "n", "ci_low", "ci_high"):
        long[col] = np.nan
    long["flag"] = ""
    long = long[PANEL_COLUMNS]  # no kind column: pool_periods infers (and says so)
    validate_panel(long, name="wide panel")
    return long


def read_panel(source: str | Path | pd.DataFrame) -> pd.DataFrame:
    """Read a long panel, or a wide table converted to long (CSV or Parquet)."""
    if isinstance(source, pd.DataFrame):
        df = source
        name = "panel"
    else:
        path = Path(source)
        name = path.name
        if not path.is_file():
            raise DataError(f"Panel file {path} does not exist.")
        if path.suffix.lower() == ".parquet":
            df = pd.read_parquet(path)
        elif path.suffix.lower() == ".csv":
            df = pd.read_csv(path, dtype={"unit_id": str, "period": str})
        else:
            raise DataError(f"Panel file {path} must end in .csv or .parquet.")
    if "indicator" in df.columns and "value" in df.columns:
        df = df.copy()
        flag = df["flag"].astype(object) if "flag" in df.columns else pd.Series("", index=df.index, dtype=object)
        df["flag"] = flag.where(flag.notna(), "").astype(str)
        df["unit_id"] = df["unit_id"].astype(str)
        df["period"] = df["period"].astype(str)
        return validate_panel(df, name=name)
    return wide_to_long(df)


def write_table(df: pd.DataFrame, path: str | Path) -> Path:
    """Write a table as .csv or .parquet, by extension. Returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".parquet":
        df.to_parquet(path, index=False)
    elif path.suffix.lower() == ".csv":
        df.to_csv(path, index=False)
    else:
        raise DataError(f"Output file {path} must end in .csv or .parquet.")
    return path
