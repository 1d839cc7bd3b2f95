"""The action log: decisions agreed at a review, checked at the next one.

An actions file is a YAML list; each entry is one agreed decision::

    - action: drop            # drop | add | set_weight | set_target | set_parameter
      indicator: call_duration
      agreed: 2025-07-04      # optional: when it was agreed
      owner: operations lead  # optional: who carries it out
      note: duplicates aht    # optional
    - action: set_weight
      indicator: fcr
      value: 0.3              # a share of the index, 0-1
      role: front_line        # optional: only this role's weight set (default: every role)
      tolerance: 0.005        # optional: how close counts as done (default 0.005)
    - action: set_target
      indicator: aht
      value: 300              # in the indicator's unit (seconds for aht)
    - action: set_parameter
      parameter: threshold
      value: 0.5

Pass it to a review with the runner parameter ``actions`` (``kpilab run review
--actions FILE --previous-run RUN``); :func:`check_actions` then reports each as
``done`` or ``not done`` with the evidence from the new run (its framework
snapshot ``tables/framework_indicators.csv``, the weights its scores used
``tables/score_weights.csv``, its parameters), or ``cannot check`` naming the
table the run lacks.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from kpilab._yaml import parse_yaml
from kpilab.errors import ParameterError
from kpilab.formatting import format_weight

__all__ = ["ACTION_KINDS", "Action", "load_actions", "check_actions", "known_indicators"]

ACTION_KINDS = ("drop", "add", "set_weight", "set_target", "set_parameter")
_KEYS = {"action", "indicator", "parameter", "value", "agreed", "owner", "role", "note", "tolerance"}
_NEEDS_VALUE = {"set_weight", "set_target", "set_parameter"}
DEFAULT_TOLERANCE = 0.005


@dataclass(frozen=True)
class Action:
    """One agreed decision from an actions file (see the module docstring)."""

    action: str
    indicator: str | None = None
    parameter: str | None = None
    value: Any = None
    agreed: str = ""
    owner: str = ""
    role: str | None = None
    note: str = ""
    tolerance: float = DEFAULT_TOLERANCE
    line: int = 0

    def describe(self, show_owner: bool = True) -> str:
        """``"set_weight fcr = 0.3 (agreed 2025-07-04, owner ops)"`` (the owner left out when not ``show_owner``)."""
        what = self.indicator if self.action != "set_parameter" else self.parameter
        text = f"{self.action} {what}"
        if self.action in _NEEDS_VALUE:
            text += f" = {self.value}"
        if self.role:
            text += f" for {self.role}"
        extra = [f"agreed {self.agreed}" if self.agreed else "", f"owner {self.owner}" if self.owner and show_owner else ""]
        extra = [e for e in extra if e]
        return text + (f" ({', '.join(extra)})" if extra else "")


def known_indicators(*frameworks: Any) -> set[str]:
    """Indicator codes an action may name: the catalogue's and those of the given frameworks or tables."""
    from kpilab.indicators.catalogue import CATALOGUE

    codes = set(CATALOGUE)
    for fw in frameworks:
        if fw is None:
            continue
        if isinstance(fw, pd.DataFrame):
            codes |= set(fw["code"].astype(str))
        else:
            codes |= set(fw.codes)
    return codes


def load_actions(path: str | Path, *, known: Iterable[str] | None = None) -> list[Action]:
    """Read and check an actions file.

    Parameters
    ----------
    path : path
        The YAML file (a list of mappings, see the module docstring).
    known : iterable of str, optional
        Indicator codes that exist (default :func:`known_indicators`: the catalogue).

    Raises
    ------
    ParameterError
        The file is missing or not a list, an entry has an unknown key or action,
        lacks its indicator or value, has a weight outside 0-1 — or names
        indicators that do not exist (all of them named, with their entries).
    """
    path = Path(path)
    if not path.is_file():
        raise ParameterError(f"Actions file {path} does not exist.")
    text = path.read_text(encoding="utf-8-sig")
    data = parse_yaml(text, str(path), "Actions file", ParameterError, dates=False)
    if data is None:
        return []
    if not isinstance(data, list):
        raise ParameterError(f"Actions file {path} must be a YAML list of actions (- action: drop ...), "
                             f"got a {type(data).__name__}.")
    known_codes = set(known) if known is not None else known_indicators()
    actions: list[Action] = []
    unknown: dict[str, list[int]] = {}
    for k, entry in enumerate(data, start=1):
        where = f"Actions file {path}, entry {k}"
        if not isinstance(entry, dict):
            raise ParameterError(f"{where}: must be a mapping with 'action' and 'indicator', got {entry!r}.")
        bad = sorted(set(map(str, entry)) - _KEYS)
        if bad:
            raise ParameterError(f"{where}: unknown key(s) {', '.join(bad)}; allowed: {', '.join(sorted(_KEYS))}.")
        kind = entry.get("action")
        if kind not in ACTION_KINDS:
            raise ParameterError(f"{where}: action must be one of {', '.join(ACTION_KINDS)}, got {kind!r}.")
        if kind == "set_parameter":
            if not entry.get("parameter"):
                raise ParameterError(f"{where}: set_parameter needs 'parameter' (e.g. threshold).")
        elif not entry.get("indicator"):
            raise ParameterError(f"{where}: {kind} needs 'indicator' (an indicator code).")
        if kind in _NEEDS_VALUE and entry.get("value") is None:
            raise ParameterError(f"{where}: {kind} needs 'value'.")
        if kind not in _NEEDS_VALUE and "value" in entry:
            raise ParameterError(f"{where}: {kind} takes no 'value'.")
        value = entry.get("value")
        if kind in ("set_weight", "set_target"):
            try:
                value = float(value)
            except (TypeError, ValueError):
                raise ParameterError(f"{where}: value must be a number, got {value!r}.") from None
            if not math.isfinite(value):
                raise ParameterError(f"{where}: value must be finite, got {value!r}.")
        if kind == "set_weight" and not 0 <= value <= 1:
            raise ParameterError(f"{where}: a weight is a share of the index between 0 and 1, got {value!r} "
                                 "(write 30 % as 0.3).")
        tol = entry.get("tolerance", DEFAULT_TOLERANCE)
        if not isinstance(tol, int | float) or tol < 0:
            raise ParameterError(f"{where}: tolerance must be a number >= 0, got {tol!r}.")
        code = str(entry["indicator"]) if entry.get("indicator") is not None else None
        if code is not None and code not in known_codes:
            unknown.setdefault(code, []).append(k)
        actions.append(Action(kind, code, entry.get("parameter"), value, str(entry.get("agreed") or ""),
                              str(entry.get("owner") or ""), entry.get("role"), str(entry.get("note") or ""),
                              float(tol), k))
    if unknown:
        listed = "; ".join(f"{c!r} (entry {', '.join(map(str, ks))})" for c, ks in sorted(unknown.items()))
        raise ParameterError(f"Actions file {path} names unknown indicator(s): {listed}. Use codes of the framework "
                             "or the catalogue (kpilab framework show).")
    return actions


def _same(a: Any, b: Any, tol: float = 1e-9) -> bool:
    try:
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=tol)
    except (TypeError, ValueError):
        return str(a).strip() == str(b).strip()


def check_actions(actions: Iterable[Action], run: Any, previous: Any = None, *,
                  show_owner: bool = True) -> pd.DataFrame:
    """Whether each agreed action was carried out in ``run``.

    Parameters
    ----------
    actions : iterable of Action
    run : RunFolder
        The new review (:func:`kpilab.quarterly.runs.open_run`).
    previous : RunFolder, optional
        The review where the actions were agreed (for "was ..." evidence).
    show_owner : bool
        Name the owner in the action text (False for pseudonymised runs).

    Returns
    -------
    DataFrame
        ``action, status, evidence``; status is ``done``, ``not done`` or
        ``cannot check`` (the evidence names the missing table).
    """
    fw = run.framework_table
    weights = run.table("score_weights")
    prev_fw = previous.framework_table if previous is not None else None
    rows = []
    for a in actions:
        status, evidence = _check_one(a, fw, weights, run.parameters, prev_fw, previous)
        rows.append({"action": a.describe(show_owner), "status": status, "evidence": evidence})
    return pd.DataFrame(rows, columns=["action", "status", "evidence"])


def _weights_of(weights: pd.DataFrame, code: str, role: str | None) -> pd.DataFrame:
    w = weights[weights["indicator"].astype(str) == code]
    if role is not None and "role" in w.columns:
        w = w[w["role"].astype(str) == role]
    return w


def _weight_text(w: pd.DataFrame) -> str:
    if "role" in w.columns:
        return ", ".join(f"{format_weight(v)} ({r})" for r, v in zip(w["role"], w["weight"], strict=True))
    return ", ".join(format_weight(v) for v in w["weight"])


def _check_one(a: Action, fw: pd.DataFrame | None, weights: pd.DataFrame | None, params: dict[str, Any],
               prev_fw: pd.DataFrame | None, previous: Any) -> tuple[str, str]:
    if a.action == "set_parameter":
        if a.parameter not in params:
            return "not done", f"the run has no parameter {a.parameter!r}"
        now = params[a.parameter]
        was = previous.parameters.get(a.parameter) if previous is not None else None
        was_text = f" (was {was})" if was is not None else ""
        if _same(now, a.value):
            return "done", f"{a.parameter} is {now}{was_text}"
        return "not done", f"{a.parameter} is {now}, not {a.value}{was_text}"
    if fw is None:
        return "cannot check", "the run has no tables/framework_indicators.csv and its framework file cannot be read"
    row = fw[fw["code"].astype(str) == a.indicator]
    in_fw = not row.empty
    code = a.indicator
    if a.action == "drop":
        if not in_fw:
            return "done", f"{code} is not in the framework the run used"
        if weights is None:
            return "not done", f"{code} is still in the framework the run used"
        w = _weights_of(weights, code, a.role)
        if w.empty or (w["weight"].fillna(0) == 0).all():
            return "done", f"{code} is still listed in the framework but carries no weight in the scores"
        return "not done", f"{code} is still in the framework and weighs {_weight_text(w)} in the scores"
    if a.action == "add":
        if not in_fw:
            return "not done", f"{code} is not in the framework the run used"
        if weights is None:
            return "done", f"{code} is in the framework the run used (no score weights to check)"
        w = _weights_of(weights, code, a.role)
        if w.empty or (w["weight"].fillna(0) == 0).all():
            return "not done", f"{code} is in the framework but carries no weight in the scores"
        return "done", f"{code} is in the framework and weighs {_weight_text(w)} in the scores"
    if a.action == "set_target":
        if not in_fw:
            return "not done", f"{code} is not in the framework the run used"
        target = row["target"].iloc[0] if "target" in row.columns else None
        was = None
        if prev_fw is not None and "target" in prev_fw.columns:
            prow = prev_fw[prev_fw["code"].astype(str) == code]
            was = prow["target"].iloc[0] if not prow.empty else None
        was_text = f" (was {_num(was)})" if was is not None else ""
        if target is None or pd.isna(target):
            return "not done", f"{code} has no target in the framework the run used{was_text}"
        if _same(target, a.value):
            return "done", f"{code} target is {_num(target)}{was_text}"
        return "not done", f"{code} target is {_num(target)}, not {_num(a.value)}{was_text}"
    # set_weight
    if weights is None:
        return "cannot check", "the run has no tables/score_weights.csv (notebook 04 did not run)"
    w = _weights_of(weights, code, a.role)
    if w.empty:
        where = f" for role {a.role}" if a.role else ""
        return "not done", f"{code} carries no weight in the scores{where}"
    ok = [abs(float(v) - a.value) <= a.tolerance for v in w["weight"]]
    if all(ok):
        return "done", f"{code} weighs {_weight_text(w)} in the scores"
    return "not done", f"{code} weighs {_weight_text(w)} in the scores, not {format_weight(a.value)}"


def _num(x: Any) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "none"
    f = float(x)
    return f"{f:g}"
