"""Estimator base class shared by every data-driven weighting method (house rule 1)."""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from kpilab._validation import check_params
from kpilab.errors import KpilabError
from kpilab.weights._matrix import as_matrix, check_directions, fingerprint
from kpilab.weights.result import WeightResult

__all__ = ["BaseWeights", "NotFittedError"]


class NotFittedError(KpilabError, AttributeError):
    """A learned attribute (``weights_``...) was read before ``fit``."""


class BaseWeights:
    """Common ``fit`` logic: validate parameters, clean the matrix, record provenance.

    Subclasses set ``method``, ``_parameter_constraints`` and implement
    ``_compute(X, directions, bands, y, notices) -> (weights, diagnostics, tables, intervals)``.
    After ``fit``: ``weights_`` (Series indexed by indicator code, sums to 1),
    ``result_`` (:class:`~kpilab.weights.result.WeightResult`), ``diagnostics_``,
    ``notices_``.
    """

    method: str = "base"
    _parameter_constraints: dict[str, Any] = {}
    _min_rows: int = 2
    _uses_values: bool = True

    def get_params(self) -> dict[str, Any]:
        """The constructor arguments as stored."""
        names = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
        return {n: getattr(self, n) for n in names}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    def _validate(self) -> None:
        check_params(self.get_params(), self._parameter_constraints, caller=type(self).__name__)

    def fit(
        self,
        X: pd.DataFrame | np.ndarray,
        directions: Mapping[str, str] | None = None,
        y: pd.Series | np.ndarray | None = None,
        *,
        bands: Mapping[str, tuple[float, float]] | None = None,
        pillars: Mapping[str, str] | None = None,
    ) -> BaseWeights:
        """Learn the weights from the data matrix ``X`` (rows units, columns indicator codes).

        Parameters
        ----------
        X : DataFrame or 2-D array
            The data matrix; NaNs follow ``nan_policy``.
        directions : mapping, optional
            ``{code: "higher"|"lower"|"band"}``; unlisted indicators are ``higher``.
        y : Series or array, optional
            The outcome, for methods that need one (aligned with the rows of ``X``).
        bands : mapping, optional
            ``{code: (low, high)}`` for ``band`` indicators.
        pillars : mapping, optional
            ``{code: pillar}``, carried into the result.
        """
        self._validate()
        for attr in ("weights_", "result_", "diagnostics_", "notices_"):
            self.__dict__.pop(attr, None)
        notices: list[str] = []
        data = X
        if y is not None:
            data = self._attach_outcome(X, y)
        if not self._uses_values and isinstance(data, pd.DataFrame):
            data = data.fillna(0.0)  # only the columns matter (equal weights): no row is dropped
        M = as_matrix(
            data,
            nan_policy=getattr(self, "nan_policy", "drop_rows"),
            min_rows=self._min_rows,
            caller=type(self).__name__,
            notices=notices,
        )
        if y is not None:
            yv = M.pop("__outcome__")
        else:
            yv = None
        dirs = check_directions(list(M.columns), directions, caller=type(self).__name__)
        w, diag, tables, intervals = self._compute(M, dirs, dict(bands or {}), yv, notices)
        w = w.reindex(M.columns).fillna(0.0)
        w = w / w.sum()
        w.index.name = "indicator"
        self.weights_ = w.rename("weight")
        self.diagnostics_ = diag
        self.notices_ = list(notices)
        fp_data = M if yv is None else M.assign(__outcome__=yv.to_numpy())
        self.result_ = WeightResult(
            weights=self.weights_,
            method=self.method,
            params={k: v for k, v in self.get_params().items() if k != "random_state" or v is not None},
            fingerprint=fingerprint(fp_data),
            n_rows=len(M),
            pillars=dict(pillars or {}),
            diagnostics=diag,
            intervals=intervals,
            tables=tables,
            notices=tuple(notices),
        )
        return self

    @staticmethod
    def _attach_outcome(X: pd.DataFrame | np.ndarray, y: pd.Series | np.ndarray) -> pd.DataFrame:
        from kpilab.errors import DataError

        if isinstance(X, np.ndarray):
            X = pd.DataFrame(X, columns=[f"x{j}" for j in range(X.shape[1])])
        X = X.copy()
        if isinstance(y, pd.Series) and y.index.equals(X.index):
            X["__outcome__"] = y.to_numpy(dtype=float)
        elif isinstance(y, pd.Series) and y.index.is_unique and X.index.is_unique and set(y.index) == set(X.index):
            X["__outcome__"] = y.reindex(X.index).to_numpy(dtype=float)
        elif isinstance(y, pd.Series) and not isinstance(y.index, pd.RangeIndex):
            raise DataError(
                "The outcome Series is indexed differently from the data matrix; give it the same index "
                "(unit_id, period) or pass a plain array in row order."
            )
        else:
            y = np.asarray(y, dtype=float)
            if y.shape != (len(X),):
                raise DataError(
                    f"The outcome has {y.size} values but the data matrix has {len(X)} rows; align them first."
                )
            X["__outcome__"] = y
        return X

    def _compute(
        self,
        X: pd.DataFrame,
        directions: dict[str, str],
        bands: dict[str, tuple[float, float]],
        y: pd.Series | None,
        notices: list[str],
    ) -> tuple[pd.Series, dict[str, Any], dict[str, pd.DataFrame], pd.DataFrame | None]:
        raise NotImplementedError

    def __getattr__(self, name: str) -> Any:
        if name.endswith("_") and not name.startswith("_"):
            raise NotFittedError(
                f"{type(self).__name__} has no {name!r} yet: call .fit(X, directions) first."
            )
        raise AttributeError(name)
