r"""Grades, career tiers with the consecutive-period rule, exemption windows as periods.

Grades come from the framework's bands (``grades:``, best first, each with a
``min``). Tiers (``tiers:``) add time: a tier with ``consecutive_periods: 3``
(senior, >= 90) is reached only after three qualifying periods in a row. A
period without a score breaks the streak, unless an exemption window covers
it (the streak then carries over the gap without counting it).

Forced ranking is never applied: grades are absolute bands of the score.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from kpilab.errors import ParameterError
from kpilab.framework import Exemption, Framework

__all__ = [
    "grade_scores",
    "grade_index",
    "assign_tiers",
    "period_bounds",
    "exempt_periods",
    "TIER_COLUMNS",
]

#: Columns :func:`assign_tiers` adds, in order.
TIER_COLUMNS = ["tier", "streak", "tier_since"]


def grade_index(scores: Any, mins: Sequence[float]) -> np.ndarray:
    """Index (0 = best band) of each score in bands listed best first; -1 for NaN.

    Examples
    --------
    >>> grade_index([95.0, 80.0, 12.0, np.nan], [90, 80, 70, 60, 0]).tolist()
    [0, 1, 4, -1]
    """
    s = np.asarray(scores, dtype=float)
    asc = np.asarray(mins, dtype=float)[::-1]  # ascending
    k = np.searchsorted(asc, s, side="right") - 1  # highest band with min <= s
    k = np.where(k < 0, 0, k)  # below the lowest min: the worst band
    out = len(asc) - 1 - k
    return np.where(np.isnan(s), -1, out)


def grade_scores(scores: Any, framework: Framework) -> np.ndarray:
    """Grade letter of each score from the framework's bands ('' for NaN).

    Examples
    --------
    >>> from kpilab.framework import default_framework
    >>> grade_scores([91.0, 79.9, np.nan], default_framework()).tolist()
    ['A', 'C', '']
    """
    if not framework.grades:
        raise ParameterError(f"Framework {framework.name!r} has no 'grades:' bands to grade with.")
    labels = np.array([g.grade for g in framework.grades] + [""], dtype=object)
    k = grade_index(scores, [g.min for g in framework.grades])
    return labels[np.where(k < 0, len(labels) - 1, k)]


# -------------------------------------------------------------------- periods
_LENGTHS = {"day": pd.DateOffset(days=1), "week": pd.DateOffset(weeks=1), "month": pd.DateOffset(months=1),
            "quarter": pd.DateOffset(months=3)}


def period_bounds(periods: Iterable[str], length: str | None = None) -> pd.DataFrame:
    """Start and end (exclusive) of each period label (``YYYY-MM-DD`` = first day, as the panel writes).

    ``length`` (day, week, month, quarter) is inferred from the spacing of the
    labels when not given; periods that are not dates get NaT bounds.
    """
    labels = list(dict.fromkeys(str(p) for p in periods))
    start = pd.to_datetime(pd.Series(labels), errors="coerce", format="%Y-%m-%d")
    if length is None:
        s = start.dropna().sort_values()
        gaps = s.diff().dt.days.dropna()
        g = gaps.min() if len(gaps) else 31
        length = "day" if g < 7 else "week" if g < 28 else "month" if g < 89 else "quarter"
    if length not in _LENGTHS:
        raise ParameterError(f"The 'period_length' parameter must be one of {', '.join(_LENGTHS)}. Got {length!r}.")
    end = start + _LENGTHS[length]
    return pd.DataFrame({"period": labels, "start": start.to_numpy(), "end": end.to_numpy()})


def _applies(e: Exemption, team: str | None) -> bool:
    if e.scope == "all":
        return True
    kind, _, val = e.scope.partition(":")
    return kind == "team" and team is not None and val == team


def exempt_periods(
    periods: Iterable[str], exemptions: Sequence[Exemption], *, team: str | None = None,
    period_length: str | None = None,
) -> dict[str, list[int]]:
    """For each period label, the positions of the exemption windows that overlap it (for this team).

    A window ``[start, end)`` covers a period ``[p, p + length)`` when they overlap.
    Queue-scoped windows do not apply to agents here (their contacts were
    already handled in the panel).
    """
    b = period_bounds(periods, period_length)
    out: dict[str, list[int]] = {}
    for row in b.itertuples(index=False):
        hits = []
        if pd.notna(row.start):
            for k, e in enumerate(exemptions):
                lo, hi = pd.Timestamp(e.start).tz_localize(None), pd.Timestamp(e.end).tz_localize(None)
                if _applies(e, team) and lo < row.end and hi > row.start:
                    hits.append(k)
        out[row.period] = hits
    return out


# ---------------------------------------------------------------------- tiers
def assign_tiers(
    scores: pd.DataFrame,
    framework: Framework,
    *,
    covered: pd.Series | None = None,
    periods: Sequence[str] | None = None,
) -> pd.DataFrame:
    r"""Career tier of each unit and period with the consecutive-period rule.

    Parameters
    ----------
    scores : DataFrame
        Columns ``unit_id``, ``period``, ``index`` (NaN: not scored).
    framework : Framework
        ``tiers:`` (best first) with ``min`` and ``consecutive_periods``.
    covered : Series of bool, optional
        Index (unit_id, period): True where an exemption window covers the
        period for that unit; an unscored covered period does not break a streak.
    periods : sequence of str, optional
        The ordered period labels (default: every period in ``scores``, sorted).
        A period in this list with no score for a unit is a gap.

    Returns
    -------
    DataFrame
        ``scores`` with ``tier``, ``streak`` (qualifying periods in a row for the
        tier given, ending at this period) and ``tier_since`` (first period of the
        current unbroken run in this tier).

    Notes
    -----
    For tier :math:`T` with minimum :math:`m_T` and run length :math:`k_T`, the
    streak :math:`r_T(t)` is 0 when :math:`I_t < m_T` or :math:`I_t` is missing
    (unless the period is exempted), :math:`r_T(t-1)` when the period is exempted
    and unscored, else :math:`r_T(t-1) + 1`. The unit's tier at :math:`t` is the
    best :math:`T` with :math:`r_T(t) \ge k_T`.

    Examples
    --------
    >>> from kpilab.framework import default_framework
    >>> s = pd.DataFrame({"unit_id": "a", "period": ["1", "2", "3", "4"], "index": [91, 92, 95, 85.0]})
    >>> assign_tiers(s, default_framework())[["tier", "streak"]].to_dict("list")
    {'tier': ['mid', 'mid', 'senior', 'mid'], 'streak': [1, 2, 3, 4]}
    """
    if not framework.tiers:
        raise ParameterError(f"Framework {framework.name!r} has no 'tiers:' to assign.")
    tiers = framework.tiers
    order = list(periods) if periods is not None else sorted(scores["period"].astype(str).unique())
    out = scores.copy()
    # units x periods matrices, then one vectorised step per period (periods are few, units many)
    units = pd.Index(pd.unique(out["unit_id"]))
    cols = pd.Index(order)
    row_u = units.get_indexer(out["unit_id"])
    row_p = cols.get_indexer(out["period"].astype(str))
    inside = row_p >= 0
    n_u, n_p, n_t = len(units), len(cols), len(tiers)
    value = np.full((n_u, n_p), np.nan)
    row_at = np.full((n_u, n_p), -1)
    # a later row for the same unit and period wins, as a dict built from the rows would
    value[row_u[inside], row_p[inside]] = out["index"].to_numpy(float)[inside]
    row_at[row_u[inside], row_p[inside]] = np.flatnonzero(inside)
    exempt = np.zeros((n_u, n_p), dtype=bool)
    if covered is not None and len(covered):
        on = covered[covered.astype(bool)]
        eu = units.get_indexer(on.index.get_level_values(0))
        ep = cols.get_indexer(on.index.get_level_values(1).astype(str))
        keep = (eu >= 0) & (ep >= 0)
        exempt[eu[keep], ep[keep]] = True
    mins = np.array([t.min for t in tiers], dtype=float)
    runs = np.array([t.consecutive_periods for t in tiers])
    names = np.array([t.tier for t in tiers], dtype=object)
    streak = np.zeros((n_u, n_t), dtype=int)
    current = np.full(n_u, "", dtype=object)
    since = np.full(n_u, "", dtype=object)
    tier_col = np.full(len(out), "", dtype=object)
    streak_col = np.zeros(len(out), dtype=int)
    since_col = np.full(len(out), "", dtype=object)
    for j, p in enumerate(order):
        s = value[:, j]
        scored = ~np.isnan(s)
        broken = ~scored & ~exempt[:, j]  # an unscored period breaks every streak unless exempted
        streak[broken] = 0
        current[broken] = ""
        since[broken] = ""
        meets = s[scored, None] >= mins[None, :]
        streak[scored] = np.where(meets, streak[scored] + 1, 0)
        qualified = streak[scored] >= runs[None, :]
        best = np.where(qualified.any(axis=1), qualified.argmax(axis=1), n_t - 1)
        tier = names[best]
        idx = np.flatnonzero(scored)
        changed = tier != current[idx]
        current[idx[changed]] = tier[changed]
        since[idx[changed]] = p
        rows = row_at[idx, j]
        tier_col[rows] = tier
        streak_col[rows] = streak[idx, best]
        since_col[rows] = since[idx]
    out["tier"] = tier_col
    out["streak"] = streak_col
    out["tier_since"] = since_col
    return out
