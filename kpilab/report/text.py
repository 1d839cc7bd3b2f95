"""Words for codes: pillar and weight-set names, lists in prose, plurals, path-free values."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import PurePath
from typing import Any

from kpilab.formatting import format_period, indicator_name, is_missing

__all__ = ["names_in_text", "pillar_name", "set_name", "join", "plural", "ind", "period_range", "safe_value", "DECISION_TEXT",
           "GRADE_TEXT"]

_SET_NAMES = {
    "equal": "equal weights",
    "entropy": "entropy weights",
    "critic": "CRITIC weights",
    "pca": "principal-component weights",
    "regression": "regression on the outcome",
    "ahp": "AHP (pairwise judgements)",
    "roles": "the role templates",
    "recommended": "the recommended weights",
}

DECISION_TEXT = {"keep": "keep", "review": "review", "prune": "prune"}
GRADE_TEXT = "A is the best grade, E the worst"


def pillar_name(code: Any, framework: Any = None) -> str:
    """The pillar's name from the framework (``cost_control -> "Cost control"``)."""
    if is_missing(code) or code == "":
        return "no pillar"
    if framework is not None:
        for p in framework.pillars:
            if p.code == code:
                return p.name
    return str(code).replace("_", " ").capitalize()


def set_name(code: Any, framework: Any = None) -> str:
    """A weight set's name for people (``critic -> "CRITIC weights"``, ``blend_front_line_critic`` -> a blend)."""
    code = str(code)
    if code in _SET_NAMES:
        return _SET_NAMES[code]
    if code.startswith("blend_"):
        parts = code[len("blend_"):]
        for known in sorted(_SET_NAMES, key=len, reverse=True):
            if parts.endswith("_" + known):
                role = parts[: -len(known) - 1]
                return f"blend of {set_name(role, framework)} and {_SET_NAMES[known]}"
        return "blend " + parts.replace("_", " ")
    if framework is not None and code in getattr(framework, "weight_sets", {}):
        return f"{code.replace('_', ' ')} role template"
    return code.replace("_", " ")


def names_in_text(text: Any, framework: Any = None) -> str:
    """Free text from a notebook with indicator codes replaced by names (``duplicates csat`` -> the CSAT name).

    Codes are matched as whole words, longest first, also with ``_`` written as a space (``retention rate``).
    """
    import re

    if is_missing(text):
        return ""
    text = str(text)
    codes = list(framework.codes) if framework is not None else []
    if not codes:
        from kpilab.indicators.catalogue import CATALOGUE

        codes = list(CATALOGUE)
    variants = sorted({(v, c) for c in codes for v in (c, c.replace("_", " "))}, key=lambda vc: -len(vc[0]))
    pattern = re.compile(r"(?<![\w-])(" + "|".join(re.escape(v) for v, _ in variants) + r")(?![\w-])")
    lookup = {v: c for v, c in variants}
    return pattern.sub(lambda m: indicator_name(lookup[m.group(1)], framework), text)


def join(items: Iterable[str], conj: str = "and") -> str:
    """``["a", "b", "c"] -> "a, b and c"``."""
    items = [str(i) for i in items]
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    return f"{', '.join(items[:-1])} {conj} {items[-1]}"


def plural(n: int, word: str, many: str | None = None) -> str:
    """``plural(1, "agent") -> "1 agent"``, ``plural(3, "agent") -> "3 agents"`` (thousands separated)."""
    return f"{n:,d} {word if n == 1 else (many or word + 's')}"


def ind(code: Any, framework: Any = None) -> str:
    """An indicator's name, never its code when the name is known."""
    return indicator_name(str(code), framework)


def period_range(start: Any, end: Any, kind: str = "month") -> str:
    """``"Jul 2025 to Sep 2025"``, or one period when start and end are the same."""
    a, b = format_period(start, kind), format_period(end, kind)
    return a if a == b else f"{a} to {b}"


def safe_value(key: str, value: Any) -> str:
    """A parameter value for people: paths reduced to their last part (no machine paths), lists joined."""
    if isinstance(value, str) and value == "" or not isinstance(value, (list, tuple, dict)) and is_missing(value):
        return "not set (default)"  # NaN too: an empty parameter read back from a CSV
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"  # a parameter as the analyst wrote it (0.3, not 0.300)
    if isinstance(value, (list, tuple)):
        return join([safe_value(key, v) for v in value]) or "none"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {safe_value(k, v)}" for k, v in value.items()) or "none"
    text = str(value)
    pathish = key.endswith(("_dir", "_path", "_file", "_run")) or "/" in text or "\\" in text
    if pathish:
        name = PurePath(text.replace("\\", "/")).name
        return name or text
    return text
