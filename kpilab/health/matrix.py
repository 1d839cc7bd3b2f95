"""The indicator matrix shared by the health review and the weights: built and checked once.

:func:`build_matrix` turns a long panel, a wide table or a panel file into an
:class:`IndicatorMatrix`: rows are units (one value per unit over the selected
periods, pooled by :func:`kpilab.panel.pool_periods`) or unit-period rows,
columns are indicator codes, with the outcome, the controls, the directions,
the band limits and the pillars beside them. Every consumer
(:func:`kpilab.health.health_review`, :func:`kpilab.weights.weights_matrix`,
:func:`kpilab.weights.calibrate_weights`) gets the same checks, applied here
and nowhere else:

* unit level: a panel mixing levels uses ``agent`` (said in a notice), or the
  level asked for; an absent level raises;
* period pooling: ``unit_of_analysis="unit"`` pools the periods of each unit by
  the panel's own rule (:func:`kpilab.panel.pool_periods`: counts summed, ratios
  re-computed from the summed numerators and denominators); ``"row"`` keeps the
  unit-period rows;
* duplicated unit-period rows in a wide table raise (naming the first ones);
* directions come from the framework, then the indicator catalogue, replaced by
  overrides; an override for a code that is not in the data raises naming it
  and the known codes (a misspelt key is never silently ignored); ``band``
  indicators need band limits;
* infinite values raise (naming the indicator and the first rows) in both the
  review and the weights: they come from a division by zero upstream and
  no statistic should quietly use or drop them;
* near-constant columns (:func:`near_constant`: standard deviation at most
  ``1e-12 * max(1, |mean|)``, so values that differ only by rounding after
  pooling count as constant) are listed in :attr:`IndicatorMatrix.constant` and
  set exactly constant;
* indicators with no value are listed in :attr:`IndicatorMatrix.empty`;
* the minimum sample, :data:`MIN_UNITS` units (``min_units``), is the single
  rule every statistic of the review and the weights follows: below it a
  statistic is not computed and says so (:meth:`IndicatorMatrix.too_few_units`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kpilab._validation import Interval, Options, check_params
from kpilab.errors import DataError, FrameworkError, ParameterError, SchemaError, format_ids
from kpilab.framework import Framework, align_direction, load_framework, resolve_directions
from kpilab.panel import pool_periods, read_panel, to_wide, wide_to_long

__all__ = [
    "MIN_UNITS",
    "MatrixOptions",
    "IndicatorMatrix",
    "build_matrix",
    "near_constant",
    "constant_columns",
    "not_computed",
]

#: Fewest units any statistic of the review or the weights is computed from (one rule for all).
MIN_UNITS = 10

_REL_TOL = 1e-12


def near_constant(values: np.ndarray | pd.Series) -> bool:
    r"""True when the finite values do not vary beyond rounding.

    .. math:: \operatorname{sd}(x) \le 10^{-12} \max(1, |\bar x|)

    (population standard deviation of the non-missing values). Values that differ only in the
    last bits, as sums of ratios pooled over periods often do (``0.1 + 0.2`` vs ``0.3``), count
    as constant; a column with fewer than one value is not constant (it is empty).
    """
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    if v.size == 0:
        return False
    if v.size == 1:
        return True
    mean = float(np.mean(v))
    if not np.isfinite(mean):
        return False
    return bool(np.std(v) <= _REL_TOL * max(1.0, abs(mean)))


def constant_columns(X: pd.DataFrame) -> list[str]:
    """Columns of ``X`` whose values are (nearly) all equal (:func:`near_constant`); empty columns excluded."""
    return [str(c) for c in X.columns if near_constant(X[c].to_numpy(dtype=float))]


def not_computed(n: int, min_units: int, what: str = "units") -> str:
    """The sentence a statistic prints instead of a number: ``not computed: 8 units, at least 10 needed``."""
    return f"not computed: {n} {what if n != 1 else what.rstrip('s')}, at least {min_units} needed"


@dataclass(frozen=True)
class MatrixOptions:
    """How the indicator matrix is built (validated on creation).

    Parameters
    ----------
    unit_of_analysis : {"unit", "row"}, default "unit"
        ``unit``: one value per unit over the selected periods (pooled by the panel's rule);
        ``row``: the unit-period rows (repeated measures; consumers resample whole units).
    unit_level : str, optional
        Which unit level of the panel to use (``agent``, ``team``...). Default: the only level, or
        ``agent`` when the panel mixes levels.
    within_period : bool, default False
        With ``unit``: centre each indicator within each period before the per-unit mean (removes
        period effects). With ``row`` the values are left as they are; the health review partials
        out period dummies instead.
    period_start, period_end : str, optional
        ``YYYY-MM-DD`` bounds on the period (inclusive); None or empty: no bound.
    min_units : int, default :data:`MIN_UNITS`
        Fewest units a statistic is computed from, for every statistic downstream.
    """

    unit_of_analysis: str = "unit"
    unit_level: str | None = None
    within_period: bool = False
    period_start: str | None = None
    period_end: str | None = None
    min_units: int = MIN_UNITS

    _constraints = {
        "unit_of_analysis": Options("unit", "row"),
        "within_period": Options(True, False),
        "min_units": Interval(3, None, integer=True),
    }

    def __post_init__(self) -> None:
        check_params(vars(self), self._constraints, caller="MatrixOptions")
        for name in ("unit_level", "period_start", "period_end"):
            v = getattr(self, name)
            if v is not None and not isinstance(v, str):
                raise ParameterError(f"The {name!r} parameter of MatrixOptions must be a str or None. Got {v!r} instead.")


@dataclass(frozen=True)
class IndicatorMatrix:
    """The checked data matrix (see :func:`build_matrix`).

    Attributes
    ----------
    X : DataFrame
        Rows: units (index ``unit_id``) or unit-period rows (index ``unit_id, period``); one
        column per indicator, raw values (not direction-aligned).
    y : Series or None
        The outcome on the same rows.
    controls : DataFrame or None
        Control variables on the same rows.
    rows : DataFrame
        Unit-period rows (index ``unit_id, period``) of the indicators, outcome and controls over
        the selected periods, for per-period checks.
    directions : dict
        Indicator -> ``higher``/``lower``/``band``.
    bands : dict
        Band indicator -> (low, high).
    pillars : dict
        Indicator -> pillar (``other`` when the framework does not list it).
    outcome : str or None
    outcome_direction : str
    options : MatrixOptions
    pooling : dict
        Indicator -> how the periods were combined (``pooled_ratio``, ``n_weighted_mean``... as
        :attr:`kpilab.panel.PooledPanel.method`, ``centred_mean`` or ``rows``).
    constant, empty : tuple of str
        Indicators that do not vary / have no value.
    periods : tuple of str
    notices : tuple of str
    """

    X: pd.DataFrame
    y: pd.Series | None
    controls: pd.DataFrame | None
    rows: pd.DataFrame = field(repr=False)
    directions: dict[str, str]
    bands: dict[str, tuple[float, float]]
    pillars: dict[str, str]
    outcome: str | None
    outcome_direction: str
    options: MatrixOptions
    pooling: dict[str, str]
    constant: tuple[str, ...]
    empty: tuple[str, ...]
    periods: tuple[str, ...]
    notices: tuple[str, ...] = ()

    # -- facts
    @property
    def indicators(self) -> list[str]:
        return list(self.X.columns)

    @property
    def min_units(self) -> int:
        return self.options.min_units

    @property
    def unit_ids(self) -> pd.Index:
        """Unit id of each row of ``X``."""
        idx = self.X.index
        return pd.Index(idx.get_level_values("unit_id") if isinstance(idx, pd.MultiIndex) else idx, name="unit_id")

    @property
    def n_units(self) -> int:
        return int(self.unit_ids.nunique())

    def units_with(self, mask: np.ndarray | pd.Series) -> int:
        """Distinct units among the rows where ``mask`` is True."""
        m = np.asarray(mask, dtype=bool)
        return int(pd.Index(self.unit_ids[m]).nunique())

    def too_few_units(self, n: int | None = None) -> str | None:
        """``None`` when ``n`` units (default: all) meet ``min_units``, else the not-computed sentence."""
        n = self.n_units if n is None else int(n)
        return None if n >= self.min_units else not_computed(n, self.min_units)

    def aligned(self) -> pd.DataFrame:
        """Higher-is-better values: ``lower`` negated, ``band`` minus the distance to the band."""
        return pd.DataFrame(
            {c: align_direction(self.X[c].astype(float), self.directions[c], self.bands.get(c)) for c in self.X.columns},
            index=self.X.index,
        )

    # -- output
    def to_frame(self) -> pd.DataFrame:
        """One row per indicator: ``indicator, direction, band_low, band_high, pillar, pooling, n, constant, empty``."""
        rows = []
        for c in self.X.columns:
            band = self.bands.get(c, (np.nan, np.nan))
            rows.append({
                "indicator": c, "direction": self.directions.get(c, ""), "band_low": band[0], "band_high": band[1],
                "pillar": self.pillars.get(c, ""), "pooling": self.pooling.get(c, ""),
                "n": int(self.X[c].notna().sum()), "constant": c in self.constant, "empty": c in self.empty,
            })
        return pd.DataFrame(rows, columns=["indicator", "direction", "band_low", "band_high", "pillar", "pooling", "n",
                                           "constant", "empty"])

    def summary(self) -> str:
        o = self.options
        what = "units" if o.unit_of_analysis == "unit" else "unit-period rows"
        lines = [
            f"Indicator matrix: {len(self.X)} {what} ({self.n_units} {o.unit_level or 'unit'}s) x "
            f"{self.X.shape[1]} indicators, periods {self.periods[0] if self.periods else '-'} to "
            f"{self.periods[-1] if self.periods else '-'}, outcome {self.outcome or '-'}; statistics need at "
            f"least {o.min_units} units.",
        ]
        if self.constant:
            lines.append(f"constant: {', '.join(self.constant)}")
        if self.empty:
            lines.append(f"no value: {', '.join(self.empty)}")
        lines += [f"- {s}" for s in self.notices]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


# ----------------------------------------------------------------------------- reading
def _is_long(df: pd.DataFrame) -> bool:
    return "indicator" in df.columns and "value" in df.columns


def _wide_to_long_checked(df: pd.DataFrame, notices: list[str]) -> pd.DataFrame:
    """A wide table as a long panel: ``unit_id`` column or index level (else a unique index), no duplicated keys."""
    if "unit_id" not in df.columns and "unit_id" in [n for n in (df.index.names or []) if n]:
        df = df.reset_index()
    elif "unit_id" not in df.columns:
        if isinstance(df.index, pd.MultiIndex) or isinstance(df.index, pd.RangeIndex):
            raise SchemaError(
                "A wide indicator table needs a 'unit_id' column (or index level), an optional 'period' "
                "column and one numeric column per indicator.",
                table="wide panel",
                column="unit_id",
            )
        df = df.rename_axis("unit_id").reset_index()
        notices.append("The wide table has no unit_id column; its index was used as the unit id.")
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
    return wide_to_long(df.drop(columns=[c for c in ("unit_level",) if c in df.columns]))


def _read_long(source: str | Path | pd.DataFrame, notices: list[str]) -> pd.DataFrame:
    if isinstance(source, (str, Path)):
        source = read_panel(source)  # a wide file is converted by read_panel (which checks its keys)
    if not isinstance(source, pd.DataFrame):
        raise ParameterError(f"The data must be a DataFrame or a .csv/.parquet path, got {type(source).__name__}.")
    if _is_long(source):
        return read_panel(source)
    return _wide_to_long_checked(source, notices)


def _select_level(long: pd.DataFrame, unit_level: str | None, notices: list[str]) -> tuple[pd.DataFrame, str]:
    levels = sorted(long["unit_level"].astype(str).unique())
    if unit_level is None:
        if len(levels) == 1:
            unit_level = levels[0]
        elif "agent" in levels:
            unit_level = "agent"
            notices.append(f"The panel mixes unit levels {', '.join(levels)}; the agent rows were used.")
        else:
            raise DataError(f"The panel mixes unit levels {levels}; pass unit_level= to choose one.")
    elif unit_level not in levels:
        raise DataError(f"The panel has no rows at unit level {unit_level!r} (it has {', '.join(levels)}); "
                        "pass unit_level= to choose one.")
    return long[long["unit_level"].astype(str) == unit_level], unit_level


def _filter_periods(long: pd.DataFrame, start: str | None, end: str | None) -> pd.DataFrame:
    if not start and not end:
        return long
    per = long["period"].astype(str)
    dates = pd.to_datetime(per, errors="coerce", format="%Y-%m-%d")
    if dates.isna().any():
        bad = per[dates.isna()].unique()
        raise DataError(f"Cannot filter by period: period value(s) {format_ids(bad)} are not YYYY-MM-DD dates.")
    keep = pd.Series(True, index=long.index)
    for val, op, name in ((start, "ge", "period_start"), (end, "le", "period_end")):
        if val:
            try:
                bound = pd.Timestamp(val)
            except ValueError:
                raise ParameterError(f"The {name!r} parameter must be a 'YYYY-MM-DD' date or ''. Got {val!r}.") from None
            keep &= getattr(dates, op)(bound)
    out = long[keep.to_numpy()]
    if out.empty:
        raise DataError(
            f"No panel rows between period_start={start or '-'} and period_end={end or '-'}; the panel covers "
            f"{per.min()} to {per.max()}."
        )
    return out


def _check_finite(values: pd.DataFrame | pd.Series, where: str) -> None:
    """Raise naming the indicators with infinite values and their first rows."""
    if isinstance(values, pd.Series):
        values = values.to_frame()
    arr = values.to_numpy(dtype=float)
    inf = np.isinf(arr)
    if not inf.any():
        return
    bad = [str(c) for c, k in zip(values.columns, inf.any(axis=0), strict=True) if k]
    rows = values.index[inf.any(axis=1)]
    labels = ["/".join(map(str, r)) if isinstance(r, tuple) else str(r) for r in rows]
    raise DataError(
        f"Indicator(s) {', '.join(bad)} hold {int(inf.sum())} infinite value(s) {where} (first: {format_ids(labels)}), "
        "usually a division by zero upstream. Fix them or set them missing; neither the health review nor the "
        "weights use infinite values."
    )


# ----------------------------------------------------------------------------- builder
def build_matrix(
    source: str | Path | pd.DataFrame,
    *,
    outcome: str | None = None,
    framework: Framework | str | Path | Mapping[str, Any] | None = None,
    directions: Mapping[str, str] | None = None,
    indicators: Sequence[str] | None = None,
    controls: Iterable[str] | None = None,
    options: MatrixOptions | None = None,
    **option_values: Any,
) -> IndicatorMatrix:
    """Build and check the indicator matrix once, for the health review and the weights.

    Parameters
    ----------
    source : DataFrame or path
        Long panel (:data:`kpilab.panel.PANEL_COLUMNS`), wide table (``unit_id`` column or index
        level, optional ``period``, one numeric column per indicator) or a .csv/.parquet file.
    outcome : str, optional
        Outcome indicator code, returned as ``y`` and never an indicator.
    framework : Framework, path, mapping or None
        Directions, bands, pillars and outcomes (default framework when None).
    directions : mapping, optional
        Direction overrides ``{code: "higher"|"lower"|"band"}``; a code that is not a column of
        the data (a misspelling) raises, naming it and the known codes.
    indicators : list of str, optional
        Indicators to use (default: every column but the outcome, the controls and the
        framework's other outcomes).
    controls : list of str, optional
        Columns returned as ``controls`` (mix variables to partial out).
    options : MatrixOptions, optional
        Or give its fields as keyword arguments (``unit_of_analysis="row"``...).

    Returns
    -------
    IndicatorMatrix

    Raises
    ------
    SchemaError
        Duplicated unit-period rows, no unit id.
    DataError
        Outcome, indicator or control absent; infinite values; no indicator left; absent unit level.
    FrameworkError
        An indicator with no known direction, a direction for a code not in the matrix, a band
        indicator without limits.
    """
    if options is None:
        options = MatrixOptions(**option_values)
    elif option_values:
        raise ParameterError(f"Give either options= or its fields ({', '.join(option_values)}), not both.")
    fw = framework if isinstance(framework, Framework) else load_framework(framework)
    notices: list[str] = []
    long = _read_long(source, notices)
    long, level = _select_level(long, options.unit_level, notices)
    if options.unit_level != level:
        options = MatrixOptions(**{**vars(options), "unit_level": level})
    long = _filter_periods(long, options.period_start, options.period_end)
    inf = np.isinf(long["value"].to_numpy(dtype=float))
    if inf.any():
        bad = long.loc[inf]
        raise DataError(
            f"Indicator(s) {', '.join(sorted(bad['indicator'].astype(str).unique()))} hold {int(inf.sum())} infinite "
            f"value(s) in the panel (first: {format_ids(bad['unit_id'].astype(str) + '/' + bad['period'].astype(str))}), "
            "usually a division by zero upstream. Fix them or set them missing; neither the health review nor the "
            "weights use infinite values."
        )
    rows_all = to_wide(long, unit_level=level)
    rows_all.columns = [str(c) for c in rows_all.columns]
    columns = list(rows_all.columns)
    controls = [str(c) for c in (controls or [])]

    # -- columns
    if outcome is not None and outcome not in columns:
        raise DataError(
            f"The outcome {outcome!r} is not in the panel ({level} rows); it has {', '.join(columns)}. "
            "Choose one of these as the outcome (outcome= in Python, -p outcome CODE for kpilab run, --outcome "
            "for kpilab health), or add an outcome column such as contacts.retained to the data."
        )
    missing_ctrl = [c for c in controls if c not in columns]
    if missing_ctrl:
        raise DataError(f"Control variable(s) {', '.join(missing_ctrl)} are not in the data.")
    if indicators is None:
        other_outcomes = set(fw.outcomes()) - {outcome}
        cols = [c for c in columns if c != outcome and c not in controls and c not in other_outcomes]
        skipped = [c for c in columns if c in other_outcomes and c not in controls]
        if skipped:
            notices.append(f"Excluded outcome indicator(s) {', '.join(skipped)}: outcomes are what indicators are "
                           "judged against, not indicators.")
    else:
        cols = [str(c) for c in indicators]
        absent = [c for c in cols if c not in columns]
        if absent:
            raise DataError(f"Indicator(s) {', '.join(absent)} are not in the data; it has {', '.join(columns)}.")
        if outcome is not None and outcome in cols:
            raise ParameterError(f"The outcome {outcome!r} cannot also be one of the indicators.")
        dup = sorted({c for c in cols if cols.count(c) > 1})
        if dup:
            raise ParameterError(f"Indicator(s) {', '.join(dup)} are listed more than once.")
    if not cols:
        raise DataError("The data hold no indicator besides the outcome and the controls; nothing to analyse.")

    # -- directions
    overrides = dict(directions or {})
    stray = [c for c in overrides if c not in columns]
    if stray:
        raise FrameworkError(
            f"A direction was given for {', '.join(map(repr, stray))}, which is not an indicator in the data; "
            f"the known codes are {', '.join(sorted(columns))}. Check the spelling."
        )
    bad = {c: d for c, d in overrides.items() if d not in ("higher", "lower", "band")}
    if bad:
        code, d = next(iter(bad.items()))
        raise FrameworkError(f"Unknown direction {d!r} for indicator {code!r}; use 'higher', 'lower' or 'band'.")
    dirs = resolve_directions(cols, fw, overrides)
    bands: dict[str, tuple[float, float]] = {}
    for c in cols:
        if dirs[c] == "band":
            band = fw.indicator(c).band if c in fw.codes else None
            if band is None:
                raise FrameworkError(f"Indicator {c!r} has direction 'band' but no band limits; add them to the framework.")
            bands[c] = (float(band[0]), float(band[1]))
    outcome_direction = "higher"
    if outcome is not None:
        try:
            outcome_direction = resolve_directions([outcome], fw, overrides)[outcome]
        except FrameworkError:
            notices.append(f"No direction is known for the outcome {outcome}; higher is assumed to be better.")
    pillars = {c: (fw.indicator(c).pillar if c in fw.codes else "other") for c in cols}

    # -- analysis table
    used = cols + ([outcome] if outcome else []) + [c for c in controls if c not in cols]
    rows = rows_all[used].astype(float)
    periods = tuple(sorted(map(str, rows.index.get_level_values("period").unique())))
    if options.unit_of_analysis == "unit":
        units = pd.Index(sorted(rows.index.get_level_values("unit_id").unique()), name="unit_id")
        if options.within_period:
            centred = rows - rows.groupby(level="period").transform("mean")
            data = centred.groupby(level="unit_id", sort=True).mean().reindex(units)
            pooling = dict.fromkeys(used, "centred_mean")
        else:
            pooled = pool_periods(long, unit_level=level, indicators=used)
            data = pooled.values.reindex(index=units, columns=used).astype(float)
            pooling = {c: str(pooled.method.get(c, "no_value")) for c in used}
        data.index.name = "unit_id"
    else:
        data = rows.copy()
        pooling = dict.fromkeys(used, "rows")
    _check_finite(data, "after pooling the periods")

    # -- constant and empty columns
    empty = tuple(c for c in cols if data[c].isna().all())
    constant = tuple(c for c in used if c not in empty and near_constant(data[c].to_numpy(dtype=float)))
    for c in constant:  # exact, so every later check sees the same thing
        v = data[c]
        data[c] = v.where(v.isna(), float(np.nanmean(v.to_numpy(dtype=float))))
    y = data[outcome] if outcome else None
    ctrl = data[controls] if controls else None
    return IndicatorMatrix(
        X=data[cols], y=y, controls=ctrl, rows=rows, directions=dirs, bands=bands, pillars=pillars,
        outcome=outcome, outcome_direction=outcome_direction, options=options, pooling=pooling,
        constant=tuple(c for c in constant if c in cols), empty=empty, periods=periods, notices=tuple(notices),
    )
