"""The weight-set result: weights plus where they came from."""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["WeightResult", "FRAME_COLUMNS"]

#: Column order of :meth:`WeightResult.to_frame` (``ci_low``/``ci_high`` are NaN without intervals).
FRAME_COLUMNS = ["indicator", "weight", "pillar", "method", "ci_low", "ci_high", "fingerprint"]


@dataclass(frozen=True)
class WeightResult:
    """A weight set with its provenance.

    Attributes
    ----------
    weights : Series
        Indicator-level weights (index ``indicator``), non-negative, summing to 1.
    method : str
        ``equal``, ``entropy``, ``critic``, ``std``, ``variance``, ``pca``, ``regression``,
        ``ahp``, ``optimised``, ``set:<name>``, ``blend``, ``constrained``, ``hierarchy``.
    params : dict
        The options used (e.g. ``{"normalisation": "minmax"}``).
    fingerprint : str
        sha256 of the data matrix the weights were computed from (empty for subjective sets).
    n_rows : int
        Rows of the data matrix used (0 for subjective sets).
    pillars : dict
        ``{indicator: pillar}`` when known.
    diagnostics : dict
        Method-specific numbers (``cr`` for AHP, ``r_squared`` for regression, eigenvalues for PCA...).
        Tables go in ``tables``.
    intervals : DataFrame or None
        ``indicator, ci_low, ci_high`` (bootstrap percentile interval) when the method gives one.
    tables : dict of DataFrame
        Method detail tables (coefficients, loadings, judgements).
    notices : tuple of str
        What was dropped, excluded or changed, in words.
    """

    weights: pd.Series
    method: str
    params: Mapping[str, Any] = field(default_factory=dict)
    fingerprint: str = ""
    n_rows: int = 0
    pillars: Mapping[str, str] = field(default_factory=dict)
    diagnostics: Mapping[str, Any] = field(default_factory=dict)
    intervals: pd.DataFrame | None = None
    tables: Mapping[str, pd.DataFrame] = field(default_factory=dict)
    notices: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        w = self.weights.astype(float).copy()
        w.index = w.index.map(str)
        w.index.name = "indicator"
        w.name = "weight"
        object.__setattr__(self, "weights", w)
        object.__setattr__(self, "notices", tuple(self.notices))

    # ----------------------------------------------------------------- tables
    def to_frame(self) -> pd.DataFrame:
        """One row per indicator: ``indicator, weight, pillar, method, ci_low, ci_high, fingerprint``."""
        df = self.weights.rename("weight").reset_index()
        df["pillar"] = [self.pillars.get(c, "") for c in df["indicator"]]
        df["method"] = self.method
        if self.intervals is not None:
            iv = self.intervals.set_index("indicator")
            df["ci_low"] = df["indicator"].map(iv["ci_low"]).astype(float)
            df["ci_high"] = df["indicator"].map(iv["ci_high"]).astype(float)
        else:
            df["ci_low"] = np.nan
            df["ci_high"] = np.nan
        df["fingerprint"] = self.fingerprint
        return df[FRAME_COLUMNS]

    def provenance(self) -> dict[str, Any]:
        """JSON-friendly record: method, params, fingerprint, n_rows, scalar diagnostics, notices."""
        diag = {k: _jsonable(v) for k, v in self.diagnostics.items() if _jsonable(v) is not None}
        return {
            "method": self.method,
            "params": {k: _jsonable(v) for k, v in self.params.items()},
            "fingerprint": self.fingerprint,
            "n_rows": self.n_rows,
            "diagnostics": diag,
            "notices": list(self.notices),
        }

    # ------------------------------------------------------------------ text
    def summary(self) -> str:
        """Plain-text summary: method, options, data, diagnostics, the weights (largest first)."""
        lines = [f"Weight set: {self.method}"]
        if self.params:
            lines.append("Options: " + ", ".join(f"{k}={v!r}" for k, v in self.params.items()))
        if self.fingerprint and self.n_rows:
            lines.append(f"Data: {self.n_rows} rows, sha256 {self.fingerprint[:12]}...")
        elif self.fingerprint:
            lines.append(f"Input sha256 {self.fingerprint[:12]}...")
        for k, v in self.diagnostics.items():
            if isinstance(v, (int, float, np.floating, np.integer, str, bool)):
                lines.append(f"{k}: {v:.4g}" if isinstance(v, (float, np.floating)) else f"{k}: {v}")
        lines.extend(f"Note: {n}" for n in self.notices)
        frame = self.to_frame().sort_values("weight", ascending=False)
        width = max(9, *(len(c) for c in frame["indicator"]))
        for row in frame.itertuples():
            ci = "" if np.isnan(row.ci_low) else f"  [{row.ci_low:.3f}, {row.ci_high:.3f}]"
            pillar = f"  ({row.pillar})" if row.pillar else ""
            lines.append(f"  {row.indicator:<{width}} {row.weight:7.3f}{ci}{pillar}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        head = html.escape(self.summary().split("\n  ")[0]).replace("\n", "<br>")
        return f"<p>{head}</p>" + self.to_frame().drop(columns="fingerprint").to_html(index=False, float_format="%.3f")


def _jsonable(v: Any) -> Any:
    if isinstance(v, (pd.DataFrame, pd.Series)):
        return None
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    try:
        json.dumps(v)
        return v
    except TypeError:
        return repr(v)
