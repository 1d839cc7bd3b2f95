"""The indicator panel: the long table every analysis reads.

Long format (one row per unit, period and indicator)::

    unit_id, unit_level, period, indicator, value, numerator, denominator,
    n, ci_low, ci_high, flag

Ratios keep their counts so roll-ups sum counts instead of averaging
percentages; ``flag`` says why a value should not be trusted (``small_n``,
``exempted``...), empty when fine. Extra columns (``value_shrunk``) may follow.

This module holds the format itself: validation, long <-> wide, and reading a
panel file that may be long or wide (a wide CSV has a ``unit_id`` first
column, an optional ``period`` column and one column per indicator).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from kpilab.errors import DataError, SchemaError, format_ids

__all__ = [
    "PANEL_COLUMNS",
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
UNIT_LEVELS = ("agent", "team", "role", "site", "centre")
PERIODS = ("day", "week", "month", "quarter")
_KEY = ["unit_id", "unit_level", "period", "indicator"]


def validate_panel(panel: pd.DataFrame, *, name: str = "panel") -> pd.DataFrame:
    """Check a long panel: columns, types, unique keys. Returns it unchanged.

    Raises
    ------
    SchemaError
        Missing columns, non-numeric values, or duplicated
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
    for col in ("value", "numerator", "denominator", "n", "ci_low", "ci_high"):
        if not pd.api.types.is_numeric_dtype(panel[col]) and panel[col].notna().any():
            raise SchemaError(
                f"Table {name!r}, column {col!r} must be numeric, got dtype {panel[col].dtype}.",
                table=name,
                column=col,
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
    long = long[PANEL_COLUMNS]
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
