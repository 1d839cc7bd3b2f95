r"""Hierarchical weights: within each pillar, then of the pillars; the effective weight per indicator.

.. math:: w^{eff}_j = w^{pillar}_{p(j)} \cdot w^{within}_{j \mid p(j)}

with within-pillar weights normalised to sum 1 in each pillar and pillar
weights normalised to sum 1 (COINr ``get_eff_weights``). Pillars without
indicators drop out (renormalised, reported in ``notices``).

References
----------
.. [1] Becker, W. COINr: ``get_eff_weights`` (R/weights.R, v1.1.14).
.. [2] OECD/JRC (2008). Handbook on Constructing Composite Indicators, step 6.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

from kpilab.errors import ParameterError
from kpilab.weights._matrix import as_series
from kpilab.weights.result import WeightResult

__all__ = ["effective_weights", "split_by_pillar", "hierarchical_weights"]


def effective_weights(
    within: Mapping[str, pd.Series | Mapping[str, float]] | pd.Series,
    pillar_weights: pd.Series | Mapping[str, float] | str = "equal",
    *,
    pillars: Mapping[str, str] | None = None,
    method: str = "hierarchy",
    params: Mapping[str, Any] | None = None,
) -> WeightResult:
    """Effective indicator weights from within-pillar weights and pillar weights.

    Parameters
    ----------
    within : mapping pillar -> weights, or one Series plus ``pillars``
        Within-pillar weights (each pillar's normalised to 1).
    pillar_weights : Series, mapping or "equal"
    pillars : mapping indicator -> pillar
        Needed when ``within`` is a single Series.

    Returns
    -------
    WeightResult
        ``tables["hierarchy"]``: ``indicator, pillar, within_weight, pillar_weight, weight``.
    """
    if isinstance(within, pd.Series):
        if not pillars:
            raise ParameterError("effective_weights: a single within-pillar Series needs pillars={indicator: pillar}.")
        s = as_series(within)
        missing = [c for c in s.index if c not in pillars]
        if missing:
            raise ParameterError(f"effective_weights: no pillar given for indicator(s) {', '.join(missing)}.")
        groups = {p: s[[c for c in s.index if pillars[c] == p]] for p in dict.fromkeys(pillars[c] for c in s.index)}
    else:
        groups = {str(p): as_series(w) for p, w in within.items()}
    if isinstance(pillar_weights, str):
        if pillar_weights != "equal":
            raise ParameterError(f"effective_weights: pillar_weights must be weights or 'equal', got {pillar_weights!r}.")
        pw = pd.Series(1.0, index=list(groups))
    else:
        pw = as_series(pillar_weights)
    notices = []
    unknown = sorted(set(pw.index) - set(groups))
    if unknown:
        notices.append(f"Pillar(s) {', '.join(unknown)} have no indicators here; their weight is shared by the others.")
    no_weight = [p for p in groups if p not in pw.index]
    if no_weight:
        raise ParameterError(f"effective_weights: no pillar weight for {', '.join(no_weight)}.")
    pw = pw.reindex(list(groups))
    if pw.sum() <= 0:
        raise ParameterError("effective_weights: the pillars that have indicators all have weight 0.")
    pw = pw / pw.sum()
    rows = []
    for p, w in groups.items():
        if w.sum() <= 0:
            raise ParameterError(f"effective_weights: within-pillar weights of {p!r} are all zero.")
        w = w / w.sum()
        for code, v in w.items():
            rows.append({"indicator": code, "pillar": p, "within_weight": v, "pillar_weight": pw[p],
                         "weight": v * pw[p]})
    table = pd.DataFrame(rows, columns=["indicator", "pillar", "within_weight", "pillar_weight", "weight"])
    if table["indicator"].duplicated().any():
        dup = table.loc[table["indicator"].duplicated(), "indicator"].tolist()
        raise ParameterError(f"effective_weights: indicator(s) {', '.join(dup)} appear in more than one pillar.")
    eff = table.set_index("indicator")["weight"]
    return WeightResult(
        weights=eff / eff.sum(), method=method, params=dict(params or {}),
        pillars=dict(zip(table["indicator"], table["pillar"], strict=True)),
        diagnostics={"pillar_weights": pw.to_dict()}, tables={"hierarchy": table}, notices=tuple(notices),
    )


def split_by_pillar(weights: pd.Series | WeightResult, pillars: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Inverse view of a flat weight set: ``indicator, pillar, within_weight, pillar_weight, weight``."""
    pillars = dict(pillars or getattr(weights, "pillars", {}) or {})
    w = as_series(weights)
    w = w / w.sum()
    missing = [c for c in w.index if c not in pillars]
    if missing:
        raise ParameterError(f"split_by_pillar: no pillar for indicator(s) {', '.join(missing)}.")
    df = pd.DataFrame({"indicator": w.index, "pillar": [pillars[c] for c in w.index], "weight": w.to_numpy()})
    tot = df.groupby("pillar")["weight"].transform("sum")
    df["pillar_weight"] = tot
    df["within_weight"] = (df["weight"] / tot.where(tot > 0)).fillna(0.0)
    return df[["indicator", "pillar", "within_weight", "pillar_weight", "weight"]]


def hierarchical_weights(
    X: pd.DataFrame,
    pillars: Mapping[str, str],
    *,
    within: str | Callable[[pd.DataFrame], pd.Series] = "equal",
    pillar_weights: pd.Series | Mapping[str, float] | str = "equal",
    directions: Mapping[str, str] | None = None,
    **params: Any,
) -> WeightResult:
    """Weights computed within each pillar by a method (``"entropy"``, ``"critic"``... or a callable
    ``X_pillar -> Series``), combined with pillar weights into effective weights.

    A pillar with a single indicator gives it within-weight 1.
    """
    from kpilab.weights.api import METHODS

    missing = [c for c in X.columns if c not in pillars]
    if missing:
        raise ParameterError(f"hierarchical_weights: no pillar given for indicator(s) {', '.join(missing)}.")
    groups: dict[str, pd.Series] = {}
    for p in dict.fromkeys(pillars[c] for c in X.columns):
        cols = [c for c in X.columns if pillars[c] == p]
        if callable(within):
            groups[p] = within(X[cols])
        elif len(cols) == 1 or within == "equal":
            groups[p] = pd.Series(1.0 / len(cols), index=cols)
        else:
            if within not in METHODS or within == "regression":
                raise ParameterError(
                    f"hierarchical_weights: within={within!r} must be one of "
                    f"{', '.join(m for m in METHODS if m != 'regression')} or a callable."
                )
            groups[p] = METHODS[within](**params).fit(X[cols], directions).weights_
    name = within if isinstance(within, str) else getattr(within, "__name__", "custom")
    pw_name = pillar_weights if isinstance(pillar_weights, str) else "given"
    return effective_weights(groups, pillar_weights, method="hierarchy",
                             params={"within": name, "pillar_weights": pw_name})
