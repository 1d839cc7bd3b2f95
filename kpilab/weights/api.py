"""One entry point: :func:`calibrate_weights` (data -> weight set) and the weighting data matrix.

The data matrix
---------------
By default the rows are the agent-level rows of the panel (unit x period),
the columns the indicators. Excluded, each with a notice:

* outcome indicators (``outcome: true`` in the framework, and ``outcome=``),
  which are what weights are calibrated *against*, not weighted;
* queue-level indicators (``level: queue``) and indicators with no value at
  the chosen unit level.

The matrix is built and checked by :func:`kpilab.health.matrix.build_matrix`,
the same builder as the health review's: duplicated rows, a direction for a
code not in the data, infinite values raise; near-constant columns are
constant. Data-driven weights need at least ``min_units`` (10) distinct units:
agent-month rows of 8 agents are still 8 units.

NaN policy (``nan_policy``): ``"drop_rows"`` (default) keeps complete rows
(and says how many were dropped and which indicator had most NaNs);
``"raise"`` stops with that indicator named.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kpilab.errors import DataError, InsufficientDataError, KpilabError, ParameterError
from kpilab.framework import Framework, load_framework
from kpilab.health.matrix import MIN_UNITS, IndicatorMatrix, MatrixOptions, build_matrix, not_computed
from kpilab.weights.ahp import AHPWeights
from kpilab.weights.objective import CRITICWeights, EntropyWeights, EqualWeights, StdWeights, VarianceWeights
from kpilab.weights.optimised import OptimisedWeights
from kpilab.weights.pca import PCAWeights
from kpilab.weights.regression import RegressionWeights
from kpilab.weights.result import WeightResult

__all__ = ["METHODS", "WeightingData", "weights_matrix", "calibrate_weights", "calibrate_many", "framework_weight_set"]

#: Data-driven methods and their estimator classes.
METHODS = {
    "equal": EqualWeights,
    "entropy": EntropyWeights,
    "critic": CRITICWeights,
    "std": StdWeights,
    "variance": VarianceWeights,
    "pca": PCAWeights,
    "regression": RegressionWeights,
    "optimised": OptimisedWeights,
}
_ALIASES = {"optimized": "optimised", "sd": "std", "standard_deviation": "std", "factor": "pca"}


@dataclass(frozen=True)
class WeightingData:
    """The matrix weights are computed from (built by :func:`weights_matrix`).

    Attributes
    ----------
    X : DataFrame
        Rows x indicators (raw values), in framework order.
    y : Series or None
        The outcome on the same rows.
    directions, bands, pillars : dict
    notices : list of str
    matrix : IndicatorMatrix
        The checked matrix from :func:`kpilab.health.matrix.build_matrix` (shared with the health review).
    """

    X: pd.DataFrame
    y: pd.Series | None
    directions: dict[str, str]
    bands: dict[str, tuple[float, float]]
    pillars: dict[str, str]
    notices: list[str] = field(default_factory=list)
    matrix: IndicatorMatrix | None = field(default=None, repr=False)

    @property
    def n_units(self) -> int:
        """Distinct units behind the rows."""
        idx = self.X.index
        if isinstance(idx, pd.MultiIndex) and "unit_id" in idx.names:
            return int(idx.get_level_values("unit_id").nunique())
        return int(idx.nunique())

    @property
    def min_units(self) -> int:
        return self.matrix.min_units if self.matrix is not None else MIN_UNITS

    def __repr__(self) -> str:
        return (f"WeightingData({self.X.shape[0]} rows ({self.n_units} units) x {self.X.shape[1]} indicators, "
                f"outcome={self.y is not None})")


def _framework(framework: Framework | str | Path | Mapping[str, Any] | None) -> Framework:
    return framework if isinstance(framework, Framework) else load_framework(framework)


def weights_matrix(
    data: pd.DataFrame | str | Path,
    *,
    framework: Framework | str | Path | Mapping[str, Any] | None = None,
    outcome: str | None = None,
    unit_level: str | None = None,
    indicators: Iterable[str] | None = None,
    directions: Mapping[str, str] | None = None,
    unit_of_analysis: str = "row",
    min_units: int = MIN_UNITS,
    period_start: str | None = None,
    period_end: str | None = None,
) -> WeightingData:
    """Build the weighting matrix from a long panel, a wide table, or a panel file.

    The checks are those of the health review (:func:`kpilab.health.matrix.build_matrix`):
    duplicated unit-period rows, a direction for a code not in the data, infinite values and
    absent unit levels raise; near-constant columns count as constant; directions come from
    the framework, then the indicator catalogue.

    Parameters
    ----------
    data : DataFrame or path
        Long panel (has ``indicator`` and ``value`` columns), wide table (``unit_id`` column or
        index level [, ``period``] + indicators, or indicators with a unique index of unit ids), or
        a .csv/.parquet file of either.
    framework : Framework, path or None
        Directions, bands, pillars, outcomes, levels (None: the default framework).
    outcome : str, optional
        Outcome indicator code to return as ``y`` (e.g. ``retention_rate``).
    unit_level : str, optional
        Rows of this unit level are used (default: the only level, or ``agent``).
    indicators : iterable of str, optional
        Restrict to these indicators (the outcome may not be one of them).
    directions : mapping, optional
        Overrides of the framework's directions (``{code: "higher"|"lower"}``).
    unit_of_analysis : {"row", "unit"}, default "row"
        ``row``: unit x period rows (more rows for the estimators; the regression bootstrap
        resamples whole units); ``unit``: one row per unit, periods pooled by
        :func:`kpilab.panel.pool_periods`.
    min_units : int, default 10
        Fewest units a data-driven weight set is computed from (:func:`calibrate_weights`).
    period_start, period_end : str, optional
        ``YYYY-MM-DD`` bounds on the period.
    """
    fw = _framework(framework)
    m = build_matrix(
        data, outcome=outcome, framework=fw, directions=directions,
        indicators=None if indicators is None else [str(c) for c in indicators],
        options=MatrixOptions(unit_of_analysis=unit_of_analysis, unit_level=unit_level, min_units=min_units,
                              period_start=period_start, period_end=period_end),
    )
    notices = list(m.notices)
    level = m.options.unit_level
    known = set(fw.codes)
    cols = m.indicators
    queue = [c for c in cols if c in known and fw.indicator(c).level == "queue"]
    empty = [c for c in cols if c not in queue and c in m.empty]
    if queue or empty:
        gone = queue + empty
        notices.append(
            f"Excluded indicator(s) with no {level}-level values: {', '.join(gone)}"
            + (" (queue-level)." if queue and not empty else ".")
        )
    cols = [c for c in cols if c not in queue and c not in empty]
    order = {c: k for k, c in enumerate(fw.codes)}
    cols = sorted(cols, key=lambda c: (order.get(c, len(order)), cols.index(c)))  # framework order
    if not cols:
        raise DataError("No indicator is left for weighting after excluding outcomes and queue-level indicators.")
    dirs = {c: m.directions[c] for c in cols}
    bands = {c: m.bands[c] for c in cols if c in m.bands}
    pillars = {c: fw.indicator(c).pillar for c in cols if c in known}
    # rows without an outcome value stay: only outcome-based methods drop them (under their nan_policy)
    return WeightingData(m.X[cols], m.y, dirs, bands, pillars, notices, m)


def _check_units(wd: WeightingData, method: str) -> None:
    """The kit's minimum-sample rule for data-driven weights."""
    if wd.n_units < wd.min_units:
        raise InsufficientDataError(
            f"{method} weights {not_computed(wd.n_units, wd.min_units)} ({len(wd.X)} rows from {wd.n_units} units; "
            "repeated periods of the same units do not count as more units). Use judgement-based weights "
            "(a framework weight set, equal or AHP) or more units."
        )


def framework_weight_set(
    name: str, indicators: Iterable[str] | None = None, framework: Framework | str | Path | None = None
) -> WeightResult:
    """A named weight set of the framework (role template...) as a :class:`WeightResult`."""
    fw = _framework(framework)
    s = fw.weight_set(name, indicators)
    notices = []
    if s.attrs.get("dropped"):
        notices.append(f"Weight set {name!r}: {', '.join(s.attrs['dropped'])} have no indicator here; renormalised.")
    ws = fw.weight_sets[name]
    return WeightResult(
        weights=s, method=f"set:{name}", params={"set": name, "level": ws.level, "source": ws.source},
        pillars={c: fw.indicator(c).pillar for c in s.index}, notices=tuple(notices),
    )


def calibrate_weights(
    data: pd.DataFrame | str | Path | WeightingData | None,
    method: str = "entropy",
    *,
    directions: Mapping[str, str] | None = None,
    outcome: str | None = None,
    framework: Framework | str | Path | Mapping[str, Any] | None = None,
    pairwise: pd.DataFrame | np.ndarray | str | Path | None = None,
    indicators: Iterable[str] | None = None,
    unit_level: str | None = None,
    unit_of_analysis: str = "row",
    min_units: int = MIN_UNITS,
    nan_policy: str = "drop_rows",
    **params: Any,
) -> WeightResult:
    """Compute one weight set.

    Parameters
    ----------
    data : long panel, wide table, path, :class:`WeightingData`, or None (for ``ahp`` and named sets)
    method : str
        ``equal``, ``entropy``, ``critic``, ``std``, ``variance``, ``pca``, ``regression``
        (needs ``outcome``), ``optimised``, ``ahp`` (needs ``pairwise``), or the name of a
        framework weight set (``front_line``, ``set:front_line``...).
    directions : mapping, optional
        Direction overrides keyed by indicator code.
    outcome : str, optional
        Outcome indicator for ``regression`` (also excluded from the matrix for every method).
    framework : Framework or path, optional
    pairwise : DataFrame, array or path
        AHP pairwise comparison matrix (CSV/YAML, see :mod:`kpilab.weights.ahp`).
    unit_level, unit_of_analysis, min_units
        As :func:`weights_matrix` (when ``data`` is not already a :class:`WeightingData`).
    nan_policy : {"drop_rows", "raise"}
    **params
        Passed to the method's estimator (e.g. ``normalisation="sum"`` for entropy, ``n_boot=`` for
        regression; regression defaults to ``estimator="ridge"`` with a cross-validated penalty).

    Returns
    -------
    WeightResult
        Weights with method, params, fingerprint, diagnostics and notices.

    Raises
    ------
    InsufficientDataError
        A data-driven method on fewer than ``min_units`` units ("not computed: 8 units, at least
        10 needed").
    """
    fw = _framework(framework)
    key = method.lower().strip()
    key = _ALIASES.get(key, key)
    set_name = key.removeprefix("set:")
    if key.startswith("set:") or (key not in METHODS and key != "ahp" and set_name in fw.weight_sets):
        cols = None
        if data is not None:
            wd = data if isinstance(data, WeightingData) else weights_matrix(
                data, framework=fw, outcome=outcome, unit_level=unit_level, indicators=indicators, directions=directions,
                unit_of_analysis=unit_of_analysis, min_units=min_units)
            cols = list(wd.X.columns)
        return framework_weight_set(set_name, cols, fw)
    if key == "ahp":
        if pairwise is None:
            raise ParameterError("method='ahp' needs a pairwise comparison matrix: pairwise= (CSV/YAML path or DataFrame).")
        est = AHPWeights(**params)
        est.fit(pairwise, pillars={c: fw.indicator(c).pillar for c in fw.codes})
        res = est.result_
        pillars = {c: fw.indicator(c).pillar for c in res.weights.index if c in fw.codes}
        return WeightResult(weights=res.weights, method=res.method, params=res.params, fingerprint=res.fingerprint,
                            pillars=pillars, diagnostics=res.diagnostics, tables=res.tables, notices=res.notices)
    if key not in METHODS:
        raise ParameterError(
            f"Unknown weighting method {method!r}: use one of {', '.join([*METHODS, 'ahp'])} or a weight set of the "
            f"framework ({', '.join(fw.weight_sets) or 'none'})."
        )
    if data is None:
        raise ParameterError(f"method={key!r} needs data (a panel or a wide table).")
    wd = data if isinstance(data, WeightingData) else weights_matrix(
        data, framework=fw, outcome=outcome, unit_level=unit_level, indicators=indicators, directions=directions,
        unit_of_analysis=unit_of_analysis, min_units=min_units)
    if key != "equal":
        _check_units(wd, key)
    est = METHODS[key](nan_policy=nan_policy, **params)
    if key == "regression":
        if wd.y is None:
            raise ParameterError("method='regression' needs outcome= (an outcome indicator code, e.g. retention_rate).")
        est.fit(wd.X, wd.directions, y=wd.y, bands=wd.bands, pillars=wd.pillars)
    else:
        est.fit(wd.X, wd.directions, bands=wd.bands, pillars=wd.pillars)
    res = est.result_
    params_used = dict(res.params)
    if directions:
        params_used["direction_overrides"] = dict(directions)
    if outcome:
        params_used["outcome"] = outcome
    return WeightResult(weights=res.weights, method=res.method, params=params_used, fingerprint=res.fingerprint,
                        n_rows=res.n_rows, pillars=res.pillars, diagnostics=res.diagnostics, intervals=res.intervals,
                        tables=res.tables, notices=tuple(wd.notices) + tuple(res.notices))


def calibrate_many(
    data: pd.DataFrame | str | Path | WeightingData | None,
    methods: Iterable[str] | str,
    *,
    framework: Framework | str | Path | Mapping[str, Any] | None = None,
    outcome: str | None = None,
    pairwise: pd.DataFrame | np.ndarray | str | Path | None = None,
    directions: Mapping[str, str] | None = None,
    nan_policy: str = "drop_rows",
    params: Mapping[str, Mapping[str, Any]] | None = None,
) -> tuple[dict[str, WeightResult], pd.DataFrame]:
    """Several weight sets at once; a method that fails is reported, not raised (house rule 5).

    Parameters
    ----------
    methods : list of str or comma-separated str
        e.g. ``"equal,entropy,critic,pca,regression,front_line"``.
    params : mapping method -> options, optional
        Extra options per method (``{"regression": {"n_boot": 500}}``).

    Returns
    -------
    results : dict name -> WeightResult
        The sets that could be computed, in the order asked.
    failures : DataFrame
        ``method, flag, reason`` for the others (``flag`` is ``too_few_units`` under the
        minimum-sample rule, else ``failed``).
    """
    fw = _framework(framework)
    if isinstance(methods, str):
        methods = [m.strip() for m in methods.split(",") if m.strip()]
    wd = None
    if data is not None and not isinstance(data, WeightingData):
        wd = weights_matrix(data, framework=fw, outcome=outcome, directions=directions)
    elif isinstance(data, WeightingData):
        wd = data
    results: dict[str, WeightResult] = {}
    failures = []
    for m in methods:
        opts = dict((params or {}).get(m, {}))
        try:
            if m == "ahp":
                res = calibrate_weights(None, "ahp", framework=fw, pairwise=pairwise, **opts)
            else:
                res = calibrate_weights(wd, m, framework=fw, outcome=outcome, directions=directions,
                                        nan_policy=nan_policy, **opts)
            results[m] = res
        except KpilabError as exc:
            flag = "too_few_units" if "not computed:" in str(exc) else "failed"
            failures.append({"method": m, "flag": flag, "reason": str(exc)})
    return results, pd.DataFrame(failures, columns=["method", "flag", "reason"])
