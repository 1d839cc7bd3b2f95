r"""Blends of two weight sets and constrained (nearest feasible) weights.

Blends of a subjective set :math:`a` and an objective set :math:`b` over the
union of their indicators (missing = 0):

.. math::

    w^{lin} = \alpha a + (1 - \alpha) b, \qquad
    w^{mult}_j = \frac{a_j b_j}{\sum_k a_k b_k}

(the multiplicative form is the "combination weighting" of Zardari et al. 2015,
ch. 2). Constraints are bounds per indicator and per pillar (sum of its
indicators' weights); :func:`constrain_weights` returns the feasible weights
nearest in least squares,

.. math:: \min_w \|w - w^0\|_2^2 \ \text{s.t.}\ \sum_j w_j = 1,\ l_j \le w_j \le u_j,\
          L_p \le \sum_{j \in p} w_j \le U_p ,

solved with scipy's SLSQP after an LP feasibility check (``linprog``).
Infeasible constraints raise :class:`~kpilab.errors.ParameterError` naming
the conflicting ones.

References
----------
.. [1] Zardari, N. H., Ahmed, K., Shirazi, S. M., Yusop, Z. B. (2015). Weighting Methods and their
   Effects on Multi-Criteria Decision Making Model Outcomes in Water Resources Management. Springer.
.. [2] Nocedal, J., Wright, S. (2006). Numerical Optimization, 2nd ed., ch. 16 (quadratic programs).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize

from kpilab._validation import Interval, Options, check_params
from kpilab.errors import ParameterError
from kpilab.weights._matrix import as_series
from kpilab.weights.result import WeightResult

__all__ = ["Constraint", "blend_weights", "constrain_weights", "parse_constraints"]

_CONSTRAINT_RE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_:]*)\s*(>=|<=|==|=)\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*(%?)\s*$")


@dataclass(frozen=True)
class Constraint:
    """``low <= weight(target) <= high``; ``kind`` is ``indicator`` or ``pillar``."""

    target: str
    low: float = 0.0
    high: float = 1.0
    kind: str = "indicator"

    def __str__(self) -> str:
        if self.low == self.high:
            return f"{self.target} = {self.low:g}"
        parts = []
        if self.low > 0:
            parts.append(f"{self.target} >= {self.low:g}")
        if self.high < 1:
            parts.append(f"{self.target} <= {self.high:g}")
        return " and ".join(parts) or f"{self.target} in [0, 1]"


def parse_constraints(
    items: Iterable[str] | str | None, *, pillars: Iterable[str] = ()
) -> list[Constraint]:
    """Parse the simple literal form: ``"qa_score>=0.10, fcr<=30%, pillar:satisfaction=0.5"``.

    A name that is a pillar code (or prefixed ``pillar:``) constrains the pillar's total weight.
    Values are shares (0.1) or percentages (10%). ``=`` fixes the weight.
    """
    if items is None:
        return []
    if isinstance(items, str):
        items = [s for s in re.split(r"[,;\n]", items) if s.strip()]
    pillar_set = set(pillars)
    out: dict[tuple[str, str], Constraint] = {}
    for item in items:
        m = _CONSTRAINT_RE.match(item)
        if not m:
            raise ParameterError(
                f"Constraint {item!r} must look like CODE>=0.1, CODE<=0.3, CODE=0.15 or CODE>=10% "
                "(prefix pillar: for a pillar)."
            )
        name, op, val, pct = m.groups()
        v = float(val) / (100 if pct else 1)
        if not 0 <= v <= 1:
            raise ParameterError(f"Constraint {item!r}: the share must be between 0 and 1 (or 0-100 %), got {v:g}.")
        kind = "indicator"
        if name.startswith("pillar:"):
            name, kind = name.removeprefix("pillar:"), "pillar"
        elif name in pillar_set:
            kind = "pillar"
        prev = out.get((kind, name), Constraint(name, 0.0, 1.0, kind))
        low, high = prev.low, prev.high
        if op == ">=":
            low = max(low, v)
        elif op == "<=":
            high = min(high, v)
        else:
            low = high = v
        out[(kind, name)] = Constraint(name, low, high, kind)
    return list(out.values())


def blend_weights(
    a: pd.Series | WeightResult | Mapping[str, float],
    b: pd.Series | WeightResult | Mapping[str, float],
    *,
    alpha: float = 0.5,
    how: str = "linear",
    names: tuple[str, str] | None = None,
) -> WeightResult:
    """Blend two weight sets (module docstring). ``alpha`` is the share of ``a`` (linear only).

    Raises
    ------
    ParameterError
        Bad ``alpha``/``how``, or a multiplicative blend whose sets share no indicator with positive weight.
    """
    check_params({"alpha": alpha, "how": how}, {"alpha": Interval(0, 1), "how": Options("linear", "multiplicative")},
                 caller="blend_weights")
    name_a = names[0] if names else getattr(a, "method", "a")
    name_b = names[1] if names else getattr(b, "method", "b")
    pillars = {**getattr(b, "pillars", {}), **getattr(a, "pillars", {})}
    sa, sb = as_series(a), as_series(b)
    sa, sb = sa / sa.sum(), sb / sb.sum()
    idx = sa.index.union(sb.index, sort=False)
    sa, sb = sa.reindex(idx, fill_value=0.0), sb.reindex(idx, fill_value=0.0)
    if how == "linear":
        w = alpha * sa + (1 - alpha) * sb
    else:
        w = sa * sb
        if w.sum() <= 0:
            raise ParameterError("blend_weights(how='multiplicative'): the two sets share no indicator with positive weight.")
    w = w / w.sum()
    params = {"a": name_a, "b": name_b, "how": how}
    if how == "linear":
        params["alpha"] = alpha
    return WeightResult(weights=w, method="blend", params=params, pillars=pillars)


def _feasibility(codes: list[str], lo: np.ndarray, hi: np.ndarray, groups: list[tuple[Constraint, np.ndarray]]) -> None:
    """Raise ParameterError naming the conflicting constraints when no weights satisfy them."""
    n = len(codes)
    problems = []
    for j in range(n):
        if lo[j] > hi[j] + 1e-12:
            problems.append(f"{codes[j]}: minimum {lo[j]:g} > maximum {hi[j]:g}")
    if lo.sum() > 1 + 1e-9:
        named = ", ".join(f"{c} >= {v:g}" for c, v in zip(codes, lo, strict=True) if v > 0)
        problems.append(f"the indicator minimums add up to {lo.sum():g} > 1 ({named})")
    if hi.sum() < 1 - 1e-9:
        problems.append(f"the indicator maximums add up to {hi.sum():g} < 1")
    for c, mask in groups:
        if lo[mask].sum() > c.high + 1e-9:
            problems.append(f"pillar {c.target}: its indicators' minimums add up to {lo[mask].sum():g} > pillar maximum {c.high:g}")
        if hi[mask].sum() < c.low - 1e-9:
            problems.append(f"pillar {c.target}: its indicators' maximums add up to {hi[mask].sum():g} < pillar minimum {c.low:g}")
    plows = sum(c.low for c, _ in groups)
    if plows > 1 + 1e-9:
        problems.append(f"the pillar minimums add up to {plows:g} > 1")
    if problems:
        raise ParameterError("Infeasible weight constraints: " + "; ".join(problems) + ".")
    # full LP check: any w with the bounds, group bounds and sum 1?
    A_ub, b_ub = [], []
    for c, mask in groups:
        row = mask.astype(float)
        A_ub += [row, -row]
        b_ub += [c.high, -c.low]
    res = optimize.linprog(
        np.zeros(n), A_ub=np.array(A_ub) if A_ub else None, b_ub=np.array(b_ub) if b_ub else None,
        A_eq=np.ones((1, n)), b_eq=[1.0], bounds=list(zip(lo, hi, strict=True)), method="highs",
    )
    if res.status == 2:
        raise ParameterError(
            "Infeasible weight constraints: together " + "; ".join(str(c) for c, _ in groups)
            + " cannot hold with the indicator bounds and weights summing to 1."
        )


def constrain_weights(
    weights: pd.Series | WeightResult | Mapping[str, float],
    constraints: Iterable[Constraint] | Iterable[str] | str,
    *,
    pillars: Mapping[str, str] | None = None,
) -> WeightResult:
    """Nearest weights (least squares) that sum to 1 and meet indicator and pillar bounds.

    Parameters
    ----------
    weights : Series, WeightResult or mapping
        The starting weights :math:`w^0` (normalised to sum 1 first).
    constraints : list of Constraint or of strings, or a comma-separated string
        See :func:`parse_constraints`.
    pillars : mapping, optional
        ``{indicator: pillar}``; defaults to the result's pillars. Needed for pillar constraints.

    Raises
    ------
    ParameterError
        Unknown indicator or pillar in a constraint, or infeasible constraints (naming them).
    """
    pillars = dict(pillars or getattr(weights, "pillars", {}) or {})
    w0 = as_series(weights)
    w0 = w0 / w0.sum()
    codes = list(w0.index)
    if isinstance(constraints, str) or (not isinstance(constraints, Iterable)):
        constraints = parse_constraints(constraints, pillars=set(pillars.values()))
    constraints = list(constraints)
    if constraints and isinstance(constraints[0], str):
        constraints = parse_constraints(constraints, pillars=set(pillars.values()))  # type: ignore[arg-type]
    lo, hi = np.zeros(len(codes)), np.ones(len(codes))
    groups: list[tuple[Constraint, np.ndarray]] = []
    for c in constraints:
        if c.kind == "pillar":
            mask = np.array([pillars.get(code) == c.target for code in codes])
            if not mask.any():
                known = sorted(set(pillars.values()))
                raise ParameterError(
                    f"Constraint on pillar {c.target!r}: no indicator of the weight set belongs to it "
                    f"(pillars known: {', '.join(known) or 'none; pass pillars='})."
                )
            groups.append((c, mask))
        else:
            if c.target not in codes:
                raise ParameterError(
                    f"Constraint on {c.target!r}: not an indicator of the weight set ({', '.join(codes)})."
                )
            j = codes.index(c.target)
            lo[j], hi[j] = max(lo[j], c.low), min(hi[j], c.high)
    _feasibility(codes, lo, hi, groups)
    x0 = np.clip(w0.to_numpy(), lo, hi)
    cons = [{"type": "eq", "fun": lambda w: w.sum() - 1.0, "jac": lambda w: np.ones_like(w)}]
    for c, mask in groups:
        m = mask.astype(float)
        cons.append({"type": "ineq", "fun": lambda w, m=m, c=c: c.high - m @ w, "jac": lambda w, m=m: -m})
        cons.append({"type": "ineq", "fun": lambda w, m=m, c=c: m @ w - c.low, "jac": lambda w, m=m: m})
    target = w0.to_numpy()
    res = optimize.minimize(
        lambda w: float(((w - target) ** 2).sum()), x0, jac=lambda w: 2 * (w - target), method="SLSQP",
        bounds=list(zip(lo, hi, strict=True)), constraints=cons, options={"ftol": 1e-14, "maxiter": 1000},
    )
    w = np.clip(res.x, lo, hi)
    w = np.where(np.abs(w) < 1e-12, 0.0, w)
    w = w / w.sum()
    src_method = getattr(weights, "method", "weights")
    return WeightResult(
        weights=pd.Series(w, index=codes),
        method="constrained",
        params={"base": src_method, "constraints": [str(c) for c in constraints]},
        fingerprint=getattr(weights, "fingerprint", ""),
        n_rows=getattr(weights, "n_rows", 0),
        pillars=pillars,
        diagnostics={"distance": float(np.sqrt(((w - target) ** 2).sum())), "converged": bool(res.success)},
    )
