"""Red, amber or green: an indicator's actual value against its target.

The rule (stated in the report's glossary):

* ``higher`` is better: green when ``actual >= target``; amber when the
  actual falls short by at most ``tolerance`` of the target's size
  (``actual >= target - tolerance * |target|``); red below that.
* ``lower`` is better: green when ``actual <= target``; amber when it
  exceeds the target by at most ``tolerance * |target|``; red above that.
* ``band`` (a range ``lo``-``hi`` is best): green inside the band; amber
  within ``tolerance * (hi - lo)`` outside either end; red further out.

The red/amber/green ("RAG") status is the usual convention of performance
dashboards; the 5 % width of the amber zone is this report's documented
choice, not a published standard, and can be changed with ``tolerance``. A
relative zone keeps the rule unit-free: 5 % of a 90 % service-level target
is 4.5 points, 5 % of a 300 s handle-time target is 15 s. An indicator
without a target, or without a value in the review period, gets no colour
and a status that says why.
"""

from __future__ import annotations

import math
from typing import Any

from kpilab.formatting import is_missing

__all__ = ["traffic_light", "AMBER_TOLERANCE", "STATUS_TEXT"]

#: Relative size of the amber ("near miss") zone, as a share of the target.
AMBER_TOLERANCE = 0.05

#: What each status reads as in a table cell.
STATUS_TEXT = {
    "green": "on target",
    "amber": "near target",
    "red": "off target",
    "no_target": "no target set",
    "no_value": "no value this period",
}


def traffic_light(
    actual: Any,
    target: Any = None,
    direction: str = "higher",
    *,
    band: tuple[float, float] | None = None,
    tolerance: float = AMBER_TOLERANCE,
) -> str:
    """The status of ``actual`` against ``target``: ``green``, ``amber``, ``red``, ``no_target`` or ``no_value``.

    Parameters
    ----------
    actual : float
        The indicator's value over the review period.
    target : float, optional
        The framework target (ignored for ``direction="band"``, which uses ``band``).
    direction : {"higher", "lower", "band"}
        Which way is better.
    band : (lo, hi), optional
        The best range, for ``direction="band"``.
    tolerance : float
        Width of the amber zone as a share of ``|target|`` (or of the band's width).

    Returns
    -------
    str
        ``green`` (target met), ``amber`` (missed by at most the tolerance),
        ``red`` (missed by more), ``no_target`` or ``no_value``.

    Notes
    -----
    For ``higher``: green iff ``a >= t``; amber iff ``t - tol*|t| <= a < t``.
    For ``lower``: green iff ``a <= t``; amber iff ``t < a <= t + tol*|t|``.
    For ``band`` ``[lo, hi]``: green iff ``lo <= a <= hi``; amber iff the
    distance to the band is at most ``tol*(hi - lo)``.
    """
    if tolerance < 0:
        raise ValueError(f"tolerance must be >= 0, got {tolerance}")
    if direction == "band":
        if band is None:
            return "no_target"
    elif is_missing(target):
        return "no_target"
    if is_missing(actual) or not math.isfinite(float(actual)):
        return "no_value"
    a = float(actual)
    if direction == "band":
        lo, hi = sorted(float(b) for b in band)  # type: ignore[union-attr]
        if lo <= a <= hi:
            return "green"
        gap = lo - a if a < lo else a - hi
        return "amber" if gap <= tolerance * (hi - lo) else "red"
    t = float(target)
    zone = tolerance * abs(t)
    if direction == "higher":
        if a >= t:
            return "green"
        return "amber" if a >= t - zone else "red"
    if direction == "lower":
        if a <= t:
            return "green"
        return "amber" if a <= t + zone else "red"
    raise ValueError(f"direction must be 'higher', 'lower' or 'band', got {direction!r}")
