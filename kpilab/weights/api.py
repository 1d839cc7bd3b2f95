"""One entry point: :func:`calibrate_weights` (data -> weight set) and the weighting data matrix.

The data matrix
---------------
By default the rows are the agent-level rows of the panel (unit x period),
the columns the indicators. Excluded, each with a notice:

* outcome indicators (``outcome: true`` in the framework, and ``outcome=``),
  which are what weights are calibrated *against*, not weighted;
* queue-level indicators (``level: queue``) and indicators with no value at
  the chosen unit level;
* indicators not scored by the framework when a framework is given and
  ``indicators`` is not.

NaN policy (``nan_policy``): ``"drop_rows"`` (default) keeps complete rows
(and says how many were dropped and which indicator had most NaNs);
``"raise"`` stops with that indicator named.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kpilab.errors import DataError, FrameworkError, ParameterError
from kpilab.framework import Framework, load_framework, resolve_directions
from kpilab.panel import read_panel, to_wide
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


class WeightingData:
    """The matrix weights are computed from: ``X`` (rows x indicators), ``y`` (outcome or None),
    ``directions``, ``bands``, ``pillars``, ``notices``."""

    def __init__(self, X: pd.DataFrame, y: pd.Series | None, directions: dict[str, str],
                 bands: dict[str, tuple[float, float]], pillars: dict[str, str], notices: list[str]) -> None:
        self.X, self.y, self.directions, self.bands, self.pillars, self.notices = X, y, directions, bands, pillars, notices

    def __repr__(self) -> str:
        return f"WeightingData({self.X.shape[0]} rows x {self.X.shape[1]} indicators, outcome={self.y is not None})"


def _framework(framework: Framework | str | Path | Mapping[str, Any] | None) -> Framework:
    return framework if isinstance(framework, Framework) else load_framework(framework)


def weights_matrix(
    data: pd.DataFrame | str | Path,
    *,
    framework: Framework | str | Path | Mapping[str, Any] | None = None,
    outcome: str | None = None,
    unit_level: str = "agent",
    indicators: Iterable[str] | None = None,
    directions: Mapping[str, str] | None = None,
) -> WeightingData:
    """Build the weighting matrix from a long panel, a wide table, or a panel file.

    Parameters
    ----------
    data : DataFrame or path
        Long panel (has ``indicator`` and ``value`` columns), wide table (columns
        ``unit_id`` [, ``period``] + indicators, or indicators with any index),
        or a .csv/.parquet file of either.
    framework : Framework, path or None
        Directions, bands, pillars, outcomes, levels (None: the default framework).
    outcome : str, optional
        Outcome indicator code to return as ``y`` (e.g. ``retention_rate``).
    unit_level : str, default "agent"
        Rows of this unit level are used (when the panel has it).
    indicators : iterable of str, optional
        Restrict to these indicators (outcome excluded regardless).
    directions : mapping, optional
        Overrides of the framework's directions (``{code: "higher"|"lower"}``).
    """
    fw = _framework(framework)
    notices: list[str] = []
    if isinstance(data, (str, Path)):
        data = read_panel(data)
    if "indicator" in data.columns and "value" in data.columns:
        panel = read_panel(data)
        levels = sorted(panel["unit_level"].unique())
        level = unit_level if unit_level in levels else (levels[0] if len(levels) == 1 else None)
        if level is None:
            raise DataError(f"The panel has no {unit_level!r} rows (levels: {', '.join(levels)}); pass unit_level=.")
        if level != unit_level:
            notices.append(f"The panel has no {unit_level!r} rows; used its {level!r} rows.")
        wide = to_wide(panel, unit_level=level)
    else:
        wide = data.copy()
        keys = [c for c in ("unit_id", "period") if c in wide.columns]
        if keys:
            wide = wide.set_index(keys)
        wide = wide.drop(columns=[c for c in ("unit_level",) if c in wide.columns])
    wide.columns = [str(c) for c in wide.columns]
    known = set(fw.codes)
    outcomes = set(fw.outcomes()) | ({outcome} if outcome else set())
    if outcome and outcome not in wide.columns:
        raise DataError(
            f"Outcome {outcome!r} is not in the data at the {unit_level!r} level; it has "
            f"{', '.join(wide.columns)}."
        )
    y = wide[outcome].astype(float) if outcome else None
    cols = list(wide.columns)
    if indicators is not None:
        wanted = [str(c) for c in indicators]
        absent = [c for c in wanted if c not in cols]
        if absent:
            raise DataError(f"Indicator(s) {', '.join(absent)} are not in the data; it has {', '.join(cols)}.")
        cols = wanted
    dropped_out = [c for c in cols if c in outcomes]
    if dropped_out:
        notices.append(f"Excluded outcome indicator(s) {', '.join(dropped_out)} from the weighting matrix.")
    cols = [c for c in cols if c not in outcomes]
    queue = [c for c in cols if c in known and fw.indicator(c).level == "queue"]
    empty = [c for c in cols if c not in queue and wide[c].isna().all()]
    if queue or empty:
        gone = queue + empty
        notices.append(
            f"Excluded indicator(s) with no {unit_level}-level values: {', '.join(gone)}"
            + (" (queue-level)." if queue and not empty else ".")
        )
    cols = [c for c in cols if c not in queue and c not in empty]
    order = {c: k for k, c in enumerate(fw.codes)}
    cols = sorted(cols, key=lambda c: (order.get(c, len(order)), cols.index(c)))  # framework order
    if not cols:
        raise DataError("No indicator is left for weighting after excluding outcomes and queue-level indicators.")
    dirs = resolve_directions(cols, fw, dict(directions or {}))
    bands = {c: tuple(fw.indicator(c).band) for c in cols if c in known and dirs[c] == "band"}  # type: ignore[misc]
    for c in cols:
        if dirs[c] == "band" and c not in bands:
            raise FrameworkError(f"Indicator {c!r} has direction 'band' but no band limits; add them to the framework.")
    pillars = {c: fw.indicator(c).pillar for c in cols if c in known}
    X = wide[cols].astype(float)
    # rows without an outcome value stay: only outcome-based methods drop them (under their nan_policy)
    return WeightingData(X, y, dirs, bands, pillars, notices)


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
    unit_level: str = "agent",
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
    nan_policy : {"drop_rows", "raise"}
    **params
        Passed to the method's estimator (e.g. ``normalisation="sum"`` for entropy, ``n_boot=`` for
        regression).

    Returns
    -------
    WeightResult
        Weights with method, params, fingerprint, diagnostics and notices.
    """
    fw = _framework(framework)
    key = method.lower().strip()
    key = _ALIASES.get(key, key)
    set_name = key.removeprefix("set:")
    if key.startswith("set:") or (key not in METHODS and key != "ahp" and set_name in fw.weight_sets):
        cols = None
        if data is not None:
            wd = data if isinstance(data, WeightingData) else weights_matrix(
                data, framework=fw, outcome=outcome, unit_level=unit_level, indicators=indicators, directions=directions)
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
        data, framework=fw, outcome=outcome, unit_level=unit_level, indicators=indicators, directions=directions)
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
        ``method, flag, reason`` for the others (``flag`` is ``failed``).
    """
    from kpilab.errors import KpilabError

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
            failures.append({"method": m, "flag": "failed", "reason": str(exc)})
    return results, pd.DataFrame(failures, columns=["method", "flag", "reason"])
