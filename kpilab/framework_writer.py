"""Write a framework back to YAML: the recommended framework the next quarter starts from.

:func:`recommended_framework` takes the framework a review ran with, drops the indicators the
review pruned (weak links, patchy or constant data, non-representatives of redundancy clusters),
adds the recommended weights as an indicator-level weight set and makes it the default for every
role. :func:`write_framework` writes any :class:`kpilab.framework.Framework` as YAML that
:func:`kpilab.framework.load_framework` reads back to an equal object (tested round trip).

Only the framework's public fields are used (pydantic's ``model_dump``), so the writer follows the
schema wherever :mod:`kpilab.framework` grows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from kpilab.errors import FrameworkError
from kpilab.framework import Framework, load_framework

__all__ = ["framework_to_dict", "recommended_framework", "write_framework"]


def framework_to_dict(framework: Framework) -> dict[str, Any]:
    """The framework as plain YAML-able data (unset optional fields left out)."""
    return framework.model_dump(mode="json", exclude_none=True)


def recommended_framework(
    framework: Framework,
    weights: pd.Series | Mapping[str, float],
    *,
    drop: Iterable[str] = (),
    set_name: str = "recommended",
    description: str = "",
    source: str = "",
) -> Framework:
    """The framework with ``drop`` removed and ``weights`` as the default weight set of every role.

    Parameters
    ----------
    framework : Framework
        The framework the review ran with.
    weights : Series or mapping
        Indicator -> weight (renormalised to sum to 1; zero weights left out).
    drop : iterable of str
        Indicator codes to remove (outcome indicators are never removed: the next health review
        needs them). Indicator-level weight sets and exemption reliefs lose the dropped codes; a
        weight set left empty is removed.
    set_name : str, default "recommended"
        Name of the new weight set.
    description, source : str
        Text for the weight set (why it was chosen, which run).

    Returns
    -------
    Framework
        Validated (``load_framework`` on the data), so a bad combination raises here, not next quarter.

    Raises
    ------
    FrameworkError
        A weighted indicator is not in the framework, is dropped or is an outcome; no positive weight.
    """
    w = pd.Series(weights, dtype=float)
    w = w[w > 0]
    if w.empty:
        raise FrameworkError("The recommended weights have no positive weight; nothing to write.")
    w = w / w.sum()
    outcomes = set(framework.outcomes())
    drop = {str(c) for c in drop} - outcomes
    unknown = sorted(set(w.index) - set(framework.codes))
    bad = sorted(set(w.index) & (drop | outcomes))
    if unknown or bad:
        raise FrameworkError(
            f"Recommended weights name indicator(s) {', '.join(unknown + bad)} that are "
            + ("not in the framework" if unknown else "dropped or outcomes")
            + f" ({framework.name!r}); weight only the scorecard's indicators."
        )
    data = framework_to_dict(framework)
    data["indicators"] = [i for i in data["indicators"] if i["code"] not in drop]
    sets: dict[str, Any] = {}
    for name, ws in data.get("weight_sets", {}).items():
        if ws["level"] == "indicator":
            ws = {**ws, "weights": {k: v for k, v in ws["weights"].items() if k not in drop}}
            if not ws["weights"]:
                continue
        sets[name] = ws
    sets[set_name] = {"description": description or "Recommended by the kpilab review.", "level": "indicator",
                      "weights": {str(k): round(float(v), 6) for k, v in w.items()}, "source": source}
    data["weight_sets"] = sets
    roles = dict(data.get("role_weights", {}))
    data["role_weights"] = {r: set_name for r in roles} | {"default": set_name}
    for ex in data.get("exemptions", []):
        ex["target_relief"] = {k: v for k, v in ex.get("target_relief", {}).items() if k not in drop}
    return load_framework(data)


def write_framework(framework: Framework, path: str | Path, *, header: str = "") -> Path:
    """Write ``framework`` as YAML to ``path`` (``header`` lines become ``#`` comments); return the path.

    The file reads back with :func:`kpilab.framework.load_framework` to an equal framework.
    """
    p = Path(path)
    text = yaml.safe_dump(framework_to_dict(framework), sort_keys=False, allow_unicode=True, width=110)
    lines = [f"# {line}".rstrip() for line in header.splitlines()]
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(("\n".join(lines) + "\n" if lines else "") + text, encoding="utf-8")
    return p
