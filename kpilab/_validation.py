"""Small parameter validator (house rule 1).

scikit-learn's ``_param_validation`` is private, so kpilab keeps its own: a
constraint table per object or function, checked early, with an error that
names the parameter, what it accepts and what it got.

Examples
--------
>>> check_params({"threshold": 0.3, "method": "spearman"},
...              {"threshold": Interval(0, 1), "method": Options("pearson", "spearman", "kendall")},
...              caller="health_review")
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any

from kpilab.errors import ParameterError

__all__ = ["Interval", "Options", "InstanceOf", "check_params", "check_param"]


@dataclass(frozen=True)
class Interval:
    """A real (or integer, with ``integer=True``) number in [low, high] (open ends by flag)."""

    low: float | None = None
    high: float | None = None
    closed: str = "both"  # "both", "left", "right", "neither"
    integer: bool = False

    def accepts(self, value: Any) -> bool:
        if isinstance(value, bool):
            return False
        kind = Integral if self.integer else Real
        if not isinstance(value, kind) or (isinstance(value, float) and math.isnan(value)):
            return False
        if self.low is not None:
            if value < self.low or (value == self.low and self.closed in ("right", "neither")):
                return False
        if self.high is not None:
            if value > self.high or (value == self.high and self.closed in ("left", "neither")):
                return False
        return True

    def __str__(self) -> str:
        kind = "an integer" if self.integer else "a number"
        left = "[" if self.closed in ("both", "left") else "("
        right = "]" if self.closed in ("both", "right") else ")"
        low = "-inf" if self.low is None else f"{self.low:g}"
        high = "inf" if self.high is None else f"{self.high:g}"
        return f"{kind} in {left}{low}, {high}{right}"


@dataclass(frozen=True)
class Options:
    """One of a fixed set of values."""

    values: tuple[Any, ...]

    def __init__(self, *values: Any) -> None:
        object.__setattr__(self, "values", tuple(values))

    def accepts(self, value: Any) -> bool:
        return value in self.values

    def __str__(self) -> str:
        return "one of " + ", ".join(repr(v) for v in self.values)


@dataclass(frozen=True)
class InstanceOf:
    """An instance of the given type(s); ``None`` allowed when ``optional``."""

    types: tuple[type, ...]
    optional: bool = False

    def accepts(self, value: Any) -> bool:
        return (self.optional and value is None) or isinstance(value, self.types)

    def __str__(self) -> str:
        names = " or ".join(t.__name__ for t in self.types)
        return f"an instance of {names}" + (" or None" if self.optional else "")


def check_param(name: str, value: Any, *constraints: Any, caller: str = "") -> None:
    """Raise :class:`ParameterError` unless ``value`` meets at least one constraint.

    ``None`` as a constraint means ``None`` is accepted.
    """
    for c in constraints:
        if c is None:
            if value is None:
                return
        elif c.accepts(value):
            return
    accepted = " or ".join("None" if c is None else str(c) for c in constraints)
    where = f" of {caller}" if caller else ""
    raise ParameterError(f"The {name!r} parameter{where} must be {accepted}. Got {value!r} instead.")


def check_params(
    values: Mapping[str, Any], constraints: Mapping[str, Any], caller: str = ""
) -> None:
    """Check every named value against its constraint (a constraint or a tuple of them)."""
    for name, cons in constraints.items():
        if name not in values:
            continue
        cons_tuple = cons if isinstance(cons, tuple) else (cons,)
        check_param(name, values[name], *cons_tuple, caller=caller)
